/* SPDX-License-Identifier: MIT */
/*
 * text.h - a report for a terminal.
 */
#ifndef MEMTRACE_TEXT_H
#define MEMTRACE_TEXT_H

#include <stdio.h>
#include "common/report.h"

/* Print r with at most top stacks (0 = all). Returns 0 or -EIO. */
int text_report__write(const struct report *r, int top, FILE *f);

/* Format bytes in binary units ("512 B", "1.5 MiB", "-2.0 KiB") into buf. Returns buf. */
const char *text__bytes(int64_t bytes, char *buf, size_t len);

#endif

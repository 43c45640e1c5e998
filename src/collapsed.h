/* SPDX-License-Identifier: MIT */
/*
 * collapsed.h - a report as "collapsed stacks", the input of flamegraph.pl,
 * inferno, speedscope and friends: one line per stack with outstanding
 * bytes, "root;caller;...;leaf BYTES", caller-most frame first, inlined
 * frames as frames of their own (innermost last).
 *
 * Also the frame names every text writer shares.
 */
#ifndef MEMTRACE_COLLAPSED_H
#define MEMTRACE_COLLAPSED_H

#include <stdio.h>
#include "report.h"

/*
 * Write r to f, one line per stack whose outstanding bytes are > 0, in the
 * report's order. Frame names are collapsed__frame_name() with ';' turned
 * into ':' and line breaks into spaces, so a line always splits back into
 * its frames. Returns 0, or -EIO if f reports a write error.
 */
int collapsed__write(const struct report *r, FILE *f);

/*
 * A printable name for a frame: the function (demangled), else
 * "module_basename+0xOFFSET", else "0xIP". Returns f->function itself or
 * buf (filled, NUL-terminated, truncated to size). Cannot fail.
 */
const char *collapsed__frame_name(const struct frame *f, char *buf, size_t size);

/* The basename of a module path, "?" for NULL. Cannot fail. */
const char *collapsed__module_base(const char *module);

#endif /* MEMTRACE_COLLAPSED_H */

/* SPDX-License-Identifier: MIT */
/* bench_libc.h - the libc a benchmarked process mapped. */
#ifndef MEMTRACE_BENCH_LIBC_H
#define MEMTRACE_BENCH_LIBC_H

#include <stddef.h>

/*
 * Path of the first executable mapping of pid named libc.so* or libc-*.
 * Returns 0 and writes path, or -ENOENT (no libc), -ESRCH (gone).
 */
int bench__libc_path(int pid, char *path, size_t cap);

#endif

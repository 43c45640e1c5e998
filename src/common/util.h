/* SPDX-License-Identifier: MIT */
/*
 * util.h - small helpers shared by several modules.
 */
#ifndef MEMTRACE_UTIL_H
#define MEMTRACE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * Make room for `need` elements of `size` bytes in the array *p of *cap
 * elements, doubling (from `first`). Returns 0, or -ENOMEM leaving *p and
 * *cap unchanged.
 */
int array__grow(void **p, size_t *cap, size_t need, size_t size, size_t first);

/*
 * Length of the valid UTF-8 sequence starting at s (1..4), or 0 when s
 * does not start one (overlong, surrogate-free check of lead and
 * continuation bytes only). s must be NUL-terminated. Cannot fail.
 */
size_t utf8__seq_len(const unsigned char *s);

/* Now on clk (CLOCK_MONOTONIC: the BPF timestamps' clock), in seconds or
 * in nanoseconds. Cannot fail. */
double clock__s(clockid_t clk);

/* A poll(2) timeout for left seconds: milliseconds rounded up, at most an
 * hour (the caller loops), 0 when left <= 0. Never overflows an int. */
int clock__poll_ms(double left);
uint64_t clock__mono_ns(void);

/*
 * bytes in binary units for humans: "512 B", "1.5 KiB", "3.0 MiB" ...
 * Returns buf (filled, truncated to len). Cannot fail.
 */
const char *bytes__human(int64_t bytes, char *buf, size_t len);

#endif

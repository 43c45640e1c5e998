/* SPDX-License-Identifier: MIT */
/*
 * collect.h - read the BPF maps into a struct report.
 *
 * Per-stack aggregates are read with batch operations (O(stacks)); stack
 * ips are cached (a stack never changes once stored). The oldest age per
 * stack, and --older, need one batch walk of the live allocations.
 */
#ifndef MEMTRACE_COLLECT_H
#define MEMTRACE_COLLECT_H

#include "report.h"
#include "tracer.h"

struct collect_opts {
	double older_s;		/* only allocations at least this old count */
	bool ages;		/* compute oldest_age_s (walks live allocations) */
};

struct collector;

/* A collector for tr's maps. Returns NULL and sets errno on failure. */
struct collector *collector__new(struct tracer *tr, const struct collect_opts *o);

/*
 * Read the maps into a new report (stacks sorted, not symbolized).
 * now_ns is CLOCK_MONOTONIC (the BPF timestamps' clock). Returns 0 and
 * sets *out (caller frees with report__free), or -errno.
 */
int collector__read(struct collector *c, uint64_t now_ns, struct report **out);

/* Cost of the last read, seconds, and live allocations walked. */
double collector__last_cost(const struct collector *c);
uint64_t collector__last_walked(const struct collector *c);

void collector__free(struct collector *c);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * collect.h - read the BPF maps into a struct report.
 *
 * Per-stack aggregates are read with batch operations (O(stacks)); stack
 * ips are cached (a stack never changes once stored). The oldest age per
 * stack, and --older, need a walk of the live allocations, done here:
 * over the mapped allocs table (alloc_table.h), read in place, and a batch
 * copy of the mmaps map (small: at most MMAPS_MAX_ENTRIES).
 *
 * Stage collect: the periodic read of the BPF maps (aggs and allocs
 * mapped in place: agg_table.h, tracer/alloc_tables.h) into a report.
 * Never loads or attaches anything. May call: common, target, tracer.
 */
#ifndef MEMTRACE_COLLECT_H
#define MEMTRACE_COLLECT_H

#include "common/report.h"
#include "target/wrappers.h"
#include "tracer/alloc_tables.h"

struct collect_opts {
	double older_s;		/* only allocations at least this old count */
	bool ages;		/* compute oldest_age_s (walks live allocations) */
};

/* The BPF maps read (descriptors stay owned by the caller). */
struct collect_maps {
	struct alloc_tables *tables;	/* the live allocations (tracer/alloc_tables.h), or
					   NULL: then allocs, one table */
	int allocs;		/* mmapable ARRAY of struct alloc_bucket (tracer/alloc_table.h) */
	int mmaps;		/* struct mmap_key -> struct mmap_info; -1: none */
	int stacks[STACK_CLASSES];	/* by class (stack_id_class()): u64 id -> a
					   struct stack_trace of the class's depth */
	int aggs;		/* mmapable ARRAY of struct agg_val (src/collect/agg_table.h) */
	int counters;		/* per-CPU u64[DROP_MAX + CNT_MAX] */
};

struct collector;

/*
 * A collector for maps (descriptors copied, not owned). It maps the aggs
 * table, and the allocs table when ages or --older are wanted (else allocs
 * is never read). Returns NULL and sets errno on failure (EINVAL: aggs, or
 * allocs when mapped, is not such a map).
 */
struct collector *collector__new(const struct collect_maps *maps, const struct collect_opts *o);

/*
 * Read the maps into a new report (stacks sorted, not symbolized).
 * now_ns is CLOCK_MONOTONIC (the BPF timestamps' clock). Returns 0 and
 * sets *out (caller frees with report__free), or -errno.
 */
int collector__read(struct collector *c, uint64_t now_ns, struct report **out);

/*
 * Code of the syscall wrappers (libc's mmap, mremap): leading frames of
 * mmap and mremap stacks inside these ranges are dropped, so such stacks
 * start at the caller of mmap like malloc stacks start at the caller of
 * malloc. The array is copied. Returns 0 or -ENOMEM.
 */
int collector__set_wrappers(struct collector *c, const struct addr_range *r, size_t n);

/* Cost of the last read, seconds, and live allocations walked. */
double collector__last_cost(const struct collector *c);
uint64_t collector__last_walked(const struct collector *c);

/* Entries seen by the last read: live allocations, live mappings (both 0
 * unless ages were walked) and distinct stacks stored so far. */
void collector__last_counts(const struct collector *c, uint64_t *allocs, uint64_t *mmaps,
			    uint64_t *stacks);

void collector__free(struct collector *c);

#endif

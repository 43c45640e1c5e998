/* SPDX-License-Identifier: MIT */
/*
 * collect.h - read the BPF maps into a struct report.
 *
 * Per-stack aggregates are read with batch operations (O(stacks)); stack
 * ips are cached (a stack never changes once stored). The oldest age per
 * stack, and --older, need a walk of the live allocations: in the kernel
 * with a BPF map iterator (live_scan.h) when it works, reading O(stacks);
 * otherwise (no iterators, or its accumulator full) a batch copy of every
 * live allocation into userspace. Both give the same numbers.
 */
#ifndef MEMTRACE_COLLECT_H
#define MEMTRACE_COLLECT_H

#include "report.h"

struct collect_opts {
	double older_s;		/* only allocations at least this old count */
	bool ages;		/* compute oldest_age_s (walks live allocations) */
	bool user_walk;		/* always walk in userspace (no BPF iterator) */
};

/* How a read walked the live allocations. */
enum collect_walk {
	COLLECT_WALK_NONE = 0,	/* no walk (no ages, no --older) */
	COLLECT_WALK_KERNEL,	/* BPF iterator, per-(stack, kind) sums read */
	COLLECT_WALK_USER,	/* batch copy of every live allocation */
};

/* The BPF maps read (descriptors stay owned by the caller). */
struct collect_maps {
	int allocs;		/* u64 addr -> struct alloc_info */
	int mmaps;		/* u64 start -> struct mmap_info */
	int stacks;		/* u64 id -> struct stack_trace */
	int aggs;		/* mmapable ARRAY of struct agg_val (src/agg_table.h) */
	int counters;		/* per-CPU u64[DROP_MAX + CNT_MAX] */
};

/* A range of the target's code, [lo, hi) in its address space. */
struct addr_range {
	uint64_t lo, hi;
};

struct collector;

/*
 * A collector for maps (descriptors copied, not owned). When ages or
 * --older are wanted and o->user_walk is false it also loads the kernel
 * walk (live_scan__new); a kernel without it is not a failure: the
 * collector walks in userspace. Returns NULL and sets errno on failure.
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

/*
 * How the last read walked the live allocations. *fallbacks (if not NULL)
 * gets the number of reads so far whose kernel walk failed (accumulator
 * full, iterator error) and that walked in userspace instead: those reads
 * are still exact, only slower. *kernel_err (if not NULL) gets 0 when the
 * kernel walk is available, else the -errno why it is not (it is given up
 * after an error other than a full accumulator or -ENOMEM). Cannot fail.
 */
enum collect_walk collector__last_walk(const struct collector *c, uint64_t *fallbacks,
				       int *kernel_err);

void collector__free(struct collector *c);

#endif

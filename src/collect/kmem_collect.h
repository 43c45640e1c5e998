/* SPDX-License-Identifier: MIT */
/*
 * kmem_collect.h - the kernel tracer's maps (kmem_tracer.h) -> struct
 * report (issue 14): the same read as the user tracer's (collect.h: aggs
 * in place, ages from the live table), plus the slab cache name of each
 * kmem_cache stack.
 *
 * Stage collect. May call: common, target.
 */
#ifndef MEMTRACE_KMEM_COLLECT_H
#define MEMTRACE_KMEM_COLLECT_H

#include "collect/collect.h"
#include "common/report.h"

/* The kernel tracer's maps (descriptors stay owned by the caller). */
struct kmem_collect_maps {
	struct alloc_tables *tables;		/* as in struct collect_maps */
	int allocs, aggs, counters;
	int stacks[STACK_CLASSES];
	int kcaches;		/* u64 stack id -> struct kcache_name */
};

struct kmem_collector;

/* A collector for maps. Returns NULL and sets errno on failure. */
struct kmem_collector *kmem_collector__new(const struct kmem_collect_maps *maps,
					   const struct collect_opts *o);

/*
 * Read the maps into a new report (sorted, not symbolized); missed
 * tracepoint runs (kmem_tracer__stats()) are added to drops as
 * kernel_events_missed. Returns 0 and sets *out, or -errno.
 */
int kmem_collector__read(struct kmem_collector *kc, uint64_t now_ns, uint64_t missed,
			 struct report **out);

/* Distinct stacks stored and live allocations seen by the last read. */
void kmem_collector__last_counts(const struct kmem_collector *kc, uint64_t *allocs,
				 uint64_t *stacks);

/* NULL is a no-op. */
void kmem_collector__free(struct kmem_collector *kc);

#endif

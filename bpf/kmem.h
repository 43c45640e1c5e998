/* SPDX-License-Identifier: MIT */
/*
 * kmem.h - types shared by kmem.bpf.c (kernel allocations) and userspace
 * (src/tracer/kmem_tracer.c, src/collect/kmem_collect.c), on top of
 * memtrace.h: the kernel object fills the same allocs, aggs, stacks and
 * counters layouts as the user object, so one collector reads both.
 */
#ifndef MEMTRACE_KMEM_H
#define MEMTRACE_KMEM_H

#include "memtrace.h"

#define KSTACK_DEPTH		64	/* kernel frames kept; user frames follow */
#define KCACHE_NAME_LEN		32	/* slab cache names (kmem_cache.name) */
#define KCACHES_MAX_ENTRIES	STACKS_MAX_ENTRIES /* kmem_cache stacks with a cache name
						     (userspace: --max-stacks) */

/* Keys of live kernel allocations in `allocs`: slab objects and struct page
 * pointers are kernel addresses (bit 63 set); per-CPU pointers are offsets
 * (bit 63 clear), tagged so they can never equal one. */
#define KMEM_PERCPU_TAG		(1ULL << 63)

/* Slab cache of a kmem_cache stack (stack ids of that kind mix in the cache). */
struct kcache_name {
	char name[KCACHE_NAME_LEN];
};

#endif /* MEMTRACE_KMEM_H */

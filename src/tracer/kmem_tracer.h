/* SPDX-License-Identifier: MIT */
/*
 * kmem_tracer.h - the kernel allocation tracer's BPF object (kmem.bpf.c,
 * issue 14): check the tracepoints, open, configure, load, attach,
 * destroy. Tracepoints only (BTF tracepoints, "tp_btf"): kmem kmalloc,
 * kfree, kmem_cache_alloc, kmem_cache_free, mm_page_alloc, mm_page_free,
 * percpu_alloc_percpu, percpu_free_percpu, and kmalloc_node and
 * kmem_cache_alloc_node where this kernel still has them (decided from
 * its BTF at start, never from its version).
 *
 * Its maps have the user tracer's layouts (allocs, aggs, stacks,
 * counters), so collect reads them the same way; kcaches adds the cache
 * name of kmem_cache stacks.
 *
 * Stage tracer. May call: common.
 */
#ifndef MEMTRACE_KMEM_TRACER_H
#define MEMTRACE_KMEM_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bpf/memtrace.h"
#include "common/report.h"
#include "tracer/alloc_tables.h"

struct kmem_config {
	uint64_t max_allocs;	/* live kernel allocations tracked */
	uint64_t max_stacks;	/* distinct stacks */
	uint64_t temp_ns;	/* freed within this: a temporary allocation */
	uint32_t page_sample;	/* --kernel-sample: 1 in N page allocations (0, 1: all) */
	bool user_stacks;	/* with a tgid: the user frames follow the kernel ones */
	bool verbose;
	const char *require;	/* one more tracepoint that must exist (tests:
				   a kernel without one), NULL: none */
};

/* Counters of the loaded programs, from the kernel (run counts and time
 * only while kernel.bpf_stats_enabled is 1). */
struct kmem_prog_stats {
	uint64_t runs;
	uint64_t run_ns;
	uint64_t missed;	/* runs skipped: a program already running on the CPU */
};

struct kmem_tracer;

/*
 * Does this kernel have every tracepoint cfg needs (its BTF, /sys/kernel/
 * btf/vmlinux)? Readable without privileges. Returns 0, or -ENOENT with
 * a one-line reason in why ("this kernel has no tracepoint kmem/X ...")
 * or -errno when the BTF cannot be read. Sets *node_variants (nullable)
 * to whether kmalloc_node/kmem_cache_alloc_node exist.
 */
int kmem_tracer__check(const struct kmem_config *cfg, bool *node_variants, char *why,
		       size_t size);

/*
 * Check, open, configure, load and attach the kernel tracer: allocations
 * made in the context of process tgid, or of every process but memtrace
 * itself when tgid is 0. Returns NULL and sets errno after one line on
 * stderr saying why; nothing stays loaded then.
 */
struct kmem_tracer *kmem_tracer__new(const struct kmem_config *cfg, int tgid);

/* Map descriptors (owned by the tracer), for collect. */
struct alloc_tables *kmem_tracer__alloc_tables(const struct kmem_tracer *kt);
void kmem_tracer__stack_fds(const struct kmem_tracer *kt, int fds[STACK_CLASSES]);

/* The memory and fill of its maps now (fdinfo memlock). Cannot fail. */
void kmem_tracer__map_usage(const struct kmem_tracer *kt, struct map_usage *u);
int kmem_tracer__aggs_fd(const struct kmem_tracer *kt);
int kmem_tracer__counters_fd(const struct kmem_tracer *kt);
int kmem_tracer__kcaches_fd(const struct kmem_tracer *kt);

/* Sums over the attached programs. Cannot fail (unreadable: 0). */
struct kmem_prog_stats kmem_tracer__stats(const struct kmem_tracer *kt);

/* Tracepoints attached; the records a map holds at most, by name
 * ("allocs": slots). */
unsigned int kmem_tracer__nr_links(const struct kmem_tracer *kt);
uint64_t kmem_tracer__map_max(const struct kmem_tracer *kt, const char *name);

/* Detach and unload. NULL is a no-op. */
void kmem_tracer__free(struct kmem_tracer *kt);

#endif

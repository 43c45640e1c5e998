/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tables.bpf.h - the two maps every tracing object keeps alike, so that
 * userspace reads them with one reader (collect/alloc_table.c, collect.c):
 * `allocs`, the live allocations, and `stacks`, the stacks by id.
 * Included by stacks.bpf.h (memtrace.bpf.c) and kmem.bpf.c, after
 * memtrace.h.
 */
#ifndef MEMTRACE_TABLES_BPF_H
#define MEMTRACE_TABLES_BPF_H

/* Live allocations: a two-choice table of buckets (see struct alloc_bucket),
 * alloc_nb of them (alloc_table.bpf.h); no helper call and no lock on the
 * hot path. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);		/* userspace: alloc_bucket_count() */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct alloc_bucket);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STACKS_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct stack_trace);
} stacks SEC(".maps");

#endif /* MEMTRACE_TABLES_BPF_H */

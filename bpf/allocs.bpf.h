/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * allocs.bpf.h - record a user allocation (sampled, with its stack) in the
 * live table (alloc_table.bpf.h).
 * Included once, by memtrace.bpf.c (after the headers listed there).
 */
#ifndef MEMTRACE_ALLOCS_BPF_H
#define MEMTRACE_ALLOCS_BPF_H

#include "alloc_table.bpf.h"

/*
 * Record the allocation at addr holding k sample points (sample_points();
 * 0: sampled out, nothing recorded).
 */
static __always_inline void record_alloc_points(struct pt_regs *regs, struct task_state *ts,
						__u64 addr, __u64 size, __u32 kind, __u32 mode,
						__u32 k)
{
	struct alloc_info info = { .size = size, .kind = kind, .weight = 1 };

	/* est_count is alloc_est_count(size, est_bytes, 1): not stored */
	if (!k)
		return;
	info.est_bytes = sample_bytes_of(k, size);
	info.ts = bpf_ktime_get_ns();
	info.stack_id = get_stack_id(regs, ts, mode);
	alloc_store(addr, &info);
}

/* Record the allocation at addr if it is sampled (decided now). */
static __always_inline void record_alloc(struct pt_regs *regs, struct task_state *ts,
					 __u64 addr, __u64 size, __u32 kind, __u32 mode)
{
	record_alloc_points(regs, ts, addr, size, kind, mode, sample_points(ts, size));
}

#endif /* MEMTRACE_ALLOCS_BPF_H */

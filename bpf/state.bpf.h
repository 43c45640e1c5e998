/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * state.bpf.h - per-CPU counters (drops and events), the per-thread state
 * (allocator calls in flight, sampling, walker memo) and the DWARF walker.
 * Included once, by memtrace.bpf.c (after the headers listed there).
 */
#ifndef MEMTRACE_STATE_BPF_H
#define MEMTRACE_STATE_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += n;
}

#define unwind_count_fp_fallback(n)	count(DROP_MAX + CNT_UNWIND_FP_FALLBACK, (n))
#include "unwind.bpf.h"

/* One allocator (or syscall) call in flight on a thread. */
struct entry {
	__u64 sp;		/* stack pointer at function entry */
	__u64 size;
	__u64 ptr;		/* realloc: old pointer; posix_memalign: out pointer */
	__u64 old_ts;		/* realloc: the old block's record, to detect reuse */
	__u32 kind;
	__u32 nested;		/* made inside another allocator call: its business */
};

/* mmap-family syscall in flight (at most one per thread). */
struct sys_entry {
	__u64 addr;
	__u64 len;
	__u64 new_len;
	__u64 flags;
	__u64 prot;
	__s64 fd;
	__u64 ts;		/* munmap, mremap: when the call began */
	__u32 nr;		/* which syscall: 1 mmap, 2 munmap, 3 mremap */
	__u32 skip;		/* made from inside the allocator */
};

struct task_state {
	__u32 depth;		/* entries in e[] */
	__u32 lost;		/* entries not saved because e[] was full */
	__s64 countdown;	/* sampling: bytes until the next sample */
	__u64 rng;		/* sampling: xorshift state */
	struct entry e[MAX_NEST];
	struct sys_entry sys;
	/* The last walk from each of MEMO_WAYS call-site classes: a repeat
	 * from the same place with the same stack skips the walk (exact, see
	 * unwind_user_stack()); result is its stack id. */
	struct unwind_memo memo[MEMO_WAYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} tasks SEC(".maps");

#define drop(reason)	count((reason), 1)
#define counter(cnt)	count(DROP_MAX + (cnt), 1)

/* The traced process, while its traced image lives (image_gone: it exec'd). */
static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid && !image_gone;
}

/* This thread's state; created when create (NULL only if that fails). */
static __always_inline struct task_state *task_state(bool create)
{
	return bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

#endif /* MEMTRACE_STATE_BPF_H */

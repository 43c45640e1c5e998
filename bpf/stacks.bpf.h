/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * stacks.bpf.h - user stacks: walk (fp or DWARF), hash, store once in
 * its depth class's map (tables.bpf.h); an allocation carries the stack id.
 * Included once, by memtrace.bpf.c (after the headers listed there).
 */
#ifndef MEMTRACE_STACKS_BPF_H
#define MEMTRACE_STACKS_BPF_H

#include "tables.bpf.h"		/* allocs, stacks_* */

/* ---- stacks ---------------------------------------------------------- */

/*
 * Walk the user stack from regs, store it, return its id (0 if unknown).
 * ts (nullable): the thread's state, whose memos skip repeated walks.
 * mode: enum unwind_mode, a constant (each walker is its own program).
 */
static __always_inline __u64 get_stack_id(struct pt_regs *regs, struct task_state *ts,
					  __u32 mode)
{
	__u32 zero = 0;
	struct stack_trace *st = bpf_map_lookup_elem(&scratch, &zero);
	struct unwind_memo *memo = NULL;
	__u64 id = 0, seq;
	long err;

	if (!st)
		return 0;
	if (ts && walk_memo) {
		__u64 way = (PT_REGS_IP(regs) * 0x9e3779b97f4a7c15ULL) >> 62;

		memo = &ts->memo[way & (MEMO_WAYS - 1)];
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		/* "&& memo": a hit implies it, the verifier needs to see it */
		if (unwind_user_stack(regs, target_tgid, st, mode, memo) == UNWIND_MEMO_HIT &&
		    memo) {
			counter(CNT_STACK_WALKS_SKIPPED);
			return memo->result;
		}
		counter(CNT_STACK_WALKS);
		seq = unwind_seq();
		if (st->flags & STACK_F_TRUNCATED)
			counter(CNT_UNWIND_TRUNCATED);
		if (st->flags & STACK_F_UNWIND_ERROR)
			counter(CNT_UNWIND_FAILED);
		err = stack_put(0, &id);	/* st: scratch's */
		if (err && err != -17 /* EEXIST */) {
			drop(DROP_STACKS_FULL);
			return 0;
		}
		if (unwind_seq() == seq)
			break;
		/* st (per-CPU) was reused by another walk meanwhile: the id may
		 * be of a mix; walk again (the mix stays unreferenced) */
		id = 0;
	}
	if (memo)
		memo->result = id;
	return id;
}

/* User registers of the current task, for syscall tracepoints. */
static __always_inline struct pt_regs *user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

#endif /* MEMTRACE_STACKS_BPF_H */

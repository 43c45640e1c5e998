/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * unwind_fp.bpf.h - frame-pointer walk of the user stack.
 *
 * ip[0] is regs->ip: for a uretprobe, the return address in the caller of
 * the allocation function; for a syscall, the instruction after it.
 */
#ifndef MEMTRACE_UNWIND_FP_BPF_H
#define MEMTRACE_UNWIND_FP_BPF_H

struct fp_walk {
	struct stack_trace *st;
	__u64 bp;
};

static long fp_step(__u32 i, struct fp_walk *w)
{
	struct stack_trace *st = w->st;
	__u64 frame[2];		/* saved bp, return address */
	__u32 n;

	if (!w->bp || bpf_probe_read_user(frame, sizeof(frame), (void *)w->bp))
		return 1;
	if (!frame[1])
		return 1;
	n = st->nr;
	if (n >= MAX_STACK_DEPTH) {
		st->flags |= STACK_F_TRUNCATED;
		return 1;
	}
	st->ip[n] = frame[1];
	st->nr = n + 1;
	if (frame[0] <= w->bp)	/* frames grow towards higher addresses */
		return 1;
	w->bp = frame[0];
	return 0;
}

/* Fill st from regs. Returns the number of frames. */
static __always_inline int unwind_user_stack(struct pt_regs *regs, __u32 tgid,
					     struct stack_trace *st, __u32 mode)
{
	struct fp_walk w = { .st = st };

	st->nr = 0;
	st->flags = 0;
	if (!regs)
		return 0;
	st->ip[0] = PT_REGS_IP_CORE(regs);
	st->nr = 1;
	w.bp = PT_REGS_FP_CORE(regs);
	bpf_loop(MAX_STACK_DEPTH, fp_step, &w, 0);
	return st->nr;
}

#endif

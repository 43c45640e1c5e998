/* SPDX-License-Identifier: MIT */
/*
 * unwind_test.h - what unwind_test.bpf.c (the walker's test program) and
 * its harness (tests/unit/unwind/test_unwind_bpf.c) share.
 */
#ifndef MEMTRACE_UNWIND_TEST_H
#define MEMTRACE_UNWIND_TEST_H

#include "memtrace.h"

enum unwind_test_source {
	UT_SRC_URETPROBE = 0,	/* malloc return */
	UT_SRC_SYSCALL = 1,	/* sys_enter_mmap, task's user regs */
};

/* One traced call, walked both ways, and once more through the thread's
 * memo (memo: the stack the memo stands for on a hit, the walk's on a miss). */
struct unwind_test_event {
	__u32 tid;
	__u32 source;		/* enum unwind_test_source */
	__u32 memo_hit;		/* the memo walk was skipped */
	__u32 pad;
	struct stack_trace dwarf;
	struct stack_trace fp;
	struct stack_trace memo;
};

/* Per-CPU sums: walk cost of each mode over the same events. */
struct unwind_test_cost {
	__u64 walks;
	__u64 dwarf_ns, fp_ns;
	__u64 dwarf_frames, fp_frames;
	__u64 fp_fallback_frames;	/* through unwind_count_fp_fallback() */
	__u64 memo_hits, memo_walks;	/* memo walks skipped, done */
	__u64 memo_ns;			/* time of the memo walks (either kind) */
};

#endif

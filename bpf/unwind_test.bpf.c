// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * unwind_test.bpf.c - proves unwind.bpf.h loads and walks: every malloc
 * return and mmap entry of one process is walked in dwarf mode and in fp
 * mode (alternating which goes first), timed, and sent to userspace.
 * Harness: tests/unit/unwind/test_unwind_bpf.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "memtrace.h"
#include "unwind_test.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_test_cost);
} ut_costs SEC(".maps");

static __always_inline struct unwind_test_cost *ut_cost(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ut_costs, &zero);
}

#define unwind_count_fp_fallback(n) do {			\
		struct unwind_test_cost *c_ = ut_cost();	\
		if (c_)						\
			c_->fp_fallback_frames += (n);		\
	} while (0)
#include "unwind.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_test_event);
} ut_scratch SEC(".maps");

/* Per thread: a memo and the stack it stands for. */
struct ut_thread {
	struct unwind_memo memo;
	struct stack_trace last;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ut_thread);
} ut_threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} ut_events SEC(".maps");

static __always_inline int ut_record(struct pt_regs *regs, __u32 source)
{
	__u64 id = bpf_get_current_pid_tgid(), t0, t1, t2;
	struct unwind_test_event *ev;
	struct unwind_test_cost *c;
	struct ut_thread *th;
	__u32 zero = 0, tgid = id >> 32;
	__u64 dwarf_ns, fp_ns;

	if (tgid != target_tgid)
		return 0;
	ev = bpf_map_lookup_elem(&ut_scratch, &zero);
	c = ut_cost();
	if (!ev || !c)
		return 0;
	ev->tid = (__u32)id;
	ev->source = source;
	t0 = bpf_ktime_get_ns();
	if (c->walks & 1) {
		unwind_user_stack(regs, tgid, &ev->fp, UNWIND_FP, NULL);
		t1 = bpf_ktime_get_ns();
		unwind_user_stack(regs, tgid, &ev->dwarf, UNWIND_DWARF, NULL);
		t2 = bpf_ktime_get_ns();
		fp_ns = t1 - t0;
		dwarf_ns = t2 - t1;
	} else {
		unwind_user_stack(regs, tgid, &ev->dwarf, UNWIND_DWARF, NULL);
		t1 = bpf_ktime_get_ns();
		unwind_user_stack(regs, tgid, &ev->fp, UNWIND_FP, NULL);
		t2 = bpf_ktime_get_ns();
		dwarf_ns = t1 - t0;
		fp_ns = t2 - t1;
	}
	/* the memo walk: on a hit, the stack its earlier walk found */
	th = bpf_task_storage_get(&ut_threads, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (th) {
		t0 = bpf_ktime_get_ns();
		ev->memo_hit = unwind_user_stack(regs, tgid, &ev->memo, UNWIND_DWARF,
						 &th->memo) == UNWIND_MEMO_HIT;
		c->memo_ns += bpf_ktime_get_ns() - t0;
		if (ev->memo_hit) {
			c->memo_hits++;
			ev->memo = th->last;
		} else {
			c->memo_walks++;
			th->last = ev->memo;
			th->memo.result = 1;
		}
	}
	c->walks++;
	c->dwarf_ns += dwarf_ns;
	c->fp_ns += fp_ns;
	c->dwarf_frames += ev->dwarf.nr;
	c->fp_frames += ev->fp.nr;
	bpf_ringbuf_output(&ut_events, ev, sizeof(*ev), 0);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ut_malloc_ret)
{
	return ut_record(ctx, UT_SRC_URETPROBE);
}

SEC("tp/syscalls/sys_enter_mmap")
int ut_mmap_enter(void *ctx)
{
	return ut_record((struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()),
			 UT_SRC_SYSCALL);
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * memtrace.bpf.c - allocation tracing for one process.
 *
 * Uprobes on the allocator's malloc family, syscall tracepoints for
 * mmap/munmap/mremap. Every live allocation is kept in `allocs` (address ->
 * size, time, stack) and every stack's totals in `aggs`, so userspace reads
 * O(stacks) per report. Nothing is dropped silently: every failed map
 * operation bumps a per-CPU counter that each report shows.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "memtrace.h"

#ifndef BPF_UPROBE		/* libbpf < 1.2 (Debian 12) has only the kprobe names */
#define BPF_UPROBE(name, args...)	BPF_KPROBE(name, ##args)
#define BPF_URETPROBE(name, args...)	BPF_KRETPROBE(name, ##args)
#endif

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Configuration, set by userspace before load. */
const volatile __u32 target_tgid = 0;
const volatile __u64 sample_bytes = 0;	/* 0: every allocation */
const volatile __u64 sample_seed = 0;
const volatile __u64 temp_ns = 1000000;	/* "temporary": freed within 1 ms */
const volatile __u32 page_size = 4096;
const volatile __u32 walk_memo = 1;	/* 0: walk every stack (benchmarks) */
/* Launched command: stop it at each new code mapping until its unwind
 * tables and symbols are loaded (memtrace is its parent). */
const volatile __u32 stop_on_code_map = 0;
/* 0 (--no-mmap): mmap's tracepoints only notice new code, account nothing. */
const volatile __u32 trace_mmap = 1;
/* Launch mode: the command's own exec (1) is expected; any later exec of
 * the target ends its tracing (a new image is never mixed with the old). */
const volatile __u32 execs_expected = 0;
/* Set by target_exec when the traced image is gone: record nothing more. */
__u32 execs = 0;
__u32 image_gone = 0;
/* Exponential draws with mean 65536 (fixed point 16.16), for sampling. */
const volatile __u32 exp_draws[SAMPLE_DRAWS] = {};

#define MAX_NEST	4		/* allocator calls in flight per thread */
#define MEMO_WAYS	4		/* walks remembered per thread, by call site */
#define NR_COUNTERS	(DROP_MAX + CNT_MAX)

#ifndef MAP_FIXED
#define MAP_FIXED		0x10
#define MAP_ANONYMOUS		0x20
#define MAP_FIXED_NOREPLACE	0x100000
#define PROT_EXEC		0x4
#endif

/* In dependency order: each header uses only those before it. */
#include "state.bpf.h"		/* counters, per-thread state, the walker */
#include "stacks.bpf.h"		/* stack ids */
#include "aggs.bpf.h"		/* per-stack totals */
#include "sampling.bpf.h"	/* -s */
#include "allocs.bpf.h"		/* live allocations */
#include "entry.bpf.h"		/* calls in flight */
#include "mmap.bpf.h"		/* mappings */

/* ---- the programs: thin wrappers ----------------------------------------- */

SEC("uprobe")
int BPF_UPROBE(malloc_enter, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_MALLOC, size, 0);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(calloc_enter, __u64 nmemb, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_CALLOC, mul_checked(nmemb, size), 0);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(realloc_enter, __u64 ptr, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_REALLOC, size, ptr);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(reallocarray_enter, __u64 ptr, __u64 nmemb, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_REALLOCARRAY,
			   mul_checked(nmemb, size), ptr);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(posix_memalign_enter, __u64 memptr, __u64 align, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_POSIX_MEMALIGN, size, memptr);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(aligned_alloc_enter, __u64 align, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_ALIGNED_ALLOC, size, 0);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(memalign_enter, __u64 align, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_MEMALIGN, size, 0);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(valloc_enter, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_VALLOC, size, 0);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(pvalloc_enter, __u64 size)
{
	__u64 ps = page_size;

	if (is_target())	/* pvalloc rounds up to a whole page */
		push_entry(ctx, KIND_PVALLOC,
			   size ? (size + ps - 1) / ps * ps : ps, 0);
	return 0;
}

/* The programs that walk stacks come in two: dwarf (the default) and fp
 * (--unwind fp, or where the dwarf walker does not load); userspace loads
 * one of each pair. */
SEC("uretprobe")
int BPF_URETPROBE(alloc_return)
{
	if (is_target())
		alloc_exit(ctx, UNWIND_DWARF, false, 0);
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(alloc_return_fp)
{
	if (is_target())
		alloc_exit(ctx, UNWIND_FP, false, 0);
	return 0;
}

/*
 * Uprobe session links (Linux 6.13+): one program runs at the entry and at
 * the return of every malloc-family function (the attach cookie says
 * which), and its entry decides whether the return runs (session_enter()).
 * Loaded only where the kernel has them; the kfuncs are weak so that the
 * object still loads on kernels without them.
 */
extern bool bpf_session_is_return(void) __ksym __weak;
extern __u64 *bpf_session_cookie(void) __ksym __weak;

static __always_inline int alloc_session(struct pt_regs *ctx, __u32 mode)
{
	__u64 size, ptr = 0, ps = page_size;
	__u32 kind;

	if (bpf_session_is_return()) {
		if (is_target())
			alloc_exit(ctx, mode, true, (__u32)*bpf_session_cookie());
		return 0;
	}
	if (!is_target())
		return 1;
	kind = (__u32)bpf_get_attach_cookie(ctx);
	switch (kind) {
	case KIND_MALLOC:
	case KIND_VALLOC:
		size = PT_REGS_PARM1(ctx);
		break;
	case KIND_PVALLOC:	/* rounds up to a whole page */
		size = PT_REGS_PARM1(ctx);
		size = size ? (size + ps - 1) / ps * ps : ps;
		break;
	case KIND_CALLOC:
		size = mul_checked(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx));
		break;
	case KIND_REALLOC:
		ptr = PT_REGS_PARM1(ctx);
		size = PT_REGS_PARM2(ctx);
		break;
	case KIND_REALLOCARRAY:
		ptr = PT_REGS_PARM1(ctx);
		size = mul_checked(PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx));
		break;
	case KIND_POSIX_MEMALIGN:
		ptr = PT_REGS_PARM1(ctx);
		size = PT_REGS_PARM3(ctx);
		break;
	case KIND_MEMALIGN:
	case KIND_ALIGNED_ALLOC:
		size = PT_REGS_PARM2(ctx);
		break;
	default:
		return 1;
	}
	return session_enter(ctx, kind, size, ptr, bpf_session_cookie());
}

SEC("uprobe")
int alloc_sess(struct pt_regs *ctx)
{
	return alloc_session(ctx, UNWIND_DWARF);
}

SEC("uprobe")
int alloc_sess_fp(struct pt_regs *ctx)
{
	return alloc_session(ctx, UNWIND_FP);
}

SEC("uprobe")
int BPF_UPROBE(free_enter, __u64 ptr)
{
	if (!is_target() || !ptr)
		return 0;
	counter(CNT_PROBE_HITS);
	if (!record_free(ptr, 0) && !sample_bytes)
		counter(CNT_UNMATCHED_FREES);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int mmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct task_state *ts = sys_enter(1);

	if (!ts)
		return 0;
	ts->sys.addr = ctx->args[0];
	ts->sys.len = ctx->args[1];
	ts->sys.prot = ctx->args[2];
	ts->sys.flags = ctx->args[3];
	ts->sys.fd = (__s64)ctx->args[4];
	return 0;
}

static __always_inline int mmap_exit_mode(struct trace_event_raw_sys_exit *ctx, __u32 mode)
{
	struct task_state *ts = sys_exit(1);
	__u64 addr = ctx->ret, len;

	if (!ts || ctx->ret < 0)
		return 0;
	len = page_round(ts->sys.len);
	/* A fixed mapping replaces whatever was mapped there. */
	if (trace_mmap && (ts->sys.flags & MAP_FIXED))
		release_range(addr, addr + len, bpf_ktime_get_ns());
	if (!(ts->sys.flags & MAP_ANONYMOUS)) {
		if (ts->sys.prot & PROT_EXEC) {	/* a new code mapping: dlopen */
			struct notify_event *ev;

			ev = bpf_ringbuf_reserve(&notify, sizeof(*ev), 0);
			if (!ev) {
				drop(DROP_NOTIFY_FULL);
			} else {
				ev->type = NOTIFY_EXEC_MAP;
				ev->pid = target_tgid;
				ev->addr = addr;
				ev->len = len;
				ev->stopped = 0;
				if (stop_on_code_map && !bpf_send_signal(19 /* SIGSTOP */))
					ev->stopped = 1;
				bpf_ringbuf_submit(ev, 0);
			}
		}
		return 0;
	}
	if (ts->sys.skip || !trace_mmap)
		return 0;
	record_mapping(addr, len, KIND_MMAP, mode);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	return mmap_exit_mode(ctx, UNWIND_DWARF);
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int mmap_exit_fp(struct trace_event_raw_sys_exit *ctx)
{
	return mmap_exit_mode(ctx, UNWIND_FP);
}

/* The target exec'd. Exec ends every other thread first, so no probe of
 * the old image is in flight: from here on nothing is recorded (is_target)
 * and userspace writes the final report of the old image. */
SEC("tracepoint/sched/sched_process_exec")
int target_exec(void *ctx)
{
	struct notify_event *ev;

	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid || image_gone)
		return 0;
	if (++execs <= execs_expected)
		return 0;
	image_gone = 1;
	ev = bpf_ringbuf_reserve(&notify, sizeof(*ev), 0);
	if (!ev) {
		drop(DROP_NOTIFY_FULL);	/* userspace also polls image_gone */
		return 0;
	}
	ev->type = NOTIFY_EXEC;
	ev->pid = target_tgid;
	ev->addr = ev->len = 0;
	ev->stopped = 0;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* A child process of the target (not a thread): counted, never traced. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(target_fork, struct task_struct *parent, struct task_struct *child)
{
	if (parent->tgid == target_tgid && child->tgid != parent->tgid && !image_gone)
		counter(CNT_FORKS);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_munmap")
int munmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct task_state *ts = sys_enter(2);

	if (!ts)
		return 0;
	ts->sys.addr = ctx->args[0];
	ts->sys.len = ctx->args[1];
	ts->sys.ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_munmap")
int munmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_state *ts = sys_exit(2);

	if (!ts || ctx->ret != 0)
		return 0;
	/* Even inside the allocator: a range we track is being unmapped.
	 * Not what was mapped there since the call began: the kernel may
	 * have handed the range to another thread already. */
	release_range(ts->sys.addr, ts->sys.addr + page_round(ts->sys.len), ts->sys.ts);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mremap")
int mremap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct task_state *ts = sys_enter(3);

	if (!ts)
		return 0;
	ts->sys.addr = ctx->args[0];
	ts->sys.len = ctx->args[1];
	ts->sys.new_len = ctx->args[2];
	ts->sys.flags = ctx->args[3];
	ts->sys.ts = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int mremap_exit_mode(struct trace_event_raw_sys_exit *ctx, __u32 mode)
{
	struct task_state *ts = sys_exit(3);
	__u64 naddr = ctx->ret;

	if (!ts || ctx->ret < 0 || ts->sys.skip)
		return 0;
	/* Like realloc: the old range is released, the new one is an
	 * allocation at this caller's stack. */
	release_range(ts->sys.addr, ts->sys.addr + page_round(ts->sys.len), ts->sys.ts);
	record_mapping(naddr, page_round(ts->sys.new_len), KIND_MREMAP, mode);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mremap")
int mremap_exit(struct trace_event_raw_sys_exit *ctx)
{
	return mremap_exit_mode(ctx, UNWIND_DWARF);
}

SEC("tracepoint/syscalls/sys_exit_mremap")
int mremap_exit_fp(struct trace_event_raw_sys_exit *ctx)
{
	return mremap_exit_mode(ctx, UNWIND_FP);
}

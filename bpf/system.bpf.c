// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * system.bpf.c - the host-wide sweep (`memtrace --system`): what every
 * process holds, from tracepoints only (no uprobes, nothing in the
 * processes' own code paths but the kernel's).
 *
 *   kmem:rss_stat		the kernel's exact RSS counters per mm (anon, file,
 *				shmem, swap), on every change
 *   syscalls:sys_exit_brk	heap size (brk - start_brk)
 *   syscalls:sys_exit_mmap/munmap/mremap  private writable mappings (VmData)
 *   sched:sched_process_exit	a thread group's last thread: forget it
 *   exceptions:page_fault_user	--fault-stacks only: 1 in N first-touch faults
 *				(page not present), the user stack (frame pointers)
 *
 * A process is keyed by tgid and carries its group leader's start time, so
 * a reused pid never merges with the process before it (userspace compares
 * start_ns). rss_stat gives a hash of the mm and whether it is current's:
 * events in the owner's context teach `mms` which process an mm is, others
 * (reclaim, another process's access) are credited through it, and only
 * while that mm is still the process's own (exec replaces it).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "system.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile __u32 self_tgid = 0;		/* memtrace itself: not tracked */
const volatile __u32 page_shift = 12;
const volatile __u32 fault_sample = 0;		/* 1 in N first-touch faults; 0: off */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SYS_PROCS_MAX);
	__type(key, __u32);			/* tgid */
	__type(value, struct sys_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SYS_PROCS_MAX);
	__type(key, __u32);			/* rss_stat mm_id */
	__type(value, __u32);			/* tgid */
} mms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYS_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sys_counters SEC(".maps");

/* --fault-stacks (sized by userspace then; 1 entry otherwise). */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(value_size, 127 * sizeof(__u64));
} sys_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct sys_fault_key);
	__type(value, __u64);			/* sampled faults */
} fault_counts SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&sys_counters, &idx);

	if (c)
		*c += 1;
}

/* current's process entry, created when missing (NULL: not tracked). */
static __always_inline struct sys_proc *own_proc(__u32 tgid)
{
	struct sys_proc *p = bpf_map_lookup_elem(&procs, &tgid);
	struct task_struct *task;
	struct sys_proc fresh = {};

	if (p)
		return p;
	if (tgid == self_tgid || tgid == 0)
		return NULL;
	task = bpf_get_current_task_btf();
	fresh.start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	if (bpf_map_update_elem(&procs, &tgid, &fresh, BPF_NOEXIST) == 0)
		count(SYS_CNT_PROCS_NEW);
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p)
		count(SYS_CNT_DROP_FULL);
	return p;
}

static __always_inline void stamp(struct sys_proc *p)
{
	p->events++;
}

SEC("tracepoint/kmem/rss_stat")
int sys_rss_stat(struct trace_event_raw_rss_stat *ctx)
{
	__u32 mm_id = ctx->mm_id, tgid, *owner;
	int member = ctx->member;
	struct sys_proc *p;

	count(SYS_CNT_EVENTS);
	if (member < 0 || member >= SYS_RSS_MEMBERS)
		return 0;
	if (ctx->curr) {
		tgid = bpf_get_current_pid_tgid() >> 32;
		p = own_proc(tgid);
		if (!p)
			return 0;
		if (p->mm_id != mm_id) {	/* first event, or after exec */
			p->mm_id = mm_id;
			if (bpf_map_update_elem(&mms, &mm_id, &tgid, BPF_ANY))
				count(SYS_CNT_DROP_MMS_FULL);
		}
	} else {
		owner = bpf_map_lookup_elem(&mms, &mm_id);
		if (!owner) {
			count(SYS_CNT_FOREIGN_MM);
			return 0;
		}
		tgid = *owner;
		p = bpf_map_lookup_elem(&procs, &tgid);
		if (!p || p->mm_id != mm_id) {	/* gone, or an mm it left by exec */
			count(SYS_CNT_FOREIGN_MM);
			return 0;
		}
	}
	p->rss[member & (SYS_RSS_MEMBERS - 1)] = ctx->size > 0 ? ctx->size : 0;
	p->rss_seen |= 1u << member;
	stamp(p);
	return 0;
}

/* After a change of current's mappings: heap and VmData from its mm. */
static __always_inline void mappings_changed(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *task;
	struct mm_struct *mm;
	struct sys_proc *p;

	count(SYS_CNT_EVENTS);
	p = own_proc(tgid);
	if (!p)
		return;
	task = bpf_get_current_task_btf();
	mm = BPF_CORE_READ(task, mm);
	if (!mm)
		return;
	p->heap_bytes = BPF_CORE_READ(mm, brk) - BPF_CORE_READ(mm, start_brk);
	p->data_bytes = BPF_CORE_READ(mm, data_vm) << page_shift;
	p->rss_seen |= SYS_SEEN_MAPS;
	stamp(p);
}

SEC("tracepoint/syscalls/sys_exit_brk")
int sys_brk_exit(void *ctx)
{
	mappings_changed();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int sys_mmap_exit(void *ctx)
{
	mappings_changed();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_munmap")
int sys_munmap_exit(void *ctx)
{
	mappings_changed();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mremap")
int sys_mremap_exit(void *ctx)
{
	mappings_changed();
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int sys_proc_exit(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct sys_proc *p;
	__u32 mm_id;

	count(SYS_CNT_EVENTS);
	/* do_exit() drops signal->live before this tracepoint: 0 = last thread */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p)
		return 0;
	mm_id = p->mm_id;
	bpf_map_delete_elem(&mms, &mm_id);
	if (bpf_map_delete_elem(&procs, &tgid) == 0)
		count(SYS_CNT_PROCS_EXITED);
	return 0;
}

SEC("tracepoint/exceptions/page_fault_user")
int sys_fault_user(struct trace_event_raw_exceptions *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct sys_fault_key key = { .tgid = tgid };
	__u64 one = 1, *n;

	if (ctx->error_code & 1)	/* protection fault: the page was there */
		return 0;
	count(SYS_CNT_FAULTS);
	if (bpf_get_prandom_u32() % fault_sample)
		return 0;
	if (!bpf_map_lookup_elem(&procs, &tgid))
		return 0;		/* not tracked (memtrace itself, kernel work) */
	key.stack_id = bpf_get_stackid(ctx, &sys_stacks, BPF_F_USER_STACK);
	if (key.stack_id < 0) {
		count(SYS_CNT_DROP_FAULT);
		return 0;
	}
	n = bpf_map_lookup_elem(&fault_counts, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else if (bpf_map_update_elem(&fault_counts, &key, &one, BPF_NOEXIST) &&
		 !(n = bpf_map_lookup_elem(&fault_counts, &key))) {
		count(SYS_CNT_DROP_FAULT);
		return 0;
	} else if (n) {
		__sync_fetch_and_add(n, 1);
	}
	count(SYS_CNT_FAULT_SAMPLES);
	return 0;
}

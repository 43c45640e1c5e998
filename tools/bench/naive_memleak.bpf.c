// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * naive_memleak.bpf.c - the "naive" peer of tools/bench/bench-overhead.c:
 * bcc's memleak algorithm (tools/memleak.py, libbpf-tools/memleak.bpf.c),
 * malloc and free only, every probe at the function entry.
 *
 *   malloc entry:  sizes[tid] = size
 *   malloc return: allocs[ptr] = { size, ts, bpf_get_stackid(user stack) },
 *                  combined[stack] += size, count
 *   free entry:    allocs[ptr] -> combined[stack] -= size, count; delete
 *
 * No trap-aware placement (free's entry instruction is single-stepped on
 * glibc), frame-pointer stacks from the kernel's stack map helper.
 * Nothing is shared with naive_memleak.c but map names: no header.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef BPF_UPROBE		/* libbpf < 1.2 (Debian 12) has only the kprobe names */
#define BPF_UPROBE(name, args...)	BPF_KPROBE(name, ##args)
#define BPF_URETPROBE(name, args...)	BPF_KRETPROBE(name, ##args)
#endif

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define ALLOCS_MAX	(1 << 20)
#define STACKS_MAX	(1 << 14)
#define STACK_DEPTH	127

struct alloc_info {
	__u64 size;
	__u64 ts;
	__s64 stack_id;
};

struct combined {
	__u64 bytes;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ALLOCS_MAX);
	__type(key, __u64);
	__type(value, struct alloc_info);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STACKS_MAX);
	__type(key, __u64);
	__type(value, struct combined);
} combined SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, STACKS_MAX);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, STACK_DEPTH * sizeof(__u64));
} stack_traces SEC(".maps");

SEC("uprobe")
int BPF_UPROBE(malloc_enter, __u64 size)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&sizes, &tid, &size, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(malloc_exit, __u64 ptr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct alloc_info info = {};
	struct combined *c, zero = {};
	__u64 *size = bpf_map_lookup_elem(&sizes, &tid), key;

	if (!size)
		return 0;
	info.size = *size;
	bpf_map_delete_elem(&sizes, &tid);
	if (!ptr)
		return 0;
	info.ts = bpf_ktime_get_ns();
	info.stack_id = bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK);
	bpf_map_update_elem(&allocs, &ptr, &info, BPF_ANY);
	key = (__u64)info.stack_id;
	c = bpf_map_lookup_elem(&combined, &key);
	if (!c) {
		bpf_map_update_elem(&combined, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&combined, &key);
		if (!c)
			return 0;
	}
	__sync_fetch_and_add(&c->bytes, info.size);
	__sync_fetch_and_add(&c->count, 1);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(free_enter, __u64 ptr)
{
	struct alloc_info *info = bpf_map_lookup_elem(&allocs, &ptr);
	struct combined *c;
	__u64 key;

	if (!info)
		return 0;
	key = (__u64)info->stack_id;
	c = bpf_map_lookup_elem(&combined, &key);
	if (c) {
		__sync_fetch_and_add(&c->bytes, -info->size);
		__sync_fetch_and_add(&c->count, -1);
	}
	bpf_map_delete_elem(&allocs, &ptr);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * live_scan.bpf.c - the walk of the live allocations, in the kernel.
 *
 * Two map-element iterators: scan_allocs runs over memtrace's `allocs`
 * map, scan_mmaps over `mmaps` (userspace attaches each to its map through
 * link_info.map.map_fd). Every record is folded into `live_acc`, one entry
 * per (stack id, kind): oldest timestamp, and the estimated bytes and
 * count of records at or before cutoff_ns (--older). The iterators write
 * nothing to the seq file; userspace reads until EOF, then reads (and
 * empties) live_acc: O(stacks), not O(allocations).
 *
 * A record that cannot be folded (live_acc full) is counted in stats.lost,
 * never dropped silently: userspace then falls back to its own walk.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "live_scan.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Run parameters and results, set and read through the skeleton around
 * every run (one run at a time: a scanner is one process's). */
__u64 cutoff_ns = 0;			/* records with ts <= cutoff_ns are "old" */
struct live_scan_stats stats = {};	/* reset by userspace before each run */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* memory for the pairs in use only */
	__uint(max_entries, LIVE_ACC_MAX_ENTRIES);
	__type(key, struct live_key);
	__type(value, struct live_acc);
} live_acc SEC(".maps");

/* collect.c's age_add(), on the accumulator entry of (stack_id, kind). */
static __always_inline void fold(__u64 stack_id, __u32 kind, __u64 ts, __u64 bytes,
				 __u64 cnt)
{
	struct live_key k = { .stack_id = stack_id, .kind = kind };
	struct live_acc *a;
	bool old = ts <= cutoff_ns;

	stats.seen++;
	a = bpf_map_lookup_elem(&live_acc, &k);
	if (!a) {
		/* A new pair: from min_ts 0, age_add's first step takes ts. */
		struct live_acc init = {
			.min_ts = ts,
			.old_bytes = old ? (__s64)bytes : 0,
			.old_count = old ? (__s64)cnt : 0,
			.records = 1,
		};

		if (bpf_map_update_elem(&live_acc, &k, &init, BPF_NOEXIST))
			stats.lost++;
		else
			stats.keys++;
		return;
	}
	if (!a->min_ts || ts < a->min_ts)
		a->min_ts = ts;
	if (old) {
		a->old_bytes += (__s64)bytes;
		a->old_count += (__s64)cnt;
	}
	a->records++;
}

SEC("iter/bpf_map_elem")
int scan_allocs(struct bpf_iter__bpf_map_elem *ctx)
{
	const struct alloc_info *a = ctx->value;

	if (!a)			/* the last call, after every element */
		return 0;
	fold(a->stack_id, a->kind, a->ts, a->est_bytes, a->est_count);
	return 0;
}

SEC("iter/bpf_map_elem")
int scan_mmaps(struct bpf_iter__bpf_map_elem *ctx)
{
	const struct mmap_info *m = ctx->value;

	if (!m)
		return 0;
	fold(m->stack_id, m->kind, m->ts, m->len, WEIGHT_ONE);
	return 0;
}

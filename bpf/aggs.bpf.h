/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * aggs.bpf.h - per-stack totals in `aggs`, a hash map by (stack, kind)
 * that grows with the stacks seen (no preallocation).
 * Included once, by memtrace.bpf.c (after the headers listed there).
 */
#ifndef MEMTRACE_AGGS_BPF_H
#define MEMTRACE_AGGS_BPF_H

/* By (stack, kind), not preallocated (see struct agg_key). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AGGS_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct agg_key);
	__type(value, struct agg_val);
} aggs SEC(".maps");

/* The zeros a new aggregate starts from (never written). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct agg_val);
} agg_zero SEC(".maps");

/* ---- aggregation ----------------------------------------------------- */

/*
 * The aggregate of (stack_id, kind); made when create and absent (a full
 * map is counted as DROP_AGGS_FULL). NULL when absent or full.
 */
static __always_inline struct agg_val *agg_get(__u64 stack_id, __u32 kind, bool create)
{
	struct agg_key k = { .stack_id = stack_id, .kind = kind };
	struct agg_val *v = bpf_map_lookup_elem(&aggs, &k);
	__u32 zero = 0;
	void *z;
	long err;

	if (v || !create)
		return v;
	z = bpf_map_lookup_elem(&agg_zero, &zero);
	if (!z)
		return NULL;
	err = map_update_twice(&aggs, &k, z, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: made meanwhile */) {
		drop(DROP_AGGS_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&aggs, &k);
}

static __always_inline void agg_add(__u64 stack_id, __u32 kind, __u64 bytes,
				    __u64 cnt, __u64 ts)
{
	struct agg_val *v = agg_get(stack_id, kind, true);
	__s64 now;

	if (!v)
		return;
	now = __sync_fetch_and_add(&v->outstanding_bytes, bytes) + bytes;
	__sync_fetch_and_add(&v->outstanding_allocs, cnt);
	__sync_fetch_and_add(&v->alloc_calls, cnt);
	__sync_fetch_and_add(&v->alloc_bytes, bytes);
	__sync_fetch_and_add(&v->sum_alloc_ts, ts);
	if (now > v->peak_bytes)
		v->peak_bytes = now;	/* best effort under races */
	if (cnt == WEIGHT_ONE) {	/* an exact record: bytes is its size */
		if (!v->size_min || bytes < v->size_min)
			v->size_min = bytes;
		if (bytes > v->size_max)
			v->size_max = bytes;
	}
	counter(CNT_ALLOC_CALLS);
}

/*
 * A realloc at (stack_id, kind) grew a tracked block from old_size to
 * new_size bytes: count the step and the bytes a move would copy.
 */
static __always_inline void agg_realloc_step(__u64 stack_id, __u32 kind, __u64 old_size,
					     __u64 new_size)
{
	struct agg_val *v;
	__u64 step;

	if (new_size <= old_size)
		return;
	v = agg_get(stack_id, kind, false);
	if (!v)
		return;
	step = new_size - old_size;
	__sync_fetch_and_add(&v->realloc_grows, 1);
	__sync_fetch_and_add(&v->realloc_step_bytes, step);
	__sync_fetch_and_add(&v->realloc_old_bytes, old_size);
	if (!v->realloc_step_min || step < v->realloc_step_min)
		v->realloc_step_min = step;
	if (step > v->realloc_step_max)
		v->realloc_step_max = step;
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

/*
 * Release `bytes` of a record of the given stack. `whole` when the record is
 * gone (a free, a complete munmap): then it counts as a free and its
 * lifetime is recorded.
 */
static __always_inline void agg_release(__u64 stack_id, __u32 kind, __u64 bytes,
					__u64 cnt, __u64 ts, bool whole)
{
	struct agg_val *v = agg_get(stack_id, kind, false);
	__u64 life, b;

	if (!v)
		return;
	__sync_fetch_and_add(&v->outstanding_bytes, -(__s64)bytes);
	__sync_fetch_and_add(&v->free_bytes, bytes);
	if (!whole)
		return;
	__sync_fetch_and_add(&v->outstanding_allocs, -(__s64)cnt);
	__sync_fetch_and_add(&v->free_calls, cnt);
	__sync_fetch_and_add(&v->sum_alloc_ts, -ts);
	life = bpf_ktime_get_ns() - ts;
	if (life < temp_ns)
		__sync_fetch_and_add(&v->temp_allocs, cnt);
	b = log2_u64(life / 1000);
	if (b >= LIFE_BUCKETS)
		b = LIFE_BUCKETS - 1;
	__sync_fetch_and_add(&v->life_hist[b & (LIFE_BUCKETS - 1)], cnt);
	counter(CNT_FREE_CALLS);
}

#endif /* MEMTRACE_AGGS_BPF_H */

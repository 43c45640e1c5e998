/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * aggs.bpf.h - per-stack totals in `aggs`, an open-addressing table over
 * an mmapable array that userspace reads in place.
 * Included once, by memtrace.bpf.c (after the headers listed there).
 */
#ifndef MEMTRACE_AGGS_BPF_H
#define MEMTRACE_AGGS_BPF_H

/* Open addressing over an array (see struct agg_val): no helper call and
 * no lock on the hot path, and userspace maps it instead of copying. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AGGS_MAX_ENTRIES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct agg_val);
} aggs SEC(".maps");

/* ---- aggregation ----------------------------------------------------- */

/*
 * Slot of (stack_id, kind) in aggs, claimed when create; -1 when absent
 * (not create) or when its AGG_PROBES slots are all taken (counted).
 * Slots are never released, so a key's probe sequence has no holes.
 * A plain bounded loop: verified once (a global function), no callback.
 */
__noinline int agg_slot(__u64 stack_id, __u32 kind, int create)
{
	__u64 tag = agg_tag(stack_id, kind), cur;
	struct agg_val *v;
	__u32 k;

	if (!aggs_slots)
		return -1;
	k = agg_first_slot(tag, aggs_slots);
	for (int i = 0; i < AGG_PROBES; i++) {
		v = bpf_map_lookup_elem(&aggs, &k);
		if (!v)
			return -1;
		cur = v->tag;
		if (cur == 0) {
			if (!create)
				return -1;
			cur = __sync_val_compare_and_swap(&v->tag, 0, tag);
			if (cur == 0) {
				v->stack_id = stack_id;
				v->kind = kind;
				__sync_fetch_and_or(&v->ready, 1);	/* ordered after the key */
				return k;
			}
		}
		if (cur == tag)	/* (also: claimed for the same key meanwhile) */
			return k;
		k = (k + 1) % aggs_slots;	/* no branch: one path per probe */
	}
	if (create)
		drop(DROP_AGGS_FULL);
	return -1;
}

static __always_inline struct agg_val *agg_get(__u64 stack_id, __u32 kind, bool create)
{
	int slot = agg_slot(stack_id, kind, create);
	__u32 k = slot;

	return slot < 0 ? NULL : bpf_map_lookup_elem(&aggs, &k);
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

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * mmap.bpf.h - mmap/munmap/mremap accounting: live mappings in `mmaps`,
 * ranges released in part or whole, new code mappings told to userspace
 * through `notify`; the syscall entry/exit pairing per thread.
 * Included once, by memtrace.bpf.c (after the headers listed there).
 */
#ifndef MEMTRACE_MMAP_BPF_H
#define MEMTRACE_MMAP_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MMAPS_MAX_ENTRIES);
	__type(key, struct mmap_key);
	__type(value, struct mmap_info);
} mmaps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} notify SEC(".maps");

/* ---- mmap, munmap, mremap ----------------------------------------- */

/*
 * Releases race with new mappings: munmap (and mremap) free the range in
 * the kernel before their exit tracepoint runs, and another thread's mmap
 * may be handed the range and record it first (a new key: struct
 * mmap_key). So a release takes only the mappings recorded before its
 * call began (before).
 */
struct range_hits {
	__u64 lo, hi;		/* range being released */
	__u64 before;		/* only mappings recorded before this time */
	__u32 n;
	__u32 overflow;
	struct mmap_key key[MUNMAP_PASS_HITS];
};

static long collect_overlap(struct bpf_map *map, struct mmap_key *key, struct mmap_info *val,
			    struct range_hits *h)
{
	__u64 s = key->start, e = s + val->len;

	if (e <= h->lo || s >= h->hi || val->ts >= h->before)
		return 0;
	if (h->n >= MUNMAP_PASS_HITS) {
		h->overflow = 1;
		return 1;
	}
	h->key[h->n & (MUNMAP_PASS_HITS - 1)] = *key;
	h->n++;
	return 0;
}

/* Release the part of tracked mapping h->key[i] that [lo, hi) covers.
 * Lean on stack: it runs on top of release_range() and the programs'. */
static long release_one(__u32 i, struct range_hits *h)
{
	struct mmap_info *p, m;
	struct mmap_key k;
	__u64 s, e, cut_lo, cut_hi;
	bool middle;

	if (i >= MUNMAP_PASS_HITS)
		return 1;
	k = h->key[i];
	p = bpf_map_lookup_elem(&mmaps, &k);
	if (!p)
		return 0;
	m = *p;
	s = k.start;
	e = s + m.len;
	cut_lo = s > h->lo ? s : h->lo;
	cut_hi = e < h->hi ? e : h->hi;
	if (cut_lo >= cut_hi)
		return 0;
	if (cut_lo == s && cut_hi == e) {		/* whole */
		if (!bpf_map_delete_elem(&mmaps, &k))
			agg_release(m.stack_id, m.kind, m.len, WEIGHT_ONE, m.ts, true);
		return 0;
	}
	if (cut_hi == e) {				/* tail */
		p->len = cut_lo - s;
	} else {	/* head or middle: the piece above is a new key, same ts */
		middle = cut_lo > s;
		if (middle)
			p->len = cut_lo - s;		/* the piece below stays */
		else if (bpf_map_delete_elem(&mmaps, &k))
			return 0;			/* released meanwhile */
		k.start = cut_hi;
		m.len = e - cut_hi;
		if (bpf_map_update_elem(&mmaps, &k, &m, BPF_ANY)) {
			drop(DROP_MMAPS_FULL);
		} else if (middle) {
			/* two live pieces now */
			struct agg_val *v = agg_get(m.stack_id, m.kind, false);

			if (v) {
				__sync_fetch_and_add(&v->outstanding_allocs, WEIGHT_ONE);
				__sync_fetch_and_add(&v->sum_alloc_ts, m.ts);
			}
		}
	}
	agg_release(m.stack_id, m.kind, cut_hi - cut_lo, WEIGHT_ONE, m.ts, false);
	return 0;
}

/*
 * Release [lo, hi) from the tracked mappings it overlaps that were
 * recorded before time before. Each pass collects up to MUNMAP_PASS_HITS
 * of them, then releases them: what is left of a released mapping lies
 * outside [lo, hi), so the next pass finds only the ones not yet taken.
 * Returns how many it touched. A global function: verified once, and its
 * stack is not added to the callers' (which also walk stacks).
 */
__noinline int release_range(__u64 lo, __u64 hi, __u64 before)
{
	struct range_hits h = { .lo = lo, .hi = hi, .before = before };
	int done = 0;

	if (lo >= hi)
		return 0;
#pragma unroll
	for (int pass = 0; pass < MUNMAP_PASSES; pass++) {
		h.n = 0;
		h.overflow = 0;
		bpf_for_each_map_elem(&mmaps, collect_overlap, &h, 0);
		if (h.n)
			bpf_loop(h.n, release_one, &h, 0);
		done += h.n;
		if (!h.overflow)
			return done;
	}
	drop(DROP_MUNMAP_OVERFLOW);
	return done;
}

static __always_inline __u64 page_round(__u64 len)
{
	__u64 ps = page_size;

	return (len + ps - 1) / ps * ps;
}

static __always_inline void record_mapping_in(__u64 addr, __u64 len, __u32 kind, __u32 mode)
{
	struct mmap_info m = { .len = len, .kind = kind };
	struct pt_regs *regs = user_regs();
	struct mmap_key k = { .start = addr };

	m.ts = k.ts = bpf_ktime_get_ns();
	m.stack_id = regs ? get_stack_id(regs, NULL, mode) : 0;
	if (bpf_map_update_elem(&mmaps, &k, &m, BPF_NOEXIST)) {
		drop(DROP_MMAPS_FULL);
		return;
	}
	agg_add(m.stack_id, kind, len, WEIGHT_ONE, m.ts);
}

/*
 * Record a new mapping at the current stack, by walker mode. Each walker
 * has its own subprogram, so that the stack walk's frame is not added to
 * the release_range() chain of the same program (6.1's verifier sums the
 * frames of a call chain up to 512 bytes) and a program of one walker
 * never carries the other's code.
 */
static __noinline int record_mapping_dwarf(__u64 addr, __u64 len, __u32 kind)
{
	record_mapping_in(addr, len, kind, UNWIND_DWARF);
	return 0;
}

static __noinline int record_mapping_fp(__u64 addr, __u64 len, __u32 kind)
{
	record_mapping_in(addr, len, kind, UNWIND_FP);
	return 0;
}

static __always_inline void record_mapping(__u64 addr, __u64 len, __u32 kind, __u32 mode)
{
	if (mode == UNWIND_DWARF)
		record_mapping_dwarf(addr, len, kind);
	else
		record_mapping_fp(addr, len, kind);
}

/* Start of an mmap-family syscall: save the arguments. */
static __always_inline struct task_state *sys_enter(__u32 nr)
{
	struct task_state *ts;

	if (!is_target())
		return NULL;
	counter(CNT_PROBE_HITS);
	ts = task_state(true);
	if (!ts) {
		drop(DROP_ENTRIES_FULL);
		return NULL;
	}
	ts->sys.nr = nr;
	/* Mappings made by the allocator itself are its business: the
	 * allocation they serve is already accounted at malloc. */
	ts->sys.skip = ts->depth > 0;
	return ts;
}

static __always_inline struct task_state *sys_exit(__u32 nr)
{
	struct task_state *ts;

	if (!is_target())
		return NULL;
	counter(CNT_PROBE_HITS);
	ts = task_state(false);
	if (!ts || ts->sys.nr != nr)
		return NULL;
	ts->sys.nr = 0;
	return ts;
}

#endif /* MEMTRACE_MMAP_BPF_H */

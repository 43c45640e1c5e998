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
	__type(key, __u64);
	__type(value, struct mmap_info);
} mmaps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} notify SEC(".maps");

/* ---- mmap, munmap, mremap ----------------------------------------- */

struct range_hits {
	__u64 lo, hi;		/* range being released */
	__u32 n;
	__u32 overflow;
	__u64 start[MUNMAP_MAX_HITS];
};

static long collect_overlap(struct bpf_map *map, __u64 *key, struct mmap_info *val,
			    struct range_hits *h)
{
	__u64 s = *key, e = s + val->len;

	if (e <= h->lo || s >= h->hi)
		return 0;
	if (h->n >= MUNMAP_MAX_HITS) {
		h->overflow = 1;
		return 1;
	}
	h->start[h->n & (MUNMAP_MAX_HITS - 1)] = s;
	h->n++;
	return 0;
}

/* Release the part of tracked mapping h->start[i] that [lo, hi) covers. */
static long release_one(__u32 i, struct range_hits *h)
{
	struct mmap_info *p, m;
	__u64 s, e, cut_lo, cut_hi, lo = h->lo, hi = h->hi;

	if (i >= MUNMAP_MAX_HITS)
		return 1;
	s = h->start[i];
	p = bpf_map_lookup_elem(&mmaps, &s);
	if (!p)
		return 0;
	m = *p;
	e = s + m.len;
	cut_lo = s > lo ? s : lo;
	cut_hi = e < hi ? e : hi;
	if (cut_lo >= cut_hi)
		return 0;
	if (cut_lo == s && cut_hi == e) {		/* whole */
		if (!bpf_map_delete_elem(&mmaps, &s))
			agg_release(m.stack_id, m.kind, m.len, WEIGHT_ONE, m.ts, true);
		return 0;
	}
	if (cut_lo == s) {				/* head */
		struct mmap_info rest = m;
		__u64 ns = cut_hi;

		rest.len = e - cut_hi;
		if (bpf_map_delete_elem(&mmaps, &s))
			return 0;
		if (bpf_map_update_elem(&mmaps, &ns, &rest, BPF_ANY))
			drop(DROP_MMAPS_FULL);
	} else if (cut_hi == e) {			/* tail */
		p->len = cut_lo - s;
	} else {					/* middle: split in two */
		struct mmap_info rest = m;
		__u64 ns = cut_hi;
		struct agg_val *v;

		rest.len = e - cut_hi;
		p->len = cut_lo - s;
		if (bpf_map_update_elem(&mmaps, &ns, &rest, BPF_ANY)) {
			drop(DROP_MMAPS_FULL);
		} else {
			/* two live pieces now */
			v = agg_get(m.stack_id, m.kind, false);
			if (v) {
				__sync_fetch_and_add(&v->outstanding_allocs, WEIGHT_ONE);
				__sync_fetch_and_add(&v->sum_alloc_ts, m.ts);
			}
		}
	}
	agg_release(m.stack_id, m.kind, cut_hi - cut_lo, WEIGHT_ONE, m.ts, false);
	return 0;
}

/* Release [lo, hi) from the tracked mappings it overlaps. */
static __always_inline void release_range(__u64 lo, __u64 hi)
{
	struct range_hits h = { .lo = lo, .hi = hi };

	if (lo >= hi)
		return;
	bpf_for_each_map_elem(&mmaps, collect_overlap, &h, 0);
	if (h.overflow)
		drop(DROP_MUNMAP_OVERFLOW);
	if (h.n)
		bpf_loop(h.n, release_one, &h, 0);
}

static __always_inline __u64 page_round(__u64 len)
{
	__u64 ps = page_size;

	return (len + ps - 1) / ps * ps;
}

static __always_inline void record_mapping(__u64 addr, __u64 len, __u32 kind, __u32 mode)
{
	struct mmap_info m = { .len = len, .kind = kind };
	struct pt_regs *regs = user_regs();

	m.ts = bpf_ktime_get_ns();
	m.stack_id = regs ? get_stack_id(regs, NULL, mode) : 0;
	if (bpf_map_update_elem(&mmaps, &addr, &m, BPF_ANY)) {
		drop(DROP_MMAPS_FULL);
		return;
	}
	agg_add(m.stack_id, kind, len, WEIGHT_ONE, m.ts);
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

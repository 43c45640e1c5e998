/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * entry.bpf.h - allocator calls in flight: the entry probe saves the
 * arguments, the return probe matches its entry by stack pointer and
 * records the result.
 * Included once, by memtrace.bpf.c (after the headers listed there).
 */
#ifndef MEMTRACE_ENTRY_BPF_H
#define MEMTRACE_ENTRY_BPF_H

static __always_inline void push_entry(struct pt_regs *ctx, __u32 kind,
				       __u64 size, __u64 ptr)
{
	struct task_state *ts;
	struct entry *e;
	__u32 d;

	counter(CNT_PROBE_HITS);
	counter(CNT_ALLOC_ENTRIES);
	ts = task_state(true);
	if (!ts) {
		drop(DROP_ENTRIES_FULL);
		return;
	}
	d = ts->depth;
	if (d >= MAX_NEST) {
		ts->lost++;
		drop(DROP_ENTRIES_FULL);
		return;
	}
	e = &ts->e[d & (MAX_NEST - 1)];
	e->sp = PT_REGS_SP(ctx);	/* the entry's: no sp change before the probe */
	e->size = size;
	e->ptr = ptr;
	e->kind = kind;
	/* realloc(NULL, n) calling malloc, reallocarray calling realloc: the
	 * outer call accounts for the result. */
	e->nested = d > 0;
	e->old_ts = 0;
	if (kind == KIND_REALLOC || kind == KIND_REALLOCARRAY) {
		struct alloc_info old;

		if (ptr && alloc_lookup(ptr, &old))
			e->old_ts = old.ts;
	}
	ts->depth = d + 1;
}

/*
 * Pop the entry that this return belongs to: the one whose entry stack
 * pointer is sp - 8 (the return address was popped). Entries above it
 * belong to calls that never returned (longjmp) and are discarded.
 */
static __always_inline bool pop_entry(struct pt_regs *ctx, struct task_state **tsp,
				      struct entry *out)
{
	struct task_state *ts;
	__u64 sp = PT_REGS_SP(ctx) - 8;

	counter(CNT_PROBE_HITS);
	counter(CNT_ALLOC_RETURNS);
	ts = task_state(false);
	*tsp = ts;
	if (!ts || !ts->depth)
		goto missed;
	for (int i = MAX_NEST - 1; i >= 0; i--) {
		if (i >= ts->depth)
			continue;
		if (ts->e[i].sp == sp) {
			*out = ts->e[i];
			ts->depth = i;
			return true;
		}
	}
	if (ts->lost) {		/* this return's entry was never saved */
		ts->lost--;
		return false;
	}
missed:
	drop(DROP_MISSED_ENTRY);
	return false;
}

/*
 * The return of an allocator call: pop its entry and record the result.
 * decided: the entry drew its sample points already (session links), k;
 * else they are drawn here.
 */
static __always_inline int alloc_exit(struct pt_regs *ctx, __u32 mode, bool decided, __u32 k)
{
	struct task_state *ts;
	struct entry e;
	__u64 ret = PT_REGS_RC(ctx), old_size = 0;

	if (!pop_entry(ctx, &ts, &e) || e.nested)
		return 0;

	switch (e.kind) {
	case KIND_POSIX_MEMALIGN:
		if ((int)ret != 0)
			return 0;
		if (bpf_probe_read_user(&ret, sizeof(ret), (void *)e.ptr))
			return 0;
		break;
	case KIND_REALLOC:
	case KIND_REALLOCARRAY:
		if (!e.ptr)
			break;			/* realloc(NULL, n) == malloc(n) */
		if (!ret && e.size)
			return 0;		/* failed: the old block stays */
		if (e.old_ts) {		/* release the old block, unless reused */
			struct alloc_info old;

			if (alloc_lookup(e.ptr, &old) && old.ts == e.old_ts)
				old_size = old.size;	/* the step, for agg_realloc_step() */
			record_free(e.ptr, e.old_ts);
		} else if (!sample_bytes) {
			counter(CNT_UNMATCHED_FREES);
		}
		break;
	default:
		break;
	}
	if (!ret)
		return 0;
	if (decided)
		record_alloc_points(ctx, ts, ret, e.size, e.kind, mode, k);
	else
		record_alloc(ctx, ts, ret, e.size, e.kind, mode);
	if (old_size) {
		struct alloc_info rec;

		if (alloc_lookup(ret, &rec))
			agg_realloc_step(rec.stack_id, rec.kind, old_size, e.size);
	}
	return 0;
}

/*
 * The entry of an allocator call through a uprobe session link: save the
 * call like push_entry(), and decide here whether its return must run.
 * Returns 0 to run the return probe, 1 to skip it (one trap instead of
 * two): for calls nested in another allocator call on this thread (the
 * outer call accounts for the result, as with entry+return links), and
 * for allocations sampled out, unless a realloc may release a tracked
 * block. The sample points drawn go to *cookie for the return. Full
 * tracing never skips: every call is seen.
 */
static __always_inline int session_enter(struct pt_regs *ctx, __u32 kind, __u64 size,
					 __u64 ptr, __u64 *cookie)
{
	__u64 sp = PT_REGS_SP(ctx), old_ts = 0;
	struct task_state *ts;
	struct entry *e;
	__u32 d, k;

	counter(CNT_PROBE_HITS);
	counter(CNT_ALLOC_ENTRIES);
	ts = task_state(true);
	if (!ts) {
		drop(DROP_ENTRIES_FULL);
		return 1;
	}
	/* Entries below this stack pointer belong to calls that can no longer
	 * be in flight (left by longjmp): a caller's entry sp is above, or the
	 * same when it tail-calls (glibc's realloc(NULL, n) jumps to malloc:
	 * nested, the outer call accounts). */
	d = ts->depth;
	for (int i = 0; i < MAX_NEST && d > 0; i++) {
		if (ts->e[(d - 1) & (MAX_NEST - 1)].sp >= sp)
			break;
		d--;
	}
	ts->depth = d;
	if (d > 0)
		return 1;
	k = sample_points(ts, size);
	if ((kind == KIND_REALLOC || kind == KIND_REALLOCARRAY) && ptr) {
		struct alloc_info old;

		if (alloc_lookup(ptr, &old))
			old_ts = old.ts;
	}
	if (!k && !old_ts)
		return 1;
	e = &ts->e[0];
	e->sp = sp;
	e->size = size;
	e->ptr = ptr;
	e->kind = kind;
	e->nested = 0;
	e->old_ts = old_ts;
	ts->depth = 1;
	if (cookie)
		*cookie = k;
	return 0;
}

static __always_inline __u64 mul_checked(__u64 a, __u64 b)
{
	/* Long multiplication on 32-bit halves: BPF has no 128-bit product. */
	__u64 ah = a >> 32, al = a & 0xffffffff, bh = b >> 32, bl = b & 0xffffffff;
	__u64 cross, low;

	if (ah && bh)
		return ~0ULL;	/* overflow: an impossible size, the call fails */
	cross = ah * bl + al * bh;
	if (cross >> 32)
		return ~0ULL;
	low = al * bl;
	if (low + (cross << 32) < low)
		return ~0ULL;
	return low + (cross << 32);
}

#endif /* MEMTRACE_ENTRY_BPF_H */

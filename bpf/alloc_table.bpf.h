/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * alloc_table.bpf.h - the table of live allocations, `allocs`: a two-choice
 * bucket table over an mmapable array (find, store, release by address).
 * Shared by memtrace.bpf.c (user allocations) and kmem.bpf.c (kernel
 * allocations); each declares the `allocs` map (tables.bpf.h), drop() and
 * the aggs (aggs.bpf.h) before including it.
 */
#ifndef MEMTRACE_ALLOC_TABLE_BPF_H
#define MEMTRACE_ALLOC_TABLE_BPF_H

/* ---- the allocs table ------------------------------------------------ */

#define ALLOC_SLOT_NEW	(1LL << 40)	/* alloc_slot(): claimed just now */
/*
 * A slot value from alloc_slot() also names its table: the low bits of the
 * table map's id, above ALLOC_SLOT_NEW. Userspace may replace NEW (moving
 * the old table to OLD) between alloc_slot() and the use of its slot; the
 * slot is then used in the table it was found in, never at the same index
 * of another (which wrote a record over another's, and left the claimed
 * slot incomplete: its move waited for ever and the table stopped growing).
 */
#define ALLOC_SLOT_TAG_SHIFT	41
#define ALLOC_SLOT_TAG_MASK	((1ULL << 22) - 1)
#define barrier()	asm volatile("" ::: "memory")

/* Table which (ALLOC_TBL_*) of allocs, NULL when unset; *nb: its buckets,
 * *tag: its id's low bits (ALLOC_SLOT_TAG_MASK). */
static __always_inline void *alloc_tbl(__u32 which, __u32 *nb, __u64 *tag)
{
	void *m = bpf_map_lookup_elem(&allocs, &which);

	if (!m)
		return NULL;
	*nb = ((struct bpf_map *)m)->max_entries;
	*tag = ((struct bpf_map *)m)->id & ALLOC_SLOT_TAG_MASK;
	return m;
}

/* Is a table being moved (ALLOC_TBL_OLD set)? */
static __always_inline bool alloc_moving(void)
{
	__u32 which = ALLOC_TBL_OLD;

	return bpf_map_lookup_elem(&allocs, &which) != NULL;
}

static __always_inline void alloc_records_add(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&alloc_records, &which);

	if (c)
		*c += 1;
}

/*
 * The slot (bucket * ALLOC_WAYS + way) in table which whose addr reads
 * match, in the two buckets of addr; -1 when absent. claim (match == addr):
 * when absent, claim a free slot for addr (in the bucket of the two with
 * more free slots) and return it | ALLOC_SLOT_NEW; -1 when both buckets are
 * full. A claimed slot's record is the caller's to fill.
 */
__noinline long alloc_slot(__u32 which, __u64 addr, __u64 match, int claim)
{
	__u32 k[2], kk, nb = 0;
	struct alloc_bucket *b;
	__u64 a, nfree[2] = {}, pick, tag = 0;
	void *tbl;

	if (addr <= ALLOC_BUSY)
		return -1;
	tbl = alloc_tbl(which, &nb, &tag);
	if (!tbl || nb < 2)
		return -1;
	tag <<= ALLOC_SLOT_TAG_SHIFT;
	alloc_buckets(addr, nb, &k[0], &k[1]);
	/* Written for the verifier: one bucket pointer per outer pass and no
	 * branch but the ones that return, so every pass verifies alike. */
	for (int j = 0; j < 2; j++) {
		kk = k[j];
		b = bpf_map_lookup_elem(tbl, &kk);
		if (!b)
			return -1;
		for (__u32 w = 0; w < ALLOC_WAYS; w++) {
			__u64 nz;

			a = b->addr[w];
			if (a == match)
				return ((long)kk * ALLOC_WAYS + w) | tag;
			/* nz = a | -a: its top bit is a != 0. In asm, or clang
			 * makes it a branch, and the verifier then follows
			 * every count of free slots apart. */
			nz = -a;
			asm volatile("%[nz] |= %[a]" : [nz] "+r"(nz) : [a] "r"(a));
			nfree[j] += (nz >> 63) ^ 1;
		}
	}
	if (!claim)
		return -1;
	pick = (nfree[0] - nfree[1]) >> 63;	/* 1: the second has more free */
	for (int pass = 0; pass < 2; pass++) {
		kk = k[(pick ^ pass) & 1];
		b = bpf_map_lookup_elem(tbl, &kk);
		if (!b)
			return -1;
		for (__u32 w = 0; w < ALLOC_WAYS; w++) {
			if (b->addr[w] == 0 &&
			    __sync_val_compare_and_swap(&b->addr[w], 0, addr) == 0)
				return ((long)kk * ALLOC_WAYS + w) | ALLOC_SLOT_NEW | tag;
		}
	}
	return -1;
}

/*
 * The bucket holding slot (from alloc_slot(which, ...)), in the table the
 * slot was found in: table which, or, when userspace has replaced it
 * since, the other one (a NEW table just replaced is OLD until its records
 * are moved, and the move waits for a claimed slot to be complete). NULL
 * when that table is gone.
 */
static __always_inline struct alloc_bucket *alloc_bucket_of(__u32 which, long slot)
{
	__u32 k = (__u32)(slot & 0xffffffffLL) / ALLOC_WAYS, nb;
	__u64 want = ((__u64)slot >> ALLOC_SLOT_TAG_SHIFT) & ALLOC_SLOT_TAG_MASK, tag = 0;
	void *tbl = alloc_tbl(which, &nb, &tag);

	if (!tbl || tag != want) {
		tbl = alloc_tbl(which ^ 1, &nb, &tag);
		if (!tbl || tag != want)
			return NULL;
	}
	return bpf_map_lookup_elem(tbl, &k);
}

/* The record in slot of table which, NULL if out of range. */
static __always_inline struct alloc_info *alloc_rec(__u32 which, long slot)
{
	struct alloc_bucket *b;

	if (slot < 0)
		return NULL;
	b = alloc_bucket_of(which, slot);
	if (!b)
		return NULL;
	return &b->info[slot & (ALLOC_WAYS - 1)];
}

/*
 * Copy the record of live allocation addr (in OLD, NEW, or a shadow in
 * NEW) into *out. Returns 1, or 0 when addr is untracked. A global
 * function: verified once, so its paths do not multiply its callers'.
 */
__noinline int alloc_lookup(__u64 addr, struct alloc_info *out)
{
	struct alloc_info *rec = NULL;

	if (!out)
		return 0;
	if (alloc_moving())
		rec = alloc_rec(ALLOC_TBL_OLD, alloc_slot(ALLOC_TBL_OLD, addr, addr, 0));
	if (!rec)
		rec = alloc_rec(ALLOC_TBL_NEW, alloc_slot(ALLOC_TBL_NEW, addr, addr, 0));
	if (!rec && alloc_moving())
		rec = alloc_rec(ALLOC_TBL_NEW,
				alloc_slot(ALLOC_TBL_NEW, addr, addr | ALLOC_SHADOW, 0));
	if (!rec)
		return 0;
	*out = *rec;
	return 1;
}

/* ---- allocations ----------------------------------------------------- */

static __always_inline void release_record(const struct alloc_info *info)
{
	agg_release(info->stack_id, info->kind, info->est_bytes,
		    alloc_est_count(info->size, info->est_bytes, info->weight), info->ts, true);
}

/*
 * Release the record in slot (of table which) whose addr reads match: swap
 * addr to ALLOC_BUSY, take the record, free the slot, release the record's
 * totals. Only if it was made at ts only_ts, when that is non-zero.
 * Returns 1 when released, 2 when the record is not of only_ts, 0 when the
 * slot no longer reads match (released or moved meanwhile). A global
 * function: verified once, whatever calls it.
 */
__noinline int release_slot(__u32 which, long slot, __u64 match, __u64 only_ts)
{
	struct alloc_bucket *b = slot < 0 ? NULL : alloc_bucket_of(which, slot);
	__u32 w = slot & (ALLOC_WAYS - 1);
	struct alloc_info info, *rec;

	if (!b)
		return 0;
	rec = &b->info[w];
	if (only_ts && rec->ts != only_ts)
		return 2;
	if (__sync_val_compare_and_swap(&b->addr[w], match, ALLOC_BUSY) != match)
		return 0;
	info = *rec;
	*(volatile __u64 *)&rec->ts = 0;
	barrier();
	*(volatile __u64 *)&b->addr[w] = 0;	/* the slot is free again */
	release_record(&info);
	alloc_records_add(1);
	return 1;
}

/*
 * While a table moves: release what is left of addr's previous record
 * (its free was not seen), in OLD or as a shadow in NEW. A record moved
 * meanwhile is met in NEW by alloc_store() itself.
 */
static __always_inline void release_moving(__u64 addr)
{
	if (release_slot(ALLOC_TBL_OLD, alloc_slot(ALLOC_TBL_OLD, addr, addr, 0), addr, 0))
		return;
	release_slot(ALLOC_TBL_NEW, alloc_slot(ALLOC_TBL_NEW, addr, addr | ALLOC_SHADOW, 0),
		     addr | ALLOC_SHADOW, 0);
}

/*
 * Record info (size, kind, stack, weight, ts set) as the live allocation
 * at addr (in NEW) and add it to its stack's totals; a record still there
 * for addr (its free was not seen) is released first. Returns 1, or 0
 * when the table is full (counted). A global function (verified once).
 */
__noinline int alloc_store(__u64 addr, const struct alloc_info *in)
{
	struct alloc_bucket *b;
	struct alloc_info *rec;
	long slot;

	if (!in)	/* read in place: a copy would cost the stack 48 bytes */
		return 0;

	if (alloc_moving())
		release_moving(addr);
	slot = alloc_slot(ALLOC_TBL_NEW, addr, addr, 1);
	b = slot < 0 ? NULL : alloc_bucket_of(ALLOC_TBL_NEW, slot);
	if (!b) {
		drop(DROP_ALLOCS_FULL);
		return 0;
	}
	rec = &b->info[slot & (ALLOC_WAYS - 1)];
	if (!(slot & ALLOC_SLOT_NEW)) {
		/* The address is live again: its free was not seen. */
		struct alloc_info old = *rec;

		*(volatile __u64 *)&rec->ts = 0;	/* readers: incomplete */
		barrier();
		release_record(&old);
	} else {
		alloc_records_add(0);
	}
	rec->size = in->size;
	rec->stack_id = in->stack_id;
	rec->kind = in->kind;
	rec->weight = in->weight;
	rec->est_bytes = in->est_bytes;
	barrier();
	*(volatile __u64 *)&rec->ts = in->ts;	/* last: the record is complete */
	agg_add(in->stack_id, in->kind, in->est_bytes,
		alloc_est_count(in->size, in->est_bytes, in->weight), in->ts);
	return 1;
}

/*
 * Release the record of addr; only if it was made at ts only_ts, when
 * that is non-zero (realloc: not a record of the block's reuse). Returns
 * 0 when addr is not tracked, else 1. A global function (verified once). While a table moves, the record is
 * looked for in OLD, then NEW, then as a shadow in NEW, then in NEW again
 * (published meanwhile): userspace copies before it releases, so the
 * record is always in one of them (tracer/alloc_tables.c).
 */
__noinline int record_free(__u64 addr, __u64 only_ts)
{
	bool moving = alloc_moving();
	long slot;

	if (moving &&
	    release_slot(ALLOC_TBL_OLD, alloc_slot(ALLOC_TBL_OLD, addr, addr, 0), addr, only_ts))
		return true;
	slot = alloc_slot(ALLOC_TBL_NEW, addr, addr, 0);
	if (slot >= 0) {
		release_slot(ALLOC_TBL_NEW, slot, addr, only_ts);	/* 0: another CPU did */
		return true;
	}
	if (!moving)
		return false;
	if (release_slot(ALLOC_TBL_NEW, alloc_slot(ALLOC_TBL_NEW, addr, addr | ALLOC_SHADOW, 0),
			 addr | ALLOC_SHADOW, only_ts))
		return true;
	slot = alloc_slot(ALLOC_TBL_NEW, addr, addr, 0);
	if (slot < 0)
		return false;
	release_slot(ALLOC_TBL_NEW, slot, addr, only_ts);
	return true;
}

#endif /* MEMTRACE_ALLOC_TABLE_BPF_H */

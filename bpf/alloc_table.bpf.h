/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * alloc_table.bpf.h - the table of live allocations, `allocs`: a two-choice
 * bucket table over an mmapable array (find, store, release by address).
 * Shared by memtrace.bpf.c (user allocations) and kmem.bpf.c (kernel
 * allocations); each declares the `allocs` map (tables.bpf.h), alloc_nb,
 * drop() and the aggs (aggs.bpf.h) before including it.
 */
#ifndef MEMTRACE_ALLOC_TABLE_BPF_H
#define MEMTRACE_ALLOC_TABLE_BPF_H

/* ---- the allocs table ------------------------------------------------ */

#define ALLOC_SLOT_NEW	(1LL << 40)	/* alloc_slot(): claimed just now */
#define barrier()	asm volatile("" ::: "memory")

/*
 * The slot (bucket * ALLOC_WAYS + way) of addr in allocs, or -1 when it is
 * absent. claim: when absent, claim a free slot for addr (in the bucket of
 * the two with more free slots) and return it | ALLOC_SLOT_NEW; -1 when
 * both buckets are full. A claimed slot's record is the caller's to fill.
 */
__noinline long alloc_slot(__u64 addr, int claim)
{
	__u32 k[2], kk;
	struct alloc_bucket *b;
	__u64 a, nfree[2] = {}, pick;

	if (addr <= ALLOC_BUSY)
		return -1;
	alloc_buckets(addr, alloc_nb, &k[0], &k[1]);
	/* Written for the verifier: one bucket pointer per outer pass and no
	 * branch but the ones that return, so every pass verifies alike. */
	for (int j = 0; j < 2; j++) {
		kk = k[j];
		b = bpf_map_lookup_elem(&allocs, &kk);
		if (!b)
			return -1;
		for (__u32 w = 0; w < ALLOC_WAYS; w++) {
			__u64 nz;

			a = b->addr[w];
			if (a == addr)
				return (long)kk * ALLOC_WAYS + w;
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
		b = bpf_map_lookup_elem(&allocs, &kk);
		if (!b)
			return -1;
		for (__u32 w = 0; w < ALLOC_WAYS; w++) {
			if (b->addr[w] == 0 &&
			    __sync_val_compare_and_swap(&b->addr[w], 0, addr) == 0)
				return ((long)kk * ALLOC_WAYS + w) | ALLOC_SLOT_NEW;
		}
	}
	return -1;
}

/* The bucket holding slot (from alloc_slot()), NULL if out of range. */
static __always_inline struct alloc_bucket *alloc_bucket_of(long slot)
{
	__u32 k = (__u32)(slot & 0xffffffffLL) / ALLOC_WAYS;

	return bpf_map_lookup_elem(&allocs, &k);
}

/* The record of live allocation addr, NULL if untracked. */
static __always_inline struct alloc_info *alloc_find(__u64 addr)
{
	long slot = alloc_slot(addr, 0);
	struct alloc_bucket *b;

	if (slot < 0)
		return NULL;
	b = alloc_bucket_of(slot);
	return b ? &b->info[slot & (ALLOC_WAYS - 1)] : NULL;
}

/* ---- allocations ----------------------------------------------------- */

static __always_inline void release_record(const struct alloc_info *info)
{
	agg_release(info->stack_id, info->kind, info->est_bytes, info->est_count,
		    info->ts, true);
}

/*
 * Record info (size, kind, stack, weight, ts set) as the live allocation
 * at addr and add it to its stack's totals; a record still there for addr
 * (its free was not seen) is released first. Counted when the table is full.
 */
static __always_inline void alloc_store(__u64 addr, const struct alloc_info *in)
{
	struct alloc_info info = *in;
	struct alloc_bucket *b;
	struct alloc_info *rec;
	long slot;

	slot = alloc_slot(addr, 1);
	b = slot < 0 ? NULL : alloc_bucket_of(slot);
	if (!b) {
		drop(DROP_ALLOCS_FULL);
		return;
	}
	rec = &b->info[slot & (ALLOC_WAYS - 1)];
	if (!(slot & ALLOC_SLOT_NEW)) {
		/* The address is live again: its free was not seen. */
		struct alloc_info old = *rec;

		*(volatile __u64 *)&rec->ts = 0;	/* readers: incomplete */
		barrier();
		release_record(&old);
	}
	rec->size = info.size;
	rec->stack_id = info.stack_id;
	rec->kind = info.kind;
	rec->flags = 0;
	rec->est_bytes = info.est_bytes;
	rec->est_count = info.est_count;
	barrier();
	*(volatile __u64 *)&rec->ts = info.ts;	/* last: the record is complete */
	agg_add(info.stack_id, info.kind, info.est_bytes, info.est_count, info.ts);
}

/*
 * Release the record of addr; only if it was made at ts only_ts, when
 * that is non-zero (realloc: not a record of the block's reuse). Returns
 * false when addr is not tracked.
 */
static __always_inline bool record_free(__u64 addr, __u64 only_ts)
{
	long slot = alloc_slot(addr, 0);
	struct alloc_bucket *b = slot < 0 ? NULL : alloc_bucket_of(slot);
	struct alloc_info info, *rec;
	__u32 w = slot & (ALLOC_WAYS - 1);

	if (!b)
		return false;
	rec = &b->info[w];
	if (only_ts && rec->ts != only_ts)
		return true;
	if (__sync_val_compare_and_swap(&b->addr[w], addr, ALLOC_BUSY) != addr)
		return true;	/* another CPU released it */
	info = *rec;
	*(volatile __u64 *)&rec->ts = 0;
	barrier();
	*(volatile __u64 *)&b->addr[w] = 0;	/* the slot is free again */
	release_record(&info);
	return true;
}

#endif /* MEMTRACE_ALLOC_TABLE_BPF_H */

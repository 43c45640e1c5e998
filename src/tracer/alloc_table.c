// SPDX-License-Identifier: MIT
/*
 * alloc_table.c - read one allocs table through a shared mapping, move
 * its records into another (growth); put and delete records through map
 * syscalls (tests, tools).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "tracer/alloc_table.h"
#include "tracer/map_mmap.h"

struct alloc_table {
	struct map_mmap m;	/* buckets of struct alloc_bucket */
};

struct alloc_table *alloc_table__open(int fd, bool writable)
{
	struct alloc_table *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return NULL;
	err = map_mmap__open(fd, sizeof(struct alloc_bucket), 2, writable, &t->m);
	if (err) {
		free(t);
		errno = -err;
		return NULL;
	}
	return t;
}

size_t alloc_table__buckets(const struct alloc_table *t)
{
	return t->m.entries;
}

/*
 * Copy slot w of b into *out if it holds a complete record (the protocol
 * above struct alloc_bucket): addr and ts read (acquire) before the other
 * fields and again after them. Returns the address, or 0 for a free,
 * released, unfinished or changing slot.
 */
static __u64 read_slot(const struct alloc_bucket *b, int w, struct alloc_info *out)
{
	const struct alloc_info *src = &b->info[w];
	__u64 addr, ts;

	addr = __atomic_load_n(&b->addr[w], __ATOMIC_ACQUIRE);
	if (addr <= ALLOC_BUSY)
		return 0;
	ts = __atomic_load_n(&src->ts, __ATOMIC_ACQUIRE);
	if (!ts)
		return 0;
	out->size = __atomic_load_n(&src->size, __ATOMIC_RELAXED);
	out->stack_id = __atomic_load_n(&src->stack_id, __ATOMIC_RELAXED);
	out->kind = __atomic_load_n(&src->kind, __ATOMIC_RELAXED);
	out->weight = __atomic_load_n(&src->weight, __ATOMIC_RELAXED);
	out->est_bytes = __atomic_load_n(&src->est_bytes, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);	/* the fields, then the checks */
	if (__atomic_load_n(&src->ts, __ATOMIC_RELAXED) != ts ||
	    __atomic_load_n(&b->addr[w], __ATOMIC_RELAXED) != addr)
		return 0;
	out->ts = ts;
	return addr;
}

int alloc_table__walk(const struct alloc_table *t, alloc_table_fn fn, void *arg)
{
	struct alloc_info rec;

	const struct alloc_bucket *bucket = t->m.mem;

	for (size_t i = 0; i < t->m.entries; i++) {
		const struct alloc_bucket *b = &bucket[i];

		for (int w = 0; w < ALLOC_WAYS; w++) {
			__u64 addr = read_slot(b, w, &rec);
			int ret;

			if (!addr)
				continue;
			ret = fn(arg, addr, &rec);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* Claim a free slot for a shadow of addr in to (the bucket of its two
 * with more free slots): its way in *bucket, or -1 when both are full. */
static int claim_shadow(struct alloc_table *to, __u64 addr, struct alloc_bucket **bucket)
{
	struct alloc_bucket *nb = to->m.mem;
	int nfree[2] = { 0, 0 };
	__u32 k[2];

	alloc_buckets(addr, (__u32)to->m.entries, &k[0], &k[1]);
	for (int i = 0; i < 2; i++)
		for (int w = 0; w < ALLOC_WAYS; w++)
			nfree[i] += __atomic_load_n(&nb[k[i]].addr[w], __ATOMIC_RELAXED) == 0;
	for (int pass = 0; pass < 2; pass++) {
		struct alloc_bucket *b = &nb[k[(nfree[1] > nfree[0]) ^ pass]];

		for (int w = 0; w < ALLOC_WAYS; w++) {
			__u64 zero = 0;

			if (__atomic_compare_exchange_n(&b->addr[w], &zero, addr | ALLOC_SHADOW, false,
							__ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
				*bucket = b;
				return w;
			}
		}
	}
	return -1;
}

/* Free slot w of b, which reads expect: ts first (readers: incomplete). */
static bool free_slot(struct alloc_bucket *b, int w, __u64 expect)
{
	__u64 busy = expect;

	if (!__atomic_compare_exchange_n(&b->addr[w], &busy, ALLOC_BUSY, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_RELAXED))
		return false;
	__atomic_store_n(&b->info[w].ts, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&b->addr[w], 0, __ATOMIC_SEQ_CST);
	return true;
}

/*
 * Move slot w of ob (addr a, record rec) into to: copy as a shadow, then
 * release the old slot (the commit: if a BPF program released the record
 * first, drop the shadow), then publish the shadow as a. Each step is one
 * compare-and-swap against the BPF programs' own (alloc_table.bpf.h).
 */
static int move_slot(struct alloc_bucket *ob, int w, __u64 a, const struct alloc_info *rec,
		     struct alloc_table *to)
{
	struct alloc_bucket *nb;
	struct alloc_info *dst;
	__u64 shadow = a | ALLOC_SHADOW;
	int nw = claim_shadow(to, a, &nb);

	if (nw < 0)
		return -ENOSPC;
	dst = &nb->info[nw];
	dst->size = rec->size;
	dst->stack_id = rec->stack_id;
	dst->kind = rec->kind;
	dst->weight = rec->weight;
	dst->est_bytes = rec->est_bytes;
	__atomic_store_n(&dst->ts, rec->ts, __ATOMIC_SEQ_CST);	/* last: complete */
	if (!free_slot(ob, w, a)) {	/* released by a free meanwhile */
		free_slot(nb, nw, shadow);
		return 0;
	}
	/* Fails only when a BPF program released the shadow: done too. */
	__atomic_compare_exchange_n(&nb->addr[nw], &shadow, a, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_RELAXED);
	return 1;
}

int alloc_table__move(struct alloc_table *from, struct alloc_table *to, size_t *moved)
{
	struct alloc_bucket *bucket = from->m.mem;
	struct alloc_info rec;
	bool again = true;

	*moved = 0;
	if (!to->m.writable || !from->m.writable)
		return -EINVAL;
	/* Only releases run in from (records are made in to): a slot being
	 * released is free soon, so a few passes leave nothing. */
	for (int pass = 0; again && pass < 1000; pass++) {
		again = false;
		for (size_t i = 0; i < from->m.entries; i++) {
			for (int w = 0; w < ALLOC_WAYS; w++) {
				__u64 a = __atomic_load_n(&bucket[i].addr[w], __ATOMIC_ACQUIRE);
				int r;

				if (!a)
					continue;
				if (a == ALLOC_BUSY || (a & ALLOC_SHADOW) ||
				    read_slot(&bucket[i], w, &rec) != a) {
					again = true;	/* being released */
					continue;
				}
				r = move_slot(&bucket[i], w, a, &rec, to);
				if (r < 0)
					return r;
				*moved += (size_t)r;
			}
		}
		if (again)
			sched_yield();
	}
	return again ? -EBUSY : 0;
}

void alloc_table__close(struct alloc_table *t)
{
	if (!t)
		return;
	map_mmap__close(&t->m);
	free(t);
}

/* Read addr's two buckets into b[2] (keys into k[2]) and find it: sets
 * *where to bucket * ALLOC_WAYS + way, or -1. Returns 0 or -errno. */
static int find(int fd, __u64 addr, __u32 k[2], struct alloc_bucket b[2], long *where)
{
	long buckets;

	if (addr <= ALLOC_BUSY)
		return -EINVAL;
	buckets = map_mmap__check(fd, sizeof(struct alloc_bucket), 2);
	if (buckets < 0)
		return (int)buckets;
	alloc_buckets(addr, (__u32)buckets, &k[0], &k[1]);
	*where = -1;
	for (int i = 0; i < 2; i++) {
		if (bpf_map_lookup_elem(fd, &k[i], &b[i]))
			return -errno;
		for (int w = 0; w < ALLOC_WAYS && *where < 0; w++)
			if (b[i].addr[w] == addr)
				*where = i * ALLOC_WAYS + w;
	}
	return 0;
}

static int free_slots(const struct alloc_bucket *b)
{
	int n = 0;

	for (int w = 0; w < ALLOC_WAYS; w++)
		n += b->addr[w] == 0;
	return n;
}

int alloc_table__put(int fd, __u64 addr, const struct alloc_info *a)
{
	struct alloc_bucket b[2];
	long where;
	__u32 k[2];
	int err, i;

	err = find(fd, addr, k, b, &where);
	if (err)
		return err;
	if (where < 0) {
		/* Like memtrace.bpf.c's alloc_slot(): the bucket with more
		 * free slots (the first on a tie), its first free slot. */
		int first = free_slots(&b[1]) > free_slots(&b[0]);

		for (int pass = 0; pass < 2 && where < 0; pass++) {
			i = first ^ pass;
			for (int w = 0; w < ALLOC_WAYS && where < 0; w++)
				if (!b[i].addr[w])
					where = i * ALLOC_WAYS + w;
		}
		if (where < 0)
			return -ENOSPC;
	}
	i = (int)(where / ALLOC_WAYS);
	b[i].addr[where % ALLOC_WAYS] = addr;
	b[i].info[where % ALLOC_WAYS] = *a;
	return bpf_map_update_elem(fd, &k[i], &b[i], BPF_ANY) ? -errno : 0;
}

int alloc_table__delete(int fd, __u64 addr)
{
	struct alloc_bucket b[2];
	long where;
	__u32 k[2];
	int err, i;

	err = find(fd, addr, k, b, &where);
	if (err)
		return err;
	if (where < 0)
		return -ENOENT;
	i = (int)(where / ALLOC_WAYS);
	b[i].addr[where % ALLOC_WAYS] = 0;
	memset(&b[i].info[where % ALLOC_WAYS], 0, sizeof(struct alloc_info));
	return bpf_map_update_elem(fd, &k[i], &b[i], BPF_ANY) ? -errno : 0;
}

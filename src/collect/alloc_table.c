// SPDX-License-Identifier: MIT
/*
 * alloc_table.c - read the allocs table through a shared mapping; put and
 * delete records through map syscalls (tests, tools).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "collect/alloc_table.h"
#include "collect/map_mmap.h"

struct alloc_table {
	struct map_mmap m;	/* buckets of struct alloc_bucket */
};

struct alloc_table *alloc_table__open(int fd)
{
	struct alloc_table *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return NULL;
	err = map_mmap__open(fd, sizeof(struct alloc_bucket), 2, &t->m);
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
	out->flags = __atomic_load_n(&src->flags, __ATOMIC_RELAXED);
	out->est_bytes = __atomic_load_n(&src->est_bytes, __ATOMIC_RELAXED);
	out->est_count = __atomic_load_n(&src->est_count, __ATOMIC_RELAXED);
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

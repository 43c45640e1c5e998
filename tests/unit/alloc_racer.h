/* SPDX-License-Identifier: MIT */
/*
 * alloc_racer.h - a writer thread that claims and releases every slot of
 * one allocs bucket, on a writable mapping of the table, following the
 * BPF programs' protocol (bpf/memtrace.h): claim by compare-and-swap of
 * addr, the fields, ts last; release: addr to ALLOC_BUSY, ts 0, addr 0.
 * Record v (v = 1, 2, ...) has ts v and fields derived from v (see
 * racer_whole), so a reader that sees half a record can tell. For
 * test_alloc_table (the reader: alloc_table__walk). Header-only; include
 * once.
 */
#ifndef ALLOC_RACER_H
#define ALLOC_RACER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include "tracer/alloc_table.h"

#define RACER_ADDR	0x10000ULL	/* slot w holds RACER_ADDR + 16 w */

struct racer {
	struct alloc_bucket *table;	/* writable mapping */
	size_t len;
	__u32 bucket;			/* the bucket written */
	volatile int stop;
	uint64_t rounds;		/* times every slot was claimed and released */
	pthread_t th;
};

/* Fields of a whole record, from its ts. */
static inline bool racer_whole(__u64 addr, const struct alloc_info *a)
{
	return addr >= RACER_ADDR && addr < RACER_ADDR + ALLOC_WAYS * 16 && a->size == a->ts &&
	       a->stack_id == a->ts * 3 && a->kind == (__u32)a->ts &&
	       a->est_bytes == a->ts * 5 && a->weight == (__u32)(a->ts * 7);
}

static void *racer_loop(void *arg)
{
	struct racer *r = arg;
	struct alloc_bucket *b = &r->table[r->bucket];
	uint64_t v = 1;

	while (!r->stop) {
		for (int w = 0; w < ALLOC_WAYS; w++) {
			struct alloc_info *i = &b->info[w];
			__u64 zero = 0;

			if (!__atomic_compare_exchange_n(&b->addr[w], &zero, RACER_ADDR + w * 16,
							 false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
				continue;
			__atomic_store_n(&i->size, v, __ATOMIC_RELAXED);
			__atomic_store_n(&i->stack_id, v * 3, __ATOMIC_RELAXED);
			__atomic_store_n(&i->kind, (__u32)v, __ATOMIC_RELAXED);
			__atomic_store_n(&i->est_bytes, v * 5, __ATOMIC_RELAXED);
			__atomic_store_n(&i->weight, (__u32)(v * 7), __ATOMIC_RELAXED);
			__atomic_store_n(&i->ts, v, __ATOMIC_RELEASE);
			v++;
		}
		for (int w = 0; w < ALLOC_WAYS; w++) {
			__atomic_exchange_n(&b->addr[w], ALLOC_BUSY, __ATOMIC_SEQ_CST);
			__atomic_store_n(&b->info[w].ts, 0, __ATOMIC_RELEASE);
			__atomic_store_n(&b->addr[w], 0, __ATOMIC_RELEASE);
		}
		r->rounds++;
	}
	return NULL;
}

/* Map the allocs table fd (nb buckets) writable and start writing bucket.
 * Returns 0 or -1. */
static int racer_start(struct racer *r, int fd, __u32 nb, __u32 bucket)
{
	long page = sysconf(_SC_PAGESIZE);
	void *mem;

	r->len = ((size_t)nb * sizeof(struct alloc_bucket) + page - 1) / page * page;
	mem = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return -1;
	r->table = mem;
	r->bucket = bucket;
	r->stop = 0;
	r->rounds = 0;
	if (pthread_create(&r->th, NULL, racer_loop, r)) {
		munmap(mem, r->len);
		return -1;
	}
	return 0;
}

/* Stop the writer and unmap. */
static void racer_stop(struct racer *r)
{
	r->stop = 1;
	pthread_join(r->th, NULL);
	munmap(r->table, r->len);
}

#endif /* ALLOC_RACER_H */

// SPDX-License-Identifier: MIT
/*
 * test_alloc_table.c - the allocs table (src/collect/alloc_table.c) against real
 * mmapable BPF arrays: the bucket choice, put and find in both buckets,
 * overwrite, a full pair of buckets, delete, the reader skipping free,
 * released and unfinished slots, maps of the wrong kind, and a reader
 * racing a writer that follows the BPF programs' protocol. Needs root
 * (skips otherwise).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "alloc_racer.h"
#include "tracer/alloc_table.h"

/* An allocs map as memtrace.bpf.c has it, of nb buckets; skips without root. */
static int create_table(uint32_t nb)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);
	int fd;

	if (geteuid() != 0) {
		print_message("not root: BPF maps cannot be created\n");
		skip();
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_allocs", 4, sizeof(struct alloc_bucket), nb, &mo);
	assert_true(fd >= 0);
	return fd;
}

static struct alloc_info rec(uint64_t ts, uint64_t id)
{
	return (struct alloc_info){ .size = ts + 1, .ts = ts, .stack_id = id, .kind = KIND_CALLOC,
				    .est_bytes = ts + 2, .weight = 1 };
}

/* What a walk saw, in order. */
struct seen {
	size_t n;
	uint64_t addr[64];
	struct alloc_info info[64];
	size_t stop_at;		/* return 1 after this many (0: never) */
};

static int collect(void *arg, __u64 addr, const struct alloc_info *a)
{
	struct seen *s = arg;

	assert_true(s->n < 64);
	s->addr[s->n] = addr;
	s->info[s->n++] = *a;
	return s->stop_at && s->n == s->stop_at ? 1 : 0;
}

/* The walk's record of addr, NULL if it saw none (and at most one). */
static const struct alloc_info *seen_of(const struct seen *s, uint64_t addr)
{
	const struct alloc_info *found = NULL;

	for (size_t i = 0; i < s->n; i++) {
		if (s->addr[i] != addr)
			continue;
		assert_null(found);
		found = &s->info[i];
	}
	return found;
}

static void walk(int fd, struct seen *s)
{
	struct alloc_table *t = alloc_table__open(fd, false);

	assert_non_null(t);
	memset(s, 0, sizeof(*s));
	assert_int_equal(alloc_table__walk(t, collect, s), 0);
	alloc_table__close(t);
}

/* The bucket (0 or 1 of its two) that holds addr, -1 if neither. */
static int where(int fd, uint32_t nb, uint64_t addr)
{
	struct alloc_bucket b;
	__u32 k[2];

	alloc_buckets(addr, nb, &k[0], &k[1]);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(bpf_map_lookup_elem(fd, &k[i], &b), 0);
		for (int w = 0; w < ALLOC_WAYS; w++)
			if (b.addr[w] == addr)
				return i;
	}
	return -1;
}

/* n addresses from start (step 16) whose two buckets are {x, y} (any order). */
static void colliding(uint32_t nb, uint64_t start, uint32_t x, uint32_t y, uint64_t *out,
		      size_t n)
{
	size_t got = 0;

	for (uint64_t a = start; got < n; a += 16) {
		__u32 b1, b2;

		assert_true(a < start + (16ULL << 24));		/* found in reasonable time */
		alloc_buckets(a, nb, &b1, &b2);
		if ((b1 == x && b2 == y) || (b1 == y && b2 == x))
			out[got++] = a;
	}
}

static void test_buckets(void **state)
{
	static const uint32_t nbs[] = { 2, 3, 7, 10, 1000, 163840, 1u << 31 };
	uint64_t seed = 88172645463325252ULL;

	(void)state;
	assert_int_equal(alloc_bucket_count(0), 2);
	assert_int_equal(alloc_bucket_count(1), 2);
	assert_int_equal(alloc_bucket_count(64), 12);	/* 96 slots for 64 */
	assert_int_equal(alloc_bucket_count(1 << 20), 196608);
	for (size_t i = 0; i < sizeof(nbs) / sizeof(nbs[0]); i++) {
		uint32_t nb = nbs[i];

		for (int j = 0; j < 100000; j++) {
			uint64_t addr;
			__u32 b1, b2;

			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			/* half random, half malloc-like (aligned, clustered) */
			addr = j % 2 ? seed : 0x555555554000ULL + (uint64_t)j * 16;
			alloc_buckets(addr, nb, &b1, &b2);
			assert_true(b1 < nb);
			assert_true(b2 < nb);
			assert_true(b1 != b2);
		}
	}
}

/* Puts land in one of the address's buckets, both buckets are used, and a
 * walk finds every record once with its fields. */
static void test_put_find(void **state)
{
	uint32_t nb = alloc_bucket_count(64);	/* 10 buckets */
	int fd = create_table(nb);
	uint64_t addr[12];
	int in[2] = { 0, 0 };
	struct seen s;

	(void)state;
	colliding(nb, 0x10000, 3, 7, addr, 12);
	for (int i = 0; i < 12; i++) {
		struct alloc_info a = rec(1000 + i, i);

		assert_int_equal(alloc_table__put(fd, addr[i], &a), 0);
	}
	for (int i = 0; i < 12; i++) {
		int w = where(fd, nb, addr[i]);

		assert_true(w >= 0);
		in[w]++;
	}
	assert_true(in[0] > 0 && in[1] > 0);	/* both buckets of the pair used */
	walk(fd, &s);
	assert_int_equal(s.n, 12);
	for (int i = 0; i < 12; i++) {
		const struct alloc_info *a = seen_of(&s, addr[i]);
		struct alloc_info want = rec(1000 + i, i);

		assert_non_null(a);
		assert_memory_equal(a, &want, sizeof(want));
	}
	/* a walk stops at the first non-zero return and returns it */
	{
		struct alloc_table *t = alloc_table__open(fd, false);

		assert_non_null(t);
		assert_int_equal(alloc_table__buckets(t), nb);
		memset(&s, 0, sizeof(s));
		s.stop_at = 5;
		assert_int_equal(alloc_table__walk(t, collect, &s), 1);
		assert_int_equal(s.n, 5);
		alloc_table__close(t);
	}
	close(fd);
}

/* A put of a present address replaces its record in place. */
static void test_overwrite(void **state)
{
	uint32_t nb = alloc_bucket_count(64);
	int fd = create_table(nb);
	struct alloc_info a = rec(5, 1), b = rec(9, 2);
	struct seen s;
	int w;

	(void)state;
	assert_int_equal(alloc_table__put(fd, 0x7000, &a), 0);
	assert_int_equal(alloc_table__put(fd, 0x7010, &a), 0);
	w = where(fd, nb, 0x7000);
	assert_int_equal(alloc_table__put(fd, 0x7000, &b), 0);
	assert_int_equal(where(fd, nb, 0x7000), w);
	walk(fd, &s);
	assert_int_equal(s.n, 2);
	assert_memory_equal(seen_of(&s, 0x7000), &b, sizeof(b));
	assert_memory_equal(seen_of(&s, 0x7010), &a, sizeof(a));
	close(fd);
}

/* Both buckets full: -ENOSPC, nothing changed; a present address is still
 * overwritten; a delete makes room. */
static void test_full(void **state)
{
	uint32_t nb = alloc_bucket_count(64);
	int fd = create_table(nb);
	uint64_t addr[2 * ALLOC_WAYS + 1], other[1];
	struct alloc_info a = rec(7, 3), b = rec(8, 4);
	struct seen s;

	(void)state;
	colliding(nb, 0x20000, 2, 5, addr, 2 * ALLOC_WAYS + 1);
	for (int i = 0; i < 2 * ALLOC_WAYS; i++)
		assert_int_equal(alloc_table__put(fd, addr[i], &a), 0);
	assert_int_equal(alloc_table__put(fd, addr[2 * ALLOC_WAYS], &a), -ENOSPC);
	assert_int_equal(where(fd, nb, addr[2 * ALLOC_WAYS]), -1);
	assert_int_equal(alloc_table__put(fd, addr[3], &b), 0);		/* overwrite */
	/* an address with other buckets still fits */
	colliding(nb, 0x20000, 4, 6, other, 1);
	assert_int_equal(alloc_table__put(fd, other[0], &a), 0);
	walk(fd, &s);
	assert_int_equal(s.n, 2 * ALLOC_WAYS + 1);
	assert_memory_equal(seen_of(&s, addr[3]), &b, sizeof(b));
	/* delete one: the last fits, the deleted one is gone */
	assert_int_equal(alloc_table__delete(fd, addr[0]), 0);
	assert_int_equal(alloc_table__delete(fd, addr[0]), -ENOENT);
	assert_int_equal(alloc_table__put(fd, addr[2 * ALLOC_WAYS], &a), 0);
	walk(fd, &s);
	assert_int_equal(s.n, 2 * ALLOC_WAYS + 1);
	assert_null(seen_of(&s, addr[0]));
	assert_non_null(seen_of(&s, addr[2 * ALLOC_WAYS]));
	close(fd);
}

/* The smallest table: two buckets, every address in both. */
static void test_two_buckets(void **state)
{
	int fd = create_table(2);
	struct alloc_info a = rec(1, 1);
	struct seen s;

	(void)state;
	for (uint64_t i = 0; i < 2 * ALLOC_WAYS; i++)
		assert_int_equal(alloc_table__put(fd, 0x1000 + i * 8, &a), 0);
	assert_int_equal(alloc_table__put(fd, 0x9000, &a), -ENOSPC);
	walk(fd, &s);
	assert_int_equal(s.n, 2 * ALLOC_WAYS);
	close(fd);
}

/* Slots written by hand: only complete records are walked. */
static void test_reader_skips(void **state)
{
	int fd = create_table(4);
	struct alloc_bucket b = { 0 };
	struct alloc_info live = rec(42, 9);
	struct alloc_table *t = alloc_table__open(fd, false);
	struct seen s;
	__u32 k = 1;

	(void)state;
	assert_non_null(t);
	b.addr[0] = 0x1000;			/* complete */
	b.info[0] = live;
	b.addr[1] = ALLOC_BUSY;			/* being released */
	b.info[1] = rec(43, 9);
	b.addr[2] = 0x2000;			/* claimed, not written yet */
	b.info[2] = rec(0, 9);
	b.addr[3] = 0;				/* free, stale record */
	b.info[3] = rec(44, 9);
	b.addr[7] = 0x3000;			/* complete, in the last way */
	b.info[7] = live;
	assert_int_equal(bpf_map_update_elem(fd, &k, &b, BPF_ANY), 0);
	/* the mapping sees updates made after it was opened */
	memset(&s, 0, sizeof(s));
	assert_int_equal(alloc_table__walk(t, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_memory_equal(seen_of(&s, 0x1000), &live, sizeof(live));
	assert_memory_equal(seen_of(&s, 0x3000), &live, sizeof(live));
	alloc_table__close(t);
	close(fd);
}

/* Maps that are not an allocs table, and addresses that cannot be keys. */
static void test_errors(void **state)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);
	struct alloc_info a = rec(1, 1);
	int table = create_table(4);
	int hash = bpf_map_create(BPF_MAP_TYPE_HASH, "t_hash", 8, sizeof(struct alloc_info),
				  16, NULL);
	int plain = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_plain", 4,
				   sizeof(struct alloc_bucket), 4, NULL);
	int small = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_small", 4, sizeof(struct alloc_info),
				   4, &mo);

	(void)state;
	assert_true(hash >= 0 && plain >= 0 && small >= 0);
	errno = 0;
	assert_null(alloc_table__open(hash, false));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(alloc_table__open(plain, false));		/* not mmapable */
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(alloc_table__open(small, false));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(alloc_table__open(-1, false));
	assert_true(errno > 0);
	assert_int_equal(alloc_table__put(hash, 0x1000, &a), -EINVAL);
	assert_int_equal(alloc_table__put(table, 0, &a), -EINVAL);
	assert_int_equal(alloc_table__put(table, ALLOC_BUSY, &a), -EINVAL);
	assert_int_equal(alloc_table__delete(table, 0), -EINVAL);
	assert_int_equal(alloc_table__delete(table, 0x1000), -ENOENT);
	alloc_table__close(NULL);
	close(small);
	close(plain);
	close(hash);
	close(table);
}

/* A reader walking while a writer claims and releases every slot of a
 * bucket (alloc_racer.h): every record it gets is whole. */
static int check_whole(void *arg, __u64 addr, const struct alloc_info *a)
{
	uint64_t *n = arg;

	assert_true(racer_whole(addr, a));
	(*n)++;
	return 0;
}

/* A record's estimated count, derived (not stored): exact, byte-sampled,
 * 1-in-N sampled (kernel), and records of no bytes. */
static void test_est_count(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct alloc_info), 40);
	assert_int_equal(alloc_est_count(100, 100, 1), WEIGHT_ONE);
	assert_int_equal(alloc_est_count(0, 0, 1), WEIGHT_ONE);
	/* -s 524288: two sample points on a 1,000-byte block */
	assert_int_equal(alloc_est_count(1000, 2 * 524288, 1), 2ULL * 524288 * WEIGHT_ONE / 1000);
	/* a 1-byte block standing for 16 sample points: no overflow */
	assert_int_equal(alloc_est_count(1, 16ULL * 524288, 1), 16ULL * 524288 * WEIGHT_ONE);
	/* --kernel-sample 64: bytes x 64, count x 64, with or without bytes */
	assert_int_equal(alloc_est_count(192, 192 * 64, 64), 64 * WEIGHT_ONE);
	assert_int_equal(alloc_est_count(0, 0, 64), 64 * WEIGHT_ONE);
}

static void test_race(void **state)
{
	int fd = create_table(2);
	struct alloc_table *t = alloc_table__open(fd, false);
	struct racer r = { 0 };
	struct timespec t0, t1;
	uint64_t seen = 0, walks = 0;

	(void)state;
	assert_non_null(t);
	assert_int_equal(racer_start(&r, fd, 2, 1), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		assert_int_equal(alloc_table__walk(t, check_whole, &seen), 0);
		walks++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 300000000L);
	racer_stop(&r);
	print_message("%llu walks, %llu records, %llu writer rounds\n",
		      (unsigned long long)walks, (unsigned long long)seen,
		      (unsigned long long)r.rounds);
	assert_true(seen > 0);
	alloc_table__close(t);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_put_find),
		cmocka_unit_test(test_overwrite),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_two_buckets),
		cmocka_unit_test(test_reader_skips),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_est_count),
		cmocka_unit_test(test_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

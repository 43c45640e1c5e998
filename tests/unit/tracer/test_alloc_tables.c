// SPDX-License-Identifier: MIT
/*
 * test_alloc_tables.c - growing the live allocations table
 * (src/tracer/alloc_tables.c, alloc_table__move) against real BPF maps:
 * a grow keeps every record and leaves no old table in the allocs map; a
 * move racing a thread that frees records the way the BPF programs do
 * (bpf/alloc_table.bpf.h: the old table first, then the new, its shadow,
 * the new again) releases each record exactly once and loses none. Needs
 * root (skips otherwise).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tracer/alloc_tables.h"

#define N	3000		/* records */
#define ADDR(i)	(0x7f0000001000ULL + (uint64_t)(i) * 64)

static void need_root(void)
{
	if (geteuid() != 0) {
		print_message("not root: BPF maps cannot be created\n");
		skip();
	}
}

static int create_table(uint32_t nb)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_table", 4, sizeof(struct alloc_bucket), nb,
				&mo);

	assert_true(fd >= 0);
	return fd;
}

static struct alloc_info rec(uint64_t i)
{
	return (struct alloc_info){ .size = 16 + i, .ts = 1000 + i, .stack_id = i * 7 + 1,
				    .kind = KIND_MALLOC, .est_bytes = 16 + i,
				    .weight = 1 };
}

struct seen {
	unsigned char count[N];
	size_t n, bad;
};

static int note(void *arg, __u64 addr, const struct alloc_info *a)
{
	struct seen *s = arg;
	uint64_t i = (addr - ADDR(0)) / 64;
	struct alloc_info want = rec(i);

	s->n++;
	if (i >= N || memcmp(&want, a, sizeof(want)))
		s->bad++;
	else
		s->count[i]++;
	return 0;
}

static void test_grow_keeps_every_record(void **state)
{
	LIBBPF_OPTS(bpf_map_create_opts, oo);
	struct alloc_tables_usage u;
	struct alloc_tables *t;
	struct seen s = { 0 };
	int inner, outer, recs;
	__u32 k = ALLOC_TBL_OLD, id;

	(void)state;
	need_root();
	inner = create_table(2);
	oo.inner_map_fd = inner;
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "t_outer", 4, 4, ALLOC_TBL_MAX, &oo);
	recs = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "t_recs", 4, 8, 2, NULL);
	assert_true(outer >= 0 && recs >= 0);
	t = alloc_tables__new(outer, recs, 100000);
	assert_non_null(t);
	alloc_tables__usage(t, &u);
	assert_int_equal(u.capacity, ALLOC_TABLES_START_BUCKETS * ALLOC_WAYS);
	assert_int_equal(u.max_capacity, (uint64_t)alloc_bucket_count(100000) * ALLOC_WAYS);
	for (int i = 0; i < N; i++) {
		struct alloc_info a = rec((uint64_t)i);

		assert_int_equal(alloc_table__put(alloc_tables__fd(t), ADDR(i), &a), 0);
	}
	assert_int_equal(alloc_tables__grow(t, ALLOC_TABLES_START_BUCKETS), -EINVAL);
	assert_int_equal(alloc_tables__grow(t, alloc_bucket_count(100000) + 1), -EINVAL);
	assert_int_equal(alloc_tables__grow(t, ALLOC_TABLES_START_BUCKETS * 3 / 2), 0);
	alloc_tables__usage(t, &u);
	assert_int_equal(u.grows, 1);
	assert_int_equal(u.moved, N);
	assert_int_equal(u.capacity, ALLOC_TABLES_START_BUCKETS * 3 / 2 * ALLOC_WAYS);
	assert_true(u.bytes >= (uint64_t)ALLOC_TABLES_START_BUCKETS * 3 / 2 *
		    sizeof(struct alloc_bucket));
	/* the BPF programs see the new table as NEW, and no OLD */
	assert_true(bpf_map_lookup_elem(outer, &k, &id) < 0);
	k = ALLOC_TBL_NEW;
	assert_int_equal(bpf_map_lookup_elem(outer, &k, &id), 0);
	alloc_tables__walk(t, note, &s);
	assert_int_equal(s.bad, 0);
	assert_int_equal(s.n, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(s.count[i], 1);
	alloc_tables__free(t);
	close(recs);
	close(outer);
	close(inner);
}

/* ---- a move racing frees --------------------------------------------------- */

struct freer {
	struct alloc_bucket *from, *to;
	uint32_t from_nb, to_nb;
	unsigned char released[N];	/* times record i was released */
	size_t missed;			/* frees that found nothing */
	pthread_barrier_t go;
};

/* Release the slot of b way w reading match, as release_slot() does. */
static bool release(struct alloc_bucket *b, int w, __u64 match)
{
	__u64 m = match;

	if (!__atomic_compare_exchange_n(&b->addr[w], &m, ALLOC_BUSY, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		return false;
	__atomic_store_n(&b->info[w].ts, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&b->addr[w], 0, __ATOMIC_SEQ_CST);
	return true;
}

/* Find match in addr's buckets of table tb (nb buckets) and release it:
 * 1 released, 0 absent, -1 found but changed meanwhile. */
static int find_release(struct alloc_bucket *tb, uint32_t nb, __u64 addr, __u64 match)
{
	__u32 k[2];

	alloc_buckets(addr, nb, &k[0], &k[1]);
	for (int j = 0; j < 2; j++)
		for (int w = 0; w < ALLOC_WAYS; w++)
			if (__atomic_load_n(&tb[k[j]].addr[w], __ATOMIC_SEQ_CST) == match)
				return release(&tb[k[j]], w, match) ? 1 : -1;
	return 0;
}

/* record_free() of bpf/alloc_table.bpf.h while a move runs. */
static bool bpf_free(struct freer *f, __u64 a)
{
	if (find_release(f->from, f->from_nb, a, a) == 1)
		return true;
	if (find_release(f->to, f->to_nb, a, a) != 0)
		return true;
	if (find_release(f->to, f->to_nb, a, a | ALLOC_SHADOW) == 1)
		return true;
	return find_release(f->to, f->to_nb, a, a) != 0;
}

static void *free_odd(void *arg)
{
	struct freer *f = arg;

	pthread_barrier_wait(&f->go);
	for (int i = 1; i < N; i += 2) {
		if (bpf_free(f, ADDR(i)))
			f->released[i]++;
		else
			f->missed++;
	}
	return NULL;
}

static void *map_rw(int fd, uint32_t nb)
{
	void *m = mmap(NULL, (size_t)nb * sizeof(struct alloc_bucket), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	assert_true(m != MAP_FAILED);
	return m;
}

static void test_move_races_frees(void **state)
{
	const uint32_t from_nb = 512, to_nb = 1024;	/* 4096 slots: N fits */
	struct freer *f = calloc(1, sizeof(*f));
	struct alloc_table *from, *to;
	struct seen s = { 0 };
	int ffd, tfd, rounds = 20;
	size_t moved;
	pthread_t th;

	(void)state;
	need_root();
	assert_non_null(f);
	while (rounds--) {
		ffd = create_table(from_nb);
		tfd = create_table(to_nb);
		for (int i = 0; i < N; i++) {
			struct alloc_info a = rec((uint64_t)i);

			assert_int_equal(alloc_table__put(ffd, ADDR(i), &a), 0);
		}
		memset(f, 0, sizeof(*f));
		f->from = map_rw(ffd, from_nb);
		f->to = map_rw(tfd, to_nb);
		f->from_nb = from_nb;
		f->to_nb = to_nb;
		from = alloc_table__open(ffd, true);
		to = alloc_table__open(tfd, true);
		assert_non_null(from);
		assert_non_null(to);
		pthread_barrier_init(&f->go, NULL, 2);
		assert_int_equal(pthread_create(&th, NULL, free_odd, f), 0);
		pthread_barrier_wait(&f->go);
		assert_int_equal(alloc_table__move(from, to, &moved), 0);
		pthread_join(th, NULL);
		pthread_barrier_destroy(&f->go);
		/* every odd record released once, by the freer; every even one in
		 * to once; from empty */
		assert_int_equal(f->missed, 0);
		memset(&s, 0, sizeof(s));
		alloc_table__walk(to, note, &s);
		assert_int_equal(s.bad, 0);
		for (int i = 0; i < N; i++)
			assert_int_equal(i % 2 ? f->released[i] : s.count[i], 1);
		assert_int_equal(s.n, N / 2);
		memset(&s, 0, sizeof(s));
		alloc_table__walk(from, note, &s);
		assert_int_equal(s.n, 0);
		for (uint32_t b = 0; b < to_nb; b++)	/* no shadow left behind */
			for (int w = 0; w < ALLOC_WAYS; w++)
				assert_false(f->to[b].addr[w] & ALLOC_SHADOW);
		assert_true(moved >= N / 2 && moved <= N);
		munmap(f->from, (size_t)from_nb * sizeof(struct alloc_bucket));
		munmap(f->to, (size_t)to_nb * sizeof(struct alloc_bucket));
		alloc_table__close(from);
		alloc_table__close(to);
		close(ffd);
		close(tfd);
	}
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow_keeps_every_record),
		cmocka_unit_test(test_move_races_frees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * test_live_scan.c - the kernel walk of the live allocations
 * (bpf/live_scan.bpf.c through src/live_scan.c) against the userspace
 * walk, on real BPF maps filled with known records: both must give the
 * same oldest ages and --older sums, with sampled weights, mmaps, records
 * of unknown stacks, a full accumulator (counted, then walked in
 * userspace), more than the 1M objects one read() of an iterator visits,
 * and maps the iterator cannot read (not available: userspace walk).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agg_table.h"
#include "collect.h"
#include "live_scan.h"

#define SEC_NS 1000000000ULL
#define NOW (1000 * SEC_NS)

static uint64_t last_walked;	/* records the last read_both() walked */

struct ctx {
	struct collect_maps m;
};

static int create_maps(struct collect_maps *m, uint32_t allocs, uint32_t aggs)
{
	m->allocs = bpf_map_create(BPF_MAP_TYPE_HASH, "t_allocs", 8, sizeof(struct alloc_info),
				   allocs, NULL);
	m->mmaps = bpf_map_create(BPF_MAP_TYPE_HASH, "t_mmaps", 8, sizeof(struct mmap_info),
				  1024, NULL);
	m->stacks = bpf_map_create(BPF_MAP_TYPE_HASH, "t_stacks", 8, sizeof(struct stack_trace),
				   64, NULL);
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);

	m->aggs = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_aggs", 4, sizeof(struct agg_val), aggs, &mo);
	m->counters = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "t_cnt", 4, 8,
				     DROP_MAX + CNT_MAX, NULL);
	if (m->allocs < 0 || m->mmaps < 0 || m->stacks < 0 || m->aggs < 0 || m->counters < 0)
		return -1;
	return 0;
}

static void close_maps(struct collect_maps *m)
{
	close(m->counters);
	close(m->aggs);
	close(m->stacks);
	close(m->mmaps);
	close(m->allocs);
}

static int setup(void **state)
{
	struct ctx *c;

	if (geteuid() != 0) {
		print_message("not root: BPF maps cannot be created\n");
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (!c || create_maps(&c->m, 1 << 16, 1024)) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	close_maps(&c->m);
	free(c);
	return 0;
}

static void put_agg(int fd, uint64_t id, uint32_t kind)
{
	struct agg_val v = { .outstanding_bytes = 1, .outstanding_allocs = WEIGHT_ONE };

	assert_int_equal(agg_table__put(fd, id, kind, &v), 0);
}

static void put_alloc(int fd, uint64_t addr, uint64_t id, uint32_t kind, uint64_t ts,
		      uint64_t est_bytes, uint64_t est_count)
{
	struct alloc_info a = { .size = est_bytes / 2 + 1, .ts = ts, .stack_id = id,
				.kind = kind, .est_bytes = est_bytes, .est_count = est_count };

	assert_int_equal(bpf_map_update_elem(fd, &addr, &a, BPF_ANY), 0);
}

static void put_mmap(int fd, uint64_t start, uint64_t id, uint32_t kind, uint64_t ts,
		     uint64_t len)
{
	struct mmap_info m = { .len = len, .ts = ts, .stack_id = id, .kind = kind };

	assert_int_equal(bpf_map_update_elem(fd, &start, &m, BPF_ANY), 0);
}

/* Read the maps both ways; the reports must agree stack for stack. Sets
 * *kernel and *user (caller frees); skips the test when the kernel walk is
 * not available here. */
static void read_both(const struct collect_maps *m, double older_s, uint64_t now,
		      struct report **kernel, struct report **user)
{
	struct collect_opts ko = { .ages = true, .older_s = older_s };
	struct collect_opts uo = { .ages = true, .older_s = older_s, .user_walk = true };
	struct collector *kc = collector__new(m, &ko), *uc = collector__new(m, &uo);
	struct report *kr, *ur;
	int kerr;

	assert_non_null(kc);
	assert_non_null(uc);
	collector__last_walk(kc, NULL, &kerr);
	if (kerr) {
		collector__free(kc);
		collector__free(uc);
		print_message("BPF map iterators unavailable: %s\n", strerror(-kerr));
		skip();
	}
	assert_int_equal(collector__read(kc, now, &kr), 0);
	assert_int_equal(collector__read(uc, now, &ur), 0);
	assert_int_equal(collector__last_walk(kc, NULL, NULL), COLLECT_WALK_KERNEL);
	assert_int_equal(collector__last_walk(uc, NULL, NULL), COLLECT_WALK_USER);
	assert_int_equal(collector__last_walked(kc), collector__last_walked(uc));
	last_walked = collector__last_walked(kc);
	assert_int_equal(kr->nr_stacks, ur->nr_stacks);
	for (size_t i = 0; i < kr->nr_stacks; i++) {
		const struct stack_report *k = &kr->stacks[i];
		const struct stack_report *u = NULL;

		for (size_t j = 0; j < ur->nr_stacks && !u; j++)
			if (ur->stacks[j].stack_id == k->stack_id && ur->stacks[j].kind == k->kind)
				u = &ur->stacks[j];
		assert_non_null(u);
		assert_true(k->oldest_age_s == u->oldest_age_s);
		assert_int_equal(k->outstanding_bytes, u->outstanding_bytes);
		assert_int_equal(k->outstanding_allocs, u->outstanding_allocs);
	}
	assert_int_equal(kr->totals.outstanding_bytes, ur->totals.outstanding_bytes);
	assert_int_equal(kr->totals.outstanding_allocs, ur->totals.outstanding_allocs);
	collector__free(kc);
	collector__free(uc);
	*kernel = kr;
	*user = ur;
}

static const struct stack_report *find(const struct report *r, uint64_t id, uint32_t kind)
{
	for (size_t i = 0; i < r->nr_stacks; i++)
		if (r->stacks[i].stack_id == id && r->stacks[i].kind == kind)
			return &r->stacks[i];
	fail_msg("stack %llu kind %u not in the report", (unsigned long long)id, kind);
	return NULL;
}

static void fill_known(const struct collect_maps *m)
{
	put_agg(m->aggs, 1, KIND_MALLOC);
	put_agg(m->aggs, 1, KIND_CALLOC);
	put_agg(m->aggs, 2, KIND_MALLOC);
	put_agg(m->aggs, 3, KIND_MMAP);
	put_agg(m->aggs, 3, KIND_MREMAP);
	put_agg(m->aggs, 4, KIND_MALLOC);	/* nothing live */
	/* (1, malloc): 100 s, 50 s and 10 s old */
	put_alloc(m->allocs, 0x100, 1, KIND_MALLOC, 900 * SEC_NS, 100, WEIGHT_ONE);
	put_alloc(m->allocs, 0x101, 1, KIND_MALLOC, 950 * SEC_NS, 100, WEIGHT_ONE);
	put_alloc(m->allocs, 0x102, 1, KIND_MALLOC, 990 * SEC_NS, 50, WEIGHT_ONE);
	/* (1, calloc): exactly 30 s old (at the --older 30 cutoff) */
	put_alloc(m->allocs, 0x110, 1, KIND_CALLOC, 970 * SEC_NS, 10, WEIGHT_ONE);
	/* (2, malloc), sampled: each record stands for 64 KiB, 1.5 allocations */
	put_alloc(m->allocs, 0x200, 2, KIND_MALLOC, 600 * SEC_NS, 65536, 1536);
	put_alloc(m->allocs, 0x201, 2, KIND_MALLOC, 601 * SEC_NS, 65536, 1536);
	put_alloc(m->allocs, 0x202, 2, KIND_MALLOC, 999 * SEC_NS, 131072, 3 * WEIGHT_ONE);
	/* (3, mmap) from both maps, (3, mremap) from mmaps */
	put_mmap(m->mmaps, 0x7000, 3, KIND_MMAP, 500 * SEC_NS, 8192);
	put_mmap(m->mmaps, 0x9000, 3, KIND_MREMAP, 960 * SEC_NS, 4096);
	put_alloc(m->allocs, 0x300, 3, KIND_MMAP, 400 * SEC_NS, 4096, WEIGHT_ONE);
	/* (5, malloc) has no aggregate: counted by neither walk */
	put_alloc(m->allocs, 0x500, 5, KIND_MALLOC, 1 * SEC_NS, 777, WEIGHT_ONE);
}

static void test_known(void **state)
{
	struct ctx *c = *state;
	struct report *kr, *ur;

	fill_known(&c->m);
	read_both(&c->m, 0, NOW, &kr, &ur);
	assert_true(find(kr, 1, KIND_MALLOC)->oldest_age_s == 100.0);
	assert_true(find(kr, 1, KIND_CALLOC)->oldest_age_s == 30.0);
	assert_true(find(kr, 2, KIND_MALLOC)->oldest_age_s == 400.0);
	assert_true(find(kr, 3, KIND_MMAP)->oldest_age_s == 600.0);
	assert_true(find(kr, 3, KIND_MREMAP)->oldest_age_s == 40.0);
	assert_true(find(kr, 4, KIND_MALLOC)->oldest_age_s == -1.0);
	/* without --older the aggregates' sums stand */
	assert_int_equal(find(kr, 2, KIND_MALLOC)->outstanding_bytes, 1);
	report__free(kr);
	report__free(ur);

	read_both(&c->m, 30, NOW, &kr, &ur);
	assert_int_equal(find(kr, 1, KIND_MALLOC)->outstanding_bytes, 200);
	assert_int_equal(find(kr, 1, KIND_MALLOC)->outstanding_allocs, 2);
	assert_int_equal(find(kr, 1, KIND_CALLOC)->outstanding_bytes, 10);
	assert_int_equal(find(kr, 2, KIND_MALLOC)->outstanding_bytes, 131072);
	assert_int_equal(find(kr, 2, KIND_MALLOC)->outstanding_allocs, 3);	/* 3072 / 1024 */
	assert_int_equal(find(kr, 3, KIND_MMAP)->outstanding_bytes, 8192 + 4096);
	assert_int_equal(find(kr, 3, KIND_MMAP)->outstanding_allocs, 2);
	assert_int_equal(find(kr, 3, KIND_MREMAP)->outstanding_bytes, 4096);
	assert_int_equal(find(kr, 4, KIND_MALLOC)->outstanding_bytes, 0);
	assert_int_equal(kr->totals.outstanding_bytes, 200 + 10 + 131072 + 12288 + 4096);
	report__free(kr);
	report__free(ur);

	read_both(&c->m, 399.5, NOW, &kr, &ur);	/* only the 400 s old one of stack 2 */
	assert_int_equal(find(kr, 2, KIND_MALLOC)->outstanding_bytes, 65536);
	assert_int_equal(find(kr, 2, KIND_MALLOC)->outstanding_allocs, 2);	/* 1.5 rounds to 2 */
	assert_int_equal(find(kr, 3, KIND_MMAP)->outstanding_bytes, 8192 + 4096);
	assert_int_equal(find(kr, 1, KIND_MALLOC)->outstanding_bytes, 0);
	report__free(kr);
	report__free(ur);

	read_both(&c->m, 5000, NOW, &kr, &ur);	/* older than boot: nothing */
	assert_int_equal(kr->totals.outstanding_bytes, 0);
	report__free(kr);
	report__free(ur);
}

/* Many records, random weights and times, several cutoffs. */
static void test_random(void **state)
{
	struct ctx *c = *state;
	static const double older[] = { 0, 0.5, 7, 120, 1e6 };
	struct report *kr, *ur;
	unsigned int seed = 12345;

	for (uint64_t id = 1; id <= 120; id++) {
		put_agg(c->m.aggs, id, KIND_MALLOC);
		if (id % 3)
			put_agg(c->m.aggs, id, KIND_CALLOC);
		if (id % 10 == 0)
			put_agg(c->m.aggs, id, KIND_MMAP);
	}
	for (uint64_t i = 0; i < 30000; i++) {
		uint64_t id = 1 + (uint64_t)rand_r(&seed) % 130;	/* 121..130: no aggregate */
		uint32_t kind = rand_r(&seed) % 2 ? KIND_CALLOC : KIND_MALLOC;
		uint64_t ts = NOW - (uint64_t)rand_r(&seed) % (300 * SEC_NS / 1000) * 1000;
		bool sampled = rand_r(&seed) % 4 == 0;
		uint64_t bytes = 1 + (uint64_t)rand_r(&seed) % 5000;

		put_alloc(c->m.allocs, 0x10000 + i * 16, id, kind, ts,
			  sampled ? bytes * 37 : bytes,
			  sampled ? (uint64_t)rand_r(&seed) % (40 * WEIGHT_ONE) : WEIGHT_ONE);
	}
	for (uint64_t i = 0; i < 500; i++) {
		uint64_t id = 10 * (1 + (uint64_t)rand_r(&seed) % 13);

		put_mmap(c->m.mmaps, 0x7f0000000000 + i * 4096, id, KIND_MMAP,
			 NOW - (uint64_t)rand_r(&seed) % (300 * SEC_NS), 4096 * (1 + i % 7));
	}
	for (size_t i = 0; i < sizeof(older) / sizeof(older[0]); i++) {
		read_both(&c->m, older[i], NOW, &kr, &ur);
		report__free(kr);
		report__free(ur);
	}
}

/* More (stack, kind) pairs than the accumulator holds: the kernel walk
 * says so and the collector walks in userspace, with the same numbers. */
static void test_accumulator_full(void **state)
{
	struct collect_maps m;
	struct collect_opts o = { .ages = true, .older_s = 10 };
	struct collector *kc;
	struct report *kr, *ur;
	uint64_t fallbacks;
	int kerr;

	(void)state;
	assert_int_equal(create_maps(&m, 1024, 8), 0);	/* accumulator: 8 pairs */
	for (uint64_t id = 1; id <= 8; id++)
		put_agg(m.aggs, id, KIND_MALLOC);
	/* 12 pairs live, 4 of them without an aggregate (aggs was full) */
	for (uint64_t i = 0; i < 240; i++)
		put_alloc(m.allocs, 0x1000 + i, 1 + i % 12, KIND_MALLOC,
			  NOW - (i + 1) * SEC_NS, 100 + i, WEIGHT_ONE);
	kc = collector__new(&m, &o);
	assert_non_null(kc);
	collector__last_walk(kc, &fallbacks, &kerr);
	if (kerr) {
		collector__free(kc);
		close_maps(&m);
		skip();
	}
	assert_int_equal(collector__read(kc, NOW, &kr), 0);
	assert_int_equal(collector__last_walk(kc, &fallbacks, &kerr), COLLECT_WALK_USER);
	assert_int_equal(fallbacks, 1);
	assert_int_equal(kerr, 0);		/* kept: the next read tries again */
	{
		struct collect_opts uo = o;
		struct collector *uc;

		uo.user_walk = true;
		uc = collector__new(&m, &uo);
		assert_int_equal(collector__read(uc, NOW, &ur), 0);
		collector__free(uc);
	}
	for (size_t i = 0; i < kr->nr_stacks; i++) {
		const struct stack_report *u = find(ur, kr->stacks[i].stack_id, kr->stacks[i].kind);

		assert_true(kr->stacks[i].oldest_age_s == u->oldest_age_s);
		assert_int_equal(kr->stacks[i].outstanding_bytes, u->outstanding_bytes);
		assert_int_equal(kr->stacks[i].outstanding_allocs, u->outstanding_allocs);
	}
	assert_true(find(kr, 1, KIND_MALLOC)->oldest_age_s == 229.0);	/* i = 228 */
	report__free(kr);
	report__free(ur);

	/* The pairs without an aggregate go away: the kernel walk fits again
	 * (the accumulator was emptied after the failed run). */
	for (uint64_t i = 0; i < 240; i++)
		if (1 + i % 12 > 8)
			assert_int_equal(bpf_map_delete_elem(m.allocs, &(uint64_t){ 0x1000 + i }), 0);
	assert_int_equal(collector__read(kc, NOW, &kr), 0);
	assert_int_equal(collector__last_walk(kc, &fallbacks, NULL), COLLECT_WALK_KERNEL);
	assert_int_equal(fallbacks, 1);
	assert_true(find(kr, 1, KIND_MALLOC)->oldest_age_s == 229.0);
	/* id 1: i = 0, 12, ..., 228; at least 10 s old: all but i = 0..8 -> i = 12.. */
	assert_int_equal(find(kr, 1, KIND_MALLOC)->outstanding_allocs, 19);
	report__free(kr);
	collector__free(kc);
	close_maps(&m);
}

/* The scanner by itself: a full accumulator is -ENOSPC, and every run
 * starts from an empty accumulator. */
static void test_scanner(void **state)
{
	struct ctx *c = *state;
	struct live_scan_result res;
	struct live_scan *ls = live_scan__new(c->m.allocs, c->m.mmaps, 2);
	uint64_t addr;

	if (!ls) {
		print_message("BPF map iterators unavailable: %s\n", strerror(errno));
		skip();
	}
	assert_int_equal(live_scan__max_keys(ls), 2);
	put_alloc(c->m.allocs, 0x10, 1, KIND_MALLOC, 5 * SEC_NS, 100, WEIGHT_ONE);
	put_alloc(c->m.allocs, 0x20, 1, KIND_MALLOC, 3 * SEC_NS, 100, WEIGHT_ONE);
	put_mmap(c->m.mmaps, 0x30, 2, KIND_MMAP, 4 * SEC_NS, 4096);
	for (int run = 0; run < 2; run++) {	/* the same twice: no carry-over */
		assert_int_equal(live_scan__run(ls, 4 * SEC_NS, &res), 0);
		assert_int_equal(res.nr, 2);
		assert_int_equal(res.allocs, 2);
		assert_int_equal(res.mmaps, 1);
		for (size_t i = 0; i < res.nr; i++) {
			if (res.keys[i].stack_id == 1) {
				assert_int_equal(res.vals[i].min_ts, 3 * SEC_NS);
				assert_int_equal(res.vals[i].old_bytes, 100);
				assert_int_equal(res.vals[i].old_count, WEIGHT_ONE);
				assert_int_equal(res.vals[i].records, 2);
			} else {
				assert_int_equal(res.keys[i].stack_id, 2);
				assert_int_equal(res.keys[i].kind, KIND_MMAP);
				assert_int_equal(res.vals[i].old_bytes, 4096);	/* ts == cutoff */
			}
		}
	}
	put_alloc(c->m.allocs, 0x40, 9, KIND_CALLOC, 1, 1, WEIGHT_ONE);	/* a third pair */
	assert_int_equal(live_scan__run(ls, 0, &res), -ENOSPC);
	addr = 0x40;
	assert_int_equal(bpf_map_delete_elem(c->m.allocs, &addr), 0);
	assert_int_equal(live_scan__run(ls, 0, &res), 0);
	assert_int_equal(res.nr, 2);
	for (size_t i = 0; i < res.nr; i++)
		assert_int_equal(res.vals[i].old_bytes, 0);	/* cutoff 0: none old */
	live_scan__free(ls);
}

/* A map whose values are too small for the iterator: not attachable, so
 * the collector walks in userspace (what an old kernel also gets). */
static void test_unavailable(void **state)
{
	struct ctx *c = *state;
	int small = bpf_map_create(BPF_MAP_TYPE_HASH, "t_small", 8, 16, 16, NULL);
	struct live_scan *ls;

	assert_true(small >= 0);
	errno = 0;
	ls = live_scan__new(small, c->m.mmaps, 0);
	assert_null(ls);
	assert_true(errno > 0);
	close(small);
	live_scan__free(NULL);
}

/* More than the 1,000,000 objects one read() of an iterator visits
 * without output: the kernel answers EAGAIN, the walk goes on. */
static void test_million(void **state)
{
	struct collect_maps m;
	enum { N = 1000100, CHUNK = 65536 };
	uint64_t *keys = malloc(CHUNK * sizeof(*keys));
	struct alloc_info *vals = malloc(CHUNK * sizeof(*vals));
	struct report *kr, *ur;

	(void)state;
	assert_non_null(keys);
	assert_non_null(vals);
	assert_int_equal(create_maps(&m, 1 << 20, 64), 0);
	for (uint64_t id = 1; id <= 16; id++)
		put_agg(m.aggs, id, KIND_MALLOC);
	for (uint32_t done = 0; done < N;) {
		__u32 n = N - done < CHUNK ? N - done : CHUNK;

		for (uint32_t i = 0; i < n; i++) {
			uint64_t j = done + i;

			keys[i] = 0x100000 + j * 32;
			vals[i] = (struct alloc_info){ .size = 32, .ts = NOW - (j % 997) * SEC_NS,
						       .stack_id = 1 + j % 16, .kind = KIND_MALLOC,
						       .est_bytes = 32, .est_count = WEIGHT_ONE };
		}
		assert_int_equal(bpf_map_update_batch(m.allocs, keys, vals, &n, NULL), 0);
		done += n;
	}
	read_both(&m, 500, NOW, &kr, &ur);
	assert_int_equal(last_walked, N);
	assert_true(find(kr, 1, KIND_MALLOC)->oldest_age_s == 996.0);
	/* j % 997 >= 500 of each stack: summed over stacks, 497 of every 997 */
	{
		uint64_t old = 0;

		for (uint64_t j = 0; j < N; j++)
			old += j % 997 >= 500;
		assert_int_equal(kr->totals.outstanding_allocs, old);
		assert_int_equal(kr->totals.outstanding_bytes, old * 32);
	}
	report__free(kr);
	report__free(ur);
	close_maps(&m);
	free(keys);
	free(vals);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_known, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scanner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unavailable, setup, teardown),
		cmocka_unit_test(test_accumulator_full),
		cmocka_unit_test(test_million),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

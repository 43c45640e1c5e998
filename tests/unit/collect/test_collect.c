// SPDX-License-Identifier: MIT
/*
 * test_collect.c - the collector against real BPF maps created in the
 * kernel (no mocks): aggregation, sorting, totals, drops, ages, --older.
 * The ages come from the walk of the mapped allocs table (filled through
 * alloc_table__put) and of the mmaps map: checked on known records
 * (sampled weights, mmaps, records of stacks without an aggregate, a
 * record exactly at the cutoff) and on random ones against a reference
 * fold written here.
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
#include "collect/agg_table.h"
#include "tracer/alloc_table.h"
#include "collect/collect.h"

#define SEC_NS 1000000000ULL
#define NOW (1000 * SEC_NS)

struct ctx {
	struct collect_maps m;
	int ncpus;
};

/* The aggs map as memtrace.bpf.c has it: a hash map, not preallocated. */
static int create_aggs(const char *name, uint32_t slots)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);

	return bpf_map_create(BPF_MAP_TYPE_HASH, name, sizeof(struct agg_key),
			      sizeof(struct agg_val), slots, &mo);
}

/* The allocs table: an mmapable array of buckets for max_allocs records. */
static int create_allocs(const char *name, uint64_t max_allocs)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);

	return bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, sizeof(struct alloc_bucket),
			      alloc_bucket_count(max_allocs), &mo);
}

/* The maps as memtrace.bpf.c has them. Returns 0, or -1 (some not created). */
static int create_maps(struct collect_maps *m, uint64_t max_allocs, uint32_t max_mmaps,
		       uint32_t aggs)
{
	m->allocs = create_allocs("t_allocs", max_allocs);
	m->mmaps = bpf_map_create(BPF_MAP_TYPE_HASH, "t_mmaps", sizeof(struct mmap_key),
				  sizeof(struct mmap_info),
				  max_mmaps, NULL);
	/* one full-depth map serves every class (a lookup copies value_size) */
	m->stacks[0] = bpf_map_create(BPF_MAP_TYPE_HASH, "t_stacks", 8, sizeof(struct stack_trace),
				      64, NULL);
	for (int c = 1; c < STACK_CLASSES; c++)
		m->stacks[c] = m->stacks[0];
	m->aggs = create_aggs("t_aggs", aggs);
	m->counters = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "t_cnt", 4, 8,
				     DROP_MAX + CNT_MAX, NULL);
	if (m->allocs < 0 || m->mmaps < 0 || m->stacks[0] < 0 || m->aggs < 0 || m->counters < 0)
		return -1;
	return 0;
}

static void close_maps(struct collect_maps *m)
{
	close(m->counters);
	close(m->aggs);
	close(m->stacks[0]);
	close(m->mmaps);
	close(m->allocs);
}

static int setup(void **state)
{
	static struct ctx c;

	if (geteuid() != 0) {
		print_message("not root: BPF maps cannot be created\n");
		return -1;
	}
	c.ncpus = libbpf_num_possible_cpus();
	if (create_maps(&c.m, 1024, 64, 64))
		return -1;
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	close_maps(&c->m);
	return 0;
}

static void put_stack(struct ctx *c, uint64_t id, unsigned int nr, uint64_t base)
{
	struct stack_trace st = { .nr = nr };

	for (unsigned int i = 0; i < nr; i++)
		st.ip[i] = base + i;
	assert_int_equal(bpf_map_update_elem(c->m.stacks[0], &id, &st, BPF_ANY), 0);
}

static void put_agg(struct ctx *c, uint64_t id, uint32_t kind, int64_t bytes, int64_t allocs,
		    uint64_t calls, uint64_t sum_ts)
{
	struct agg_val v = {
		.outstanding_bytes = bytes, .outstanding_allocs = allocs * WEIGHT_ONE,
		.alloc_calls = calls * WEIGHT_ONE, .alloc_bytes = (uint64_t)bytes + 100,
		.free_calls = (calls - (uint64_t)allocs) * WEIGHT_ONE, .sum_alloc_ts = sum_ts,
	};

	v.life_hist[3] = 2 * WEIGHT_ONE;
	assert_int_equal(agg_table__put(c->m.aggs, id, kind, &v), 0);
}

static void put_alloc(struct ctx *c, uint64_t addr, uint64_t id, uint32_t kind, uint64_t size,
		      uint64_t ts)
{
	struct alloc_info a = { .size = size, .ts = ts, .stack_id = id, .kind = kind,
				.est_bytes = size, .weight = 1 };

	assert_int_equal(alloc_table__put(c->m.allocs, addr, &a), 0);
}

static void put_counter(struct ctx *c, uint32_t idx, uint64_t per_cpu)
{
	uint64_t vals[512];

	assert_true(c->ncpus <= 512);
	for (int i = 0; i < c->ncpus; i++)
		vals[i] = per_cpu;
	assert_int_equal(bpf_map_update_elem(c->m.counters, &idx, vals, BPF_ANY), 0);
}

/* Two stacks: a leak (3 x 100 B, old) and a newer one (1 x 1000 B). */
static void fill(struct ctx *c, uint64_t now)
{
	put_stack(c, 11, 3, 0x1000);
	put_stack(c, 22, 2, 0x2000);
	put_agg(c, 11, KIND_MALLOC, 300, 3, 5, 3 * (now - 10 * SEC_NS));
	put_agg(c, 22, KIND_CALLOC, 1000, 1, 1, now - 2 * SEC_NS);
	put_alloc(c, 0xa0, 11, KIND_MALLOC, 100, now - 20 * SEC_NS);
	put_alloc(c, 0xa1, 11, KIND_MALLOC, 100, now - 5 * SEC_NS);
	put_alloc(c, 0xa2, 11, KIND_MALLOC, 100, now - 5 * SEC_NS);
	put_alloc(c, 0xb0, 22, KIND_CALLOC, 1000, now - 2 * SEC_NS);
	put_counter(c, DROP_ALLOCS_FULL, 2);
	put_counter(c, DROP_MAX + CNT_UNMATCHED_FREES, 1);
}

static void test_aggregates(void **state)
{
	struct ctx *c = *state;
	struct collect_opts o = { .ages = true };
	uint64_t now = 100 * SEC_NS;
	struct collector *col;
	struct report *r;

	fill(c, now);
	col = collector__new(&c->m, &o);
	assert_non_null(col);
	assert_int_equal(collector__read(col, now, &r), 0);
	assert_int_equal(r->nr_stacks, 2);
	/* sorted by outstanding bytes */
	assert_int_equal(r->stacks[0].stack_id, 22);
	assert_int_equal(r->stacks[0].kind, KIND_CALLOC);
	assert_int_equal(r->stacks[0].outstanding_bytes, 1000);
	assert_int_equal(r->stacks[1].outstanding_bytes, 300);
	assert_int_equal(r->stacks[1].outstanding_allocs, 3);
	assert_int_equal(r->stacks[1].alloc_calls, 5);
	assert_int_equal(r->stacks[1].free_calls, 2);
	assert_int_equal(r->stacks[1].life_hist[3], 2);
	assert_int_equal(r->stacks[1].nr_ips, 3);
	assert_int_equal(r->stacks[1].ips[2], 0x1002);
	/* ages: oldest from the walk, mean from the aggregate sum */
	assert_true(r->stacks[1].oldest_age_s > 19.99 && r->stacks[1].oldest_age_s < 20.01);
	assert_true(r->stacks[1].mean_age_s > 9.99 && r->stacks[1].mean_age_s < 10.01);
	assert_true(r->stacks[0].oldest_age_s > 1.99 && r->stacks[0].oldest_age_s < 2.01);
	/* totals and drops (per-CPU counters summed) */
	assert_int_equal(r->totals.outstanding_bytes, 1300);
	assert_int_equal(r->totals.outstanding_allocs, 4);
	assert_int_equal(r->totals.drops[DROP_ALLOCS_FULL], 2ULL * c->ncpus);
	assert_int_equal(r->totals.dropped_events, 2ULL * c->ncpus);
	assert_int_equal(r->totals.unmatched_frees, (uint64_t)c->ncpus);
	assert_int_equal(collector__last_walked(col), 4);
	report__free(r);
	collector__free(col);
}

static void test_older(void **state)
{
	struct ctx *c = *state;
	struct collect_opts o = { .ages = true, .older_s = 4 };
	uint64_t now = 100 * SEC_NS;
	struct collector *col;
	struct report *r;

	fill(c, now);
	col = collector__new(&c->m, &o);
	assert_non_null(col);
	assert_int_equal(collector__read(col, now, &r), 0);
	/* only the three 100 B blocks are at least 4 s old */
	assert_int_equal(r->stacks[0].stack_id, 11);
	assert_int_equal(r->stacks[0].outstanding_bytes, 300);
	assert_int_equal(r->stacks[1].outstanding_bytes, 0);
	assert_int_equal(r->totals.outstanding_bytes, 300);
	report__free(r);
	collector__free(col);

	o.older_s = 10;		/* one block is 20 s old */
	col = collector__new(&c->m, &o);
	assert_int_equal(collector__read(col, now, &r), 0);
	assert_int_equal(r->totals.outstanding_bytes, 100);
	assert_int_equal(r->totals.outstanding_allocs, 1);
	report__free(r);
	collector__free(col);
}

static void test_many_stacks(void **state)
{
	struct ctx *c = *state;
	struct collect_opts o = { 0 };
	struct collector *col;
	struct report *r;
	int aggs = create_aggs("t_aggs_big", 20000);
	struct collect_maps m = c->m;

	assert_true(aggs >= 0);
	m.aggs = aggs;
	/* more than one batch (4096) of aggregates */
	for (uint64_t i = 1; i <= 10000; i++) {
		struct agg_val v = { .outstanding_bytes = (int64_t)i, .outstanding_allocs = WEIGHT_ONE };

		assert_int_equal(agg_table__put(aggs, i, KIND_MALLOC, &v), 0);
	}
	col = collector__new(&m, &o);
	assert_int_equal(collector__read(col, 1, &r), 0);
	assert_int_equal(r->nr_stacks, 10000);
	assert_int_equal(r->stacks[0].outstanding_bytes, 10000);
	assert_int_equal(r->stacks[9999].outstanding_bytes, 1);
	assert_int_equal(r->totals.outstanding_bytes, 10000LL * 10001 / 2);
	assert_int_equal(r->stacks[0].nr_ips, 0);	/* no stack stored: empty, not garbage */
	report__free(r);
	collector__free(col);
	close(aggs);
}

/* allocs must be the table of buckets when ages are walked (the old hash
 * is refused); without ages it is not read at all. */
static void test_bad_allocs(void **state)
{
	struct ctx *c = *state;
	struct collect_opts ages = { .ages = true }, none = { 0 };
	struct collect_maps m = c->m;
	struct collector *col;

	m.allocs = bpf_map_create(BPF_MAP_TYPE_HASH, "t_hash", 8, sizeof(struct alloc_info), 16, NULL);
	assert_true(m.allocs >= 0);
	errno = 0;
	assert_null(collector__new(&m, &ages));
	assert_int_equal(errno, EINVAL);
	col = collector__new(&m, &none);
	assert_non_null(col);
	collector__free(col);
	close(m.allocs);
}

/* An aggregate that only makes (id, kind) a stack of the report. */
static void put_live_agg(int fd, uint64_t id, uint32_t kind)
{
	struct agg_val v = { .outstanding_bytes = 1, .outstanding_allocs = WEIGHT_ONE };

	assert_int_equal(agg_table__put(fd, id, kind, &v), 0);
}

/* A record of size bytes standing for est_bytes (and est_bytes / size
 * allocations: alloc_est_count()). */
static void put_weighted(int fd, uint64_t addr, uint64_t id, uint32_t kind, uint64_t ts,
			 uint64_t size, uint64_t est_bytes)
{
	struct alloc_info a = { .size = size, .ts = ts, .stack_id = id, .kind = kind,
				.weight = 1, .est_bytes = est_bytes };

	assert_int_equal(alloc_table__put(fd, addr, &a), 0);
}

static void put_mmap(int fd, uint64_t start, uint64_t id, uint32_t kind, uint64_t ts,
		     uint64_t len)
{
	struct mmap_info m = { .len = len, .ts = ts, .stack_id = id, .kind = kind };
	struct mmap_key k = { .start = start, .ts = ts };

	assert_int_equal(bpf_map_update_elem(fd, &k, &m, BPF_NOEXIST), 0);
}

/* One read with ages and --older older_s at NOW (caller frees). */
static struct report *read_ages(const struct collect_maps *m, double older_s)
{
	struct collect_opts o = { .ages = true, .older_s = older_s };
	struct collector *col = collector__new(m, &o);
	struct report *r;

	assert_non_null(col);
	assert_int_equal(collector__read(col, NOW, &r), 0);
	collector__free(col);
	return r;
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
	put_live_agg(m->aggs, 1, KIND_MALLOC);
	put_live_agg(m->aggs, 1, KIND_CALLOC);
	put_live_agg(m->aggs, 2, KIND_MALLOC);
	put_live_agg(m->aggs, 3, KIND_MMAP);
	put_live_agg(m->aggs, 3, KIND_MREMAP);
	put_live_agg(m->aggs, 4, KIND_MALLOC);	/* nothing live */
	/* (1, malloc): 100 s, 50 s and 10 s old */
	put_weighted(m->allocs, 0x100, 1, KIND_MALLOC, 900 * SEC_NS, 100, 100);
	put_weighted(m->allocs, 0x101, 1, KIND_MALLOC, 950 * SEC_NS, 100, 100);
	put_weighted(m->allocs, 0x102, 1, KIND_MALLOC, 990 * SEC_NS, 50, 50);
	/* (1, calloc): exactly 30 s old (at the --older 30 cutoff) */
	put_weighted(m->allocs, 0x110, 1, KIND_CALLOC, 970 * SEC_NS, 10, 10);
	/* (2, malloc), sampled: blocks of 43,690 B; a record stands for 64 KiB,
	 * 1.5 allocations (65536 * 1024 / 43690 = 1536), or 128 KiB, 3 */
	put_weighted(m->allocs, 0x200, 2, KIND_MALLOC, 600 * SEC_NS, 43690, 65536);
	put_weighted(m->allocs, 0x201, 2, KIND_MALLOC, 601 * SEC_NS, 43690, 65536);
	put_weighted(m->allocs, 0x202, 2, KIND_MALLOC, 999 * SEC_NS, 43690, 131072);
	/* (3, mmap) from both maps, (3, mremap) from mmaps */
	put_mmap(m->mmaps, 0x7000, 3, KIND_MMAP, 500 * SEC_NS, 8192);
	put_mmap(m->mmaps, 0x9000, 3, KIND_MREMAP, 960 * SEC_NS, 4096);
	put_weighted(m->allocs, 0x300, 3, KIND_MMAP, 400 * SEC_NS, 4096, 4096);
	/* (5, malloc) has no aggregate (aggs was full): walked, counted nowhere */
	put_weighted(m->allocs, 0x500, 5, KIND_MALLOC, 1 * SEC_NS, 777, 777);
}

/* Oldest ages and --older sums of known records, at several cutoffs. */
static void test_known_ages(void **state)
{
	struct collect_maps m = { 0 };
	struct report *r;

	(void)state;
	assert_int_equal(create_maps(&m, 1 << 12, 64, 64), 0);
	fill_known(&m);
	r = read_ages(&m, 0);
	assert_true(find(r, 1, KIND_MALLOC)->oldest_age_s == 100.0);
	assert_true(find(r, 1, KIND_CALLOC)->oldest_age_s == 30.0);
	assert_true(find(r, 2, KIND_MALLOC)->oldest_age_s == 400.0);
	assert_true(find(r, 3, KIND_MMAP)->oldest_age_s == 600.0);
	assert_true(find(r, 3, KIND_MREMAP)->oldest_age_s == 40.0);
	assert_true(find(r, 4, KIND_MALLOC)->oldest_age_s == -1.0);
	/* without --older the aggregates' sums stand */
	assert_int_equal(find(r, 2, KIND_MALLOC)->outstanding_bytes, 1);
	report__free(r);

	r = read_ages(&m, 30);
	assert_int_equal(find(r, 1, KIND_MALLOC)->outstanding_bytes, 200);
	assert_int_equal(find(r, 1, KIND_MALLOC)->outstanding_allocs, 2);
	assert_int_equal(find(r, 1, KIND_CALLOC)->outstanding_bytes, 10);
	assert_int_equal(find(r, 2, KIND_MALLOC)->outstanding_bytes, 131072);
	assert_int_equal(find(r, 2, KIND_MALLOC)->outstanding_allocs, 3);	/* 3072 / 1024 */
	assert_int_equal(find(r, 3, KIND_MMAP)->outstanding_bytes, 8192 + 4096);
	assert_int_equal(find(r, 3, KIND_MMAP)->outstanding_allocs, 2);
	assert_int_equal(find(r, 3, KIND_MREMAP)->outstanding_bytes, 4096);
	assert_int_equal(find(r, 4, KIND_MALLOC)->outstanding_bytes, 0);
	assert_int_equal(r->totals.outstanding_bytes, 200 + 10 + 131072 + 12288 + 4096);
	report__free(r);

	r = read_ages(&m, 399.5);	/* only the 400 s old one of stack 2 */
	assert_int_equal(find(r, 2, KIND_MALLOC)->outstanding_bytes, 65536);
	assert_int_equal(find(r, 2, KIND_MALLOC)->outstanding_allocs, 2);	/* 1.5 rounds to 2 */
	assert_int_equal(find(r, 3, KIND_MMAP)->outstanding_bytes, 8192 + 4096);
	assert_int_equal(find(r, 1, KIND_MALLOC)->outstanding_bytes, 0);
	report__free(r);

	r = read_ages(&m, 5000);	/* older than boot: nothing */
	assert_int_equal(r->totals.outstanding_bytes, 0);
	report__free(r);

	/* every record of both maps was walked, the one without a stack too */
	{
		struct collect_opts o = { .ages = true };
		struct collector *col = collector__new(&m, &o);
		uint64_t allocs, mmaps, stacks;

		assert_non_null(col);
		assert_int_equal(collector__read(col, NOW, &r), 0);
		collector__last_counts(col, &allocs, &mmaps, &stacks);
		assert_int_equal(allocs, 9);
		assert_int_equal(mmaps, 2);
		assert_int_equal(collector__last_walked(col), 11);
		report__free(r);
		collector__free(col);
	}
	close_maps(&m);
}

/*
 * Records newer than the report's instant (made while the walk ran, after
 * the aggregates were read) and records of a stack the aggregates show
 * with nothing outstanding: never an age below zero (no unsigned wrap to
 * 584 years), and no oldest age where nothing is outstanding.
 */
static void test_ages_after_now(void **state)
{
	struct agg_val gone = { .alloc_calls = WEIGHT_ONE, .free_calls = WEIGHT_ONE,
				.alloc_bytes = 64, .free_bytes = 64 };
	struct agg_val ahead = { .outstanding_bytes = 10, .outstanding_allocs = WEIGHT_ONE,
				 .sum_alloc_ts = NOW + 3 * SEC_NS };
	struct collect_maps m = { 0 };
	struct report *r;

	(void)state;
	assert_int_equal(create_maps(&m, 1 << 10, 64, 64), 0);
	put_live_agg(m.aggs, 7, KIND_MALLOC);
	put_weighted(m.allocs, 0x700, 7, KIND_MALLOC, NOW + 2 * SEC_NS, 10, 10);
	put_live_agg(m.aggs, 8, KIND_MALLOC);
	put_weighted(m.allocs, 0x800, 8, KIND_MALLOC, NOW - 3 * SEC_NS, 10, 10);
	put_weighted(m.allocs, 0x801, 8, KIND_MALLOC, NOW + 1, 10, 10);
	put_mmap(m.mmaps, 0x9000, 8, KIND_MALLOC, NOW + SEC_NS, 4096);
	assert_int_equal(agg_table__put(m.aggs, 9, KIND_MALLOC, &gone), 0);
	put_weighted(m.allocs, 0x900, 9, KIND_MALLOC, NOW - 5 * SEC_NS, 64, 64);
	assert_int_equal(agg_table__put(m.aggs, 10, KIND_MALLOC, &ahead), 0);
	put_weighted(m.allocs, 0xa00, 10, KIND_MALLOC, NOW - SEC_NS, 10, 10);
	for (double older = 0; older <= 2; older += 2) {
		r = read_ages(&m, older);
		assert_true(find(r, 7, KIND_MALLOC)->oldest_age_s == -1.0);
		assert_true(find(r, 8, KIND_MALLOC)->oldest_age_s == 3.0);
		assert_true(find(r, 9, KIND_MALLOC)->oldest_age_s == -1.0);
		assert_true(find(r, 10, KIND_MALLOC)->oldest_age_s == 1.0);
		assert_true(find(r, 10, KIND_MALLOC)->mean_age_s >= 0);
		if (older > 0) {	/* only the 3 s old record of stack 8 */
			assert_int_equal(find(r, 7, KIND_MALLOC)->outstanding_bytes, 0);
			assert_int_equal(find(r, 8, KIND_MALLOC)->outstanding_bytes, 10);
		}
		for (size_t i = 0; i < r->nr_stacks; i++)
			assert_true(r->stacks[i].oldest_age_s >= 0 ||
				    r->stacks[i].oldest_age_s == -1.0);
		report__free(r);
	}
	close_maps(&m);
}

/* The reference fold of test_random_ages: what a pair's ages must be. */
struct ref_age {
	uint64_t min_ts;
	int64_t old_bytes, old_count;
};

/* One record of test_random_ages, as put in allocs or mmaps. */
struct rand_rec {
	uint64_t id, ts, bytes, cnt;
	uint32_t kind;
};

enum { RAND_IDS = 130, RAND_ALLOCS = 30000, RAND_MMAPS = 500 };

static struct ref_age *ref_of(struct ref_age *ref, uint64_t id, uint32_t kind)
{
	return &ref[id * KIND_MAX + kind];
}

static void ref_add(struct ref_age *a, uint64_t ts, uint64_t bytes, uint64_t cnt,
		    uint64_t cutoff)
{
	if (!a->min_ts || ts < a->min_ts)
		a->min_ts = ts;
	if (ts <= cutoff) {
		a->old_bytes += (int64_t)bytes;
		a->old_count += (int64_t)cnt;
	}
}

/* Many records, random weights and times, several cutoffs: every stack's
 * oldest age and --older sums as a plain fold over the same records. */
static void test_random_ages(void **state)
{
	static const double older[] = { 0, 0.5, 7, 120, 1e6 };
	struct rand_rec *rec;
	struct ref_age *ref;
	struct collect_maps m = { 0 };
	unsigned int seed = 12345;
	size_t nrec = 0;

	(void)state;
	rec = calloc(RAND_ALLOCS + RAND_MMAPS, sizeof(*rec));
	ref = calloc((RAND_IDS + 1) * KIND_MAX, sizeof(*ref));
	assert_non_null(rec);
	assert_non_null(ref);
	assert_int_equal(create_maps(&m, 1 << 16, 1024, 1024), 0);
	for (uint64_t id = 1; id <= 120; id++) {
		put_live_agg(m.aggs, id, KIND_MALLOC);
		if (id % 3)
			put_live_agg(m.aggs, id, KIND_CALLOC);
		if (id % 10 == 0)
			put_live_agg(m.aggs, id, KIND_MMAP);
	}
	for (uint64_t i = 0; i < RAND_ALLOCS; i++, nrec++) {
		uint64_t id = 1 + (uint64_t)rand_r(&seed) % RAND_IDS;	/* 121..: no aggregate */
		uint32_t kind = rand_r(&seed) % 2 ? KIND_CALLOC : KIND_MALLOC;
		uint64_t ts = NOW - (uint64_t)rand_r(&seed) % (300 * SEC_NS / 1000) * 1000;
		bool sampled = rand_r(&seed) % 4 == 0;
		uint64_t size = 1 + (uint64_t)rand_r(&seed) % 5000;
		/* sampled: k sample points of 4 KiB */
		uint64_t bytes = sampled ? (1 + (uint64_t)rand_r(&seed) % 40) * 4096 : size;
		uint64_t cnt = alloc_est_count(size, bytes, 1);
		rec[nrec] = (struct rand_rec){ .id = id, .ts = ts, .bytes = bytes, .cnt = cnt,
					       .kind = kind };
		put_weighted(m.allocs, 0x10000 + i * 16, id, kind, ts, size, bytes);
	}
	for (uint64_t i = 0; i < RAND_MMAPS; i++, nrec++) {
		uint64_t id = 10 * (1 + (uint64_t)rand_r(&seed) % 13);
		uint64_t ts = NOW - (uint64_t)rand_r(&seed) % (300 * SEC_NS);

		rec[nrec] = (struct rand_rec){ .id = id, .ts = ts, .bytes = 4096 * (1 + i % 7),
					       .cnt = WEIGHT_ONE, .kind = KIND_MMAP };
		put_mmap(m.mmaps, 0x7f0000000000 + i * 4096, id, KIND_MMAP, ts, rec[nrec].bytes);
	}
	for (size_t o = 0; o < sizeof(older) / sizeof(older[0]); o++) {
		uint64_t cutoff = older[o] * 1e9 >= (double)NOW ? 0 : NOW - (uint64_t)(older[o] * 1e9);
		struct report *r = read_ages(&m, older[o]);
		int64_t total = 0;

		assert_int_equal(r->nr_stacks, 120 + 80 + 12);	/* the aggregates put */
		memset(ref, 0, (RAND_IDS + 1) * KIND_MAX * sizeof(*ref));
		for (size_t i = 0; i < nrec; i++)
			ref_add(ref_of(ref, rec[i].id, rec[i].kind), rec[i].ts, rec[i].bytes,
				rec[i].cnt, cutoff);
		for (size_t i = 0; i < r->nr_stacks; i++) {
			const struct stack_report *s = &r->stacks[i];
			const struct ref_age *a = ref_of(ref, s->stack_id, s->kind);
			double age = a->min_ts ? (double)(NOW - a->min_ts) / 1e9 : -1;

			assert_true(s->oldest_age_s == age);
			if (older[o] > 0) {
				assert_int_equal(s->outstanding_bytes, a->old_bytes);
				assert_int_equal(s->outstanding_allocs,
						 (a->old_count + WEIGHT_ONE / 2) / WEIGHT_ONE);
			}
			total += s->outstanding_bytes;
		}
		assert_int_equal(r->totals.outstanding_bytes, total);
		if (older[o] >= 1e6)
			assert_int_equal(total, 0);
		report__free(r);
	}
	close_maps(&m);
	free(ref);
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aggregates),
		cmocka_unit_test(test_older),
		cmocka_unit_test(test_many_stacks),
		cmocka_unit_test(test_bad_allocs),
		cmocka_unit_test(test_known_ages),
		cmocka_unit_test(test_random_ages),
		cmocka_unit_test(test_ages_after_now),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

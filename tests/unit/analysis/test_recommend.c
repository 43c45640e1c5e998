// SPDX-License-Identifier: MIT
/* test_recommend.c - patterns, savings, thresholds and ranking. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analysis/recommend.h"
#include "analysis_synth.h"

#define ELAPSED	10.0

enum { S_LEAK, S_CHURN, S_CHAIN, S_SMALL, S_BIG, S_SETUP, NR };

/* One stack per pattern, as the collector and the analysis would fill
 * them, over ELAPSED seconds. */
static struct report *patterns(void)
{
	struct synth_stack st[NR] = {
		[S_LEAK] = { .id = 1, .bytes = 2048000, .allocs = 500, .alloc_calls = 500,
			     .oldest_age_s = 10, .mean_age_s = 5, .fn = "leak" },
		[S_CHURN] = { .id = 2, .alloc_calls = 20000, .free_calls = 20000, .fn = "churn" },
		[S_CHAIN] = { .id = 3, .kind = KIND_REALLOC, .bytes = 6400, .allocs = 1,
			      .alloc_calls = 1000, .free_calls = 999, .fn = "chain" },
		[S_SMALL] = { .id = 4, .bytes = 320000, .allocs = 20000, .alloc_calls = 20000,
			      .oldest_age_s = 9, .mean_age_s = 9, .fn = "small" },
		[S_BIG] = { .id = 5, .alloc_calls = 100, .free_calls = 100, .fn = "big" },
		[S_SETUP] = { .id = 6, .bytes = 1 << 20, .allocs = 1, .alloc_calls = 1,
			      .oldest_age_s = 9, .mean_age_s = 9, .fn = "setup" },
	};
	struct report *r = synth_report(ELAPSED, st, NR);
	struct stack_report *s = r->stacks;
	static uint64_t big_hist[LIFE_BUCKETS];

	strcpy(r->allocator, "libc.so.6");
	for (size_t i = 0; i < NR; i++) {
		s[i].analysed = true;
		s[i].category = -1;
	}
	s[S_LEAK].growth_bytes_per_s = 204800;
	s[S_LEAK].severity = SEV_HIGH;
	s[S_LEAK].size_min = s[S_LEAK].size_max = 4096;
	s[S_CHURN].size_min = s[S_CHURN].size_max = 64;
	s[S_CHURN].life.temporary = 19900;
	s[S_CHAIN].realloc_grows = 999;
	s[S_CHAIN].realloc_step_bytes = 999 * 64;
	s[S_CHAIN].realloc_old_bytes = 999 * 3200;
	s[S_CHAIN].realloc_step_min = s[S_CHAIN].realloc_step_max = 64;
	s[S_SMALL].size_min = s[S_SMALL].size_max = 16;
	s[S_BIG].alloc_bytes = 100 << 20;
	s[S_BIG].size_min = s[S_BIG].size_max = 1 << 20;
	s[S_BIG].life.peak_bytes = 1 << 20;
	big_hist[10] = 100;	/* ~1-2 ms */
	s[S_BIG].life_hist = malloc(sizeof(big_hist));
	memcpy((void *)s[S_BIG].life_hist, big_hist, sizeof(big_hist));
	s[S_SETUP].severity = SEV_NONE;	/* a step: growth 0 */
	return r;
}

static const struct recommendation *find(const struct report *r, enum rec_kind k)
{
	for (size_t i = 0; i < r->nr_recs; i++)
		if (r->recs[i].kind == k)
			return &r->recs[i];
	return NULL;
}

static void test_overhead(void **state)
{
	const char *model;

	(void)state;
	assert_float_equal(allocator_overhead("libc.so.6", 16, &model), 16, 0);
	assert_non_null(strstr(model, "glibc"));
	assert_float_equal(allocator_overhead("", 24, NULL), 8, 0);	/* 32-byte chunk */
	assert_float_equal(allocator_overhead("", 100, NULL), 12, 0);	/* 112 */
	assert_float_equal(allocator_overhead("libjemalloc.so.2", 16, &model), 0, 0);
	assert_float_equal(allocator_overhead("libjemalloc.so.2", 20, NULL), 12, 0);
}

static void test_each_kind(void **state)
{
	struct analysis_opts o;
	struct report *r = patterns();
	const struct recommendation *rec;

	(void)state;
	analysis_opts__defaults(&o);
	assert_int_equal(recommend__build(&o, r), 0);
	assert_int_equal(r->nr_recs, 5);
	rec = find(r, REC_FIX_LEAK);
	assert_int_equal(rec->stack, S_LEAK);
	assert_float_equal(rec->savings_bytes, 204800.0 * 3600, 1e-3);
	assert_float_equal(rec->held_after_24h_bytes, 2048000 + 204800.0 * 86400, 1e-3);
	assert_int_equal(rec->priority, 1);	/* leaks first */
	rec = find(r, REC_POOL);
	assert_int_equal(rec->stack, S_CHURN);
	assert_float_equal(rec->savings_calls_per_s, 2 * 19900 / ELAPSED, 1e-9);
	rec = find(r, REC_RESERVE);
	assert_int_equal(rec->stack, S_CHAIN);
	assert_float_equal(rec->savings_calls_per_s, 99.9, 1e-9);
	assert_float_equal(rec->savings_copy_bytes_per_s, 999 * 3200 / ELAPSED, 1e-9);
	assert_int_equal(rec->difficulty, DIFF_EASY);
	rec = find(r, REC_BATCH_SMALL);
	assert_int_equal(rec->stack, S_SMALL);
	assert_float_equal(rec->savings_bytes, 20000 * 16, 0);
	assert_non_null(strstr(rec->description, "glibc"));
	rec = find(r, REC_OVERSIZED);
	assert_int_equal(rec->stack, S_BIG);
	assert_float_equal(rec->savings_bytes, 1048576, 0);
	/* memory before CPU: oversized (1 MiB, easy) before batch (hard) */
	assert_true(find(r, REC_OVERSIZED)->priority < find(r, REC_BATCH_SMALL)->priority);
	assert_true(find(r, REC_BATCH_SMALL)->priority < find(r, REC_RESERVE)->priority);
	for (size_t i = 0; i < r->nr_recs; i++)
		assert_int_equal(r->recs[i].priority, (int)i + 1);
	report__free(r);
}

/* Each threshold, just past the pattern, removes its recommendation. */
static void test_thresholds(void **state)
{
	static const struct { const char *name, *value; enum rec_kind gone; } cases[] = {
		{ "pool-min-rate", "2001", REC_POOL },
		{ "pool-min-temp", "0.996", REC_POOL },
		{ "reserve-min-steps", "1000", REC_RESERVE },
		{ "batch-min-blocks", "20001", REC_BATCH_SMALL },
		{ "batch-max-size", "15", REC_BATCH_SMALL },
		{ "oversized-min-size", "1.5Mi", REC_OVERSIZED },
		{ "oversized-max-life", "0.001", REC_OVERSIZED },
		{ "min-calls", "101", REC_OVERSIZED },
		{ "verdict", "critical", REC_FIX_LEAK },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct analysis_opts o;
		struct report *r = patterns();

		analysis_opts__defaults(&o);
		assert_int_equal(analysis_opts__set(&o, cases[i].name, cases[i].value), 0);
		assert_int_equal(analysis_opts__check(&o), 0);
		assert_int_equal(recommend__build(&o, r), 0);
		if (find(r, cases[i].gone) || r->nr_recs != 4)
			fail_msg("%s=%s: %zu recommendations", cases[i].name, cases[i].value,
				 r->nr_recs);
		report__free(r);
	}
}

/* Near misses: a churn of mixed sizes, geometric realloc steps, a setup. */
static void test_no_false_kinds(void **state)
{
	struct analysis_opts o;
	struct report *r = patterns();

	(void)state;
	analysis_opts__defaults(&o);
	r->stacks[S_CHURN].size_max = 256;		/* mixed sizes: no pool */
	r->stacks[S_CHAIN].realloc_step_max = 64 * 512;	/* doubling: no reserve */
	assert_int_equal(recommend__build(&o, r), 0);
	assert_null(find(r, REC_POOL));
	assert_null(find(r, REC_RESERVE));
	for (size_t i = 0; i < r->nr_recs; i++)
		assert_int_not_equal(r->recs[i].stack, S_SETUP);
	report__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overhead),
		cmocka_unit_test(test_each_kind),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_no_false_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

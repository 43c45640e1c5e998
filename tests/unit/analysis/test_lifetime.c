// SPDX-License-Identifier: MIT
/* test_lifetime.c - percentiles and counts from the log2(us) lifetime histogram. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "analysis/analysis.h"
#include "analysis/lifetime.h"
#include "analysis_synth.h"

static void test_bucket_bounds(void **state)
{
	(void)state;
	assert_float_equal(lifetime__bucket_lo(0), 0, 0);
	assert_float_equal(lifetime__bucket_hi(0), 2e-6, 1e-18);
	assert_float_equal(lifetime__bucket_lo(1), 2e-6, 1e-18);
	assert_float_equal(lifetime__bucket_lo(10), 1024e-6, 1e-15);
	assert_float_equal(lifetime__bucket_hi(10), 2048e-6, 1e-15);
	assert_float_equal(lifetime__bucket_hi(LIFE_BUCKETS - 1), 4294.967296, 1e-9);
}

static void test_percentile_interpolates(void **state)
{
	uint64_t h[LIFE_BUCKETS] = { 0 };

	(void)state;
	assert_float_equal(lifetime__percentile(h, LIFE_BUCKETS, 0.5), -1, 0);
	assert_float_equal(lifetime__percentile(NULL, LIFE_BUCKETS, 0.5), -1, 0);
	/* 100 lifetimes in [1024, 2048) us: spread evenly inside the bucket */
	h[10] = 100;
	assert_float_equal(lifetime__percentile(h, LIFE_BUCKETS, 0.5), 1536e-6, 1e-12);
	assert_float_equal(lifetime__percentile(h, LIFE_BUCKETS, 0.9), (1024 + 0.9 * 1024) * 1e-6, 1e-12);
	assert_float_equal(lifetime__percentile(h, LIFE_BUCKETS, 1), 2048e-6, 1e-12);
	/* 0 and > 1 are not percentiles */
	assert_float_equal(lifetime__percentile(h, LIFE_BUCKETS, 0), -1, 0);
	assert_float_equal(lifetime__percentile(h, LIFE_BUCKETS, 1.01), -1, 0);
	/* 90 short (bucket 0: [0, 2) us) and 10 long (bucket 20: ~1-2 s) */
	h[10] = 0;
	h[0] = 90;
	h[20] = 10;
	assert_float_equal(lifetime__percentile(h, LIFE_BUCKETS, 0.5), 2e-6 * 50 / 90, 1e-15);
	assert_float_equal(lifetime__percentile(h, LIFE_BUCKETS, 0.9), 2e-6, 1e-15);
	assert_float_equal(lifetime__percentile(h, LIFE_BUCKETS, 0.99),
			   ldexp(1, 20) * 1e-6 * (1 + 0.9), 1e-9);
}

static void test_count_below(void **state)
{
	uint64_t h[LIFE_BUCKETS] = { 0 };

	(void)state;
	h[3] = 10;	/* [8, 16) us */
	h[13] = 100;	/* [8.192, 16.384) ms */
	h[25] = 7;	/* ~33-67 s */
	assert_int_equal(lifetime__count_below(h, LIFE_BUCKETS, 0), 0);
	assert_int_equal(lifetime__count_below(h, LIFE_BUCKETS, 16e-6), 10);
	/* 10 ms cuts bucket 13 at (10000 - 8192) / 8192 = 22.07% */
	assert_int_equal(lifetime__count_below(h, LIFE_BUCKETS, 0.01), 10 + 22);
	assert_int_equal(lifetime__count_below(h, LIFE_BUCKETS, 1), 110);
	assert_int_equal(lifetime__count_below(h, LIFE_BUCKETS, 1e6), 117);
	assert_int_equal(lifetime__count_below(NULL, LIFE_BUCKETS, 1), 0);
	assert_int_equal(lifetime__total(h, LIFE_BUCKETS), 117);
}

static void test_fill(void **state)
{
	uint64_t h[LIFE_BUCKETS] = { 0 };
	struct lifetime l = { 0 };

	(void)state;
	h[5] = 30;	/* [32, 64) us */
	lifetime__fill(&l, h, LIFE_BUCKETS, 31, 4096);
	assert_int_equal(l.freed, 31);
	assert_float_equal(l.p50_s, 48e-6, 1e-15);
	assert_int_equal(l.temporary, 0);
	assert_int_equal(l.peak_bytes, 4096);
	/* values from the collector (BPF temp_allocs, peak_bytes) are kept */
	l = (struct lifetime){ .temporary = 7, .peak_bytes = 1 << 20 };
	lifetime__fill(&l, h, LIFE_BUCKETS, 31, 4096);
	assert_int_equal(l.temporary, 7);
	assert_int_equal(l.peak_bytes, 1 << 20);
	/* no histogram: unknown percentiles */
	l = (struct lifetime){ 0 };
	lifetime__fill(&l, NULL, 0, 0, 0);
	assert_float_equal(l.p50_s, -1, 0);
	assert_float_equal(l.p99_s, -1, 0);
	assert_int_equal(l.temporary, 0);
}

/* analysis__update fills the lifetime view and keeps the peak across reports. */
static void test_through_analysis(void **state)
{
	const int64_t bytes[] = { 1000, 5000, 3000, 2000 };
	struct analysis *a = analysis__new(NULL);
	uint64_t *h;

	(void)state;
	assert_non_null(a);
	for (size_t i = 0; i < 4; i++) {
		struct synth_stack st = { .id = 9, .bytes = bytes[i], .allocs = 2, .alloc_calls = 100,
					  .free_calls = 98, .oldest_age_s = 1, .mean_age_s = 0.5,
					  .fn = "f" };
		struct report *r = synth_report(5.0 * (double)(i + 1), &st, 1);

		h = calloc(LIFE_BUCKETS, sizeof(*h));
		assert_non_null(h);
		h[2] = 98;	/* [4, 8) us: all temporary */
		r->stacks[0].life_hist = h;	/* owned by the report */
		r->stacks[0].life.temporary = 98;	/* BPF's count */
		r->stacks[0].life.peak_bytes = 900;	/* BPF's best effort */
		assert_int_equal(analysis__update(a, r), 0);
		assert_true(r->stacks[0].analysed);
		assert_int_equal(r->stacks[0].life.freed, 98);
		assert_int_equal(r->stacks[0].life.temporary, 98);
		assert_float_equal(r->stacks[0].life.p50_s, 6e-6, 1e-15);
		assert_int_equal(r->stacks[0].life.peak_bytes, i == 0 ? 1000 : 5000);
		report__free(r);
	}
	analysis__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_percentile_interpolates),
		cmocka_unit_test(test_count_below),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_through_analysis),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

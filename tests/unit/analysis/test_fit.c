// SPDX-License-Identifier: MIT
/* test_fit.c - least squares, Theil-Sen, Mann-Kendall, monotonic fraction, series. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "analysis/fit.h"
#include "analysis_synth.h"

static void test_least_squares_exact(void **state)
{
	double x[] = { 0, 1, 2, 3, 4 }, y[] = { 1, 3, 5, 7, 9 };
	struct fit_line l;

	(void)state;
	assert_int_equal(fit_least_squares(x, y, 5, &l), 0);
	assert_float_equal(l.slope, 2, 1e-12);
	assert_float_equal(l.intercept, 1, 1e-12);
	assert_float_equal(l.r2, 1, 1e-12);
	assert_int_equal(l.n, 5);
}

static void test_least_squares_errors(void **state)
{
	double x[] = { 2, 2, 2 }, y[] = { 1, 2, 3 };
	struct fit_line l = { .slope = 42 };

	(void)state;
	assert_int_equal(fit_least_squares(x, y, 1, &l), -EINVAL);
	assert_int_equal(fit_least_squares(x, y, 3, &l), -EINVAL);
	assert_float_equal(l.slope, 42, 0);
}

static void test_median(void **state)
{
	double odd[] = { 5, 1, 4, 2, 3 }, even[] = { 4, 1, 3, 2 }, dup[] = { 7, 7, 1, 7, 7, 7 };
	double one[] = { -3 };

	(void)state;
	assert_float_equal(fit_median(odd, 5), 3, 0);
	assert_float_equal(fit_median(even, 4), 2.5, 0);
	assert_float_equal(fit_median(dup, 6), 7, 0);
	assert_float_equal(fit_median(one, 1), -3, 0);
	assert_true(isnan(fit_median(one, 0)));
}

/* The median matches sorting on random arrays of every small size. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void test_median_random(void **state)
{
	uint64_t seed = 99;

	(void)state;
	for (size_t n = 1; n < 60; n++) {
		double v[60], s[60], want;

		for (size_t i = 0; i < n; i++)
			v[i] = s[i] = floor(synth_rand(&seed) * 10);	/* many ties */
		qsort(s, n, sizeof(*s), cmp_double);
		want = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
		assert_float_equal(fit_median(v, n), want, 0);
	}
}

static void test_theil_sen_exact_and_outliers(void **state)
{
	double x[12], y[12];
	struct fit_line ts, ls;

	(void)state;
	for (int i = 0; i < 12; i++) {
		x[i] = 5.0 * i;
		y[i] = 1000 + 300.0 * x[i];
	}
	assert_int_equal(fit_theil_sen(x, y, 12, &ts), 0);
	assert_float_equal(ts.slope, 300, 1e-9);
	assert_float_equal(ts.intercept, 1000, 1e-6);
	assert_float_equal(ts.r2, 1, 1e-12);
	/* two wild samples (a burst freed right after): Theil-Sen shrugs */
	y[3] += 1e6;
	y[8] -= 1e6;
	assert_int_equal(fit_theil_sen(x, y, 12, &ts), 0);
	assert_int_equal(fit_least_squares(x, y, 12, &ls), 0);
	assert_float_equal(ts.slope, 300, 1e-9);
	assert_true(fabs(ls.slope - 300) > 1000);
}

static void test_theil_sen_constant_and_errors(void **state)
{
	double x[] = { 0, 1, 2, 3 }, y[] = { 7, 7, 7, 7 }, same[] = { 1, 1, 1, 1 };
	struct fit_line l;

	(void)state;
	assert_int_equal(fit_theil_sen(x, y, 4, &l), 0);
	assert_float_equal(l.slope, 0, 0);
	assert_float_equal(l.intercept, 7, 0);
	assert_float_equal(l.r2, 0, 0);
	assert_float_equal(l.mk_z, 0, 0);
	assert_int_equal(fit_theil_sen(x, y, 1, &l), -EINVAL);
	assert_int_equal(fit_theil_sen(same, x, 4, &l), -EINVAL);
	assert_int_equal(fit_theil_sen(same, y, 4, &l), -EINVAL);
}

static void test_r2(void **state)
{
	double x[] = { 0, 1, 2, 3 }, y[] = { 0, 1, 0, 1 };

	(void)state;
	/* mean line explains nothing; a terrible line clamps at 0 */
	assert_float_equal(fit_r2(x, y, 4, 0, 0.5), 0, 1e-12);
	assert_float_equal(fit_r2(x, y, 4, -10, 0), 0, 0);
	assert_float_equal(fit_r2(x, y, 1, 0, 0), 0, 0);
}

static void test_mann_kendall(void **state)
{
	double up[5] = { 1, 2, 3, 4, 5 }, down[5] = { 5, 4, 3, 2, 1 }, flat[5] = { 2, 2, 2, 2, 2 };
	double ties[4] = { 1, 2, 2, 3 };

	(void)state;
	/* S = 10, var = 5*4*15/18, z = (S - 1) / sqrt(var) */
	assert_float_equal(fit_mann_kendall_z(up, 5), 9 / sqrt(5 * 4 * 15 / 18.0), 1e-12);
	assert_float_equal(fit_mann_kendall_z(down, 5), -9 / sqrt(5 * 4 * 15 / 18.0), 1e-12);
	assert_float_equal(fit_mann_kendall_z(flat, 5), 0, 0);
	assert_float_equal(fit_mann_kendall_z(up, 2), 0, 0);
	/* S = 5, one tie group of 2: var = (156 - 18) / 18 */
	assert_float_equal(fit_mann_kendall_z(ties, 4), 4 / sqrt(138 / 18.0), 1e-12);
}

static void test_monotonic_fraction(void **state)
{
	double stair[] = { 0, 0, 1, 1, 2, 2, 3 }, noisy[] = { 0, 2, 1, 3, 2, 4 }, flat[] = { 1, 1, 1 };
	unsigned int ups, downs;

	(void)state;
	/* a staircase leak (grows every other interval) is fully monotonic */
	assert_float_equal(fit_monotonic_fraction(stair, 7, &ups, &downs), 1, 0);
	assert_int_equal(ups, 3);
	assert_int_equal(downs, 0);
	assert_float_equal(fit_monotonic_fraction(noisy, 6, &ups, &downs), 0.6, 1e-12);
	assert_int_equal(ups, 3);
	assert_int_equal(downs, 2);
	assert_float_equal(fit_monotonic_fraction(flat, 3, NULL, NULL), 0, 0);
	assert_float_equal(fit_monotonic_fraction(flat, 0, NULL, NULL), 0, 0);
}

static void test_series(void **state)
{
	struct fit_series s = { .max = 4 };
	struct fit_growth g;

	(void)state;
	assert_int_equal(fit_series__fit(&s, &g), -EINVAL);
	assert_int_equal(fit_series__push(&s, 1, 10), 0);
	assert_int_equal(fit_series__push(&s, 2, 20), 0);
	assert_int_equal(fit_series__push(&s, 2, 25), 0);	/* same time: replaces */
	assert_int_equal(s.n, 2);
	assert_float_equal(s.y[1], 25, 0);
	assert_int_equal(fit_series__push(&s, 1.5, 0), -EINVAL);	/* back in time */
	assert_int_equal(fit_series__push(&s, 3, NAN), -EINVAL);
	for (int i = 3; i <= 6; i++)
		assert_int_equal(fit_series__push(&s, i, 10.0 * i), 0);
	assert_int_equal(s.n, 4);	/* max: oldest dropped */
	assert_float_equal(s.x[0], 3, 0);
	assert_int_equal(fit_series__fit(&s, &g), 0);
	assert_float_equal(g.line.slope, 10, 1e-12);
	assert_float_equal(g.span, 3, 0);
	assert_float_equal(g.rise, 30, 0);
	assert_int_equal(g.last_step, 1);
	assert_float_equal(g.mono, 1, 0);
	/* window 1.5 s at t=6 keeps x >= 4.5, but min_keep 3 wins */
	fit_series__trim(&s, 6, 1.5, 3);
	assert_int_equal(s.n, 3);
	assert_float_equal(s.x[0], 4, 0);
	fit_series__trim(&s, 6, 1.5, 1);
	assert_int_equal(s.n, 2);
	fit_series__clear(&s);
	assert_int_equal(s.n, 0);
	assert_null(s.x);
	assert_int_equal(s.max, 4);
}

/*
 * Accuracy of the slope of a stack leaking at a fixed rate, seen through
 * irregular report times (+-20% of the interval) and churn on the same
 * stack that jitters outstanding bytes by up to `jitter` intervals' worth
 * of leak. Returns the worst relative error over `trials` series.
 */
static double worst_error(size_t n, double jitter, int trials, uint64_t seed)
{
	const double rate = 100e3, dt = 5;
	double worst = 0;

	for (int trial = 0; trial < trials; trial++) {
		struct fit_series s = { .max = 16 };
		struct fit_growth g;
		double t = 0;

		for (size_t i = 0; i < n; i++) {
			t += dt * (1 + 0.2 * synth_noise(&seed));
			assert_int_equal(fit_series__push(&s, t, rate * t + rate * dt * jitter *
							  synth_noise(&seed)), 0);
		}
		/* the estimator the analysis uses: step test, then Theil-Sen */
		assert_int_equal(fit_series__fit(&s, &g), 0);
		if (fabs(g.line.slope - rate) / rate > worst)
			worst = fabs(g.line.slope - rate) / rate;
		fit_series__clear(&s);
	}
	return worst;
}

static void test_accuracy_fixed_rate(void **state)
{
	(void)state;
	/* no churn: exact whatever the report times */
	for (size_t n = 2; n <= 16; n++)
		assert_true(worst_error(n, 0, 200, n) < 1e-9);
	/* churn up to 20% of an interval's leak: within 15% from 5 samples */
	for (size_t n = 5; n <= 16; n++)
		assert_true(worst_error(n, 0.2, 2000, 100 + n) < 0.15);
	/* churn up to 50%: within 15% from 9 samples */
	for (size_t n = 9; n <= 16; n++)
		assert_true(worst_error(n, 0.5, 2000, 200 + n) < 0.15);
}

/*
 * A one-time allocation: z zero samples (the known zero at attach and
 * reports before it), then a jump to J and a flat run of f >= 2 samples.
 * Growth 0 at every sample count from 3 up, wherever the jump falls,
 * whatever the report times (jittered +-20%).
 */
static void test_step_series(void **state)
{
	uint64_t seed = 7;

	(void)state;
	for (size_t n = 3; n <= 32; n++) {
		for (size_t z = 1; z + 2 <= n; z++) {
			struct fit_series s = { .max = 32 };
			struct fit_growth g;
			double t = 0;

			for (size_t i = 0; i < n; i++) {
				assert_int_equal(fit_series__push(&s, t, i < z ? 0 : 1048576), 0);
				t += 5 * (1 + 0.2 * synth_noise(&seed));
			}
			assert_int_equal(fit_series__fit(&s, &g), 0);
			if (g.line.slope != 0 || !g.step || g.step_bytes != 1048576)
				fail_msg("n %zu, jump after %zu: slope %g, step %d (%g)", n, z,
					 g.line.slope, g.step, g.step_bytes);
			assert_int_equal(g.ups, 0);
			assert_float_equal(g.rise, 0, 0);
			fit_series__clear(&s);
		}
	}
}

/* A ramp is never a step; a leak on both sides of a one-time jump keeps its
 * slope; a drop is no step; a single sample off the line is no step. */
static void test_step_not_trend(void **state)
{
	const double x[] = { 0, 5, 10, 15, 20, 25, 30 };
	const double ramp[] = { 0, 500, 1000, 1500, 2000, 2500, 3000 };
	const double jump_leak[] = { 0, 100, 1e6 + 200, 1e6 + 300, 1e6 + 400, 1e6 + 500, 1e6 + 600 };
	const double drop[] = { 5e5, 5e5, 5e5, 0, 0, 0, 0 };
	struct fit_series s = { .max = 16 };
	struct fit_growth g;
	double shift;

	(void)state;
	assert_int_equal(fit_level_shift(x, ramp, 7, &shift), 0);
	for (size_t n = 3; n <= 7; n++)
		assert_int_equal(fit_level_shift(x, ramp, n, &shift), 0);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(fit_series__push(&s, x[i], jump_leak[i]), 0);
	assert_int_equal(fit_series__fit(&s, &g), 0);
	assert_true(g.step);
	assert_float_equal(g.line.slope, 20, 1e-9);	/* 100 bytes per 5 s */
	assert_float_equal(g.step_bytes, 1e6, 1e-6);
	fit_series__clear(&s);
	assert_int_equal(fit_level_shift(x, drop, 7, &shift), 0);
	assert_int_equal(fit_level_shift(x, ramp, 2, &shift), 0);	/* too few */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_least_squares_exact),
		cmocka_unit_test(test_least_squares_errors),
		cmocka_unit_test(test_median),
		cmocka_unit_test(test_median_random),
		cmocka_unit_test(test_theil_sen_exact_and_outliers),
		cmocka_unit_test(test_theil_sen_constant_and_errors),
		cmocka_unit_test(test_r2),
		cmocka_unit_test(test_mann_kendall),
		cmocka_unit_test(test_monotonic_fraction),
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_accuracy_fixed_rate),
		cmocka_unit_test(test_step_series),
		cmocka_unit_test(test_step_not_trend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

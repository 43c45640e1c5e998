// SPDX-License-Identifier: MIT
/*
 * test_analysis_opts.c - the severity rule one clause at a time, and the
 * analysis settings (defaults, rates, NAME=VALUE, consistency).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "analysis/analysis.h"
#include "analysis_synth.h"

#define KB	1000.0

/* The rule itself, one clause at a time. */
static void test_rule_clauses(void **state)
{
	struct analysis_opts o;
	struct sev_input base = {
		.growth_bps = 100 * KB, .r2 = 0.99, .mono = 1, .mk_z = 4, .n = 12, .ups = 11,
		.span_s = 55, .last_dt = 5, .prev_bytes = 5.5e6, .rise = 5.5e6, .last_step = 1,
		.bytes = 6e6, .allocs = 6000, .share = 0.5, .oldest_age_s = 60, .mean_age_s = 30,
	}, in;
	const char *why;

	(void)state;
	analysis_opts__defaults(&o);
	assert_int_equal(analysis__severity(&o, &base, &why), SEV_HIGH);
	assert_string_equal(why, "steady growth");

	in = base;
	in.mk_z = 1.5;
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_NONE);
	assert_non_null(strstr(why, "no significant trend"));

	in = base;
	in.oldest_age_s = 2;	/* all younger than the 5 s interval */
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_NONE);
	assert_non_null(strstr(why, "churn"));
	in.prev_bytes = 0;	/* after a zero: younger than half the interval */
	in.oldest_age_s = 2.6;	/* not churn; young for 55 s of growth: turnover */
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_MEDIUM);
	in.oldest_age_s = 2.4;
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_NONE);
	in.oldest_age_s = -1;	/* only the mean: under a quarter of that */
	in.mean_age_s = 0.6;
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_NONE);
	in.mean_age_s = 0.7;
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_HIGH);

	in = base;
	in.r2 = 0.5;
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_LOW);
	assert_string_equal(why, "unsteady growth");

	in = base;
	in.mono = 0.55;
	assert_int_equal(analysis__severity(&o, &in, NULL), SEV_LOW);

	in = base;	/* the origin and one sample: a step or a trend? */
	in.n = 2;
	in.ups = 1;
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_NONE);
	assert_string_equal(why, "too short to rate");

	in = base;	/* 4 samples: too few for the test, grew every time */
	in.n = 4;
	in.ups = 3;
	in.mk_z = 1.7;
	assert_int_equal(analysis__severity(&o, &in, NULL), SEV_HIGH);
	in.ups = 2;
	assert_int_equal(analysis__severity(&o, &in, NULL), SEV_NONE);

	in = base;	/* everything allocated together, flat since */
	in.mean_age_s = 58;
	in.last_step = 0;	/* a one-time allocation: not growth at all */
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_NONE);
	assert_string_equal(why, GROWTH_BURST);
	in.last_step = 1;	/* still growing: not a burst */
	assert_int_equal(analysis__severity(&o, &in, NULL), SEV_HIGH);

	in = base;	/* a jump with one sample beside it: a step, trend unseen */
	in.step = 1;
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_NONE);
	assert_string_equal(why, GROWTH_STEP);
	in.step_trend = 1;	/* the trend around it measured: rated */
	assert_int_equal(analysis__severity(&o, &in, NULL), SEV_HIGH);

	in = base;	/* oldest 20 s for 55 s of growth: turns over */
	in.oldest_age_s = 20;
	in.mean_age_s = 10;
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_MEDIUM);
	assert_non_null(strstr(why, "turns over"));

	in = base;
	in.share = 0.005;
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_MEDIUM);
	assert_non_null(strstr(why, "share"));
	in.oldest_age_s = 20;	/* both: two levels, never below low */
	in.growth_bps = 20 * KB;
	assert_int_equal(analysis__severity(&o, &in, NULL), SEV_LOW);

	in = base;	/* ages unknown: no age clause */
	in.oldest_age_s = -1;
	in.mean_age_s = -1;
	assert_int_equal(analysis__severity(&o, &in, NULL), SEV_HIGH);

	in = base;
	in.bytes = 0;
	assert_int_equal(analysis__severity(&o, &in, NULL), SEV_NONE);
	in = base;
	in.growth_bps = -100 * KB;
	assert_int_equal(analysis__severity(&o, &in, &why), SEV_NONE);
	assert_string_equal(why, "not growing");
}

static void test_opts(void **state)
{
	struct analysis_opts o, saved;
	double bps;

	(void)state;
	analysis_opts__defaults(&o);
	assert_int_equal(analysis_opts__check(&o), 0);
	assert_float_equal(o.medium_bps, 30e6 / 3600, 1e-9);
	assert_float_equal(o.high_bps, 200e6 / 3600, 1e-9);

	assert_int_equal(analysis__parse_rate("1000", &bps), 0);
	assert_float_equal(bps, 1000, 0);
	assert_int_equal(analysis__parse_rate("200MB/h", &bps), 0);
	assert_float_equal(bps, 200e6 / 3600, 1e-9);
	assert_int_equal(analysis__parse_rate("64KiB/s", &bps), 0);
	assert_float_equal(bps, 65536, 0);
	assert_int_equal(analysis__parse_rate("1.5M", &bps), 0);
	assert_float_equal(bps, 1.5e6, 0);
	assert_int_equal(analysis__parse_rate("2 GiB/h", &bps), 0);
	assert_float_equal(bps, 2.0 * (1 << 30) / 3600, 1e-6);
	assert_int_equal(analysis__parse_rate("10kB", &bps), 0);
	assert_float_equal(bps, 1e4, 0);
	assert_int_equal(analysis__parse_rate("-5", &bps), -EINVAL);
	assert_int_equal(analysis__parse_rate("", &bps), -EINVAL);
	assert_int_equal(analysis__parse_rate("5 MB/day", &bps), -EINVAL);
	assert_int_equal(analysis__parse_rate("inf", &bps), -EINVAL);
	assert_int_equal(analysis__parse_rate("fast", &bps), -EINVAL);

	assert_int_equal(analysis_opts__set(&o, "sev-medium", "50MB/h"), 0);
	assert_float_equal(o.medium_bps, 50e6 / 3600, 1e-9);
	assert_int_equal(analysis_opts__set(&o, "window", "120"), 0);
	assert_float_equal(o.window_s, 120, 0);
	assert_int_equal(analysis_opts__set(&o, "window-max", "64"), 0);
	assert_int_equal(o.window_max, 64);
	assert_int_equal(analysis_opts__set(&o, "verdict", "high"), 0);
	assert_int_equal(o.verdict_min, SEV_HIGH);
	assert_int_equal(analysis_opts__set(&o, "older", "30"), 0);
	assert_int_equal(analysis_opts__check(&o), 0);
	saved = o;
	assert_int_equal(analysis_opts__set(&o, "min-r2", "1.5"), -EINVAL);
	assert_int_equal(analysis_opts__set(&o, "window-min", "2.5"), -EINVAL);
	assert_int_equal(analysis_opts__set(&o, "verdict", "none"), -EINVAL);
	assert_int_equal(analysis_opts__set(&o, "sev-high", "lots"), -EINVAL);
	assert_int_equal(analysis_opts__set(&o, "no-such", "1"), -ENOENT);
	assert_memory_equal(&o, &saved, sizeof(o));

	/* thresholds must not decrease */
	assert_int_equal(analysis_opts__set(&o, "sev-low", "100MB/h"), 0);
	assert_int_equal(analysis_opts__check(&o), -EINVAL);
	errno = 0;
	assert_null(analysis__new(&o));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_clauses),
		cmocka_unit_test(test_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

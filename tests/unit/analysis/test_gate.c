// SPDX-License-Identifier: MIT
/* test_gate.c - --fail-on / --max-growth parsing, decisions and messages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "analysis/analysis.h"
#include "analysis/gate.h"
#include "analysis_synth.h"

/* An analysed report: a medium leak at 20 KB/s, a noisy stack, a low one. */
static struct report *gated_report(void)
{
	struct synth_stack st[3] = {
		{ .id = 1, .bytes = 1200000, .fn = "leak_fn", .fn2 = "main" },
		{ .id = 2, .bytes = 900000, .fn = "churn", .fn2 = "serve" },
		{ .id = 3, .bytes = 100000, .fn = "slow", .fn2 = "main" },
	};
	struct report *r = synth_report(60, st, 3);

	for (size_t i = 0; i < 3; i++)
		r->stacks[i].analysed = true;
	r->stacks[0].severity = SEV_MEDIUM;
	r->stacks[0].growth_bytes_per_s = 20000;
	r->stacks[1].severity = SEV_NONE;	/* no trend: its slope is noise */
	r->stacks[1].growth_bytes_per_s = 50000;
	r->stacks[2].severity = SEV_LOW;
	r->stacks[2].growth_bytes_per_s = 1000;
	return r;
}

static void test_parse(void **state)
{
	struct gate_opts g, saved;

	(void)state;
	gate_opts__defaults(&g);
	assert_false(g.fail_on_set);
	assert_false(g.max_growth_set);
	assert_int_equal(gate__parse_fail_on(&g, "high"), 0);
	assert_true(g.fail_on_set);
	assert_int_equal(g.fail_on, SEV_HIGH);
	assert_int_equal(gate__parse_max_growth(&g, "200MB/h"), 0);
	assert_true(g.max_growth_set);
	assert_float_equal(g.max_growth_bps, 200e6 / 3600, 1e-9);
	assert_int_equal(gate__parse_max_growth(&g, "4096"), 0);
	assert_float_equal(g.max_growth_bps, 4096, 0);
	saved = g;
	assert_int_equal(gate__parse_fail_on(&g, "none"), -EINVAL);
	assert_int_equal(gate__parse_fail_on(&g, "HIGH"), -EINVAL);
	assert_int_equal(gate__parse_fail_on(&g, NULL), -EINVAL);
	assert_int_equal(gate__parse_max_growth(&g, "-1"), -EINVAL);
	assert_int_equal(gate__parse_max_growth(&g, "lots"), -EINVAL);
	assert_memory_equal(&g, &saved, sizeof(g));
}

static void test_statuses_distinct(void **state)
{
	(void)state;
	assert_int_equal(GATE_EXIT_OK, 0);
	assert_true(GATE_EXIT_SEVERITY != GATE_EXIT_GROWTH);
	/* 1 and 2 are memtrace's error and usage statuses */
	assert_true(GATE_EXIT_SEVERITY > 2 && GATE_EXIT_GROWTH > 2);
	assert_true(GATE_EXIT_SEVERITY < 126 && GATE_EXIT_GROWTH < 126);
}

static void test_check(void **state)
{
	struct report *r = gated_report();
	struct gate_result res;
	struct gate_opts g;

	(void)state;
	gate_opts__defaults(&g);
	assert_int_equal(gate__check(&g, r, &res), GATE_EXIT_OK);
	assert_int_equal(res.severity_stack, -1);
	assert_int_equal(res.growth_stack, -1);

	gate__parse_fail_on(&g, "high");
	assert_int_equal(gate__check(&g, r, NULL), GATE_EXIT_OK);
	gate__parse_fail_on(&g, "medium");
	assert_int_equal(gate__check(&g, r, &res), GATE_EXIT_SEVERITY);
	assert_int_equal(res.severity_stack, 0);
	gate__parse_fail_on(&g, "low");
	assert_int_equal(gate__check(&g, r, &res), GATE_EXIT_SEVERITY);
	assert_int_equal(res.severity_stack, 0);	/* the worst one */

	gate_opts__defaults(&g);
	gate__parse_max_growth(&g, "30000");	/* the noisy 50000 B/s does not count */
	assert_int_equal(gate__check(&g, r, &res), GATE_EXIT_OK);
	gate__parse_max_growth(&g, "500");
	assert_int_equal(gate__check(&g, r, &res), GATE_EXIT_GROWTH);
	assert_int_equal(res.growth_stack, 0);	/* the fastest one */
	gate__parse_max_growth(&g, "20000");	/* strictly above */
	assert_int_equal(gate__check(&g, r, &res), GATE_EXIT_OK);

	/* both: severity wins, both found */
	gate__parse_max_growth(&g, "500");
	gate__parse_fail_on(&g, "medium");
	assert_int_equal(gate__check(&g, r, &res), GATE_EXIT_SEVERITY);
	assert_int_equal(res.severity_stack, 0);
	assert_int_equal(res.growth_stack, 0);

	/* stacks not analysed never trip */
	for (size_t i = 0; i < r->nr_stacks; i++)
		r->stacks[i].analysed = false;
	assert_int_equal(gate__check(&g, r, &res), GATE_EXIT_OK);
	report__free(r);
}

static void test_print(void **state)
{
	struct report *r = gated_report();
	struct gate_result res;
	struct gate_opts g;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	gate_opts__defaults(&g);
	gate__parse_fail_on(&g, "medium");
	gate__parse_max_growth(&g, "500");
	gate__check(&g, r, &res);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(gate__print(&g, &res, r, f), 0);
	fclose(f);
	assert_string_equal(text,
		"memtrace: --fail-on medium: medium stack leak_fn <- main [malloc] growing +72.0 MB/h (+20000 B/s), exit 3\n"
		"memtrace: --max-growth 500 B/s: stack leak_fn <- main [malloc] grows +20000 B/s (+72.0 MB/h), exit 3\n");
	free(text);

	text = NULL;
	gate_opts__defaults(&g);
	gate__check(&g, r, &res);
	f = open_memstream(&text, &len);
	assert_int_equal(gate__print(&g, &res, r, f), 0);
	fclose(f);
	assert_string_equal(text, "");
	free(text);
	report__free(r);
}

/* End to end with the analysis: a steady leak trips --fail-on medium. */
static void test_with_analysis(void **state)
{
	struct analysis *a = analysis__new(NULL);
	struct report *r = NULL;
	struct gate_opts g;

	(void)state;
	assert_non_null(a);
	for (double t = 5; t <= 60; t += 5) {
		struct synth_stack st = { .id = 1, .bytes = (int64_t)(100e3 * t), .allocs = (int64_t)t,
					  .oldest_age_s = t, .mean_age_s = t / 2, .fn = "leak_fn" };

		report__free(r);
		r = synth_report(t, &st, 1);
		assert_int_equal(analysis__update(a, r), 0);
	}
	r->final = true;
	gate_opts__defaults(&g);
	gate__parse_fail_on(&g, "medium");
	assert_int_equal(gate__check(&g, r, NULL), GATE_EXIT_SEVERITY);
	gate_opts__defaults(&g);
	gate__parse_max_growth(&g, "200MB/h");	/* 100 KB/s = 360 MB/h */
	assert_int_equal(gate__check(&g, r, NULL), GATE_EXIT_GROWTH);
	gate__parse_max_growth(&g, "400MB/h");
	assert_int_equal(gate__check(&g, r, NULL), GATE_EXIT_OK);
	report__free(r);
	analysis__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_statuses_distinct),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_with_analysis),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

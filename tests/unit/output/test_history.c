// SPDX-License-Identifier: MIT
/*
 * test_history.c - the dashboard's history: points older than the window
 * are forgotten, never more than the point cap, a report at the same time
 * replaces the newest point, each point keeps the biggest stacks in order
 * and sums what every stack allocated and freed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "output/history.h"
#include "writers_fixture.h"

static struct report *at(struct report *r, double elapsed)
{
	r->elapsed_s = elapsed;
	r->time = 1700000000 + elapsed;
	return r;
}

static void test_window(void **state)
{
	struct history *h = history__new(10, 0);
	struct report *r = fx_big_report(5, 3);
	(void)state;

	assert_non_null(h);
	assert_true(history__window(h) == 10);
	for (int i = 0; i < 100; i++)
		history__add(h, at(r, i));
	/* 89..99: the newest and every point at most 10 s before it */
	assert_int_equal(history__len(h), 11);
	assert_true(history__at(h, 0)->elapsed_s == 89);
	assert_true(history__at(h, 10)->elapsed_s == 99);
	/* a report at the same time (a final one) replaces the newest point */
	r->totals.outstanding_bytes = 777;
	history__add(h, at(r, 99));
	assert_int_equal(history__len(h), 11);
	assert_int_equal(history__at(h, 10)->outstanding_bytes, 777);
	/* a long gap: the two newest stay, whatever the window */
	history__add(h, at(r, 1000));
	assert_int_equal(history__len(h), 2);
	history__free(h);
	report__free(r);
}

static void test_point_cap(void **state)
{
	struct history *h = history__new(1e9, 0), *small = history__new(1e9, 3);
	struct report *r = fx_big_report(2, 2);
	(void)state;

	for (int i = 0; i < HISTORY_MAX_POINTS + 100; i++) {
		history__add(h, at(r, i));
		history__add(small, at(r, i));
	}
	assert_int_equal(history__len(h), HISTORY_MAX_POINTS);
	assert_true(history__at(h, HISTORY_MAX_POINTS - 1)->elapsed_s == HISTORY_MAX_POINTS + 99);
	assert_true(history__at(h, 0)->elapsed_s == 100);
	assert_int_equal(history__len(small), 3);
	history__free(h);
	history__free(small);
	history__free(NULL);
	report__free(r);
}

static void test_point_contents(void **state)
{
	struct history *h = history__new(60, 0);
	struct report *r = fx_big_report(HISTORY_TOP + 8, 2);
	const struct history_point *pt;
	uint64_t alloc_bytes = 0;
	(void)state;

	for (size_t i = 0; i < r->nr_stacks; i++) {
		r->stacks[i].free_bytes = 10;
		alloc_bytes += r->stacks[i].alloc_bytes;
	}
	r->stacks[r->nr_stacks - 1].outstanding_bytes = 0;	/* freed: not a top stack */
	r->totals.alloc_calls = 50;
	r->suspect = 1;
	r->worst = SEV_HIGH;
	history__add(h, at(r, 1));
	pt = history__at(h, 0);
	assert_int_equal(pt->nr_top, HISTORY_TOP);
	for (size_t i = 0; i < pt->nr_top; i++) {
		assert_int_equal(pt->top[i].stack_id, r->stacks[i].stack_id);
		assert_int_equal(pt->top[i].bytes, r->stacks[i].outstanding_bytes);
	}
	assert_int_equal(pt->alloc_bytes, alloc_bytes);
	assert_int_equal(pt->free_bytes, 10 * r->nr_stacks);
	assert_int_equal(pt->alloc_calls, 50);
	assert_true(pt->leak);
	assert_int_equal(pt->suspect_id, r->stacks[1].stack_id);
	assert_int_equal(pt->worst, SEV_HIGH);
	r->suspect = -1;
	history__add(h, at(r, 2));
	assert_false(history__at(h, 1)->leak);
	assert_int_equal(history__at(h, 1)->suspect_id, 0);
	history__free(h);
	report__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_point_cap),
		cmocka_unit_test(test_point_contents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

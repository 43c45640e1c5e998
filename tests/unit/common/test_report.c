// SPDX-License-Identifier: MIT
/* test_report.c - report__merge (user + kernel reports), names of scopes and kinds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "common/report.h"

static struct report *make(size_t n, int64_t base, enum alloc_kind kind)
{
	struct report *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->stacks = calloc(n + 1, sizeof(*r->stacks));
	assert_non_null(r->stacks);
	for (size_t i = 0; i < n; i++) {
		r->stacks[i].stack_id = (uint64_t)base + i;
		r->stacks[i].kind = kind;
		r->stacks[i].outstanding_bytes = base * 10 + (int64_t)i;
		r->totals.outstanding_bytes += r->stacks[i].outstanding_bytes;
	}
	r->nr_stacks = n;
	r->totals.alloc_calls = n;
	r->totals.drops[DROP_KMEM_MISSED] = (uint64_t)base;
	r->totals.dropped_events = (uint64_t)base;
	r->totals.counters[CNT_PROBE_HITS] = 100;
	return r;
}

static void test_merge(void **state)
{
	struct report *u = make(2, 1, KIND_MALLOC), *k = make(3, 5, KIND_KMALLOC);

	(void)state;
	k->stacks[0].cache = strdup("filp");
	assert_int_equal(report__merge(u, k), 0);	/* k is freed */
	assert_int_equal(u->nr_stacks, 5);
	assert_int_equal(u->totals.alloc_calls, 5);
	assert_int_equal(u->totals.outstanding_bytes, 10 + 11 + 50 + 51 + 52);
	assert_int_equal(u->totals.drops[DROP_KMEM_MISSED], 6);
	assert_int_equal(u->totals.dropped_events, 6);
	assert_int_equal(u->totals.counters[CNT_PROBE_HITS], 200);
	/* sorted by outstanding bytes again */
	assert_int_equal(u->stacks[0].outstanding_bytes, 52);
	assert_int_equal(u->stacks[4].outstanding_bytes, 10);
	for (size_t i = 0; i < u->nr_stacks; i++)
		if (u->stacks[i].stack_id == 5)
			assert_string_equal(u->stacks[i].cache, "filp");
	report__free(u);	/* owns the cache name now */
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(alloc_kind_name(KIND_KMALLOC), "kmalloc");
	assert_string_equal(alloc_kind_name(KIND_KMEM_CACHE), "kmem_cache");
	assert_string_equal(alloc_kind_name(KIND_PAGES), "pages");
	assert_string_equal(alloc_kind_name(KIND_PERCPU), "percpu");
	assert_string_equal(alloc_kind_name(KIND_MREMAP), "mremap");
	assert_string_equal(trace_scope_name(SCOPE_USER), "user");
	assert_string_equal(trace_scope_name(SCOPE_USER_KERNEL), "user+kernel");
	assert_string_equal(trace_scope_name(SCOPE_KERNEL_PID), "kernel");
	assert_string_equal(trace_scope_name(SCOPE_KERNEL_HOST), "kernel-host");
	assert_string_equal(trace_scope_name((enum trace_scope)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/* test_kmem_tracer.c - the tracepoint check of --kernel (no privileges needed:
 * it reads the kernel's BTF only). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "tracer/kmem_tracer.h"

static void need_btf(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		skip();
}

/* This kernel has every tracepoint --kernel needs. */
static void test_all_present(void **state)
{
	struct kmem_config cfg = { 0 };
	char why[256] = "";
	bool node = true;

	(void)state;
	need_btf();
	assert_int_equal(kmem_tracer__check(&cfg, &node, why, sizeof(why)), 0);
	assert_string_equal(why, "");
}

/* A kernel without a tracepoint (simulated: one more is required, which no
 * kernel has): -ENOENT and one line naming it. */
static void test_missing_tracepoint(void **state)
{
	struct kmem_config cfg = { .require = "kmem/memtrace_no_such_tracepoint" };
	char why[256] = "";

	(void)state;
	need_btf();
	assert_int_equal(kmem_tracer__check(&cfg, NULL, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "no tracepoint kmem/memtrace_no_such_tracepoint"));
	assert_non_null(strstr(why, "--kernel needs it"));
	assert_null(strchr(why, '\n'));
	/* kmem_tracer__new refuses before loading anything, with the same line */
	errno = 0;
	assert_null(kmem_tracer__new(&cfg, 0));
	assert_int_equal(errno, ENOENT);
}

/* The group prefix is optional; a real tracepoint named alone passes. */
static void test_required_without_group(void **state)
{
	struct kmem_config cfg = { .require = "mm_page_free" };
	char why[256] = "";

	(void)state;
	need_btf();
	assert_int_equal(kmem_tracer__check(&cfg, NULL, why, sizeof(why)), 0);
	cfg.require = "percpu:percpu_free_percpu";
	assert_int_equal(kmem_tracer__check(&cfg, NULL, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_present),
		cmocka_unit_test(test_missing_tracepoint),
		cmocka_unit_test(test_required_without_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

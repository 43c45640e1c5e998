// SPDX-License-Identifier: MIT
/* test_kernelview.c - Slab, SUnreclaim, Percpu from a fake meminfo; growth. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "analysis/kernelview.h"

static void read_text(const char *text, struct kernel_view *v, int want)
{
	char path[] = "/tmp/memtrace-meminfo-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	assert_int_equal(kernel_view__read(path, v), want);
	unlink(path);
}

static void test_read_and_growth(void **state)
{
	struct kernel_view a, b;

	(void)state;
	read_text("MemTotal:       4000000 kB\nSlab:             100000 kB\n"
		  "SReclaimable:      60000 kB\nSUnreclaim:        40000 kB\n"
		  "Percpu:             2048 kB\n", &a, 0);
	assert_int_equal(a.slab_bytes, 100000LL * 1024);
	assert_int_equal(a.sunreclaim_bytes, 40000LL * 1024);
	assert_int_equal(a.percpu_bytes, 2048LL * 1024);
	read_text("Slab:             100500 kB\nSUnreclaim:        39000 kB\n", &b, 0);
	assert_int_equal(b.percpu_bytes, -1);	/* not in the file */
	kernel_view__growth(&b, &a, 10.0);
	assert_int_equal(b.slab_delta, 500 * 1024);
	assert_true(b.slab_growth_bytes_per_s == 500 * 1024 / 10.0);
	assert_int_equal(b.sunreclaim_delta, -1000 * 1024);
	assert_int_equal(b.percpu_delta, 0);	/* unknown: no growth */
	assert_true(b.percpu_growth_bytes_per_s == 0);
	kernel_view__growth(&b, &a, 0);	/* no time yet: deltas, no rate */
	assert_int_equal(b.slab_delta, 500 * 1024);
	assert_true(b.slab_growth_bytes_per_s == 0);
}

static void test_missing_file(void **state)
{
	struct kernel_view v;

	(void)state;
	assert_int_equal(kernel_view__read("/nonexistent/meminfo", &v), -ENOENT);
	assert_int_equal(v.slab_bytes, -1);
	assert_int_equal(v.sunreclaim_bytes, -1);
	assert_int_equal(v.percpu_bytes, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_and_growth),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

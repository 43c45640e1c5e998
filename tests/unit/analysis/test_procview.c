// SPDX-License-Identifier: MIT
/* test_procview.c - RSS and heap from a fake /proc tree; growth tracking. */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "analysis/procview.h"

struct ctx {
	char root[64];		/* fake proc root */
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	strcpy(c->root, "/tmp/memtrace-proc-XXXXXX");
	if (!mkdtemp(c->root)) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	nftw(c->root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(c);
	return 0;
}

/* Write <root>/<pid>/<name> with text. */
static void put(struct ctx *c, int pid, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d", c->root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/%s", c->root, pid, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char status_text[] =
	"Name:\tleaky\n"
	"VmPeak:\t  300000 kB\n"
	"VmRSS:\t  123456 kB\n"
	"RssAnon:\t  100000 kB\n"
	"RssFile:\t   23456 kB\n"
	"Threads:\t1\n";

static const char rollup_text[] =
	"55d0c0a00000-7ffd2b1ff000 ---p 00000000 00:00 0                          [rollup]\n"
	"Rss:              123456 kB\n"
	"Pss:              120000 kB\n"
	"Pss_Anon:          99000 kB\n"
	"Anonymous:        101000 kB\n"
	"AnonHugePages:         0 kB\n"
	"Swap:                  0 kB\n";

static void test_read_both(void **state)
{
	struct ctx *c = *state;
	struct proc_view pv;

	put(c, 100, "status", status_text);
	put(c, 100, "smaps_rollup", rollup_text);
	assert_int_equal(procview__read(c->root, 100, &pv), 0);
	assert_int_equal(pv.rss_bytes, 123456LL * 1024);
	assert_int_equal(pv.heap_bytes, 101000LL * 1024);	/* Anonymous, not AnonHugePages */
	assert_float_equal(pv.rss_growth_bytes_per_s, 0, 0);
}

static void test_read_no_rollup(void **state)
{
	struct ctx *c = *state;
	struct proc_view pv;

	put(c, 101, "status", status_text);
	assert_int_equal(procview__read(c->root, 101, &pv), 0);
	assert_int_equal(pv.rss_bytes, 123456LL * 1024);
	assert_int_equal(pv.heap_bytes, 100000LL * 1024);	/* RssAnon */
}

static void test_read_kernel_thread(void **state)
{
	struct ctx *c = *state;
	struct proc_view pv;

	put(c, 2, "status", "Name:\tkthreadd\nThreads:\t1\n");
	assert_int_equal(procview__read(c->root, 2, &pv), 0);
	assert_int_equal(pv.rss_bytes, -1);
	assert_int_equal(pv.heap_bytes, -1);
}

static void test_read_errors(void **state)
{
	struct ctx *c = *state;
	struct proc_view pv = { .rss_bytes = 5, .heap_bytes = 5 };

	assert_int_equal(procview__read(c->root, 999999, &pv), -ENOENT);
	assert_int_equal(pv.rss_bytes, -1);
	assert_int_equal(pv.heap_bytes, -1);
	assert_int_equal(procview__read(c->root, 0, &pv), -EINVAL);
	assert_int_equal(procview__read(c->root, -3, &pv), -EINVAL);
}

static void test_read_self(void **state)
{
	struct proc_view pv;

	(void)state;
	if (access("/proc/self/status", R_OK))
		skip();
	assert_int_equal(procview__read("/proc", getpid(), &pv), 0);
	assert_true(pv.rss_bytes > 0);
	assert_true(pv.heap_bytes > 0);
}

static void test_growth(void **state)
{
	struct proc_growth *g = proc_growth__new(60, 5, 32);
	struct proc_view pv;

	(void)state;
	assert_non_null(g);
	for (int i = 0; i <= 20; i++) {
		pv = (struct proc_view){ .rss_bytes = 100000000 + 2000 * 5 * i,
					 .heap_bytes = i == 7 ? -1 : 50000000 + 1000 * 5 * i };
		assert_int_equal(proc_growth__update(g, 5.0 * i, &pv), 0);
		if (i == 0) {
			assert_float_equal(pv.rss_growth_bytes_per_s, 0, 0);
			continue;
		}
		assert_float_equal(pv.rss_growth_bytes_per_s, 2000, 1e-6);
		/* an unknown sample is skipped, and reads as no growth */
		assert_float_equal(pv.heap_growth_bytes_per_s, i == 7 ? 0 : 1000, 1e-6);
	}
	pv = (struct proc_view){ .rss_bytes = 1, .heap_bytes = 1 };
	assert_int_equal(proc_growth__update(g, 10, &pv), -EINVAL);
	assert_float_equal(pv.rss_growth_bytes_per_s, 0, 0);
	proc_growth__free(g);
	proc_growth__free(NULL);
	errno = 0;
	assert_null(proc_growth__new(0, 5, 32));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_both, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_no_rollup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_kernel_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
		cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * test_eh_frame.c - eh_frame__for_each_fde() gives exactly the FDE ranges
 * readelf prints, for libc.so.6 and for this test binary.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unwind/eh_frame.h"

struct ranges {
	size_t nr, cap;
	uint64_t (*v)[2];
};

static int collect(uint64_t lo, uint64_t hi, void *ctx)
{
	struct ranges *r = ctx;

	if (r->nr == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		if (!r->v)
			return -ENOMEM;
	}
	r->v[r->nr][0] = lo;
	r->v[r->nr][1] = hi;
	r->nr++;
	return 0;
}

static int stop_at_3(uint64_t lo, uint64_t hi, void *ctx)
{
	int *n = ctx;

	(void)lo;
	(void)hi;
	return ++*n == 3 ? 42 : 0;
}

/* readelf's non-empty FDE ranges, in section order. */
static void readelf_ranges(const char *path, struct ranges *r)
{
	char cmd[512], line[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf --debug-dump=frames %s 2>/dev/null", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *q = strstr(line, " FDE cie=");
		unsigned long long lo, hi;

		if (q && (q = strstr(q, "pc=")) && sscanf(q, "pc=%llx..%llx", &lo, &hi) == 2 &&
		    hi > lo)
			collect(lo, hi, r);
	}
	pclose(p);
}

/* Open path, find .eh_frame, run fn. */
static int for_each(const char *path, eh_frame_fde_fn fn, void *ctx)
{
	Elf_Scn *scn = NULL, *eh = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf *elf;
	int fd, rc;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(elf);
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) &&
		    !strcmp(elf_strptr(elf, shstrndx, sh.sh_name), ".eh_frame"))
			eh = scn;
	assert_non_null(eh);
	rc = eh_frame__for_each_fde(elf, eh, fn, ctx);
	elf_end(elf);
	close(fd);
	return rc;
}

static void check_file(const char *path)
{
	struct ranges got = { 0 }, want = { 0 };
	int n;

	if (access(path, R_OK))
		skip();
	readelf_ranges(path, &want);
	n = for_each(path, collect, &got);
	assert_true(want.nr > 0);
	assert_int_equal(n, want.nr);
	assert_int_equal(got.nr, want.nr);
	assert_memory_equal(got.v, want.v, got.nr * sizeof(*got.v));
	free(got.v);
	free(want.v);
}

static void test_libc(void **state)
{
	(void)state;
	check_file("/lib/x86_64-linux-gnu/libc.so.6");
}

static void test_self(void **state)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	(void)state;
	assert_true(n > 0);	/* a path readelf, another process, can open */
	self[n] = 0;
	check_file(self);
}

static void test_callback_stops(void **state)
{
	int n = 0;

	(void)state;
	assert_int_equal(for_each("/proc/self/exe", stop_at_3, &n), 42);
	assert_int_equal(n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libc),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_callback_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

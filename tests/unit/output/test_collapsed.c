// SPDX-License-Identifier: MIT
/*
 * test_collapsed.c - collapsed stacks: exact lines for the fixture
 * (caller-most first, inlined frames kept, unsymbolized frames named by
 * module+offset or ip, freed stacks left out), separators made safe, and
 * write errors reported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include "output/collapsed.h"
#include "writers_fixture.h"

static char *render(const struct report *r, int *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*err = collapsed__write(r, f);
	fclose(f);
	return buf;
}

static void test_fixture_lines(void **state)
{
	struct report *r = fx_report();
	int err;
	char *out = render(r, &err);
	(void)state;

	assert_int_equal(err, 0);
	assert_string_equal(out,
		"__libc_start_main;main;leak_outer;leak_inner 3145728\n"
		"__libc_start_main;main;" FX_POOL_NAME " 1048576\n"
		"__libc_start_main;main;libfoo.so+0x1234 524288\n"
		"0xdead0000 4096\n");
	free(out);
	report__free(r);
}

static void test_separators_safe(void **state)
{
	struct report *r = fx_report();
	int err, lines = 0;
	char *out, *line, *save;
	(void)state;

	free(r->stacks[0].frames[0].function);
	r->stacks[0].frames[0].function = strdup("odd;name\nwith breaks");
	out = render(r, &err);
	assert_int_equal(err, 0);
	assert_non_null(strstr(out, ";odd:name with breaks 3145728\n"));
	/* every line splits at its last space into frames and a number */
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' '), *end;

		assert_non_null(sp);
		assert_true(strtoll(sp + 1, &end, 10) > 0);
		assert_int_equal(*end, 0);
		lines++;
	}
	assert_int_equal(lines, 4);
	free(out);
	report__free(r);
}

static void test_frame_names(void **state)
{
	struct frame f = { .ip = 0x1234 };
	char buf[64];
	(void)state;

	assert_string_equal(frame__name(&f, buf, sizeof(buf)), "0x1234");
	f.module = "/lib/libz.so.1";
	f.offset = 0x99;
	assert_string_equal(frame__name(&f, buf, sizeof(buf)), "libz.so.1+0x99");
	f.function = "inflate";
	assert_string_equal(frame__name(&f, buf, sizeof(buf)), "inflate");
	assert_string_equal(frame__module_base(NULL), "?");
	assert_string_equal(frame__module_base("plain"), "plain");
}

static void test_empty_and_error(void **state)
{
	struct report empty = { 0 };
	struct report *r = fx_report();
	int err;
	char *out = render(&empty, &err);
	FILE *full;
	(void)state;

	assert_int_equal(err, 0);
	assert_string_equal(out, "");
	free(out);
	full = fopen("/dev/full", "w");
	assert_non_null(full);
	assert_int_equal(collapsed__write(r, full), -EIO);
	fclose(full);
	report__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_lines),
		cmocka_unit_test(test_separators_safe),
		cmocka_unit_test(test_frame_names),
		cmocka_unit_test(test_empty_and_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

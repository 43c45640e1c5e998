// SPDX-License-Identifier: MIT
/* test_kdebug.c - file:line through a "vmlinux" moved like KASLR moves the
 * kernel: the fx_nopie fixture (non-PIE, -g) stands for it, its
 * outer_function for _text; build ids from notes files. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "symbolize/kdebug.h"

#define SLIDE 0xffffffff00000000ull	/* "KASLR": every address moved by this */

static char fx[PATH_MAX];

/* The fixture, and the address of one of its symbols (nm). */
static uint64_t fixture(const char *sym)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 64];
	unsigned long long a = 0;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *p;

	if (n <= 0)
		skip();
	exe[n] = '\0';
	snprintf(fx, sizeof(fx), "%s/../fixtures/syms/fx_nopie", dirname(exe));
	if (access(fx, R_OK))
		skip();	/* make unit builds it */
	snprintf(cmd, sizeof(cmd), "nm %s | awk '$3 == \"%s\" { print $1 }'", fx, sym);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fscanf(p, "%llx", &a) != 1)
		a = 0;
	pclose(p);
	if (!a)
		skip();	/* no nm */
	return a;
}

static void test_lines_after_slide(void **state)
{
	uint64_t at = fixture("outer_function");
	struct kdebug *kd;
	const char *file;
	int line;

	(void)state;
	kd = kdebug__open(fx, "outer_function", at + SLIDE);
	assert_non_null(kd);
	/* outer_function is at fx_inline.c lines 26-30, with helper_inline
	 * (lines 19-23) inlined at its start: the innermost line comes back */
	assert_int_equal(kdebug__line(kd, at + SLIDE + 4, &file, &line), 0);
	assert_string_equal(basename((char *)file), "fx_inline.c");
	assert_in_range(line, 19, 30);
	/* without the slide the address is nowhere */
	assert_int_equal(kdebug__line(kd, 0x10, &file, &line), -ENOENT);
	kdebug__free(kd);
}

static void test_bad_open(void **state)
{
	(void)state;
	fixture("outer_function");
	errno = 0;
	assert_null(kdebug__open(fx, "memtrace_no_such_symbol", 0xffffffff81000000ull));
	assert_int_equal(errno, ENOENT);
	assert_null(kdebug__open("/nonexistent/vmlinux", "_text", 0xffffffff81000000ull));
}

/* Found by build id under the debug directory, only when the ids match. */
static void test_find_by_build_id(void **state)
{
	char dir[] = "/tmp/memtrace-kdebug-XXXXXX", notes[PATH_MAX], path[PATH_MAX];
	char cmd[3 * PATH_MAX], hex[129] = "";
	unsigned char desc[64];
	uint32_t hdr[3];
	FILE *p, *f;
	size_t n = 0;

	(void)state;
	fixture("outer_function");
	snprintf(cmd, sizeof(cmd), "readelf -n --wide %s | sed -n 's/.*Build ID: *//p'", fx);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(hex, sizeof(hex), p))
		hex[0] = '\0';
	pclose(p);
	hex[strcspn(hex, "\n")] = '\0';
	if (strlen(hex) < 4)
		skip();	/* no readelf, or no build id */
	for (n = 0; n < strlen(hex) / 2; n++)
		sscanf(hex + 2 * n, "%2hhx", &desc[n]);
	assert_non_null(mkdtemp(dir));
	/* a notes file as /sys/kernel/notes has it: one GNU build id note */
	snprintf(notes, sizeof(notes), "%s/notes", dir);
	f = fopen(notes, "w");
	hdr[0] = 4;
	hdr[1] = (uint32_t)n;
	hdr[2] = 3;
	fwrite(hdr, sizeof(hdr), 1, f);
	fwrite("GNU", 4, 1, f);
	fwrite(desc, 1, (n + 3) & ~3u, f);
	fclose(f);
	assert_int_equal(kdebug__find(dir, notes, path, sizeof(path)), -ENOENT);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/.build-id/%.2s && cp %s %s/.build-id/%.2s/%s.debug",
		 dir, hex, fx, dir, hex, hex + 2);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(kdebug__find(dir, notes, path, sizeof(path)), 0);
	assert_non_null(strstr(path, "/.build-id/"));
	/* another kernel's id: not this file */
	desc[0] ^= 0xff;
	f = fopen(notes, "w");
	fwrite(hdr, sizeof(hdr), 1, f);
	fwrite("GNU", 4, 1, f);
	fwrite(desc, 1, (n + 3) & ~3u, f);
	fclose(f);
	assert_int_equal(kdebug__find(dir, notes, path, sizeof(path)), -ENOENT);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_after_slide),
		cmocka_unit_test(test_bad_open),
		cmocka_unit_test(test_find_by_build_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/* test_procmaps.c - /proc/PID/maps parsing on fixed text and on this process. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "target/procmaps.h"

static const char maps_text[] =
"55d0c0a00000-55d0c0a01000 r--p 00000000 fe:01 1234   /usr/bin/prog\n"
"55d0c0a01000-55d0c0a02000 r-xp 00001000 fe:01 1234   /usr/bin/prog\n"
"55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0      [heap]\n"
"7f0000000000-7f0000022000 r-xp 00028000 08:02 99     /lib/x86_64-linux-gnu/libc.so.6\n"
"7f0000100000-7f0000101000 rw-p 00000000 00:00 0 \n"
"7f0000200000-7f0000201000 r-xp 00000000 00:1a 77     /tmp/gone (deleted)\n"
"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]\n";

static void test_parse(void **state)
{
	FILE *f = fmemopen((void *)maps_text, sizeof(maps_text) - 1, "r");
	struct proc_maps m;
	const struct map_entry *e;

	(void)state;
	assert_non_null(f);
	assert_int_equal(proc_maps__parse(f, &m), 0);
	fclose(f);
	assert_int_equal(m.nr, 7);
	assert_int_equal(m.e[1].start, 0x55d0c0a01000ULL);
	assert_int_equal(m.e[1].offset, 0x1000);
	assert_string_equal(m.e[1].perms, "r-xp");
	assert_string_equal(m.e[1].path, "/usr/bin/prog");
	assert_int_equal(m.e[3].dev_major, 8);
	assert_int_equal(m.e[3].inode, 99);
	assert_string_equal(m.e[2].path, "[heap]");
	assert_null(m.e[4].path);
	assert_true(m.e[5].deleted);
	assert_string_equal(m.e[5].path, "/tmp/gone");
	e = proc_maps__find(&m, 0x7f0000000010ULL);
	assert_non_null(e);
	assert_string_equal(e->path, "/lib/x86_64-linux-gnu/libc.so.6");
	assert_null(proc_maps__find(&m, 0x7f0000050000ULL));
	assert_null(proc_maps__find(&m, 0x1000));
	proc_maps__free(&m);
}

static void test_malformed(void **state)
{
	static const char bad[] = "this is not a maps line\n";
	FILE *f = fmemopen((void *)bad, sizeof(bad) - 1, "r");
	struct proc_maps m;

	(void)state;
	assert_int_equal(proc_maps__parse(f, &m), -EINVAL);
	assert_int_equal(m.nr, 0);
	fclose(f);
}

static void test_self(void **state)
{
	struct proc_maps m;
	char buf[4096];
	const struct map_entry *e;

	(void)state;
	assert_int_equal(proc_maps__read(getpid(), &m), 0);
	e = proc_maps__find(&m, (uint64_t)(uintptr_t)&test_self);
	assert_non_null(e);
	assert_int_equal(e->perms[2], 'x');
	/* the file is reachable through map_files (root) or /proc/PID/root */
	assert_non_null(proc_maps__open_path(getpid(), e, buf, sizeof(buf)));
	assert_int_equal(access(buf, R_OK), 0);
	proc_maps__free(&m);
	assert_int_equal(proc_maps__read(0x7ffffff0, &m), -ESRCH);
}

static void test_is_libc(void **state)
{
	(void)state;
	assert_true(proc_maps__is_libc("/lib/x86_64-linux-gnu/libc.so.6"));
	assert_true(proc_maps__is_libc("/usr/lib/libc-2.31.so"));
	assert_true(proc_maps__is_libc("libc.so.6"));
	assert_false(proc_maps__is_libc("/usr/lib/libcap.so.2"));
	assert_false(proc_maps__is_libc("/usr/lib/x86_64-linux-gnu/libc++.so.1"));
	assert_false(proc_maps__is_libc("/opt/libc.so/libfoo.so"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_is_libc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

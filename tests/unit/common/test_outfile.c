// SPDX-License-Identifier: MIT
/* test_outfile.c - output files: new inode renamed over the name, mode,
 * symbolic links refused, devices written in place, failures leave nothing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/outfile.h"

struct ctx {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	snprintf(c->dir, sizeof(c->dir), "/tmp/memtrace-outfile-XXXXXX");
	if (!c || !mkdtemp(c->dir))
		return -1;
	snprintf(c->path, sizeof(c->path), "%s/out", c->dir);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", c->dir);
	if (system(cmd))
		return -1;
	free(c);
	return 0;
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' || strncmp(e->d_name, ".memtrace.", 10) == 0;
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A new file, then one replaced: the content, the mode asked (0600 by
 * default) whatever the umask, a new inode, no temporary left. */
static void test_write_and_replace(void **state)
{
	struct ctx *c = *state;
	struct stat st, st2;
	mode_t old = umask(077);

	assert_int_equal(outfile__write(c->path, OUTFILE_MODE_DEFAULT, "one\n", 4), 0);
	assert_string_equal(slurp(c->path), "one\n");
	assert_int_equal(stat(c->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(outfile__write(c->path, 0644, "two\n", 4), 0);
	assert_string_equal(slurp(c->path), "two\n");
	assert_int_equal(stat(c->path, &st2), 0);
	assert_int_equal(st2.st_mode & 07777, 0644);	/* exactly, umask 077 or not */
	assert_int_not_equal(st.st_ino, st2.st_ino);	/* never written in place */
	assert_int_equal(entries(c->dir), 1);
	umask(old);
}

/* A symbolic link at the name (dangling or not) is refused and left as
 * it is; its target is untouched. */
static void test_symlink_refused(void **state)
{
	struct ctx *c = *state;
	char victim[160], buf[160];
	struct outfile f;
	ssize_t n;

	snprintf(victim, sizeof(victim), "%s/victim", c->dir);
	put(victim, "precious\n");
	assert_int_equal(symlink(victim, c->path), 0);
	assert_int_equal(outfile__check(c->path), -ELOOP);
	assert_int_equal(outfile__open(&f, c->path, 0600), -ELOOP);
	assert_int_equal(outfile__write(c->path, 0600, "x", 1), -ELOOP);
	assert_string_equal(slurp(victim), "precious\n");
	n = readlink(c->path, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, victim);
	assert_non_null(strstr(outfile__strerror(-ELOOP), "symbolic link"));
	unlink(c->path);
	assert_int_equal(symlink("/nonexistent-memtrace-target", c->path), 0);
	assert_int_equal(outfile__check(c->path), -ELOOP);
	assert_int_equal(access("/nonexistent-memtrace-target", F_OK), -1);
}

/* A hard link to another file is replaced by a new file, never written
 * through (the other name keeps its content). */
static void test_hard_link_not_written_through(void **state)
{
	struct ctx *c = *state;
	char other[160];

	snprintf(other, sizeof(other), "%s/other", c->dir);
	put(other, "keep\n");
	assert_int_equal(link(other, c->path), 0);
	assert_int_equal(outfile__write(c->path, 0600, "new\n", 4), 0);
	assert_string_equal(slurp(other), "keep\n");
	assert_string_equal(slurp(c->path), "new\n");
}

static void test_refusals(void **state)
{
	struct ctx *c = *state;
	char missing[160];

	assert_int_equal(outfile__check(c->dir), -EISDIR);
	assert_int_equal(outfile__check("/tmp/"), -EISDIR);
	assert_int_equal(outfile__check(""), -ENOENT);
	snprintf(missing, sizeof(missing), "%s/no/such", c->dir);
	assert_int_equal(outfile__check(missing), -ENOENT);
	assert_int_equal(outfile__write(missing, 0600, "x", 1), -ENOENT);
	assert_int_equal(outfile__check(c->path), 0);
	assert_int_equal(access(c->path, F_OK), -1);	/* a check creates nothing */
	assert_int_equal(entries(c->dir), 0);
}

/* A character device is written in place: /dev/null stays /dev/null. */
static void test_device_in_place(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(outfile__check("/dev/null"), 0);
	assert_int_equal(outfile__write("/dev/null", 0600, "x", 1), 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_mode & 0666, 0666);
	assert_int_equal(outfile__write("/dev/full", 0600, "x", 1), -ENOSPC);
}

/* A stream: committed at once (the name exists while it is written),
 * closed at the end; a file never committed is removed. */
static void test_stream_and_abort(void **state)
{
	struct ctx *c = *state;
	struct outfile f;

	assert_int_equal(outfile__open(&f, c->path, 0600), 0);
	assert_int_equal(outfile__commit(&f), 0);
	fputs("line 1\n", f.fp);
	assert_int_equal(outfile__commit(&f), 0);	/* a flush */
	assert_string_equal(slurp(c->path), "line 1\n");
	fputs("line 2\n", f.fp);
	assert_int_equal(outfile__close(&f), 0);
	assert_string_equal(slurp(c->path), "line 1\nline 2\n");

	assert_int_equal(outfile__open(&f, c->path, 0600), 0);
	fputs("never\n", f.fp);
	assert_int_equal(outfile__close(&f), 0);	/* not committed: removed */
	assert_string_equal(slurp(c->path), "line 1\nline 2\n");
	assert_int_equal(entries(c->dir), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_link_not_written_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_and_abort, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

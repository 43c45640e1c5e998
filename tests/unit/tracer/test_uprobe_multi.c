// SPDX-License-Identifier: MIT
/*
 * test_uprobe_multi.c - src/tracer/uprobe_multi.c against the running kernel: the
 * support probe, argument checks, and real links on a function of this
 * test binary in a forked child: the breakpoint (int3) is in the child's
 * code only (the pid filter), for entry and return links, and it is gone
 * as soon as the link's descriptor is closed; the same for session links
 * (6.13+). Needs root and a kernel with uprobe_multi links (6.6+), or
 * session links for their tests; skips otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "tracer/uprobe_multi.h"

#define INT3	0xcc

/* The probed function: its own code, never inlined. */
__attribute__((noinline, noipa)) int um_probed(int x)
{
	return x * 3 + 1;
}

/* A forked copy of this process, blocked until its pipe closes. */
struct child {
	pid_t pid;
	int hold;		/* write end: closing it lets the child exit */
};

static int child_start(struct child *c)
{
	int p[2];

	if (pipe(p))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		char b;

		close(p[1]);
		while (read(p[0], &b, 1) < 0 && errno == EINTR)
			;
		_exit(um_probed(1) == 4 ? 0 : 1);	/* runs through the probe site */
	}
	close(p[0]);
	c->hold = p[1];
	return 0;
}

static int child_finish(struct child *c)
{
	int status = -1;

	close(c->hold);
	if (waitpid(c->pid, &status, 0) != c->pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The first code byte at addr in process pid (its /proc/PID/mem). */
static int code_byte(pid_t pid, const void *addr)
{
	char path[64];
	unsigned char b;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = (int)pread(fd, &b, 1, (off_t)(uintptr_t)addr);
	close(fd);
	return n == 1 ? b : -EIO;
}

/* File offset of addr in the file mapped there, and that file's path. */
static int file_offset(const void *addr, uint64_t *off, char *path, size_t cap)
{
	uintptr_t a = (uintptr_t)addr;
	FILE *f = fopen("/proc/self/maps", "re");
	char line[PATH_MAX + 128];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, foff;
		int pos = 0;

		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %n", &lo, &hi, &foff, &pos) < 3 || !pos)
			continue;
		if (a < lo || a >= hi)
			continue;
		*off = a - lo + foff;
		snprintf(path, cap, "%s", line + pos);
		path[strcspn(path, "\n")] = '\0';
		err = path[0] == '/' ? 0 : -ENOENT;
		break;
	}
	fclose(f);
	return err;
}

static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	return !uname(&u) && sscanf(u.release, "%d.%d", &ma, &mi) == 2 &&
	       (ma > major || (ma == major && mi >= minor));
}

/* Skips unless links can be made here. */
static void need_links(void)
{
	if (geteuid() != 0)
		skip();
	if (uprobe_multi__supported() != 1)
		skip();
}

static void test_bad_arguments(void **state)
{
	static const uint64_t off[1];

	(void)state;
	assert_int_equal(uprobe_multi__attach(-1, "/bin/sh", off, 1, 0, false), -EINVAL);
	assert_int_equal(uprobe_multi__attach(0, NULL, off, 1, 0, false), -EINVAL);
	assert_int_equal(uprobe_multi__attach(0, "/bin/sh", NULL, 1, 0, false), -EINVAL);
	assert_int_equal(uprobe_multi__attach(0, "/bin/sh", off, 0, 0, false), -EINVAL);
	assert_int_equal(uprobe_multi__attach(0, "/bin/sh", off, UPROBE_MULTI_MAX_CNT + 1, 0,
					      false), -EINVAL);
	assert_int_equal(uprobe_multi__attach(0, "/bin/sh", off, 1, -1, false), -EINVAL);
	assert_int_equal(uprobe_multi__attach_session(-1, "/bin/sh", off, NULL, 1, 0), -EINVAL);
	assert_int_equal(uprobe_multi__attach_session(0, "/bin/sh", off, NULL, 0, 0), -EINVAL);
	assert_int_equal(uprobe_multi__attach_session(0, NULL, off, NULL, 1, 0), -EINVAL);
	assert_int_equal(uprobe_multi__attach_session(0, "/bin/sh", off, NULL, 1, -1), -EINVAL);
}

static void test_supported_here(void **state)
{
	int r;

	(void)state;
	if (geteuid() != 0)
		skip();
	r = uprobe_multi__supported();
	assert_true(r == 0 || r == 1);
	if (kernel_at_least(6, 6))
		assert_int_equal(r, 1);
}

static void test_session_supported_here(void **state)
{
	int r;

	(void)state;
	if (geteuid() != 0)
		skip();
	r = uprobe_multi__session_supported();
	assert_true(r == 0 || r == 1);
	if (kernel_at_least(6, 13))
		assert_int_equal(r, 1);
	if (!kernel_at_least(6, 6))
		assert_int_equal(r, 0);
}

enum link_kind { LINK_ENTRY, LINK_RETURN, LINK_SESSION };

/* A link of kind on um_probed in a child: int3 there, only there, until closed. */
static void check_link_in_child(enum link_kind kind)
{
	char path[PATH_MAX];
	uint64_t off;
	struct child c;
	int prog, link, orig;

	need_links();
	if (kind == LINK_SESSION && uprobe_multi__session_supported() != 1)
		skip();
	assert_int_equal(file_offset((const void *)um_probed, &off, path, sizeof(path)), 0);
	orig = code_byte(getpid(), (const void *)um_probed);
	assert_true(orig >= 0 && orig != INT3);
	prog = kind == LINK_SESSION ? uprobe_multi__load_session_skip() :
	       uprobe_multi__load_empty(true);
	assert_true(prog >= 0);
	assert_int_equal(child_start(&c), 0);

	if (kind == LINK_SESSION) {
		/* a program loaded for plain uprobe_multi links is refused */
		int plain = uprobe_multi__load_empty(true);

		assert_true(plain >= 0);
		assert_int_equal(uprobe_multi__attach_session(plain, path, &off, NULL, 1, c.pid),
				 -EINVAL);
		close(plain);
		link = uprobe_multi__attach_session(prog, path, &off, &off, 1, c.pid);
	} else {
		link = uprobe_multi__attach(prog, path, &off, 1, c.pid, kind == LINK_RETURN);
	}
	assert_true(link >= 0);
	assert_int_equal(code_byte(c.pid, (const void *)um_probed), INT3);
	assert_int_equal(code_byte(getpid(), (const void *)um_probed), orig);	/* pid filter */
	close(link);
	assert_int_equal(code_byte(c.pid, (const void *)um_probed), orig);	/* at once */

	assert_int_equal(child_finish(&c), 0);
	close(prog);
}

static void test_entry_link_pid_filter_and_close(void **state)
{
	(void)state;
	check_link_in_child(LINK_ENTRY);
}

static void test_return_link_pid_filter_and_close(void **state)
{
	(void)state;
	check_link_in_child(LINK_RETURN);
}

static void test_session_link_pid_filter_and_close(void **state)
{
	(void)state;
	check_link_in_child(LINK_SESSION);
}

/* Two offsets in one link: both breakpoints, both gone with one close. */
static void test_one_link_many_offsets(void **state)
{
	char path[PATH_MAX], path2[PATH_MAX];
	uint64_t off[2];
	struct child c;
	int prog, link, orig[2];

	(void)state;
	need_links();
	assert_int_equal(file_offset((const void *)um_probed, &off[0], path, sizeof(path)), 0);
	assert_int_equal(file_offset((const void *)code_byte, &off[1], path2, sizeof(path2)), 0);
	assert_string_equal(path, path2);
	orig[0] = code_byte(getpid(), (const void *)um_probed);
	orig[1] = code_byte(getpid(), (const void *)code_byte);
	assert_true(orig[0] >= 0 && orig[0] != INT3 && orig[1] >= 0 && orig[1] != INT3);
	prog = uprobe_multi__load_empty(true);
	assert_true(prog >= 0);
	assert_int_equal(child_start(&c), 0);
	link = uprobe_multi__attach(prog, path, off, 2, c.pid, false);
	assert_true(link >= 0);
	assert_int_equal(code_byte(c.pid, (const void *)um_probed), INT3);
	assert_int_equal(code_byte(c.pid, (const void *)code_byte), INT3);
	close(link);
	assert_int_equal(code_byte(c.pid, (const void *)um_probed), orig[0]);
	assert_int_equal(code_byte(c.pid, (const void *)code_byte), orig[1]);
	assert_int_equal(child_finish(&c), 0);
	close(prog);
}

static void test_errors_from_the_kernel(void **state)
{
	char path[PATH_MAX];
	uint64_t off;
	int prog, plain;

	(void)state;
	need_links();
	assert_int_equal(file_offset((const void *)um_probed, &off, path, sizeof(path)), 0);
	prog = uprobe_multi__load_empty(true);
	assert_true(prog >= 0);
	plain = uprobe_multi__load_empty(false);
	assert_true(plain >= 0);
	/* not loaded for uprobe_multi */
	assert_int_equal(uprobe_multi__attach(plain, path, &off, 1, getpid(), false), -EINVAL);
	/* no such process (above any pid_max) */
	assert_int_equal(uprobe_multi__attach(prog, path, &off, 1, INT_MAX, false), -ESRCH);
	/* no such file; not a regular file */
	assert_int_equal(uprobe_multi__attach(prog, "/nonexistent/x", &off, 1, 0, false), -ENOENT);
	assert_int_equal(uprobe_multi__attach(prog, "/", &off, 1, 0, false), -EBADF);
	close(plain);
	close(prog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_supported_here),
		cmocka_unit_test(test_entry_link_pid_filter_and_close),
		cmocka_unit_test(test_return_link_pid_filter_and_close),
		cmocka_unit_test(test_session_supported_here),
		cmocka_unit_test(test_session_link_pid_filter_and_close),
		cmocka_unit_test(test_one_link_many_offsets),
		cmocka_unit_test(test_errors_from_the_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * test_link_set.c - src/tracer/link_set.c with descriptors (the ends of
 * pipes stand in for link descriptors: closing one is seen by its reader):
 * release closes every one, exactly once, and empties the set; a full set
 * refuses and closes what it cannot keep; an error passes through.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <unistd.h>
#include <cmocka.h>
#include "tracer/link_set.h"

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* The reader of a pipe whose writer was closed sees end of file at once. */
static int writer_closed(int rd)
{
	struct pollfd p = { .fd = rd, .events = POLLIN };
	char c;

	return poll(&p, 1, 0) == 1 && read(rd, &c, 1) == 0;
}

static void test_release_closes_all(void **state)
{
	struct link_set s = { .n = 0 };
	int rd[LINK_SET_MAX], wr[LINK_SET_MAX];
	const unsigned int n = LINK_SET_MAX;

	(void)state;
	for (unsigned int i = 0; i < n; i++) {
		int p[2];

		assert_int_equal(pipe(p), 0);
		rd[i] = p[0];
		wr[i] = p[1];
		assert_int_equal(link_set__add_fd(&s, wr[i], i + 1), 0);
	}
	assert_int_equal(s.n, n);
	assert_int_equal(link_set__probes(&s), n * (n + 1) / 2);
	link_set__release(&s);
	assert_int_equal(s.n, 0);
	assert_int_equal(link_set__probes(&s), 0);
	for (unsigned int i = 0; i < n; i++) {
		assert_true(writer_closed(rd[i]));
		close(rd[i]);
	}
	link_set__release(&s);	/* empty: nothing to do */
	assert_int_equal(s.n, 0);
}

static void test_full_set_refuses(void **state)
{
	struct link_set s = { .n = 0 };
	int fd;

	(void)state;
	for (unsigned int i = 0; i < LINK_SET_MAX; i++) {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(link_set__add_fd(&s, fd, 1), 0);
	}
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(link_set__add_fd(&s, fd, 1), -E2BIG);
	assert_false(is_open(fd));	/* the set took it, and closed it */
	assert_int_equal(s.n, LINK_SET_MAX);
	link_set__release(&s);
	assert_int_equal(s.n, 0);
}

static void test_error_passes_through(void **state)
{
	struct link_set s = { .n = 0 };

	(void)state;
	assert_int_equal(link_set__add_fd(&s, -EOPNOTSUPP, 3), -EOPNOTSUPP);
	assert_int_equal(s.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_closes_all),
		cmocka_unit_test(test_full_set_refuses),
		cmocka_unit_test(test_error_passes_through),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

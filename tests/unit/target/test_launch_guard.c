// SPDX-License-Identifier: MIT
/* test_launch_guard.c - the guardian continues a stopped command when its
 * memtrace dies (even by SIGKILL), and does nothing when it ends normally. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "target/launch_guard.h"

/* A command that stops itself, then exits 7 once continued. */
static pid_t stopped_command(void)
{
	pid_t cmd = fork();
	int status;

	if (cmd == 0) {
		raise(SIGSTOP);
		_exit(7);
	}
	assert_true(cmd > 0);
	assert_int_equal(waitpid(cmd, &status, WUNTRACED), cmd);
	assert_true(WIFSTOPPED(status));
	return cmd;
}

/* The command's status within ms milliseconds, or -1 if it is still stopped. */
static int wait_exit(pid_t cmd, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		int status;
		pid_t got = waitpid(cmd, &status, WNOHANG);

		if (got == cmd)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	return -1;
}

/* A stand-in for memtrace: starts the guardian of cmd, reports, then
 * dies by signal sig. */
static void memtrace_dies(pid_t cmd, int sig)
{
	pid_t m = fork(), g;
	int status;

	if (m == 0) {
		g = launch_guard__start(cmd);
		if (g <= 0)
			_exit(3);
		raise(sig);
		_exit(4);
	}
	assert_int_equal(waitpid(m, &status, 0), m);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), sig);
}

static void test_sigkill_continues_command(void **state)
{
	pid_t cmd = stopped_command();

	(void)state;
	memtrace_dies(cmd, SIGKILL);
	assert_int_equal(wait_exit(cmd, 10000), 7);
}

static void test_normal_stop_leaves_command(void **state)
{
	pid_t cmd = stopped_command(), g;

	(void)state;
	g = launch_guard__start(cmd);
	assert_true(g > 0);
	launch_guard__stop(g);			/* memtrace ends normally */
	assert_int_equal(kill(g, 0), -1);	/* reaped */
	assert_int_equal(wait_exit(cmd, 300), -1);	/* no SIGCONT sent: still stopped */
	kill(cmd, SIGKILL);
	waitpid(cmd, NULL, 0);
	launch_guard__stop(0);			/* no guardian: no-op */
}

static void test_no_such_command(void **state)
{
	pid_t gone = fork();

	(void)state;
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	assert_int_equal(launch_guard__start(gone), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_continues_command),
		cmocka_unit_test(test_normal_stop_leaves_command),
		cmocka_unit_test(test_no_such_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

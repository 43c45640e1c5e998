// SPDX-License-Identifier: MIT
/* test_options.c - the command line: defaults, every option, bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "cli/options.h"
#include "bpf/memtrace.h"

#define ARGV(...) ((char *[]){ "memtrace", __VA_ARGS__, NULL })

static void test_defaults(void **state)
{
	char **argv = ARGV("-p", "42");
	struct options o;

	(void)state;
	assert_int_equal(options__parse(&o, 3, argv), 0);
	assert_int_equal(o.pid, 42);
	assert_null(o.argv);
	assert_true(o.interval_s == 5);
	assert_int_equal(o.top, 10);
	assert_int_equal(o.format, FORMAT_TEXT);
	assert_int_equal(o.max_allocs, ALLOCS_MAX_ENTRIES);
	assert_int_equal(o.unwind, UNWIND_DWARF);
	assert_int_equal(o.sample_bytes, 0);
	assert_string_equal(o.debug_dir, "/usr/lib/debug");
	assert_true(o.max_growth < 0);
	assert_int_equal(o.output_mode, 0600);
}

static void test_output_mode(void **state)
{
	char **argv = ARGV("--output-mode", "0644", "-p", "42");
	struct options o;

	(void)state;
	assert_int_equal(options__parse(&o, 5, argv), 0);
	assert_int_equal(o.output_mode, 0644);
	argv = ARGV("--output-mode", "600", "-p", "42");
	assert_int_equal(options__parse(&o, 5, argv), 0);
	assert_int_equal(o.output_mode, 0600);
}

static void test_all(void **state)
{
	char *argv[] = { "memtrace", "-d", "2.5", "-i", "0.5", "-n", "0", "-f", "json",
			 "--output", "/tmp/x", "-v", "--max-allocs", "1000", "--no-symbols",
			 "--unwind", "fp", "-s", "65536", "-o", "3", "--fail-on", "high",
			 "--max-growth", "100", "--pprof", "p.pb.gz", "--pprof-every",
			 "--", "ls", "-l", NULL };
	struct options o;

	(void)state;
	assert_int_equal(options__parse(&o, (int)(sizeof(argv) / sizeof(*argv)) - 1, argv), 0);
	assert_true(o.duration_s == 2.5);
	assert_true(o.interval_s == 0.5);
	assert_int_equal(o.top, 0);
	assert_int_equal(o.format, FORMAT_JSON);
	assert_string_equal(o.output, "/tmp/x");
	assert_true(o.verbose);
	assert_int_equal(o.max_allocs, 1000);
	assert_true(o.no_symbols);
	assert_int_equal(o.unwind, UNWIND_FP);
	assert_int_equal(o.sample_bytes, 65536);
	assert_true(o.older_s == 3);
	assert_string_equal(o.fail_on, "high");
	assert_true(o.max_growth == 100);
	assert_true(o.pprof_every);
	assert_int_equal(o.argc, 2);
	assert_string_equal(o.argv[0], "ls");
	assert_string_equal(o.argv[1], "-l");
	assert_int_equal(o.pid, 0);
}

/* --kernel: host-wide without a target; --kernel-only implies --kernel. */
static void test_kernel(void **state)
{
	char **argv = ARGV("--kernel", "-d", "5");
	struct options o;

	(void)state;
	assert_int_equal(options__parse(&o, 4, argv), 0);
	assert_true(o.kernel);
	assert_false(o.kernel_only);
	assert_int_equal(o.pid, 0);
	assert_null(o.argv);
	assert_int_equal(o.kernel_sample, 1);
	argv = ARGV("--kernel-only", "--kernel-sample", "16", "-p", "7");
	assert_int_equal(options__parse(&o, 6, argv), 0);
	assert_true(o.kernel && o.kernel_only);
	assert_int_equal(o.kernel_sample, 16);
	assert_int_equal(o.pid, 7);
}

/* Bad input exits 2 with one line on stderr; run it in a child. */
static int parse_in_child(int argc, char **argv, char *err, size_t len)
{
	int pfd[2], status;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		struct options o;

		dup2(pfd[1], 2);
		options__parse(&o, argc, argv);
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], err, len - 1);
	err[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return WEXITSTATUS(status);
}

static void test_bad(void **state)
{
	struct { char **argv; int argc; const char *msg; } cases[] = {
		{ ARGV("-p", "0"), 3, "invalid PID" },
		{ ARGV("-p", "abc"), 3, "invalid PID" },
		{ ARGV("-p", "-5"), 3, "invalid PID" },
		{ ARGV("-d", "0", "-p", "1"), 5, "invalid duration" },
		{ ARGV("-i", "x", "-p", "1"), 5, "invalid interval" },
		{ ARGV("-f", "xml", "-p", "1"), 5, "invalid format" },
		{ ARGV("--unwind", "lbr", "-p", "1"), 5, "invalid --unwind" },
		{ ARGV("--fail-on", "none", "-p", "1"), 5, "invalid --fail-on" },
		{ ARGV("-p", "1", "--", "ls"), 5, "either -p PID or -- CMD" },
		{ ARGV("-n", "5"), 3, "nothing to trace" },
		{ ARGV("--pprof-every", "-p", "1"), 4, "--pprof-every needs" },
		{ ARGV("--bogus", "-p", "1"), 4, "unrecognized option" },
		{ ARGV("--kernel-sample", "4", "-p", "1"), 5, "--kernel-sample needs --kernel" },
		{ ARGV("--kernel", "--kernel-sample", "0"), 4, "invalid --kernel-sample" },
		{ ARGV("--kernel", "--kernel-sample", "x"), 4, "invalid --kernel-sample" },
		{ ARGV("-d", "inf", "-p", "1"), 5, "invalid duration" },
		{ ARGV("-d", "1e20", "-p", "1"), 5, "invalid duration" },
		{ ARGV("-i", "1e20", "-p", "1"), 5, "invalid interval" },
		{ ARGV("-o", "inf", "-p", "1"), 5, "invalid age" },
		{ ARGV("--output-mode", "0888", "-p", "1"), 5, "invalid --output-mode" },
		{ ARGV("--output-mode", "01777", "-p", "1"), 5, "invalid --output-mode" },
		{ ARGV("--output-mode", "-1", "-p", "1"), 5, "invalid --output-mode" },
		{ ARGV("--http", "127.0.0.1:65536", "-p", "1"), 5, "invalid --http address" },
		{ ARGV("--http", "::1:80", "-p", "1"), 5, "invalid --http address" },
		{ ARGV("--debug-dir", "/nonexistent-memtrace", "-p", "1"), 5, "invalid --debug-dir" },
		{ ARGV("--sev-low", "1e300", "-p", "1"), 5, "inconsistent analysis settings" },
		{ ARGV("--csv", "x", "--pprof", "x", "-p", "1"), 7, "--csv and --pprof name the same" },
	};
	char err[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse_in_child(cases[i].argc, cases[i].argv, err, sizeof(err));

		if (rc != 2 || !strstr(err, cases[i].msg))
			fail_msg("case %zu: exit %d, stderr: %s", i, rc, err);
		/* the first line names the problem; a bad value is that line alone
		 * (argp adds its "Try --help" line to an unknown option) */
		assert_true(strncmp(err, "memtrace: ", 10) == 0);
		if (!strstr(err, "unrecognized option") && strchr(err, '\n') != err + strlen(err) - 1)
			fail_msg("case %zu: more than one line: %s", i, err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all),
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_output_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

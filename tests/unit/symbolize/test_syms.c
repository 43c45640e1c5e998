// SPDX-License-Identifier: MIT
/*
 * test_syms.c - symbolization against real processes.
 *
 * Each test starts a fixture from $(OUT)/fixtures/syms (mk/syms_fixtures.mk)
 * as a child; the fixture prints return addresses of its own code with the
 * line of each call (fx_common.h), and the test symbolizes them through
 * /proc/PID exactly as memtrace does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gelf.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "symbolize/syms.h"

#include "syms_fixture.h"

static void test_inline_frames(void **state)
{
	struct ctx *c = *state;
	const struct rec *fn;
	char path[PATH_MAX];

	need_fixtures(c);
	start(c, "fx_inline", NULL);
	check_inline(c, "/fx_inline");
	assert_string_equal(c->frames[0].build_id,
			    file_build_id(strcat(strcpy(path, c->fixtures), "/fx_inline")));

	/* a function's entry (+1): the offset is what addr2line takes */
	fn = fx_rec(&c->fx, "fn", "outer_function");
	symbolize(c, &fn->addr, 1);
	assert_int_equal(c->nr_frames, 1);
	assert_string_equal(c->frames[0].function, "outer_function");
	assert_string_equal(c->frames[0].system_name, "outer_function");
	assert_int_equal(c->frames[0].offset, file_sym(path, "outer_function") + 1);
}

static void test_non_pie(void **state)
{
	struct ctx *c = *state;
	const struct rec *fn;
	char path[PATH_MAX];

	need_fixtures(c);
	start(c, "fx_nopie", NULL);
	check_inline(c, "/fx_nopie");
	fn = fx_rec(&c->fx, "fn", "main");
	symbolize(c, &fn->addr, 1);
	assert_string_equal(c->frames[0].function, "main");
	snprintf(path, sizeof(path), "%s/fx_nopie", c->fixtures);
	assert_int_equal(c->frames[0].offset, file_sym(path, "main") + 1);
	assert_int_equal(c->frames[0].offset, fn->addr);	/* ET_EXEC: no bias */
}

static void test_cxx_template(void **state)
{
	struct ctx *c = *state;
	const struct rec *r;

	need_fixtures(c);
	start(c, "fx_cxx", NULL);
	r = fx_rec(&c->fx, "ret", "record");
	symbolize(c, &r->addr, 1);
	assert_int_equal(c->nr_frames, 1);
	assert_frame(&c->frames[0], CXX_RECORD, "fx_cxx.cc", r->line, false);
	assert_string_equal(c->frames[0].system_name, CXX_RECORD_MANGLED);
}

/* Stripped binary; its debug file found by build-id under --debug-dir. */
static void test_debug_dir_build_id(void **state)
{
	struct ctx *c = *state;
	char src[PATH_MAX], dst[PATH_MAX];
	struct syms_opts opts = { .debug_dir = c->tmp, .names = true };
	const char *id;

	need_fixtures(c);
	snprintf(src, sizeof(src), "%s/fx_stripped", c->fixtures);
	id = file_build_id(src);
	snprintf(dst, sizeof(dst), "%s/.build-id/%.2s", c->tmp, id);
	mkdirs(dst);
	snprintf(dst, sizeof(dst), "%s/.build-id/%.2s/%s.debug", c->tmp, id, id + 2);
	snprintf(src, sizeof(src), "%s/fx_stripped.debug", c->fixtures);
	copy_file(src, dst);
	start(c, "fx_stripped", &opts);
	check_inline(c, "/fx_stripped");
}

/* Without the debug file the same binary gives module, offset, build-id. */
static void test_stripped_no_debug(void **state)
{
	struct ctx *c = *state;
	struct syms_opts opts = { .debug_dir = c->tmp, .names = true };

	need_fixtures(c);
	start(c, "fx_stripped", &opts);
	check_unnamed(c);
}

/* .gnu_debuglink: the debug file in .debug/ beside the binary. */
static void test_debuglink(void **state)
{
	struct ctx *c = *state;
	char src[PATH_MAX], dst[PATH_MAX];
	struct syms_opts opts = { .debug_dir = "/nonexistent", .names = true };

	need_fixtures(c);
	snprintf(dst, sizeof(dst), "%s/bin/.debug", c->tmp);
	mkdirs(dst);
	snprintf(src, sizeof(src), "%s/fx_debuglink.debug", c->fixtures);
	snprintf(dst, sizeof(dst), "%s/bin/.debug/fx_debuglink.debug", c->tmp);
	copy_file(src, dst);
	snprintf(src, sizeof(src), "%s/fx_debuglink", c->fixtures);
	snprintf(dst, sizeof(dst), "%s/bin/fx_debuglink", c->tmp);
	copy_file(src, dst);
	start(c, dst, &opts);
	check_inline(c, "/bin/fx_debuglink");
}

/* MiniDebugInfo: names from the xz'd .gnu_debugdata symtab, no lines. */
static void test_minidebuginfo(void **state)
{
	struct ctx *c = *state;
	struct syms_opts opts = { .debug_dir = "/nonexistent", .names = true };
	const struct rec *r;

	need_fixtures(c);
	start(c, "fx_mini", &opts);
	r = fx_rec(&c->fx, "ret", "helper_inline");
	symbolize(c, &r->addr, 1);
	assert_int_equal(c->nr_frames, 1);
	assert_frame(&c->frames[0], "outer_function", NULL, 0, false);
}

/* The binary is deleted, and another file put at its path, after start. */
static void test_deleted_and_replaced(void **state)
{
	struct ctx *c = *state;
	char src[PATH_MAX], dst[PATH_MAX];

	need_fixtures(c);
	if (geteuid() != 0)
		skip();	/* /proc/PID/map_files needs CAP_SYS_ADMIN on older kernels */
	snprintf(src, sizeof(src), "%s/fx_inline", c->fixtures);
	snprintf(dst, sizeof(dst), "%s/fx_gone", c->tmp);
	copy_file(src, dst);
	assert_int_equal(fx_start(&c->fx, dst), 0);
	assert_int_equal(unlink(dst), 0);
	snprintf(src, sizeof(src), "%s/fx_cxx", c->fixtures);
	copy_file(src, dst);
	c->s = syms__new(c->fx.pid, NULL);
	assert_non_null(c->s);
	check_inline(c, "/fx_gone");
	assert_string_equal(c->frames[0].build_id, file_build_id(strcat(
		strcpy(src, c->fixtures), "/fx_inline")));
}

/*
 * A target in another root (as in a container): its stripped binary and
 * the debug file exist only inside the root, under its /usr/lib/debug.
 */
static void test_other_root(void **state)
{
	struct ctx *c = *state;
	struct syms_opts opts = { .debug_dir = "/nonexistent", .names = true };
	char src[PATH_MAX], dst[PATH_MAX], root[512];
	const struct rec *r;
	const char *id;

	need_fixtures(c);
	if (geteuid() != 0)
		skip();	/* chroot */
	snprintf(src, sizeof(src), "%s/fx_static", c->fixtures);
	id = file_build_id(src);
	snprintf(root, sizeof(root), "%s/root", c->tmp);
	snprintf(dst, sizeof(dst), "%s/bin", root);
	mkdirs(dst);
	snprintf(dst, sizeof(dst), "%s/bin/fx", root);
	copy_file(src, dst);
	snprintf(dst, sizeof(dst), "%s/usr/lib/debug/.build-id/%.2s", root, id);
	mkdirs(dst);
	snprintf(dst, sizeof(dst), "%s/usr/lib/debug/.build-id/%.2s/%s.debug", root, id, id + 2);
	snprintf(src, sizeof(src), "%s/fx_static.debug", c->fixtures);
	copy_file(src, dst);
	assert_int_equal(fx_start_in(&c->fx, root, "/bin/fx"), 0);
	c->s = syms__new(c->fx.pid, &opts);
	assert_non_null(c->s);
	r = fx_rec(&c->fx, "ret", "helper_inline");
	symbolize(c, &r->addr, 1);
	assert_int_equal(c->nr_frames, 2);
	assert_string_equal(c->frames[0].module, "/bin/fx");	/* as the target sees it */
	assert_frame(&c->frames[0], "helper_inline", "fx_inline.c", r->line, true);
	assert_frame(&c->frames[1], "outer_function", "fx_inline.c", r->caller_line, false);
}

/* A final report after the target exited still symbolizes. */
static void test_target_exited(void **state)
{
	struct ctx *c = *state;
	struct rec r;

	need_fixtures(c);
	start(c, "fx_inline", NULL);
	r = *fx_rec(&c->fx, "ret", "helper_inline");
	fx_stop(&c->fx);
	assert_int_equal(syms__refresh(c->s), -ESRCH);
	c->fx.nr = 1;
	c->fx.recs[0] = r;
	check_inline(c, "/fx_inline");
}

/* An ip in a library dlopen'ed after the snapshot triggers one refresh. */
static void test_dlopen_refresh(void **state)
{
	struct ctx *c = *state;
	const struct rec *r;
	char cmd[PATH_MAX + 16];
	struct syms_stats st;

	need_fixtures(c);
	start(c, "fx_inline", NULL);
	snprintf(cmd, sizeof(cmd), "dlopen %s/libfx_lib.so\n", c->fixtures);
	assert_int_equal(write(c->fx.in, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
	assert_int_equal(fx_read_ready(&c->fx), 0);
	r = fx_rec(&c->fx, "ret", "fx_lib_function");
	st = syms__stats(c->s);
	symbolize(c, &r->addr, 1);
	assert_int_equal(syms__stats(c->s).refreshes, st.refreshes + 1);
	assert_int_equal(c->nr_frames, 1);
	assert_frame(&c->frames[0], "fx_lib_function", "fx_lib.c", r->line, false);
	assert_non_null(strstr(c->frames[0].module, "/libfx_lib.so"));
}

/* Outside every mapping: module NULL, one refresh, then remembered. */
static void test_unknown_ip(void **state)
{
	struct ctx *c = *state;
	uint64_t ips[] = { 0, 0x10, 0xffffffffffff0000ull };
	struct syms_stats st;

	need_fixtures(c);
	start(c, "fx_inline", NULL);
	st = syms__stats(c->s);
	symbolize(c, ips, 3);
	assert_int_equal(c->nr_frames, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(c->frames[i].ip, ips[i]);
		assert_null(c->frames[i].module);
		assert_null(c->frames[i].function);
		assert_null(c->frames[i].build_id);
	}
	assert_int_equal(syms__stats(c->s).refreshes, st.refreshes + 1);
	symbolize(c, ips, 3);
	assert_int_equal(syms__stats(c->s).refreshes, st.refreshes + 1);
}

/* The second symbolization of the same ips reads no file. */
static void test_cache(void **state)
{
	struct ctx *c = *state;
	uint64_t ips[3];
	struct syms_stats a, b;
	char *first;

	need_fixtures(c);
	start(c, "fx_inline", NULL);
	ips[0] = fx_rec(&c->fx, "ret", "helper_inline")->addr;
	ips[1] = fx_rec(&c->fx, "fn", "outer_function")->addr;
	ips[2] = fx_rec(&c->fx, "fn", "main")->addr;
	symbolize(c, ips, 3);
	a = syms__stats(c->s);
	assert_int_equal(a.lookups, 3);
	assert_int_equal(a.cache_hits, 0);
	assert_int_equal(c->nr_frames, 4);
	first = strdup(c->frames[3].function);
	symbolize(c, ips, 3);
	b = syms__stats(c->s);
	assert_int_equal(b.maps_reads, a.maps_reads);
	assert_int_equal(b.file_opens, a.file_opens);
	assert_int_equal(b.debug_loads, a.debug_loads);
	assert_int_equal(b.lookups, a.lookups);
	assert_int_equal(b.cache_hits, 3);
	assert_int_equal(c->nr_frames, 4);
	assert_string_equal(c->frames[3].function, first);
	assert_string_equal(c->frames[3].function, "main");
	free(first);
	/* a refresh with nothing new reopens nothing */
	assert_int_equal(syms__refresh(c->s), 0);
	assert_int_equal(syms__stats(c->s).file_opens, a.file_opens);
}

/* --no-symbols: module, offset and build-id, and no debug info read. */
static void test_no_names(void **state)
{
	struct ctx *c = *state;
	struct syms_opts opts = { .names = false };

	need_fixtures(c);
	start(c, "fx_inline", &opts);
	check_unnamed(c);
	assert_int_equal(syms__stats(c->s).debug_loads, 0);
}

static void test_bad_pid(void **state)
{
	(void)state;
	errno = 0;
	assert_null(syms__new(-1, NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(syms__new(0x3fffffff, NULL));
	assert_int_equal(errno, ESRCH);
}

static void test_empty(void **state)
{
	struct ctx *c = *state;

	need_fixtures(c);
	start(c, "fx_inline", NULL);
	symbolize(c, NULL, 0);
	assert_int_equal(c->nr_frames, 0);
	free_frames(c);
	assert_int_equal(syms__symbolize(NULL, NULL, 0, &c->frames, &c->nr_frames), -EINVAL);
}

/* debuginfod on but its server unreachable: bounded, no names, no error. */
static void test_debuginfod_unreachable(void **state)
{
	struct ctx *c = *state;
	struct syms_opts opts = { .debug_dir = c->tmp, .names = true, .debuginfod = true };
	const struct rec *r;
	struct timespec t0, t1;
	char cache[PATH_MAX];

	need_fixtures(c);
	snprintf(cache, sizeof(cache), "%s/dbgd-cache", c->tmp);
	setenv("DEBUGINFOD_URLS", "http://127.0.0.1:9", 1);
	setenv("DEBUGINFOD_CACHE_PATH", cache, 1);
	start(c, "fx_stripped", &opts);
	r = fx_rec(&c->fx, "ret", "helper_inline");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	symbolize(c, &r->addr, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unsetenv("DEBUGINFOD_URLS");
	unsetenv("DEBUGINFOD_CACHE_PATH");
	assert_null(c->frames[0].function);
	assert_true(t1.tv_sec - t0.tv_sec < 12);
	assert_int_equal(syms__stats(c->s).debuginfod_queries, 1);
}

/*
 * A debuginfod server on loopback, in a child: answers GET
 * /buildid/ID/debuginfo with file, anything else with 404, then exits.
 */
static pid_t serve_debuginfo(const char *id, const char *file, int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 8) ||
	    getsockname(ls, (struct sockaddr *)&a, &alen))
		return -1;
	*port = ntohs(a.sin_port);
	pid = fork();
	if (pid != 0) {
		close(ls);
		return pid;
	}
	alarm(20);
	for (int n = 0; n < 8; n++) {
		char req[4096] = { 0 }, want[192], hdr[256], buf[65536];
		int cs = accept(ls, NULL, NULL), fd;
		size_t got = 0;
		ssize_t r;
		struct stat st;

		if (cs < 0)
			break;
		while (got < sizeof(req) - 1 && !strstr(req, "\r\n\r\n") &&
		       (r = read(cs, req + got, sizeof(req) - 1 - got)) > 0)
			got += (size_t)r;
		snprintf(want, sizeof(want), "GET /buildid/%s/debuginfo ", id);
		fd = strncmp(req, want, strlen(want)) ? -1 : open(file, O_RDONLY);
		if (fd < 0 || fstat(fd, &st)) {
			const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
					 "Connection: close\r\n\r\n";

			if (write(cs, nf, strlen(nf)) < 0)
				break;
		} else {
			snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n"
				 "Connection: close\r\n\r\n", (long long)st.st_size);
			if (write(cs, hdr, strlen(hdr)) < 0)
				break;
			while ((r = read(fd, buf, sizeof(buf))) > 0)
				if (write(cs, buf, (size_t)r) != r)
					break;
			close(fd);
		}
		close(cs);
	}
	_exit(0);
}

/* debuginfod on and a server that has the debug file: full names. */
static void test_debuginfod_download(void **state)
{
	struct ctx *c = *state;
	struct syms_opts opts = { .debug_dir = c->tmp, .names = true, .debuginfod = true };
	char dbg[PATH_MAX], url[64], cache[PATH_MAX], id[128];
	int port = 0;
	pid_t srv;

	need_fixtures(c);
	snprintf(dbg, sizeof(dbg), "%s/fx_stripped", c->fixtures);
	snprintf(id, sizeof(id), "%s", file_build_id(dbg));
	snprintf(dbg, sizeof(dbg), "%s/fx_stripped.debug", c->fixtures);
	srv = serve_debuginfo(id, dbg, &port);
	assert_true(srv > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	snprintf(cache, sizeof(cache), "%s/dbgd-cache", c->tmp);
	setenv("DEBUGINFOD_URLS", url, 1);
	setenv("DEBUGINFOD_CACHE_PATH", cache, 1);
	start(c, "fx_stripped", &opts);
	check_inline(c, "/fx_stripped");
	unsetenv("DEBUGINFOD_URLS");
	unsetenv("DEBUGINFOD_CACHE_PATH");
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	assert_int_equal(syms__stats(c->s).debuginfod_queries, 1);
}

/* With debuginfod off, DEBUGINFOD_URLS in the environment is not used. */
static void test_debuginfod_off(void **state)
{
	struct ctx *c = *state;
	struct syms_opts opts = { .debug_dir = c->tmp, .names = true };
	const struct rec *r;

	need_fixtures(c);
	setenv("DEBUGINFOD_URLS", "http://127.0.0.1:9", 1);
	start(c, "fx_stripped", &opts);
	r = fx_rec(&c->fx, "ret", "helper_inline");
	symbolize(c, &r->addr, 1);
	unsetenv("DEBUGINFOD_URLS");
	assert_null(c->frames[0].function);
	assert_int_equal(syms__stats(c->s).debuginfod_queries, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* Usage: test_syms [PATTERN]  (run only the tests whose name matches) */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_inline_frames),
		T(test_non_pie),
		T(test_cxx_template),
		T(test_debug_dir_build_id),
		T(test_stripped_no_debug),
		T(test_debuglink),
		T(test_minidebuginfo),
		T(test_deleted_and_replaced),
		T(test_other_root),
		T(test_target_exited),
		T(test_dlopen_refresh),
		T(test_unknown_ip),
		T(test_cache),
		T(test_no_names),
		T(test_bad_pid),
		T(test_empty),
		T(test_debuginfod_unreachable),
		T(test_debuginfod_off),
		T(test_debuginfod_download),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

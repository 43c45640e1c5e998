// SPDX-License-Identifier: MIT
/*
 * test_unwind_maps.c - unwind_maps against real BPF maps (those of
 * bpf/unwind_test.bpf.c, created without loading its programs) for this
 * very process: module lists, biases, shared tables, full maps, the
 * non-mmapable path, gone processes. Needs root (skips otherwise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unwind/unwind_maps.h"
#include "unwind/unwind_table.h"
#include "unwind_test.skel.h"

struct ctx {
	struct unwind_test_bpf *skel;
	struct unwind_maps *u;
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Maps only (programs not loaded), sized for the test; NULL without root. */
static struct unwind_test_bpf *open_maps(__u32 rows, __u32 tables, __u32 modules, bool mmapable)
{
	struct unwind_test_bpf *skel;

	if (geteuid())
		return NULL;
	libbpf_set_print(quiet);
	skel = unwind_test_bpf__open();
	if (!skel)
		return NULL;
	bpf_program__set_autoload(skel->progs.ut_malloc_ret, false);
	bpf_program__set_autoload(skel->progs.ut_mmap_enter, false);
	bpf_map__set_max_entries(skel->maps.unwind_rows, rows);
	bpf_map__set_max_entries(skel->maps.unwind_tables, tables);
	bpf_map__set_max_entries(skel->maps.unwind_modules, modules);
	if (!mmapable)
		bpf_map__set_map_flags(skel->maps.unwind_rows, 0);
	if (unwind_test_bpf__load(skel)) {
		unwind_test_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int setup_with(void **state, __u32 rows, __u32 tables, __u32 modules, bool mmapable)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->skel = open_maps(rows, tables, modules, mmapable);
	if (c->skel)
		c->u = unwind_maps__new(c->skel->maps.unwind_rows, c->skel->maps.unwind_tables,
					c->skel->maps.unwind_modules);
	*state = c;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, UNWIND_ROWS_MAX, UNWIND_MAX_TABLES, UNWIND_MAX_PIDS, true);
}

static int setup_tiny_rows(void **state)
{
	return setup_with(state, 64, UNWIND_MAX_TABLES, UNWIND_MAX_PIDS, true);
}

static int setup_one_table(void **state)
{
	return setup_with(state, UNWIND_ROWS_MAX, 1, UNWIND_MAX_PIDS, true);
}

static int setup_one_pid(void **state)
{
	return setup_with(state, UNWIND_ROWS_MAX, UNWIND_MAX_TABLES, 1, true);
}

static int setup_no_mmap(void **state)
{
	return setup_with(state, 1 << 18, UNWIND_MAX_TABLES, UNWIND_MAX_PIDS, false);
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	unwind_maps__free(c->u);
	unwind_test_bpf__destroy(c->skel);
	free(c);
	return 0;
}

static struct ctx *need(void **state)
{
	struct ctx *c = *state;

	if (!c->skel)
		skip();		/* not root, or no BPF */
	assert_non_null(c->u);
	return c;
}

static void get_modules(struct ctx *c, int pid, struct unwind_modules *m)
{
	__u32 key = pid;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.unwind_modules), &key, m), 0);
}

static const struct unwind_module *module_of(const struct unwind_modules *m, uint64_t pc)
{
	for (__u32 i = 0; i < m->nr; i++)
		if (pc >= m->mod[i].start && pc < m->mod[i].end)
			return &m->mod[i];
	return NULL;
}

/* The row the BPF walker would find for pc: search the maps like it does. */
static bool bpf_row(struct ctx *c, const struct unwind_module *mod, uint64_t pc,
		    struct unwind_row *out)
{
	int rows = bpf_map__fd(c->skel->maps.unwind_rows);
	struct unwind_table_loc loc;
	uint64_t rel = pc - mod->bias;
	__u32 lo, hi, key = mod->table;

	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.unwind_tables), &key, &loc))
		return false;
	lo = loc.first;
	hi = loc.first + loc.count;
	while (lo < hi) {
		__u32 mid = lo + (hi - lo) / 2;
		struct unwind_row r;

		assert_int_equal(bpf_map_lookup_elem(rows, &mid, &r), 0);
		if (r.pc <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == loc.first)
		return false;
	key = lo - 1;
	return bpf_map_lookup_elem(rows, &key, out) == 0;
}

/* pc's row through the maps == its row in a table built from the file. */
static void check_pc(struct ctx *c, const struct unwind_modules *m, uint64_t pc, const char *file)
{
	const struct unwind_module *mod = module_of(m, pc);
	const struct unwind_row *want;
	struct unwind_table *t;
	struct unwind_row got;

	assert_non_null(mod);
	assert_int_not_equal(mod->table, (__u32)-1);
	assert_true(bpf_row(c, mod, pc, &got));
	assert_int_equal(unwind_table__build_file(file, &t), 0);
	want = unwind_table__find(t, pc - mod->bias + t->base);
	assert_non_null(want);
	assert_memory_equal(&got, want, sizeof(got));
	unwind_table__free(t);
}

__attribute__((noinline)) static int some_function(int x)
{
	return x * 7 + 3;
}

static void test_self_modules_and_rows(void **state)
{
	struct ctx *c = need(state);
	struct unwind_modules m;
	struct unwind_maps_stats st;
	void *libc_malloc = dlsym(RTLD_DEFAULT, "malloc");
	Dl_info di;
	int n;

	n = unwind_maps__add_pid(c->u, getpid());
	assert_true(n >= 3);
	get_modules(c, getpid(), &m);
	assert_int_equal(m.nr, n);
	for (__u32 i = 1; i < m.nr; i++)
		assert_true(m.mod[i].start >= m.mod[i - 1].end);
	assert_int_equal(some_function(1), 10);
	check_pc(c, &m, (uint64_t)some_function + 1, "/proc/self/exe");
	assert_true(dladdr(libc_malloc, &di));
	check_pc(c, &m, (uint64_t)libc_malloc + 8, di.dli_fname);
	unwind_maps__stats(c->u, &st);
	assert_true(st.tables >= 3);
	assert_int_equal(st.pids, 1);
	assert_int_equal(st.bytes, st.rows_used * sizeof(struct unwind_row));
	assert_int_equal(st.rows_max, UNWIND_ROWS_MAX);
	assert_int_equal(st.tables_full + st.rows_full + st.modules_dropped, 0);
}

static void test_add_is_idempotent(void **state)
{
	struct ctx *c = need(state);
	struct unwind_maps_stats a, b;
	int n;

	n = unwind_maps__add_pid(c->u, getpid());
	unwind_maps__stats(c->u, &a);
	assert_int_equal(unwind_maps__add_pid(c->u, getpid()), n);
	unwind_maps__stats(c->u, &b);
	assert_int_equal(b.tables, a.tables);
	assert_int_equal(b.rows_used, a.rows_used);
	assert_int_equal(b.shared, a.shared + n);
	assert_int_equal(b.pids, 1);
}

/* A child blocked reading a pipe, its libc mapped; *wfd ends it. */
static pid_t spawn_waiter(int *wfd)
{
	char path[64], line[512];
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", "read x", (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	close(fds[0]);
	*wfd = fds[1];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	for (int tries = 0; tries < 200; tries++) {
		FILE *f = fopen(path, "r");
		bool ready = false;

		while (f && fgets(line, sizeof(line), f))
			ready |= strstr(line, "libc.so.6") != NULL;
		if (f)
			fclose(f);
		if (ready)
			return pid;
		usleep(10000);
	}
	fail_msg("child did not start");
	return -1;
}

static void end_waiter(pid_t pid, int wfd)
{
	close(wfd);	/* read x sees EOF */
	waitpid(pid, NULL, 0);
}

/* Another process with the same libc shares its table. */
static void test_tables_shared_between_pids(void **state)
{
	struct ctx *c = need(state);
	struct unwind_maps_stats a, b;
	int wfd;
	pid_t pid = spawn_waiter(&wfd);

	assert_true(unwind_maps__add_pid(c->u, getpid()) > 0);
	unwind_maps__stats(c->u, &a);
	assert_int_equal(unwind_maps__add_pid(c->u, pid), 3);	/* sh, libc, ld.so */
	unwind_maps__stats(c->u, &b);
	assert_true(b.shared >= a.shared + 2);	/* libc and ld.so */
	assert_int_equal(b.tables, a.tables + 1);	/* sh */
	assert_int_equal(b.pids, 2);
	assert_int_equal(unwind_maps__remove_pid(c->u, pid), 0);
	unwind_maps__stats(c->u, &b);
	assert_int_equal(b.pids, 1);
	end_waiter(pid, wfd);
	/* a zombie or gone process has no mappings */
	assert_int_equal(unwind_maps__add_pid(c->u, pid), -ESRCH);
}

/*
 * A copy of libc with libc's build id but no section headers (so no
 * .eh_frame to build from), mapped executable below everything else, is
 * met first: its failed build must not stand for libc's build id. The real
 * libc keeps its table and the copy's failure is named, once.
 */
static void test_poisoned_build_id(void **state)
{
	struct ctx *c = need(state);
	void *libc_malloc = dlsym(RTLD_DEFAULT, "malloc");
	char dir[] = "/tmp/memtrace-poison-XXXXXX", path[128], cmd[384];
	struct unwind_failure f[4];
	struct unwind_maps_stats st;
	struct unwind_modules m;
	static const unsigned char zero[8];
	Dl_info di;
	size_t len;
	void *map;
	FILE *fp;
	int fd;

	assert_true(dladdr(libc_malloc, &di));
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/libc-copy.so", dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s", di.dli_fname, path);
	assert_int_equal(system(cmd), 0);
	fp = fopen(path, "r+");	/* ELF64: e_shoff at 0x28, e_shnum and e_shstrndx at 0x3c */
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0x28, SEEK_SET), 0);
	assert_int_equal(fwrite(zero, 1, 8, fp), 8);
	assert_int_equal(fseek(fp, 0x3c, SEEK_SET), 0);
	assert_int_equal(fwrite(zero, 1, 4, fp), 4);
	fclose(fp);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	len = 1 << 20;
	map = mmap((void *)0x10000000, len, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_true((uintptr_t)map < (uintptr_t)libc_malloc);

	assert_true(unwind_maps__add_pid(c->u, getpid()) >= 4);
	get_modules(c, getpid(), &m);
	assert_int_equal(module_of(&m, (uint64_t)map)->table, (__u32)-1);
	check_pc(c, &m, (uint64_t)libc_malloc + 8, di.dli_fname);	/* libc kept its table */
	unwind_maps__stats(c->u, &st);
	assert_true(st.tables >= 3);
	assert_int_equal(unwind_maps__failures(c->u, f, 4), 1);
	assert_string_equal(f[0].module, path);
	assert_int_equal(strlen(f[0].build_id), 40);
	assert_true(f[0].err < 0);
	/* again: the failure is not counted twice, libc still has its table */
	assert_true(unwind_maps__add_pid(c->u, getpid()) >= 4);
	assert_int_equal(unwind_maps__failures(c->u, f, 4), 1);
	get_modules(c, getpid(), &m);
	check_pc(c, &m, (uint64_t)libc_malloc + 8, di.dli_fname);

	munmap(map, len);
	close(fd);
	unlink(path);
	rmdir(dir);
}

/*
 * A library whose build id is 40 bytes, the longest taken as a key (80 hex
 * digits plus the table check): its table is built and used like any
 * other (under ASan, the key fits its buffer).
 */
static void test_long_build_id(void **state)
{
	struct ctx *c = need(state);
	char exe[PATH_MAX], path[PATH_MAX];
	struct unwind_modules m;
	void *h, *fn;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/../fixtures/unwind/long_build_id.so", dirname(exe));
	if (access(path, R_OK))
		skip();	/* make unit builds it; a bare test binary has none */
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(h);
	fn = dlsym(h, "malloc_wrapper");
	assert_non_null(fn);
	assert_true(unwind_maps__add_pid(c->u, getpid()) >= 4);
	get_modules(c, getpid(), &m);
	assert_true(module_of(&m, (uint64_t)fn)->table != (__u32)-1);
	check_pc(c, &m, (uint64_t)fn, path);
	assert_int_equal(unwind_maps__failures(c->u, NULL, 0), 0);
	dlclose(h);
}

static void test_rows_full_is_counted(void **state)
{
	struct ctx *c = need(state);
	struct unwind_maps_stats st;
	struct unwind_modules m;
	int n = unwind_maps__add_pid(c->u, getpid());

	assert_true(n >= 3);	/* the list is there, tables or not */
	unwind_maps__stats(c->u, &st);
	assert_true(st.rows_full >= 1);
	assert_true(st.rows_used <= 64);
	get_modules(c, getpid(), &m);
	assert_int_equal(module_of(&m, (uint64_t)dlsym(RTLD_DEFAULT, "malloc"))->table, (__u32)-1);
}

static void test_tables_full_is_counted(void **state)
{
	struct ctx *c = need(state);
	struct unwind_maps_stats st;

	assert_true(unwind_maps__add_pid(c->u, getpid()) >= 3);
	unwind_maps__stats(c->u, &st);
	assert_int_equal(st.tables, 1);
	assert_true(st.tables_full >= 1);
}

static void test_modules_map_full(void **state)
{
	struct ctx *c = need(state);
	struct unwind_modules m;

	int wfd;
	pid_t pid = spawn_waiter(&wfd);

	assert_true(unwind_maps__add_pid(c->u, getpid()) > 0);
	assert_int_equal(unwind_maps__add_pid(c->u, pid), -E2BIG);
	end_waiter(pid, wfd);
	get_modules(c, getpid(), &m);	/* the first is untouched */
	assert_true(m.nr > 0);
}

static void test_rows_without_mmap(void **state)
{
	struct ctx *c = need(state);
	struct unwind_modules m;

	assert_true(unwind_maps__add_pid(c->u, getpid()) >= 3);
	get_modules(c, getpid(), &m);
	check_pc(c, &m, (uint64_t)some_function, "/proc/self/exe");
}

static void test_gone_and_removed(void **state)
{
	struct ctx *c = need(state);

	assert_int_equal(unwind_maps__add_pid(c->u, 0x3ffffff0), -ESRCH);
	assert_int_equal(unwind_maps__remove_pid(c->u, getpid()), -ENOENT);
	assert_true(unwind_maps__add_pid(c->u, getpid()) > 0);
	assert_int_equal(unwind_maps__remove_pid(c->u, getpid()), 0);
	assert_int_equal(unwind_maps__remove_pid(c->u, getpid()), -ENOENT);
}

static void test_new_rejects_wrong_maps(void **state)
{
	struct ctx *c = need(state);

	errno = 0;
	assert_null(unwind_maps__new(NULL, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(unwind_maps__new(c->skel->maps.ut_costs, c->skel->maps.unwind_tables,
				     c->skel->maps.unwind_modules));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(unwind_maps__new(c->skel->maps.unwind_rows, c->skel->maps.unwind_tables,
				     c->skel->maps.unwind_rows));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_self_modules_and_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tables_shared_between_pids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poisoned_build_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_build_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_full_is_counted, setup_tiny_rows, teardown),
		cmocka_unit_test_setup_teardown(test_tables_full_is_counted, setup_one_table, teardown),
		cmocka_unit_test_setup_teardown(test_modules_map_full, setup_one_pid, teardown),
		cmocka_unit_test_setup_teardown(test_rows_without_mmap, setup_no_mmap, teardown),
		cmocka_unit_test_setup_teardown(test_gone_and_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_rejects_wrong_maps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

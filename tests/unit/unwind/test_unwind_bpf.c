// SPDX-License-Identifier: MIT
/*
 * test_unwind_bpf.c - the BPF walker (bpf/unwind.bpf.h) for real: loads
 * bpf/unwind_test.bpf.c (so the verifier of this kernel accepts it), fills
 * its maps with unwind_maps for targets/unwind_chain (no frame pointers,
 * threads, Debian's libc), attaches a uretprobe on libc's malloc and the
 * sys_enter_mmap tracepoint, and checks every stack against the known call
 * chain: chain_d, chain_c, chain_b, chain_a, thread_main, then libc's
 * start_thread and clone3 (where CFI ends the walk), or main,
 * __libc_start_call_main, __libc_start_main, _start for the main thread.
 * Each event is walked in both modes; fp must find less. Needs root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unwind/unwind_maps.h"
#include "unwind_test.skel.h"
#include "bpf/unwind_test.h"

#define THREADS	4
#define ROUNDS	16

struct sym {
	uint64_t addr, size;
	char name[64];
};

struct module {
	uint64_t start, end, offset;
	char path[PATH_MAX];
	struct sym *syms;
	size_t nr_syms;
	bool exe, libc;
};

/* One run of the target with everything it produced. */
struct run {
	bool ok;
	char why[256];			/* skip reason when !ok */
	struct unwind_test_event *ev;
	size_t nr_ev, cap_ev;
	struct module mods[64];
	size_t nr_mods;
	struct unwind_test_cost cost;	/* summed over CPUs */
	struct unwind_maps_stats st;
	int add_pid_first, add_pid_again;
	struct unwind_maps_stats st_again;
};

static struct run normal, nomods, deeprun;

static int on_event(void *ctx, void *data, size_t len)
{
	struct run *r = ctx;

	if (len < sizeof(struct unwind_test_event))
		return 0;
	if (r->nr_ev == r->cap_ev) {
		r->cap_ev = r->cap_ev ? 2 * r->cap_ev : 256;
		r->ev = realloc(r->ev, r->cap_ev * sizeof(*r->ev));
		if (!r->ev)
			return -ENOMEM;
	}
	memcpy(&r->ev[r->nr_ev++], data, sizeof(*r->ev));
	return 0;
}

/* ---- symbols (test only: nm, GNU ld layout where text vaddr == offset) -- */

static void load_syms(struct module *m)
{
	char cmd[PATH_MAX + 64], line[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -S --defined-only %s %s 2>/dev/null",
		 m->libc ? "-D" : "", m->path);
	p = popen(cmd, "r");
	if (!p)
		return;
	while (fgets(line, sizeof(line), p)) {
		unsigned long long a, s;
		char type[4], name[64];
		struct sym *y;

		if (sscanf(line, "%llx %llx %3s %63s", &a, &s, type, name) != 4)
			continue;
		if (type[0] != 'T' && type[0] != 't' && type[0] != 'W')
			continue;
		m->syms = realloc(m->syms, (m->nr_syms + 1) * sizeof(*m->syms));
		y = &m->syms[m->nr_syms++];
		y->addr = a;
		y->size = s;
		name[strcspn(name, "@")] = 0;	/* -D: malloc@@GLIBC_2.2.5 */
		snprintf(y->name, sizeof(y->name), "%s", name);
	}
	pclose(p);
}

static void snapshot_maps(struct run *r, int pid, const char *exe)
{
	char path[64], line[PATH_MAX + 128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && r->nr_mods < 64) {
		unsigned long long s, e, o;
		char perms[8], file[PATH_MAX];
		struct module *m;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %4095s", &s, &e, perms, &o, file) != 5 ||
		    perms[2] != 'x' || file[0] != '/')
			continue;
		m = &r->mods[r->nr_mods++];
		memset(m, 0, sizeof(*m));
		m->start = s;
		m->end = e;
		m->offset = o;
		snprintf(m->path, sizeof(m->path), "%s", file);
		m->exe = !strcmp(file, exe);
		m->libc = strstr(file, "/libc.so.6") != NULL;
		if (m->exe || m->libc)
			load_syms(m);
	}
	fclose(f);
}

/* Name of the function holding ip: a symbol, "[libc]" / "[other]" when
 * unnamed, "?" outside any file mapping. Return addresses look up ip - 1. */
static const char *name_of(const struct run *r, uint64_t ip, bool ret_addr)
{
	uint64_t at = ret_addr ? ip - 1 : ip;

	for (size_t i = 0; i < r->nr_mods; i++) {
		const struct module *m = &r->mods[i];
		uint64_t a;

		if (at < m->start || at >= m->end)
			continue;
		a = at - m->start + m->offset;
		for (size_t k = 0; k < m->nr_syms; k++)
			if (a >= m->syms[k].addr && a < m->syms[k].addr + m->syms[k].size)
				return m->syms[k].name;
		return m->libc ? "[libc]" : "[other]";
	}
	return "?";
}

static const char *frame(const struct run *r, const struct stack_trace *st, unsigned int i)
{
	return i < st->nr ? name_of(r, st->ip[i], i > 0) : "(end)";
}

/* ---- one run ------------------------------------------------------------- */

static bool read_line(FILE *f, const char *want)
{
	char line[64];

	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)))
			return true;
	return false;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);	/* verifier logs on failure */
}

static void sum_costs(struct unwind_test_bpf *skel, struct unwind_test_cost *sum)
{
	int n = libbpf_num_possible_cpus();
	struct unwind_test_cost *c = calloc(n, sizeof(*c));
	__u32 zero = 0;

	memset(sum, 0, sizeof(*sum));
	if (!c || bpf_map_lookup_elem(bpf_map__fd(skel->maps.ut_costs), &zero, c))
		goto out;
	for (int i = 0; i < n; i++) {
		sum->walks += c[i].walks;
		sum->dwarf_ns += c[i].dwarf_ns;
		sum->fp_ns += c[i].fp_ns;
		sum->dwarf_frames += c[i].dwarf_frames;
		sum->fp_frames += c[i].fp_frames;
		sum->fp_fallback_frames += c[i].fp_fallback_frames;
		sum->memo_hits += c[i].memo_hits;
		sum->memo_walks += c[i].memo_walks;
		sum->memo_ns += c[i].memo_ns;
	}
out:
	free(c);
}

/*
 * Start the target (threads, ROUNDS, depth), load and attach, let it run,
 * collect. with_modules false: the pid's module list is removed before the
 * run (the walker falls back).
 */
static void do_run(struct run *r, bool with_modules, int threads, int depth)
{
	char exe[PATH_MAX], self[PATH_MAX], libc[PATH_MAX] = "";
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = "malloc", .retprobe = true);
	struct unwind_test_bpf *skel = NULL;
	struct bpf_link *l1 = NULL, *l2 = NULL;
	struct ring_buffer *rb = NULL;
	struct unwind_maps *u = NULL;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status;
	FILE *fout = NULL;
	pid_t pid = -1;
	ssize_t n;

	if (geteuid() != 0) {
		snprintf(r->why, sizeof(r->why), "needs root");
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return;
	self[n] = 0;
	snprintf(exe, sizeof(exe), "%s/../targets/unwind_chain", dirname(self));
	if (getenv("UNWIND_CHAIN"))	/* e.g. a frame-pointer build, to compare costs */
		snprintf(exe, sizeof(exe), "%.4000s", getenv("UNWIND_CHAIN"));
	if (!realpath(exe, self) || access(self, X_OK)) {
		snprintf(r->why, sizeof(r->why), "no %.200s (make targets)", exe);
		return;
	}
	snprintf(exe, sizeof(exe), "%s", self);
	libbpf_set_print(libbpf_quiet);
	if (pipe(in) || pipe(out))
		goto fail;
	pid = fork();
	if (pid == 0) {
		char t[16], k[16], d[16];

		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		snprintf(t, sizeof(t), "%d", threads);
		snprintf(k, sizeof(k), "%d", ROUNDS);
		snprintf(d, sizeof(d), "%d", depth);
		execl(exe, "unwind_chain", t, k, d, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	fout = fdopen(out[0], "r");
	if (pid < 0 || !fout || !read_line(fout, "ready"))
		goto fail;

	skel = unwind_test_bpf__open();
	if (!skel)
		goto fail;
	skel->rodata->target_tgid = pid;
	if (unwind_test_bpf__load(skel)) {
		snprintf(r->why, sizeof(r->why), "load failed (verifier?)");
		goto fail;
	}
	u = unwind_maps__new(skel->maps.unwind_rows, skel->maps.unwind_tables,
			     skel->maps.unwind_modules);
	if (!u)
		goto fail;
	r->add_pid_first = unwind_maps__add_pid(u, pid);
	unwind_maps__stats(u, &r->st);
	r->add_pid_again = unwind_maps__add_pid(u, pid);
	unwind_maps__stats(u, &r->st_again);
	if (!with_modules)
		unwind_maps__remove_pid(u, pid);
	snapshot_maps(r, pid, exe);
	for (size_t i = 0; i < r->nr_mods; i++)
		if (r->mods[i].libc)
			snprintf(libc, sizeof(libc), "%s", r->mods[i].path);
	l1 = bpf_program__attach_uprobe_opts(skel->progs.ut_malloc_ret, -1, libc, 0, &uo);
	l2 = bpf_program__attach(skel->progs.ut_mmap_enter);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.ut_events), on_event, r, NULL);
	if (!libc[0] || !l1 || !l2 || !rb)
		goto fail;
	if (write(in[1], "g", 1) != 1 || !read_line(fout, "done"))
		goto fail;
	ring_buffer__consume(rb);
	sum_costs(skel, &r->cost);
	r->ok = true;
fail:
	if (!r->ok && !r->why[0])
		snprintf(r->why, sizeof(r->why), "setup failed: %s", strerror(errno));
	if (in[1] >= 0)
		close(in[1]);	/* target exits at EOF */
	if (pid > 0 && waitpid(pid, &status, 0) < 0)
		kill(pid, SIGKILL);
	if (fout)
		fclose(fout);
	else if (out[0] >= 0)
		close(out[0]);
	ring_buffer__free(rb);
	bpf_link__destroy(l2);
	bpf_link__destroy(l1);
	unwind_maps__free(u);
	unwind_test_bpf__destroy(skel);
}

static int group_setup(void **state)
{
	(void)state;
	do_run(&normal, true, THREADS, 0);
	if (normal.ok) {
		do_run(&nomods, false, THREADS, 0);
		do_run(&deeprun, true, 0, 2 * MAX_STACK_DEPTH);
	}
	return 0;
}

static int group_teardown(void **state)
{
	struct run *runs[] = { &normal, &nomods, &deeprun };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		for (size_t k = 0; k < runs[i]->nr_mods; k++)
			free(runs[i]->mods[k].syms);
		free(runs[i]->ev);
	}
	return 0;
}

static void need(const struct run *r)
{
	if (!r->ok) {
		print_message("skipped: %s\n", r->why);
		if (!strncmp(r->why, "load failed", 11))
			fail();	/* as root, a verifier rejection is a failure */
		skip();
	}
}

/* ---- checks --------------------------------------------------------------- */

static void dump(const struct run *r, const struct stack_trace *st, const char *what)
{
	print_error("%s: nr %u flags %#x:", what, st->nr, st->flags);
	for (unsigned int i = 0; i < st->nr && i < 16; i++)
		print_error(" %s", frame(r, st, i));
	print_error("\n");
}

/*
 * Is st the chain? off = frames before chain_d (1 for mmap: libc's mmap).
 * Returns 1 thread shape, 2 main shape, 0 not a chain_d stack; fails on a
 * chain_d stack of another shape.
 */
static int check_chain(const struct run *r, const struct stack_trace *st, unsigned int off)
{
	static const char *const chain[] = { "chain_d", "chain_c", "chain_b", "chain_a" };
	unsigned int i = off + 4;

	if (strcmp(frame(r, st, off), "chain_d"))
		return 0;
	for (unsigned int k = 0; k < 4; k++)
		if (strcmp(frame(r, st, off + k), chain[k]))
			goto bad;
	if (st->flags)
		goto bad;
	if (!strcmp(frame(r, st, i), "thread_main")) {
		/* start_thread and clone3 are not exported: only "in libc" */
		if (st->nr != i + 3 || strcmp(frame(r, st, i + 1), "[libc]") ||
		    strcmp(frame(r, st, i + 2), "[libc]"))
			goto bad;
		return 1;
	}
	if (!strcmp(frame(r, st, i), "main")) {
		if (st->nr != i + 4 || strcmp(frame(r, st, i + 1), "[libc]") ||
		    strcmp(frame(r, st, i + 2), "__libc_start_main") ||
		    strcmp(frame(r, st, i + 3), "_start"))
			goto bad;
		return 2;
	}
bad:
	dump(r, st, "unexpected chain_d stack");
	fail();
	return -1;
}

static void test_dwarf_malloc_chain(void **state)
{
	size_t threads = 0, mains = 0;

	(void)state;
	need(&normal);
	for (size_t i = 0; i < normal.nr_ev; i++) {
		const struct unwind_test_event *e = &normal.ev[i];
		int shape;

		if (e->source != UT_SRC_URETPROBE)
			continue;
		shape = check_chain(&normal, &e->dwarf, 0);
		threads += shape == 1;
		mains += shape == 2;
	}
	print_message("malloc stacks: %zu thread, %zu main\n", threads, mains);
	assert_int_equal(threads, THREADS * ROUNDS);
	assert_int_equal(mains, ROUNDS);
}

static void test_dwarf_syscall_chain(void **state)
{
	size_t threads = 0, mains = 0;

	(void)state;
	need(&normal);
	for (size_t i = 0; i < normal.nr_ev; i++) {
		const struct unwind_test_event *e = &normal.ev[i];
		const char *top = frame(&normal, &e->dwarf, 0);
		int shape;

		if (e->source != UT_SRC_SYSCALL)
			continue;
		shape = check_chain(&normal, &e->dwarf, 1);
		if (shape > 0 && !strstr(top, "mmap")) {	/* mmap, __mmap, mmap64 */
			dump(&normal, &e->dwarf, "mmap stack not starting in mmap");
			fail();
		}
		threads += shape == 1;
		mains += shape == 2;
	}
	assert_int_equal(threads, THREADS);
	assert_int_equal(mains, 1);
}

/*
 * mmap from inside malloc (a thread's new arena): malloc's return address
 * is the uretprobe trampoline while its uretprobe is pending; the walker
 * takes the real one from the kernel's return instances.
 */
static void test_dwarf_through_pending_uretprobe(void **state)
{
	size_t n = 0;

	(void)state;
	need(&normal);
	for (size_t i = 0; i < normal.nr_ev; i++) {
		const struct unwind_test_event *e = &normal.ev[i];
		unsigned int k;

		if (e->source != UT_SRC_SYSCALL)
			continue;
		for (k = 1; k < e->dwarf.nr; k++)
			if (!strcmp(frame(&normal, &e->dwarf, k), "__libc_malloc"))
				break;
		if (k >= e->dwarf.nr)
			continue;
		if (check_chain(&normal, &e->dwarf, k + 1) <= 0) {
			dump(&normal, &e->dwarf, "malloc's mmap does not reach the chain");
			fail();
		}
		n++;
	}
	print_message("mmap inside malloc: %zu stacks through the trampoline\n", n);
	assert_true(n >= 1);
}

/* Same events, frame pointers only: libc and the target have none. */
static void test_fp_finds_less(void **state)
{
	uint64_t dwarf = 0, fp = 0;
	size_t chains = 0;

	(void)state;
	need(&normal);
	for (size_t i = 0; i < normal.nr_ev; i++) {
		const struct unwind_test_event *e = &normal.ev[i];

		if (e->source != UT_SRC_URETPROBE ||
		    strcmp(frame(&normal, &e->dwarf, 0), "chain_d"))
			continue;
		chains++;
		dwarf += e->dwarf.nr;
		fp += e->fp.nr;
		assert_true(e->fp.nr < e->dwarf.nr);
		assert_int_equal(e->fp.ip[0], e->dwarf.ip[0]);
		assert_int_equal(e->fp.flags & STACK_F_FP_FALLBACK, 0);
	}
	print_message("chain stacks: %zu, frames dwarf %llu fp %llu\n", chains,
		      (unsigned long long)dwarf, (unsigned long long)fp);
	assert_true(chains > 0);
	assert_true(fp < dwarf);
}

/* Without a module list, dwarf mode is the fp walk, flagged and counted. */
static void test_no_modules_falls_back(void **state)
{
	size_t n = 0;

	(void)state;
	need(&normal);
	need(&nomods);
	for (size_t i = 0; i < nomods.nr_ev; i++) {
		const struct unwind_test_event *e = &nomods.ev[i];

		if (e->source != UT_SRC_URETPROBE)
			continue;
		n++;
		assert_true(e->dwarf.flags & STACK_F_FP_FALLBACK);
		assert_int_equal(e->dwarf.nr, e->fp.nr);
		assert_memory_equal(e->dwarf.ip, e->fp.ip, e->fp.nr * sizeof(e->fp.ip[0]));
	}
	assert_true(n >= THREADS * ROUNDS);
	assert_true(nomods.cost.fp_fallback_frames > 0);
}

/* Deeper than MAX_STACK_DEPTH: all 127 frames, flagged truncated, no error. */
static void test_deep_stack_truncated(void **state)
{
	size_t n = 0;

	(void)state;
	need(&normal);
	need(&deeprun);
	for (size_t i = 0; i < deeprun.nr_ev; i++) {
		const struct stack_trace *st = &deeprun.ev[i].dwarf;

		if (deeprun.ev[i].source != UT_SRC_URETPROBE ||
		    strcmp(frame(&deeprun, st, 0), "chain_d"))
			continue;
		n++;
		if (st->nr != MAX_STACK_DEPTH || st->flags != STACK_F_TRUNCATED ||
		    strcmp(frame(&deeprun, st, 4), "thread_main") ||
		    strcmp(frame(&deeprun, st, 5), "deep") ||
		    strcmp(frame(&deeprun, st, MAX_STACK_DEPTH - 1), "deep")) {
			dump(&deeprun, st, "deep stack");
			fail();
		}
	}
	assert_int_equal(n, ROUNDS);
	print_message("deep walks: %llu, dwarf %.0f ns (%.1f frames), fp %.0f ns (%.1f frames)\n",
		      (unsigned long long)deeprun.cost.walks,
		      (double)deeprun.cost.dwarf_ns / deeprun.cost.walks,
		      (double)deeprun.cost.dwarf_frames / deeprun.cost.walks,
		      (double)deeprun.cost.fp_ns / deeprun.cost.walks,
		      (double)deeprun.cost.fp_frames / deeprun.cost.walks);
}

static void test_maps_shared_and_idempotent(void **state)
{
	(void)state;
	need(&normal);
	assert_true(normal.add_pid_first >= 3);	/* exe, libc, ld.so at least */
	assert_int_equal(normal.add_pid_again, normal.add_pid_first);
	assert_true(normal.st.tables >= 3);
	assert_true(normal.st.rows_used > 1000);
	assert_int_equal(normal.st.bytes, normal.st.rows_used * sizeof(struct unwind_row));
	assert_int_equal(normal.st_again.tables, normal.st.tables);
	assert_int_equal(normal.st_again.rows_used, normal.st.rows_used);
	assert_true(normal.st_again.shared >= normal.st.shared + normal.st.tables);
	assert_int_equal(normal.st.pids, 1);
	print_message("tables %u rows %" PRIu64 " (%" PRIu64 " KiB) build %.1f ms\n",
		      normal.st.tables, normal.st.rows_used, normal.st.bytes / 1024,
		      normal.st.build_ns / 1e6);
}

static void test_walk_cost(void **state)
{
	const struct unwind_test_cost *c = &normal.cost;

	(void)state;
	need(&normal);
	assert_true(c->walks > 0);
	print_message("walk cost over %llu walks: dwarf %.0f ns (%.1f frames), "
		      "fp %.0f ns (%.1f frames), dwarf/fp %.1fx; per frame dwarf %.0f ns, fp %.0f ns\n",
		      (unsigned long long)c->walks, (double)c->dwarf_ns / c->walks,
		      (double)c->dwarf_frames / c->walks, (double)c->fp_ns / c->walks,
		      (double)c->fp_frames / c->walks, (double)c->dwarf_ns / (c->fp_ns ? c->fp_ns : 1),
		      (double)c->dwarf_ns / (c->dwarf_frames ? c->dwarf_frames : 1),
		      (double)c->fp_ns / (c->fp_frames ? c->fp_frames : 1));
	for (size_t i = 0; i < normal.nr_ev; i++)
		if (normal.ev[i].dwarf.flags || getenv("UT_DUMP"))
			dump(&normal, &normal.ev[i].dwarf, "flagged");
	assert_int_equal(c->fp_fallback_frames, 0);	/* every frame had CFI */
}

static bool same_stack(const struct stack_trace *a, const struct stack_trace *b)
{
	if (a->nr != b->nr || a->flags != b->flags)
		return false;
	for (unsigned int i = 0; i < a->nr && i < MAX_STACK_DEPTH; i++)
		if (a->ip[i] != b->ip[i])
			return false;
	return true;
}

/*
 * The memo (unwind_user_stack's skip of a repeated walk) against a full
 * walk of the same event, in every run: the normal chain (the same loop
 * calls malloc 16 times from the same place: hits), mmap inside malloc (a
 * pending uretprobe: never skipped), the 127-frame truncated stacks (one
 * word a frame: they fit, and hit), no modules (fp fallback from a
 * varying frame-pointer register: misses). A hit must give exactly the
 * stack the full walk finds.
 */
static void test_memo_matches_full_walk(void **state)
{
	const struct run *runs[] = { &normal, &nomods, &deeprun };
	const char *names[] = { "chain", "no modules", "deep" };

	(void)state;
	need(&normal);
	for (size_t k = 0; k < 3; k++) {
		const struct run *r = runs[k];
		size_t hits = 0;

		if (!r->ok)
			continue;
		for (size_t i = 0; i < r->nr_ev; i++) {
			const struct unwind_test_event *e = &r->ev[i];

			if (!same_stack(&e->memo, &e->dwarf)) {
				dump(r, &e->dwarf, "full walk");
				dump(r, &e->memo, e->memo_hit ? "memo hit" : "memo walk");
				fail();
			}
			hits += e->memo_hit;
		}
		print_message("%s: %zu events, %zu memo hits (%.0f ns per memo walk or hit, "
			      "%.0f ns per full walk)\n", names[k], r->nr_ev, hits,
			      (double)r->cost.memo_ns / (r->cost.memo_hits + r->cost.memo_walks),
			      (double)r->cost.dwarf_ns / (r->cost.walks ? r->cost.walks : 1));
		if (r == &normal)	/* rounds 2..16 of each thread repeat round 1 */
			assert_true(hits >= (THREADS + 1) * (ROUNDS / 2));
		if (r == &deeprun)	/* 4 rounds in main: the last 3 repeat */
			assert_true(hits >= 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dwarf_malloc_chain),
		cmocka_unit_test(test_dwarf_syscall_chain),
		cmocka_unit_test(test_dwarf_through_pending_uretprobe),
		cmocka_unit_test(test_fp_finds_less),
		cmocka_unit_test(test_no_modules_falls_back),
		cmocka_unit_test(test_deep_stack_truncated),
		cmocka_unit_test(test_maps_shared_and_idempotent),
		cmocka_unit_test(test_walk_cost),
		cmocka_unit_test(test_memo_matches_full_walk),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

// SPDX-License-Identifier: MIT
/*
 * bench-overhead - what a tracer adds to one malloc+free pair, every tracer
 * measured in one run on one process.
 *
 *   bench-overhead -w WORKER [-n PAIRS] [-r ROUNDS] [-z SIZE] [-d DEPTH] [-c]
 *                  [-b BASELINE] [-t 'LABEL|READY|COMMAND']...
 *
 * Starts WORKER (tools/bench/malloc_loop.c) once and times rounds of PAIRS
 * malloc(SIZE)+free pairs in it, DEPTH frames below main, under:
 *   untraced	nothing attached;
 *   floor	the bare uprobe floor: perf uprobe events, no BPF program, at
 *		the points memtrace probes: malloc's entry, malloc's return
 *		and free at the offset probe_place__choose() picks (what the
 *		kernel's traps cost, nothing else);
 *   floor-bpf	the same perf uprobe events, an empty BPF program on each;
 *   floor-multi the same points through uprobe_multi links (Linux 6.6+),
 *		an empty BPF program: one entry link (malloc, free), one
 *		return link (malloc), for the worker's pid only;
 *   floor-session one uprobe session link (Linux 6.13+) on malloc and free
 *		whose program returns 1: no return probe runs, two traps a
 *		pair (what sampled tracing with sessions pays at best);
 *   LABEL	each -t tracer in turn: /bin/sh runs "exec COMMAND" (a
 *		simple command: the tracer is the process sh starts) with
 *		{pid} replaced by the worker's pid; it counts as attached
 *		once a line of its output contains READY; it is stopped with
 *		SIGINT (SIGKILL after 20 s) before the next one starts.
 * With -c the worker's thread CPU time (user and kernel: traps and BPF
 * programs run in that thread) is timed instead of the wall clock: far
 * less disturbed by other load on a shared machine.
 * Each variant gets one warm-up round, then ROUNDS rounds; with -k PASSES
 * the floors and tracers are measured PASSES times over, interleaved
 * (floor, floor-bpf, floor-multi, each tracer, then again), so that slow
 * drifts of the machine hit every variant alike. The median of all of a
 * variant's rounds is reported as ns per pair, with the time the tracer took to
 * attach and to exit after SIGINT, and the added ns per pair over
 * untraced as a ratio to the floor's and to BASELINE's (the -t label of
 * the naive tracer, default "naive"). A tracer that fails to attach is
 * reported with its last lines of output and the run goes on. Exit status
 * 0, 1 on a setup error (no worker, bad option), 2 when uprobes cannot be
 * opened at all.
 *
 *   bench-overhead -p PID [-e | -m] -u PATH:OFFSET[:ret]...
 *
 * The floor on any process (tools/bench.sh: redis-server, with memtrace's
 * probe points): perf uprobe events on PID at each file OFFSET of PATH
 * (":ret": a return probe of the function there), with an empty BPF
 * program on each if -e; with -m, an empty BPF program through
 * uprobe_multi links instead (one for the entries and one for the returns
 * of each PATH). Prints "bench-overhead: probes attached", waits for
 * SIGINT or SIGTERM, prints the hits of each (perf events without -e) and
 * exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "target/elf_funcs.h"
#include "target/probe_place.h"
#include "tracer/uprobe_multi.h"
#include "bench_libc.h"
#include "bench_probes.h"

#define MAX_VARIANTS	16
#define MAX_ROUNDS	101
#define TAIL_LINES	4
#define LINE_MAX_LEN	512
#define READY_TIMEOUT_S	120
#define STOP_TIMEOUT_S	20

struct opts {
	const char *worker;
	long pairs;
	int rounds;
	int passes;		/* interleaved passes over the floors and tracers */
	long size;
	int depth;
	const char *baseline;
	bool cpu;		/* time the worker thread's CPU, not the wall clock */
};

/* The worker process: commands on in_fd, answers on out_fd. */
struct worker {
	pid_t pid;
	int in_fd, out_fd;
};

/* A tracer process and its merged stdout+stderr. */
struct tracer {
	pid_t pid;		/* also its process group */
	int fd;
	char part[LINE_MAX_LEN];	/* line being read */
	size_t part_len;
	char tail[TAIL_LINES][LINE_MAX_LEN];	/* last complete lines */
	unsigned int nr_lines;
	bool exited;
	int status;
};

struct result {
	char label[64];
	double ns[MAX_ROUNDS];	/* per pair, each round */
	int nr;
	double median, min, max;
	double attach_ms;	/* < 0: not applicable; mean over passes */
	double exit_ms;		/* SIGINT to exit; < 0: not applicable; mean */
	double attach_sum, exit_sum;
	int attach_n, exit_n;
	char note[256];
	bool ok;
};

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- worker ------------------------------------------------------------ */

/* Start the worker with pipes on its stdin and stdout. Returns 0 or -errno. */
static int worker_start(struct worker *w, const char *path)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -errno;
	w->pid = fork();
	if (w->pid < 0)
		return -errno;
	if (w->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(path, path, (char *)NULL);
		fprintf(stderr, "bench-overhead: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	w->in_fd = in[1];
	w->out_fd = out[0];
	return 0;
}

/* One round of n pairs. Returns nanoseconds per pair, or < 0 if the worker is gone. */
static double worker_round(const struct worker *w, const struct opts *o, long n)
{
	char buf[64];
	int len = snprintf(buf, sizeof(buf), "%ld %ld %d\n", n, o->size, o->depth);
	size_t got = 0;

	if (write(w->in_fd, buf, len) != len)
		return -1;
	while (got < sizeof(buf) - 1) {
		ssize_t r = read(w->out_fd, buf + got, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (buf[got] == '\n')
			break;
		got++;
	}
	buf[got] = '\0';
	if (o->cpu)		/* the second number: the worker thread's CPU time */
		return n ? strtod(strchr(buf, ' ') ? strchr(buf, ' ') : "-1", NULL) / n : 0;
	return n ? strtod(buf, NULL) / n : 0;
}

static void worker_stop(struct worker *w)
{
	close(w->in_fd);
	close(w->out_fd);
	waitpid(w->pid, NULL, 0);
}

/* ---- statistics -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void summarize(struct result *r)
{
	double s[MAX_ROUNDS];

	memcpy(s, r->ns, sizeof(double) * r->nr);
	qsort(s, r->nr, sizeof(double), cmp_double);
	r->min = s[0];
	r->max = s[r->nr - 1];
	r->median = r->nr % 2 ? s[r->nr / 2] : (s[r->nr / 2 - 1] + s[r->nr / 2]) / 2;
}

/*
 * Warm-up round, then o->rounds rounds, added to r's rounds of earlier
 * passes. Returns false when the worker died.
 */
static bool measure(const struct worker *w, const struct opts *o, struct result *r)
{
	if (worker_round(w, o, o->pairs) < 0)
		return false;
	for (int i = 0; i < o->rounds && r->nr < MAX_ROUNDS; i++, r->nr++) {
		r->ns[r->nr] = worker_round(w, o, o->pairs);
		if (r->ns[r->nr] < 0)
			return false;
	}
	summarize(r);
	r->ok = true;
	return true;
}

/* ---- the bare uprobe floor --------------------------------------------- */

static const char *const floor_labels[] = { "floor", "floor-bpf", "floor-multi",
					    "floor-session" };

/* The floor's points in the worker's libc: malloc, and free's chosen offset. */
struct floor_points {
	char libc[512];		/* the kernel reads the path at attach */
	uint64_t malloc_off, free_off, free_entry;
};

/* Find the floor's points in pid's libc. Returns 0, or -errno with note saying why. */
static int floor_points(pid_t pid, struct floor_points *fp, char *note, size_t cap)
{
	struct elf_func fm, ff;
	struct probe_place pp;
	struct elf_funcs *e;
	int err = bench__libc_path(pid, fp->libc, sizeof(fp->libc));

	if (err) {
		snprintf(note, cap, "no libc in the worker: %s", strerror(-err));
		return err;
	}
	e = elf_funcs__open(fp->libc);
	if (!e) {
		err = -errno;
		snprintf(note, cap, "%.200s: %s", fp->libc, strerror(-err));
		return err;
	}
	err = elf_funcs__find(e, "malloc", &fm);
	if (!err)
		err = elf_funcs__find(e, "free", &ff);
	if (!err && probe_place__choose(e, &ff, PROBE_ARG_REGS(1), &pp))
		pp.offset = ff.offset;
	elf_funcs__close(e);
	if (err) {
		snprintf(note, cap, "%.200s: no malloc or free", fp->libc);
		return err;
	}
	fp->malloc_off = fm.offset;
	fp->free_off = pp.offset;
	fp->free_entry = ff.offset;
	return 0;
}

/*
 * fds[0..2]: perf uprobe events at malloc's entry and return and at free's
 * point, with prog on each if prog >= 0. Returns 0 or -errno (note says
 * why); opened descriptors are left in fds for the caller to close.
 */
static int floor_perf(pid_t pid, const struct floor_points *fp, int prog, int *fds,
		      char *note, size_t cap)
{
	fds[0] = bench__open_uprobe(pid, fp->libc, fp->malloc_off, false);
	fds[1] = bench__open_uprobe(pid, fp->libc, fp->malloc_off, true);
	fds[2] = bench__open_uprobe(pid, fp->libc, fp->free_off, false);
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0) {
			snprintf(note, cap, "perf uprobe: %s", strerror(-fds[i]));
			return fds[i];
		}
		if (prog >= 0 && ioctl(fds[i], PERF_EVENT_IOC_SET_BPF, prog)) {
			int err = -errno;

			snprintf(note, cap, "empty BPF program: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * fds[0]: a uprobe_multi entry link (malloc, free's point), fds[1]: a
 * return link (malloc), prog on both. Returns 0 or -errno (note says why);
 * opened descriptors are left in fds for the caller to close.
 */
static int floor_multi(pid_t pid, const struct floor_points *fp, int prog, int *fds,
		       char *note, size_t cap)
{
	const uint64_t entries[] = { fp->malloc_off, fp->free_off };

	fds[0] = uprobe_multi__attach(prog, fp->libc, entries, 2, pid, false);
	if (fds[0] >= 0)
		fds[1] = uprobe_multi__attach(prog, fp->libc, &fp->malloc_off, 1, pid, true);
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0) {
			snprintf(note, cap, "uprobe_multi link: %s", strerror(-fds[i]));
			return fds[i];
		}
	}
	return 0;
}

/* fds[0]: one uprobe session link on malloc and free's point, prog on it. */
static int floor_session(pid_t pid, const struct floor_points *fp, int prog, int *fds,
			 char *note, size_t cap)
{
	const uint64_t entries[] = { fp->malloc_off, fp->free_off };

	fds[0] = uprobe_multi__attach_session(prog, fp->libc, entries, NULL, 2, pid);
	if (fds[0] < 0)
		snprintf(note, cap, "uprobe session link: %s", strerror(-fds[0]));
	return fds[0] < 0 ? fds[0] : 0;
}

/*
 * A floor variant: malloc's entry and return and free's chosen offset, on
 * the worker only, attached as kind says. With an empty BPF program the
 * kernel skips the perf record: the least any BPF tracer at these points
 * pays. Returns 0, or -errno when the probes cannot be attached (r->note
 * says why).
 */
static int run_floor(const struct worker *w, const struct opts *o, struct result *r,
		     enum floor_kind kind)
{
	struct floor_points fp;
	uint64_t hits[3] = { 0 };
	int fds[3] = { -1, -1, -1 }, prog = -1, err;

	snprintf(r->label, sizeof(r->label), "%s", floor_labels[kind]);
	r->attach_ms = r->exit_ms = -1;
	err = floor_points(w->pid, &fp, r->note, sizeof(r->note));
	if (err)
		return err;
	if (kind != FLOOR_PERF) {
		prog = kind == FLOOR_SESSION ? uprobe_multi__load_session_skip() :
		       uprobe_multi__load_empty(kind == FLOOR_MULTI);
		if (prog < 0) {
			err = prog;
			snprintf(r->note, sizeof(r->note), "empty BPF program: %s", strerror(-err));
			return err;
		}
	}
	if (kind == FLOOR_SESSION)
		err = floor_session(w->pid, &fp, prog, fds, r->note, sizeof(r->note));
	else if (kind == FLOOR_MULTI)
		err = floor_multi(w->pid, &fp, prog, fds, r->note, sizeof(r->note));
	else
		err = floor_perf(w->pid, &fp, prog, fds, r->note, sizeof(r->note));
	if (err)
		goto close_fds;
	if (!measure(w, o, r)) {
		err = -ESRCH;
		snprintf(r->note, sizeof(r->note), "the worker died");
		goto close_fds;
	}
	if (kind == FLOOR_PERF) {
		for (int i = 0; i < 3; i++)
			if (read(fds[i], &hits[i], sizeof(hits[i])) != sizeof(hits[i]))
				hits[i] = 0;
		snprintf(r->note, sizeof(r->note), "hits: malloc %" PRIu64 ", malloc return %"
			 PRIu64 ", free+%" PRIu64 " %" PRIu64, hits[0], hits[1],
			 fp.free_off - fp.free_entry, hits[2]);
	} else {	/* a program returning 0 suppresses the count */
		snprintf(r->note, sizeof(r->note), "empty BPF program%s, free at +%" PRIu64,
			 kind == FLOOR_SESSION ? " through a uprobe session link, returns skipped" :
			 kind == FLOOR_MULTI ? " through uprobe_multi links" : "",
			 fp.free_off - fp.free_entry);
	}
close_fds:
	for (int i = 3; i-- > 0;)
		if (fds[i] >= 0)
			close(fds[i]);
	if (prog >= 0)
		close(prog);
	return err;
}

/* ---- external tracers -------------------------------------------------- */

static void tracer_line(struct tracer *t, const char *line)
{
	snprintf(t->tail[t->nr_lines % TAIL_LINES], LINE_MAX_LEN, "%s", line);
	t->nr_lines++;
}

/*
 * Read what the tracer printed, waiting up to timeout_ms for the first
 * byte. Returns true when a new complete line contains ready (if given).
 */
static bool tracer_read(struct tracer *t, int timeout_ms, const char *ready)
{
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
	bool found = false;
	char buf[4096];
	ssize_t n;

	if (t->fd < 0)
		return false;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return false;
	while ((n = read(t->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n' && t->part_len < LINE_MAX_LEN - 1) {
				t->part[t->part_len++] = buf[i];
				continue;
			}
			if (buf[i] != '\n')
				continue;	/* overlong line: keep its start */
			t->part[t->part_len] = '\0';
			tracer_line(t, t->part);
			if (ready && strstr(t->part, ready))
				found = true;
			t->part_len = 0;
		}
	}
	if (n == 0) {			/* EOF */
		close(t->fd);
		t->fd = -1;
	}
	return found;
}

static bool tracer_alive(struct tracer *t)
{
	if (!t->exited && waitpid(t->pid, &t->status, WNOHANG) == t->pid)
		t->exited = true;
	return !t->exited;
}

/* Last lines of the tracer's output, joined by " / ". */
static void tracer_tail(const struct tracer *t, char *out, size_t cap)
{
	unsigned int first = t->nr_lines > TAIL_LINES ? t->nr_lines - TAIL_LINES : 0;
	size_t len = 0;

	out[0] = '\0';
	for (unsigned int i = first; i < t->nr_lines && len < cap; i++)
		len += snprintf(out + len, cap - len, "%s%s", i > first ? " / " : "",
				t->tail[i % TAIL_LINES]);
}

/* COMMAND with every {pid} replaced. */
static void expand(const char *cmd, pid_t pid, char *out, size_t cap)
{
	size_t len = 0;

	while (*cmd && len < cap - 1) {
		if (strncmp(cmd, "{pid}", 5) == 0) {
			len += snprintf(out + len, cap - len, "%d", (int)pid);
			cmd += 5;
		} else {
			out[len++] = *cmd++;
		}
	}
	out[len < cap ? len : cap - 1] = '\0';
}

/* Start "exec cmd" under /bin/sh in its own process group. Returns 0 or -errno. */
static int tracer_start(struct tracer *t, const char *cmd)
{
	char line[2048 + 8];
	int p[2];

	memset(t, 0, sizeof(*t));
	/* exec: SIGINT reaches the tracer itself, and its exit is the one timed */
	snprintf(line, sizeof(line), "exec %s", cmd);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	t->pid = fork();
	if (t->pid < 0)
		return -errno;
	if (t->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl("/bin/sh", "sh", "-c", line, (char *)NULL);
		_exit(127);
	}
	setpgid(t->pid, t->pid);	/* both sides: no race with the kill below */
	close(p[1]);
	t->fd = p[0];
	fcntl(t->fd, F_SETFL, O_NONBLOCK);
	return 0;
}

/*
 * SIGINT to the tracer's group, SIGKILL if it has not exited in time.
 * Returns the milliseconds from SIGINT to its exit, or -1 if it had to be
 * killed (or was gone already).
 */
static double tracer_stop(struct tracer *t)
{
	double t0 = mono_ms(), deadline = t0 + STOP_TIMEOUT_S * 1000.0, exit_ms = -1;

	if (tracer_alive(t)) {
		kill(-t->pid, SIGINT);
		while (tracer_alive(t) && mono_ms() < deadline) {
			if (t->fd >= 0)
				tracer_read(t, 1, NULL);	/* drain: a full pipe would block its exit */
			else
				usleep(1000);
		}
		if (!tracer_alive(t))
			exit_ms = mono_ms() - t0;
	}
	if (tracer_alive(t)) {
		kill(-t->pid, SIGKILL);
		waitpid(t->pid, &t->status, 0);
		t->exited = true;
	}
	kill(-t->pid, SIGKILL);		/* anything it left in its group */
	while (t->fd >= 0 && tracer_read(t, 0, NULL))
		;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	return exit_ms;
}

/* Parse 'LABEL|READY|COMMAND'. Returns false on a malformed spec. */
static bool split_spec(char *spec, char **label, char **ready, char **cmd)
{
	char *a = strchr(spec, '|'), *b = a ? strchr(a + 1, '|') : NULL;

	if (!a || !b || a == spec || b == a + 1 || !b[1])
		return false;
	*a = *b = '\0';
	*label = spec;
	*ready = a + 1;
	*cmd = b + 1;
	return true;
}

static void run_tracer(const struct worker *w, const struct opts *o, char *spec,
		       struct result *r)
{
	char cmd[2048], tail[LINE_MAX_LEN * TAIL_LINES];
	char *label, *ready, *tmpl;
	struct tracer t;
	double t0, deadline;
	bool up = false;

	r->attach_ms = r->exit_ms = -1;
	if (!split_spec(spec, &label, &ready, &tmpl)) {
		snprintf(r->label, sizeof(r->label), "?");
		snprintf(r->note, sizeof(r->note), "bad -t spec (want LABEL|READY|COMMAND)");
		return;
	}
	snprintf(r->label, sizeof(r->label), "%.*s", (int)sizeof(r->label) - 1, label);
	expand(tmpl, w->pid, cmd, sizeof(cmd));
	t0 = mono_ms();
	if (tracer_start(&t, cmd)) {
		snprintf(r->note, sizeof(r->note), "cannot start: %s", strerror(errno));
		return;
	}
	deadline = t0 + READY_TIMEOUT_S * 1000.0;
	while (!up && t.fd >= 0 && mono_ms() < deadline) {
		up = tracer_read(&t, 100, ready);
		if (!up && !tracer_alive(&t)) {		/* gone: read what it said last */
			up = tracer_read(&t, 0, ready);
			break;
		}
	}
	r->attach_ms = mono_ms() - t0;
	if (!up) {
		tracer_stop(&t);
		tracer_tail(&t, tail, sizeof(tail));
		snprintf(r->note, sizeof(r->note), "did not attach (%s): %.200s",
			 t.exited && WIFEXITED(t.status) ? "exited" : "timed out", tail);
		r->attach_ms = -1;
		return;
	}
	if (!measure(w, o, r))
		snprintf(r->note, sizeof(r->note), "the worker died");
	tracer_read(&t, 0, NULL);
	if (!tracer_alive(&t)) {
		tracer_tail(&t, tail, sizeof(tail));
		snprintf(r->note, sizeof(r->note), "the tracer exited during the rounds: %.200s",
			 tail);
		r->ok = false;
	}
	r->exit_ms = tracer_stop(&t);
	r->attach_sum += r->attach_ms;
	r->attach_n++;
	r->attach_ms = r->attach_sum / r->attach_n;
	if (r->exit_ms >= 0) {
		r->exit_sum += r->exit_ms;
		r->exit_n++;
	}
	r->exit_ms = r->exit_n ? r->exit_sum / r->exit_n : -1;
}

/* ---- report ------------------------------------------------------------ */

/* "a / b" of the added ns, or "-" when b added nothing. */
static void ratio(char *out, size_t cap, double added, const struct result *b, double base)
{
	if (b && b->median > base)
		snprintf(out, cap, "%.2f", added / (b->median - base));
	else
		snprintf(out, cap, "-");
}

static void print_results(const struct opts *o, const struct result *res, int nr,
			  pid_t worker)
{
	const struct result *base = NULL, *floor = NULL, *bfloor = NULL, *naive = NULL;

	for (int i = 0; i < nr; i++) {
		if (!res[i].ok)
			continue;
		if (!strcmp(res[i].label, "untraced"))
			base = &res[i];
		else if (!strcmp(res[i].label, "floor"))
			floor = &res[i];
		else if (!strcmp(res[i].label, "floor-bpf"))
			bfloor = &res[i];
		else if (!strcmp(res[i].label, o->baseline))
			naive = &res[i];
	}
	printf("# %ld malloc(%ld)+free pairs a round, %d rounds + 1 warm-up, %d interleaved "
	       "pass%s, %d frames deep; worker pid %d\n", o->pairs, o->size, o->rounds,
	       o->passes, o->passes > 1 ? "es" : "", o->depth, (int)worker);
	printf("# clock: %s\n", o->cpu ? "the worker thread's CPU time (user + kernel)" :
	       "wall clock");
	printf("# ns/pair: median round (min-max); x untr: ns/pair / untraced's; added: over untraced; "
	       "x floor, x floor-bpf, x %s: added / their added; attach: start to ready line; "
	       "exit: SIGINT to exit\n", o->baseline);
	printf("%-16s %10s %21s %8s %10s %8s %9s %8s %9s %7s\n", "variant", "ns/pair", "(min-max)",
	       "x untr", "added", "x floor", "x flr-bpf", "x naive", "attach ms", "exit ms");
	for (int i = 0; i < nr; i++) {
		const struct result *r = &res[i];
		char range[48], added[24] = "-", xf[16] = "-", xb[16] = "-", xn[16] = "-", xu[16] = "-";
		char att[16] = "-", ex[16] = "-";

		if (!r->ok) {
			printf("%-16s %10s  %s\n", r->label, "n/a", r->note);
			continue;
		}
		snprintf(range, sizeof(range), "(%.1f-%.1f)", r->min, r->max);
		if (base && r != base) {
			double a = r->median - base->median;

			snprintf(added, sizeof(added), "%.1f", a);
			if (base->median > 0)
				snprintf(xu, sizeof(xu), "%.0f", r->median / base->median);
			ratio(xf, sizeof(xf), a, floor, base->median);
			ratio(xb, sizeof(xb), a, bfloor, base->median);
			ratio(xn, sizeof(xn), a, naive, base->median);
		}
		if (r->attach_ms >= 0)
			snprintf(att, sizeof(att), "%.0f", r->attach_ms);
		if (r->exit_ms >= 0)
			snprintf(ex, sizeof(ex), "%.0f", r->exit_ms);
		printf("%-16s %10.1f %21s %8s %10s %8s %9s %8s %9s %7s%s%s\n", r->label, r->median,
		       range, xu, added, xf, xb, xn, att, ex, r->note[0] ? "  " : "", r->note);
	}
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-overhead -w WORKER [-n PAIRS] [-r ROUNDS] [-k PASSES] [-z SIZE] "
		"[-d DEPTH] [-c] [-b BASELINE] [-t 'LABEL|READY|COMMAND']...\n"
		"       bench-overhead -p PID [-e | -m] -u PATH:OFFSET[:ret]...\n");
}

int main(int argc, char **argv)
{
	struct opts o = { .pairs = 20000, .rounds = 5, .passes = 1, .size = 64, .depth = 8,
			  .baseline = "naive" };
	static struct result res[MAX_VARIANTS + 5];	/* untraced, 4 floors */
	char *specs[MAX_VARIANTS], *points[MAX_VARIANTS];
	int nr_specs = 0, nr_points = 0, nr = 0, c, err;
	enum floor_kind hold_kind = FLOOR_PERF;
	pid_t pid = 0;
	struct worker w;

	while ((c = getopt(argc, argv, "w:n:r:k:z:d:b:t:p:emu:ch")) != -1) {
		switch (c) {
		case 'p': pid = atoi(optarg); break;
		case 'e': hold_kind = FLOOR_BPF; break;
		case 'm': hold_kind = FLOOR_MULTI; break;
		case 'u':
			if (nr_points == MAX_POINTS) {
				fprintf(stderr, "bench-overhead: at most %d -u\n", MAX_POINTS);
				return 1;
			}
			points[nr_points++] = optarg;
			break;
		case 'w': o.worker = optarg; break;
		case 'c': o.cpu = true; break;
		case 'n': o.pairs = atol(optarg); break;
		case 'r': o.rounds = atoi(optarg); break;
		case 'k': o.passes = atoi(optarg); break;
		case 'z': o.size = atol(optarg); break;
		case 'd': o.depth = atoi(optarg); break;
		case 'b': o.baseline = optarg; break;
		case 't':
			if (nr_specs == MAX_VARIANTS) {
				fprintf(stderr, "bench-overhead: at most %d -t\n", MAX_VARIANTS);
				return 1;
			}
			specs[nr_specs++] = optarg;
			break;
		default:
			usage();
			return c == 'h' ? 0 : 1;
		}
	}
	if (pid > 0 && nr_points && optind == argc)
		return bench__hold_probes(pid, hold_kind, points, nr_points);
	if (!o.worker || optind != argc || o.pairs <= 0 || o.rounds < 1 ||
	    o.rounds > MAX_ROUNDS || o.passes < 1 || o.passes * o.rounds > MAX_ROUNDS ||
	    o.size < 0 || o.depth < 0 || o.depth > 200) {
		usage();
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	err = worker_start(&w, o.worker);
	if (err) {
		fprintf(stderr, "bench-overhead: cannot start %s: %s\n", o.worker, strerror(-err));
		return 1;
	}
	snprintf(res[nr].label, sizeof(res[nr].label), "untraced");
	res[nr].attach_ms = res[nr].exit_ms = -1;
	if (!measure(&w, &o, &res[nr])) {
		fprintf(stderr, "bench-overhead: the worker failed\n");
		worker_stop(&w);
		return 1;
	}
	nr++;
	for (int pass = 0; pass < o.passes; pass++) {
		struct result *r = &res[1];
		char spec[2048];

		err = run_floor(&w, &o, r++, FLOOR_PERF);
		if (err == -EACCES || err == -EPERM || err == -ENOENT) {
			print_results(&o, res, 2, w.pid);
			fprintf(stderr, "bench-overhead: uprobes cannot be opened here: %s\n",
				res[1].note);
			worker_stop(&w);
			return 2;
		}
		run_floor(&w, &o, r++, FLOOR_BPF);
		run_floor(&w, &o, r++, FLOOR_MULTI);
		run_floor(&w, &o, r++, FLOOR_SESSION);
		for (int i = 0; i < nr_specs; i++) {
			fprintf(stderr, "bench-overhead: pass %d: %.60s ...\n", pass + 1, specs[i]);
			snprintf(spec, sizeof(spec), "%s", specs[i]);	/* split in place */
			run_tracer(&w, &o, spec, r++);
		}
		nr = (int)(r - res);
	}
	print_results(&o, res, nr, w.pid);
	worker_stop(&w);
	return 0;
}

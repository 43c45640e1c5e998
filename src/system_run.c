// SPDX-License-Identifier: MIT
/* system_run.c - a host-wide sweep from start to exit (system_run.h). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "collect/sweep_read.h"
#include "deep.h"
#include "common/util.h"
#include "pipeline/pipeline.h"
#include "system_run.h"
#include "output/system_out.h"
#include "symbolize/syms.h"
#include "tracer/sweep.h"

#define DEEP_KEPT	64	/* deep traces kept (running or ended) at most */
#define FAULT_SYMS	64	/* processes whose symbols --fault-stacks keeps */

/* A process's symbols for its fault stacks, by identity (pid, start). */
struct proc_syms {
	uint64_t id;
	struct syms *syms;
	bool used;		/* in the last report */
};

struct sys_session {
	const struct options *opt;
	struct sweep *sweep;
	struct sweep_reader *reader;
	struct pipeline *pipeline;
	double start_mono;
	struct deep_trace *deep[DEEP_KEPT];	/* oldest first */
	size_t nr_deep;
	struct report *deep_reports[DEEP_KEPT];	/* lent to each system report */
	struct proc_syms fault_syms[FAULT_SYMS];
	size_t nr_fault_syms;
};

/* The symbols of process p (stack id: its identity), opened on first use. */
static struct syms *fault_syms(struct sys_session *s, const struct report *r,
			       const struct process_report *p)
{
	uint64_t id = r->stacks[p->stack].stack_id;
	struct syms_opts so = { .debug_dir = s->opt->debug_dir, .names = !s->opt->no_symbols };

	for (size_t i = 0; i < s->nr_fault_syms; i++) {
		if (s->fault_syms[i].id == id) {
			s->fault_syms[i].used = true;
			return s->fault_syms[i].syms;
		}
	}
	if (s->nr_fault_syms == FAULT_SYMS)
		return NULL;
	s->fault_syms[s->nr_fault_syms] = (struct proc_syms){ id, syms__new(p->pid, &so), true };
	return s->fault_syms[s->nr_fault_syms++].syms;
}

/* Symbolize the fault stacks of the growing processes a report shows (its
 * top -n, rated low or worse, alive for two intervals: symbols cost a walk
 * of the process's files, and a busy host starts many short processes that
 * grow for a moment, like compilers); forget the symbols of the others. */
static void fault_symbolize(struct sys_session *s, struct report *r)
{
	size_t *order = calloc(r->nr_processes + 1, sizeof(*order));
	size_t n, top = s->opt->top > 0 ? (size_t)s->opt->top : r->nr_processes;

	if (!order)
		return;
	for (size_t i = 0; i < s->nr_fault_syms; i++)
		s->fault_syms[i].used = false;
	n = system_out__order(r, order, top);
	for (size_t i = 0; i < n; i++) {
		struct process_report *p = &r->processes[order[i]];
		struct report view = { .nr_stacks = p->nr_fault_stacks, .stacks = p->fault_stacks };
		struct syms *sy;

		if (!p->nr_fault_stacks || !r->stacks[p->stack].analysed ||
		    r->stacks[p->stack].severity < SEV_LOW ||
		    r->time - p->started < 2 * s->opt->interval_s || !(sy = fault_syms(s, r, p)))
			continue;
		syms__symbolize_report(sy, &view);
	}
	for (size_t i = 0; i < s->nr_fault_syms;) {
		if (s->fault_syms[i].used) {
			i++;
			continue;
		}
		syms__free(s->fault_syms[i].syms);
		s->fault_syms[i] = s->fault_syms[--s->nr_fault_syms];
	}
	free(order);
}

static size_t deep_running(const struct sys_session *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nr_deep; i++)
		n += !deep__ended(s->deep[i]);
	return n;
}

static bool deep_traced(const struct sys_session *s, uint64_t id)
{
	for (size_t i = 0; i < s->nr_deep; i++)
		if (deep__id(s->deep[i]) == id)
			return true;
	return false;
}

/* Make room for one more trace: drop the oldest ended one. */
static bool deep_room(struct sys_session *s)
{
	if (s->nr_deep < DEEP_KEPT)
		return true;
	for (size_t i = 0; i < s->nr_deep; i++) {
		if (!deep__ended(s->deep[i]))
			continue;
		deep__free(s->deep[i]);
		memmove(&s->deep[i], &s->deep[i + 1], (s->nr_deep - i - 1) * sizeof(s->deep[0]));
		s->nr_deep--;
		return true;
	}
	return false;
}

/*
 * Deep-trace the worst processes of r (analysed) not traced before, from
 * --deep-min up, worst first, while fewer than --deep run.
 */
static void deep_start(struct sys_session *s, const struct report *r, double now)
{
	const struct options *o = s->opt;
	size_t *order = calloc(r->nr_processes + 1, sizeof(*order));
	size_t n;

	if (!order)
		return;
	n = system_out__order(r, order, r->nr_processes);
	/* worst severity first, growth breaking ties (the order is by growth) */
	for (int sev = SEV_CRITICAL; sev >= o->deep_min; sev--) {
		for (size_t i = 0; i < n && deep_running(s) < o->deep; i++) {
			const struct process_report *p = &r->processes[order[i]];
			const struct stack_report *st = &r->stacks[p->stack];
			struct deep_trace *d;

			if (!st->analysed || (int)st->severity != sev || deep_traced(s, st->stack_id) ||
			    !deep_room(s))
				continue;
			d = deep__start(o, p->pid, st->stack_id, now);
			if (d)
				s->deep[s->nr_deep++] = d;
		}
	}
	free(order);
}

/* One report of every running deep trace (its last when due); lend them all to r. */
static void deep_tick(struct sys_session *s, struct report *r, double now, bool final)
{
	for (size_t i = 0; i < s->nr_deep; i++) {
		struct deep_trace *d = s->deep[i];

		if (!deep__ended(d))
			deep__tick(d, final || deep__due(d, now));
		if (deep__report(d))
			s->deep_reports[r->nr_deep++] = deep__report(d);
	}
	r->deep = r->nr_deep ? s->deep_reports : NULL;
}

/* The sweep's own numbers for /metrics. */
static void self_metrics(struct sys_session *s, struct report *r, struct tracer_self *self)
{
	uint64_t ns = 0, runs = 0;

	tracer_self__init(self);
	if (!sweep__run_time_ns(s->sweep, &ns, &runs)) {
		r->sweep.bpf_run_time_ns = ns;
		self->probe_hits = runs;
	}
	self->map_fill[TRACER_MAP_ALLOCS] = (double)r->sweep.processes_tracked /
					    sweep__max_procs(s->sweep);
}

/* The first snapshot, for the HTTP endpoint only. */
static void publish_live(struct sys_session *s)
{
	struct tracer_self self;
	struct report *r;

	if (!s->opt->http || sweep_reader__read(s->reader, clock__mono_ns(), &r))
		return;
	r->time = clock__s(CLOCK_REALTIME);
	self_metrics(s, r, &self);
	pipeline__live(s->pipeline, r, &self);
}

/* One system report; may_deep: start deep traces of new suspects. */
static int report_once(struct sys_session *s, bool final, bool may_deep)
{
	double t0 = clock__s(CLOCK_MONOTONIC);
	struct tracer_self self;
	struct report *r;
	int err;

	err = sweep_reader__read(s->reader, clock__mono_ns(), &r);
	if (err) {
		fprintf(stderr, "memtrace: cannot read the sweep's maps: %s\n", strerror(-err));
		return err;
	}
	r->time = clock__s(CLOCK_REALTIME);
	r->elapsed_s = t0 - s->start_mono;
	r->final = final;
	self_metrics(s, r, &self);
	pipeline__analyse(s->pipeline, r, NULL);
	if (s->opt->fault_stacks)
		fault_symbolize(s, r);
	if (may_deep && s->opt->deep)
		deep_start(s, r, t0);
	deep_tick(s, r, t0, final);
	return pipeline__write(s->pipeline, r, &self, t0, final);
}

/* Sleep until deadline (CLOCK_MONOTONIC s) or *stop. */
static void wait_until(double deadline, volatile sig_atomic_t *stop)
{
	while (!*stop) {
		double left = deadline - clock__s(CLOCK_MONOTONIC);

		if (left <= 0)
			return;
		poll(NULL, 0, left > 0.2 ? 200 : (int)(left * 1000) + 1);
	}
}

/*
 * Report every interval. With -d: the triage window, then (with --deep)
 * the deep traces of its suspects until they end, then the final report.
 * Without -d (agent): suspects are deep-traced as they appear.
 */
static int run(struct sys_session *s, volatile sig_atomic_t *stop)
{
	const struct options *o = s->opt;
	double end = o->duration_s > 0 ? s->start_mono + o->duration_s : 0;
	double next = s->start_mono + o->interval_s;
	bool triage_over = false;
	int err;

	while (!*stop) {
		double deadline = end && !triage_over && end < next ? end : next;
		double now;

		wait_until(deadline, stop);
		if (*stop)
			break;
		now = clock__s(CLOCK_MONOTONIC);
		if (end && !triage_over && now >= end) {
			triage_over = true;
			if (!o->deep)
				break;
			err = report_once(s, false, true);
			if (err)
				return err;
			if (!deep_running(s))
				break;
			next = now + o->interval_s;
			continue;
		}
		err = report_once(s, false, !end);
		if (err)
			return err;
		if (triage_over && !deep_running(s))
			break;
		next += o->interval_s;
		now = clock__s(CLOCK_MONOTONIC);
		if (next < now)		/* a deep trace's attach took intervals: skip them */
			next = now + o->interval_s;
	}
	return report_once(s, true, false);
}

/*
 * The options as the sweep runs them: a process's share of the host's
 * memory says nothing of whether it leaks, so the share rule is off unless
 * the user set it.
 */
static struct options sweep_options(const struct options *o)
{
	struct options so = *o;
	bool share_set = false;

	for (unsigned int i = 0; i < so.nr_analysis; i++)
		share_set |= !strcmp(so.analysis[i].name, "min-share");
	if (!share_set && so.nr_analysis < sizeof(so.analysis) / sizeof(so.analysis[0])) {
		so.analysis[so.nr_analysis].name = "min-share";
		so.analysis[so.nr_analysis].value = "0";
		so.nr_analysis++;
	}
	return so;
}

int system_run(const struct options *o, FILE *out, volatile sig_atomic_t *stop)
{
	struct options so = sweep_options(o);
	struct sys_session s = { .opt = &so };
	struct sweep_config cfg = { .verbose = o->verbose,
				    .fault_sample = o->fault_stacks ? o->fault_sample : 0 };
	struct sweep_filter f = {
		.comm = o->has_comm ? &o->comm_re : NULL,
		.exclude_comm = o->has_exclude_comm ? &o->exclude_comm_re : NULL,
		.cgroup = o->cgroup,
	};
	struct sweep_maps maps;
	int err, status = 1, seeded;

	s.pipeline = pipeline__open(&so, out);
	if (!s.pipeline)
		return 1;
	s.sweep = sweep__new(&cfg);
	if (!s.sweep)
		goto close_pipeline;
	maps = (struct sweep_maps){ .procs = sweep__procs_fd(s.sweep),
				    .counters = sweep__counters_fd(s.sweep),
				    .stacks = sweep__stacks_fd(s.sweep),
				    .faults = sweep__faults_fd(s.sweep),
				    .fault_sample = cfg.fault_sample };
	s.reader = sweep_reader__new(&maps, &f, "/proc");
	if (!s.reader) {
		fprintf(stderr, "memtrace: %s\n", strerror(errno));
		goto free_sweep;
	}
	seeded = sweep_reader__seed(s.reader);
	if (seeded < 0) {
		fprintf(stderr, "memtrace: cannot list processes: %s\n", strerror(-seeded));
		goto free_reader;
	}
	s.start_mono = clock__s(CLOCK_MONOTONIC);
	publish_live(&s);
	fprintf(stderr, "memtrace: sweeping the host (%d processes), %u tracepoints, no uprobes%s\n",
		seeded, sweep__nr_links(s.sweep), o->duration_s > 0 ? "" : "; Ctrl-C to stop");
	err = run(&s, stop);
	status = err ? 1 : pipeline__gate_status(s.pipeline);
	for (size_t i = 0; i < s.nr_deep; i++)
		deep__free(s.deep[i]);
	for (size_t i = 0; i < s.nr_fault_syms; i++)
		syms__free(s.fault_syms[i].syms);
free_reader:
	sweep_reader__free(s.reader);
free_sweep:
	sweep__free(s.sweep);
close_pipeline:
	pipeline__close(s.pipeline);
	return status;
}

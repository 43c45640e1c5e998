// SPDX-License-Identifier: MIT
/* system_run.c - a host-wide sweep from start to exit (system_run.h). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "collect/sweep_read.h"
#include "common/util.h"
#include "pipeline/pipeline.h"
#include "system_run.h"
#include "tracer/sweep.h"

struct sys_session {
	const struct options *opt;
	struct sweep *sweep;
	struct sweep_reader *reader;
	struct pipeline *pipeline;
	double start_mono;
};

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

static int report_once(struct sys_session *s, bool final)
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
	r->elapsed_s = clock__s(CLOCK_MONOTONIC) - s->start_mono;
	r->final = final;
	self_metrics(s, r, &self);
	return pipeline__report(s->pipeline, r, NULL, &self, t0, final);
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

static int run(struct sys_session *s, volatile sig_atomic_t *stop)
{
	const struct options *o = s->opt;
	double end = o->duration_s > 0 ? s->start_mono + o->duration_s : 0;
	double next = s->start_mono + o->interval_s;
	int err;

	while (!*stop) {
		double deadline = end && end < next ? end : next;

		wait_until(deadline, stop);
		if (*stop || (end && clock__s(CLOCK_MONOTONIC) >= end))
			break;
		err = report_once(s, false);
		if (err)
			return err;
		next += o->interval_s;
	}
	return report_once(s, true);
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
	struct sweep_config cfg = { .verbose = o->verbose };
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
				    .counters = sweep__counters_fd(s.sweep) };
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
free_reader:
	sweep_reader__free(s.reader);
free_sweep:
	sweep__free(s.sweep);
close_pipeline:
	pipeline__close(s.pipeline);
	return status;
}

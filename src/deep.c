// SPDX-License-Identifier: MIT
/* deep.c - deep traces of the sweep's suspects (deep.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "analysis/analysis.h"
#include "common/util.h"
#include "deep.h"
#include "pipeline/pipeline.h"
#include "proc_trace.h"
#include "symbolize/syms.h"

struct deep_trace {
	struct target target;
	struct proc_trace pt;
	struct syms *syms;
	struct analysis *analysis;
	struct report *last;
	uint64_t id;
	double start, end;	/* CLOCK_MONOTONIC s */
	bool ended;
};

struct deep_trace *deep__start(const struct options *o, int pid, uint64_t id, double now)
{
	struct deep_trace *d = calloc(1, sizeof(*d));
	struct syms_opts so = { .debug_dir = o->debug_dir, .names = !o->no_symbols };
	int err;

	if (!d)
		return NULL;
	d->id = id;
	err = target__open_pid(&d->target, pid);
	if (err) {
		fprintf(stderr, "memtrace: deep trace of pid %d: %s\n", pid, target__strerror(err));
		goto free_d;
	}
	d->analysis = pipeline__analysis_new(o);
	if (!d->analysis)
		goto close_target;
	if (proc_trace__open(&d->pt, o, &d->target, o->deep_sample_bytes,
			     analysis__opts(d->analysis)->temp_s))
		goto free_analysis;
	d->syms = syms__new(pid, &so);	/* NULL: raw ips, still exact */
	/* the duration counts from when the probes are live (loading and
	 * attaching can take seconds on a busy host) */
	d->start = now > clock__s(CLOCK_MONOTONIC) ? now : clock__s(CLOCK_MONOTONIC);
	d->end = d->start + o->deep_duration_s;
	fprintf(stderr, "memtrace: deep trace of pid %d (%s) for %.0f s, %s\n", pid,
		d->target.comm, o->deep_duration_s,
		o->deep_sample_bytes ? "sampled" : "every allocation");
	return d;

free_analysis:
	analysis__free(d->analysis);
close_target:
	target__close(&d->target);
free_d:
	free(d);
	return NULL;
}

int deep__tick(struct deep_trace *d, bool final)
{
	struct report *r;
	int err;

	if (d->ended)
		return 0;
	err = proc_trace__read(&d->pt, &d->target, d->start, final, &r, NULL);
	if (!err) {
		if (d->syms)
			syms__symbolize_report(d->syms, r);
		r->proc.rss_bytes = r->proc.heap_bytes = -1;
		analysis__update(d->analysis, r);
		report__free(d->last);
		d->last = r;
	}
	if (final || err) {
		proc_trace__close(&d->pt);
		d->ended = true;
		if (d->last)
			d->last->final = true;
	}
	return err;
}

bool deep__due(struct deep_trace *d, double now)
{
	return now >= d->end || target__poll_exit(&d->target);
}

bool deep__ended(const struct deep_trace *d)
{
	return d->ended;
}

struct report *deep__report(const struct deep_trace *d)
{
	return d->last;
}

int deep__pid(const struct deep_trace *d)
{
	return d->target.pid;
}

uint64_t deep__id(const struct deep_trace *d)
{
	return d->id;
}

void deep__free(struct deep_trace *d)
{
	if (!d)
		return;
	proc_trace__close(&d->pt);
	report__free(d->last);
	syms__free(d->syms);
	analysis__free(d->analysis);
	target__close(&d->target);
	free(d);
}

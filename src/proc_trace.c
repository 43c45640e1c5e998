// SPDX-License-Identifier: MIT
/* proc_trace.c - one process's tracer and collector (proc_trace.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include "common/util.h"
#include "proc_trace.h"

int proc_trace__open(struct proc_trace *pt, const struct options *o, const struct target *t,
		     uint64_t sample_bytes, double temp_s)
{
	struct tracer_config cfg = {
		.max_allocs = o->max_allocs,
		.max_stacks = o->max_stacks,
		.sample_bytes = sample_bytes,
		.sample_seed = o->sample_seed,
		.unwind = o->unwind,
		.trace_mmap = !o->no_mmap,
		.stop_on_code_map = t->launched,
		.execs_expected = t->launched,
		.probe_at_entry = o->entry_probes,
		.temp_ns = (uint64_t)(temp_s * 1e9),
		.unwind_rows = 1 << 19,	/* 8 MiB: ~20 binaries the size of libc */
		.verbose = o->verbose,
	};
	struct collect_opts copts = { .older_s = o->older_s, .ages = true };
	struct collect_maps cmaps;
	int err;

	memset(pt, 0, sizeof(*pt));
	pt->sample_bytes = sample_bytes;
	pt->unwind = o->unwind;
	pt->tracer = tracer__new(&cfg, t->pid);
	if (!pt->tracer)
		return -errno ? -errno : -EINVAL;
	err = tracer__attach(pt->tracer, t);
	if (err)
		goto free_tracer;
	cmaps = (struct collect_maps){
		.tables = tracer__alloc_tables(pt->tracer), .allocs = -1,
		.mmaps = tracer__mmaps_fd(pt->tracer), .aggs = tracer__aggs_fd(pt->tracer),
		.counters = tracer__counters_fd(pt->tracer),
	};
	tracer__stack_fds(pt->tracer, cmaps.stacks);
	pt->collector = collector__new(&cmaps, &copts);
	if (!pt->collector) {
		err = -errno;
		fprintf(stderr, "memtrace: %s\n", strerror(-err));
		goto free_tracer;
	}
	return 0;

free_tracer:
	tracer__free(pt->tracer);
	pt->tracer = NULL;
	return err;
}

static void self_metrics(const struct proc_trace *pt, const struct report *r,
			 struct tracer_self *self)
{
	uint64_t allocs, mmaps, stacks;

	tracer_self__init(self);
	collector__last_counts(pt->collector, &allocs, &mmaps, &stacks);
	self->probe_hits = r->totals.counters[CNT_PROBE_HITS];
	self->map_fill[TRACER_MAP_ALLOCS] = r->maps.allocs_capacity ?
		(double)r->maps.allocs_live / (double)r->maps.allocs_capacity : 0;
	self->map_fill[TRACER_MAP_MMAPS] = (double)mmaps / tracer__map_max(pt->tracer, "mmaps");
	self->map_fill[TRACER_MAP_STACKS] = (double)stacks / tracer__map_max(pt->tracer, "stacks");
	self->map_fill[TRACER_MAP_AGGS] = (double)r->nr_stacks / tracer__map_max(pt->tracer, "aggs");
}

/* The kernel and the paths the tracer took on it, for the report header. */
static void report_paths(const struct proc_trace *pt, struct report *r)
{
	struct tracer_paths p;
	struct utsname u;

	tracer__paths(pt->tracer, &p);
	r->unwind = p.unwind;
	r->paths.uprobe_multi = p.uprobe_multi;
	r->paths.uprobe_session = p.uprobe_session;
	r->paths.fallbacks = p.fallbacks;
	snprintf(r->paths.missing, sizeof(r->paths.missing), "%s", p.missing);
	snprintf(r->paths.release, sizeof(r->paths.release), "%s",
		 uname(&u) == 0 ? u.release : "unknown");
}

int proc_trace__read(struct proc_trace *pt, const struct target *t, double start_mono,
		     bool final, struct report **out, struct tracer_self *self)
{
	struct report *r;
	int err;

	err = collector__read(pt->collector, clock__mono_ns(), &r);
	if (err) {
		fprintf(stderr, "memtrace: cannot read BPF maps: %s\n", strerror(-err));
		return err;
	}
	r->pid = t->pid;
	snprintf(r->comm, sizeof(r->comm), "%s", t->comm);
	r->time = clock__s(CLOCK_REALTIME);
	r->elapsed_s = clock__s(CLOCK_MONOTONIC) - start_mono;
	r->final = final;
	r->sample_bytes = pt->sample_bytes;
	report_paths(pt, r);
	tracer__map_usage(pt->tracer, &r->maps);
	snprintf(r->allocator, sizeof(r->allocator), "%s", frame__module_base(t->alloc_name));
	tracer__unwind_usage(pt->tracer, &r->totals.unwind_rows, &r->totals.unwind_rows_max,
			     &r->totals.unwind_tables, &r->totals.unwind_no_table);
	r->nr_unwind_failures = tracer__unwind_failures(pt->tracer, r->unwind_failures,
							REPORT_UNWIND_FAILURES);
	if (r->nr_unwind_failures > REPORT_UNWIND_FAILURES)
		r->nr_unwind_failures = REPORT_UNWIND_FAILURES;
	if (self)
		self_metrics(pt, r, self);
	*out = r;
	return 0;
}

void proc_trace__close(struct proc_trace *pt)
{
	collector__free(pt->collector);
	tracer__free(pt->tracer);
	pt->collector = NULL;
	pt->tracer = NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * proc_trace.h - uprobe tracing of one process: the tracer (BPF programs
 * and links on its allocator) and the collector of its maps, and reports
 * read from them with their header filled. What `memtrace -p` and the deep
 * traces of `memtrace --system --deep` share. On top of every stage, like
 * main.c.
 */
#ifndef MEMTRACE_PROC_TRACE_H
#define MEMTRACE_PROC_TRACE_H

#include <stdbool.h>
#include "cli/options.h"
#include "collect/collect.h"
#include "output/metrics.h"
#include "target/target.h"
#include "tracer/tracer.h"

struct proc_trace {
	struct tracer *tracer;
	struct collector *collector;
	uint64_t sample_bytes;	/* as configured: reports say so */
	int unwind;		/* enum unwind_mode */
};

/*
 * Load and attach the tracer for t (opened or launched, not yet resumed)
 * with o's settings, sample_bytes instead of o's, temp_s the analysis's
 * "temporary" threshold; then the collector of its maps. Returns 0 or
 * -errno after one line on stderr; on failure nothing stays attached and
 * pt is cleared.
 */
int proc_trace__open(struct proc_trace *pt, const struct options *o, const struct target *t,
		     uint64_t sample_bytes, double temp_s);

/*
 * Read the maps into a new report with its header: pid, comm, time,
 * elapsed since start_mono, final, sampling, unwinding and unwind-table
 * usage; self (optional) gets the tracer's self-metrics. Returns 0 and sets
 * *out, or -errno after one line on stderr.
 */
int proc_trace__read(struct proc_trace *pt, const struct target *t, double start_mono,
		     bool final, struct report **out, struct tracer_self *self);

/* Detach and free (the target stays open). Safe on a cleared pt. */
void proc_trace__close(struct proc_trace *pt);

#endif /* MEMTRACE_PROC_TRACE_H */

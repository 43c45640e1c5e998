/* SPDX-License-Identifier: MIT */
/*
 * pipeline.h - the per-report loop after the maps are read:
 * symbolize -> process view -> analyse -> baseline -> write (stdout text or
 * JSON, then the other sinks) -> gate on the final report.
 *
 * The stage on top of every other: it may call symbolize, analysis and
 * output, and reads its settings from cli/options.h. It never touches BPF:
 * a mode (one process, a host-wide sweep) reads its own maps into a
 * struct report and hands it here.
 */
#ifndef MEMTRACE_PIPELINE_H
#define MEMTRACE_PIPELINE_H

#include <stdbool.h>
#include <stdio.h>
#include "analysis/analysis.h"
#include "cli/options.h"
#include "common/report.h"
#include "output/metrics.h"
#include "symbolize/syms.h"

struct pipeline;

/*
 * The analysis, baseline (--baseline, loaded now), CI gate and sinks the
 * options ask for; reports go to out (borrowed, not closed). o must
 * outlive the pipeline. Prints one line on stderr and returns NULL with
 * errno set on failure; nothing is left open.
 */
struct pipeline *pipeline__open(const struct options *o, FILE *out);

/* The analysis settings in force (never NULL). */
const struct analysis_opts *pipeline__analysis_opts(const struct pipeline *p);

/*
 * One report: symbolize r's stacks with syms (NULL: leave them raw), read
 * the process view of r->pid (when > 0), analyse, and write it. self
 * (optional) carries the tracer's self-metrics; its report_latency_s is
 * set here from read_start (CLOCK_MONOTONIC seconds when the caller began
 * reading the maps) and reports from the pipeline's count. On the final
 * report the baseline is compared and saved and the gate decides
 * pipeline__gate_status(). Consumes r. Returns 0 or the first -errno
 * (after one line on stderr); the final report also returns -EIO when
 * an output file (--csv, --pprof, ...) could not be written in the run.
 */
int pipeline__report(struct pipeline *p, struct report *r, struct syms *syms,
		     struct tracer_self *self, double read_start, bool final);

/*
 * Tracing just went live: publish r (the maps as they are, not analysed,
 * written nowhere else) to the HTTP endpoint, so that a scrape before the
 * first interval's report gets metrics, not an error. Consumes r.
 * Returns 0 or -errno.
 */
int pipeline__live(struct pipeline *p, struct report *r, struct tracer_self *self);

/*
 * The two halves of pipeline__report(), for a mode that acts on the
 * analysis before writing (--system --deep picks its suspects there):
 * analyse symbolizes (syms may be NULL), reads the process view and
 * updates the analysis; write does the rest and consumes r.
 */
void pipeline__analyse(struct pipeline *p, struct report *r, struct syms *syms);
int pipeline__write(struct pipeline *p, struct report *r, struct tracer_self *self,
		    double read_start, bool final);

/*
 * A new analysis with the options' settings (--window, --sev-*,
 * --analysis ...), for a report series of its own. Returns NULL after one
 * line on stderr (errno set).
 */
struct analysis *pipeline__analysis_new(const struct options *o);

/* Reports written so far. */
uint64_t pipeline__reports(const struct pipeline *p);

/* The exit status the CI gate asks for after the final report (0: pass). */
int pipeline__gate_status(const struct pipeline *p);

/* Stop the sinks, free the analysis and baseline. NULL is a no-op. */
void pipeline__close(struct pipeline *p);

#endif /* MEMTRACE_PIPELINE_H */

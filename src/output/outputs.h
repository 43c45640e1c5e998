/* SPDX-License-Identifier: MIT */
/*
 * outputs.h - the report sinks besides stdout: pprof, collapsed stacks,
 * flame graph, CSV and the HTTP endpoint (issue 7), driven per report.
 *
 * Stage output: every writer (text.h, json_out.h, csv.h, collapsed.h,
 * flamegraph.h and flametree.h, pprof.h, metrics.h, http.h, dashboard.h
 * with history.h and dashboard_assets.h, analysis_out.h, baseline_out.h)
 * and this fan-out to the sinks. Never calls the
 * tracer or the collector. May call: common, analysis.
 */
#ifndef MEMTRACE_OUTPUTS_H
#define MEMTRACE_OUTPUTS_H

#include <json-c/json.h>
#include "output/metrics.h"
#include "common/report.h"

struct outputs;

/* What to write besides the report stream; NULL/false: not wanted. */
struct outputs_opts {
	const char *pprof;		/* pprof profile file */
	bool pprof_every;		/* ... rewritten every report, not only the final one */
	const char *collapsed;		/* collapsed stacks file (final report) */
	const char *flamegraph;		/* flame graph SVG file (final report) */
	const char *csv;		/* CSV rows, appended every report */
	const char *http;		/* listen address of the HTTP endpoint */
	size_t metrics_top;		/* series in /metrics; 0: the default */
	double interval_s;		/* report interval, and the analysis window: */
	double window_s;		/* ... the dashboard's history (0: defaults) */
	unsigned int mode;		/* of the files made (--output-mode; 0600) */
};

/*
 * Open what o asks for (CSV file, HTTP server). Prints one line
 * on stderr and returns NULL with errno set on failure.
 */
struct outputs *outputs__open(const struct outputs_opts *o);

/*
 * Feed one report (final or not) with its JSON text and object (NULL if
 * unavailable) and the tracer's self-metrics. Writes CSV rows, the HTTP
 * snapshot and the dashboard state every report; pprof every report with --pprof-every; pprof, collapsed
 * and flame graph files on the final one. Returns 0 or the first -errno
 * (after printing one line on stderr); the other sinks are still fed.
 */
int outputs__report(struct outputs *out, const struct report *r, const char *json,
		    json_object *json_obj, const struct tracer_self *self);

/*
 * Tracing is live: publish r (and json, self) to the HTTP endpoint only,
 * so that /metrics and /report.json answer before the first interval's
 * report. Returns 0 or -errno (after one line on stderr).
 */
int outputs__live(struct outputs *out, const struct report *r, const char *json,
		  const struct tracer_self *self);

/* Stop the server and close files. NULL is a no-op. */
void outputs__close(struct outputs *out);

#endif

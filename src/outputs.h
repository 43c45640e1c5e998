/* SPDX-License-Identifier: MIT */
/*
 * outputs.h - the report sinks besides stdout: pprof, collapsed stacks,
 * flame graph, CSV and the HTTP endpoint (issue 7), driven per report.
 */
#ifndef MEMTRACE_OUTPUTS_H
#define MEMTRACE_OUTPUTS_H

#include "metrics.h"
#include "options.h"
#include "report.h"

struct outputs;

/*
 * Open what the options ask for (CSV file, HTTP server). Prints one line
 * on stderr and returns NULL with errno set on failure.
 */
struct outputs *outputs__open(const struct options *o);

/*
 * Feed one report (final or not) with its JSON text (NULL if unavailable)
 * and the tracer's self-metrics. Writes CSV rows and the HTTP snapshot
 * every report; pprof every report with --pprof-every; pprof, collapsed
 * and flame graph files on the final one. Returns 0 or the first -errno
 * (after printing one line on stderr); the other sinks are still fed.
 */
int outputs__report(struct outputs *out, const struct report *r, const char *json,
		    const struct tracer_self *self);

/* Stop the server and close files. NULL is a no-op. */
void outputs__close(struct outputs *out);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * gate.h - the CI gate (issue 5): --fail-on SEVERITY and --max-growth RATE
 * turn a leak into a distinct exit status, after the report is written.
 *
 * Exit statuses of memtrace (the gate's are the two constants below):
 *   0  success, no gate tripped
 *   1  error (tracing failed, target could not be attached, ...)
 *   2  usage error (bad option)
 *   3  GATE_EXIT_SEVERITY: some stack's severity >= --fail-on
 *   4  GATE_EXIT_GROWTH: some stack grows faster than --max-growth
 * When both trip, 3 wins; both are reported on stderr.
 */
#ifndef MEMTRACE_GATE_H
#define MEMTRACE_GATE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "common/report.h"

#define GATE_EXIT_OK		0
#define GATE_EXIT_SEVERITY	3
#define GATE_EXIT_GROWTH	4

struct gate_opts {
	bool fail_on_set;
	enum severity fail_on;	/* trip when a stack's severity >= this (low..critical) */
	bool max_growth_set;
	double max_growth_bps;	/* trip when a rated stack grows faster than this */
};

/* What a check found; stacks are indexes in the report, -1 none. */
struct gate_result {
	int status;		/* GATE_EXIT_* */
	ssize_t severity_stack;	/* worst stack at or above fail_on */
	ssize_t growth_stack;	/* fastest stack above max_growth */
};

/* Nothing set: the gate never trips. Cannot fail. */
void gate_opts__defaults(struct gate_opts *g);

/* Parse --fail-on: "low".."critical" ("none" is refused). Returns 0 or -EINVAL (g unchanged). */
int gate__parse_fail_on(struct gate_opts *g, const char *s);

/*
 * Parse --max-growth: bytes/s, or a rate with a unit as in
 * analysis__parse_rate() ("200MB/h"). Returns 0 or -EINVAL (g unchanged).
 */
int gate__parse_max_growth(struct gate_opts *g, const char *s);

/*
 * Check an analysed report (call it on the final report, after writing it).
 * --fail-on trips on any stack whose severity >= fail_on; --max-growth on
 * any stack rated at least low whose growth_bytes_per_s > max_growth_bps
 * (stacks rated none showed no trend: their slope is noise). Fills res
 * (optional) and returns the exit status. Cannot fail.
 */
int gate__check(const struct gate_opts *g, const struct report *r, struct gate_result *res);

/*
 * Explain a tripped gate on f, one line per tripped condition, naming the
 * stack ("memtrace: --fail-on medium: high stack leak_fn <- main [malloc]
 * growing +360.0 MB/h"). Prints nothing when res->status is 0. Returns 0
 * or -EIO.
 */
int gate__print(const struct gate_opts *g, const struct gate_result *res,
		const struct report *r, FILE *f);

#endif /* MEMTRACE_GATE_H */

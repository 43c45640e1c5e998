/* SPDX-License-Identifier: MIT */
/*
 * history.h - what the dashboard draws over time: one point per report
 * (totals, verdict, the biggest stacks), kept for at most the analysis
 * window and at most HISTORY_MAX_POINTS points, so its size never depends
 * on how long the trace runs or how many stacks it has.
 */
#ifndef MEMTRACE_HISTORY_H
#define MEMTRACE_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include "common/report.h"

#define HISTORY_MAX_POINTS	512	/* points kept whatever the window */
#define HISTORY_TOP		32	/* stacks remembered per point */

/* One stack's outstanding bytes at one point. */
struct history_stack {
	uint64_t stack_id;
	uint32_t kind;		/* enum alloc_kind */
	int64_t bytes;
};

/* One report, reduced. */
struct history_point {
	double time;		/* unix seconds */
	double elapsed_s;
	int64_t outstanding_bytes;
	uint64_t alloc_calls, free_calls;
	uint64_t alloc_bytes, free_bytes;	/* summed over every stack */
	uint64_t dropped_events, unwind_failed;
	enum severity worst;
	bool leak;		/* verdict: possible leak */
	uint64_t suspect_id;	/* the suspect's stack id when leak */
	uint32_t suspect_kind;
	size_t nr_top;		/* <= HISTORY_TOP, by outstanding bytes */
	struct history_stack top[HISTORY_TOP];
};

struct history;

/*
 * An empty history keeping the points of the last window_s seconds (the
 * newest point's elapsed_s minus window_s; the newest two are always
 * kept) and at most max_points of them (0 or more than
 * HISTORY_MAX_POINTS: HISTORY_MAX_POINTS). Returns NULL on -ENOMEM.
 */
struct history *history__new(double window_s, size_t max_points);

/*
 * Append r (sorted, analysed) as the newest point and forget points that
 * fell out of the window. A report whose elapsed_s is not after the
 * newest point's replaces it (a final report taken right after the last
 * interval). O(stacks of r). Cannot fail.
 */
void history__add(struct history *h, const struct report *r);

/* Points kept, oldest first; history__at(h, i) for i < history__len(h). */
size_t history__len(const struct history *h);
const struct history_point *history__at(const struct history *h, size_t i);

/* The window in seconds. */
double history__window(const struct history *h);

/* Release h. NULL is a no-op. */
void history__free(struct history *h);

#endif /* MEMTRACE_HISTORY_H */

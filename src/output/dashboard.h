/* SPDX-License-Identifier: MIT */
/*
 * dashboard.h - the live web dashboard of --http (issue 17), served by
 * http.c's daemon:
 *
 *   GET /                      the page (HTML, embedded in the binary)
 *   GET /dashboard/app.js      its script, GET /dashboard/app.css its style
 *   GET /dashboard/state.json  the last state: the report's top
 *                              DASHBOARD_TOP_STACKS stacks with frames and
 *                              analysis, totals, rates, self-metrics,
 *                              verdict (and recommendations, categories,
 *                              mode, processes when the report has them),
 *                              the history of the analysis window and the
 *                              flame-graph tree (at most DASHBOARD_FLAME_NODES)
 *   GET /dashboard/events      Server-Sent Events: the state as one
 *                              "report" event per publish (id = seq), the
 *                              last one at once on connect; the stream ends
 *                              after the final report
 *
 * Everything is rendered once per report, in the publisher's thread; a
 * request only takes a reference to those bytes, so its cost does not
 * depend on the number of stacks, and nothing a client does waits the
 * tracer (streams are suspended connections, resumed by a publish; at most
 * DASHBOARD_MAX_STREAMS of them, more get 503).
 */
#ifndef MEMTRACE_DASHBOARD_H
#define MEMTRACE_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include "output/history.h"
#include "output/metrics.h"
#include "common/report.h"

#define DASHBOARD_TOP_STACKS	20	/* stacks (or processes) in a state */
#define DASHBOARD_FLAME_NODES	2000	/* flame-graph nodes in a state, at most */
#define DASHBOARD_MAX_STREAMS	8	/* concurrent event streams */

struct dashboard;

/* A dashboard with no state yet (interval 5 s, window 60 s). NULL: -ENOMEM. */
struct dashboard *dashboard__new(void);

/*
 * The report interval and the analysis window (the history keeps at most
 * window_s seconds). Call before the first publish; forgets the history.
 * Returns 0 or -ENOMEM (then the old settings stay).
 */
int dashboard__configure(struct dashboard *d, double interval_s, double window_s);

/*
 * Add r to the history, render the state (report: the JSON object of r the
 * pipeline built, may be NULL; self may be NULL) and push it to every
 * stream. r is read, not kept. Returns 0, or -ENOMEM and keeps serving the
 * previous state.
 */
int dashboard__publish(struct dashboard *d, const struct report *r, json_object *report,
		       const struct tracer_self *self);

/*
 * The state rendering alone (what dashboard__publish() serves): r with
 * history h (r already added) as a JSON text. On success returns 0 and
 * sets *buf (malloc'd, NUL-terminated, the caller frees it) and *len; else
 * -ENOMEM and changes nothing.
 */
int dashboard__render(const struct report *r, json_object *report, const struct history *h,
		      const struct tracer_self *self, double interval_s, uint64_t seq,
		      char **buf, size_t *len);

/* Whether url is one of the dashboard's paths (above). */
bool dashboard__owns(const char *url);

/*
 * Answer a GET or HEAD of url (dashboard__owns(url)) on c; called from the
 * daemon's access handler. Returns what MHD_queue_response() returned.
 */
enum MHD_Result dashboard__serve(struct dashboard *d, struct MHD_Connection *c, const char *url);

/*
 * End every stream and wait (at most about a second) until none is left
 * suspended: call before MHD_stop_daemon(). Streams opened afterwards end
 * at once.
 */
void dashboard__shutdown(struct dashboard *d);

/* States rendered so far (requests never render). */
uint64_t dashboard__renders(const struct dashboard *d);

/* Release d (after the daemon stopped). NULL is a no-op. */
void dashboard__free(struct dashboard *d);

#endif /* MEMTRACE_DASHBOARD_H */

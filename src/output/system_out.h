/* SPDX-License-Identifier: MIT */
/*
 * system_out.h - a host-wide sweep's report (report.system) as text and as
 * JSON: processes ranked by growth with severity, the verdict, then the
 * deep traces of the suspects as -p reports.
 */
#ifndef MEMTRACE_SYSTEM_OUT_H
#define MEMTRACE_SYSTEM_OUT_H

#include <stdio.h>
#include <json-c/json.h>
#include "common/report.h"

/*
 * Indices of r->processes, most growth first (then severity, then anon
 * bytes): at most max written to order. Returns how many. Cannot fail.
 */
size_t system_out__order(const struct report *r, size_t *order, size_t max);

/*
 * The text report: a header, a table of at most top processes (0: all)
 * ranked by growth, the totals, "Verdict: ..." and each deep trace (a -p
 * text report). Returns 0, -ENOMEM or -EIO.
 */
int system_text__write(const struct report *r, int top, FILE *f);

/*
 * The JSON report: { mode: "system", version..., time, elapsed_s, final,
 * processes: [{pid, comm, cgroup, rss_anon_bytes, swap_bytes, heap_bytes,
 * anon_map_bytes, rss_file_bytes, rss_shmem_bytes, growth_bytes_per_s,
 * growth_mb_per_h, growth_r2, severity, started, events}] (ranked as
 * above, at most top, 0: all), totals: {processes_seen, processes_exited,
 * processes_tracked, processes_shown, events, dropped_events, ...},
 * verdict: {result, worst, suspect: {pid, comm, severity,
 * growth_bytes_per_s} | null}, deep: [-p JSON reports] }. A new object the
 * caller puts; NULL on allocation failure.
 */
json_object *system_json__build(const struct report *r, int top);

#endif /* MEMTRACE_SYSTEM_OUT_H */

/* SPDX-License-Identifier: MIT */
/*
 * analysis_out.h - the analysis fields of a report (growth, severity,
 * lifetimes, process view, verdict) as text and as JSON.
 */
#ifndef MEMTRACE_ANALYSIS_OUT_H
#define MEMTRACE_ANALYSIS_OUT_H

#include <stdio.h>
#include <json-c/json.h>
#include "common/report.h"

/*
 * Print the analysis section of r: growing stacks with severity, B/s,
 * MB/h and fit quality; the lifetime view of the busiest stacks; the
 * process view ("too short to rate" below the minimum span); the
 * categories and recommendations (answers_out.h); and, last, "Verdict:
 * OK" or "Verdict: POSSIBLE LEAK: ...".
 * Returns 0 or -EIO when writing failed.
 */
int analysis__print_text(const struct report *r, FILE *f);

/*
 * Add to stack_obj: growth_bytes_per_s, growth_mb_per_h, growth_r2,
 * severity, growth_reason (null when the growth is rated, else why it is
 * 0), category (answers_out.h) and lifetime {alloc_calls, freed, p50_s, p90_s, p99_s (null
 * when unknown), temporary, peak_bytes}. Does nothing for a stack not
 * analysed. On allocation failure some fields may be missing.
 */
void analysis__to_json(const struct report *r, const struct stack_report *s,
		       json_object *stack_obj);

/*
 * Add to a report's JSON object: "verdict" {result: "ok"|"possible_leak",
 * worst, suspect: {index, stack_id, kind, label, severity,
 * growth_bytes_per_s} or null} and "process" {rss_bytes, heap_bytes,
 * rss_growth_bytes_per_s, heap_growth_bytes_per_s, growth_reason}
 * (unknown sizes null; growths null with growth_reason "too short to
 * rate" below the minimum span), "categories" and "recommendations"
 * (answers_out.h).
 * On allocation failure some fields may be missing.
 */
void analysis__report_to_json(const struct report *r, json_object *root);

#endif /* MEMTRACE_ANALYSIS_OUT_H */

/* SPDX-License-Identifier: MIT */
/* baseline_out.h - a baseline comparison (analysis/baseline.h) as text and as JSON. */
#ifndef MEMTRACE_BASELINE_OUT_H
#define MEMTRACE_BASELINE_OUT_H

#include <stdio.h>
#include <json-c/json.h>
#include "analysis/baseline.h"

/*
 * Print the comparison: totals, counts, and the stacks that drifted,
 * largest first (at most max_lines, 0: all). Returns 0 or -EIO.
 */
int baseline_diff__print_text(const struct baseline_diff *d, size_t max_lines, FILE *f);

/*
 * The comparison as JSON: { baseline: {pid, comm, time}, total:
 * {baseline_bytes, current_bytes, drift_bytes, drift_pct}, matched, new,
 * vanished, stacks: [{status, signature, label, baseline_bytes,
 * current_bytes, drift_bytes, drift_pct, growth_bytes_per_s, severity}] },
 * with null for a percentage of nothing. A new reference the caller puts;
 * NULL on allocation failure.
 */
json_object *baseline_diff__to_json(const struct baseline_diff *d);

#endif /* MEMTRACE_BASELINE_OUT_H */

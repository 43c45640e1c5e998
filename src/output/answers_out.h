/* SPDX-License-Identifier: MIT */
/*
 * answers_out.h - categories and recommendations of a report (issue 16)
 * as text and as JSON. Field names are public (issue 16).
 */
#ifndef MEMTRACE_ANSWERS_OUT_H
#define MEMTRACE_ANSWERS_OUT_H

#include <stdio.h>
#include <json-c/json.h>
#include "common/report.h"

/*
 * Print the category table (name, outstanding, allocations, alloc and
 * free rates, growth, severity, peak, stacks) and the ranked
 * recommendations of r ("Recommendations: none" when there are none).
 * Nothing when r has no categories. Returns 0 or -EIO.
 */
int answers__print_text(const struct report *r, FILE *f);

/*
 * The name of stack s's category, NULL when r has none for it. Cannot
 * fail.
 */
const char *answers__category_name(const struct report *r, const struct stack_report *s);

/* Add "category" (a name or null) to a stack's JSON object. */
void answers__stack_to_json(const struct report *r, const struct stack_report *s,
			    json_object *stack_obj);

/*
 * Add to a report's JSON object "categories": [{name, outstanding_bytes,
 * outstanding_allocs, alloc_calls, free_calls, alloc_rate, free_rate,
 * growth_bytes_per_s, growth_reason, severity, peak_bytes, stacks}] and
 * "recommendations": [{kind, stack_id (hex, as in stacks[]) or category,
 * label, description, estimated_savings_bytes and/or
 * estimated_savings_calls_per_s (absent when not estimated),
 * estimated_savings_bytes_copied_per_s (reserve),
 * held_after_24h_bytes (fix_leak), difficulty, priority}]. On
 * allocation failure some fields may be missing.
 */
void answers__report_to_json(const struct report *r, json_object *root);

#endif /* MEMTRACE_ANSWERS_OUT_H */

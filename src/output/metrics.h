/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - a report and the tracer's own health in the Prometheus text
 * exposition format (version 0.0.4), every name prefixed memtrace_.
 *
 * The label set is bounded: only the top N stacks by outstanding bytes
 * get series of their own, labelled stack_id ("0x..."), kind ("malloc",
 * ...), category (when the report has categories; at most 33 names of
 * at most 63 bytes, categories.h) and stack, a short signature
 * "leaf_function@module"; the rest is summed into
 * memtrace_stack_other_outstanding_bytes. Per category:
 * memtrace_category_{outstanding_bytes, outstanding_allocations,
 * growth_bytes_per_second, severity, peak_bytes}{category="..."}. Drops have one
 * series per reason (a fixed set). Tracer self-metrics come from struct
 * tracer_self, which main fills before each publish.
 *
 * tools/prometheus-alerts.yml and tools/grafana-dashboard.json use these
 * names; test_metrics checks that every name they use exists here.
 */
#ifndef MEMTRACE_METRICS_H
#define MEMTRACE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "common/report.h"

#define METRICS_TOP_STACKS	20	/* default N of per-stack series */
#define METRICS_LABEL_MAX	128	/* bytes of a label value before truncation */

/* BPF maps whose fill the tracer reports (label map="allocs", ...). */
enum tracer_map {
	TRACER_MAP_ALLOCS = 0,
	TRACER_MAP_STACKS,
	TRACER_MAP_AGGS,
	TRACER_MAP_MMAPS,
	TRACER_MAP_ENTRIES,
	TRACER_MAP_MAX,
};

/* The tracer's own health, filled by main for each publish. */
struct tracer_self {
	uint64_t probe_hits;		/* BPF program invocations (CNT_PROBE_HITS summed) */
	double map_fill[TRACER_MAP_MAX]; /* entries / max_entries, 0..1; < 0 unknown */
	double report_latency_s;	/* building the last report (collect, symbolize,
					   analyse), seconds; < 0 unknown */
	uint64_t reports;		/* reports built since start */
	uint64_t symbolize_failures;	/* frames the symbolizer could not name */
};

/* Fill s with "unknown" everywhere (fills and latency < 0, counters 0). Cannot fail. */
void tracer_self__init(struct tracer_self *s);

/* The map label of a tracer_map ("allocs", ...); "unknown" out of range. */
const char *tracer_map_name(unsigned int map);

/*
 * Render r (and self, which may be NULL: no self-metrics then) as
 * Prometheus text with per-stack series for the first top_n stacks of r
 * (r is sorted; 0 means METRICS_TOP_STACKS). On success returns 0 and
 * sets *buf (malloc'd, NUL-terminated, the caller frees it) and *len; on
 * failure returns -ENOMEM and changes nothing.
 */
int metrics__render(const struct report *r, const struct tracer_self *self, size_t top_n,
		    char **buf, size_t *len);

/*
 * The short signature of a stack, "leaf_function@module_base" (or the
 * frame name alone when the leaf has no function or no module, "?" for an
 * empty stack), valid UTF-8, at most size - 1 bytes. Returns buf.
 */
const char *metrics__stack_signature(const struct stack_report *s, char *buf, size_t size);

#endif /* MEMTRACE_METRICS_H */

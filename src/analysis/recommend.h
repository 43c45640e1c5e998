/* SPDX-License-Identifier: MIT */
/*
 * recommend.h - from numbers to answers (issue 16): allocation patterns
 * of a report's stacks and categories, each turned into a recommendation
 * with its estimated savings, difficulty and priority.
 *
 * Kinds (public names, enum rec_kind):
 *   fix_leak     a stack (or a category none of whose stacks is) rated
 *                verdict_min or worse; savings: its growth per hour, and
 *                what it will hold after 24 h
 *   pool         a stack of many short-lived same-size allocations;
 *                savings: allocator calls/s
 *   reserve      a realloc stack growing blocks in many equal steps;
 *                savings: bytes copied/s and realloc calls/s
 *   batch_small  many tiny outstanding blocks; savings: the allocator's
 *                per-block overhead (allocator_overhead())
 *   oversized    large malloc/calloc blocks freed quickly; savings: the
 *                stack's peak bytes
 * Thresholds: struct analysis_opts (docs/analysis.md says why each).
 *
 * Ranking: leaks first (they grow without bound), then memory (oversized,
 * batch_small), then CPU (reserve, pool); inside a tier by impact divided
 * by a difficulty weight (easy 1, medium 2, hard 4). priority 1 is first.
 */
#ifndef MEMTRACE_RECOMMEND_H
#define MEMTRACE_RECOMMEND_H

#include <stdint.h>
#include "analysis/analysis.h"
#include "common/report.h"

/*
 * Bytes the allocator named alloc (a module basename, "" unknown: glibc
 * assumed) spends beyond a request of size bytes; *model (optional) is
 * set to a static description of the assumption. Cannot fail.
 */
double allocator_overhead(const char *alloc, double size, const char **model);

/*
 * Replace r->recs with the recommendations for r (after analysis__update()
 * and categories__update()), ranked. Returns 0 or -ENOMEM (r without
 * recommendations then).
 */
int recommend__build(const struct analysis_opts *o, struct report *r);

#endif /* MEMTRACE_RECOMMEND_H */

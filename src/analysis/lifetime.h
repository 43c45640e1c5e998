/* SPDX-License-Identifier: MIT */
/*
 * lifetime.h - lifetime view of a stack (issue 5) from the BPF histogram
 * of freed lifetimes: bucket b counts frees with lifetime in
 * [2^b, 2^(b+1)) microseconds, bucket 0 those under 2 us, and the last
 * bucket everything longer.
 *
 * Percentiles interpolate linearly inside the bucket that holds the rank,
 * so they are exact to within that bucket's width (a factor of 2).
 */
#ifndef MEMTRACE_LIFETIME_H
#define MEMTRACE_LIFETIME_H

#include <stddef.h>
#include <stdint.h>
#include "common/report.h"

/* Lower and upper bound (seconds) of bucket b. Cannot fail. */
double lifetime__bucket_lo(size_t b);
double lifetime__bucket_hi(size_t b);

/* Sum of the nr counters. Cannot fail; 0 for a NULL hist. */
uint64_t lifetime__total(const uint64_t *hist, size_t nr);

/*
 * The p-quantile (0 < p <= 1) of the lifetimes in hist, in seconds,
 * interpolated inside its bucket. Returns -1 when hist is NULL or empty,
 * or p is out of range. Cannot fail otherwise.
 */
double lifetime__percentile(const uint64_t *hist, size_t nr, double p);

/*
 * How many lifetimes in hist are shorter than limit_s seconds; the bucket
 * straddling limit_s contributes pro rata, rounded to nearest. Cannot fail.
 */
uint64_t lifetime__count_below(const uint64_t *hist, size_t nr, double limit_s);

/*
 * Fill a stack's lifetime view: freed = free_calls, p50/p90/p99 from hist
 * (-1 when no freed lifetime is known), peak_bytes = max(peak_bytes,
 * outstanding). temporary is left as the collector set it (BPF counts it
 * exactly against temp_ns; lifetime__count_below() estimates it for
 * another threshold). Cannot fail.
 */
void lifetime__fill(struct lifetime *l, const uint64_t *hist, size_t nr,
		    uint64_t free_calls, int64_t outstanding);

#endif /* MEMTRACE_LIFETIME_H */

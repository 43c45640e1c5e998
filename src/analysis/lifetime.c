// SPDX-License-Identifier: MIT
/* lifetime.c - percentiles and counts from the log2(us) lifetime histogram. */
#include <math.h>
#include "analysis/lifetime.h"

double lifetime__bucket_lo(size_t b)
{
	return b == 0 ? 0 : ldexp(1.0, (int)b) * 1e-6;
}

double lifetime__bucket_hi(size_t b)
{
	return ldexp(1.0, (int)b + 1) * 1e-6;
}

uint64_t lifetime__total(const uint64_t *hist, size_t nr)
{
	uint64_t sum = 0;

	for (size_t b = 0; hist && b < nr; b++)
		sum += hist[b];
	return sum;
}

double lifetime__percentile(const uint64_t *hist, size_t nr, double p)
{
	uint64_t total = lifetime__total(hist, nr);
	double rank, cum = 0;

	if (!total || !(p > 0) || p > 1)
		return -1;
	rank = p * (double)total;
	for (size_t b = 0; b < nr; b++) {
		double c = (double)hist[b], lo, hi;

		if (!c || cum + c < rank) {
			cum += c;
			continue;
		}
		lo = lifetime__bucket_lo(b);
		hi = lifetime__bucket_hi(b);
		return lo + (hi - lo) * (rank - cum) / c;
	}
	return lifetime__bucket_hi(nr - 1);	/* not reached: rank <= total */
}

uint64_t lifetime__count_below(const uint64_t *hist, size_t nr, double limit_s)
{
	double n = 0;

	for (size_t b = 0; hist && b < nr; b++) {
		double lo = lifetime__bucket_lo(b), hi = lifetime__bucket_hi(b);

		if (hi <= limit_s)
			n += (double)hist[b];
		else if (lo < limit_s)
			n += (double)hist[b] * (limit_s - lo) / (hi - lo);
	}
	return (uint64_t)llround(n);
}

void lifetime__fill(struct lifetime *l, const uint64_t *hist, size_t nr,
		    uint64_t free_calls, int64_t outstanding)
{
	l->freed = free_calls;
	l->p50_s = lifetime__percentile(hist, nr, 0.50);
	l->p90_s = lifetime__percentile(hist, nr, 0.90);
	l->p99_s = lifetime__percentile(hist, nr, 0.99);
	if (outstanding > l->peak_bytes)
		l->peak_bytes = outstanding;
}

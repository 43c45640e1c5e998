/* SPDX-License-Identifier: MIT */
/*
 * fit.h - pure math for growth analysis (issue 5): straight-line fits of a
 * time series, the Mann-Kendall trend test, the monotonic fraction, and a
 * small sliding window of (t, y) samples.
 *
 * Nothing here does I/O or keeps global state; every function is safe to
 * call from tests on hand-made arrays.
 */
#ifndef MEMTRACE_FIT_H
#define MEMTRACE_FIT_H

#include <stddef.h>

/* A fitted line y = slope * x + intercept and its quality. */
struct fit_line {
	double slope;
	double intercept;
	double r2;		/* 1 - SSres/SStot, clamped to [0, 1]; 0 when y is constant */
	double mk_z;		/* Mann-Kendall z (continuity corrected), 0 when n < 3 */
	size_t n;		/* samples used */
};

/* Quality of the growth of a series, see fit_series__fit(). */
struct fit_growth {
	struct fit_line line;	/* Theil-Sen line */
	double mono;		/* ups / (ups + downs) over consecutive samples, 0..1 */
	unsigned int ups;	/* intervals in which y grew */
	unsigned int downs;	/* intervals in which y shrank */
	double span;		/* x of the last sample - x of the first */
	double rise;		/* y of the last sample - y of the first */
	int last_step;		/* sign of the last change: -1, 0, +1 */
	/* level shift (fit_level_shift()): when step, every other field is
	 * of the series with the shift taken out of the samples after it */
	int step;		/* 1: the series is one level shift (plus a trend) */
	int step_trend;		/* a run of the step has 3+ samples: the trend
				   around the jump is measured, not guessed */
	double step_bytes;	/* the shift (y units), 0 without one */
	double step_x;		/* x of the first sample after the shift */
};

/*
 * A window of samples with strictly increasing x. The arrays grow on
 * demand up to max samples; the oldest sample is dropped when full.
 * Zero-initialise, set max, use; fit_series__clear() releases the arrays.
 */
struct fit_series {
	size_t n;		/* samples held */
	size_t cap;		/* allocated slots */
	size_t max;		/* most samples kept (>= 2) */
	double *x;
	double *y;
};

/*
 * Ordinary least squares over n points. Returns 0, or -EINVAL when n < 2
 * or every x is the same (out unchanged). r2 is that of the fitted line.
 */
int fit_least_squares(const double *x, const double *y, size_t n, struct fit_line *out);

/*
 * Theil-Sen estimator: slope = median of the slopes of all pairs with
 * distinct x, intercept = median of y - slope * x, r2 of that line, and
 * the Mann-Kendall z of the series. O(n^2) time and memory for the pairs.
 * Returns 0, -EINVAL when n < 2 or no two x differ, -ENOMEM (out unchanged
 * on error). A constant series returns slope 0 without allocating.
 */
int fit_theil_sen(const double *x, const double *y, size_t n, struct fit_line *out);

/*
 * Coefficient of determination of the line (slope, intercept) over the
 * points, clamped to [0, 1]; 0 when y is constant or n < 2. Cannot fail.
 */
double fit_r2(const double *x, const double *y, size_t n, double slope, double intercept);

/*
 * Mann-Kendall trend statistic: z of S = sum sign(y[j] - y[i]) for i < j,
 * with the tie-corrected variance and a continuity correction. Positive
 * for an increasing series; 0 when n < 3 or every y is equal. Assumes x
 * increasing (the order of the array is the time order). Cannot fail.
 */
double fit_mann_kendall_z(const double *y, size_t n);

/*
 * Monotonic fraction: of the consecutive pairs where y changed, the share
 * where it grew (ups / (ups + downs)); 0 when y never changed. Optional
 * ups/downs receive the counts. Cannot fail.
 */
double fit_monotonic_fraction(const double *y, size_t n, unsigned int *ups, unsigned int *downs);

/* Median of v[0..n-1], reordering v; NAN when n == 0. Cannot fail. */
double fit_median(double *v, size_t n);

/*
 * Level-shift test: is y (n >= 3, x increasing) better explained by one
 * jump plus a common slope than by a straight line? The break k is
 * before the largest rise between two samples; the slope is the median
 * slope of the pairs inside the runs [0, k) and [k, n), each run at its
 * median level. It is a step when its sum of absolute residuals is under
 * half the Theil-Sen line's and
 * its jump rises (a drop is no step) more than 4 times the mean absolute
 * residual and 2 times what the slope adds in a mean interval: noise,
 * which fits both alike, is no step, nor is a ramp or its jitter. Returns k (the first sample after the jump) with
 * the jump in *shift, 0 when no step (or n < 3), or -ENOMEM. A zero
 * followed by a flat run is always a step.
 */
int fit_level_shift(const double *x, const double *y, size_t n, double *shift);

/*
 * Append (x, y). An x equal to the last one (within 1e-9) replaces that
 * sample; a smaller x is refused. Returns 0, -EINVAL (x going back, or a
 * non-finite value), or -ENOMEM (series unchanged).
 */
int fit_series__push(struct fit_series *s, double x, double y);

/*
 * A report's sample at now: when merge (this report stands for the one at
 * last_t, e.g. the final report right after the last interval) and the
 * last sample is at last_t, move it to (now, y); else fit_series__push().
 * Returns 0 or fit_series__push()'s error.
 */
int fit_series__sample(struct fit_series *s, double now, double y, double last_t, int merge);

/*
 * Drop the oldest samples with x < now - window, but keep at least
 * min_keep samples. Cannot fail.
 */
void fit_series__trim(struct fit_series *s, double now, double window, size_t min_keep);

/*
 * Growth of the series, robust to a single step: when fit_level_shift()
 * finds one, the samples after it are lowered by the shift first (g->step
 * set), so a one-time allocation followed by a flat run has growth 0,
 * and a trend on both sides of a jump keeps its slope. Then the Theil-Sen
 * line, monotonic fraction, span, rise and last step of that series.
 * Returns 0, -EINVAL when fewer than 2 samples, -ENOMEM.
 */
int fit_series__fit(const struct fit_series *s, struct fit_growth *g);

/* Release the arrays and empty the series (max is kept). Cannot fail. */
void fit_series__clear(struct fit_series *s);

#endif /* MEMTRACE_FIT_H */

// SPDX-License-Identifier: MIT
/* fit.c - least squares, Theil-Sen, Mann-Kendall, monotonic fraction. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/fit.h"

#define X_EPS 1e-9
/* a level shift: its runs fit at most this share of the line's residuals, */
#define STEP_GAIN 0.5
/* and it rises more than this many times the mean deviation inside them */
#define STEP_NOISE 4
/* ... and more than this many intervals' worth of the trend (a ramp's
 * jitter of up to one interval's growth is no jump) */
#define STEP_TREND 2

static void swap(double *a, double *b)
{
	double t = *a;

	*a = *b;
	*b = t;
}

/*
 * Wirth's selection: the k-th smallest of v[0..n-1]. Reorders v so that
 * v[0..k-1] <= v[k] <= v[k+1..n-1].
 */
static double select_kth(double *v, size_t n, size_t k)
{
	long l = 0, m = (long)n - 1, kk = (long)k;

	while (l < m) {
		double pivot = v[kk];
		long i = l, j = m;

		do {
			while (v[i] < pivot)
				i++;
			while (pivot < v[j])
				j--;
			if (i <= j) {
				swap(&v[i], &v[j]);
				i++;
				j--;
			}
		} while (i <= j);
		if (j < kk)
			l = i;
		if (kk < i)
			m = j;
	}
	return v[kk];
}

double fit_median(double *v, size_t n)
{
	double hi, lo;

	if (n == 0)
		return NAN;
	hi = select_kth(v, n, n / 2);
	if (n % 2)
		return hi;
	/* after the select, v[0..n/2-1] are <= hi: the lower middle is their max */
	lo = v[0];
	for (size_t i = 1; i < n / 2; i++)
		if (v[i] > lo)
			lo = v[i];
	return (lo + hi) / 2;
}

double fit_r2(const double *x, const double *y, size_t n, double slope, double intercept)
{
	double mean = 0, ss_tot = 0, ss_res = 0, r2;

	if (n < 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		mean += y[i];
	mean /= (double)n;
	for (size_t i = 0; i < n; i++) {
		double d = y[i] - mean, e = y[i] - (slope * x[i] + intercept);

		ss_tot += d * d;
		ss_res += e * e;
	}
	if (ss_tot <= 0)
		return 0;
	r2 = 1 - ss_res / ss_tot;
	if (r2 < 0)
		return 0;
	return r2 > 1 ? 1 : r2;
}

int fit_least_squares(const double *x, const double *y, size_t n, struct fit_line *out)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0, slope, intercept;

	if (n < 2)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
	}
	if (sxx <= 0)
		return -EINVAL;
	slope = sxy / sxx;
	intercept = my - slope * mx;
	out->slope = slope;
	out->intercept = intercept;
	out->r2 = fit_r2(x, y, n, slope, intercept);
	out->mk_z = fit_mann_kendall_z(y, n);
	out->n = n;
	return 0;
}

static int sign(double d)
{
	return (d > 0) - (d < 0);
}

double fit_mann_kendall_z(const double *y, size_t n)
{
	double var, nn = (double)n, ties = 0;
	long s = 0;

	if (n < 3)
		return 0;
	for (size_t i = 0; i < n; i++) {
		bool first = true;
		double t = 1;

		for (size_t j = i + 1; j < n; j++) {
			s += sign(y[j] - y[i]);
			if (y[j] == y[i])
				t++;
		}
		/* count each group of equal values once, at its first member */
		for (size_t j = 0; j < i && first; j++)
			if (y[j] == y[i])
				first = false;
		if (first && t > 1)
			ties += t * (t - 1) * (2 * t + 5);
	}
	var = (nn * (nn - 1) * (2 * nn + 5) - ties) / 18;
	if (var <= 0 || s == 0)
		return 0;
	return (s > 0 ? (double)(s - 1) : (double)(s + 1)) / sqrt(var);
}

double fit_monotonic_fraction(const double *y, size_t n, unsigned int *ups, unsigned int *downs)
{
	unsigned int u = 0, d = 0;

	for (size_t i = 1; i < n; i++) {
		if (y[i] > y[i - 1])
			u++;
		else if (y[i] < y[i - 1])
			d++;
	}
	if (ups)
		*ups = u;
	if (downs)
		*downs = d;
	return u + d ? (double)u / (double)(u + d) : 0;
}

int fit_theil_sen(const double *x, const double *y, size_t n, struct fit_line *out)
{
	size_t np = 0, cap;
	double *buf, slope, intercept;
	bool constant = true;

	if (n < 2)
		return -EINVAL;
	for (size_t i = 1; i < n && constant; i++)
		constant = y[i] == y[0];
	if (constant) {
		bool distinct = false;

		for (size_t i = 1; i < n && !distinct; i++)
			distinct = fabs(x[i] - x[0]) > X_EPS;
		if (!distinct)
			return -EINVAL;
		out->slope = 0;
		out->intercept = y[0];
		out->r2 = 0;
		out->mk_z = 0;
		out->n = n;
		return 0;
	}
	cap = n * (n - 1) / 2;
	if (cap < n)
		cap = n;
	buf = malloc(cap * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (fabs(x[j] - x[i]) > X_EPS)
				buf[np++] = (y[j] - y[i]) / (x[j] - x[i]);
	if (np == 0) {
		free(buf);
		return -EINVAL;
	}
	slope = fit_median(buf, np);
	for (size_t i = 0; i < n; i++)
		buf[i] = y[i] - slope * x[i];
	intercept = fit_median(buf, n);
	free(buf);
	out->slope = slope;
	out->intercept = intercept;
	out->r2 = fit_r2(x, y, n, slope, intercept);
	out->mk_z = fit_mann_kendall_z(y, n);
	out->n = n;
	return 0;
}

int fit_series__push(struct fit_series *s, double x, double y)
{
	size_t max = s->max < 2 ? 2 : s->max;

	if (!isfinite(x) || !isfinite(y))
		return -EINVAL;
	if (s->n) {
		double last = s->x[s->n - 1];

		if (fabs(x - last) <= X_EPS) {
			s->y[s->n - 1] = y;
			return 0;
		}
		if (x < last)
			return -EINVAL;
	}
	if (s->n == max) {
		memmove(s->x, s->x + 1, (s->n - 1) * sizeof(*s->x));
		memmove(s->y, s->y + 1, (s->n - 1) * sizeof(*s->y));
		s->n--;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		double *nx, *ny;

		if (cap > max)
			cap = max;
		nx = realloc(s->x, cap * sizeof(*nx));
		if (!nx)
			return -ENOMEM;
		s->x = nx;
		ny = realloc(s->y, cap * sizeof(*ny));
		if (!ny)
			return -ENOMEM;
		s->y = ny;
		s->cap = cap;
	}
	s->x[s->n] = x;
	s->y[s->n] = y;
	s->n++;
	return 0;
}

int fit_series__sample(struct fit_series *s, double now, double y, double last_t, int merge)
{
	if (merge && s->n && fabs(s->x[s->n - 1] - last_t) < X_EPS &&
	    (s->n < 2 || s->x[s->n - 2] < now)) {
		s->x[s->n - 1] = now;
		s->y[s->n - 1] = y;
		return 0;
	}
	return fit_series__push(s, now, y);
}

void fit_series__trim(struct fit_series *s, double now, double window, size_t min_keep)
{
	size_t drop = 0;

	while (s->n - drop > min_keep && s->x[drop] < now - window)
		drop++;
	if (!drop)
		return;
	memmove(s->x, s->x + drop, (s->n - drop) * sizeof(*s->x));
	memmove(s->y, s->y + drop, (s->n - drop) * sizeof(*s->y));
	s->n -= drop;
}

/* Median of y[i] - slope * x[i] over [lo, hi); tmp holds hi - lo doubles. */
static double run_level(const double *x, const double *y, size_t lo, size_t hi,
			double slope, double *tmp)
{
	for (size_t i = lo; i < hi; i++)
		tmp[i - lo] = y[i] - slope * x[i];
	return fit_median(tmp, hi - lo);
}

/* Slope inside the runs [0, k) and [k, n): the median slope of the pairs
 * that do not straddle k (0 without any); buf holds n(n-1)/2 doubles. */
static double run_slope(const double *x, const double *y, size_t n, size_t k, double *buf)
{
	size_t np = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n && (i >= k || j < k); j++)
			if (fabs(x[j] - x[i]) > X_EPS)
				buf[np++] = (y[j] - y[i]) / (x[j] - x[i]);
	return np ? fit_median(buf, np) : 0;
}

/* The model "one slope, a jump before sample k": its sum of absolute
 * residuals, the jump in *shift and the slope in *slope. */
static double step_cost(const double *x, const double *y, size_t n, size_t k, double *buf,
			double *shift, double *slope_out)
{
	double slope = run_slope(x, y, n, k, buf), lo, hi, cost = 0;

	*slope_out = slope;
	lo = run_level(x, y, 0, k, slope, buf);
	hi = run_level(x, y, k, n, slope, buf);
	for (size_t i = 0; i < n; i++)
		cost += fabs(y[i] - slope * x[i] - (i < k ? lo : hi));
	*shift = hi - lo;
	return cost;
}

/* fit_level_shift() given the Theil-Sen line of the series. */
static int level_shift(const double *x, const double *y, size_t n, const struct fit_line *line,
		       double *shift)
{
	double line_cost = 0, best, *buf, slope = 0, dt;
	size_t k = 0;

	*shift = 0;
	if (n < 3)
		return 0;
	for (size_t i = 0; i < n; i++)
		line_cost += fabs(y[i] - (line->slope * x[i] + line->intercept));
	/* the break: before the largest rise between two samples, where a
	 * one-time allocation shows (one candidate keeps this O(n^2)) */
	for (size_t b = 1; b < n; b++)
		if (y[b] - y[b - 1] > 0 && (!k || y[b] - y[b - 1] > y[k] - y[k - 1]))
			k = b;
	if (!k)
		return 0;
	buf = malloc((n * (n - 1) / 2 + n) * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	best = step_cost(x, y, n, k, buf, shift, &slope);
	free(buf);
	/* clearly cheaper than the line (noise fits both about as well), and
	 * a rise (memory taken once) well above the deviation left and above
	 * what the trend adds in an interval (a ramp's jitter is no jump) */
	dt = (x[n - 1] - x[0]) / (double)(n - 1);
	if (!(best < STEP_GAIN * line_cost) || !(*shift > STEP_NOISE * best / (double)n) ||
	    !(*shift > STEP_TREND * fabs(slope) * dt)) {
		*shift = 0;
		return 0;
	}
	return (int)k;
}

int fit_level_shift(const double *x, const double *y, size_t n, double *shift)
{
	struct fit_line line;
	int err;

	*shift = 0;
	if (n < 3)
		return 0;
	err = fit_theil_sen(x, y, n, &line);
	if (err)
		return err == -ENOMEM ? err : 0;
	return level_shift(x, y, n, &line, shift);
}

int fit_series__fit(const struct fit_series *s, struct fit_growth *g)
{
	struct fit_line line;
	double shift = 0, *y = s->y, *adj = NULL;
	int err, k;

	if (s->n < 2)
		return -EINVAL;
	err = fit_theil_sen(s->x, s->y, s->n, &line);
	if (err)
		return err;
	k = level_shift(s->x, s->y, s->n, &line, &shift);
	if (k < 0)
		return k;
	if (k > 0) {
		adj = malloc(s->n * sizeof(*adj));
		if (!adj)
			return -ENOMEM;
		for (size_t i = 0; i < s->n; i++)
			adj[i] = s->y[i] - ((int)i >= k ? shift : 0);
		y = adj;
		err = fit_theil_sen(s->x, y, s->n, &line);
		if (err)
			goto out;
	}
	g->line = line;
	g->mono = fit_monotonic_fraction(y, s->n, &g->ups, &g->downs);
	g->span = s->x[s->n - 1] - s->x[0];
	g->rise = y[s->n - 1] - y[0];
	g->last_step = sign(y[s->n - 1] - y[s->n - 2]);
	g->step = k > 0;
	g->step_trend = k >= 3 || (k > 0 && s->n - (size_t)k >= 3);
	g->step_bytes = shift;
	g->step_x = k > 0 ? s->x[k] : 0;
out:
	free(adj);
	return err;
}

void fit_series__clear(struct fit_series *s)
{
	free(s->x);
	free(s->y);
	s->x = NULL;
	s->y = NULL;
	s->n = 0;
	s->cap = 0;
}

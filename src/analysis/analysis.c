// SPDX-License-Identifier: MIT
/*
 * analysis.c - per-stack time series, growth fit and the severity rule.
 * Printing and JSON live in analysis_print.c.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/analysis.h"
#include "analysis/fit.h"
#include "analysis/lifetime.h"
#include "analysis/procview.h"

/* A report closer than this fraction of the interval to the previous one
 * replaces its samples. */
#define MERGE_FRACTION	0.25

/* One tracked (stack_id, kind). */
struct track {
	struct track *next;
	uint64_t stack_id;
	uint32_t kind;
	double last_t;		/* time of the last report that had it */
	int64_t peak;		/* highest outstanding seen */
	struct fit_series s;
};

struct analysis {
	struct analysis_opts o;
	struct track **buckets;
	size_t nr_buckets;	/* power of two */
	size_t nr_tracks;
	bool have_t;
	double last_t;		/* time of the last report */
	double interval;	/* between the last two reports not merged */
	bool merge;		/* this report replaces the samples of the last one */
	struct proc_growth *proc;
};

void analysis_opts__defaults(struct analysis_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->window_s = 60;
	o->window_min = 5;
	o->window_max = 32;
	o->low_bps = 1 * MB_PER_H;
	o->medium_bps = 30 * MB_PER_H;
	o->high_bps = 200 * MB_PER_H;
	o->critical_bps = 1000 * MB_PER_H;
	o->min_r2 = 0.8;
	o->min_mono = 0.6;
	o->min_z = 1.96;
	o->min_samples = 3;
	o->min_span_s = 10;
	o->burst_ratio = 0.85;
	o->min_share = 0.01;
	o->temp_s = 0.001;
	o->older_s = 0;
	o->verdict_min = SEV_MEDIUM;
	o->pool_min_rate = 1000;
	o->pool_min_temp = 0.9;
	o->pool_max_spread = 1.25;
	o->reserve_min_steps = 100;
	o->reserve_max_spread = 2;
	o->batch_min_blocks = 10000;
	o->batch_max_size = 32;
	o->oversized_min_size = 128 * 1024;
	o->oversized_max_life = 0.1;
	o->oversized_min_temp = 0.9;
	o->min_calls = 10;
}

static bool in01(double v)
{
	return v >= 0 && v <= 1;
}

int analysis_opts__check(const struct analysis_opts *o)
{
	if (!o || !(o->window_s > 0) || o->window_min < 2 || o->window_max < 3 ||
	    o->window_max < o->window_min)
		return -EINVAL;
	if (!(o->low_bps > 0) || !(o->medium_bps >= o->low_bps) ||
	    !(o->high_bps >= o->medium_bps) || !(o->critical_bps >= o->high_bps))
		return -EINVAL;
	if (!in01(o->min_r2) || !in01(o->min_mono) || !in01(o->min_share) ||
	    !(o->burst_ratio > 0 && o->burst_ratio <= 1) || !(o->min_z >= 0) ||
	    o->min_samples < 2)
		return -EINVAL;
	if (!(o->temp_s >= 0) || !(o->older_s >= 0) || !isfinite(o->older_s))
		return -EINVAL;
	if (o->verdict_min < SEV_LOW || o->verdict_min > SEV_CRITICAL)
		return -EINVAL;
	if (!(o->min_span_s >= 0) || !in01(o->pool_min_temp) || !in01(o->oversized_min_temp) ||
	    !(o->pool_max_spread >= 1) || !(o->reserve_max_spread >= 1) ||
	    !(o->pool_min_rate >= 0) || !(o->reserve_min_steps >= 0) ||
	    !(o->batch_min_blocks >= 0) || !(o->batch_max_size >= 0) ||
	    !(o->oversized_min_size >= 0) || !(o->oversized_max_life >= 0) ||
	    !(o->min_calls >= 0))
		return -EINVAL;
	return 0;
}

int analysis__parse_rate(const char *s, double *bps)
{
	double v, mult = 1;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || isinf(v))
		return -EINVAL;
	while (*end == ' ')
		end++;
	switch (*end) {
	case 'k': case 'K': mult = 1e3; end++; break;
	case 'M': mult = 1e6; end++; break;
	case 'G': mult = 1e9; end++; break;
	case 'T': mult = 1e12; end++; break;
	}
	if (mult > 1 && *end == 'i') {
		mult = mult == 1e3 ? 1024.0 : mult == 1e6 ? 1048576.0 :
		       mult == 1e9 ? 1073741824.0 : 1099511627776.0;
		end++;
	}
	if (*end == 'B')
		end++;
	if (strcmp(end, "/h") == 0)
		mult /= 3600;
	else if (*end && strcmp(end, "/s") != 0)
		return -EINVAL;
	*bps = v * mult;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
	double v;

	if (parse_double(s, (double)lo, (double)hi, &v) || v != floor(v))
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

int analysis_opts__set(struct analysis_opts *o, const char *name, const char *value)
{
	static const struct {
		const char *name;
		size_t off;
	} rates[] = {
		{ "sev-low", offsetof(struct analysis_opts, low_bps) },
		{ "sev-medium", offsetof(struct analysis_opts, medium_bps) },
		{ "sev-high", offsetof(struct analysis_opts, high_bps) },
		{ "sev-critical", offsetof(struct analysis_opts, critical_bps) },
	};
	static const struct {
		const char *name;
		size_t off;
		double lo, hi;
	} reals[] = {
		{ "window", offsetof(struct analysis_opts, window_s), 1e-3, 1e9 },
		{ "min-r2", offsetof(struct analysis_opts, min_r2), 0, 1 },
		{ "min-mono", offsetof(struct analysis_opts, min_mono), 0, 1 },
		{ "min-z", offsetof(struct analysis_opts, min_z), 0, 100 },
		{ "burst-ratio", offsetof(struct analysis_opts, burst_ratio), 1e-9, 1 },
		{ "min-share", offsetof(struct analysis_opts, min_share), 0, 1 },
		{ "temp", offsetof(struct analysis_opts, temp_s), 0, 1e9 },
		{ "older", offsetof(struct analysis_opts, older_s), 0, 1e9 },
		{ "min-span", offsetof(struct analysis_opts, min_span_s), 0, 1e9 },
		{ "pool-min-rate", offsetof(struct analysis_opts, pool_min_rate), 0, 1e12 },
		{ "pool-min-temp", offsetof(struct analysis_opts, pool_min_temp), 0, 1 },
		{ "pool-max-spread", offsetof(struct analysis_opts, pool_max_spread), 1, 1e12 },
		{ "reserve-min-steps", offsetof(struct analysis_opts, reserve_min_steps), 0, 1e15 },
		{ "reserve-max-spread", offsetof(struct analysis_opts, reserve_max_spread), 1, 1e12 },
		{ "batch-min-blocks", offsetof(struct analysis_opts, batch_min_blocks), 0, 1e15 },
		{ "oversized-max-life", offsetof(struct analysis_opts, oversized_max_life), 0, 1e9 },
		{ "oversized-min-temp", offsetof(struct analysis_opts, oversized_min_temp), 0, 1 },
		{ "min-calls", offsetof(struct analysis_opts, min_calls), 0, 1e15 },
	};
	static const struct {
		const char *name;
		size_t off;
	} bytes[] = {
		{ "batch-max-size", offsetof(struct analysis_opts, batch_max_size) },
		{ "oversized-min-size", offsetof(struct analysis_opts, oversized_min_size) },
	};
	static const struct {
		const char *name;
		size_t off;
	} sizes[] = {
		{ "window-min", offsetof(struct analysis_opts, window_min) },
		{ "window-max", offsetof(struct analysis_opts, window_max) },
		{ "min-samples", offsetof(struct analysis_opts, min_samples) },
	};
	char *base = (char *)o;

	if (!o || !name || !value)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		if (strcmp(name, rates[i].name) == 0)
			return analysis__parse_rate(value, (double *)(base + rates[i].off));
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
		if (strcmp(name, reals[i].name) == 0)
			return parse_double(value, reals[i].lo, reals[i].hi,
					    (double *)(base + reals[i].off));
	for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
		double v;

		/* a size: the rate syntax without the "/s" (64Ki, 1M, 4096) */
		if (strcmp(name, bytes[i].name) != 0)
			continue;
		if (strchr(value, '/') || analysis__parse_rate(value, &v))
			return -EINVAL;
		*(double *)(base + bytes[i].off) = v;
		return 0;
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (strcmp(name, sizes[i].name) == 0)
			return parse_size(value, 2, 4096, (size_t *)(base + sizes[i].off));
	if (strcmp(name, "verdict") == 0) {
		enum severity sev;

		if (severity_parse(value, &sev) || sev == SEV_NONE)
			return -EINVAL;
		o->verdict_min = sev;
		return 0;
	}
	return -ENOENT;
}

/* The reasons that judge the rate itself: its growth is shown. */
static const char REASON_BELOW_LOW[] = "growth below the low threshold";
static const char REASON_NOT_GROWING[] = "not growing";

/* Highest Mann-Kendall z a strictly increasing series of n samples reaches. */
static double mk_max_z(size_t n)
{
	double nn = (double)n, s = nn * (nn - 1) / 2;

	if (n < 3)
		return 0;
	return (s - 1) / sqrt(nn * (nn - 1) * (2 * nn + 5) / 18);
}

static enum severity rate_level(const struct analysis_opts *o, double g)
{
	if (g >= o->critical_bps)
		return SEV_CRITICAL;
	if (g >= o->high_bps)
		return SEV_HIGH;
	if (g >= o->medium_bps)
		return SEV_MEDIUM;
	if (g >= o->low_bps)
		return SEV_LOW;
	return SEV_NONE;
}

enum severity analysis__severity(const struct analysis_opts *o, const struct sev_input *in,
				 const char **why)
{
	enum severity level, cap = SEV_CRITICAL;
	const char *reason = NULL, *dummy;
	double young;
	bool significant, ages = in->oldest_age_s >= 0 && in->mean_age_s >= 0;

	if (!why)
		why = &dummy;
	if (in->bytes <= 0) {
		*why = "nothing outstanding";
		return SEV_NONE;
	}
	if (in->n < 2 || in->n < o->min_samples) {
		*why = GROWTH_TOO_SHORT;
		return SEV_NONE;
	}
	/* a jump with too few samples beside it to see a trend: one-time */
	if (in->step && !in->step_trend) {
		*why = GROWTH_STEP;
		return SEV_NONE;
	}
	level = rate_level(o, in->growth_bps);
	if (level == SEV_NONE) {
		*why = in->step ? GROWTH_STEP : in->growth_bps > 0 ?
		       REASON_BELOW_LOW : REASON_NOT_GROWING;
		return SEV_NONE;
	}
	/*
	 * 1. churn: nothing outstanding now was there at the previous sample.
	 * After a zero sample that holds trivially: ask for half the interval.
	 * Without the oldest age, a mean age under a quarter of that will do.
	 */
	young = (in->prev_bytes > 0 ? 1 : 0.5) * in->last_dt;
	if (in->oldest_age_s >= 0 ? in->oldest_age_s < young :
	    in->mean_age_s >= 0 && in->mean_age_s < young / 4) {
		*why = "churn: everything outstanding is younger than the interval";
		return SEV_NONE;
	}
	/* 2. is there a trend at all? */
	if (mk_max_z(in->n) < o->min_z)
		significant = in->ups + 1 == in->n;	/* too few for the test: grew every time */
	else
		significant = in->mk_z >= o->min_z;
	if (!significant || in->r2 < o->min_r2 / 2) {
		*why = "no significant trend (churn or noise)";
		return SEV_NONE;
	}
	/* 3. caps: evidence too thin for more than low */
	if (in->r2 < o->min_r2 || in->mono < o->min_mono) {
		cap = SEV_LOW;
		reason = "unsteady growth";
	} else if (ages && in->allocs > 0 && in->last_step <= 0) {
		double oldest = in->oldest_age_s - o->older_s;
		double mean = in->mean_age_s - o->older_s;

		/* everything outstanding was allocated together and nothing came
		 * since: a one-time allocation the samples caught in passing */
		if (oldest > 0 && mean >= o->burst_ratio * oldest) {
			*why = GROWTH_BURST;
			return SEV_NONE;
		}
	}
	if (level > cap)
		level = cap;
	/* 4. one level down each for turnover and a small share */
	if (level > SEV_LOW && ages) {
		double grow_s = in->span_s;

		if (in->rise > 0 && in->rise / in->growth_bps < grow_s)
			grow_s = in->rise / in->growth_bps;
		if (in->oldest_age_s < 0.5 * grow_s) {
			level--;
			reason = "outstanding memory younger than its growth (turns over)";
		}
	}
	if (level > SEV_LOW && in->share < o->min_share) {
		level--;
		reason = "small share of outstanding memory";
	}
	*why = reason ? reason : "steady growth";
	return level;
}

/* --- state ------------------------------------------------------------- */

static size_t hash_key(uint64_t id, uint32_t kind, size_t nr_buckets)
{
	uint64_t h = (id ^ ((uint64_t)kind << 56)) * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 32) & (nr_buckets - 1);
}

static struct track *track_find(struct analysis *a, uint64_t id, uint32_t kind)
{
	struct track *t = a->buckets[hash_key(id, kind, a->nr_buckets)];

	while (t && (t->stack_id != id || t->kind != kind))
		t = t->next;
	return t;
}

static int grow_buckets(struct analysis *a)
{
	size_t nr = a->nr_buckets * 2;
	struct track **b = calloc(nr, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < a->nr_buckets; i++) {
		struct track *t = a->buckets[i], *next;

		for (; t; t = next) {
			size_t h = hash_key(t->stack_id, t->kind, nr);

			next = t->next;
			t->next = b[h];
			b[h] = t;
		}
	}
	free(a->buckets);
	a->buckets = b;
	a->nr_buckets = nr;
	return 0;
}

static struct track *track_add(struct analysis *a, uint64_t id, uint32_t kind)
{
	struct track *t;
	size_t h;

	if (a->nr_tracks >= a->nr_buckets && grow_buckets(a))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->stack_id = id;
	t->kind = kind;
	t->s.max = a->o.window_max;
	h = hash_key(id, kind, a->nr_buckets);
	t->next = a->buckets[h];
	a->buckets[h] = t;
	a->nr_tracks++;
	return t;
}

static void track_free(struct track *t)
{
	fit_series__clear(&t->s);
	free(t);
}

/* Forget the tracks not seen since before now - window. */
static void drop_stale(struct analysis *a, double now)
{
	for (size_t i = 0; i < a->nr_buckets; i++) {
		struct track **pp = &a->buckets[i];

		while (*pp) {
			struct track *t = *pp;

			if (t->last_t < now - a->o.window_s) {
				*pp = t->next;
				track_free(t);
				a->nr_tracks--;
			} else {
				pp = &t->next;
			}
		}
	}
}

struct analysis *analysis__new(const struct analysis_opts *o)
{
	struct analysis *a;

	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	if (o)
		a->o = *o;
	else
		analysis_opts__defaults(&a->o);
	if (analysis_opts__check(&a->o)) {
		errno = EINVAL;
		goto free_a;
	}
	a->nr_buckets = 64;
	a->buckets = calloc(a->nr_buckets, sizeof(*a->buckets));
	if (!a->buckets)
		goto free_a;
	a->proc = proc_growth__new(a->o.window_s, a->o.window_min, a->o.window_max);
	if (!a->proc)
		goto free_buckets;
	return a;

free_buckets:
	free(a->buckets);
free_a:
	free(a);
	return NULL;
}

const struct analysis_opts *analysis__opts(const struct analysis *a)
{
	return &a->o;
}

size_t analysis__nr_tracked(const struct analysis *a)
{
	return a->nr_tracks;
}

int analysis__rate(const struct analysis_opts *o, const struct fit_series *s,
		   struct sev_input *in, double *growth, enum severity *sev,
		   const char **why, bool *unrated)
{
	struct fit_growth g;
	int err;

	in->n = s->n;
	if (s->n >= 2) {
		err = fit_series__fit(s, &g);
		if (err)
			return err;
		in->growth_bps = g.line.slope;
		in->r2 = g.line.r2;
		in->mono = g.mono;
		in->mk_z = g.line.mk_z;
		in->ups = g.ups;
		in->span_s = g.span;
		in->last_dt = s->x[s->n - 1] - s->x[s->n - 2];
		in->prev_bytes = s->y[s->n - 2];
		in->rise = g.rise;
		in->last_step = g.last_step;
		in->step = g.step;
		in->step_trend = g.step_trend;
	}
	*sev = analysis__severity(o, in, why);
	/* the growth shown is the one rated: a rate the rule judged (rated
	 * or below the low threshold), else 0 with the reason */
	*unrated = *sev == SEV_NONE && *why != REASON_BELOW_LOW && *why != REASON_NOT_GROWING;
	*growth = *unrated ? 0 : in->growth_bps;
	return 0;
}

/* Sample one stack at time now and fill its analysis fields. */
static int analyse_stack(struct analysis *a, struct stack_report *s, double now, double total)
{
	struct sev_input in = { 0 };
	struct track *t;
	bool unrated;
	int err;

	t = track_find(a, s->stack_id, s->kind);
	if (!t) {
		t = track_add(a, s->stack_id, s->kind);
		if (!t)
			return -ENOMEM;
		/* nothing is outstanding when tracing goes live (or, with
		 * --older, until older_s): a known sample, if in the window.
		 * Not so for a whole process (--system): it held memory before. */
		if (s->kind != KIND_PROCESS && now - a->o.older_s > 1e-9 &&
		    a->o.older_s >= now - a->o.window_s) {
			err = fit_series__push(&t->s, a->o.older_s, 0);
			if (err)
				return err;
		}
	}
	err = fit_series__sample(&t->s, now, (double)s->outstanding_bytes, a->last_t, a->merge);
	if (err)
		return err;
	fit_series__trim(&t->s, now, a->o.window_s, a->o.window_min);
	t->last_t = now;
	if (s->outstanding_bytes > t->peak)
		t->peak = s->outstanding_bytes;

	in.bytes = s->outstanding_bytes;
	in.allocs = s->outstanding_allocs;
	in.share = total > 0 && s->outstanding_bytes > 0 ? (double)s->outstanding_bytes / total : 0;
	in.oldest_age_s = s->oldest_age_s;
	in.mean_age_s = s->mean_age_s;
	err = analysis__rate(&a->o, &t->s, &in, &s->growth_bytes_per_s, &s->severity,
			     &s->severity_reason, &unrated);
	if (err)
		return err;
	s->growth_reason = unrated ? s->severity_reason : NULL;
	s->growth_r2 = in.r2;
	if (t->peak > s->life.peak_bytes)
		s->life.peak_bytes = t->peak;
	lifetime__fill(&s->life, s->life_hist, s->life_hist ? LIFE_BUCKETS : 0,
		       s->free_calls, s->outstanding_bytes);
	s->analysed = true;
	return 0;
}

bool analysis__worse(const struct stack_report *x, const struct stack_report *y)
{
	if (x->severity != y->severity)
		return x->severity > y->severity;
	if (x->growth_bytes_per_s != y->growth_bytes_per_s)
		return x->growth_bytes_per_s > y->growth_bytes_per_s;
	return x->outstanding_bytes > y->outstanding_bytes;
}

/*
 * The process line: RSS and heap growth (the same step-robust fit), and
 * "too short to rate" (growths 0) while the samples span less than
 * min_span_s or number fewer than min_samples; the traced total (the sum
 * of the stacks) counts from when tracing went live.
 */
static int rate_process(struct analysis *a, struct report *r, double now)
{
	double span = now - a->o.older_s;
	size_t n = a->o.min_samples;
	int err = 0;

	r->proc.growth_reason = NULL;
	if (r->proc.rss_bytes > 0 || r->proc.heap_bytes > 0) {
		err = proc_growth__update(a->proc, now, &r->proc);
		n = proc_growth__samples(a->proc, &span);
	}
	if (n < a->o.min_samples || span < a->o.min_span_s) {
		r->proc.growth_reason = GROWTH_TOO_SHORT;
		r->proc.rss_growth_bytes_per_s = 0;
		r->proc.heap_growth_bytes_per_s = 0;
	}
	return err;
}

int analysis__update(struct analysis *a, struct report *r)
{
	double now, total = 0;
	ssize_t top = -1;
	int err = 0;

	if (!a || !r)
		return -EINVAL;
	now = r->elapsed_s;
	if (!isfinite(now) || (a->have_t && now < a->last_t - 1e-9))
		return -EINVAL;
	if (r->totals.outstanding_bytes > 0) {
		total = (double)r->totals.outstanding_bytes;
	} else {
		for (size_t i = 0; i < r->nr_stacks; i++)
			if (r->stacks[i].outstanding_bytes > 0)
				total += (double)r->stacks[i].outstanding_bytes;
	}
	/* a report right after the previous one (the final report after the
	 * last interval) stands for the same sample: replace, don't add */
	a->merge = a->have_t && now - a->last_t < MERGE_FRACTION * a->interval;
	r->worst = SEV_NONE;
	r->suspect = -1;
	for (size_t i = 0; i < r->nr_stacks; i++) {
		struct stack_report *s = &r->stacks[i];

		err = analyse_stack(a, s, now, total);
		if (err)
			break;
		if (s->severity > r->worst)
			r->worst = s->severity;
		if (s->severity >= SEV_LOW && (top < 0 || analysis__worse(s, &r->stacks[top])))
			top = (ssize_t)i;
	}
	if (r->worst >= a->o.verdict_min)
		r->suspect = top;
	if (!a->merge)	/* the first interval runs from when tracing went live */
		a->interval = a->have_t ? now - a->last_t : now;
	a->have_t = true;
	a->last_t = now;
	drop_stale(a, now);
	if (err)
		return err;
	return rate_process(a, r, now);
}

void analysis__free(struct analysis *a)
{
	if (!a)
		return;
	proc_growth__free(a->proc);
	for (size_t i = 0; i < a->nr_buckets; i++) {
		struct track *t = a->buckets[i], *next;

		for (; t; t = next) {
			next = t->next;
			track_free(t);
		}
	}
	free(a->buckets);
	free(a);
}

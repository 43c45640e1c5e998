/* SPDX-License-Identifier: MIT */
/*
 * analysis.h - growth, severity, lifetime and verdict of a report (issue 5).
 *
 * The collector builds a struct report every interval and hands it to
 * analysis__update(), which keeps a short time series of outstanding bytes
 * per (stack_id, kind), fits a Theil-Sen line over the window, rates each
 * stack none..critical and names the top suspect. The rule and its
 * thresholds are documented in docs/analysis.md.
 *
 * Units: rates are bytes per second internally; text shows B/s and MB/h
 * with 1 MB = 10^6 bytes; sizes are shown in binary units (KiB, MiB).
 *
 * Stage analysis: growth fit (fit.h), severity, lifetimes
 * (lifetime.h), process view (procview.h), baseline.h, gate.h. Reads
 * reports only, never BPF maps; writes nothing but its own baseline
 * files. May call: common.
 */
#ifndef MEMTRACE_ANALYSIS_H
#define MEMTRACE_ANALYSIS_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "analysis/fit.h"
#include "common/report.h"

/* bytes per second of one MB (10^6 bytes) per hour */
#define MB_PER_H		(1e6 / 3600.0)
/* frames in a stack label (analysis__stack_label()) wherever one is shown */
#define ANALYSIS_LABEL_DEPTH	3
/* why a growth is not rated (stack_report.growth_reason and the process) */
#define GROWTH_TOO_SHORT	"too short to rate"
#define GROWTH_STEP		"one step, flat since: a one-time allocation"
#define GROWTH_BURST		"allocated in one burst, flat since"

struct analysis_opts {
	/* window of samples per stack */
	double window_s;	/* seconds kept (60) */
	size_t window_min;	/* samples kept whatever their age (5) */
	size_t window_max;	/* samples kept at most (32); fit cost is O(n^2) */
	/* growth rate thresholds, bytes/s: a steady stack at or above X is X */
	double low_bps;		/* 1 MB/h */
	double medium_bps;	/* 30 MB/h: above "acceptable" */
	double high_bps;	/* 200 MB/h: a leak */
	double critical_bps;	/* 1000 MB/h */
	/* steadiness */
	double min_r2;		/* fit quality for more than low (0.8) */
	double min_mono;	/* share of changes that were increases (0.6) */
	double min_z;		/* Mann-Kendall z of a significant trend (1.96) */
	size_t min_samples;	/* samples (origin included) to rate at all (3) */
	double min_span_s;	/* process growth: samples spanning less are
				   "too short to rate" (10) */
	/* age and share */
	double burst_ratio;	/* mean/oldest age at or above: one burst (0.85) */
	double min_share;	/* below this share of the total: one level down (0.01) */
	/* lifetime: for the collector, which sets BPF's temp_ns from it */
	double temp_s;		/* freed within this is "temporary" (0.001) */
	/* what the collector applied */
	double older_s;		/* -o/--older: only allocations this old count (0) */
	/* verdict */
	enum severity verdict_min; /* POSSIBLE LEAK at or above this (medium);
				      fix_leak recommendations too */
	/* recommendations (recommend.h); why each default: docs/analysis.md */
	double pool_min_rate;	/* allocations/s of one stack (1000) */
	double pool_min_temp;	/* share freed within temp_s (0.9) */
	double pool_max_spread;	/* largest/smallest size, same size class (1.25) */
	double reserve_min_steps; /* growing reallocs of one stack (100) */
	double reserve_max_spread; /* largest/smallest step: linear growth (2) */
	double batch_min_blocks; /* outstanding blocks of one stack (10000) */
	double batch_max_size;	/* bytes per block at most (32) */
	double oversized_min_size; /* bytes per block at least (131072) */
	double oversized_max_life; /* seconds: freed within is temporary (0.1) */
	double oversized_min_temp; /* share freed within that (0.9) */
	double min_calls;	/* allocations a pattern needs at least (10) */
};

/* What the severity rule looks at for one stack (see analysis__severity()). */
struct sev_input {
	double growth_bps;	/* Theil-Sen slope */
	double r2;		/* of that line */
	double mono;		/* monotonic fraction */
	double mk_z;		/* Mann-Kendall z */
	size_t n;		/* samples in the window */
	unsigned int ups;	/* intervals that grew */
	double span_s;		/* time covered by the window */
	double last_dt;		/* time between the last two samples */
	double prev_bytes;	/* outstanding at the previous sample */
	double rise;		/* last - first sample, bytes */
	int last_step;		/* sign of the last change */
	int step;		/* the series was one level shift (fit_growth.step) */
	int step_trend;		/* ... with a trend measured around it */
	int64_t bytes;		/* outstanding now */
	int64_t allocs;		/* outstanding allocations now */
	double share;		/* bytes / total outstanding, 0..1 */
	double oldest_age_s;	/* < 0 unknown */
	double mean_age_s;	/* < 0 unknown */
};

struct analysis;

/* Fill o with the defaults above. Cannot fail. */
void analysis_opts__defaults(struct analysis_opts *o);

/*
 * Check o: thresholds positive and non-decreasing low..critical, fractions
 * in range, window sizes sane. Returns 0 or -EINVAL.
 */
int analysis_opts__check(const struct analysis_opts *o);

/*
 * Set one option by its CLI name (without "--"): window, window-min,
 * window-max, sev-low, sev-medium, sev-high, sev-critical (rates, see
 * analysis__parse_rate()), min-r2, min-mono, min-z, min-samples,
 * burst-ratio, min-share, min-span, temp, older, verdict (a severity
 * name), and the recommendation thresholds pool-min-rate, pool-min-temp,
 * pool-max-spread, reserve-min-steps, reserve-max-spread,
 * batch-min-blocks, batch-max-size, oversized-min-size (bytes, or with
 * k/M/Ki/Mi units), oversized-max-life, oversized-min-temp, min-calls.
 * Returns 0, -ENOENT for an unknown name, -EINVAL for a bad value (o is
 * unchanged on error). Does not check the whole set: call
 * analysis_opts__check() after the last one.
 */
int analysis_opts__set(struct analysis_opts *o, const char *name, const char *value);

/*
 * Parse a rate: a number with an optional unit, B/s when none. Units:
 * [k|K|M|G|T][i]B followed by /s or /h ("200MB/h", "64KiB/s", "1.5M");
 * k/M/G/T are decimal, with "i" binary; a bare prefix means bytes/s.
 * Returns 0 and sets *bps, or -EINVAL (negative, empty, trailing junk).
 */
int analysis__parse_rate(const char *s, double *bps);

/*
 * A new analysis with a copy of o (NULL: defaults). Returns NULL and sets
 * errno: EINVAL when o fails analysis_opts__check(), ENOMEM.
 */
struct analysis *analysis__new(const struct analysis_opts *o);

/* The options in use. Cannot fail. */
const struct analysis_opts *analysis__opts(const struct analysis *a);

/*
 * Add r as the next sample (time r->elapsed_s, which must not go back; a
 * report less than a quarter of the report interval after the previous
 * one, like a final report taken right after the last interval, replaces
 * the previous samples instead) and fill every stack's analysis fields
 * (growth_bytes_per_s, growth_r2, severity, life, analysed), the report's
 * worst and suspect (suspect only when worst >= verdict_min), and the
 * growth of r->proc when it holds known values (> 0). Stacks not seen for a
 * whole window are forgotten. r is not reordered.
 * Returns 0, -EINVAL (NULL, time going back, non-finite time), -ENOMEM
 * (the report may be partly filled; the analysis stays usable).
 */
int analysis__update(struct analysis *a, struct report *r);

/* Stacks currently tracked. Cannot fail. */
size_t analysis__nr_tracked(const struct analysis *a);

/* Release the analysis. NULL is a no-op. */
void analysis__free(struct analysis *a);

/*
 * Rate one series the way every stack is rated: fit s (fit_series__fit(),
 * step robust), fill the fit fields of *in (the caller sets bytes, allocs,
 * share and ages), apply analysis__severity(). *growth is the rated
 * growth: the slope, or 0 when the rule found no growth to rate (a step,
 * churn, no trend, too few samples); *why says why (a static string),
 * *unrated is set then. Returns 0 or -ENOMEM.
 */
int analysis__rate(const struct analysis_opts *o, const struct fit_series *s,
		   struct sev_input *in, double *growth, enum severity *sev,
		   const char **why, bool *unrated);

/*
 * Is x a worse suspect than y: higher severity, then faster growth, then
 * more outstanding bytes? The order of the verdict's suspect and of the
 * printed list of growing stacks. Cannot fail.
 */
bool analysis__worse(const struct stack_report *x, const struct stack_report *y);

/*
 * The severity rule (docs/analysis.md) on one stack's numbers. Sets *why
 * (optional) to a static string saying what decided it. Cannot fail.
 */
enum severity analysis__severity(const struct analysis_opts *o, const struct sev_input *in,
				 const char **why);

/*
 * Name of one frame: its function, else "<module basename>+0x<offset>",
 * else "0x<ip>" when allow_ip, else "?". Returns buf. Cannot fail.
 */
const char *analysis__frame_name(const struct frame *f, bool allow_ip, char *buf, size_t len);

/*
 * A short label of a stack for humans: up to depth frames joined by
 * " <- ", innermost first, then " [kind]". Unsymbolized stacks show raw
 * ips. Returns buf. Cannot fail.
 */
const char *analysis__stack_label(const struct stack_report *s, int depth, char *buf, size_t len);

#endif /* MEMTRACE_ANALYSIS_H */

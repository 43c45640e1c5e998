// SPDX-License-Identifier: MIT
/*
 * test_severity.c - the growth analysis on synthetic report sequences:
 * steady and noisy leaks, one-time allocations, churn, a cache that
 * plateaus, thresholds, verdict, window bookkeeping (the rule clause by
 * clause and the settings: test_analysis_opts.c).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "analysis/analysis.h"
#include "output/analysis_out.h"
#include "analysis_synth.h"

#define DT	5.0	/* report interval of the scenarios, seconds */
#define KB	1000.0

/* A scenario: fills st (n stacks) for the report at elapsed t. */
typedef size_t (*scenario_fn)(double t, void *arg, struct synth_stack *st);

/* What analysis__update made of one stack at each report. */
struct trace {
	size_t nr;
	double t[128];
	enum severity sev[128];
	double growth[128];
	double r2[128];
	enum severity worst[128];
	ssize_t suspect[128];
};

/*
 * Feed reports at DT, 2*DT, ... until `until` to a, recording stack
 * `watch` (by index in the scenario's array).
 */
static void run(struct analysis *a, scenario_fn fn, void *arg, double until, size_t watch,
		struct trace *tr)
{
	memset(tr, 0, sizeof(*tr));
	for (double t = DT; t <= until + 1e-9; t += DT) {
		struct synth_stack st[8];
		size_t n = fn(t, arg, st);
		struct report *r = synth_report(t, st, n);

		assert_int_equal(analysis__update(a, r), 0);
		assert_true(tr->nr < 128);
		tr->t[tr->nr] = t;
		tr->sev[tr->nr] = watch < n ? r->stacks[watch].severity : SEV_NONE;
		tr->growth[tr->nr] = watch < n ? r->stacks[watch].growth_bytes_per_s : 0;
		tr->r2[tr->nr] = watch < n ? r->stacks[watch].growth_r2 : 0;
		tr->worst[tr->nr] = r->worst;
		tr->suspect[tr->nr] = r->suspect;
		tr->nr++;
		report__free(r);
	}
}

static enum severity max_sev(const struct trace *tr, size_t from, size_t to)
{
	enum severity m = SEV_NONE;

	for (size_t i = from; i < to && i < tr->nr; i++)
		if (tr->sev[i] > m)
			m = tr->sev[i];
	return m;
}

static enum severity min_sev(const struct trace *tr, size_t from, size_t to)
{
	enum severity m = SEV_CRITICAL;

	for (size_t i = from; i < to && i < tr->nr; i++)
		if (tr->sev[i] < m)
			m = tr->sev[i];
	return m;
}

/* --- scenarios --------------------------------------------------------- */

/* A leak at `rate` since t=0, with churn on the same stack jittering the
 * outstanding bytes by up to `jitter` intervals' worth of leak. */
struct leak {
	double rate;
	double jitter;
	uint64_t seed;
};

static void leak_stack(double t, struct leak *l, uint64_t id, const char *fn,
		       struct synth_stack *s)
{
	double bytes = l->rate * t + l->rate * DT * l->jitter * synth_noise(&l->seed);
	int64_t allocs;

	if (bytes < 0)
		bytes = 0;
	allocs = (int64_t)(bytes / 512) + 1;
	*s = (struct synth_stack){
		.id = id, .bytes = (int64_t)bytes, .allocs = allocs,
		.oldest_age_s = t, .mean_age_s = t / 2,
		.alloc_calls = (uint64_t)(t * 1000) + (uint64_t)allocs, .free_calls = (uint64_t)(t * 1000),
		.fn = fn, .fn2 = "main",
	};
}

static size_t leak_scenario(double t, void *arg, struct synth_stack *st)
{
	leak_stack(t, arg, 1, "leak_fn", &st[0]);
	return 1;
}

/* One allocation of `bytes` at t0 (present with 0 before when `zeros`). */
struct once {
	double t0;
	double bytes;
	bool zeros;
};

static size_t once_scenario(double t, void *arg, struct synth_stack *st)
{
	struct once *o = arg;

	if (t < o->t0) {
		if (!o->zeros)
			return 0;
		st[0] = (struct synth_stack){ .id = 2, .oldest_age_s = -1, .mean_age_s = -1,
					      .fn = "setup", .fn2 = "main" };
		return 1;
	}
	st[0] = (struct synth_stack){
		.id = 2, .bytes = (int64_t)o->bytes, .allocs = 100,
		.oldest_age_s = t - o->t0, .mean_age_s = t - o->t0 - 0.001,
		.alloc_calls = 100, .fn = "setup", .fn2 = "main",
	};
	return 1;
}

/* Many short-lived allocations: outstanding hovers around `level`. */
struct churn {
	double level;
	double amplitude;	/* fraction of level */
	bool ages;		/* ages known */
	bool mean_only;		/* ...but not the oldest */
	uint64_t seed;
};

static size_t churn_scenario(double t, void *arg, struct synth_stack *st)
{
	struct churn *c = arg;
	double bytes = c->level * (1 + c->amplitude * synth_noise(&c->seed));

	st[0] = (struct synth_stack){
		.id = 3, .bytes = (int64_t)bytes, .allocs = (int64_t)(bytes / 1024),
		.oldest_age_s = c->ages && !c->mean_only ? 0.2 + 0.1 * synth_rand(&c->seed) : -1,
		.mean_age_s = c->ages ? 0.05 : -1,
		.alloc_calls = (uint64_t)(t * 20000), .free_calls = (uint64_t)(t * 20000) - (uint64_t)(bytes / 1024),
		.fn = "handle_request", .fn2 = "serve",
	};
	return 1;
}

/* A cache filled at `rate` until `full_at`, never evicted. */
struct cache {
	double rate;
	double full_at;
};

static size_t cache_scenario(double t, void *arg, struct synth_stack *st)
{
	struct cache *c = arg;
	double fill = t < c->full_at ? t : c->full_at;

	st[0] = (struct synth_stack){
		.id = 4, .bytes = (int64_t)(c->rate * fill), .allocs = (int64_t)(c->rate * fill / 4096),
		.oldest_age_s = t, .mean_age_s = t - fill / 2,
		.alloc_calls = (uint64_t)(c->rate * fill / 4096), .fn = "cache_put", .fn2 = "lookup",
	};
	return 1;
}

/* --- tests ------------------------------------------------------------- */

static struct analysis *new_default(void)
{
	struct analysis *a = analysis__new(NULL);

	assert_non_null(a);
	return a;
}

/* Steady growth of hundreds of KB/s: at least medium, growth within 15%. */
static void test_steady_leak(void **state)
{
	const double rates[] = { 100 * KB, 300 * KB, 500 * KB };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct leak l = { .rate = rates[i], .jitter = 0.2, .seed = 11 + i };
		struct analysis *a = new_default();
		struct trace tr;

		run(a, leak_scenario, &l, 120, 0, &tr);
		/* from the third report (origin + 2 samples) on */
		assert_true(min_sev(&tr, 1, tr.nr) >= SEV_MEDIUM);
		for (size_t k = 4; k < tr.nr; k++) {
			if (fabs(tr.growth[k] - rates[i]) > 0.15 * rates[i])
				fail_msg("rate %.0f report %zu: growth %.0f", rates[i], k, tr.growth[k]);
			assert_true(tr.r2[k] > 0.9);
			assert_int_equal(tr.suspect[k], 0);
		}
		analysis__free(a);
	}
}

/* Very noisy leaks still end at least medium over the window. */
static void test_noisy_leak(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct leak l = { .rate = 300 * KB, .jitter = 1.0, .seed = seed };
		struct analysis *a = new_default();
		struct trace tr;

		run(a, leak_scenario, &l, 90, 0, &tr);
		/* the window holds 12-13 samples from 60 s on */
		if (min_sev(&tr, 11, tr.nr) < SEV_MEDIUM)
			fail_msg("seed %llu: severity dropped below medium", (unsigned long long)seed);
		for (size_t k = 11; k < tr.nr; k++)
			assert_true(fabs(tr.growth[k] - l.rate) < 0.15 * l.rate);
		analysis__free(a);
	}
}

/* Allocate once then flat: never more than low, none once it is settled. */
static void test_one_time_allocation(void **state)
{
	const struct once cases[] = {
		{ .t0 = 1, .bytes = 50e6 },			/* setup right after attach */
		{ .t0 = 27, .bytes = 50e6 },			/* later, stack appears then */
		{ .t0 = 27, .bytes = 50e6, .zeros = true },	/* later, present with 0 before */
	};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct once o = cases[i];
		struct analysis *a = new_default();
		struct trace tr;

		run(a, once_scenario, &o, 150, 0, &tr);
		if (max_sev(&tr, 0, tr.nr) > SEV_LOW)
			fail_msg("case %zu: severity above low", i);
		assert_int_equal(tr.sev[tr.nr - 1], SEV_NONE);
		for (size_t k = 0; k < tr.nr; k++)
			assert_int_equal(tr.suspect[k], -1);
		analysis__free(a);
	}
}

/*
 * Many alloc+free with flat outstanding: none, whatever the noise, when
 * the ages of outstanding allocations are known (the collector gives the
 * mean age always, the oldest when it walks the live allocations).
 */
static void test_churn(void **state)
{
	const struct churn cases[] = {
		{ .level = 2e6, .amplitude = 0.1, .ages = true },
		{ .level = 2e6, .amplitude = 0.9, .ages = true },	/* wild */
		{ .level = 2e6, .amplitude = 0.5, .ages = true, .mean_only = true },
	};

	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct churn c = cases[i];
			struct analysis *a = new_default();
			struct trace tr;

			c.seed = seed;
			run(a, churn_scenario, &c, 300, 0, &tr);
			if (max_sev(&tr, 0, tr.nr) != SEV_NONE)
				fail_msg("case %zu seed %llu: %s, want none", i, (unsigned long long)seed,
					 severity_name(max_sev(&tr, 0, tr.nr)));
			analysis__free(a);
		}
	}
}

/*
 * Without ages only the statistics speak: flat noise of any amplitude is
 * never rated above low, and low in under 2% of reports (the trend test
 * is at 97.5%, and the trend must explain 40% of the variation).
 */
static void test_noise_without_ages(void **state)
{
	const double amplitudes[] = { 0.02, 0.2, 0.9 };
	size_t low = 0, total = 0;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		for (uint64_t seed = 1; seed <= 40; seed++) {
			struct churn c = { .level = 2e6, .amplitude = amplitudes[i], .seed = seed };
			struct analysis *a = new_default();
			struct trace tr;

			run(a, churn_scenario, &c, 600, 0, &tr);
			/* after the first window: the ramp from the origin is gone */
			assert_true(max_sev(&tr, 13, tr.nr) <= SEV_LOW);
			for (size_t k = 13; k < tr.nr; k++, total++)
				low += tr.sev[k] == SEV_LOW;
			analysis__free(a);
		}
	}
	if (low * 50 > total)
		fail_msg("noise rated low in %zu of %zu reports", low, total);
}

/* A cache that grows then plateaus: severity drops after the plateau. */
static void test_cache_plateau(void **state)
{
	struct cache c = { .rate = 150 * KB, .full_at = 60 };
	struct analysis *a = new_default();
	struct trace tr;
	size_t full = 11, settled = 24;	/* reports at 60 s and 125 s */

	(void)state;
	run(a, cache_scenario, &c, 240, 0, &tr);
	assert_float_equal(tr.t[full], 60, 1e-9);
	assert_true(min_sev(&tr, 2, full + 1) >= SEV_MEDIUM);
	assert_true(max_sev(&tr, settled, tr.nr) == SEV_NONE);
	/* never climbs back once it started to drop */
	for (size_t k = full + 1; k < tr.nr; k++)
		assert_true(tr.sev[k] <= tr.sev[k - 1]);
	assert_true(tr.growth[tr.nr - 1] == 0);
	analysis__free(a);
}

/* Growth-rate thresholds of a clean steady leak. */
static void test_rate_levels(void **state)
{
	const struct {
		double rate;
		enum severity want;
	} cases[] = {
		{ 50, SEV_NONE },		/* 0.18 MB/h */
		{ 1 * KB, SEV_LOW },		/* 3.6 MB/h */
		{ 8 * KB, SEV_LOW },		/* 28.8 MB/h: acceptable */
		{ 10 * KB, SEV_MEDIUM },	/* 36 MB/h */
		{ 50 * KB, SEV_MEDIUM },	/* 180 MB/h */
		{ 60 * KB, SEV_HIGH },		/* 216 MB/h: a leak */
		{ 250 * KB, SEV_HIGH },		/* 900 MB/h */
		{ 300 * KB, SEV_CRITICAL },	/* 1080 MB/h */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct leak l = { .rate = cases[i].rate };
		struct analysis *a = new_default();
		struct trace tr;

		run(a, leak_scenario, &l, 60, 0, &tr);
		if (tr.sev[tr.nr - 1] != cases[i].want)
			fail_msg("rate %.0f: %s, want %s", cases[i].rate,
				 severity_name(tr.sev[tr.nr - 1]), severity_name(cases[i].want));
		assert_int_equal(tr.worst[tr.nr - 1], cases[i].want);
		/* suspect only from the verdict level (medium) on */
		assert_int_equal(tr.suspect[tr.nr - 1], cases[i].want >= SEV_MEDIUM ? 0 : -1);
		analysis__free(a);
	}
}

/* A leak, a big one-time setup and churn together. */
struct mix {
	struct leak leak;
	struct once once;
	struct churn churn;
};

static size_t mix_scenario(double t, void *arg, struct synth_stack *st)
{
	struct mix *m = arg;

	churn_scenario(t, &m->churn, &st[0]);
	once_scenario(t, &m->once, &st[1]);
	leak_stack(t, &m->leak, 1, "leak_fn", &st[2]);
	return 3;
}

static char *print_to_string(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(analysis__print_text(r, f), 0);
	fclose(f);
	return buf;
}

/* Feed sorted mix reports at DT, 2*DT, ... 60 s to a; the last one (caller frees). */
static struct report *run_mix(struct analysis *a, struct mix *m)
{
	struct synth_stack st[3];
	struct report *r = NULL;

	for (double t = DT; t <= 60; t += DT) {
		report__free(r);
		mix_scenario(t, m, st);
		r = synth_report(t, st, 3);
		report__sort(r);
		assert_int_equal(analysis__update(a, r), 0);
	}
	return r;
}

static void test_suspect_and_verdict(void **state)
{
	struct mix m = {
		.leak = { .rate = 20 * KB, .jitter = 0.1, .seed = 5 },
		.once = { .t0 = 1, .bytes = 400e6 },
		.churn = { .level = 2e6, .amplitude = 0.2, .ages = true, .seed = 6 },
	};
	struct analysis *a = new_default();
	struct report *r;
	char *text;

	(void)state;
	r = run_mix(a, &m);
	/* sorted by bytes: setup (400 MB), churn (2 MB), leak (1.2 MB) */
	assert_string_equal(r->stacks[0].frames[0].function, "setup");
	assert_int_equal(r->stacks[0].severity, SEV_NONE);
	assert_int_equal(r->stacks[1].severity, SEV_NONE);
	/* 20 KB/s = 72 MB/h, a 0.3% share of 400 MB: one level down from medium */
	assert_int_equal(r->stacks[2].severity, SEV_LOW);
	assert_int_equal(r->worst, SEV_LOW);
	assert_int_equal(r->suspect, -1);
	text = print_to_string(r);
	assert_non_null(strstr(text, "\nVerdict: OK\n"));
	free(text);

	/* without the big setup the same leak is medium and the suspect */
	report__free(r);
	analysis__free(a);
	a = new_default();
	m.once.bytes = 1e6;
	m.leak.seed = 5;
	r = run_mix(a, &m);
	assert_int_equal(r->worst, SEV_MEDIUM);
	assert_true(r->suspect >= 0);
	assert_string_equal(r->stacks[r->suspect].frames[0].function, "leak_fn");
	text = print_to_string(r);
	assert_non_null(strstr(text, "Verdict: POSSIBLE LEAK: leak_fn <- main [malloc]: medium, +7"));
	/* the verdict is the last line */
	assert_non_null(strstr(text, "outstanding\n"));
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_null(strstr(strstr(text, "Verdict:"), "\nProcess"));
	free(text);
	report__free(r);
	analysis__free(a);
}

/* Stacks that vanish are forgotten after the window. */
static size_t vanish_scenario(double t, void *arg, struct synth_stack *st)
{
	(void)arg;
	st[0] = (struct synth_stack){ .id = 10, .bytes = 1000, .allocs = 1, .oldest_age_s = t,
				      .mean_age_s = t, .fn = "kept" };
	if (t > 20)
		return 1;
	st[1] = (struct synth_stack){ .id = 11, .bytes = 2000, .allocs = 1, .oldest_age_s = t,
				      .mean_age_s = t, .fn = "gone" };
	return 2;
}

static void test_vanished_dropped(void **state)
{
	struct analysis *a = new_default();
	struct trace tr;

	(void)state;
	run(a, vanish_scenario, NULL, 80, 0, &tr);	/* last seen at 20, window 60 */
	assert_int_equal(analysis__nr_tracked(a), 2);
	analysis__free(a);

	a = new_default();
	run(a, vanish_scenario, NULL, 85, 0, &tr);
	assert_int_equal(analysis__nr_tracked(a), 1);
	analysis__free(a);
}

static void test_time_rules(void **state)
{
	struct leak l = { .rate = 100 * KB };
	struct analysis *a = new_default();
	struct synth_stack st;
	struct report *r;

	(void)state;
	assert_int_equal(analysis__update(NULL, NULL), -EINVAL);
	for (double t = DT; t <= 30; t += DT) {
		leak_stack(t, &l, 1, "leak_fn", &st);
		r = synth_report(t, &st, 1);
		assert_int_equal(analysis__update(a, r), 0);
		report__free(r);
	}
	/* a final report at the same time replaces the last sample */
	leak_stack(30, &l, 1, "leak_fn", &st);
	r = synth_report(30, &st, 1);
	r->final = true;
	assert_int_equal(analysis__update(a, r), 0);
	assert_float_equal(r->stacks[0].growth_bytes_per_s, 100 * KB, 1e-6);
	report__free(r);
	/* so does one a moment later */
	leak_stack(30.5, &l, 1, "leak_fn", &st);
	r = synth_report(30.5, &st, 1);
	assert_int_equal(analysis__update(a, r), 0);
	assert_float_equal(r->stacks[0].growth_bytes_per_s, 100 * KB, 1e-6);
	report__free(r);
	r = synth_report(29, &st, 1);
	assert_int_equal(analysis__update(a, r), -EINVAL);
	r->elapsed_s = NAN;
	assert_int_equal(analysis__update(a, r), -EINVAL);
	report__free(r);
	analysis__free(a);
}

/*
 * A short run (-d 6 -i 3): reports at 3 s and 6 s and the final report
 * right after, when the leak has not allocated again: still a leak.
 */
static void test_short_run(void **state)
{
	const double times[] = { 3, 6, 6.05 }, bytes[] = { 3e6, 6e6, 6e6 };
	struct analysis *a = new_default();
	struct report *r;
	char *text;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct synth_stack st = { .id = 1, .bytes = (int64_t)bytes[i], .allocs = 1 + (int64_t)times[i],
					  .oldest_age_s = times[i] - 0.01, .mean_age_s = times[i] / 2,
					  .fn = "leak_fn", .fn2 = "main" };

		r = synth_report(times[i], &st, 1);
		r->final = i == 2;
		assert_int_equal(analysis__update(a, r), 0);
		if (i < 2) {
			report__free(r);
			continue;
		}
		/* samples (0, 0), (3, 3 MB), (6.05, 6 MB): the final replaced 6 s */
		assert_float_equal(r->stacks[0].growth_bytes_per_s, 6e6 / 6.05, 1);
		assert_int_equal(r->stacks[0].severity, SEV_CRITICAL);	/* 3570 MB/h */
		text = print_to_string(r);
		assert_non_null(strstr(text, "Verdict: POSSIBLE LEAK: leak_fn <- main [malloc]: critical"));
		free(text);
		report__free(r);
	}
	analysis__free(a);
	/* -d 3 -i 3: one report and the final one right after: the zero and one
	 * sample cannot tell a leak from a one-time allocation: too short */
	a = new_default();
	for (size_t i = 0; i < 2; i++) {
		struct synth_stack st = { .id = 1, .bytes = 3000000, .allocs = 3,
					  .oldest_age_s = 2.99 + 0.04 * (double)i, .mean_age_s = 1.5,
					  .fn = "leak_fn" };

		r = synth_report(3 + 0.04 * (double)i, &st, 1);
		assert_int_equal(analysis__update(a, r), 0);
		assert_int_equal(r->stacks[0].severity, SEV_NONE);
		assert_float_equal(r->stacks[0].growth_bytes_per_s, 0, 0);
		assert_string_equal(r->stacks[0].growth_reason, "too short to rate");
		report__free(r);
	}
	analysis__free(a);
}

/*
 * A one-time allocation after attach (1 MB at report `at`, flat since),
 * the demo's cache: growth 0 with the step as the reason and severity
 * none at every report from the third sample on, and the line never
 * contradicts itself (growth 0 whenever the severity is none and a
 * reason is given).
 */
static size_t onetime_scenario(double t, void *arg, struct synth_stack *st)
{
	double at = *(double *)arg;

	st[0] = (struct synth_stack){ .id = 9, .bytes = t >= at ? 1000000 : 0,
				      .allocs = t >= at ? 1 : 0,
				      .oldest_age_s = t >= at ? t - at + 0.5 : -1,
				      .mean_age_s = t >= at ? t - at + 0.5 : -1, .fn = "warm_cache" };
	return 1;
}

static void test_one_time_step(void **state)
{
	(void)state;
	for (double at = DT; at <= 4 * DT; at += DT) {
		struct analysis *a = new_default();

		for (double t = DT; t <= 150; t += DT) {
			struct synth_stack st[1];
			struct report *r;

			onetime_scenario(t, &at, st);
			r = synth_report(t, st, 1);
			assert_int_equal(analysis__update(a, r), 0);
			assert_int_equal(r->stacks[0].severity, SEV_NONE);
			assert_float_equal(r->stacks[0].growth_bytes_per_s, 0, 0);
			/* the zero, the jump, one flat sample: a step while the
			 * zero is in the 60 s window; flat ("not growing") after */
			if (t >= at + DT && t <= at + 50)
				assert_string_equal(r->stacks[0].growth_reason, GROWTH_STEP);
			else if (t > at + 60)
				assert_null(r->stacks[0].growth_reason);
			else if (t < at)
				assert_string_equal(r->stacks[0].growth_reason,
						    "nothing outstanding");
			report__free(r);
		}
		analysis__free(a);
	}
}

/*
 * With --older 30, only allocations at least 30 s old count: the stack
 * shows up at 35 s and the known-zero sample is at 30 s, not 0.
 */
static size_t older_scenario(double t, void *arg, struct synth_stack *st)
{
	double rate = *(double *)arg, counted = t > 30 ? rate * (t - 30) : 0;

	if (t <= 30)
		return 0;
	st[0] = (struct synth_stack){ .id = 1, .bytes = (int64_t)counted, .allocs = 1 + (int64_t)(counted / 1e3),
				      .oldest_age_s = t, .mean_age_s = t / 2 + 15, .fn = "leak_fn" };
	return 1;
}

static void test_older_origin(void **state)
{
	struct analysis_opts o;
	double rate = 100 * KB;
	struct analysis *a;
	struct trace tr;

	(void)state;
	analysis_opts__defaults(&o);
	o.older_s = 30;
	a = analysis__new(&o);
	assert_non_null(a);
	run(a, older_scenario, &rate, 60, 0, &tr);
	assert_float_equal(tr.growth[6], 0, 0);	/* 35 s: the zero at 30 s and one sample */
	for (size_t k = 7; k < tr.nr; k++)
		assert_float_equal(tr.growth[k], rate, 1e-6);
	assert_true(tr.sev[tr.nr - 1] >= SEV_MEDIUM);
	analysis__free(a);
	/* not telling the analysis about --older biases the first minute */
	a = new_default();
	run(a, older_scenario, &rate, 60, 0, &tr);
	assert_true(tr.growth[6] < 0.8 * rate);
	analysis__free(a);
}

static void test_proc_growth(void **state)
{
	struct analysis *a = new_default();
	struct report *r = NULL;

	(void)state;
	for (double t = DT; t <= 30; t += DT) {
		report__free(r);
		r = synth_report(t, NULL, 0);
		r->proc.rss_bytes = (int64_t)(100e6 + 50 * KB * t);
		r->proc.heap_bytes = (int64_t)(80e6 + 40 * KB * t);
		assert_int_equal(analysis__update(a, r), 0);
	}
	assert_float_equal(r->proc.rss_growth_bytes_per_s, 50 * KB, 1e-6);
	assert_float_equal(r->proc.heap_growth_bytes_per_s, 40 * KB, 1e-6);
	report__free(r);
	analysis__free(a);
}

static void test_json(void **state)
{
	struct leak l = { .rate = 100 * KB };
	struct analysis *a = new_default();
	uint64_t hist[LIFE_BUCKETS] = { 0 };
	struct synth_stack st;
	struct report *r = NULL;
	json_object *obj, *root, *v, *life;

	(void)state;
	for (double t = DT; t <= 30; t += DT) {
		report__free(r);
		leak_stack(t, &l, 1, "leak_fn", &st);
		r = synth_report(t, &st, 1);
		assert_int_equal(analysis__update(a, r), 0);
	}
	hist[10] = 4;	/* [1.024, 2.048) ms */
	r->stacks[0].life_hist = hist;
	assert_int_equal(analysis__update(a, r), 0);	/* same time: lifetime refreshed */
	obj = json_object_new_object();
	analysis__to_json(r, &r->stacks[0], obj);
	assert_true(json_object_object_get_ex(obj, "growth_bytes_per_s", &v));
	assert_float_equal(json_object_get_double(v), 100 * KB, 1e-6);
	assert_true(json_object_object_get_ex(obj, "growth_mb_per_h", &v));
	assert_float_equal(json_object_get_double(v), 360, 1e-9);
	assert_true(json_object_object_get_ex(obj, "severity", &v));
	assert_string_equal(json_object_get_string(v), "high");
	assert_true(json_object_object_get_ex(obj, "lifetime", &life));
	assert_true(json_object_object_get_ex(life, "p50_s", &v));
	assert_float_equal(json_object_get_double(v), 1.536e-3, 1e-12);
	assert_true(json_object_object_get_ex(life, "peak_bytes", &v));
	assert_int_equal(json_object_get_int64(v), r->stacks[0].outstanding_bytes);
	json_object_put(obj);

	root = json_object_new_object();
	analysis__report_to_json(r, root);
	assert_true(json_object_object_get_ex(root, "verdict", &v));
	assert_string_equal(json_object_get_string(json_object_object_get(v, "result")), "possible_leak");
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_object_get(v, "suspect"), "label")), "leak_fn <- main [malloc]");
	assert_true(json_object_object_get_ex(root, "process", &v));
	assert_true(json_object_object_get_ex(v, "rss_bytes", &v));
	assert_null(v);	/* unknown */
	json_object_put(root);
	r->stacks[0].life_hist = NULL;	/* not owned here */
	report__free(r);
	analysis__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady_leak),
		cmocka_unit_test(test_noisy_leak),
		cmocka_unit_test(test_one_time_allocation),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_noise_without_ages),
		cmocka_unit_test(test_cache_plateau),
		cmocka_unit_test(test_rate_levels),
		cmocka_unit_test(test_suspect_and_verdict),
		cmocka_unit_test(test_vanished_dropped),
		cmocka_unit_test(test_time_rules),
		cmocka_unit_test(test_short_run),
		cmocka_unit_test(test_older_origin),
		cmocka_unit_test(test_one_time_step),
		cmocka_unit_test(test_proc_growth),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

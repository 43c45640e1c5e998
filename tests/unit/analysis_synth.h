/* SPDX-License-Identifier: MIT */
/*
 * analysis_synth.h - synthetic reports and noise for the analysis tests
 * (test_severity, test_baseline, test_gate). Header-only; include once.
 */
#ifndef MEMTRACE_ANALYSIS_SYNTH_H
#define MEMTRACE_ANALYSIS_SYNTH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/report.h"

/* One stack of a synthetic report. fn2 may be NULL; ages < 0 unknown. */
struct synth_stack {
	uint64_t id;
	unsigned int kind;
	int64_t bytes;
	int64_t allocs;
	double oldest_age_s;
	double mean_age_s;
	uint64_t alloc_calls;
	uint64_t free_calls;
	const char *fn;		/* innermost function, NULL: unsymbolized */
	const char *fn2;	/* its caller */
};

/* xorshift64*: deterministic noise. */
static inline double synth_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / (double)(1ull << 53);
}

/* Uniform in [-1, 1). */
static inline double synth_noise(uint64_t *state)
{
	return 2 * synth_rand(state) - 1;
}

/* A report at elapsed t with n stacks (not sorted). Aborts on ENOMEM. */
static inline struct report *synth_report(double t, const struct synth_stack *st, size_t n)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		abort();
	r->pid = 4242;
	strcpy(r->comm, "synth");
	r->time = 1.7e9 + t;
	r->elapsed_s = t;
	r->suspect = -1;
	r->proc.rss_bytes = -1;
	r->proc.heap_bytes = -1;
	r->nr_stacks = n;
	r->stacks = calloc(n ? n : 1, sizeof(*r->stacks));
	if (!r->stacks)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct stack_report *s = &r->stacks[i];
		const char *fns[2] = { st[i].fn, st[i].fn2 };

		s->stack_id = st[i].id;
		s->kind = (enum alloc_kind)st[i].kind;
		s->outstanding_bytes = st[i].bytes;
		s->outstanding_allocs = st[i].allocs;
		s->oldest_age_s = st[i].oldest_age_s;
		s->mean_age_s = st[i].mean_age_s;
		s->alloc_calls = st[i].alloc_calls;
		s->free_calls = st[i].free_calls;
		s->nr_ips = 2;
		s->ips = calloc(2, sizeof(*s->ips));
		if (!s->ips)
			abort();
		s->ips[0] = 0x401000 + st[i].id * 16;
		s->ips[1] = 0x402000;
		r->totals.outstanding_bytes += st[i].bytes;
		r->totals.outstanding_allocs += st[i].allocs;
		if (!st[i].fn)
			continue;
		s->frames = calloc(2, sizeof(*s->frames));
		if (!s->frames)
			abort();
		for (size_t j = 0; j < 2 && fns[j]; j++) {
			s->frames[j].ip = s->ips[j];
			s->frames[j].function = strdup(fns[j]);
			s->frames[j].module = strdup("/usr/bin/synth");
			s->frames[j].offset = s->ips[j] - 0x400000;
			s->nr_frames++;
		}
	}
	return r;
}

#endif /* MEMTRACE_ANALYSIS_SYNTH_H */

// SPDX-License-Identifier: MIT
/* recommend.c - patterns of stacks and categories, savings, ranking. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/lifetime.h"
#include "analysis/recommend.h"
#include "common/util.h"

/* CPU cost model of the CPU tier (docs/analysis.md): an allocator call and
 * a byte copied, in nanoseconds. */
#define NS_PER_CALL	50.0
#define NS_PER_BYTE	0.1

enum tier { TIER_CPU = 0, TIER_MEMORY, TIER_LEAK };

struct builder {
	const struct analysis_opts *o;
	struct report *r;
	double elapsed;		/* seconds the counters cover */
	size_t nr, cap;
	struct recommendation *v;
	int err;
};

double allocator_overhead(const char *alloc, double size, const char **model)
{
	static const char *const glibc = "glibc malloc: 8-byte chunk header, 16-byte "
		"alignment, 32-byte minimum chunk";
	static const char *const classes = "size classes of 8, 16, 32, 48, 64... bytes, "
		"no per-block header";
	double chunk;

	if (alloc && (strstr(alloc, "jemalloc") || strstr(alloc, "tcmalloc") ||
		      strstr(alloc, "mimalloc"))) {
		if (model)
			*model = classes;
		chunk = size <= 8 ? 8 : size <= 16 ? 16 : ceil(size / 16) * 16;
		return chunk - size;
	}
	if (model)
		*model = glibc;
	chunk = ceil((size + 8) / 16) * 16;
	if (chunk < 32)
		chunk = 32;
	return chunk - size;
}

static double weight(enum difficulty d)
{
	return d == DIFF_EASY ? 1 : d == DIFF_MEDIUM ? 2 : 4;
}

/* Append one recommendation; the description is printf'd. */
static struct recommendation *add(struct builder *b, enum rec_kind kind, enum tier tier,
				  ssize_t stack, int category, enum difficulty diff,
				  double impact, const char *fmt, ...)
{
	struct recommendation *rec;
	va_list ap;

	if (b->err)
		return NULL;
	if (array__grow((void **)&b->v, &b->cap, b->nr + 1, sizeof(*b->v), 16)) {
		b->err = -ENOMEM;
		return NULL;
	}
	rec = &b->v[b->nr];
	memset(rec, 0, sizeof(*rec));
	rec->kind = kind;
	rec->stack = stack;
	rec->category = category;
	rec->difficulty = diff;
	rec->tier = tier;
	rec->score = impact / weight(diff);
	rec->savings_bytes = -1;
	rec->savings_calls_per_s = -1;
	rec->savings_copy_bytes_per_s = -1;
	rec->held_after_24h_bytes = -1;
	va_start(ap, fmt);
	if (vasprintf(&rec->description, fmt, ap) < 0) {
		rec->description = NULL;
		b->err = -ENOMEM;
	}
	va_end(ap);
	if (b->err)
		return NULL;
	b->nr++;
	return rec;
}

static const char *label(const struct stack_report *s, char *buf, size_t len)
{
	return analysis__stack_label(s, ANALYSIS_LABEL_DEPTH, buf, len);
}

static void fix_leak(struct builder *b, size_t i)
{
	const struct stack_report *s = &b->r->stacks[i];
	double per_h = s->growth_bytes_per_s * 3600;
	double held = (double)s->outstanding_bytes + s->growth_bytes_per_s * 86400;
	struct recommendation *rec;
	char l[512], now[32], day[32];

	if (!s->analysed || s->severity < b->o->verdict_min || !(per_h > 0))
		return;
	rec = add(b, REC_FIX_LEAK, TIER_LEAK, (ssize_t)i, s->category, DIFF_MEDIUM, per_h,
		  "%s: leaks %.1f MB/h (%s, %s now); free what it allocates or bound it: "
		  "after 24 h it will hold %s", label(s, l, sizeof(l)),
		  per_h / 1e6, severity_name(s->severity),
		  bytes__human(s->outstanding_bytes, now, sizeof(now)),
		  bytes__human((int64_t)held, day, sizeof(day)));
	if (rec) {
		rec->savings_bytes = per_h;
		rec->held_after_24h_bytes = held;
	}
}

static bool same_size(const struct stack_report *s, double spread)
{
	return s->size_min > 0 && (double)s->size_max <= spread * (double)s->size_min;
}

static void pool(struct builder *b, size_t i)
{
	const struct stack_report *s = &b->r->stacks[i];
	double rate = (double)s->alloc_calls / b->elapsed, temp, calls;
	struct recommendation *rec;
	char l[512], sz[32];

	if ((double)s->alloc_calls < b->o->min_calls || rate < b->o->pool_min_rate ||
	    !same_size(s, b->o->pool_max_spread))
		return;
	temp = (double)s->life.temporary / (double)s->alloc_calls;
	if (temp < b->o->pool_min_temp)
		return;
	/* a pool serves both the allocation and the free of each temporary */
	calls = 2 * (double)s->life.temporary / b->elapsed;
	rec = add(b, REC_POOL, TIER_CPU, (ssize_t)i, s->category, DIFF_MEDIUM, calls * NS_PER_CALL,
		  "%s: %.0f allocations/s of %s, %.0f%% freed within %gs: reuse them from a "
		  "free list or pool (or use the stack); saves ~%.0f allocator calls/s",
		  label(s, l, sizeof(l)), rate, bytes__human((int64_t)s->size_max, sz, sizeof(sz)),
		  100 * temp, b->o->temp_s, calls);
	if (rec)
		rec->savings_calls_per_s = calls;
}

static void reserve(struct builder *b, size_t i)
{
	const struct stack_report *s = &b->r->stacks[i];
	double copy, calls, mean;
	struct recommendation *rec;
	char l[512], st[32], cp[32];

	if (s->kind != KIND_REALLOC && s->kind != KIND_REALLOCARRAY)
		return;
	if ((double)s->realloc_grows < b->o->reserve_min_steps || !s->realloc_step_min ||
	    (double)s->realloc_step_max > b->o->reserve_max_spread * (double)s->realloc_step_min)
		return;
	copy = (double)s->realloc_old_bytes / b->elapsed;
	calls = (double)s->realloc_grows / b->elapsed;
	mean = (double)s->realloc_step_bytes / (double)s->realloc_grows;
	rec = add(b, REC_RESERVE, TIER_CPU, (ssize_t)i, s->category, DIFF_EASY,
		  copy * NS_PER_BYTE + calls * NS_PER_CALL,
		  "%s: %" PRIu64 " reallocs grew blocks in equal steps of ~%s (linear growth): up "
		  "to %s/s copied; reserve the final size up front or grow by doubling; saves "
		  "~%.0f realloc calls/s", label(s, l, sizeof(l)), s->realloc_grows,
		  bytes__human((int64_t)mean, st, sizeof(st)),
		  bytes__human((int64_t)copy, cp, sizeof(cp)), calls);
	if (rec) {
		rec->savings_calls_per_s = calls;
		rec->savings_copy_bytes_per_s = copy;
	}
}

static void batch_small(struct builder *b, size_t i)
{
	const struct stack_report *s = &b->r->stacks[i];
	const char *model;
	double size, over, save;
	struct recommendation *rec;
	char l[512], sv[32];

	if (s->outstanding_allocs <= 0 || (double)s->outstanding_allocs < b->o->batch_min_blocks)
		return;
	size = (double)s->outstanding_bytes / (double)s->outstanding_allocs;
	if (size > b->o->batch_max_size || (s->size_max && (double)s->size_max > b->o->batch_max_size))
		return;
	over = allocator_overhead(b->r->allocator, size, &model);
	save = over * (double)s->outstanding_allocs;
	if (!(save > 0))
		return;
	rec = add(b, REC_BATCH_SMALL, TIER_MEMORY, (ssize_t)i, s->category, DIFF_HARD, save,
		  "%s: %" PRId64 " blocks of ~%.0f B held: allocate them in arrays or an arena; "
		  "saves ~%s (%.0f B per block, assuming %s)", label(s, l, sizeof(l)),
		  s->outstanding_allocs, size, bytes__human((int64_t)save, sv, sizeof(sv)), over,
		  model);
	if (rec)
		rec->savings_bytes = save;
}

static void oversized(struct builder *b, size_t i)
{
	const struct stack_report *s = &b->r->stacks[i];
	double size, quick;
	struct recommendation *rec;
	char l[512], sz[32], pk[32];

	if (s->kind != KIND_MALLOC && s->kind != KIND_CALLOC)
		return;
	if (!s->alloc_calls || (double)s->alloc_calls < b->o->min_calls)
		return;
	size = (double)s->alloc_bytes / (double)s->alloc_calls;
	if (size < b->o->oversized_min_size || s->life.peak_bytes <= 0)
		return;
	quick = (double)lifetime__count_below(s->life_hist, s->life_hist ? LIFE_BUCKETS : 0,
					      b->o->oversized_max_life) / (double)s->alloc_calls;
	if (quick < b->o->oversized_min_temp)
		return;
	rec = add(b, REC_OVERSIZED, TIER_MEMORY, (ssize_t)i, s->category, DIFF_EASY,
		  (double)s->life.peak_bytes,
		  "%s: %" PRIu64 " %s blocks of ~%s, %.0f%% freed within %gs: work in smaller "
		  "chunks or reuse one buffer; saves up to %s of peak", label(s, l, sizeof(l)),
		  s->alloc_calls, alloc_kind_name(s->kind),
		  bytes__human((int64_t)size, sz, sizeof(sz)), 100 * quick, b->o->oversized_max_life,
		  bytes__human(s->life.peak_bytes, pk, sizeof(pk)));
	if (rec)
		rec->savings_bytes = (double)s->life.peak_bytes;
}

/* A category that leaks while none of its stacks is rated a leak: many
 * small leaks that add up. */
static void category_leaks(struct builder *b)
{
	for (size_t c = 0; c < b->r->nr_categories; c++) {
		const struct category_report *k = &b->r->categories[c];
		double per_h = k->growth_bytes_per_s * 3600;
		double held = (double)k->outstanding_bytes + k->growth_bytes_per_s * 86400;
		struct recommendation *rec;
		bool covered = false;
		char day[32];

		if (k->severity < b->o->verdict_min || !(per_h > 0))
			continue;
		for (size_t i = 0; i < b->nr && !covered; i++)
			covered = b->v[i].kind == REC_FIX_LEAK && b->v[i].category == (int)c;
		if (covered)
			continue;
		rec = add(b, REC_FIX_LEAK, TIER_LEAK, -1, (int)c, DIFF_HARD, per_h,
			  "category %s: its %zu stacks leak %.1f MB/h together (%s), none alone: "
			  "after 24 h it will hold %s", k->name, k->stacks,
			  per_h / 1e6, severity_name(k->severity),
			  bytes__human((int64_t)held, day, sizeof(day)));
		if (rec) {
			rec->savings_bytes = per_h;
			rec->held_after_24h_bytes = held;
		}
	}
}

static int cmp_rank(const void *a, const void *b)
{
	const struct recommendation *x = a, *y = b;

	if (x->tier != y->tier)
		return y->tier - x->tier;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->stack != y->stack)
		return x->stack < y->stack ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

int recommend__build(const struct analysis_opts *o, struct report *r)
{
	struct builder b = { .o = o, .r = r };

	for (size_t i = 0; i < r->nr_recs; i++)
		free(r->recs[i].description);
	free(r->recs);
	r->recs = NULL;
	r->nr_recs = 0;
	b.elapsed = r->elapsed_s - o->older_s > 1e-3 ? r->elapsed_s - o->older_s : 1e-3;
	for (size_t i = 0; i < r->nr_stacks; i++) {
		fix_leak(&b, i);
		pool(&b, i);
		reserve(&b, i);
		batch_small(&b, i);
		oversized(&b, i);
	}
	category_leaks(&b);
	if (b.err) {
		for (size_t i = 0; i < b.nr; i++)
			free(b.v[i].description);
		free(b.v);
		return b.err;
	}
	if (b.nr)
		qsort(b.v, b.nr, sizeof(*b.v), cmp_rank);
	for (size_t i = 0; i < b.nr; i++)
		b.v[i].priority = (int)i + 1;
	r->recs = b.v;
	r->nr_recs = b.nr;
	return 0;
}

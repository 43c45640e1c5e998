// SPDX-License-Identifier: MIT
/* collect.c - BPF maps -> struct report. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collect/agg_table.h"
#include "collect/collect.h"
#include "collect/map_read.h"
#include "common/util.h"

struct cached_stack {
	uint64_t id;		/* 0: empty slot */
	uint32_t nr;
	uint32_t flags;
	uint64_t *ips;
};

struct collector {
	struct collect_maps m;
	struct collect_opts o;
	int ncpus;
	struct cached_stack *cache;	/* open addressing, power of two */
	size_t cache_cap, cache_used;
	double last_cost;
	uint64_t last_walked;
	uint64_t last_allocs, last_mmaps;
	struct agg_table *aggs;		/* the aggs map, mapped */
	struct alloc_table *allocs;	/* maps.allocs, mapped (ages, no tables) */
	struct addr_range *wrappers;
	size_t nr_wrappers;
};

int collector__set_wrappers(struct collector *c, const struct addr_range *r, size_t n)
{
	struct addr_range *w = n ? malloc(n * sizeof(*w)) : NULL;

	if (n && !w)
		return -ENOMEM;
	if (n)
		memcpy(w, r, n * sizeof(*w));
	free(c->wrappers);
	c->wrappers = w;
	c->nr_wrappers = n;
	return 0;
}

/* Leading ips of a syscall stack that lie in a wrapper (ip - 1: the call
 * or syscall instruction before the return address). */
static uint32_t wrapper_frames(const struct collector *c, const uint64_t *ips, uint32_t nr)
{
	uint32_t skip = 0;

	while (skip < nr) {
		bool in = false;

		for (size_t i = 0; i < c->nr_wrappers && !in; i++)
			in = ips[skip] - 1 >= c->wrappers[i].lo && ips[skip] - 1 < c->wrappers[i].hi;
		if (!in)
			break;
		skip++;
	}
	return skip < nr ? skip : 0;	/* never leave a stack empty */
}

struct collector *collector__new(const struct collect_maps *maps, const struct collect_opts *o)
{
	struct collector *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	c->m = *maps;
	c->o = *o;
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0) {
		err = EINVAL;
		goto free_c;
	}
	c->aggs = agg_table__open(maps->aggs);
	if (!c->aggs) {
		err = errno;
		goto free_c;
	}
	if ((!o->ages && o->older_s <= 0) || maps->tables)	/* no table of our own */
		return c;
	c->allocs = alloc_table__open(maps->allocs, false);
	if (!c->allocs) {
		err = errno;
		goto close_aggs;
	}
	return c;

close_aggs:
	agg_table__close(c->aggs);
free_c:
	free(c);
	errno = err;
	return NULL;
}

void collector__free(struct collector *c)
{
	if (!c)
		return;
	alloc_table__close(c->allocs);
	agg_table__close(c->aggs);
	for (size_t i = 0; i < c->cache_cap; i++)
		free(c->cache[i].ips);
	free(c->cache);
	free(c->wrappers);
	free(c);
}

double collector__last_cost(const struct collector *c) { return c->last_cost; }
uint64_t collector__last_walked(const struct collector *c) { return c->last_walked; }

void collector__last_counts(const struct collector *c, uint64_t *allocs, uint64_t *mmaps,
			    uint64_t *stacks)
{
	*allocs = c->last_allocs;
	*mmaps = c->last_mmaps;
	*stacks = c->cache_used;
}

static size_t slot_of(uint64_t id, size_t cap)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);
}

static int cache_grow(struct collector *c)
{
	size_t cap = c->cache_cap ? c->cache_cap * 2 : 1024;
	struct cached_stack *n = calloc(cap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < c->cache_cap; i++) {
		size_t s;

		if (!c->cache[i].id)
			continue;
		for (s = slot_of(c->cache[i].id, cap); n[s].id; s = (s + 1) & (cap - 1))
			;
		n[s] = c->cache[i];
	}
	free(c->cache);
	c->cache = n;
	c->cache_cap = cap;
	return 0;
}

/* The ips of stack id, read once from the stacks map then cached. */
static const struct cached_stack *stack_lookup(struct collector *c, uint64_t id)
{
	static struct stack_trace st;	/* 1 KiB: not on the stack */
	size_t s;

	if (!id)
		return NULL;
	if (c->cache_cap) {
		for (s = slot_of(id, c->cache_cap); c->cache[s].id; s = (s + 1) & (c->cache_cap - 1))
			if (c->cache[s].id == id)
				return &c->cache[s];
	}
	if (bpf_map_lookup_elem(c->m.stacks[stack_id_class(id)], &id, &st))
		return NULL;
	if ((c->cache_used + 1) * 2 > c->cache_cap && cache_grow(c))
		return NULL;
	for (s = slot_of(id, c->cache_cap); c->cache[s].id; s = (s + 1) & (c->cache_cap - 1))
		;
	if (st.nr > MAX_STACK_DEPTH)
		st.nr = MAX_STACK_DEPTH;
	c->cache[s].ips = malloc((st.nr ? st.nr : 1) * sizeof(uint64_t));
	if (!c->cache[s].ips)
		return NULL;
	memcpy(c->cache[s].ips, st.ip, st.nr * sizeof(uint64_t));
	c->cache[s].id = id;
	c->cache[s].nr = st.nr;
	c->cache[s].flags = st.flags;
	c->cache_used++;
	return &c->cache[s];
}

static void read_counters(struct collector *c, struct totals *t)
{
	uint64_t *vals = calloc(c->ncpus, sizeof(uint64_t));

	if (!vals)
		return;
	for (__u32 i = 0; i < DROP_MAX + CNT_MAX; i++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(c->m.counters, &i, vals))
			continue;
		for (int cpu = 0; cpu < c->ncpus; cpu++)
			sum += vals[cpu];
		if (i < DROP_MAX)
			t->drops[i] = sum;
		else
			t->counters[i - DROP_MAX] = sum;
	}
	free(vals);
	for (int i = 0; i < DROP_MAX; i++)
		t->dropped_events += t->drops[i];
	t->unmatched_frees = t->counters[CNT_UNMATCHED_FREES];
	t->unwind_failed = t->counters[CNT_UNWIND_FAILED];
	t->truncated_stacks = t->counters[CNT_UNWIND_TRUNCATED];
	t->fp_fallback_frames = t->counters[CNT_UNWIND_FP_FALLBACK];
	t->stack_walks = t->counters[CNT_STACK_WALKS];
	t->stack_walks_skipped = t->counters[CNT_STACK_WALKS_SKIPPED];
}

static int64_t unweight(int64_t v)
{
	return v >= 0 ? (v + WEIGHT_ONE / 2) / WEIGHT_ONE : -((-v + WEIGHT_ONE / 2) / WEIGHT_ONE);
}

/* Index of (stack, kind) -> position in r->stacks, for the age walk. */
struct stack_index {
	size_t cap;
	int64_t *pos;		/* -1 empty */
	const struct stack_report *stacks;
};

static size_t key_slot(uint64_t id, uint32_t kind, size_t cap)
{
	return slot_of(id ^ ((uint64_t)kind << 56), cap);
}

static int index_build(struct stack_index *ix, const struct report *r)
{
	ix->cap = 16;
	while (ix->cap < r->nr_stacks * 2 + 1)
		ix->cap *= 2;
	ix->pos = malloc(ix->cap * sizeof(*ix->pos));
	if (!ix->pos)
		return -ENOMEM;
	memset(ix->pos, 0xff, ix->cap * sizeof(*ix->pos));
	ix->stacks = r->stacks;
	for (size_t i = 0; i < r->nr_stacks; i++) {
		size_t s = key_slot(r->stacks[i].stack_id, r->stacks[i].kind, ix->cap);

		while (ix->pos[s] >= 0)
			s = (s + 1) & (ix->cap - 1);
		ix->pos[s] = (int64_t)i;
	}
	return 0;
}

static int64_t index_find(const struct stack_index *ix, uint64_t id, uint32_t kind)
{
	for (size_t s = key_slot(id, kind, ix->cap); ix->pos[s] >= 0; s = (s + 1) & (ix->cap - 1)) {
		const struct stack_report *sr = &ix->stacks[ix->pos[s]];

		if (sr->stack_id == id && sr->kind == kind)
			return ix->pos[s];
	}
	return -1;
}

struct age_acc {
	uint64_t min_ts;
	int64_t old_bytes;
	int64_t old_count;	/* x WEIGHT_ONE */
};

/* A record newer than the report's instant (made while the walk ran) is
 * the next report's business: never an age below zero. */
static void age_add(struct age_acc *a, uint64_t ts, uint64_t bytes, uint64_t cnt,
		    uint64_t cutoff, uint64_t now)
{
	if (ts > now)
		return;
	if (!a->min_ts || ts < a->min_ts)
		a->min_ts = ts;
	if (ts <= cutoff) {
		a->old_bytes += (int64_t)bytes;
		a->old_count += (int64_t)cnt;
	}
}

/* What fold_ages() folds the allocs table into. */
struct age_fold {
	const struct stack_index *ix;
	struct age_acc *acc;
	uint64_t cutoff;
	uint64_t now;		/* the report's instant */
	uint64_t n;		/* records walked */
};

static int fold_alloc(void *arg, __u64 addr, const struct alloc_info *a)
{
	struct age_fold *f = arg;
	int64_t p = index_find(f->ix, a->stack_id, a->kind);

	(void)addr;
	f->n++;
	if (p >= 0)
		age_add(&f->acc[p], a->ts, a->est_bytes,
			alloc_est_count(a->size, a->est_bytes, a->weight), f->cutoff, f->now);
	return 0;
}

/* Fold every live allocation (the mapped allocs table, read in place) and
 * mapping (a batch copy of mmaps) into acc. Returns 0 or -errno. */
static int fold_ages(struct collector *c, const struct stack_index *ix, struct age_acc *acc,
		     uint64_t cutoff, uint64_t now)
{
	struct age_fold f = { .ix = ix, .acc = acc, .cutoff = cutoff, .now = now };
	void *keys = NULL, *vals = NULL;
	size_t n = 0;
	int err;

	/* fold_alloc cannot fail */
	if (c->m.tables)
		alloc_tables__walk(c->m.tables, fold_alloc, &f);
	else
		alloc_table__walk(c->allocs, fold_alloc, &f);
	c->last_walked = f.n;
	c->last_allocs = f.n;
	if (c->m.mmaps < 0)	/* no mappings traced (the kernel tracer) */
		return 0;
	err = map_read_all(c->m.mmaps, sizeof(struct mmap_key), sizeof(struct mmap_info),
			   &keys, &vals, &n);
	if (err)
		return err;
	c->last_walked += n;
	c->last_mmaps = n;
	for (size_t i = 0; i < n; i++) {
		const struct mmap_info *m = &((struct mmap_info *)vals)[i];
		int64_t p = index_find(ix, m->stack_id, m->kind);

		if (p >= 0)
			age_add(&acc[p], m->ts, m->len, WEIGHT_ONE, cutoff, now);
	}
	free(keys);
	free(vals);
	return 0;
}

/* Walk live allocations and mappings: oldest age per stack, and --older. */
static int walk_ages(struct collector *c, struct report *r, uint64_t now_ns)
{
	struct stack_index ix;
	struct age_acc *acc;
	uint64_t cutoff = now_ns - (uint64_t)(c->o.older_s * 1e9);
	int err;

	if (c->o.older_s * 1e9 >= (double)now_ns)
		cutoff = 0;
	acc = calloc(r->nr_stacks + 1, sizeof(*acc));
	if (!acc)
		return -ENOMEM;
	err = index_build(&ix, r);
	if (err)
		goto free_acc;
	err = fold_ages(c, &ix, acc, cutoff, now_ns);
	if (err)
		goto free_index;
	for (size_t i = 0; i < r->nr_stacks; i++) {
		struct stack_report *s = &r->stacks[i];

		/* The aggregates say what is live: a stack they show with
		 * nothing outstanding has no oldest age, whatever the walk
		 * (which runs after them) met. min_ts <= now_ns (age_add). */
		if (acc[i].min_ts && (s->outstanding_allocs > 0 || s->outstanding_bytes > 0))
			s->oldest_age_s = (double)(now_ns - acc[i].min_ts) / 1e9;
		if (c->o.older_s > 0) {
			s->outstanding_bytes = acc[i].old_bytes;
			s->outstanding_allocs = unweight(acc[i].old_count);
		}
	}
free_index:
	free(ix.pos);
free_acc:
	free(acc);
	return err;
}

int collector__read(struct collector *c, uint64_t now_ns, struct report **out)
{
	struct report *r = calloc(1, sizeof(*r));
	struct agg_val *vals = NULL;
	double t0 = clock__s(CLOCK_MONOTONIC);
	size_t n = 0;
	int err;

	if (!r)
		return -ENOMEM;
	r->suspect = -1;
	read_counters(c, &r->totals);
	err = agg_table__read(c->aggs, &vals, &n);
	if (err)
		goto free_report;
	r->stacks = calloc(n ? n : 1, sizeof(*r->stacks));
	if (!r->stacks) {
		err = -ENOMEM;
		goto free_vals;
	}
	for (size_t i = 0; i < n; i++) {
		struct stack_report *s = &r->stacks[r->nr_stacks];
		const struct agg_val *v = &vals[i];
		const struct cached_stack *cs = stack_lookup(c, v->stack_id);
		uint64_t *hist;

		s->stack_id = v->stack_id;
		s->kind = v->kind;
		s->outstanding_bytes = v->outstanding_bytes;
		s->outstanding_allocs = unweight(v->outstanding_allocs);
		s->alloc_calls = (uint64_t)unweight((int64_t)v->alloc_calls);
		s->alloc_bytes = v->alloc_bytes;
		s->free_calls = (uint64_t)unweight((int64_t)v->free_calls);
		s->free_bytes = v->free_bytes;
		s->oldest_age_s = -1;
		s->mean_age_s = -1;
		if (v->outstanding_allocs > 0 && v->sum_alloc_ts) {
			/* sum_alloc_ts is a plain sum over records, count is weighted */
			double recs = (double)v->outstanding_allocs / WEIGHT_ONE;

			/* allocations newer than now_ns (made during this
			 * read) must not make the mean negative */
			if (recs >= 1)
				s->mean_age_s = fmax(0, ((double)now_ns -
						 (double)v->sum_alloc_ts / recs) / 1e9);
		}
		s->life.peak_bytes = v->peak_bytes;
		s->size_min = v->size_min;
		s->size_max = v->size_max;
		s->realloc_grows = v->realloc_grows;
		s->realloc_step_bytes = v->realloc_step_bytes;
		s->realloc_old_bytes = v->realloc_old_bytes;
		s->realloc_step_min = v->realloc_step_min;
		s->realloc_step_max = v->realloc_step_max;
		s->category = -1;
		s->life.freed = s->free_calls;
		s->life.temporary = (uint64_t)unweight((int64_t)v->temp_allocs);
		s->life.p50_s = s->life.p90_s = s->life.p99_s = -1;
		hist = malloc(sizeof(v->life_hist));
		if (hist) {
			for (int b = 0; b < LIFE_BUCKETS; b++)
				hist[b] = (uint64_t)unweight((int64_t)v->life_hist[b]);
			s->life_hist = hist;
		}
		if (cs) {
			uint32_t skip = 0;

			if (s->kind == KIND_MMAP || s->kind == KIND_MREMAP)
				skip = wrapper_frames(c, cs->ips, cs->nr);
			s->ips = malloc((cs->nr ? cs->nr : 1) * sizeof(uint64_t));
			if (s->ips) {
				memcpy(s->ips, cs->ips + skip, (cs->nr - skip) * sizeof(uint64_t));
				s->nr_ips = cs->nr - skip;
			}
			s->flags = cs->flags;
		}
		r->nr_stacks++;
	}
	if (c->o.ages || c->o.older_s > 0) {
		err = walk_ages(c, r, now_ns);
		if (err)
			goto free_vals;
	}
	for (size_t i = 0; i < r->nr_stacks; i++) {
		const struct stack_report *s = &r->stacks[i];

		r->totals.outstanding_bytes += s->outstanding_bytes;
		r->totals.outstanding_allocs += s->outstanding_allocs;
		r->totals.alloc_calls += s->alloc_calls;
		r->totals.free_calls += s->free_calls;
	}
	report__sort(r);
	free(vals);
	c->last_cost = clock__s(CLOCK_MONOTONIC) - t0;
	*out = r;
	return 0;

free_vals:
	free(vals);
free_report:
	report__free(r);
	return err;
}

// SPDX-License-Identifier: MIT
/* categories.c - rules, built-in categories and per-category numbers. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "analysis/categories.h"
#include "analysis/fit.h"

/* A report closer than this fraction of the interval to the previous one
 * replaces its sample (as in analysis.c: the final report). */
#define MERGE_FRACTION	0.25
/* Kernel addresses (x86_64 and arm64 upper half). */
#define KERNEL_MIN_IP	0xffff800000000000ull

enum rule_kind { RULE_FN, RULE_MOD, RULE_FILE };

struct rule {
	char *name;
	enum rule_kind kind;
	char *glob;
};

struct category_rules {
	size_t nr;
	struct rule *v;
};

/* One category tracked across reports. */
struct cat_track {
	char name[CATEGORY_NAME_MAX + 1];
	struct fit_series s;
	int64_t peak;
	double last_t;			/* last report that had it */
	uint64_t base_allocs, base_frees; /* calls at the rate base */
	double base_t;
	double alloc_rate, free_rate;
	/* this report */
	bool seen;
	struct category_report cur;
	int64_t ages_n;			/* allocations with a known mean age */
	double ages_sum;		/* sum of mean age * allocations */
	double oldest;			/* < 0 unknown */
	bool ages_unknown;
};

struct categories {
	struct category_rules *rules;
	struct analysis_opts o;
	size_t nr;
	struct cat_track t[CATEGORIES_MAX + 1];	/* + "other" for the overflow */
	bool have_t;
	double last_t, interval;
};

struct category_rules *category_rules__new(void)
{
	return calloc(1, sizeof(struct category_rules));
}

size_t category_rules__count(const struct category_rules *c)
{
	return c ? c->nr : 0;
}

static bool valid_name(const char *s, size_t len)
{
	if (!len || len > CATEGORY_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_-.:/", s[i]))
			return false;
	return true;
}

int category_rules__add(struct category_rules *c, const char *spec)
{
	static const struct { const char *prefix; enum rule_kind kind; } kinds[] = {
		{ "fn:", RULE_FN }, { "mod:", RULE_MOD }, { "file:", RULE_FILE },
	};
	const char *eq = spec ? strchr(spec, '=') : NULL, *glob = NULL;
	struct rule *v, r = { 0 };

	if (!c || !eq || !valid_name(spec, (size_t)(eq - spec)))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strncmp(eq + 1, kinds[i].prefix, strlen(kinds[i].prefix)) == 0) {
			r.kind = kinds[i].kind;
			glob = eq + 1 + strlen(kinds[i].prefix);
		}
	}
	if (!glob || !*glob)
		return -EINVAL;
	v = realloc(c->v, (c->nr + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->v = v;
	r.name = strndup(spec, (size_t)(eq - spec));
	r.glob = strdup(glob);
	if (!r.name || !r.glob) {
		free(r.name);
		free(r.glob);
		return -ENOMEM;
	}
	c->v[c->nr++] = r;
	return 0;
}

int category_rules__load(struct category_rules *c, const char *path, int *bad_line)
{
	char *line = NULL;
	size_t cap = 0;
	int err = 0, no = 0;
	FILE *f;

	struct stat st;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return -EISDIR;
	}
	while (getline(&line, &cap, f) > 0) {
		char *s = line, *end;

		no++;
		while (isspace((unsigned char)*s))
			s++;
		end = s + strlen(s);
		while (end > s && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*s || *s == '#')
			continue;
		err = category_rules__add(c, s);
		if (err) {
			if (bad_line)
				*bad_line = no;
			break;
		}
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	fclose(f);
	return err;
}

void category_rules__free(struct category_rules *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr; i++) {
		free(c->v[i].name);
		free(c->v[i].glob);
	}
	free(c->v);
	free(c);
}

/* path or any part of it after a '/' matches glob */
static bool match_path(const char *glob, const char *path)
{
	if (!path)
		return false;
	if (fnmatch(glob, path, 0) == 0)
		return true;
	for (const char *p = strchr(path, '/'); p; p = strchr(p + 1, '/'))
		if (p[1] && fnmatch(glob, p + 1, 0) == 0)
			return true;
	return false;
}

static bool rule_matches(const struct rule *r, const struct frame *f)
{
	switch (r->kind) {
	case RULE_FN:
		return (f->function && fnmatch(r->glob, f->function, 0) == 0) ||
		       (f->system_name && fnmatch(r->glob, f->system_name, 0) == 0);
	case RULE_MOD:
		if (!f->module)
			return false;
		return fnmatch(r->glob, strchr(r->glob, '/') ? f->module :
			       frame__module_base(f->module), 0) == 0;
	case RULE_FILE:
		return match_path(r->glob, f->file);
	}
	return false;
}

/* The interpreter a module belongs to, NULL if none. */
static const char *interpreter(const char *base)
{
	static const struct { const char *prefix; const char *name; } known[] = {
		{ "python", "python" }, { "libpython", "python" },
		{ "ruby", "ruby" }, { "libruby", "ruby" },
		{ "node", "node" }, { "libnode", "node" },
		{ "perl", "perl" }, { "libperl", "perl" },
		{ "php", "php" }, { "libphp", "php" },
		{ "lua", "lua" }, { "liblua", "lua" }, { "luajit", "lua" },
		{ "libluajit", "lua" }, { "java", "java" }, { "libjvm", "java" },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strncmp(base, known[i].prefix, strlen(known[i].prefix)) == 0)
			return known[i].name;
	return NULL;
}

static const char *builtin(const struct stack_report *s, char *buf, size_t len)
{
	size_t nr = s->nr_frames ? s->nr_frames : s->nr_ips;

	for (size_t i = 0; i < nr; i++) {
		uint64_t ip = s->nr_frames ? s->frames[i].ip : s->ips[i];
		const char *mod = s->nr_frames ? s->frames[i].module : NULL, *base, *interp;

		if (ip >= KERNEL_MIN_IP || (s->nr_frames && s->frames[i].kernel))
			return "kernel";
		if (!mod)
			continue;
		base = frame__module_base(mod);
		interp = interpreter(base);
		snprintf(buf, len, "%.*s", CATEGORY_NAME_MAX, interp ? interp : base);
		return buf;
	}
	return CATEGORY_OTHER;
}

const char *category_rules__match(const struct category_rules *c,
				  const struct stack_report *s, char *buf, size_t len)
{
	if (!c || !c->nr)
		return builtin(s, buf, len);
	for (size_t i = 0; i < s->nr_frames; i++)
		for (size_t j = 0; j < c->nr; j++)
			if (rule_matches(&c->v[j], &s->frames[i]))
				return c->v[j].name;
	return CATEGORY_OTHER;
}

struct categories *categories__new(struct category_rules *rules, const struct analysis_opts *o)
{
	struct categories *c = calloc(1, sizeof(*c));

	if (!c) {
		category_rules__free(rules);
		return NULL;
	}
	c->rules = rules;
	if (o)
		c->o = *o;
	else
		analysis_opts__defaults(&c->o);
	return c;
}

/* The track of name, added when new; the overflow goes to "other". */
static struct cat_track *track_of(struct categories *c, const char *name, double now)
{
	struct cat_track *t;

	for (size_t i = 0; i < c->nr; i++)
		if (strcmp(c->t[i].name, name) == 0)
			return &c->t[i];
	if (c->nr >= CATEGORIES_MAX && strcmp(name, CATEGORY_OTHER) != 0)
		return track_of(c, CATEGORY_OTHER, now);
	t = &c->t[c->nr++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->s.max = c->o.window_max;
	t->base_t = c->o.older_s;
	/* nothing was outstanding when tracing went live: the known zero */
	if (now - c->o.older_s > 1e-9 && c->o.older_s >= now - c->o.window_s)
		fit_series__push(&t->s, c->o.older_s, 0);
	return t;
}

static void add_stack(struct cat_track *t, const struct stack_report *s)
{
	struct category_report *k = &t->cur;

	k->outstanding_bytes += s->outstanding_bytes;
	k->outstanding_allocs += s->outstanding_allocs;
	k->alloc_calls += s->alloc_calls;
	k->free_calls += s->free_calls;
	k->stacks++;
	if (s->outstanding_allocs > 0) {
		if (s->mean_age_s < 0 || s->oldest_age_s < 0) {
			t->ages_unknown = true;
		} else {
			t->ages_sum += s->mean_age_s * (double)s->outstanding_allocs;
			t->ages_n += s->outstanding_allocs;
			if (s->oldest_age_s > t->oldest)
				t->oldest = s->oldest_age_s;
		}
	}
}

/* Sample, rate and fill t->cur for the report at now. */
static int rate_track(struct categories *c, struct cat_track *t, double now, double total,
		      bool merge)
{
	struct sev_input in = { 0 };
	struct category_report *k = &t->cur;
	double dt;
	bool unrated;
	int err;

	err = fit_series__sample(&t->s, now, (double)k->outstanding_bytes, c->last_t, merge);
	if (err)
		return err;
	fit_series__trim(&t->s, now, c->o.window_s, c->o.window_min);
	if (k->outstanding_bytes > t->peak)
		t->peak = k->outstanding_bytes;
	/* rates over the last interval (the first: since tracing went live) */
	dt = now - t->base_t;
	if (dt > 1e-9) {
		t->alloc_rate = (double)(k->alloc_calls - t->base_allocs) / dt;
		t->free_rate = (double)(k->free_calls - t->base_frees) / dt;
	}
	if (!merge) {
		t->base_t = now;
		t->base_allocs = k->alloc_calls;
		t->base_frees = k->free_calls;
	}
	in.bytes = k->outstanding_bytes;
	in.allocs = k->outstanding_allocs;
	in.share = total > 0 && k->outstanding_bytes > 0 ? (double)k->outstanding_bytes / total : 0;
	in.oldest_age_s = t->ages_unknown || !t->ages_n ? -1 : t->oldest;
	in.mean_age_s = t->ages_unknown || !t->ages_n ? -1 : t->ages_sum / (double)t->ages_n;
	err = analysis__rate(&c->o, &t->s, &in, &k->growth_bytes_per_s, &k->severity,
			     &k->growth_reason, &unrated);
	if (err)
		return err;
	if (!unrated)
		k->growth_reason = NULL;
	k->alloc_rate = t->alloc_rate;
	k->free_rate = t->free_rate;
	k->peak_bytes = t->peak;
	t->last_t = now;
	return 0;
}

static int cmp_cat(const void *a, const void *b)
{
	const struct category_report *x = a, *y = b;

	if (x->outstanding_bytes != y->outstanding_bytes)
		return x->outstanding_bytes > y->outstanding_bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

int categories__update(struct categories *c, struct report *r)
{
	double now, total = 0;
	size_t nr = 0;
	bool merge;
	int err = 0;

	if (!c || !r)
		return -EINVAL;
	now = r->elapsed_s;
	if (!isfinite(now) || (c->have_t && now < c->last_t - 1e-9))
		return -EINVAL;
	merge = c->have_t && now - c->last_t < MERGE_FRACTION * c->interval;
	for (size_t i = 0; i < c->nr; i++) {
		memset(&c->t[i].cur, 0, sizeof(c->t[i].cur));
		c->t[i].seen = false;
		c->t[i].ages_n = 0;
		c->t[i].ages_sum = 0;
		c->t[i].oldest = -1;
		c->t[i].ages_unknown = false;
	}
	for (size_t i = 0; i < r->nr_stacks; i++) {
		struct stack_report *s = &r->stacks[i];
		char buf[CATEGORY_NAME_MAX + 1];
		const char *name = category_rules__match(c->rules, s, buf, sizeof(buf));
		struct cat_track *t = track_of(c, name, now);

		if (!t->seen) {
			t->seen = true;
			t->oldest = -1;
		}
		add_stack(t, s);
		s->category = (int)(t - c->t);	/* a track index until sorted */
		if (s->outstanding_bytes > 0)
			total += (double)s->outstanding_bytes;
	}
	for (size_t i = 0; i < c->nr && !err; i++)
		if (c->t[i].seen)
			err = rate_track(c, &c->t[i], now, total, merge);
	if (!merge)
		c->interval = c->have_t ? now - c->last_t : now;
	c->have_t = true;
	c->last_t = now;
	if (!err) {
		r->categories = calloc(c->nr ? c->nr : 1, sizeof(*r->categories));
		err = r->categories ? 0 : -ENOMEM;
	}
	for (size_t i = 0; i < c->nr && !err; i++) {
		if (!c->t[i].seen)
			continue;
		r->categories[nr] = c->t[i].cur;
		r->categories[nr].name = strdup(c->t[i].name);
		if (!r->categories[nr].name) {
			err = -ENOMEM;
			break;
		}
		nr++;
	}
	if (err) {
		for (size_t i = 0; i < nr; i++)
			free(r->categories[i].name);
		free(r->categories);
		r->categories = NULL;
		r->nr_categories = 0;
		for (size_t i = 0; i < r->nr_stacks; i++)
			r->stacks[i].category = -1;
		return err;
	}
	r->nr_categories = nr;
	qsort(r->categories, nr, sizeof(*r->categories), cmp_cat);
	/* stacks: from track index to the index in the sorted array */
	for (size_t i = 0; i < r->nr_stacks; i++) {
		const char *name = c->t[r->stacks[i].category].name;

		r->stacks[i].category = -1;
		for (size_t j = 0; j < nr; j++)
			if (strcmp(r->categories[j].name, name) == 0)
				r->stacks[i].category = (int)j;
	}
	return 0;
}

void categories__free(struct categories *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr; i++)
		fit_series__clear(&c->t[i].s);
	category_rules__free(c->rules);
	free(c);
}

// SPDX-License-Identifier: MIT
/* baseline.c - save, load and compare baselines matched by frame signature. */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "analysis/analysis.h"
#include "analysis/baseline.h"
#include "common/outfile.h"

#define MAX_FILE	(256u << 20)	/* refuse larger baseline files */

/*
 * Byte and count arithmetic on numbers read from a baseline file, which
 * may hold anything an int64 holds: sums and differences saturate at
 * +-INT64_MAX (never INT64_MIN, so llabs() and negation stay defined).
 */
static int64_t sat_clamp(int64_t v)
{
	return v == INT64_MIN ? -INT64_MAX : v;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return a > 0 ? INT64_MAX : -INT64_MAX;
	return sat_clamp(r);
}

static int64_t sat_sub(int64_t a, int64_t b)
{
	return sat_add(a, -sat_clamp(b));
}

/* Rates the same way: a sum that overflows stays at +-DBL_MAX (JSON has no inf). */
static double finite_add(double a, double b)
{
	double r = a + b;

	return isfinite(r) ? r : r > 0 ? DBL_MAX : -DBL_MAX;
}

char *baseline__signature(const struct stack_report *s)
{
	size_t len = 0, nr = s->nr_frames ? s->nr_frames : s->nr_ips;
	char *buf = NULL;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fputs(alloc_kind_name(s->kind), f);
	fputc('|', f);
	for (size_t i = 0; i < nr; i++) {
		char name[512];

		if (s->nr_frames)
			analysis__frame_name(&s->frames[i], false, name, sizeof(name));
		else
			strcpy(name, "?");
		fprintf(f, "%s%s", i ? ";" : "", name);
	}
	if (fclose(f)) {
		free(buf);
		errno = ENOMEM;
		return NULL;
	}
	return buf;
}

static void stack_clear(struct baseline_stack *s)
{
	free(s->signature);
	free(s->label);
}

void baseline__free(struct baseline *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nr; i++)
		stack_clear(&b->stacks[i]);
	free(b->stacks);
	free(b);
}

static int cmp_signature(const void *a, const void *b)
{
	const struct baseline_stack *x = a, *y = b;

	return strcmp(x->signature, y->signature);
}

/* Sort by signature and merge equal ones: sums, worst severity, label of the largest. */
static void merge_stacks(struct baseline *b)
{
	size_t out = 0;

	if (b->nr > 1)
		qsort(b->stacks, b->nr, sizeof(*b->stacks), cmp_signature);
	for (size_t i = 0; i < b->nr; i++) {
		struct baseline_stack *s = &b->stacks[i], *o;

		if (out == 0 || strcmp(b->stacks[out - 1].signature, s->signature) != 0) {
			b->stacks[out++] = *s;
			continue;
		}
		o = &b->stacks[out - 1];
		if (s->bytes > o->bytes) {
			char *l = o->label;

			o->label = s->label;
			s->label = l;
		}
		o->bytes = sat_add(o->bytes, s->bytes);
		o->allocs = sat_add(o->allocs, s->allocs);
		o->growth_bps = finite_add(o->growth_bps, s->growth_bps);
		if (s->severity > o->severity)
			o->severity = s->severity;
		stack_clear(s);
	}
	b->nr = out;
}

struct baseline *baseline__from_report(const struct report *r)
{
	struct baseline *b;

	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->pid = r->pid;
	memcpy(b->comm, r->comm, sizeof(b->comm));
	b->comm[sizeof(b->comm) - 1] = '\0';
	b->time = r->time;
	b->elapsed_s = r->elapsed_s;
	b->total_bytes = r->totals.outstanding_bytes;
	if (r->nr_stacks) {
		b->stacks = calloc(r->nr_stacks, sizeof(*b->stacks));
		if (!b->stacks)
			goto free_b;
	}
	for (size_t i = 0; i < r->nr_stacks; i++) {
		const struct stack_report *s = &r->stacks[i];
		struct baseline_stack *d = &b->stacks[i];
		char label[512];

		b->nr++;
		d->signature = baseline__signature(s);
		d->label = strdup(analysis__stack_label(s, ANALYSIS_LABEL_DEPTH, label, sizeof(label)));
		if (!d->signature || !d->label)
			goto free_b;
		d->bytes = s->outstanding_bytes;
		d->allocs = s->outstanding_allocs;
		d->growth_bps = s->growth_bytes_per_s;
		d->severity = s->severity;
	}
	merge_stacks(b);
	return b;

free_b:
	baseline__free(b);
	errno = ENOMEM;
	return NULL;
}

/* json-c helpers: a failed add leaves the object without the field. */
static void add(json_object *o, const char *k, json_object *v)
{
	if (json_object_object_add(o, k, v))
		json_object_put(v);
}

static json_object *baseline_to_json(const struct baseline *b)
{
	json_object *root, *arr;

	root = json_object_new_object();
	arr = json_object_new_array();
	if (!root || !arr)
		goto put;
	add(root, "memtrace_baseline", json_object_new_int(BASELINE_VERSION));
	add(root, "pid", json_object_new_int(b->pid));
	add(root, "comm", json_object_new_string(b->comm));
	add(root, "time", json_object_new_double(b->time));
	add(root, "elapsed_s", json_object_new_double(b->elapsed_s));
	add(root, "total_outstanding_bytes", json_object_new_int64(b->total_bytes));
	for (size_t i = 0; i < b->nr; i++) {
		const struct baseline_stack *s = &b->stacks[i];
		json_object *o = json_object_new_object();

		if (!o || json_object_array_add(arr, o)) {
			json_object_put(o);
			goto put;
		}
		add(o, "signature", json_object_new_string(s->signature));
		add(o, "label", json_object_new_string(s->label));
		add(o, "kind", json_object_new_string_len(s->signature, (int)strcspn(s->signature, "|")));
		add(o, "outstanding_bytes", json_object_new_int64(s->bytes));
		add(o, "outstanding_allocs", json_object_new_int64(s->allocs));
		add(o, "growth_bytes_per_s", json_object_new_double(s->growth_bps));
		add(o, "severity", json_object_new_string(severity_name(s->severity)));
		if (json_object_object_length(o) != 7)
			goto put;
	}
	if (json_object_object_add(root, "stacks", arr))
		goto put;
	if (json_object_object_length(root) != 7) {
		json_object_put(root);
		return NULL;
	}
	return root;

put:
	json_object_put(arr);
	json_object_put(root);
	return NULL;
}

int baseline__save(const struct report *r, const char *path, mode_t mode)
{
	struct baseline *b;
	struct outfile f;
	json_object *root;
	const char *text;
	int err, e;

	b = baseline__from_report(r);
	if (!b)
		return -ENOMEM;
	root = baseline_to_json(b);
	if (!root) {
		err = -ENOMEM;
		goto free_b;
	}
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	if (!text) {
		err = -ENOMEM;
		goto put_root;
	}
	err = outfile__open(&f, path, mode);
	if (err)
		goto put_root;
	if (fputs(text, f.fp) < 0 || fputc('\n', f.fp) < 0)
		err = -EIO;
	if (!err)
		err = outfile__commit(&f);
	e = outfile__close(&f);
	err = err ? err : e;
put_root:
	json_object_put(root);
free_b:
	baseline__free(b);
	return err;
}

/* Read a whole file (at most MAX_FILE bytes). Returns NULL and sets errno. */
static char *read_file(const char *path)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nb;
	FILE *f;

	struct stat st;

	f = fopen(path, "re");
	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && (S_ISDIR(st.st_mode) ||
					   (S_ISREG(st.st_mode) && st.st_size > MAX_FILE))) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EFBIG;
		goto free_buf;
	}
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			nb = cap <= MAX_FILE ? realloc(buf, cap + 1) : NULL;
			if (!nb) {
				errno = cap <= MAX_FILE ? ENOMEM : EFBIG;
				goto free_buf;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		errno = EIO;
		goto free_buf;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;

free_buf:
	free(buf);
	fclose(f);
	return NULL;
}

static bool get_int64(json_object *o, const char *k, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = sat_clamp(json_object_get_int64(v));
	return true;
}

static double get_double(json_object *o, const char *k, double dflt)
{
	json_object *v;

	double d;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return dflt;
	d = json_object_get_double(v);
	return isfinite(d) ? d : dflt;	/* json-c reads NaN and Infinity */
}

static const char *get_string(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Fill b from a parsed baseline document. Returns 0, -EINVAL or -ENOMEM. */
static int baseline_from_json(struct baseline *b, json_object *root)
{
	json_object *arr;
	const char *comm;
	int64_t v;
	size_t n;

	if (!json_object_is_type(root, json_type_object) ||
	    !get_int64(root, "memtrace_baseline", &v) || v != BASELINE_VERSION ||
	    !json_object_object_get_ex(root, "stacks", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return -EINVAL;
	if (get_int64(root, "pid", &v))
		b->pid = (int)v;
	comm = get_string(root, "comm");
	if (comm)
		snprintf(b->comm, sizeof(b->comm), "%s", comm);
	b->time = get_double(root, "time", 0);
	b->elapsed_s = get_double(root, "elapsed_s", 0);
	get_int64(root, "total_outstanding_bytes", &b->total_bytes);
	n = json_object_array_length(arr);
	if (n) {
		b->stacks = calloc(n, sizeof(*b->stacks));
		if (!b->stacks)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct baseline_stack *s = &b->stacks[i];
		const char *sig, *label, *sev;

		sig = o ? get_string(o, "signature") : NULL;
		if (!sig || !get_int64(o, "outstanding_bytes", &s->bytes))
			return -EINVAL;
		label = get_string(o, "label");
		b->nr++;
		s->signature = strdup(sig);
		s->label = strdup(label ? label : sig);
		if (!s->signature || !s->label)
			return -ENOMEM;
		get_int64(o, "outstanding_allocs", &s->allocs);
		s->growth_bps = get_double(o, "growth_bytes_per_s", 0);
		sev = get_string(o, "severity");
		if (!sev || severity_parse(sev, &s->severity))
			s->severity = SEV_NONE;
	}
	merge_stacks(b);
	return 0;
}

struct baseline *baseline__load(const char *path)
{
	struct json_tokener *tok;
	struct baseline *b = NULL;
	json_object *root;
	char *text;
	int err;

	text = read_file(path);
	if (!text)
		return NULL;
	tok = json_tokener_new();
	if (!tok) {
		err = ENOMEM;
		goto free_text;
	}
	root = json_tokener_parse_ex(tok, text, -1);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		err = EINVAL;
		goto put_root;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		err = ENOMEM;
		goto put_root;
	}
	err = -baseline_from_json(b, root);
	if (err) {
		baseline__free(b);
		b = NULL;
	}
put_root:
	json_object_put(root);
	json_tokener_free(tok);
free_text:
	free(text);
	if (!b)
		errno = err;
	return b;
}

static int cmp_drift(const void *a, const void *b)
{
	const struct baseline_entry *x = a, *y = b;
	int64_t dx = llabs(x->drift_bytes), dy = llabs(y->drift_bytes);

	if (dx != dy)
		return dx > dy ? -1 : 1;
	return strcmp(x->signature, y->signature);
}

static double pct(int64_t drift, int64_t base)
{
	return base > 0 ? 100.0 * (double)drift / (double)base : NAN;
}

struct baseline_diff *baseline__compare(struct baseline *base, const struct report *r)
{
	struct baseline_diff *d;
	size_t i = 0, j = 0;

	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cur = baseline__from_report(r);
	if (!d->cur)
		goto free_d;
	if (base->nr + d->cur->nr) {
		d->entries = calloc(base->nr + d->cur->nr, sizeof(*d->entries));
		if (!d->entries)
			goto free_cur;
	}
	/* both sorted by signature: merge walk */
	while (i < base->nr || j < d->cur->nr) {
		const struct baseline_stack *b = i < base->nr ? &base->stacks[i] : NULL;
		const struct baseline_stack *c = j < d->cur->nr ? &d->cur->stacks[j] : NULL;
		struct baseline_entry *e = &d->entries[d->nr++];
		int order = !b ? 1 : !c ? -1 : strcmp(b->signature, c->signature);

		if (order < 0) {
			e->status = BASELINE_VANISHED;
			d->nr_vanished++;
			c = NULL;
			i++;
		} else if (order > 0) {
			e->status = BASELINE_NEW;
			d->nr_new++;
			b = NULL;
			j++;
		} else {
			e->status = BASELINE_MATCHED;
			d->nr_matched++;
			i++;
			j++;
		}
		e->signature = c ? c->signature : b->signature;
		e->label = c ? c->label : b->label;
		e->base_bytes = b ? b->bytes : 0;
		e->cur_bytes = c ? c->bytes : 0;
		e->drift_bytes = sat_sub(e->cur_bytes, e->base_bytes);
		e->drift_pct = pct(e->drift_bytes, e->base_bytes);
		e->growth_bps = c ? c->growth_bps : 0;
		e->severity = c ? c->severity : SEV_NONE;
	}
	if (d->nr > 1)
		qsort(d->entries, d->nr, sizeof(*d->entries), cmp_drift);
	d->base = base;
	d->base_total = base->total_bytes;
	d->cur_total = d->cur->total_bytes;
	d->drift_total = sat_sub(d->cur_total, d->base_total);
	d->drift_pct = pct(d->drift_total, d->base_total);
	return d;

free_cur:
	baseline__free(d->cur);
free_d:
	free(d);
	errno = ENOMEM;
	return NULL;
}

void baseline_diff__free(struct baseline_diff *d)
{
	if (!d)
		return;
	free(d->entries);
	baseline__free(d->cur);
	baseline__free(d->base);
	free(d);
}

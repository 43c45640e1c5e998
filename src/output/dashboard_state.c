// SPDX-License-Identifier: MIT
/*
 * dashboard_state.c - one dashboard state as JSON (dashboard__render(),
 * dashboard.h): the report's own JSON for its top stacks, plus what the
 * page draws over time (history), the flame-graph tree and the rates.
 * Every array is bounded by a constant: DASHBOARD_TOP_STACKS stacks,
 * history__len() points, DASHBOARD_FLAME_NODES nodes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "output/analysis_out.h"
#include "output/dashboard.h"
#include "output/flametree.h"
#include "output/json_out.h"

static void push(json_object *a, json_object *v)
{
	if (json_object_array_add(a, v))
		json_object_put(v);
}

static json_object *ratio_or_null(double v)
{
	return v >= 0 ? json_object_new_double(v) : NULL;
}

static json_object *hex_id(uint64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%016" PRIx64, id);
	return json_object_new_string(buf);
}

/* Fields of the pipeline's report object the page shows, when present
 * (other modes and analyses add them); arrays cut to the top. */
static const char *const passed_keys[] = {
	"verdict", "process", "recommendations", "categories", "processes",
};

static void pass_through(const struct report *r, json_object *root, json_object *report)
{
	json_object *v;

	for (size_t i = 0; report && i < sizeof(passed_keys) / sizeof(passed_keys[0]); i++) {
		if (!json_object_object_get_ex(report, passed_keys[i], &v))
			continue;
		if (json_object_is_type(v, json_type_array) &&
		    json_object_array_length(v) > DASHBOARD_TOP_STACKS) {
			json_object *cut = json_object_new_array();

			for (size_t j = 0; cut && j < DASHBOARD_TOP_STACKS; j++)
				push(cut, json_object_get(json_object_array_get_idx(v, j)));
			json__add(root, passed_keys[i], cut);
			continue;
		}
		json__add(root, passed_keys[i], json_object_get(v));
	}
	json__add(root, "mode", json_object_new_string(r->system ? "system" : "process"));
	if (!r->system)
		return;
	/* the sweep's own totals, and which process each chart series is */
	if (report && json_object_object_get_ex(report, "totals", &v))
		json__add(root, "sweep", json_object_get(v));
	json__add(root, "processes_total", json_object_new_int64((int64_t)r->nr_processes));
	v = json_object_new_object();
	for (size_t i = 0; v && i < r->nr_processes; i++) {
		const struct process_report *p = &r->processes[i];
		char key[48];

		if (p->stack >= DASHBOARD_TOP_STACKS || p->stack >= r->nr_stacks)
			continue;
		snprintf(key, sizeof(key), "%016" PRIx64 ":%s", r->stacks[p->stack].stack_id,
			 alloc_kind_name(r->stacks[p->stack].kind));
		json__add(v, key, json_object_new_int(p->pid));
	}
	json__add(root, "series_pid", v);
}

/* Per second between the last two points; 0 with fewer. */
static double rate(const struct history *h, size_t field_off)
{
	size_t n = history__len(h);
	const struct history_point *a, *b;
	double dt;

	if (n < 2)
		return 0;
	a = history__at(h, n - 2);
	b = history__at(h, n - 1);
	dt = b->elapsed_s - a->elapsed_s;
	if (dt <= 0)
		return 0;
	return (double)(*(const uint64_t *)((const char *)b + field_off) -
			*(const uint64_t *)((const char *)a + field_off)) / dt;
}

static json_object *rates_obj(const struct history *h)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json__add(o, "alloc_calls_per_s", json_object_new_double(rate(h, offsetof(struct history_point, alloc_calls))));
	json__add(o, "free_calls_per_s", json_object_new_double(rate(h, offsetof(struct history_point, free_calls))));
	json__add(o, "alloc_bytes_per_s", json_object_new_double(rate(h, offsetof(struct history_point, alloc_bytes))));
	json__add(o, "free_bytes_per_s", json_object_new_double(rate(h, offsetof(struct history_point, free_bytes))));
	json__add(o, "dropped_events_per_s", json_object_new_double(rate(h, offsetof(struct history_point, dropped_events))));
	return o;
}

static json_object *self_obj(const struct tracer_self *self)
{
	json_object *o, *fill;

	if (!self)
		return NULL;
	o = json_object_new_object();
	fill = json_object_new_object();
	if (!o || !fill) {
		json_object_put(o);
		json_object_put(fill);
		return NULL;
	}
	json__add(o, "probe_hits", json_object_new_uint64(self->probe_hits));
	json__add(o, "report_latency_s", ratio_or_null(self->report_latency_s));
	json__add(o, "reports", json_object_new_uint64(self->reports));
	json__add(o, "symbolize_failures", json_object_new_uint64(self->symbolize_failures));
	for (unsigned int i = 0; i < TRACER_MAP_MAX; i++)
		json__add(fill, tracer_map_name(i), ratio_or_null(self->map_fill[i]));
	json__add(o, "map_fill", fill);
	return o;
}

/* Bytes of stack (id, kind) at point pt; NULL when not among its top. */
static json_object *bytes_at(const struct history_point *pt, uint64_t id, uint32_t kind)
{
	for (size_t i = 0; i < pt->nr_top; i++)
		if (pt->top[i].stack_id == id && pt->top[i].kind == kind)
			return json_object_new_int64(pt->top[i].bytes);
	return NULL;
}

/* One array per field, one element per point, and a series per top stack. */
static json_object *history_obj(const struct report *r, const struct history *h)
{
	json_object *o = json_object_new_object(), *series = json_object_new_array();
	json_object *el = json_object_new_array(), *tm = json_object_new_array();
	json_object *tot = json_object_new_array(), *ac = json_object_new_array();
	json_object *fc = json_object_new_array(), *lk = json_object_new_array();
	json_object *sus = json_object_new_array(), *worst = json_object_new_array();
	size_t n = history__len(h);

	if (!o || !series || !el || !tm || !tot || !ac || !fc || !lk || !sus || !worst) {
		json_object *all[] = { o, series, el, tm, tot, ac, fc, lk, sus, worst };

		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			json_object_put(all[i]);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct history_point *pt = history__at(h, i);

		push(el, json_object_new_double(pt->elapsed_s));
		push(tm, json_object_new_double(pt->time));
		push(tot, json_object_new_int64(pt->outstanding_bytes));
		push(ac, json_object_new_uint64(pt->alloc_calls));
		push(fc, json_object_new_uint64(pt->free_calls));
		push(lk, json_object_new_boolean(pt->leak));
		push(sus, pt->leak ? hex_id(pt->suspect_id) : NULL);
		push(worst, json_object_new_string(severity_name(pt->worst)));
	}
	for (size_t i = 0; i < r->nr_stacks && i < DASHBOARD_TOP_STACKS; i++) {
		const struct stack_report *s = &r->stacks[i];
		json_object *one = json_object_new_object(), *bytes = json_object_new_array();

		if (!one || !bytes) {
			json_object_put(one);
			json_object_put(bytes);
			break;
		}
		for (size_t j = 0; j < n; j++)
			push(bytes, bytes_at(history__at(h, j), s->stack_id, s->kind));
		json__add(one, "stack_id", hex_id(s->stack_id));
		json__add(one, "kind", json_object_new_string(alloc_kind_name(s->kind)));
		json__add(one, "bytes", bytes);
		push(series, one);
	}
	json__add(o, "window_s", json_object_new_double(history__window(h)));
	json__add(o, "elapsed_s", el);
	json__add(o, "time", tm);
	json__add(o, "outstanding_bytes", tot);
	json__add(o, "alloc_calls", ac);
	json__add(o, "free_calls", fc);
	json__add(o, "leak", lk);
	json__add(o, "suspect", sus);
	json__add(o, "worst", worst);
	json__add(o, "series", series);
	return o;
}

/* Nodes at least min bytes wide, pre-order; counts them up to limit + 1. */
static size_t flame_count(const struct flame_tree *t, size_t i, int64_t min, size_t limit)
{
	size_t n = 1;

	for (size_t c = t->n[i].child; c != FLAME_NONE && n <= limit; c = t->n[c].next)
		if (t->n[c].bytes >= min)
			n += flame_count(t, c, min, limit - n + 1);
	return n;
}

struct flame_out {
	json_object *name, *value, *depth, *type, *src, *module;
};

static const char flame_types[] = { [FLAME_ROOT] = 'r', [FLAME_FRAME] = 'f',
	[FLAME_INLINE] = 'i', [FLAME_UNKNOWN] = 'u', [FLAME_KIND] = 'a' };

static void flame_emit(const struct flame_tree *t, size_t i, int depth, int64_t min,
		       struct flame_out *o)
{
	const struct flame_node *n = &t->n[i];
	char src[512], type[2] = { flame_types[n->type], 0 };
	const char *base;

	push(o->name, json_object_new_string(n->name));
	push(o->value, json_object_new_int64(n->bytes));
	push(o->depth, json_object_new_int(depth));
	push(o->type, json_object_new_string(type));
	if (n->file && n->line > 0)
		snprintf(src, sizeof(src), "%s:%d", n->file, n->line);
	else
		snprintf(src, sizeof(src), "%s", n->file ? n->file : "");
	push(o->src, *src ? json_object_new_string(src) : NULL);
	base = n->module ? frame__module_base(n->module) : NULL;
	push(o->module, base ? json_object_new_string(base) : NULL);
	for (size_t c = n->child; c != FLAME_NONE; c = t->n[c].next)
		if (t->n[c].bytes >= min)
			flame_emit(t, c, depth + 1, min, o);
}

/*
 * The flame tree in pre-order as parallel arrays (name, value, depth,
 * type r/f/i/u/a, src, module). Nodes narrower than a 1/2000 of the root
 * are left out, and the cut doubles until at most DASHBOARD_FLAME_NODES
 * remain; "min_bytes" says where it ended.
 */
static json_object *flame_obj(const struct report *r)
{
	struct flame_tree t;
	struct flame_out o;
	json_object *obj;
	int64_t min;

	if (flametree__build(&t, r))
		return NULL;
	min = t.n[0].bytes / 2000 + 1;
	while (flame_count(&t, 0, min, DASHBOARD_FLAME_NODES) > DASHBOARD_FLAME_NODES)
		min *= 2;
	obj = json_object_new_object();
	o = (struct flame_out){ json_object_new_array(), json_object_new_array(),
		json_object_new_array(), json_object_new_array(), json_object_new_array(),
		json_object_new_array() };
	if (obj && o.name && o.value && o.depth && o.type && o.src && o.module && t.n[0].bytes > 0)
		flame_emit(&t, 0, 0, min, &o);
	json__add(obj, "name", o.name);
	json__add(obj, "value", o.value);
	json__add(obj, "depth", o.depth);
	json__add(obj, "type", o.type);
	json__add(obj, "src", o.src);
	json__add(obj, "module", o.module);
	json__add(obj, "min_bytes", json_object_new_int64(min));
	flametree__free(&t);
	return obj;
}

int dashboard__render(const struct report *r, json_object *report, const struct history *h,
		      const struct tracer_self *self, double interval_s, uint64_t seq,
		      char **buf, size_t *len)
{
	json_object *root = json_report__build(r, DASHBOARD_TOP_STACKS, analysis__to_json);
	const char *text;
	size_t n;
	char *copy;

	if (!root)
		return -ENOMEM;
	analysis__report_to_json(r, root);
	pass_through(r, root, report);
	json__add(root, "seq", json_object_new_uint64(seq));
	json__add(root, "interval_s", json_object_new_double(interval_s));
	json__add(root, "stacks_shown", json_object_new_int64(
		(int64_t)(r->nr_stacks < DASHBOARD_TOP_STACKS ? r->nr_stacks : DASHBOARD_TOP_STACKS)));
	json__add(root, "rates", rates_obj(h));
	json__add(root, "self", self_obj(self));
	json__add(root, "history", history_obj(r, h));
	json__add(root, "flame", flame_obj(r));
	text = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	copy = text ? malloc(n + 1) : NULL;
	if (copy)
		memcpy(copy, text, n + 1);
	json_object_put(root);
	if (!copy)
		return -ENOMEM;
	*buf = copy;
	*len = n;
	return 0;
}

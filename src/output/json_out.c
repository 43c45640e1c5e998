// SPDX-License-Identifier: MIT
/* json_out.c - a report as JSON (json-c). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "output/json_out.h"
#include "common/version.h"

void json__add(json_object *o, const char *k, json_object *v)
{
	if (json_object_object_add(o, k, v))
		json_object_put(v);
}

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *age_or_null(double v)
{
	return v >= 0 ? json_object_new_double(v) : NULL;
}

static json_object *frame_obj(const struct frame *f)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "ip", json_object_new_uint64(f->ip));
	json_object_object_add(o, "module", str_or_null(f->module));
	json_object_object_add(o, "offset",
			       f->module ? json_object_new_int64((int64_t)f->offset) : NULL);
	json_object_object_add(o, "function", str_or_null(f->function));
	json_object_object_add(o, "file", str_or_null(f->file));
	json_object_object_add(o, "line", f->line > 0 ? json_object_new_int(f->line) : NULL);
	json_object_object_add(o, "inlined", json_object_new_boolean(f->inlined));
	json_object_object_add(o, "build_id", str_or_null(f->build_id));
	json_object_object_add(o, "system_name", str_or_null(f->system_name));
	if (f->kernel)
		json_object_object_add(o, "kernel", json_object_new_boolean(true));
	return o;
}

static json_object *bytes_or_null(int64_t v)
{
	return v >= 0 ? json_object_new_int64(v) : NULL;
}

/* --kernel: what was traced, and /proc/meminfo's kernel memory. */
static void add_kernel(json_object *o, const struct report *r)
{
	const struct kernel_view *k = &r->kernel;
	json_object *v = json_object_new_object();

	json_object_object_add(o, "scope", json_object_new_string(trace_scope_name(r->scope)));
	if (!v)
		return;
	json_object_object_add(v, "slab_bytes", bytes_or_null(k->slab_bytes));
	json_object_object_add(v, "sunreclaim_bytes", bytes_or_null(k->sunreclaim_bytes));
	json_object_object_add(v, "percpu_bytes", bytes_or_null(k->percpu_bytes));
	json_object_object_add(v, "slab_delta_bytes", json_object_new_int64(k->slab_delta));
	json_object_object_add(v, "sunreclaim_delta_bytes", json_object_new_int64(k->sunreclaim_delta));
	json_object_object_add(v, "percpu_delta_bytes", json_object_new_int64(k->percpu_delta));
	json_object_object_add(v, "slab_growth_bytes_per_s",
			       json_object_new_double(k->slab_growth_bytes_per_s));
	json_object_object_add(v, "sunreclaim_growth_bytes_per_s",
			       json_object_new_double(k->sunreclaim_growth_bytes_per_s));
	json_object_object_add(v, "percpu_growth_bytes_per_s",
			       json_object_new_double(k->percpu_growth_bytes_per_s));
	json_object_object_add(o, "kernel", v);
}

json_object *json_stack__build(const struct report *r, const struct stack_report *s,
			      json_stack_hook hook)
{
	json_object *o = json_object_new_object(), *frames = json_object_new_array();
	char id[24];

	if (!o || !frames) {
		json_object_put(o);
		json_object_put(frames);
		return NULL;
	}
	snprintf(id, sizeof(id), "%016" PRIx64, s->stack_id);
	json_object_object_add(o, "kind", json_object_new_string(alloc_kind_name(s->kind)));
	if (s->cache)
		json_object_object_add(o, "cache", json_object_new_string(s->cache));
	json_object_object_add(o, "outstanding_bytes", json_object_new_int64(s->outstanding_bytes));
	json_object_object_add(o, "outstanding_allocs", json_object_new_int64(s->outstanding_allocs));
	json_object_object_add(o, "alloc_calls", json_object_new_int64((int64_t)s->alloc_calls));
	json_object_object_add(o, "alloc_bytes", json_object_new_int64((int64_t)s->alloc_bytes));
	json_object_object_add(o, "oldest_age_s", age_or_null(s->oldest_age_s));
	json_object_object_add(o, "free_calls", json_object_new_int64((int64_t)s->free_calls));
	json_object_object_add(o, "free_bytes", json_object_new_int64((int64_t)s->free_bytes));
	json_object_object_add(o, "mean_age_s", age_or_null(s->mean_age_s));
	json_object_object_add(o, "stack_id", json_object_new_string(id));
	json_object_object_add(o, "truncated",
			       json_object_new_boolean(s->flags & STACK_F_TRUNCATED));
	json_object_object_add(o, "unwind_error",
			       json_object_new_boolean(s->flags & STACK_F_UNWIND_ERROR));
	if (s->nr_frames) {
		for (size_t i = 0; i < s->nr_frames; i++)
			json_object_array_add(frames, frame_obj(&s->frames[i]));
	} else {
		for (uint32_t i = 0; i < s->nr_ips; i++) {
			struct frame f = { .ip = s->ips[i] };

			json_object_array_add(frames, frame_obj(&f));
		}
	}
	json_object_object_add(o, "frames", frames);
	if (hook)
		hook(r, s, o);
	return o;
}

/* [{"module", "build_id", "error"}] of the binaries without an unwind table. */
static json_object *unwind_failures_array(const struct report *r)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < r->nr_unwind_failures; i++) {
		const struct unwind_failure *f = &r->unwind_failures[i];
		json_object *o = json_object_new_object();

		if (!o)
			break;
		json_object_object_add(o, "module", json_object_new_string(f->module));
		json_object_object_add(o, "build_id", str_or_null(f->build_id[0] ? f->build_id : NULL));
		json_object_object_add(o, "error", json_object_new_string(strerror(-f->err)));
		json_object_array_add(a, o);
	}
	return a;
}

/* "maps": the memory and fill of the BPF maps (struct map_usage). */
static json_object *maps_to_json(const struct map_usage *m)
{
	json_object *o = json_object_new_object();

	json__add(o, "memory_bytes", json_object_new_int64((int64_t)m->memory_bytes));
	json__add(o, "allocs_memory_bytes", json_object_new_int64((int64_t)m->allocs_memory_bytes));
	json__add(o, "allocs_capacity", json_object_new_int64((int64_t)m->allocs_capacity));
	json__add(o, "allocs_max", json_object_new_int64((int64_t)m->allocs_max));
	json__add(o, "allocs_live", json_object_new_int64((int64_t)m->allocs_live));
	json__add(o, "allocs_grows", json_object_new_int64((int64_t)m->allocs_grows));
	json__add(o, "stacks_memory_bytes", json_object_new_int64((int64_t)m->stacks_memory_bytes));
	json__add(o, "aggs_memory_bytes", json_object_new_int64((int64_t)m->aggs_memory_bytes));
	json__add(o, "aggs_capacity", json_object_new_int64((int64_t)m->aggs_capacity));
	return o;
}

/* "kernel_paths": the kernel's release and the paths memtrace takes on it. */
static json_object *paths_to_json(const struct report_paths *k)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "release", json_object_new_string(k->release));
	json_object_object_add(o, "uprobes",
			       json_object_new_string(k->uprobe_multi ? "uprobe_multi" : "perf_event"));
	json_object_object_add(o, "uprobe_session", json_object_new_boolean(k->uprobe_session));
	json_object_object_add(o, "fallbacks", json_object_new_int((int)k->fallbacks));
	json_object_object_add(o, "missing", json_object_new_string(k->missing));
	return o;
}

json_object *json_report__build(const struct report *r, int top, json_stack_hook hook)
{
	json_object *o = json_object_new_object();
	json_object *t = json_object_new_object(), *d = json_object_new_object();
	json_object *stacks = json_object_new_array();
	size_t n = r->nr_stacks;

	if (!o || !t || !d || !stacks) {
		json_object_put(o);
		json_object_put(t);
		json_object_put(d);
		json_object_put(stacks);
		return NULL;
	}
	if (top > 0 && (size_t)top < n)
		n = (size_t)top;
	json_object_object_add(o, "version", json_object_new_string(version__string()));
	json_object_object_add(o, "pid", json_object_new_int(r->pid));
	json_object_object_add(o, "comm", json_object_new_string(r->comm));
	json_object_object_add(o, "time", json_object_new_double(r->time));
	json_object_object_add(o, "elapsed_s", json_object_new_double(r->elapsed_s));
	json_object_object_add(o, "final", json_object_new_boolean(r->final));
	json_object_object_add(o, "tracking", json_object_new_string("allocations made after attach"));
	json_object_object_add(o, "sample_bytes", json_object_new_int64((int64_t)r->sample_bytes));
	json_object_object_add(o, "unwind",
			       json_object_new_string(r->unwind == UNWIND_DWARF ? "dwarf" : "fp"));
	json_object_object_add(o, "exec_count", json_object_new_int((int)r->exec_count));
	json_object_object_add(o, "forked_children",
			       json_object_new_int64((int64_t)r->totals.counters[CNT_FORKS]));
	if (r->scope != SCOPE_USER)
		add_kernel(o, r);
	if (r->paths.release[0])
		json_object_object_add(o, "kernel_paths", paths_to_json(&r->paths));
	if (r->maps.memory_bytes)
		json_object_object_add(o, "maps", maps_to_json(&r->maps));

	json_object_object_add(t, "outstanding_bytes", json_object_new_int64(r->totals.outstanding_bytes));
	json_object_object_add(t, "outstanding_allocs", json_object_new_int64(r->totals.outstanding_allocs));
	json_object_object_add(t, "alloc_calls", json_object_new_int64((int64_t)r->totals.alloc_calls));
	json_object_object_add(t, "free_calls", json_object_new_int64((int64_t)r->totals.free_calls));
	json_object_object_add(t, "dropped_events", json_object_new_int64((int64_t)r->totals.dropped_events));
	json_object_object_add(t, "unmatched_frees", json_object_new_int64((int64_t)r->totals.unmatched_frees));
	json_object_object_add(t, "unwind_failures", json_object_new_int64((int64_t)r->totals.unwind_failed));
	json_object_object_add(t, "truncated_stacks", json_object_new_int64((int64_t)r->totals.truncated_stacks));
	json_object_object_add(t, "stacks", json_object_new_int64((int64_t)r->nr_stacks));
	json_object_object_add(t, "fp_fallback_frames", json_object_new_int64((int64_t)r->totals.fp_fallback_frames));
	json_object_object_add(t, "probe_hits",
			       json_object_new_int64((int64_t)r->totals.counters[CNT_PROBE_HITS]));
	json_object_object_add(t, "alloc_entry_hits",
			       json_object_new_int64((int64_t)r->totals.counters[CNT_ALLOC_ENTRIES]));
	json_object_object_add(t, "alloc_return_hits",
			       json_object_new_int64((int64_t)r->totals.counters[CNT_ALLOC_RETURNS]));
	json_object_object_add(t, "sampled_out",
			       json_object_new_int64((int64_t)r->totals.counters[CNT_SAMPLED_OUT]));
	json_object_object_add(t, "stack_walks", json_object_new_int64((int64_t)r->totals.stack_walks));
	json_object_object_add(t, "stack_walks_skipped",
			       json_object_new_int64((int64_t)r->totals.stack_walks_skipped));
	json_object_object_add(t, "unwind_rows", json_object_new_int64((int64_t)r->totals.unwind_rows));
	json_object_object_add(t, "unwind_rows_max", json_object_new_int64((int64_t)r->totals.unwind_rows_max));
	json_object_object_add(t, "unwind_tables", json_object_new_int64((int64_t)r->totals.unwind_tables));
	json_object_object_add(t, "unwind_no_table", json_object_new_int64((int64_t)r->totals.unwind_no_table));
	json_object_object_add(t, "unwind_table_failures", unwind_failures_array(r));
	for (int i = 0; i < DROP_MAX; i++)
		json_object_object_add(d, drop_name(i), json_object_new_int64((int64_t)r->totals.drops[i]));
	json_object_object_add(t, "drops", d);
	json_object_object_add(o, "totals", t);

	for (size_t i = 0; i < n; i++) {
		json_object *s = json_stack__build(r, &r->stacks[i], hook);

		if (s)
			json_object_array_add(stacks, s);
	}
	json_object_object_add(o, "stacks", stacks);
	return o;
}

int json_report__write(const struct report *r, int top, json_stack_hook hook, FILE *f)
{
	json_object *o = json_report__build(r, top, hook);
	const char *s;
	int err = 0;

	if (!o)
		return -ENOMEM;
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (fprintf(f, "%s\n", s) < 0 || fflush(f))
		err = -EIO;
	json_object_put(o);
	return err;
}

// SPDX-License-Identifier: MIT
/* metrics.c - Prometheus text exposition of a report (see metrics.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output/collapsed.h"
#include "output/metrics.h"
#include "output/system_out.h"
#include "common/util.h"
#include "common/version.h"

static const char *const map_names[TRACER_MAP_MAX] = {
	[TRACER_MAP_ALLOCS] = "allocs",
	[TRACER_MAP_STACKS] = "stacks",
	[TRACER_MAP_AGGS] = "aggs",
	[TRACER_MAP_MMAPS] = "mmaps",
	[TRACER_MAP_ENTRIES] = "entries",
};

const char *tracer_map_name(unsigned int map)
{
	return map < TRACER_MAP_MAX && map_names[map] ? map_names[map] : "unknown";
}

/*
 * The drop reason's label: the report's name of it (drop_name) without
 * "_map" ("allocs_map_full" is "allocs_full"), which the metrics have
 * always said; one table of names serves both.
 */
static void put_drop_label(FILE *f, unsigned int reason)
{
	const char *name = drop_name(reason);
	const char *map = strstr(name, "_map_");

	if (map)
		fprintf(f, "%.*s%s", (int)(map - name), name, map + strlen("_map"));
	else
		fputs(name, f);
}

void tracer_self__init(struct tracer_self *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < TRACER_MAP_MAX; i++)
		s->map_fill[i] = -1;
	s->report_latency_s = -1;
}

/* Copy src into dst as valid UTF-8 (bad bytes -> '?'), whole characters only. */
static void utf8_copy(char *dst, size_t size, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0;

	while (*p) {
		size_t n = utf8__seq_len(p);

		if (o + (n ? n : 1) >= size)
			break;
		if (!n) {
			dst[o++] = '?';
			p++;
			continue;
		}
		memcpy(dst + o, p, n);
		o += n;
		p += n;
	}
	dst[o] = 0;
}

const char *metrics__stack_signature(const struct stack_report *s, char *buf, size_t size)
{
	char name[256], sig[512];

	if (s->nr_frames) {
		const struct frame *leaf = &s->frames[0];
		const char *n = frame__name(leaf, name, sizeof(name));

		if (leaf->function && leaf->module)
			snprintf(sig, sizeof(sig), "%s@%s", n, frame__module_base(leaf->module));
		else
			snprintf(sig, sizeof(sig), "%s", n);
	} else if (s->nr_ips) {
		snprintf(sig, sizeof(sig), "0x%" PRIx64, s->ips[0]);
	} else {
		snprintf(sig, sizeof(sig), "?");
	}
	utf8_copy(buf, size, sig);
	return buf;
}

/* A label value, escaped as the text format wants. */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			putc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			putc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_value(FILE *f, double v)
{
	if (v == (double)(int64_t)v && v < 9e15 && v > -9e15)
		fprintf(f, " %" PRId64 "\n", (int64_t)v);
	else
		fprintf(f, " %.17g\n", v);
}

static void sample(FILE *f, const char *name, double v)
{
	fputs(name, f);
	put_value(f, v);
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
	family(f, name, "gauge", help);
	sample(f, name, v);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* Per-stack labels, precomputed once per render. */
struct stack_labels {
	/* escaping at most doubles the signature, and the category name */
	char text[4 * METRICS_LABEL_MAX + 2 * 64 + 16];
};

static void stack_sample(FILE *f, const char *name, const struct stack_labels *l, double v)
{
	fprintf(f, "%s{%s}", name, l->text);
	put_value(f, v);
}

static void make_labels(const struct report *r, const struct stack_report *s,
			struct stack_labels *l)
{
	char sig[METRICS_LABEL_MAX];
	FILE *m = fmemopen(l->text, sizeof(l->text), "w");

	if (!m) {
		snprintf(l->text, sizeof(l->text), "stack_id=\"0x%" PRIx64 "\"", s->stack_id);
		return;
	}
	fprintf(m, "stack_id=\"0x%" PRIx64 "\",kind=\"%s\",", s->stack_id,
		alloc_kind_name(s->kind));
	/* bounded: at most CATEGORIES_MAX + 1 names of at most 63 bytes */
	if (s->category >= 0 && (size_t)s->category < r->nr_categories) {
		fputs("category=\"", m);
		put_label(m, r->categories[s->category].name);
		fputs("\",", m);
	}
	fputs("stack=\"", m);
	put_label(m, metrics__stack_signature(s, sig, sizeof(sig)));
	putc('"', m);
	putc(0, m);
	fclose(m);
}

static int render_stacks(FILE *f, const struct report *r, size_t top)
{
	struct stack_labels *l = calloc(top + 1, sizeof(*l));
	int64_t other_bytes = 0, other_allocs = 0;

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < top; i++)
		make_labels(r, &r->stacks[i], &l[i]);
	family(f, "memtrace_stack_outstanding_bytes", "gauge",
	       "Bytes allocated at this stack and not freed (top stacks only).");
	for (size_t i = 0; i < top; i++)
		stack_sample(f, "memtrace_stack_outstanding_bytes", &l[i],
			     (double)r->stacks[i].outstanding_bytes);
	family(f, "memtrace_stack_outstanding_allocations", "gauge",
	       "Allocations made at this stack and not freed (top stacks only).");
	for (size_t i = 0; i < top; i++)
		stack_sample(f, "memtrace_stack_outstanding_allocations", &l[i],
			     (double)r->stacks[i].outstanding_allocs);
	family(f, "memtrace_stack_allocated_bytes_total", "counter",
	       "Bytes ever allocated at this stack (top stacks only).");
	for (size_t i = 0; i < top; i++)
		stack_sample(f, "memtrace_stack_allocated_bytes_total", &l[i],
			     (double)r->stacks[i].alloc_bytes);
	family(f, "memtrace_stack_growth_bytes_per_second", "gauge",
	       "Fitted growth of this stack's outstanding bytes (analysed top stacks only).");
	for (size_t i = 0; i < top; i++)
		if (r->stacks[i].analysed)
			stack_sample(f, "memtrace_stack_growth_bytes_per_second", &l[i],
				     r->stacks[i].growth_bytes_per_s);
	family(f, "memtrace_stack_severity", "gauge",
	       "Leak severity of this stack: 0 none, 1 low, 2 medium, 3 high, 4 critical.");
	for (size_t i = 0; i < top; i++)
		if (r->stacks[i].analysed)
			stack_sample(f, "memtrace_stack_severity", &l[i], r->stacks[i].severity);
	family(f, "memtrace_stack_oldest_age_seconds", "gauge",
	       "Age of the oldest outstanding allocation of this stack (top stacks only).");
	for (size_t i = 0; i < top; i++)
		if (r->stacks[i].oldest_age_s >= 0)
			stack_sample(f, "memtrace_stack_oldest_age_seconds", &l[i],
				     r->stacks[i].oldest_age_s);
	for (size_t i = top; i < r->nr_stacks; i++) {
		other_bytes += r->stacks[i].outstanding_bytes;
		other_allocs += r->stacks[i].outstanding_allocs;
	}
	gauge(f, "memtrace_stack_other_outstanding_bytes",
	      "Outstanding bytes of the stacks outside the top ones.", (double)other_bytes);
	gauge(f, "memtrace_stack_other_outstanding_allocations",
	      "Outstanding allocations of the stacks outside the top ones.", (double)other_allocs);
	gauge(f, "memtrace_stack_other_stacks", "Stacks outside the top ones.",
	      (double)(r->nr_stacks - top));
	free(l);
	return 0;
}

/* --kernel: /proc/meminfo's kernel memory and its change since the start. */
static void render_kernel(FILE *f, const struct kernel_view *k)
{
	const struct { const char *name, *help; int64_t v; double g; } m[] = {
		{ "slab", "Slab (/proc/meminfo)", k->slab_bytes, k->slab_growth_bytes_per_s },
		{ "sunreclaim", "SUnreclaim (/proc/meminfo)", k->sunreclaim_bytes,
		  k->sunreclaim_growth_bytes_per_s },
		{ "percpu", "Percpu (/proc/meminfo)", k->percpu_bytes, k->percpu_growth_bytes_per_s },
	};
	char name[64], help[96];

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (m[i].v < 0)
			continue;
		snprintf(name, sizeof(name), "memtrace_kernel_%s_bytes", m[i].name);
		snprintf(help, sizeof(help), "Kernel memory: %s.", m[i].help);
		gauge(f, name, help, (double)m[i].v);
		snprintf(name, sizeof(name), "memtrace_kernel_%s_growth_bytes_per_second", m[i].name);
		snprintf(help, sizeof(help), "Change of %s since the start, per second.", m[i].help);
		gauge(f, name, help, m[i].g);
	}
}

/* Which memtrace serves the metrics (every mode). */
static void render_build(FILE *f)
{
	family(f, "memtrace_build_info", "gauge", "The memtrace build; always 1.");
	fprintf(f, "memtrace_build_info{version=\"");
	put_label(f, version__string());
	fprintf(f, "\"} 1\n");
}

static void render_report(FILE *f, const struct report *r)
{
	const struct totals *t = &r->totals;
	double growth = 0;

	family(f, "memtrace_info", "gauge", "The traced process; always 1.");
	fprintf(f, "memtrace_info{pid=\"%d\",comm=\"", r->pid);
	{
		char raw[sizeof(r->comm) + 1], comm[sizeof(r->comm) + 1];

		memcpy(raw, r->comm, sizeof(r->comm));
		raw[sizeof(r->comm)] = 0;
		utf8_copy(comm, sizeof(comm), raw);
		put_label(f, comm);
	}
	fprintf(f, "\",unwind=\"%s\",mode=\"%s\"} 1\n", r->unwind == UNWIND_DWARF ? "dwarf" : "fp",
		r->sample_bytes ? "sampled" : "full");
	gauge(f, "memtrace_report_timestamp_seconds", "When the last report was taken (unix time).",
	      r->time);
	gauge(f, "memtrace_elapsed_seconds", "Seconds since tracing went live.", r->elapsed_s);
	gauge(f, "memtrace_sample_bytes", "Mean bytes between samples; 0 = every allocation traced.",
	      (double)r->sample_bytes);
	gauge(f, "memtrace_outstanding_bytes", "Bytes allocated and not freed, all stacks.",
	      (double)t->outstanding_bytes);
	gauge(f, "memtrace_outstanding_allocations", "Allocations not freed, all stacks.",
	      (double)t->outstanding_allocs);
	gauge(f, "memtrace_stacks", "Distinct (stack, kind) pairs in the report.", (double)r->nr_stacks);
	counter(f, "memtrace_allocations_total", "Allocations accounted.", t->alloc_calls);
	counter(f, "memtrace_frees_total", "Frees that released tracked memory.", t->free_calls);
	counter(f, "memtrace_unmatched_frees_total",
		"Frees of memory not tracked (allocated before attach).", t->unmatched_frees);
	family(f, "memtrace_dropped_events_total", "counter",
	       "Events not accounted, by reason; numbers are underestimates while this grows.");
	for (int i = 0; i < DROP_MAX; i++) {
		fputs("memtrace_dropped_events_total{reason=\"", f);
		put_drop_label(f, i);
		fprintf(f, "\"} %" PRIu64 "\n", t->drops[i]);
	}
	counter(f, "memtrace_unwind_failed_total", "Stacks whose walk stopped on an error.",
		t->unwind_failed ? t->unwind_failed : t->counters[CNT_UNWIND_FAILED]);
	counter(f, "memtrace_truncated_stacks_total", "Stacks cut at the maximum depth.",
		t->truncated_stacks ? t->truncated_stacks : t->counters[CNT_UNWIND_TRUNCATED]);
	counter(f, "memtrace_sampled_out_total", "Allocations skipped by byte sampling.",
		t->counters[CNT_SAMPLED_OUT]);
	for (size_t i = 0; i < r->nr_stacks; i++)
		if (r->stacks[i].analysed)
			growth += r->stacks[i].growth_bytes_per_s;
	gauge(f, "memtrace_growth_bytes_per_second",
	      "Sum of the fitted growth of all analysed stacks.", growth);
	gauge(f, "memtrace_severity",
	      "Worst leak severity: 0 none, 1 low, 2 medium, 3 high, 4 critical.", r->worst);
	if (r->proc.rss_bytes >= 0) {
		gauge(f, "memtrace_rss_bytes", "Resident set size of the process.",
		      (double)r->proc.rss_bytes);
		gauge(f, "memtrace_rss_growth_bytes_per_second", "Fitted growth of the RSS.",
		      r->proc.rss_growth_bytes_per_s);
	}
	if (r->proc.heap_bytes >= 0) {
		gauge(f, "memtrace_heap_bytes", "Heap and private anonymous memory of the process.",
		      (double)r->proc.heap_bytes);
		gauge(f, "memtrace_heap_growth_bytes_per_second", "Fitted growth of the heap.",
		      r->proc.heap_growth_bytes_per_s);
	}
	if (r->scope != SCOPE_USER)
		render_kernel(f, &r->kernel);
}

/* Per category (a bounded set: categories.h). */
static void render_categories(FILE *f, const struct report *r)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "memtrace_category_outstanding_bytes", "gauge",
		  "Bytes allocated and not freed, by category." },
		{ "memtrace_category_outstanding_allocations", "gauge",
		  "Allocations not freed, by category." },
		{ "memtrace_category_growth_bytes_per_second", "gauge",
		  "Fitted growth of the category's outstanding bytes (0 when not rated)." },
		{ "memtrace_category_severity", "gauge",
		  "Leak severity of the category: 0 none .. 4 critical." },
		{ "memtrace_category_peak_bytes", "gauge", "Highest outstanding bytes seen." },
	};

	if (!r->nr_categories)
		return;
	for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
		family(f, fam[k].name, fam[k].type, fam[k].help);
		for (size_t i = 0; i < r->nr_categories; i++) {
			const struct category_report *c = &r->categories[i];
			double v[] = { (double)c->outstanding_bytes, (double)c->outstanding_allocs,
				       c->growth_bytes_per_s, c->severity, (double)c->peak_bytes };

			fprintf(f, "%s{category=\"", fam[k].name);
			put_label(f, c->name);
			fputs("\"}", f);
			put_value(f, v[k]);
		}
	}
}

static void render_self(FILE *f, const struct report *r, const struct tracer_self *s)
{
	counter(f, "memtrace_probe_hits_total", "BPF program invocations for the target.",
		s->probe_hits ? s->probe_hits : r->totals.counters[CNT_PROBE_HITS]);
	family(f, "memtrace_map_fill_ratio", "gauge", "BPF map entries in use / capacity.");
	for (int i = 0; i < TRACER_MAP_MAX; i++)
		if (s->map_fill[i] >= 0)	/* --system: one table, of processes */
			fprintf(f, "memtrace_map_fill_ratio{map=\"%s\"} %.6g\n",
				r->system ? "procs" : map_names[i], s->map_fill[i]);
	if (r->maps.memory_bytes) {
		gauge(f, "memtrace_map_memory_bytes",
		      "Memory the kernel charges for memtrace's BPF maps (memlock).",
		      (double)r->maps.memory_bytes);
		gauge(f, "memtrace_allocs_table_slots",
		      "Slots of the live allocations table (it grows with use).",
		      (double)r->maps.allocs_capacity);
		gauge(f, "memtrace_allocs_table_max_slots",
		      "Slots the live allocations table may grow to (--max-allocs).",
		      (double)r->maps.allocs_max);
		counter(f, "memtrace_allocs_table_grows_total",
			"Live allocations tables replaced by larger ones.", r->maps.allocs_grows);
	}
	if (s->report_latency_s >= 0)
		gauge(f, "memtrace_report_latency_seconds",
		      "Time to build the last report: collect, symbolize, analyse.",
		      s->report_latency_s);
	counter(f, "memtrace_reports_total", "Reports built since start.", s->reports);
	counter(f, "memtrace_symbolize_failures_total", "Frames the symbolizer could not name.",
		s->symbolize_failures);
}

/* One process series: NAME{pid,comm,cgroup} V. */
static void proc_sample(FILE *f, const char *name, const struct process_report *p, double v)
{
	char comm[sizeof(p->comm) + 1];

	utf8_copy(comm, sizeof(comm), p->comm);
	fprintf(f, "%s{pid=\"%d\",comm=\"", name, p->pid);
	put_label(f, comm);
	fputs("\",cgroup=\"", f);
	put_label(f, p->cgroup ? p->cgroup : "");
	fputs("\"}", f);
	put_value(f, v);
}

static const struct {
	const char *name, *help;
} proc_families[] = {
	{ "memtrace_process_rss_anon_bytes", "Anonymous resident memory of the process." },
	{ "memtrace_process_swap_bytes", "Swapped-out anonymous memory of the process." },
	{ "memtrace_process_heap_bytes", "Heap (brk) size of the process." },
	{ "memtrace_process_anon_map_bytes",
	  "Private writable mappings (VmData) of the process, less its heap." },
	{ "memtrace_process_growth_bytes_per_second",
	  "Fitted growth of anonymous resident memory plus swap." },
	{ "memtrace_process_severity",
	  "Leak severity of the process: 0 none, 1 low, 2 medium, 3 high, 4 critical." },
};

static double proc_value(const struct report *r, const struct process_report *p, size_t fam)
{
	const struct stack_report *s = &r->stacks[p->stack];

	switch (fam) {
	case 0: return (double)p->rss_anon_bytes;
	case 1: return (double)p->swap_bytes;
	case 2: return (double)p->heap_bytes;
	case 3: return (double)p->anon_map_bytes;
	case 4: return s->analysed ? s->growth_bytes_per_s : 0;
	default: return s->analysed ? (double)s->severity : 0;
	}
}

#define DEEP_STACKS_TOP	10	/* series per deep-traced process */

/* --system --deep: the top stacks of each deep trace, labelled with its pid. */
static int render_deep(FILE *f, const struct report *r)
{
	static const struct {
		const char *name, *help;
	} fams[] = {
		{ "memtrace_stack_outstanding_bytes", "Bytes allocated at this stack and not freed." },
		{ "memtrace_stack_growth_bytes_per_second", "Fitted growth of this stack." },
		{ "memtrace_stack_severity", "Leak severity of this stack: 0 none .. 4 critical." },
	};
	struct stack_labels *l = calloc(r->nr_deep * DEEP_STACKS_TOP + 1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	for (size_t d = 0; d < r->nr_deep; d++)
		for (size_t i = 0; i < r->deep[d]->nr_stacks && i < DEEP_STACKS_TOP; i++) {
			struct stack_labels *sl = &l[d * DEEP_STACKS_TOP + i];
			int n = snprintf(sl->text, sizeof(sl->text), "pid=\"%d\",", r->deep[d]->pid);
			struct stack_labels tmp;

			make_labels(r->deep[d], &r->deep[d]->stacks[i], &tmp);
			/* the labels fit: a signature takes at most a quarter of the text */
			memcpy(sl->text + n, tmp.text,
			       strnlen(tmp.text, sizeof(sl->text) - (size_t)n - 1) + 1);
			sl->text[sizeof(sl->text) - 1] = '\0';
		}
	for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		family(f, fams[k].name, "gauge", fams[k].help);
		for (size_t d = 0; d < r->nr_deep; d++) {
			const struct report *dr = r->deep[d];

			for (size_t i = 0; i < dr->nr_stacks && i < DEEP_STACKS_TOP; i++) {
				const struct stack_report *st = &dr->stacks[i];

				if (k && !st->analysed)
					continue;
				stack_sample(f, fams[k].name, &l[d * DEEP_STACKS_TOP + i],
					     k == 0 ? (double)st->outstanding_bytes :
					     k == 1 ? st->growth_bytes_per_s : (double)st->severity);
			}
		}
	}
	free(l);
	return 0;
}

/* --system: the top processes by growth, the rest summed as "other". */
static int render_system(FILE *f, const struct report *r, size_t top)
{
	size_t *order = calloc(r->nr_processes + 1, sizeof(*order));
	size_t n;
	double other = 0;

	if (!order)
		return -ENOMEM;
	n = system_out__order(r, order, top);
	for (size_t fam = 0; fam < sizeof(proc_families) / sizeof(proc_families[0]); fam++) {
		family(f, proc_families[fam].name, "gauge", proc_families[fam].help);
		for (size_t i = 0; i < n; i++) {
			const struct process_report *p = &r->processes[order[i]];
			double v = proc_value(r, p, fam);

			if (fam < 4 && v < 0)
				continue;	/* unknown */
			proc_sample(f, proc_families[fam].name, p, v);
		}
	}
	for (size_t i = n; i < r->nr_processes; i++)
		other += (double)(r->processes[order[i]].rss_anon_bytes > 0 ?
				  r->processes[order[i]].rss_anon_bytes : 0);
	gauge(f, "memtrace_process_other_rss_anon_bytes",
	      "Anonymous resident memory of the processes beyond --metrics-top, summed.", other);
	family(f, "memtrace_processes", "gauge", "Processes shown: with series, and summed as other.");
	fprintf(f, "memtrace_processes{state=\"tracked\"} %zu\n", n);
	fprintf(f, "memtrace_processes{state=\"other\"} %zu\n", r->nr_processes - n);
	gauge(f, "memtrace_severity",
	      "Worst leak severity: 0 none, 1 low, 2 medium, 3 high, 4 critical.", r->worst);
	counter(f, "memtrace_sweep_events_total", "Tracepoint hits of the sweep.", r->sweep.events);
	counter(f, "memtrace_sweep_processes_seen_total", "Processes seen since start.",
		r->sweep.processes_seen);
	counter(f, "memtrace_sweep_processes_exited_total", "Processes gone since start.",
		r->sweep.processes_exited);
	family(f, "memtrace_dropped_events_total", "counter",
	       "Events not accounted; numbers are underestimates while this grows.");
	fprintf(f, "memtrace_dropped_events_total{reason=\"sweep\"} %" PRIu64 "\n",
		r->totals.dropped_events);
	family(f, "memtrace_bpf_run_time_seconds_total", "counter",
	       "Time the sweep's BPF programs ran in the kernel.");
	fprintf(f, "memtrace_bpf_run_time_seconds_total %.9f\n", r->sweep.bpf_run_time_ns / 1e9);
	if (r->nr_deep && render_deep(f, r)) {
		free(order);
		return -ENOMEM;
	}
	gauge(f, "memtrace_report_timestamp_seconds", "When the last report was taken (unix time).",
	      r->time);
	gauge(f, "memtrace_elapsed_seconds", "Seconds since tracing went live.", r->elapsed_s);
	free(order);
	return 0;
}

int metrics__render(const struct report *r, const struct tracer_self *self, size_t top_n,
		    char **buf, size_t *len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	size_t top;
	int err;

	if (!f)
		return -ENOMEM;
	if (!top_n)
		top_n = METRICS_TOP_STACKS;
	top = r->nr_stacks < top_n ? r->nr_stacks : top_n;
	render_build(f);
	if (r->system) {
		err = render_system(f, r, top_n);
	} else {
		render_report(f, r);
		render_categories(f, r);
		err = render_stacks(f, r, top);
	}
	if (self)
		render_self(f, r, self);
	if (err || ferror(f)) {
		fclose(f);
		free(text);
		return -ENOMEM;
	}
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	*buf = text;
	*len = size;
	return 0;
}

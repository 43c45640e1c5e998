// SPDX-License-Identifier: MIT
/* system_out.c - a host-wide sweep as text and JSON (system_out.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/analysis.h"
#include "common/version.h"
#include "output/analysis_out.h"
#include "output/json_out.h"
#include "output/system_out.h"
#include "output/text.h"

static const struct report *order_r;	/* qsort context (single-threaded writers) */

static int cmp_proc(const void *a, const void *b)
{
	const struct process_report *x = &order_r->processes[*(const size_t *)a];
	const struct process_report *y = &order_r->processes[*(const size_t *)b];
	const struct stack_report *sx = &order_r->stacks[x->stack];
	const struct stack_report *sy = &order_r->stacks[y->stack];

	if (sx->growth_bytes_per_s != sy->growth_bytes_per_s)
		return sx->growth_bytes_per_s > sy->growth_bytes_per_s ? -1 : 1;
	if (sx->severity != sy->severity)
		return sx->severity > sy->severity ? -1 : 1;
	if (sx->outstanding_bytes != sy->outstanding_bytes)
		return sx->outstanding_bytes > sy->outstanding_bytes ? -1 : 1;
	return x->pid - y->pid;
}

size_t system_out__order(const struct report *r, size_t *order, size_t max)
{
	size_t n = r->nr_processes;

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	order_r = r;
	qsort(order, n, sizeof(*order), cmp_proc);
	return n < max ? n : max;
}

static const char *bytes_or_dash(int64_t v, char *buf, size_t len)
{
	if (v < 0)
		return "-";
	return text__bytes(v, buf, len);
}

/* The process a suspect stack stands for, NULL if none. */
static const struct process_report *suspect_process(const struct report *r)
{
	if (r->suspect < 0)
		return NULL;
	for (size_t i = 0; i < r->nr_processes; i++)
		if (r->processes[i].stack == (size_t)r->suspect)
			return &r->processes[i];
	return NULL;
}

static void print_verdict(const struct report *r, FILE *f)
{
	const struct process_report *p = suspect_process(r);
	char a[32];

	if (!p) {
		fprintf(f, "Verdict: OK\n");
		return;
	}
	const struct stack_report *s = &r->stacks[p->stack];

	fprintf(f, "Verdict: POSSIBLE LEAK: pid %d (%s)%s%s: %s, %+.1f MB/h (%+.0f B/s), fit r2 %.2f, "
		"%s anon+swap\n", p->pid, p->comm, *p->cgroup ? " in " : "", p->cgroup,
		severity_name(s->severity), s->growth_bytes_per_s / MB_PER_H,
		s->growth_bytes_per_s, s->growth_r2, text__bytes(s->outstanding_bytes, a, sizeof(a)));
}

#define FAULT_STACKS_SHOWN	3	/* per process, in text */

/* Where the processes shown first touched memory (sampled faults). */
static void print_fault_stacks(const struct report *r, const size_t *order, size_t n, FILE *f)
{
	fprintf(f, "First-touch stacks (1 in %u page faults sampled; %" PRIu64 " of %" PRIu64
		" faults):\n", r->sweep.fault_sample, r->sweep.fault_samples, r->sweep.faults);
	for (size_t i = 0; i < n; i++) {
		const struct process_report *p = &r->processes[order[i]];

		for (size_t j = 0; j < p->nr_fault_stacks && j < FAULT_STACKS_SHOWN; j++) {
			const struct stack_report *st = &p->fault_stacks[j];
			char label[512], b[32];

			fprintf(f, "  %7d %-15s ~%10s in ~%" PRId64 " faults  %s\n", p->pid, p->comm,
				text__bytes(st->outstanding_bytes, b, sizeof(b)), st->outstanding_allocs,
				analysis__stack_label(st, ANALYSIS_LABEL_DEPTH, label, sizeof(label)));
		}
	}
}

int system_text__write(const struct report *r, int top, FILE *f)
{
	size_t *order = calloc(r->nr_processes + 1, sizeof(*order));
	size_t n;
	char a[32], b[32], c[32], d[32];

	if (!order)
		return -ENOMEM;
	n = system_out__order(r, order, top > 0 ? (size_t)top : r->nr_processes);
	fprintf(f, "=== memtrace --system: %zu processes shown (%" PRIu64 " tracked), %.1fs%s ===\n",
		r->nr_processes, r->sweep.processes_tracked, r->elapsed_s, r->final ? ", final" : "");
	fprintf(f, "%7s  %-15s %10s %10s %10s %10s %10s  %-8s  %s\n", "PID", "COMM", "ANON",
		"SWAP", "HEAP", "ANON-MAPS", "MB/h", "SEVERITY", "CGROUP");
	for (size_t i = 0; i < n; i++) {
		const struct process_report *p = &r->processes[order[i]];
		const struct stack_report *s = &r->stacks[p->stack];
		char rate[24];

		if (s->analysed)
			snprintf(rate, sizeof(rate), "%+.1f", s->growth_bytes_per_s / MB_PER_H);
		else
			snprintf(rate, sizeof(rate), "-");
		fprintf(f, "%7d  %-15s %10s %10s %10s %10s %10s  %-8s  %s\n", p->pid, p->comm,
			bytes_or_dash(p->rss_anon_bytes, a, sizeof(a)),
			bytes_or_dash(p->swap_bytes, b, sizeof(b)),
			bytes_or_dash(p->heap_bytes, c, sizeof(c)),
			bytes_or_dash(p->anon_map_bytes, d, sizeof(d)), rate,
			s->analysed ? severity_name(s->severity) : "-", p->cgroup);
	}
	if (n < r->nr_processes)
		fprintf(f, "  ... %zu more\n", r->nr_processes - n);
	if (r->sweep.fault_sample)
		print_fault_stacks(r, order, n, f);
	fprintf(f, "Totals: %" PRIu64 " processes seen, %" PRIu64 " exited, %" PRIu64
		" events, %" PRIu64 " dropped events\n", r->sweep.processes_seen,
		r->sweep.processes_exited, r->sweep.events, r->totals.dropped_events);
	print_verdict(r, f);
	for (size_t i = 0; i < r->nr_deep; i++) {
		const struct report *dr = r->deep[i];

		fprintf(f, "\n--- deep trace of pid %d (%s): %.1fs%s%s ---\n", dr->pid, dr->comm,
			dr->elapsed_s, dr->final ? ", ended" : ", running",
			dr->sample_bytes ? ", sampled" : "");
		if (text_report__write(dr, top, f) || analysis__print_text(dr, f))
			break;
	}
	free(order);
	return ferror(f) ? -EIO : 0;
}

static json_object *bytes_json(int64_t v)
{
	return v >= 0 ? json_object_new_int64(v) : NULL;
}

/* --fault-stacks: a process's first-touch stacks, most sampled first. */
static json_object *fault_stacks_json(const struct report *r, const struct process_report *p)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; arr && i < p->nr_fault_stacks; i++) {
		const struct stack_report *st = &p->fault_stacks[i];
		json_object *o = json_stack__build(r, st, NULL);

		if (!o)
			continue;
		json__add(o, "samples", json_object_new_uint64(st->alloc_calls));
		json__add(o, "estimated_faults", json_object_new_int64(st->outstanding_allocs));
		json__add(o, "estimated_bytes", json_object_new_int64(st->outstanding_bytes));
		if (json_object_array_add(arr, o))
			json_object_put(o);
	}
	return arr;
}

static json_object *process_json(const struct report *r, const struct process_report *p)
{
	const struct stack_report *s = &r->stacks[p->stack];
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json__add(o, "pid", json_object_new_int(p->pid));
	json__add(o, "comm", json_object_new_string(p->comm));
	json__add(o, "cgroup", json_object_new_string(p->cgroup));
	json__add(o, "rss_anon_bytes", bytes_json(p->rss_anon_bytes));
	json__add(o, "swap_bytes", bytes_json(p->swap_bytes));
	json__add(o, "heap_bytes", bytes_json(p->heap_bytes));
	json__add(o, "anon_map_bytes", bytes_json(p->anon_map_bytes));
	json__add(o, "rss_file_bytes", bytes_json(p->rss_file_bytes));
	json__add(o, "rss_shmem_bytes", bytes_json(p->rss_shmem_bytes));
	json__add(o, "growth_bytes_per_s", s->analysed ? json_object_new_double(s->growth_bytes_per_s) : NULL);
	json__add(o, "growth_mb_per_h", s->analysed ?
	    json_object_new_double(s->growth_bytes_per_s / MB_PER_H) : NULL);
	json__add(o, "growth_r2", s->analysed ? json_object_new_double(s->growth_r2) : NULL);
	json__add(o, "severity", json_object_new_string(s->analysed ? severity_name(s->severity) : "none"));
	json__add(o, "started", json_object_new_double(p->started));
	json__add(o, "events", json_object_new_uint64(p->events));
	if (r->sweep.fault_sample)
		json__add(o, "fault_stacks", fault_stacks_json(r, p));
	return o;
}

static json_object *totals_json(const struct report *r)
{
	json_object *t = json_object_new_object();

	if (!t)
		return NULL;
	json__add(t, "processes_seen", json_object_new_uint64(r->sweep.processes_seen));
	json__add(t, "processes_exited", json_object_new_uint64(r->sweep.processes_exited));
	json__add(t, "processes_tracked", json_object_new_uint64(r->sweep.processes_tracked));
	json__add(t, "processes_shown", json_object_new_uint64(r->sweep.processes_shown));
	json__add(t, "events", json_object_new_uint64(r->sweep.events));
	json__add(t, "dropped_events", json_object_new_uint64(r->totals.dropped_events));
	json__add(t, "foreign_mm_events", json_object_new_uint64(r->sweep.foreign_mm_events));
	json__add(t, "bpf_run_time_ns", json_object_new_uint64(r->sweep.bpf_run_time_ns));
	if (r->sweep.fault_sample) {
		json__add(t, "fault_sample", json_object_new_uint64(r->sweep.fault_sample));
		json__add(t, "faults", json_object_new_uint64(r->sweep.faults));
		json__add(t, "fault_samples", json_object_new_uint64(r->sweep.fault_samples));
	}
	json__add(t, "anon_swap_bytes", json_object_new_int64(r->totals.outstanding_bytes));
	return t;
}

static json_object *verdict_json(const struct report *r)
{
	const struct process_report *p = suspect_process(r);
	json_object *v = json_object_new_object(), *s = NULL;

	if (!v)
		return NULL;
	json__add(v, "result", json_object_new_string(p ? "possible_leak" : "ok"));
	json__add(v, "worst", json_object_new_string(severity_name(r->worst)));
	if (p && (s = json_object_new_object())) {
		const struct stack_report *st = &r->stacks[p->stack];

		json__add(s, "pid", json_object_new_int(p->pid));
		json__add(s, "comm", json_object_new_string(p->comm));
		json__add(s, "cgroup", json_object_new_string(p->cgroup));
		json__add(s, "severity", json_object_new_string(severity_name(st->severity)));
		json__add(s, "growth_bytes_per_s", json_object_new_double(st->growth_bytes_per_s));
	}
	json__add(v, "suspect", s);
	return v;
}

/* The deep traces' reports, each as -f json writes a -p report. */
static json_object *deep_json(const struct report *r, int top)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; arr && i < r->nr_deep; i++) {
		json_object *d = json_report__build(r->deep[i], top, analysis__to_json);

		if (!d)
			continue;
		analysis__report_to_json(r->deep[i], d);
		if (json_object_array_add(arr, d))
			json_object_put(d);
	}
	return arr;
}

json_object *system_json__build(const struct report *r, int top)
{
	json_object *o = json_object_new_object(), *procs = json_object_new_array();
	size_t *order = calloc(r->nr_processes + 1, sizeof(*order));
	size_t n;

	if (!o || !procs || !order) {
		json_object_put(o);
		json_object_put(procs);
		free(order);
		return NULL;
	}
	n = system_out__order(r, order, top > 0 ? (size_t)top : r->nr_processes);
	json__add(o, "version", json_object_new_string(version__string()));
	json__add(o, "mode", json_object_new_string("system"));
	json__add(o, "time", json_object_new_double(r->time));
	json__add(o, "elapsed_s", json_object_new_double(r->elapsed_s));
	json__add(o, "final", json_object_new_boolean(r->final));
	for (size_t i = 0; i < n; i++) {
		json_object *p = process_json(r, &r->processes[order[i]]);

		if (p && json_object_array_add(procs, p))
			json_object_put(p);
	}
	json__add(o, "processes", procs);
	json__add(o, "totals", totals_json(r));
	json__add(o, "verdict", verdict_json(r));
	json__add(o, "deep", deep_json(r, top));
	free(order);
	return o;
}

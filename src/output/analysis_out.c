// SPDX-License-Identifier: MIT
/* analysis_out.c - text and JSON of the analysis fields of a report. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include "analysis/analysis.h"
#include "output/json_out.h"
#include "output/analysis_out.h"
#include "output/answers_out.h"
#include "output/text.h"

#define MAX_LINES	10	/* stacks listed per section */

static const char *fmt_dur(double s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (s < 1e-3)
		snprintf(buf, len, "%.0fus", s * 1e6);
	else if (s < 1)
		snprintf(buf, len, "%.1fms", s * 1e3);
	else if (s < 120)
		snprintf(buf, len, "%.1fs", s);
	else if (s < 7200)
		snprintf(buf, len, "%.1fm", s / 60);
	else
		snprintf(buf, len, "%.1fh", s / 3600);
	return buf;
}

/* qsort contexts: arrays of stack pointers. */
static int cmp_suspect(const void *a, const void *b)
{
	const struct stack_report *x = *(const struct stack_report *const *)a;
	const struct stack_report *y = *(const struct stack_report *const *)b;

	if (analysis__worse(x, y))
		return -1;
	if (analysis__worse(y, x))
		return 1;
	return x < y ? -1 : x > y;
}

static int cmp_busy(const void *a, const void *b)
{
	const struct stack_report *x = *(const struct stack_report *const *)a;
	const struct stack_report *y = *(const struct stack_report *const *)b;

	if (x->alloc_calls != y->alloc_calls)
		return x->alloc_calls > y->alloc_calls ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void print_growing(const struct report *r, const struct stack_report **v, FILE *f)
{
	size_t n = 0;
	double total = (double)r->totals.outstanding_bytes;

	for (size_t i = 0; i < r->nr_stacks; i++)
		if (r->stacks[i].analysed && r->stacks[i].severity >= SEV_LOW)
			v[n++] = &r->stacks[i];
	fprintf(f, "Analysis: %zu growing stack%s, worst %s\n", n, n == 1 ? "" : "s",
		severity_name(r->worst));
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_suspect);
	fprintf(f, "  %-9s %12s %9s %5s %12s %6s %7s  %s\n", "SEVERITY", "GROWTH B/s", "MB/h",
		"R2", "OUTSTANDING", "SHARE", "OLDEST", "STACK");
	for (size_t i = 0; i < n && i < MAX_LINES; i++) {
		const struct stack_report *s = v[i];
		char bytes[32], age[32], label[512];
		double share = total > 0 ? 100.0 * (double)s->outstanding_bytes / total : 0;

		fprintf(f, "  %-9s %+12.0f %+9.1f %5.2f %12s %5.1f%% %7s  %s\n",
			severity_name(s->severity), s->growth_bytes_per_s,
			s->growth_bytes_per_s / MB_PER_H, s->growth_r2,
			text__bytes(s->outstanding_bytes, bytes, sizeof(bytes)),
			share, fmt_dur(s->oldest_age_s, age, sizeof(age)),
			analysis__stack_label(s, ANALYSIS_LABEL_DEPTH, label, sizeof(label)));
	}
	if (n > MAX_LINES)
		fprintf(f, "  ... %zu more\n", n - MAX_LINES);
}

static void print_lifetime(const struct report *r, const struct stack_report **v, FILE *f)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nr_stacks; i++)
		if (r->stacks[i].analysed && r->stacks[i].alloc_calls)
			v[n++] = &r->stacks[i];
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_busy);
	fprintf(f, "Lifetime (busiest stacks):\n");
	fprintf(f, "  %10s %10s %6s %8s %8s %8s %10s %10s  %s\n", "ALLOCS", "FREED", "CHURN",
		"P50", "P90", "P99", "TEMPORARY", "PEAK", "STACK");
	for (size_t i = 0; i < n && i < MAX_LINES; i++) {
		const struct stack_report *s = v[i];
		char p50[16], p90[16], p99[16], peak[32], label[512];

		fprintf(f, "  %10" PRIu64 " %10" PRIu64 " %5.0f%% %8s %8s %8s %10" PRIu64 " %10s  %s\n",
			s->alloc_calls, s->life.freed,
			100.0 * (double)s->life.freed / (double)s->alloc_calls,
			fmt_dur(s->life.p50_s, p50, sizeof(p50)),
			fmt_dur(s->life.p90_s, p90, sizeof(p90)),
			fmt_dur(s->life.p99_s, p99, sizeof(p99)), s->life.temporary,
			text__bytes(s->life.peak_bytes, peak, sizeof(peak)),
			analysis__stack_label(s, ANALYSIS_LABEL_DEPTH, label, sizeof(label)));
	}
	if (n > MAX_LINES)
		fprintf(f, "  ... %zu more\n", n - MAX_LINES);
}

static void print_process(const struct report *r, FILE *f)
{
	const struct proc_view *p = &r->proc;
	const char *why = p->growth_reason;
	double traced_growth = 0;
	char a[32], b[32];

	for (size_t i = 0; i < r->nr_stacks; i++)
		if (r->stacks[i].analysed)
			traced_growth += r->stacks[i].growth_bytes_per_s;
	fprintf(f, "Process:");
	if (p->rss_bytes > 0) {
		fprintf(f, " RSS %s", text__bytes(p->rss_bytes, a, sizeof(a)));
		if (!why)
			fprintf(f, " (%+.1f MB/h)", p->rss_growth_bytes_per_s / MB_PER_H);
		fputc(',', f);
	}
	if (p->heap_bytes > 0) {
		fprintf(f, " heap %s", text__bytes(p->heap_bytes, b, sizeof(b)));
		if (!why)
			fprintf(f, " (%+.1f MB/h)", p->heap_growth_bytes_per_s / MB_PER_H);
		fputc(',', f);
	}
	fprintf(f, " traced %s", text__bytes(r->totals.outstanding_bytes, a, sizeof(a)));
	if (why)
		fprintf(f, "; growth %s (%.1f s)\n", why, r->elapsed_s);
	else
		fprintf(f, " (%+.1f MB/h)\n", traced_growth / MB_PER_H);
}

int analysis__print_text(const struct report *r, FILE *f)
{
	const struct stack_report **v = NULL;

	if (r->nr_stacks) {
		v = calloc(r->nr_stacks, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	print_growing(r, v, f);
	print_lifetime(r, v, f);
	free(v);
	print_process(r, f);
	answers__print_text(r, f);
	if (r->suspect >= 0 && (size_t)r->suspect < r->nr_stacks) {
		const struct stack_report *s = &r->stacks[r->suspect];
		char label[512], bytes[32];

		fprintf(f, "Verdict: POSSIBLE LEAK: %s: %s, %+.1f MB/h (%+.0f B/s), fit r2 %.2f, %s outstanding\n",
			analysis__stack_label(s, ANALYSIS_LABEL_DEPTH, label, sizeof(label)),
			severity_name(s->severity), s->growth_bytes_per_s / MB_PER_H,
			s->growth_bytes_per_s, s->growth_r2,
			text__bytes(s->outstanding_bytes, bytes, sizeof(bytes)));
	} else {
		fprintf(f, "Verdict: OK\n");
	}
	return ferror(f) ? -EIO : 0;
}

static json_object *seconds_or_null(double s)
{
	return s < 0 ? NULL : json_object_new_double(s);
}

void analysis__to_json(const struct report *r, const struct stack_report *s,
		       json_object *stack_obj)
{
	json_object *life;

	if (!s->analysed || !stack_obj)
		return;
	json__add(stack_obj, "growth_bytes_per_s", json_object_new_double(s->growth_bytes_per_s));
	json__add(stack_obj, "growth_mb_per_h", json_object_new_double(s->growth_bytes_per_s / MB_PER_H));
	json__add(stack_obj, "growth_r2", json_object_new_double(s->growth_r2));
	json__add(stack_obj, "severity", json_object_new_string(severity_name(s->severity)));
	json__add(stack_obj, "growth_reason", s->growth_reason ?
	    json_object_new_string(s->growth_reason) : NULL);
	answers__stack_to_json(r, s, stack_obj);
	life = json_object_new_object();
	if (!life)
		return;
	json__add(life, "alloc_calls", json_object_new_uint64(s->alloc_calls));
	json__add(life, "freed", json_object_new_uint64(s->life.freed));
	json__add(life, "p50_s", seconds_or_null(s->life.p50_s));
	json__add(life, "p90_s", seconds_or_null(s->life.p90_s));
	json__add(life, "p99_s", seconds_or_null(s->life.p99_s));
	json__add(life, "temporary", json_object_new_uint64(s->life.temporary));
	json__add(life, "peak_bytes", json_object_new_int64(s->life.peak_bytes));
	json__add(stack_obj, "lifetime", life);
}

static json_object *bytes_or_null(int64_t v)
{
	return v > 0 ? json_object_new_int64(v) : NULL;
}

void analysis__report_to_json(const struct report *r, json_object *root)
{
	json_object *verdict, *suspect = NULL, *proc;
	bool leak = r->suspect >= 0 && (size_t)r->suspect < r->nr_stacks;

	if (!root)
		return;
	verdict = json_object_new_object();
	if (verdict) {
		json__add(verdict, "result", json_object_new_string(leak ? "possible_leak" : "ok"));
		json__add(verdict, "worst", json_object_new_string(severity_name(r->worst)));
		if (leak)
			suspect = json_object_new_object();
		if (suspect) {
			const struct stack_report *s = &r->stacks[r->suspect];
			char label[512], id[24];

			json__add(suspect, "index", json_object_new_int64(r->suspect));
			/* the same hex string as stacks[].stack_id */
			snprintf(id, sizeof(id), "%016" PRIx64, s->stack_id);
			json__add(suspect, "stack_id", json_object_new_string(id));
			json__add(suspect, "kind", json_object_new_string(alloc_kind_name(s->kind)));
			json__add(suspect, "label", json_object_new_string(
				analysis__stack_label(s, ANALYSIS_LABEL_DEPTH, label, sizeof(label))));
			json__add(suspect, "severity", json_object_new_string(severity_name(s->severity)));
			json__add(suspect, "growth_bytes_per_s", json_object_new_double(s->growth_bytes_per_s));
		}
		json__add(verdict, "suspect", suspect);
		json__add(root, "verdict", verdict);
	}
	proc = json_object_new_object();
	if (proc) {
		json__add(proc, "rss_bytes", bytes_or_null(r->proc.rss_bytes));
		json__add(proc, "heap_bytes", bytes_or_null(r->proc.heap_bytes));
		json__add(proc, "rss_growth_bytes_per_s", r->proc.growth_reason ? NULL :
		    json_object_new_double(r->proc.rss_growth_bytes_per_s));
		json__add(proc, "heap_growth_bytes_per_s", r->proc.growth_reason ? NULL :
		    json_object_new_double(r->proc.heap_growth_bytes_per_s));
		json__add(proc, "growth_reason", r->proc.growth_reason ?
		    json_object_new_string(r->proc.growth_reason) : NULL);
		json__add(root, "process", proc);
	}
	answers__report_to_json(r, root);
}

// SPDX-License-Identifier: MIT
/* pipeline.c - symbolize, analyse and write one report (pipeline.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/baseline.h"
#include "analysis/categories.h"
#include "analysis/gate.h"
#include "analysis/kernelview.h"
#include "analysis/procview.h"
#include "analysis/recommend.h"
#include "common/outfile.h"
#include "common/util.h"
#include "output/analysis_out.h"
#include "output/baseline_out.h"
#include "output/json_out.h"
#include "output/outputs.h"
#include "output/system_out.h"
#include "output/text.h"
#include "pipeline/pipeline.h"

struct pipeline {
	const struct options *opt;
	FILE *out;
	struct analysis *analysis;
	struct categories *categories;
	struct baseline *baseline;	/* --baseline, until the final diff owns it */
	int output_err;			/* an output file failed (told on stderr) */
	struct gate_opts gate;
	struct outputs *outputs;
	int gate_status;		/* set by the final report */
	struct kernel_view kernel_start;	/* --kernel: /proc/meminfo at the start */
	uint64_t reports;
};

/* The category rules of the options (checked at parse time) and their
 * tracker. Returns 0 or -EINVAL after one line on stderr. */
static int setup_categories(struct pipeline *p)
{
	const struct analysis_opts *ao = analysis__opts(p->analysis);
	const struct options *o = p->opt;
	struct category_rules *rules = category_rules__new();
	int err = rules ? 0 : -ENOMEM, line = 0;

	for (unsigned int i = 0; i < o->nr_category && !err; i++)
		err = category_rules__add(rules, o->category[i]);
	if (!err && o->categories_file)
		err = category_rules__load(rules, o->categories_file, &line);
	if (!err) {
		p->categories = categories__new(rules, ao);
		rules = NULL;
		err = p->categories ? 0 : -ENOMEM;
	}
	category_rules__free(rules);
	if (err)
		fprintf(stderr, "memtrace: cannot set up categories: %s\n", strerror(-err));
	return err ? -EINVAL : 0;
}

struct analysis *pipeline__analysis_new(const struct options *o)
{
	struct analysis_opts ao;
	struct analysis *a;

	options__analysis_opts(o, &ao);
	a = analysis__new(&ao);
	if (!a)
		fprintf(stderr, "memtrace: inconsistent analysis settings: %s\n", strerror(errno));
	return a;
}

/* Analysis, baseline and gate from the options. Returns 0 or -EINVAL. */
static int setup_analysis(struct pipeline *p)
{
	const struct options *o = p->opt;

	p->analysis = pipeline__analysis_new(o);
	if (!p->analysis)
		return -EINVAL;
	if (setup_categories(p)) {
		analysis__free(p->analysis);
		p->analysis = NULL;
		return -EINVAL;
	}
	gate_opts__defaults(&p->gate);
	if (o->fail_on)
		gate__parse_fail_on(&p->gate, o->fail_on);
	if (o->max_growth >= 0) {
		p->gate.max_growth_set = true;
		p->gate.max_growth_bps = o->max_growth;
	}
	if (o->baseline) {
		p->baseline = baseline__load(o->baseline);
		if (!p->baseline) {
			fprintf(stderr, "memtrace: cannot load baseline %s: %s\n", o->baseline,
				errno == EINVAL ? "not a memtrace baseline (a file written by "
				"--save-baseline)" : errno == EFBIG ? "larger than 256 MiB" :
				strerror(errno));
			categories__free(p->categories);
			p->categories = NULL;
			analysis__free(p->analysis);
			p->analysis = NULL;
			return -EINVAL;
		}
	}
	return 0;
}

struct pipeline *pipeline__open(const struct options *o, FILE *out)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	struct outputs_opts oo = {
		.pprof = o->pprof, .pprof_every = o->pprof_every, .collapsed = o->collapsed,
		.flamegraph = o->flamegraph, .csv = o->csv, .http = o->http,
		.metrics_top = o->system ? (o->metrics_top ? o->metrics_top : 20) : 0,
		.interval_s = o->interval_s, .mode = o->output_mode,
	};

	if (!p)
		return NULL;
	p->opt = o;
	p->out = out;
	if (o->kernel)
		kernel_view__read(NULL, &p->kernel_start);
	if (setup_analysis(p)) {
		free(p);
		errno = EINVAL;
		return NULL;
	}
	oo.window_s = analysis__opts(p->analysis)->window_s;
	p->outputs = outputs__open(&oo);
	if (!p->outputs) {
		int err = errno;

		baseline__free(p->baseline);
		categories__free(p->categories);
		analysis__free(p->analysis);
		free(p);
		errno = err;
		return NULL;
	}
	return p;
}

const struct analysis_opts *pipeline__analysis_opts(const struct pipeline *p)
{
	return analysis__opts(p->analysis);
}

/* The report on p->out, as JSON (json_text) or text. Returns 0 or a
 * negative errno (the write's: -ENOSPC on a full disk; else -EIO). */
static int write_main(struct pipeline *p, const struct report *r, const char *json_text,
		      const struct baseline_diff *diff)
{
	int err = 0;

	errno = 0;
	if (p->opt->format == FORMAT_JSON) {
		if (!json_text || fprintf(p->out, "%s\n", json_text) < 0)
			err = -EIO;
	} else if (r->system) {
		err = system_text__write(r, p->opt->top, p->out);
	} else {
		err = text_report__write(r, p->opt->top, p->out);
		if (!err && diff)
			err = baseline_diff__print_text(diff, (size_t)p->opt->top, p->out);
		if (!err)
			err = analysis__print_text(r, p->out);
	}
	if ((fflush(p->out) || ferror(p->out) || err) && errno)
		return -errno;
	return err ? err : ferror(p->out) ? -EIO : 0;
}

void pipeline__analyse(struct pipeline *p, struct report *r, struct syms *syms)
{
	/* Every stack: analysis and the file outputs see beyond the top N, and
	 * the symbol cache makes repeated stacks cheap. */
	if (syms)
		syms__symbolize_report(syms, r);
	if (r->pid <= 0 || procview__read("/proc", r->pid, &r->proc)) {
		r->proc.rss_bytes = -1;
		r->proc.heap_bytes = -1;
	}
	if (r->scope != SCOPE_USER) {
		kernel_view__read(NULL, &r->kernel);
		kernel_view__growth(&r->kernel, &p->kernel_start, r->elapsed_s);
	}
	analysis__update(p->analysis, r);
	/* which part of the program, and what to do first (issue 16; one
	 * process's stacks); on -ENOMEM the report goes out without them */
	if (!r->system) {
		categories__update(p->categories, r);
		recommend__build(analysis__opts(p->analysis), r);
	}
}

int pipeline__report(struct pipeline *p, struct report *r, struct syms *syms,
		     struct tracer_self *self, double read_start, bool final)
{
	pipeline__analyse(p, r, syms);
	return pipeline__write(p, r, self, read_start, final);
}

int pipeline__write(struct pipeline *p, struct report *r, struct tracer_self *self,
		    double read_start, bool final)
{
	struct baseline_diff *diff = NULL;
	json_object *json = NULL;
	const char *json_text = NULL;
	int err;

	p->reports++;
	if (final && p->baseline && !r->system) {
		diff = baseline__compare(p->baseline, r);
		if (diff)
			p->baseline = NULL;	/* the diff owns it now */
	}

	if (p->opt->format == FORMAT_JSON || p->opt->http) {
		if (r->system)
			json = system_json__build(r, p->opt->top);
		else
			json = json_report__build(r, p->opt->top, analysis__to_json);
		if (json && !r->system) {
			analysis__report_to_json(r, json);
			if (diff)
				json_object_object_add(json, "baseline", baseline_diff__to_json(diff));
		}
		if (json)
			json_text = json_object_to_json_string_ext(json, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
	}
	err = write_main(p, r, json_text, diff);
	if (err)
		fprintf(stderr, "memtrace: cannot write report%s%s: %s\n",
			p->opt->output ? " to --output " : "", p->opt->output ? p->opt->output : "",
			strerror(-err));
	if (self) {
		self->report_latency_s = clock__s(CLOCK_MONOTONIC) - read_start;
		self->reports = p->reports;
	}
	/* A file that could not be written fails the run (exit 1), at its end. */
	if (outputs__report(p->outputs, r, json_text, json, self) && !p->output_err)
		p->output_err = -EIO;
	if (final && !err)
		err = p->output_err;
	if (final && p->opt->save_baseline) {
		int e = baseline__save(r, p->opt->save_baseline, p->opt->output_mode);

		if (e)
			fprintf(stderr, "memtrace: cannot save baseline %s: %s\n",
				p->opt->save_baseline, outfile__strerror(e));
		err = err ? err : e;
	}
	if (final) {
		struct gate_result res;

		p->gate_status = gate__check(&p->gate, r, &res);
		gate__print(&p->gate, &res, r, stderr);
	}
	json_object_put(json);
	baseline_diff__free(diff);
	report__free(r);
	return err;
}

int pipeline__live(struct pipeline *p, struct report *r, struct tracer_self *self)
{
	json_object *json = r->system ? system_json__build(r, p->opt->top) :
			    json_report__build(r, p->opt->top, NULL);
	int err;

	err = outputs__live(p->outputs, r, json ? json_object_to_json_string_ext(json,
			    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL, self);
	json_object_put(json);
	report__free(r);
	return err;
}

uint64_t pipeline__reports(const struct pipeline *p)
{
	return p->reports;
}

int pipeline__gate_status(const struct pipeline *p)
{
	return p->gate_status;
}

void pipeline__close(struct pipeline *p)
{
	if (!p)
		return;
	outputs__close(p->outputs);
	baseline__free(p->baseline);
	categories__free(p->categories);
	analysis__free(p->analysis);
	free(p);
}

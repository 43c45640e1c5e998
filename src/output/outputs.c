// SPDX-License-Identifier: MIT
/* outputs.c - drive the issue-7 writers from the report loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/outfile.h"
#include "output/collapsed.h"
#include "output/csv.h"
#include "output/dashboard.h"
#include "output/flamegraph.h"
#include "output/http.h"
#include "output/outputs.h"
#include "output/pprof.h"

struct outputs {
	struct outputs_opts o;		/* strings borrowed from the caller */
	struct csv_writer *csv;
	struct http_server *http;
};

struct outputs *outputs__open(const struct outputs_opts *o)
{
	struct outputs *out = calloc(1, sizeof(*out));
	int err = 0;

	if (!out)
		return NULL;
	out->o = *o;
	if (o->csv) {
		out->csv = csv__open(o->csv, o->mode);
		if (!out->csv) {
			err = -errno;
			fprintf(stderr, "memtrace: cannot write --csv %s: %s\n", o->csv,
				outfile__strerror(err));
			goto free_out;
		}
	}
	if (o->http) {
		out->http = http__start(o->http, &err);
		if (!out->http) {
			fprintf(stderr, "memtrace: cannot serve on %s: %s\n", o->http, strerror(-err));
			goto close_csv;
		}
		http__set_metrics_top(out->http, o->metrics_top);
		if (o->interval_s > 0 && o->window_s > 0 &&
		    dashboard__configure(http__dashboard(out->http), o->interval_s, o->window_s)) {
			err = -ENOMEM;
			fprintf(stderr, "memtrace: cannot serve on %s: %s\n", o->http, strerror(-err));
			goto stop_http;
		}
		fprintf(stderr, "memtrace: serving /metrics, /debug/pprof/heap, /report.json on http://%s\n",
			http__address(out->http));
		fprintf(stderr, "memtrace: dashboard on http://%s/\n", http__address(out->http));
	}
	return out;

stop_http:
	http__stop(out->http);
close_csv:
	csv__close(out->csv);
free_out:
	free(out);
	errno = -err;
	return NULL;
}

static int write_file(const char *path, mode_t mode, const struct report *r,
		      int (*fn)(const struct report *, FILE *, const char *), const char *title)
{
	struct outfile f;
	int err = outfile__open(&f, path, mode), e;

	if (err)
		return err;
	err = fn(r, f.fp, title);
	if (!err)
		err = outfile__commit(&f);
	e = outfile__close(&f);
	return err ? err : e;
}

static int collapsed_fn(const struct report *r, FILE *f, const char *title)
{
	(void)title;
	return collapsed__write(r, f);
}

static int note(int err, int first, const char *what, const char *path)
{
	if (!err)
		return first;
	fprintf(stderr, "memtrace: cannot write %s %s: %s\n", what, path, outfile__strerror(err));
	return first ? first : err;
}

int outputs__live(struct outputs *out, const struct report *r, const char *json,
		  const struct tracer_self *self)
{
	void *pprof = NULL;
	size_t len = 0;
	int err;

	if (!out->http)
		return 0;
	err = pprof__encode(r, true, &pprof, &len);
	if (!err)
		err = http__publish_encoded(out->http, r, json, self, pprof, len);
	return note(err, 0, "HTTP snapshot", out->o.http);
}

int outputs__report(struct outputs *out, const struct report *r, const char *json,
		    json_object *json_obj, const struct tracer_self *self)
{
	const struct outputs_opts *o = &out->o;
	bool pprof_file = o->pprof && (r->final || o->pprof_every);
	void *pprof = NULL;
	size_t pprof_len = 0;
	int first = 0, err = 0;

	if (out->csv)
		first = note(csv__write(out->csv, r), first, "CSV", o->csv);
	/* one profile for the file and the server: the file first, the server keeps it */
	if (pprof_file || out->http)
		err = pprof__encode(r, true, &pprof, &pprof_len);
	if (pprof_file)
		first = note(err ? err : pprof__save(pprof, pprof_len, o->pprof, o->mode), first,
			     "pprof profile", o->pprof);
	if (out->http) {
		if (!err)
			err = http__publish_encoded(out->http, r, json, self, pprof, pprof_len);
		first = note(err, first, "HTTP snapshot", o->http);
		first = note(dashboard__publish(http__dashboard(out->http), r, json_obj, self),
			     first, "dashboard state", o->http);
	} else {
		free(pprof);
	}
	if (!r->final)
		return first;
	if (o->collapsed)
		first = note(write_file(o->collapsed, o->mode, r, collapsed_fn, NULL), first,
			     "collapsed stacks", o->collapsed);
	if (o->flamegraph) {
		char title[96];

		snprintf(title, sizeof(title), "memtrace: outstanding bytes, pid %d (%s)", r->pid, r->comm);
		first = note(write_file(o->flamegraph, o->mode, r, flamegraph__write, title), first,
			     "flame graph", o->flamegraph);
	}
	return first;
}

void outputs__close(struct outputs *out)
{
	if (!out)
		return;
	http__stop(out->http);
	csv__close(out->csv);
	free(out);
}

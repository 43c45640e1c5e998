// SPDX-License-Identifier: MIT
/* csv.c - one CSV row per stack per report (see csv.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/outfile.h"
#include "output/collapsed.h"
#include "output/csv.h"

struct csv_writer {
	FILE *f;
	bool is_stdout;
	struct outfile file;	/* unless stdout */
};

struct csv_writer *csv__open(const char *path, mode_t mode)
{
	struct csv_writer *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return NULL;
	w->is_stdout = strcmp(path, "-") == 0;
	if (w->is_stdout) {
		w->f = stdout;
	} else {
		err = outfile__open(&w->file, path, mode);
		if (err) {
			free(w);
			errno = -err;
			return NULL;
		}
		w->f = w->file.fp;
	}
	fputs(CSV_COLUMNS "\r\n", w->f);
	err = w->is_stdout ? (fflush(w->f) ? -(errno ? errno : EIO) : 0) : outfile__commit(&w->file);
	if (err) {
		csv__close(w);
		errno = -err;
		return NULL;
	}
	return w;
}

void csv__close(struct csv_writer *w)
{
	if (!w)
		return;
	if (w->is_stdout)
		fflush(w->f);
	else
		outfile__close(&w->file);
	free(w);
}

/* A field, quoted when it holds a separator, a quote or a line break. */
static void put_field(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!s[strcspn(s, ",\"\r\n")]) {
		fputs(s, f);
		return;
	}
	putc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', f);
		putc(*s, f);
	}
	putc('"', f);
}

static void put_double(FILE *f, double v, bool known)
{
	if (known)
		fprintf(f, "%.6g", v);
}

/* The stack column: frames caller-most first joined by ';'. */
static void put_stack(FILE *f, const struct stack_report *s)
{
	char buf[256], *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (!m)
		return;
	for (size_t j = s->nr_frames; j-- > 0;)
		fprintf(m, "%s%s", j + 1 == s->nr_frames ? "" : ";",
			frame__name(&s->frames[j], buf, sizeof(buf)));
	for (size_t j = s->nr_frames ? 0 : s->nr_ips; j-- > 0;)
		fprintf(m, "%s0x%" PRIx64, j + 1 == s->nr_ips ? "" : ";", s->ips[j]);
	fclose(m);
	put_field(f, text);
	free(text);
}

/* One row: stack s of r, on behalf of process pid (comm). */
static void put_row(FILE *f, const struct report *r, const struct stack_report *s, int pid,
		    const char *comm)
{
	const struct frame *leaf = s->nr_frames ? &s->frames[0] : NULL;
	char buf[256];

	fprintf(f, "%.3f,%.3f,%d,", r->time, r->elapsed_s, pid);
	put_field(f, comm);
	fprintf(f, ",%d,0x%" PRIx64 ",%s,%" PRId64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64
		",%" PRIu64 ",%" PRIu64 ",", r->final, s->stack_id, alloc_kind_name(s->kind),
		s->outstanding_bytes, s->outstanding_allocs, s->alloc_calls, s->alloc_bytes,
		s->free_calls, s->free_bytes);
	put_double(f, s->oldest_age_s, s->oldest_age_s >= 0);
	putc(',', f);
	put_double(f, s->mean_age_s, s->mean_age_s >= 0);
	putc(',', f);
	put_double(f, s->growth_bytes_per_s, s->analysed);
	putc(',', f);
	put_double(f, s->growth_r2, s->analysed);
	fprintf(f, ",%s,%" PRIu32 ",", s->analysed ? severity_name(s->severity) : "", s->flags);
	if (leaf) {
		put_field(f, frame__name(leaf, buf, sizeof(buf)));
		putc(',', f);
		put_field(f, leaf->module);
		putc(',', f);
		put_field(f, leaf->file);
		putc(',', f);
		if (leaf->line > 0)
			fprintf(f, "%d", leaf->line);
	} else if (s->nr_ips) {
		fprintf(f, "0x%" PRIx64 ",,,", s->ips[0]);
	} else {
		fputs(",,,", f);
	}
	putc(',', f);
	put_stack(f, s);
	putc(',', f);
	if (s->category >= 0 && (size_t)s->category < r->nr_categories)
		put_field(f, r->categories[s->category].name);
	fputs("\r\n", f);
}

int csv__write(struct csv_writer *w, const struct report *r)
{
	if (!w)
		return -EINVAL;
	if (r->system) {	/* a sweep: one row per process, its own pid and comm */
		for (size_t i = 0; i < r->nr_processes; i++)
			put_row(w->f, r, &r->stacks[r->processes[i].stack], r->processes[i].pid,
				r->processes[i].comm);
	} else {
		for (size_t i = 0; i < r->nr_stacks; i++)
			put_row(w->f, r, &r->stacks[i], r->pid, r->comm);
	}
	if (fflush(w->f) != 0 || ferror(w->f))
		return -EIO;
	return 0;
}

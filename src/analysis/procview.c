// SPDX-License-Identifier: MIT
/* procview.c - RSS and heap from /proc/PID/{status,smaps_rollup}, growth. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/fit.h"
#include "analysis/procview.h"

struct proc_growth {
	double window_s;
	size_t min_keep;
	struct fit_series rss;
	struct fit_series heap;
};

/*
 * Scan "Key:   <n> kB" lines of path for each keys[i], storing bytes in
 * vals[i] (left untouched when absent). Returns 0 or -errno of fopen.
 */
static int read_kb_fields(const char *path, const char *const *keys, int64_t *vals, size_t nr)
{
	char line[256];
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < nr; i++) {
			size_t len = strlen(keys[i]);
			unsigned long long kb;

			if (strncmp(line, keys[i], len) != 0 || line[len] != ':')
				continue;
			if (sscanf(line + len + 1, "%llu", &kb) == 1)
				vals[i] = (int64_t)kb * 1024;
		}
	}
	fclose(f);
	return 0;
}

int procview__read(const char *proc_root, int pid, struct proc_view *pv)
{
	static const char *const status_keys[] = { "VmRSS", "RssAnon" };
	static const char *const rollup_keys[] = { "Anonymous" };
	int64_t status[2] = { -1, -1 }, rollup[1] = { -1 };
	char path[4096];
	int err;

	pv->rss_bytes = -1;
	pv->heap_bytes = -1;
	pv->rss_growth_bytes_per_s = 0;
	pv->heap_growth_bytes_per_s = 0;
	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%d/status", proc_root, pid);
	err = read_kb_fields(path, status_keys, status, 2);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%d/smaps_rollup", proc_root, pid);
	if (read_kb_fields(path, rollup_keys, rollup, 1) == 0 && rollup[0] >= 0)
		pv->heap_bytes = rollup[0];
	else
		pv->heap_bytes = status[1];
	pv->rss_bytes = status[0];
	return 0;
}

struct proc_growth *proc_growth__new(double window_s, size_t min_keep, size_t max)
{
	struct proc_growth *g;

	if (!(window_s > 0) || max < 2) {
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->window_s = window_s;
	g->min_keep = min_keep;
	g->rss.max = max;
	g->heap.max = max;
	return g;
}

/* Push v (when known) and return the slope of the series, 0 if not fittable. */
static int series_update(struct proc_growth *g, struct fit_series *s, double t,
			 int64_t v, double *slope)
{
	struct fit_growth fg;
	int err;

	*slope = 0;
	if (v <= 0)
		return 0;
	err = fit_series__push(s, t, (double)v);
	if (err)
		return err;
	fit_series__trim(s, t, g->window_s, g->min_keep);
	if (s->n < 2)
		return 0;
	err = fit_series__fit(s, &fg);
	if (err)
		return err;
	*slope = fg.line.slope;
	return 0;
}

int proc_growth__update(struct proc_growth *g, double t, struct proc_view *pv)
{
	double rss, heap;
	int err;

	pv->rss_growth_bytes_per_s = 0;
	pv->heap_growth_bytes_per_s = 0;
	err = series_update(g, &g->rss, t, pv->rss_bytes, &rss);
	if (err)
		return err;
	err = series_update(g, &g->heap, t, pv->heap_bytes, &heap);
	if (err)
		return err;
	pv->rss_growth_bytes_per_s = rss;
	pv->heap_growth_bytes_per_s = heap;
	return 0;
}

size_t proc_growth__samples(const struct proc_growth *g, double *span)
{
	const struct fit_series *s = &g->rss;

	if (!g->rss.n || (g->heap.n && g->heap.n < g->rss.n))
		s = &g->heap;
	*span = s->n ? s->x[s->n - 1] - s->x[0] : 0;
	return s->n;
}

void proc_growth__free(struct proc_growth *g)
{
	if (!g)
		return;
	fit_series__clear(&g->heap);
	fit_series__clear(&g->rss);
	free(g);
}

// SPDX-License-Identifier: MIT
/*
 * syms_debuginfod.c - debug files from debuginfod servers, within a budget.
 *
 * libdebuginfod is loaded with dlopen so memtrace runs without it. Each
 * query is cut off by the progress callback after SYMS_DEBUGINFOD_QUERY_S,
 * and all queries of one struct syms together stop after
 * SYMS_DEBUGINFOD_TOTAL_S: a slow or dead server costs bounded time once.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include "symbolize/syms_int.h"
#include "common/util.h"

#define SYMS_DEBUGINFOD_QUERY_S	10.0
#define SYMS_DEBUGINFOD_TOTAL_S	30.0

typedef struct debuginfod_client debuginfod_client;
typedef int (*dbgd_progress_fn)(debuginfod_client *c, long a, long b);

struct syms_debuginfod {
	void *lib;
	debuginfod_client *client;
	debuginfod_client *(*begin)(void);
	void (*end)(debuginfod_client *c);
	int (*find_debuginfo)(debuginfod_client *c, const unsigned char *id, int len, char **path);
	void (*set_progressfn)(debuginfod_client *c, dbgd_progress_fn fn);
	double spent_s;
	bool broken;
};

/* One query at a time per process: the callback has no user pointer we own. */
static double deadline;

static int progress(debuginfod_client *c, long a, long b)
{
	(void)c, (void)a, (void)b;
	return clock__s(CLOCK_MONOTONIC) > deadline;	/* non-zero cancels the transfer */
}

static struct syms_debuginfod *open_client(void)
{
	struct syms_debuginfod *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->lib = dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_LOCAL);
	if (!d->lib)
		goto broken;
	*(void **)&d->begin = dlsym(d->lib, "debuginfod_begin");
	*(void **)&d->end = dlsym(d->lib, "debuginfod_end");
	*(void **)&d->find_debuginfo = dlsym(d->lib, "debuginfod_find_debuginfo");
	*(void **)&d->set_progressfn = dlsym(d->lib, "debuginfod_set_progressfn");
	if (!d->begin || !d->end || !d->find_debuginfo || !d->set_progressfn)
		goto broken;
	d->client = d->begin();
	if (!d->client)
		goto broken;
	d->set_progressfn(d->client, progress);
	return d;
broken:
	d->broken = true;
	return d;
}

int syms_debuginfod__find(struct syms *s, const char *build_id, char **path)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	struct syms_debuginfod *d;
	double t0;
	int fd;

	if (!urls || !*urls)
		return -ENOSYS;
	if (!s->dbgd && !(s->dbgd = open_client()))
		return -ENOMEM;
	d = s->dbgd;
	if (d->broken)
		return -ENOSYS;
	if (d->spent_s >= SYMS_DEBUGINFOD_TOTAL_S)
		return -ETIME;
	t0 = clock__s(CLOCK_MONOTONIC);
	deadline = t0 + SYMS_DEBUGINFOD_QUERY_S;
	if (deadline > t0 + SYMS_DEBUGINFOD_TOTAL_S - d->spent_s)
		deadline = t0 + SYMS_DEBUGINFOD_TOTAL_S - d->spent_s;
	s->stats.debuginfod_queries++;
	/* build_id_len 0: the id is given as a hex string */
	fd = d->find_debuginfo(d->client, (const unsigned char *)build_id, 0, path);
	d->spent_s += clock__s(CLOCK_MONOTONIC) - t0;
	return fd;
}

void syms_debuginfod__free(struct syms_debuginfod *d)
{
	if (!d)
		return;
	if (d->client)
		d->end(d->client);
	if (d->lib)
		dlclose(d->lib);
	free(d);
}

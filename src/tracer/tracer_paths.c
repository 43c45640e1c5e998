// SPDX-License-Identifier: MIT
/* tracer_paths.c - which kernel paths the tracer takes: probed, never by version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tracer/tracer_paths.h"
#include "tracer/uprobe_multi.h"

/* Note a kernel feature missing, whose fallback is in use. */
void tracer_paths__missing(struct tracer_paths *p, const char *feature)
{
	size_t len = strlen(p->missing);

	snprintf(p->missing + len, sizeof(p->missing) - len, "%s%s", len ? "," : "", feature);
	p->fallbacks++;
}

/* Is the environment variable name set to "0" (a switch turned off)? */
bool tracer_paths__env_off(const char *name)
{
	const char *v = getenv(name);

	return v && !strcmp(v, "0");
}

/*
 * How the uprobes attach: through uprobe_multi links when this kernel has
 * them, unless MEMTRACE_UPROBE_MULTI=0 asks for perf-event links (one per
 * probe, what kernels before 6.6 offer). Decided before load: a program
 * loaded for uprobe_multi cannot attach through a perf event.
 */
bool tracer_paths__uprobe_multi(bool verbose, struct tracer_paths *paths)
{
	int r;

	if (tracer_paths__env_off("MEMTRACE_UPROBE_MULTI")) {
		if (verbose)
			fprintf(stderr, "memtrace: uprobes through perf-event links "
				"(MEMTRACE_UPROBE_MULTI=0)\n");
		return false;
	}
	r = uprobe_multi__supported();
	if (r != 1)
		tracer_paths__missing(paths, "uprobe_multi");
	if (verbose) {
		if (r == 1)
			fprintf(stderr, "memtrace: uprobes through uprobe_multi links\n");
		else
			fprintf(stderr, "memtrace: uprobes through perf-event links (%s)\n",
				r == 0 ? "this kernel has no uprobe_multi links" : strerror(-r));
	}
	return r == 1;
}

/*
 * Whether the malloc family attaches through uprobe session links (one
 * program at entry and return, the entry skipping unsampled returns):
 * when the kernel has them (probed) and uprobe_multi links are in use,
 * unless MEMTRACE_UPROBE_SESSION=0 asks for entry and return links.
 */
bool tracer_paths__uprobe_session(bool multi, bool verbose, struct tracer_paths *paths)
{
	int r;

	if (tracer_paths__env_off("MEMTRACE_UPROBE_SESSION")) {
		if (verbose)
			fprintf(stderr, "memtrace: malloc family by entry and return probes "
				"(MEMTRACE_UPROBE_SESSION=0)\n");
		return false;
	}
	if (!multi) {		/* sessions are uprobe_multi links */
		if (strstr(paths->missing, "uprobe_multi"))
			tracer_paths__missing(paths, "uprobe_session");
		if (verbose)
			fprintf(stderr, "memtrace: malloc family by entry and return probes "
				"(sessions need uprobe_multi)\n");
		return false;
	}
	r = uprobe_multi__session_supported();
	if (r != 1)
		tracer_paths__missing(paths, "uprobe_session");
	if (verbose) {
		if (r == 1)
			fprintf(stderr, "memtrace: malloc family by uprobe session links\n");
		else
			fprintf(stderr, "memtrace: malloc family by entry and return probes (%s)\n",
				r == 0 ? "this kernel has no uprobe session links" : strerror(-r));
	}
	return r == 1;
}

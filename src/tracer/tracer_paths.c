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
 * A kernel feature's path, or its fallback: knob=0 takes the fallback
 * without probing; else probe() decides (1: the feature; 0 or -errno:
 * the fallback, the feature noted missing). verbose says on stderr
 * "memtrace: WITH" or "memtrace: WITHOUT (why)", nolinks naming what this
 * kernel lacks.
 */
static bool choose(const char *feature, const char *knob, int (*probe)(void),
		   const char *with, const char *without, const char *nolinks, bool verbose,
		   struct tracer_paths *paths)
{
	int r;

	if (tracer_paths__env_off(knob)) {
		if (verbose)
			fprintf(stderr, "memtrace: %s (%s=0)\n", without, knob);
		return false;
	}
	r = probe();
	if (r != 1)
		tracer_paths__missing(paths, feature);
	if (verbose) {
		if (r == 1)
			fprintf(stderr, "memtrace: %s\n", with);
		else
			fprintf(stderr, "memtrace: %s (%s%s)\n", without,
				r == 0 ? "this kernel has no " : "", r == 0 ? nolinks : strerror(-r));
	}
	return r == 1;
}

/* Decided before load: a program loaded for uprobe_multi cannot attach
 * through a perf event. */
bool tracer_paths__uprobe_multi(bool verbose, struct tracer_paths *paths)
{
	return choose("uprobe_multi", "MEMTRACE_UPROBE_MULTI", uprobe_multi__supported,
		      "uprobes through uprobe_multi links", "uprobes through perf-event links",
		      "uprobe_multi links", verbose, paths);
}

bool tracer_paths__uprobe_session(bool multi, bool verbose, struct tracer_paths *paths)
{
	if (!multi && !tracer_paths__env_off("MEMTRACE_UPROBE_SESSION")) {
		/* sessions are uprobe_multi links: missing where those are */
		if (strstr(paths->missing, "uprobe_multi"))
			tracer_paths__missing(paths, "uprobe_session");
		if (verbose)
			fprintf(stderr, "memtrace: malloc family by entry and return probes "
				"(sessions need uprobe_multi)\n");
		return false;
	}
	return choose("uprobe_session", "MEMTRACE_UPROBE_SESSION",
		      uprobe_multi__session_supported, "malloc family by uprobe session links",
		      "malloc family by entry and return probes", "uprobe session links", verbose,
		      paths);
}

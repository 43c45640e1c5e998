/* SPDX-License-Identifier: MIT */
/*
 * tracer_paths.h - which kernel paths the tracer takes (struct
 * tracer_paths): uprobe_multi or perf-event links, uprobe session links or
 * entry and return links for the malloc family; each probed on the
 * running kernel, never read from its version, and each with a knob that
 * forces the fallback (MEMTRACE_UPROBE_MULTI=0, MEMTRACE_UPROBE_SESSION=0).
 */
#ifndef MEMTRACE_TRACER_PATHS_H
#define MEMTRACE_TRACER_PATHS_H

#include <stdbool.h>
#include "tracer/tracer.h"

/* Note the kernel feature feature missing, its fallback in use: appended
 * to p->missing (comma-separated), p->fallbacks counted. Cannot fail. */
void tracer_paths__missing(struct tracer_paths *p, const char *feature);

/* Is the environment variable name set to "0" (a switch turned off)? */
bool tracer_paths__env_off(const char *name);

/*
 * Whether the uprobes attach through uprobe_multi links: when this kernel
 * has them, unless MEMTRACE_UPROBE_MULTI=0 asks for perf-event links (one
 * per probe, what kernels before 6.6 offer). Decide before load: a program
 * loaded for uprobe_multi cannot attach through a perf event. Notes
 * "uprobe_multi" in paths when the kernel lacks them; verbose says which
 * on stderr. Cannot fail (a probe that cannot tell counts as missing).
 */
bool tracer_paths__uprobe_multi(bool verbose, struct tracer_paths *paths);

/*
 * Whether the malloc family attaches through uprobe session links (one
 * program at entry and return, the entry skipping unsampled returns):
 * when uprobe_multi links are in use (multi) and the kernel has session
 * links (Linux 6.13+), unless MEMTRACE_UPROBE_SESSION=0. Notes
 * "uprobe_session" in paths when the kernel lacks them; verbose says which
 * on stderr. Cannot fail.
 */
bool tracer_paths__uprobe_session(bool multi, bool verbose, struct tracer_paths *paths);

#endif

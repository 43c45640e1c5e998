/* SPDX-License-Identifier: MIT */
/*
 * system_run.h - the lifecycle of a host-wide sweep (`memtrace --system`):
 * load the sweep, report every interval through the pipeline, until -d
 * runs out or a signal; with --deep, trace the worst processes' stacks.
 * On top of every stage, like main.c.
 */
#ifndef MEMTRACE_SYSTEM_RUN_H
#define MEMTRACE_SYSTEM_RUN_H

#include <signal.h>
#include <stdio.h>
#include "cli/options.h"

/*
 * Run the sweep the options describe, writing reports to out, until *stop
 * is set, the duration ends, or an error. Returns the exit status: 0, 1 on
 * an error (one line on stderr), or the CI gate's status.
 */
int system_run(const struct options *o, FILE *out, volatile sig_atomic_t *stop);

#endif /* MEMTRACE_SYSTEM_RUN_H */

/* SPDX-License-Identifier: MIT */
/*
 * kernel_source.h - kernel allocations as a source of reports (issue 14):
 * the kernel tracer (tracer/kmem_tracer.h) and its collector
 * (collect/kmem_collect.h) behind two calls, and the lifecycle of a run
 * that traces only the kernel (host-wide, or in one process's context).
 *
 * A --kernel -p run keeps its user tracer (main.c) and adds a kernel
 * source: each report is the user report with the kernel stacks merged
 * in. --kernel without -p, and --kernel-only, run kernel_run().
 *
 * Stage pipeline: may call every stage below.
 */
#ifndef MEMTRACE_KERNEL_SOURCE_H
#define MEMTRACE_KERNEL_SOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include "cli/options.h"
#include "common/report.h"
#include "output/metrics.h"
#include "pipeline/pipeline.h"

struct kernel_source;

/*
 * Load and attach the kernel tracer for the allocations made in process
 * tgid's context (0: host-wide, memtrace excluded), sized and sampled as o
 * says; user frames follow the kernel ones when tgid is given and user
 * allocations are traced too. Returns NULL and sets errno after one line
 * on stderr.
 */
struct kernel_source *kernel_source__open(const struct options *o, int tgid, uint64_t temp_ns);

/*
 * Read the kernel allocations into r: its stacks are added and its totals
 * summed, r->scope set (SCOPE_USER_KERNEL for a report that had user
 * stacks, else the kernel-only scope of the source). Returns 0 or -errno
 * (r unchanged).
 */
int kernel_source__add(struct kernel_source *ks, struct report *r);

/* The kernel tables' fill into self (the fuller of user and kernel). */
void kernel_source__self(const struct kernel_source *ks, struct tracer_self *self);

/* Tracepoints attached. */
unsigned int kernel_source__nr_links(const struct kernel_source *ks);

/* Detach and free. NULL is a no-op. */
void kernel_source__close(struct kernel_source *ks);

/* Does o ask for a run without user tracing (--kernel without a target,
 * or --kernel-only)? */
bool kernel_run__wanted(const struct options *o);

/*
 * A run that traces only kernel allocations: host-wide, or in the context
 * of o->pid or of the command o->argv (started held, released once the
 * tracepoints are attached). Reports every interval and at the end
 * through p, until o->duration_s, the target's exit or *exiting. Returns
 * the exit status (0, 1 after one line on stderr, the command's status,
 * or the CI gate's).
 */
int kernel_run(const struct options *o, struct pipeline *p, volatile sig_atomic_t *exiting);

#endif

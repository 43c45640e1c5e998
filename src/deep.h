/* SPDX-License-Identifier: MIT */
/*
 * deep.h - deep traces of a host-wide sweep's suspects (`--system --deep
 * N`): each suspect gets the -p tracer (uprobes on its allocator, byte
 * sampling by default so that a production process is slowed briefly and
 * little) for --deep-duration seconds; its reports are symbolized and
 * analysed on their own series. On top of every stage, like main.c.
 */
#ifndef MEMTRACE_DEEP_H
#define MEMTRACE_DEEP_H

#include <stdbool.h>
#include <stdint.h>
#include "cli/options.h"
#include "common/report.h"

struct deep_trace;

/*
 * Start tracing pid (whose start time, in sweep__process_id() form, is id)
 * with o's settings and o->deep_sample_bytes; --deep-duration counts from
 * when its probes are live (not before now, CLOCK_MONOTONIC seconds). Returns NULL after one line on stderr when the process cannot
 * be traced (gone, no allocator, BPF refused); nothing stays attached.
 */
struct deep_trace *deep__start(const struct options *o, int pid, uint64_t id, double now);

/*
 * Read, symbolize and analyse a report of the trace; it replaces the
 * last one. final: the trace ends with it (the tracer is detached, the
 * report kept). Returns 0 or -errno (the trace is then over).
 */
int deep__tick(struct deep_trace *d, bool final);

/* Is the trace's time up (or its process gone)? */
bool deep__due(struct deep_trace *d, double now);

/* Has the trace ended (deep__tick(final) done, or failed)? */
bool deep__ended(const struct deep_trace *d);

/* The last report (NULL before the first tick); owned by the trace. */
struct report *deep__report(const struct deep_trace *d);

/* The process traced: pid and identity. */
int deep__pid(const struct deep_trace *d);
uint64_t deep__id(const struct deep_trace *d);

/* Detach (if still attached) and free everything. NULL is a no-op. */
void deep__free(struct deep_trace *d);

#endif /* MEMTRACE_DEEP_H */

/* SPDX-License-Identifier: MIT */
/*
 * sweep.h - the host-wide sweep's BPF side (bpf/system.bpf.c): load, attach
 * its tracepoints (no uprobes), hand its maps to the reader, detach.
 */
#ifndef MEMTRACE_SWEEP_H
#define MEMTRACE_SWEEP_H

#include <stdbool.h>
#include <stdint.h>

struct sweep_config {
	uint32_t max_procs;	/* processes tracked at once; 0: SYS_PROCS_MAX */
	uint32_t fault_sample;	/* --fault-stacks: 1 in N first-touch faults; 0: off */
	bool verbose;
};

struct sweep;

/*
 * Open, load and attach the sweep's programs (the fault program only with
 * cfg->fault_sample; -ENOENT when the kernel lacks its tracepoint). Also turns on the kernel's BPF run-time
 * statistics for as long as the sweep lives (sweep__run_time_ns()).
 * Returns NULL and sets errno after one line on stderr; nothing stays
 * attached on failure.
 */
struct sweep *sweep__new(const struct sweep_config *cfg);

/* Map descriptors, for collect/sweep_read.h. */
int sweep__procs_fd(const struct sweep *s);
int sweep__counters_fd(const struct sweep *s);
int sweep__stacks_fd(const struct sweep *s);	/* -1 without --fault-stacks */
int sweep__faults_fd(const struct sweep *s);	/* -1 without --fault-stacks */

/* Entries the procs map holds at most. */
uint32_t sweep__max_procs(const struct sweep *s);

/*
 * Time the sweep's programs have run in the kernel, summed (run_time_ns of
 * each program; counted while the statistics are on), and their runs.
 * Returns 0 or -errno.
 */
int sweep__run_time_ns(const struct sweep *s, uint64_t *ns, uint64_t *runs);

/* Tracepoints attached. */
unsigned int sweep__nr_links(const struct sweep *s);

/* Detach and free. NULL is a no-op. */
void sweep__free(struct sweep *s);

#endif /* MEMTRACE_SWEEP_H */

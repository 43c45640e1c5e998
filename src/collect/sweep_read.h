/* SPDX-License-Identifier: MIT */
/*
 * sweep_read.h - read the host-wide sweep's maps (bpf/system.bpf.c) into a
 * struct report: one process_report per process that matches the filters,
 * with its analysis view in stacks[] (kind KIND_PROCESS).
 *
 * Each entry is checked against /proc at every read: a process whose pid
 * is gone or now names a later process (start time) is dropped from the
 * map, so exits the kernel did not report and pid reuse leave no state.
 * Values the kernel has not yet reported since the sweep began (a process
 * idle since) are taken from /proc/PID/status and stat.
 */
#ifndef MEMTRACE_SWEEP_READ_H
#define MEMTRACE_SWEEP_READ_H

#include <regex.h>
#include "common/report.h"

/* Which processes a report shows (all when every field is NULL). */
struct sweep_filter {
	const regex_t *comm;		/* --comm: comm matches */
	const regex_t *exclude_comm;	/* --exclude-comm: comm does not match */
	const char *cgroup;		/* --cgroup: cgroup v2 path, descendants included */
};

struct sweep_maps {
	int procs;		/* tgid -> struct sys_proc */
	int counters;		/* per-CPU u64[SYS_CNT_MAX] */
	int stacks;		/* --fault-stacks: stack id -> u64 ips[127]; else -1 */
	int faults;		/* ... struct sys_fault_key -> sampled faults; else -1 */
	uint32_t fault_sample;	/* ... 1 in N */
};

struct sweep_reader;

/*
 * A reader of maps (descriptors borrowed) showing what f selects (copied;
 * its regexes and strings borrowed). proc_root is "/proc" outside tests.
 * Returns NULL and sets errno (ENOMEM).
 */
struct sweep_reader *sweep_reader__new(const struct sweep_maps *maps,
				       const struct sweep_filter *f, const char *proc_root);

/*
 * Fill the procs map with every process now in proc_root, so that idle
 * ones are shown too (entries the kernel made first are kept). Returns the
 * number added, or -errno.
 */
int sweep_reader__seed(struct sweep_reader *r);

/*
 * Read the maps into a new report (system = true, processes in map order,
 * stacks[i] the view of processes[i]; with --fault-stacks each process's
 * sampled first-touch stacks, raw ips, most sampled first; the counts of
 * processes gone are deleted). now_ns is CLOCK_MONOTONIC. Returns
 * 0 and sets *out (caller frees with report__free), or -errno.
 */
int sweep_reader__read(struct sweep_reader *r, uint64_t now_ns, struct report **out);

/* The stack id of a process: its pid and start time, never reused. */
uint64_t sweep__process_id(int pid, uint64_t start_ns);

/* Release the reader. NULL is a no-op. */
void sweep_reader__free(struct sweep_reader *r);

#endif /* MEMTRACE_SWEEP_READ_H */

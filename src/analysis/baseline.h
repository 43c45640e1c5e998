/* SPDX-License-Identifier: MIT */
/*
 * baseline.h - save a final report as a JSON baseline and compare a later
 * report with it (issue 5: --save-baseline FILE, --baseline FILE).
 *
 * Stacks are matched by their signature: the allocation kind and the
 * symbolized frames, each named by its function, or "<module>+0x<offset>"
 * when it has no name, or "?" when not even the module is known. Raw
 * addresses never enter a signature, so baselines survive ASLR and
 * restarts; stacks whose signatures are equal (two call sites in one
 * function, unsymbolized stacks) are merged by summing them.
 *
 * File format (version 1):
 *   { "memtrace_baseline": 1, "pid": N, "comm": "...", "time": unix_s,
 *     "elapsed_s": s, "total_outstanding_bytes": N,
 *     "stacks": [ { "signature": "...", "label": "...", "kind": "malloc",
 *                   "outstanding_bytes": N, "outstanding_allocs": N,
 *                   "growth_bytes_per_s": x, "severity": "low" }, ... ] }
 */
#ifndef MEMTRACE_BASELINE_H
#define MEMTRACE_BASELINE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <json-c/json.h>
#include "common/report.h"

#define BASELINE_VERSION	1

/* One stack of a baseline (merged by signature). */
struct baseline_stack {
	char *signature;
	char *label;		/* for humans, from the largest merged stack */
	int64_t bytes;		/* outstanding */
	int64_t allocs;
	double growth_bps;	/* sum over merged stacks */
	enum severity severity;	/* worst over merged stacks */
};

struct baseline {
	int pid;
	char comm[32];
	double time;
	double elapsed_s;
	int64_t total_bytes;
	size_t nr;		/* sorted by signature, unique */
	struct baseline_stack *stacks;
};

enum baseline_status {
	BASELINE_MATCHED = 0,
	BASELINE_NEW,		/* in the report, not in the baseline */
	BASELINE_VANISHED,	/* in the baseline, not in the report */
};

struct baseline_entry {
	enum baseline_status status;
	const char *signature;	/* owned by the diff */
	const char *label;
	int64_t base_bytes;	/* 0 when new */
	int64_t cur_bytes;	/* 0 when vanished */
	int64_t drift_bytes;	/* cur - base */
	double drift_pct;	/* 100 * drift / base; NAN when base is 0 */
	double growth_bps;	/* current growth, 0 when vanished */
	enum severity severity;	/* current severity, none when vanished */
};

struct baseline_diff {
	struct baseline *base;	/* owned */
	struct baseline *cur;	/* owned: the report as a baseline */
	int64_t base_total, cur_total, drift_total;
	double drift_pct;	/* NAN when base_total is 0 */
	size_t nr_matched, nr_new, nr_vanished;
	size_t nr;		/* sorted by |drift_bytes| descending */
	struct baseline_entry *entries;
};

/*
 * The signature of a stack (see above), malloc'd: the caller frees it.
 * Returns NULL and sets errno (ENOMEM).
 */
char *baseline__signature(const struct stack_report *s);

/*
 * A baseline of r: every stack, merged by signature. Returns NULL and sets
 * errno (ENOMEM). Free with baseline__free().
 */
struct baseline *baseline__from_report(const struct report *r);

/*
 * Write r as a baseline to path with mode, through a new file renamed
 * into place (common/outfile.h: an existing file is replaced only on
 * success, a symbolic link at path is refused with -ELOOP).
 * Returns 0 or -errno (-ENOMEM, -EIO, open/rename errors).
 */
int baseline__save(const struct report *r, const char *path, mode_t mode);

/*
 * Read a baseline written by baseline__save(). Returns NULL and sets errno:
 * the open error (ENOENT...), EINVAL when it is not a version 1 baseline,
 * ENOMEM.
 */
struct baseline *baseline__load(const char *path);

/* Release a baseline. NULL is a no-op. */
void baseline__free(struct baseline *b);

/*
 * Compare r with base. The diff takes ownership of base on success only
 * (on failure the caller still owns it). Returns NULL and sets errno
 * (ENOMEM). Free with baseline_diff__free().
 */
struct baseline_diff *baseline__compare(struct baseline *base, const struct report *r);

/* Release a diff and the baselines it owns. NULL is a no-op. */
void baseline_diff__free(struct baseline_diff *d);

#endif /* MEMTRACE_BASELINE_H */

/* SPDX-License-Identifier: MIT */
/*
 * procview.h - process-level memory view (issue 5): RSS and heap of the
 * target from /proc, and their growth over a window of samples.
 *
 * Every reader takes the proc root ("/proc" in production) so that tests
 * can point it at a directory of fake files.
 */
#ifndef MEMTRACE_PROCVIEW_H
#define MEMTRACE_PROCVIEW_H

#include <stddef.h>
#include "common/report.h"

struct proc_growth;

/*
 * Read <proc_root>/<pid>/status (VmRSS, RssAnon) and
 * <proc_root>/<pid>/smaps_rollup (Anonymous). Sets pv->rss_bytes from
 * VmRSS and pv->heap_bytes from smaps_rollup's Anonymous (the [heap] plus
 * every anonymous private mapping), falling back to RssAnon when
 * smaps_rollup is missing or unreadable; a value not found is -1. Growth
 * fields are set to 0 (see proc_growth__update()).
 * Returns 0, or -errno of opening status (-ENOENT: no such process); on
 * error pv has every byte field -1.
 */
int procview__read(const char *proc_root, int pid, struct proc_view *pv);

/*
 * A growth tracker: keeps the RSS and heap samples of the last window_s
 * seconds (at least min_keep, at most max samples). Returns NULL and sets
 * errno (EINVAL for a bad window, ENOMEM).
 */
struct proc_growth *proc_growth__new(double window_s, size_t min_keep, size_t max);

/*
 * Add pv as the sample at time t (seconds, non-decreasing; an equal t
 * replaces the last sample) and set pv's growth fields to the Theil-Sen
 * slope of each series (0 with fewer than 2 samples; a value <= 0 is
 * unknown and not added).
 * Returns 0, -EINVAL (t going back), or -ENOMEM; pv's growth is 0 on error.
 */
int proc_growth__update(struct proc_growth *g, double t, struct proc_view *pv);

/*
 * Samples in the shorter of the two series (0 when neither has any) and,
 * in *span, the seconds that series covers. Cannot fail.
 */
size_t proc_growth__samples(const struct proc_growth *g, double *span);

/* Release the tracker. NULL is a no-op. */
void proc_growth__free(struct proc_growth *g);

#endif /* MEMTRACE_PROCVIEW_H */

/* SPDX-License-Identifier: MIT */
/* bench_probes.h - bare uprobes (no tracer) for the floors of bench-overhead. */
#ifndef MEMTRACE_BENCH_PROBES_H
#define MEMTRACE_BENCH_PROBES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_POINTS	16	/* -u points held at once */

/* How a floor variant attaches. */
enum floor_kind {
	FLOOR_PERF,		/* perf uprobe events, no program */
	FLOOR_BPF,		/* perf uprobe events, an empty program on each */
	FLOOR_MULTI,		/* uprobe_multi links, an empty program */
	FLOOR_SESSION,		/* a uprobe session link whose entry skips the
				   return: malloc's entry and free only */
};

/* A counting perf uprobe (uretprobe if ret) on path:offset in process pid.
 * Returns the event's fd or -errno. */
int bench__open_uprobe(pid_t pid, const char *path, uint64_t offset, bool ret);

/*
 * -p PID [-e | -m] -u PATH:OFFSET[:ret]...: attach the points in specs (split
 * in place) as kind says, print "bench-overhead: probes attached", hold them
 * until SIGINT or SIGTERM, print each perf event's hits, detach. Returns 0,
 * or 1 after one line on stderr.
 */
int bench__hold_probes(pid_t pid, enum floor_kind kind, char **specs, int nr);

#endif

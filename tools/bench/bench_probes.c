// SPDX-License-Identifier: MIT
/* bench_probes.c - bare uprobes for the floors of bench-overhead (bench_probes.h). */
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tracer/uprobe_multi.h"
#include "bench_probes.h"

static int read_int_file(const char *path, const char *prefix)
{
	FILE *f = fopen(path, "r");
	int v = -1;
	char fmt[32];

	if (!f)
		return -errno;
	snprintf(fmt, sizeof(fmt), "%s%%d", prefix);
	if (fscanf(f, fmt, &v) != 1)
		v = -EINVAL;
	fclose(f);
	return v;
}

int bench__open_uprobe(pid_t pid, const char *path, uint64_t offset, bool ret)
{
	static int type = -1, ret_bit = -1;
	struct perf_event_attr attr;
	int fd;

	if (type < 0) {
		type = read_int_file("/sys/bus/event_source/devices/uprobe/type", "");
		ret_bit = read_int_file("/sys/bus/event_source/devices/uprobe/format/retprobe",
					"config:");
		if (type < 0)
			return type;
	}
	if (ret && ret_bit < 0)
		return -ENOTSUP;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = type;
	attr.config = ret ? 1ULL << ret_bit : 0;
	attr.config1 = (uint64_t)(uintptr_t)path;	/* uprobe_path */
	attr.config2 = offset;				/* probe_offset */
	fd = syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static volatile sig_atomic_t stop_probes;

static void on_stop(int sig)
{
	(void)sig;
	stop_probes = 1;
}

/* One -u PATH:OFFSET[:ret] point. */
struct point {
	const char *path, *off_str;
	uint64_t off;
	bool ret;
};

/* Split spec in place. Returns false (after printing) when malformed. */
static bool parse_point(char *spec, struct point *pt)
{
	char *off = strchr(spec, ':'), *ret;

	if (!off) {
		fprintf(stderr, "bench-overhead: -u %s: want PATH:OFFSET[:ret]\n", spec);
		return false;
	}
	*off++ = '\0';
	ret = strchr(off, ':');
	if (ret)
		*ret++ = '\0';
	pt->path = spec;
	pt->off_str = off;
	pt->off = strtoull(off, NULL, 0);
	pt->ret = ret && !strcmp(ret, "ret");
	return true;
}

/*
 * Perf uprobe events at each point, prog on each if prog >= 0. Returns
 * how many descriptors it left in fds (== nr on success).
 */
static int hold_perf(pid_t pid, int prog, const struct point *pts, int nr, int *fds)
{
	for (int n = 0; n < nr; n++) {
		fds[n] = bench__open_uprobe(pid, pts[n].path, pts[n].off, pts[n].ret);
		if (fds[n] < 0 || (prog >= 0 && ioctl(fds[n], PERF_EVENT_IOC_SET_BPF, prog))) {
			fprintf(stderr, "bench-overhead: uprobe %s:%s: %s\n", pts[n].path,
				pts[n].off_str, strerror(fds[n] < 0 ? -fds[n] : errno));
			if (fds[n] >= 0)
				close(fds[n]);
			return n;
		}
	}
	return nr;
}

/*
 * uprobe_multi links with prog: one per path and kind (entry, return)
 * holding all its points. Returns how many descriptors it left in fds;
 * *err set when a link failed.
 */
static int hold_multi(pid_t pid, int prog, const struct point *pts, int nr, int *fds,
		      int *err)
{
	bool taken[MAX_POINTS] = { false };
	uint64_t offs[MAX_POINTS];
	int n = 0;

	for (int i = 0; i < nr; i++) {
		unsigned int cnt = 0;

		if (taken[i])
			continue;
		for (int j = i; j < nr; j++) {
			if (!taken[j] && pts[j].ret == pts[i].ret && !strcmp(pts[j].path, pts[i].path)) {
				taken[j] = true;
				offs[cnt++] = pts[j].off;
			}
		}
		fds[n] = uprobe_multi__attach(prog, pts[i].path, offs, cnt, pid, pts[i].ret);
		if (fds[n] < 0) {
			fprintf(stderr, "bench-overhead: uprobe_multi link on %s (%u points): %s\n",
				pts[i].path, cnt, strerror(-fds[n]));
			*err = 1;
			return n;
		}
		n++;
	}
	return n;
}

int bench__hold_probes(pid_t pid, enum floor_kind kind, char **specs, int nr)
{
	struct point pts[MAX_POINTS];
	int fds[MAX_POINTS], prog = -1, err = 0, n = 0;
	sigset_t set, old;

	for (int i = 0; i < nr; i++)
		if (!parse_point(specs[i], &pts[i]))
			return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);	/* delivered only in sigsuspend */
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	if (kind != FLOOR_PERF) {
		prog = uprobe_multi__load_empty(kind == FLOOR_MULTI);
		if (prog < 0) {
			fprintf(stderr, "bench-overhead: empty BPF program: %s\n", strerror(-prog));
			return 1;
		}
	}
	if (kind == FLOOR_MULTI) {
		n = hold_multi(pid, prog, pts, nr, fds, &err);
	} else {
		n = hold_perf(pid, prog, pts, nr, fds);
		err = n < nr;
	}
	if (!err) {
		fprintf(stderr, "bench-overhead: probes attached\n");
		while (!stop_probes)
			sigsuspend(&old);
	}
	while (n-- > 0) {
		uint64_t hits = 0;

		if (kind == FLOOR_PERF && !err &&
		    read(fds[n], &hits, sizeof(hits)) == sizeof(hits))
			printf("%s:%s hits %" PRIu64 "\n", pts[n].path, pts[n].off_str, hits);
		close(fds[n]);
	}
	if (prog >= 0)
		close(prog);
	return err;
}


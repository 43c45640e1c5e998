// SPDX-License-Identifier: MIT
/*
 * naive_memleak - bcc memleak's algorithm on libbpf, the naive peer that
 * tools/bench/bench-overhead.c measures memtrace against (bcc's own
 * memleak needs kernel headers at run time, which this machine lacks).
 *
 *   naive_memleak -p PID [-l LIBRARY]
 *
 * Probes the libc that PID maps (or LIBRARY: the allocator it uses, e.g.
 * redis-server's libjemalloc): malloc entry and return, free entry, all
 * at the function's first instruction. Prints "naive_memleak: tracing pid
 * PID" on stderr once attached; on SIGINT or SIGTERM prints the live
 * allocations it tracked and exits 0. Exits 1 on any setup error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "naive_memleak.skel.h"
#include "bench_libc.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static struct bpf_link *attach(struct bpf_program *prog, int pid, const char *lib,
			       const char *func, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = func, .retprobe = ret);
	struct bpf_link *link = bpf_program__attach_uprobe_opts(prog, pid, lib, 0, &opts);

	if (!link)
		fprintf(stderr, "naive_memleak: cannot attach to %s: %s\n", func, strerror(errno));
	return link;
}

/* Live allocations in the allocs map. */
static long count_allocs(int fd)
{
	__u64 key, next;
	long n = 0;

	if (bpf_map_get_next_key(fd, NULL, &key))
		return 0;
	do
		n++;
	while (!bpf_map_get_next_key(fd, &key, &next) && (key = next, 1));
	return n;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[3] = { NULL };
	struct naive_memleak_bpf *skel;
	sigset_t set, old;
	char libc[512];
	int pid = 0, c, err = 1;

	libc[0] = '\0';
	while ((c = getopt(argc, argv, "p:l:")) != -1) {
		if (c == 'p') {
			pid = atoi(optarg);
		} else if (c == 'l') {
			snprintf(libc, sizeof(libc), "%s", optarg);
		} else {
			fprintf(stderr, "usage: naive_memleak -p PID [-l LIBRARY]\n");
			return 1;
		}
	}
	if (pid <= 0) {
		fprintf(stderr, "usage: naive_memleak -p PID [-l LIBRARY]\n");
		return 1;
	}
	if (!libc[0] && bench__libc_path(pid, libc, sizeof(libc))) {
		fprintf(stderr, "naive_memleak: no libc mapped in pid %d\n", pid);
		return 1;
	}
	libbpf_set_print(print_libbpf);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);	/* delivered only in sigsuspend */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = naive_memleak_bpf__open_and_load();	/* nothing to configure */
	if (!skel) {
		fprintf(stderr, "naive_memleak: cannot load BPF programs: %s\n", strerror(errno));
		return 1;
	}
	links[0] = attach(skel->progs.malloc_enter, pid, libc, "malloc", false);
	if (!links[0])
		goto destroy_links;
	links[1] = attach(skel->progs.malloc_exit, pid, libc, "malloc", true);
	if (!links[1])
		goto destroy_links;
	links[2] = attach(skel->progs.free_enter, pid, libc, "free", false);
	if (!links[2])
		goto destroy_links;
	fprintf(stderr, "naive_memleak: tracing pid %d (%s)\n", pid, libc);
	while (!stop)
		sigsuspend(&old);
	printf("naive_memleak: %ld live allocations tracked\n",
	       count_allocs(bpf_map__fd(skel->maps.allocs)));
	err = 0;
destroy_links:
	for (int i = 2; i >= 0; i--)
		bpf_link__destroy(links[i]);
	naive_memleak_bpf__destroy(skel);
	return err;
}

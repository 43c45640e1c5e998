// SPDX-License-Identifier: MIT
/* sweep.c - load and attach the host-wide sweep (sweep.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/system.h"
#include "system.skel.h"
#include "tracer/sweep.h"

struct sweep {
	struct system_bpf *skel;
	int stats_fd;		/* BPF_ENABLE_STATS(RUN_TIME) while we live; -1 */
	unsigned int nr_links;
	uint32_t max_procs;
	bool faults;
};

static bool sweep_verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !sweep_verbose)
		return 0;
	if (level == LIBBPF_WARN || sweep_verbose)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static unsigned int page_shift(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	unsigned int s = 0;

	while (ps > 1) {
		ps >>= 1;
		s++;
	}
	return s ? s : 12;
}

/* Programs that load (and so attach). */
static unsigned int count_loaded(const struct sweep *s)
{
	struct bpf_program *prog;
	unsigned int n = 0;

	bpf_object__for_each_program(prog, s->skel->obj)
		n += bpf_program__autoload(prog);
	return n;
}

struct sweep *sweep__new(const struct sweep_config *cfg)
{
	struct sweep *s = calloc(1, sizeof(*s));
	struct system_bpf *skel;
	int err;

	if (!s)
		return NULL;
	s->stats_fd = -1;
	sweep_verbose = cfg->verbose;
	libbpf_set_print(print_libbpf);
	skel = system_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "memtrace: cannot open the sweep's BPF object: %s\n", strerror(-err));
		goto free_s;
	}
	s->skel = skel;
	s->max_procs = cfg->max_procs ? cfg->max_procs : SYS_PROCS_MAX;
	skel->rodata->self_tgid = (uint32_t)getpid();
	skel->rodata->page_shift = page_shift();
	bpf_map__set_max_entries(skel->maps.procs, s->max_procs);
	bpf_map__set_max_entries(skel->maps.mms, s->max_procs);
	s->faults = cfg->fault_sample > 0;
	skel->rodata->fault_sample = cfg->fault_sample;
	if (s->faults) {
		if (access("/sys/kernel/tracing/events/exceptions/page_fault_user", F_OK) &&
		    access("/sys/kernel/debug/tracing/events/exceptions/page_fault_user", F_OK)) {
			err = -ENOENT;
			fprintf(stderr, "memtrace: --fault-stacks: this kernel has no "
				"exceptions:page_fault_user tracepoint\n");
			goto destroy;
		}
		bpf_map__set_max_entries(skel->maps.sys_stacks, SYS_FAULT_STACKS_MAX);
		bpf_map__set_max_entries(skel->maps.fault_counts, SYS_FAULT_STACKS_MAX);
	} else {
		bpf_program__set_autoload(skel->progs.sys_fault_user, false);
	}
	err = system_bpf__load(skel);
	if (err) {
		fprintf(stderr, "memtrace: cannot load the sweep's BPF programs: %s\n",
			strerror(-err));
		goto destroy;
	}
	err = system_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "memtrace: cannot attach the sweep's tracepoints: %s\n",
			strerror(-err));
		goto destroy;
	}
	s->nr_links = count_loaded(s);
	/* Run-time statistics cost two clock reads per program run; on only
	 * while memtrace runs (the kernel counts holders of this fd). */
	s->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (s->stats_fd < 0 && cfg->verbose)
		fprintf(stderr, "memtrace: BPF run-time statistics unavailable: %s\n",
			strerror(errno));
	return s;

destroy:
	system_bpf__destroy(skel);
free_s:
	free(s);
	errno = -err;
	return NULL;
}

int sweep__procs_fd(const struct sweep *s)
{
	return bpf_map__fd(s->skel->maps.procs);
}

int sweep__counters_fd(const struct sweep *s)
{
	return bpf_map__fd(s->skel->maps.sys_counters);
}

int sweep__stacks_fd(const struct sweep *s)
{
	return s->faults ? bpf_map__fd(s->skel->maps.sys_stacks) : -1;
}

int sweep__faults_fd(const struct sweep *s)
{
	return s->faults ? bpf_map__fd(s->skel->maps.fault_counts) : -1;
}

uint32_t sweep__max_procs(const struct sweep *s)
{
	return s->max_procs;
}

int sweep__run_time_ns(const struct sweep *s, uint64_t *ns, uint64_t *runs)
{
	struct bpf_program *prog;

	*ns = *runs = 0;
	bpf_object__for_each_program(prog, s->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_program__autoload(prog))
			continue;
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			return -errno;
		*ns += info.run_time_ns;
		*runs += info.run_cnt;
	}
	return 0;
}

unsigned int sweep__nr_links(const struct sweep *s)
{
	return s->nr_links;
}

void sweep__free(struct sweep *s)
{
	if (!s)
		return;
	if (s->stats_fd >= 0)
		close(s->stats_fd);
	system_bpf__destroy(s->skel);
	free(s);
}

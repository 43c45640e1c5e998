// SPDX-License-Identifier: MIT
/* sweep_read.c - the host-wide sweep's maps -> struct report (sweep_read.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/system.h"
#include "collect/sweep_read.h"
#include "common/util.h"

/* What the sweep remembers of a process between reads. */
struct known {
	uint64_t id;		/* sweep__process_id() */
	char *cgroup;		/* read once: "" when unknown */
	int64_t heap, data;	/* from /proc until the kernel reports them; -2: not read */
};

struct sweep_reader {
	struct sweep_maps maps;
	struct sweep_filter filter;
	const char *proc_root;
	long hz;
	long page_size;
	int ncpus;
	struct known *known;	/* sorted by id */
	size_t nr_known;
	uint64_t gone;		/* entries dropped because /proc said so */
	uint64_t seeded;	/* entries sweep_reader__seed() made */
};

/* The fields of /proc/PID/stat the sweep uses. */
struct pstat {
	char comm[16];
	uint64_t start_ns;	/* since boot, rounded to clock ticks */
	bool kthread;
};

uint64_t sweep__process_id(int pid, uint64_t start_ns)
{
	/* start time in ticks fits 40 bits for 348 years of uptime at HZ 100 */
	return ((start_ns / 10000000ULL) << 22) ^ (uint64_t)(uint32_t)pid;
}

struct sweep_reader *sweep_reader__new(const struct sweep_maps *maps,
				       const struct sweep_filter *f, const char *proc_root)
{
	struct sweep_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->maps = *maps;
	r->filter = *f;
	r->proc_root = proc_root;
	r->hz = sysconf(_SC_CLK_TCK);
	r->page_size = sysconf(_SC_PAGESIZE);
	r->ncpus = libbpf_num_possible_cpus();
	if (r->hz <= 0)
		r->hz = 100;
	if (r->ncpus <= 0)
		r->ncpus = 1;
	return r;
}

/* Read <root>/<pid>/<name> into buf (NUL-terminated). Returns bytes or -errno. */
static ssize_t read_proc(const struct sweep_reader *r, int pid, const char *name,
			 char *buf, size_t cap)
{
	char path[128];
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/%s", r->proc_root, pid, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = (ssize_t)fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* Parse /proc/PID/stat. Returns 0, -ENOENT (gone) or -EINVAL. */
static int read_pstat(const struct sweep_reader *r, int pid, struct pstat *ps)
{
	char buf[1024], *open, *close, *tok, *save = NULL;
	unsigned long long v[20] = { 0 };
	int field = 3;

	if (read_proc(r, pid, "stat", buf, sizeof(buf)) <= 0)
		return -ENOENT;
	open = strchr(buf, '(');
	close = strrchr(buf, ')');
	if (!open || !close || close < open)
		return -EINVAL;
	snprintf(ps->comm, sizeof(ps->comm), "%.*s", (int)(close - open - 1), open + 1);
	for (tok = strtok_r(close + 2, " ", &save); tok && field <= 22;
	     tok = strtok_r(NULL, " ", &save), field++)
		v[field - 3] = strtoull(tok, NULL, 10);
	if (field <= 22)
		return -EINVAL;
	ps->kthread = v[9 - 3] & 0x00200000;	/* PF_KTHREAD */
	ps->start_ns = v[22 - 3] * (1000000000ULL / (unsigned long long)r->hz);
	return 0;
}

/* Same process: start times within a clock tick (the kernel's are in ns). */
static bool same_start(const struct sweep_reader *r, uint64_t a, uint64_t b)
{
	uint64_t tick = 1000000000ULL / (uint64_t)r->hz;

	return (a > b ? a - b : b - a) <= tick;
}

int sweep_reader__seed(struct sweep_reader *r)
{
	DIR *d = opendir(r->proc_root);
	struct dirent *de;
	int added = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct sys_proc p = { 0 };
		struct pstat ps;
		__u32 tgid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		tgid = (__u32)strtoul(de->d_name, NULL, 10);
		if ((pid_t)tgid == getpid() || read_pstat(r, (int)tgid, &ps) || ps.kthread)
			continue;
		p.start_ns = ps.start_ns;
		if (!bpf_map_update_elem(r->maps.procs, &tgid, &p, BPF_NOEXIST))
			added++;
	}
	closedir(d);
	r->seeded += (uint64_t)added;
	return added;
}

/* kB value of "Name:" in a /proc/PID/status text, or -1. */
static int64_t status_kb(const char *status, const char *name)
{
	const char *p = strstr(status, name);

	if (!p)
		return -1;
	return strtoll(p + strlen(name), NULL, 10) * 1024;
}

/* Size of the [heap] mapping in /proc/PID/maps (brk - start_brk, page
 * rounded); 0 without one, -1 when unreadable. */
static int64_t read_heap(const struct sweep_reader *r, int pid)
{
	char path[128], line[512];
	unsigned long lo, hi;
	int64_t heap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/maps", r->proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "[heap]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			heap = (int64_t)(hi - lo);
			break;
		}
	}
	fclose(f);
	return heap;
}

static char *read_cgroup(const struct sweep_reader *r, int pid)
{
	char buf[4096], *line, *save = NULL;

	if (read_proc(r, pid, "cgroup", buf, sizeof(buf)) <= 0)
		return strdup("");
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "0::", 3))
			return strdup(line + 3);
	}
	return strdup("");
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int cmp_known(const void *a, const void *b)
{
	const struct known *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Under cg (the path or below it; leading and trailing '/' optional)? */
static bool in_cgroup(const char *path, const char *cg)
{
	size_t n;

	while (*path == '/')
		path++;
	while (*cg == '/')
		cg++;
	n = strlen(cg);
	while (n && cg[n - 1] == '/')
		n--;
	if (!n)
		return true;
	return !strncmp(path, cg, n) && (path[n] == '\0' || path[n] == '/');
}

static bool shown(const struct sweep_filter *f, const char *comm, const char *cgroup)
{
	if (f->comm && regexec(f->comm, comm, 0, NULL, 0))
		return false;
	if (f->exclude_comm && !regexec(f->exclude_comm, comm, 0, NULL, 0))
		return false;
	return !f->cgroup || in_cgroup(cgroup, f->cgroup);
}

/*
 * Fill what the kernel has not reported since the sweep began from
 * /proc/PID/status (RSS members: reclaim may change them unseen) and, once
 * per process, maps (heap, VmData: only the process's own brk and mmap
 * calls change them, and those the sweep sees).
 */
static void fill_unseen(const struct sweep_reader *r, const struct sys_proc *p,
			struct known *k, struct process_report *pr)
{
	char status[4096];
	int64_t data = -1;
	bool need = (p->rss_seen & 0xf) != 0xf || !(p->rss_seen & SYS_SEEN_MAPS);

	pr->rss_file_bytes = (int64_t)p->rss[SYS_RSS_FILE];
	pr->rss_anon_bytes = (int64_t)p->rss[SYS_RSS_ANON];
	pr->swap_bytes = (int64_t)p->rss[SYS_RSS_SWAP];
	pr->rss_shmem_bytes = (int64_t)p->rss[SYS_RSS_SHMEM];
	pr->heap_bytes = (int64_t)p->heap_bytes;
	data = (int64_t)p->data_bytes;
	if (need && read_proc(r, pr->pid, "status", status, sizeof(status)) > 0) {
		if (!(p->rss_seen & (1u << SYS_RSS_FILE)))
			pr->rss_file_bytes = status_kb(status, "RssFile:");
		if (!(p->rss_seen & (1u << SYS_RSS_ANON)))
			pr->rss_anon_bytes = status_kb(status, "RssAnon:");
		if (!(p->rss_seen & (1u << SYS_RSS_SWAP)))
			pr->swap_bytes = status_kb(status, "VmSwap:");
		if (!(p->rss_seen & (1u << SYS_RSS_SHMEM)))
			pr->rss_shmem_bytes = status_kb(status, "RssShmem:");
		if (!(p->rss_seen & SYS_SEEN_MAPS) && k->data == -2) {
			k->data = status_kb(status, "VmData:");
			k->heap = read_heap(r, pr->pid);
		}
	}
	if (!(p->rss_seen & SYS_SEEN_MAPS)) {
		data = k->data;
		pr->heap_bytes = k->heap;
	}
	pr->anon_map_bytes = data >= 0 && pr->heap_bytes >= 0 ?
			     (data > pr->heap_bytes ? data - pr->heap_bytes : 0) : -1;
}

static int sum_counters(const struct sweep_reader *r, uint64_t *out)
{
	uint64_t *vals = calloc((size_t)r->ncpus, sizeof(*vals));

	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < SYS_CNT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(r->maps.counters, &i, vals))
			continue;
		for (int c = 0; c < r->ncpus; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

/* Add process tgid to rep unless it is gone (then dropped from the map) or
 * filtered out; remembered in next either way. Returns 0 or -ENOMEM. */
static int add_process(struct sweep_reader *r, struct report *rep, __u32 tgid,
		       const struct sys_proc *p, double boot_to_unix,
		       struct known **next, size_t *nr_next, size_t *cap_next)
{
	struct known key, *k, *nk;
	struct process_report *pr;
	struct stack_report *st;
	struct pstat ps;
	char label[64];
	char *cg;

	if (read_pstat(r, (int)tgid, &ps) || !same_start(r, ps.start_ns, p->start_ns)) {
		bpf_map_delete_elem(r->maps.procs, &tgid);	/* gone, or pid reused */
		r->gone++;
		return 0;
	}
	rep->sweep.processes_tracked++;
	key.id = sweep__process_id((int)tgid, ps.start_ns);
	k = r->nr_known ? bsearch(&key, r->known, r->nr_known, sizeof(*k), cmp_known) : NULL;
	if (array__grow((void **)next, cap_next, *nr_next + 1, sizeof(**next), 256))
		return -ENOMEM;
	nk = &(*next)[*nr_next];
	if (k && k->cgroup) {
		*nk = *k;
		k->cgroup = NULL;	/* moved to next */
	} else {
		nk->id = key.id;
		nk->cgroup = read_cgroup(r, (int)tgid);
		nk->heap = nk->data = -2;
		if (!nk->cgroup)
			return -ENOMEM;
	}
	(*nr_next)++;
	cg = nk->cgroup;
	if (!shown(&r->filter, ps.comm, cg))
		return 0;

	pr = &rep->processes[rep->nr_processes];
	st = &rep->stacks[rep->nr_stacks];
	memset(pr, 0, sizeof(*pr));
	memset(st, 0, sizeof(*st));
	pr->pid = (int)tgid;
	snprintf(pr->comm, sizeof(pr->comm), "%s", ps.comm);
	pr->cgroup = strdup(cg);
	pr->started = boot_to_unix + (double)p->start_ns / 1e9;
	pr->events = p->events;
	fill_unseen(r, p, nk, pr);
	pr->stack = rep->nr_stacks;

	st->stack_id = key.id;
	st->kind = KIND_PROCESS;
	st->outstanding_bytes = (pr->rss_anon_bytes > 0 ? pr->rss_anon_bytes : 0) +
				(pr->swap_bytes > 0 ? pr->swap_bytes : 0);
	st->oldest_age_s = st->mean_age_s = -1;
	st->frames = calloc(1, sizeof(*st->frames));
	snprintf(label, sizeof(label), "%s[%d]", pr->comm, pr->pid);
	if (!pr->cgroup || !st->frames || !(st->frames[0].function = strdup(label))) {
		free(pr->cgroup);
		free(st->frames);
		return -ENOMEM;
	}
	st->nr_frames = 1;
	rep->nr_processes++;
	rep->nr_stacks++;
	rep->totals.outstanding_bytes += st->outstanding_bytes;
	return 0;
}

static int cmp_fault_stack(const void *a, const void *b)
{
	const struct stack_report *x = a, *y = b;

	if (x->alloc_calls != y->alloc_calls)
		return x->alloc_calls > y->alloc_calls ? -1 : 1;
	return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

/* The process of rep with pid, NULL if not shown. */
static struct process_report *shown_process(struct report *rep, int pid)
{
	for (size_t i = 0; i < rep->nr_processes; i++)
		if (rep->processes[i].pid == pid)
			return &rep->processes[i];
	return NULL;
}

/* Attach the sampled fault stacks to rep's processes; drop those of processes
 * no longer tracked. Returns 0 or -ENOMEM. */
static int read_faults(struct sweep_reader *r, struct report *rep)
{
	struct sys_fault_key key, *prev = NULL, *keys = NULL;
	size_t nr = 0, cap = 0;
	uint64_t ips[127];
	int err = 0;

	while (!bpf_map_get_next_key(r->maps.faults, prev, &key)) {
		if (array__grow((void **)&keys, &cap, nr + 1, sizeof(*keys), 256)) {
			free(keys);
			return -ENOMEM;
		}
		keys[nr++] = key;
		prev = &keys[nr - 1];
	}
	for (size_t i = 0; i < nr && !err; i++) {
		struct process_report *p;
		struct stack_report *st;
		uint64_t samples;
		__u32 id = (__u32)keys[i].stack_id, n = 0;
		size_t c;

		if (bpf_map_lookup_elem(r->maps.faults, &keys[i], &samples))
			continue;
		if (bpf_map_lookup_elem(r->maps.procs, &keys[i].tgid, &(struct sys_proc){ 0 })) {
			bpf_map_delete_elem(r->maps.faults, &keys[i]);	/* its process is gone */
			continue;
		}
		p = shown_process(rep, (int)keys[i].tgid);
		if (!p || bpf_map_lookup_elem(r->maps.stacks, &id, ips))
			continue;
		while (n < 127 && ips[n])
			n++;
		c = p->nr_fault_stacks;
		if (array__grow((void **)&p->fault_stacks, &c, p->nr_fault_stacks + 1,
				sizeof(*p->fault_stacks), 8)) {
			err = -ENOMEM;
			break;
		}
		st = &p->fault_stacks[p->nr_fault_stacks];
		memset(st, 0, sizeof(*st));
		st->ips = malloc((n ? n : 1) * sizeof(*st->ips));
		if (!st->ips) {
			err = -ENOMEM;
			break;
		}
		memcpy(st->ips, ips, n * sizeof(*ips));
		st->nr_ips = n;
		st->stack_id = id;
		st->kind = KIND_PROCESS;
		st->alloc_calls = samples;
		st->outstanding_allocs = (int64_t)(samples * r->maps.fault_sample);
		st->outstanding_bytes = st->outstanding_allocs * r->page_size;
		st->oldest_age_s = st->mean_age_s = -1;
		p->nr_fault_stacks++;
	}
	for (size_t i = 0; i < rep->nr_processes; i++)
		qsort(rep->processes[i].fault_stacks, rep->processes[i].nr_fault_stacks,
		      sizeof(struct stack_report), cmp_fault_stack);
	free(keys);
	return err;
}

int sweep_reader__read(struct sweep_reader *r, uint64_t now_ns, struct report **out)
{
	struct report *rep = calloc(1, sizeof(*rep));
	uint64_t cnt[SYS_CNT_MAX];
	struct known *next = NULL;
	size_t nr_next = 0, cap_next = 0, cap = 0, nr_keys = 0, cap_keys = 0;
	__u32 key, *prev = NULL, *keys = NULL;
	struct timespec bt;
	double boot_to_unix;
	int err = 0;

	(void)now_ns;
	if (!rep)
		return -ENOMEM;
	rep->system = true;
	rep->suspect = -1;
	clock_gettime(CLOCK_BOOTTIME, &bt);
	boot_to_unix = clock__s(CLOCK_REALTIME) - ((double)bt.tv_sec + bt.tv_nsec / 1e9);
	/* Keys first: deleting entries while walking would restart the walk. */
	while (!bpf_map_get_next_key(r->maps.procs, prev, &key)) {
		if (array__grow((void **)&keys, &cap_keys, nr_keys + 1, sizeof(*keys), 256)) {
			err = -ENOMEM;
			break;
		}
		keys[nr_keys++] = key;
		prev = &key;
	}
	qsort(keys, nr_keys, sizeof(*keys), cmp_u32);
	for (size_t i = 0; !err && i < nr_keys; i++) {
		struct sys_proc p;
		__u32 cur = keys[i];

		if (i && keys[i - 1] == cur)
			continue;
		if (bpf_map_lookup_elem(r->maps.procs, &cur, &p))
			continue;	/* exited in between */
		if (rep->nr_processes == cap) {
			size_t c1 = cap, c2 = cap;

			if (array__grow((void **)&rep->processes, &c1, cap + 1,
					sizeof(*rep->processes), 256) ||
			    array__grow((void **)&rep->stacks, &c2, cap + 1,
					sizeof(*rep->stacks), 256)) {
				err = -ENOMEM;
				break;
			}
			cap = c1 < c2 ? c1 : c2;
		}
		err = add_process(r, rep, cur, &p, boot_to_unix, &next, &nr_next, &cap_next);
	}
	free(keys);
	for (size_t i = 0; i < r->nr_known; i++)
		free(r->known[i].cgroup);
	free(r->known);
	qsort(next, nr_next, sizeof(*next), cmp_known);
	r->known = next;
	r->nr_known = nr_next;
	if (err) {
		report__free(rep);
		return err;
	}
	rep->sweep.processes_shown = rep->nr_processes;
	if (r->maps.faults >= 0) {
		rep->sweep.fault_sample = r->maps.fault_sample;
		err = read_faults(r, rep);
		if (err) {
			report__free(rep);
			return err;
		}
	}
	if (!sum_counters(r, cnt)) {
		rep->sweep.events = cnt[SYS_CNT_EVENTS];
		rep->sweep.processes_seen = cnt[SYS_CNT_PROCS_NEW] + r->seeded;
		rep->sweep.processes_exited = cnt[SYS_CNT_PROCS_EXITED] + r->gone;
		rep->sweep.foreign_mm_events = cnt[SYS_CNT_FOREIGN_MM];
		rep->sweep.faults = cnt[SYS_CNT_FAULTS];
		rep->sweep.fault_samples = cnt[SYS_CNT_FAULT_SAMPLES];
		rep->totals.dropped_events = cnt[SYS_CNT_DROP_FULL] + cnt[SYS_CNT_DROP_MMS_FULL] +
					     cnt[SYS_CNT_DROP_FAULT];
	}
	*out = rep;
	return 0;
}

void sweep_reader__free(struct sweep_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nr_known; i++)
		free(r->known[i].cgroup);
	free(r->known);
	free(r);
}

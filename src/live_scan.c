// SPDX-License-Identifier: MIT
/* live_scan.c - run bpf/live_scan.bpf.c's iterators and read what they folded. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "live_scan.h"
#include "live_scan.skel.h"

struct live_scan {
	struct live_scan_bpf *skel;
	struct bpf_link *allocs_link;
	struct bpf_link *mmaps_link;	/* NULL: no mmaps map */
	uint32_t max_keys;
	bool dirty;			/* the accumulator may hold entries */
	struct live_key *keys;		/* last run's entries, cap of each */
	struct live_acc *vals;
	size_t cap, nr;
};

/* libbpf's messages while loading, demoted to debug (see live_scan__new). */
static libbpf_print_fn_t saved_print;

static int print_as_debug(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	return saved_print ? saved_print(LIBBPF_DEBUG, fmt, args) : 0;
}

static int attach_iter(struct bpf_program *prog, int map_fd, struct bpf_link **out)
{
	union bpf_iter_link_info linfo = { .map.map_fd = (__u32)map_fd };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo,
		    .link_info_len = sizeof(linfo));
	struct bpf_link *link = bpf_program__attach_iter(prog, &opts);

	if (!link)
		return errno ? -errno : -EINVAL;
	*out = link;
	return 0;
}

struct live_scan *live_scan__new(int allocs_fd, int mmaps_fd, uint32_t max_keys)
{
	struct live_scan *ls = calloc(1, sizeof(*ls));
	libbpf_print_fn_t prev;
	int err;

	if (!ls)
		return NULL;
	prev = libbpf_set_print(print_as_debug);
	saved_print = prev;
	ls->skel = live_scan_bpf__open();
	if (!ls->skel) {
		err = errno ? -errno : -EINVAL;
		goto restore_print;
	}
	ls->max_keys = max_keys ? max_keys : LIVE_ACC_MAX_ENTRIES;
	err = bpf_map__set_max_entries(ls->skel->maps.live_acc, ls->max_keys);
	if (err)
		goto destroy_skel;
	if (mmaps_fd < 0)
		bpf_program__set_autoload(ls->skel->progs.scan_mmaps, false);
	err = live_scan_bpf__load(ls->skel);
	if (err)
		goto destroy_skel;
	/* Parameters and statistics go through the mmap'd .bss. */
	if (!(bpf_map__map_flags(ls->skel->maps.bss) & BPF_F_MMAPABLE)) {
		err = -EOPNOTSUPP;
		goto destroy_skel;
	}
	err = attach_iter(ls->skel->progs.scan_allocs, allocs_fd, &ls->allocs_link);
	if (err)
		goto destroy_skel;
	if (mmaps_fd >= 0) {
		err = attach_iter(ls->skel->progs.scan_mmaps, mmaps_fd, &ls->mmaps_link);
		if (err)
			goto destroy_allocs_link;
	}
	libbpf_set_print(prev);
	return ls;

destroy_allocs_link:
	bpf_link__destroy(ls->allocs_link);
destroy_skel:
	live_scan_bpf__destroy(ls->skel);
restore_print:
	libbpf_set_print(prev);
	free(ls);
	errno = -err;
	return NULL;
}

void live_scan__free(struct live_scan *ls)
{
	if (!ls)
		return;
	bpf_link__destroy(ls->mmaps_link);
	bpf_link__destroy(ls->allocs_link);
	live_scan_bpf__destroy(ls->skel);
	free(ls->keys);
	free(ls->vals);
	free(ls);
}

uint32_t live_scan__max_keys(const struct live_scan *ls)
{
	return ls->max_keys;
}

/* One pass of an iterator: it writes nothing, so read until EOF. The
 * kernel stops a read() that visited 1M objects without output with
 * EAGAIN; the next read() continues where it stopped. */
static int run_iter(struct bpf_link *link)
{
	char buf[64];
	int fd = bpf_iter_create(bpf_link__fd(link));
	int err = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n == 0)
			break;
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			err = -errno;
			break;
		}
	}
	close(fd);
	return err;
}

static int grow(struct live_scan *ls, size_t cap)
{
	struct live_key *k;
	struct live_acc *v;

	if (cap <= ls->cap)
		return 0;
	k = realloc(ls->keys, cap * sizeof(*k));
	if (!k)
		return -ENOMEM;
	ls->keys = k;
	v = realloc(ls->vals, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ls->vals = v;
	ls->cap = cap;
	return 0;
}

/* Read and delete every accumulator entry (hint: how many there are). */
static int acc_drain(struct live_scan *ls, size_t hint)
{
	int fd = bpf_map__fd(ls->skel->maps.live_acc);
	__u64 in = 0, out = 0;
	bool first = true;
	size_t total = 0;
	int err;

	ls->nr = 0;
	err = grow(ls, hint + 64);
	if (err)
		return err;
	for (;;) {
		__u32 count;

		if (total == ls->cap && (err = grow(ls, ls->cap * 2)))
			return err;
		count = (__u32)(ls->cap - total);
		err = bpf_map_lookup_and_delete_batch(fd, first ? NULL : &in, &out,
						      ls->keys + total, ls->vals + total,
						      &count, NULL);
		if (err) {
			err = -errno;
			if (err == -ENOENT) {	/* the last buckets */
				total += count;
				break;
			}
			if (err == -ENOSPC) {	/* a bucket larger than count */
				if ((err = grow(ls, ls->cap * 2)))
					return err;
				continue;
			}
			return err;
		}
		total += count;
		in = out;
		first = false;
	}
	ls->nr = total;
	ls->dirty = false;
	return 0;
}

int live_scan__run(struct live_scan *ls, uint64_t cutoff_ns, struct live_scan_result *res)
{
	volatile struct live_scan_bpf__bss *bss = ls->skel->bss;
	uint64_t allocs, mmaps = 0, lost, keys;
	int err, drain_err;

	if (ls->dirty) {	/* an earlier run could not empty it */
		err = acc_drain(ls, 0);
		if (err)
			return err;
	}
	bss->cutoff_ns = cutoff_ns;
	bss->stats.seen = 0;
	bss->stats.lost = 0;
	bss->stats.keys = 0;
	ls->dirty = true;
	err = run_iter(ls->allocs_link);
	allocs = bss->stats.seen;
	if (!err && ls->mmaps_link) {
		err = run_iter(ls->mmaps_link);
		mmaps = bss->stats.seen - allocs;
	}
	lost = bss->stats.lost;
	keys = bss->stats.keys;
	drain_err = acc_drain(ls, (size_t)keys);
	if (err)
		return err;
	if (drain_err)
		return drain_err;
	if (lost)
		return -ENOSPC;
	res->keys = ls->keys;
	res->vals = ls->vals;
	res->nr = ls->nr;
	res->allocs = allocs;
	res->mmaps = mmaps;
	return 0;
}

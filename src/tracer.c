// SPDX-License-Identifier: MIT
/* tracer.c - open, configure, load, attach and destroy the BPF side. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "../bpf/memtrace.h"
#include "memtrace.skel.h"
#include "elf_funcs.h"
#include "probe_place.h"
#include "tracer.h"
#include "unwind_maps.h"

#define MAX_LINKS 32

struct tracer {
	struct memtrace_bpf *skel;
	struct bpf_link *links[MAX_LINKS];
	unsigned int nr_links;
	struct ring_buffer *rb;
	struct unwind_maps *unwind;	/* dwarf mode */
	void (*notify_cb)(const void *ev, void *ctx);
	void *notify_ctx;
	struct tracer_config cfg;
	int tgid;
};

/* The probed functions. x86_64 argument registers the entry reads. */
struct probe_fn {
	const char *name;
	int kind;		/* enum alloc_kind; KIND_MAX = free */
	bool required;
	bool ret;		/* has a return probe */
	int nargs;		/* argument registers the entry program reads */
};

static const struct probe_fn probe_fns[] = {
	{ "malloc", KIND_MALLOC, true, true, 1 },
	{ "calloc", KIND_CALLOC, false, true, 3 },
	{ "realloc", KIND_REALLOC, false, true, 3 },
	{ "reallocarray", KIND_REALLOCARRAY, false, true, 7 },
	{ "posix_memalign", KIND_POSIX_MEMALIGN, false, true, 7 },
	{ "memalign", KIND_MEMALIGN, false, true, 3 },
	{ "aligned_alloc", KIND_ALIGNED_ALLOC, false, true, 3 },
	{ "valloc", KIND_VALLOC, false, true, 1 },
	{ "pvalloc", KIND_PVALLOC, false, true, 1 },
	{ "free", KIND_MAX, true, false, 1 },
};

static struct bpf_program *entry_prog(struct memtrace_bpf *skel, int kind)
{
	switch (kind) {
	case KIND_MALLOC: return skel->progs.malloc_enter;
	case KIND_CALLOC: return skel->progs.calloc_enter;
	case KIND_REALLOC: return skel->progs.realloc_enter;
	case KIND_REALLOCARRAY: return skel->progs.reallocarray_enter;
	case KIND_POSIX_MEMALIGN: return skel->progs.posix_memalign_enter;
	case KIND_ALIGNED_ALLOC: return skel->progs.aligned_alloc_enter;
	case KIND_MEMALIGN: return skel->progs.memalign_enter;
	case KIND_VALLOC: return skel->progs.valloc_enter;
	case KIND_PVALLOC: return skel->progs.pvalloc_enter;
	default: return skel->progs.free_enter;
	}
}

static bool verbose_libbpf;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose_libbpf)
		return 0;
	if (level == LIBBPF_INFO && !verbose_libbpf)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Exponential(1) quantiles in 16.16 fixed point, shuffled by a fixed LCG. */
static void fill_exp_draws(volatile __u32 *draws, uint64_t seed)
{
	uint64_t x = seed * 6364136223846793005ULL + 1442695040888963407ULL;

	for (unsigned int i = 0; i < SAMPLE_DRAWS; i++) {
		double u = (i + 0.5) / SAMPLE_DRAWS;

		draws[i] = (__u32)(-log(u) * 65536.0);
	}
	for (unsigned int i = SAMPLE_DRAWS - 1; i > 0; i--) {
		unsigned int j;
		__u32 t;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (unsigned int)((x >> 33) % (i + 1));
		t = draws[i];
		draws[i] = draws[j];
		draws[j] = t;
	}
}

struct tracer *tracer__new(const struct tracer_config *cfg, int tgid)
{
	struct tracer *tr = calloc(1, sizeof(*tr));
	struct memtrace_bpf *skel;
	int err;

	if (!tr)
		return NULL;
	tr->cfg = *cfg;
	tr->tgid = tgid;
	verbose_libbpf = cfg->verbose;
	libbpf_set_print(print_libbpf);

	skel = memtrace_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "memtrace: cannot open BPF object: %s\n", strerror(-err));
		goto free_tr;
	}
	tr->skel = skel;
	skel->rodata->target_tgid = tgid;
	skel->rodata->unwind_mode = cfg->unwind;
	skel->rodata->sample_bytes = cfg->sample_bytes;
	skel->rodata->sample_seed = cfg->sample_seed;
	skel->rodata->temp_ns = cfg->temp_ns;
	skel->rodata->stop_on_code_map = cfg->stop_on_code_map && cfg->unwind == UNWIND_DWARF;
	skel->rodata->page_size = (__u32)sysconf(_SC_PAGESIZE);
	if (cfg->sample_bytes)
		fill_exp_draws(skel->rodata->exp_draws, cfg->sample_seed);
	bpf_map__set_max_entries(skel->maps.allocs, (__u32)cfg->max_allocs);
	bpf_map__set_max_entries(skel->maps.stacks, (__u32)cfg->max_stacks);
	bpf_map__set_max_entries(skel->maps.aggs, (__u32)cfg->max_stacks);
	if (cfg->unwind == UNWIND_DWARF) {
		bpf_map__set_max_entries(skel->maps.unwind_rows, (__u32)cfg->unwind_rows);
		bpf_map__set_max_entries(skel->maps.unwind_modules, 1);
	} else {		/* the walker never looks: keep them tiny */
		bpf_map__set_max_entries(skel->maps.unwind_rows, 1);
		bpf_map__set_max_entries(skel->maps.unwind_tables, 1);
		bpf_map__set_max_entries(skel->maps.unwind_modules, 1);
	}
	if (!cfg->trace_mmap) {
		bpf_program__set_autoload(skel->progs.mmap_enter, false);
		bpf_program__set_autoload(skel->progs.mmap_exit, false);
		bpf_program__set_autoload(skel->progs.munmap_enter, false);
		bpf_program__set_autoload(skel->progs.munmap_exit, false);
		bpf_program__set_autoload(skel->progs.mremap_enter, false);
		bpf_program__set_autoload(skel->progs.mremap_exit, false);
	}
	err = memtrace_bpf__load(skel);
	if (err) {
		fprintf(stderr, "memtrace: cannot load BPF programs: %s%s\n", strerror(-err),
			err == -EPERM ? " (run as root, or with CAP_BPF and CAP_PERFMON)" :
			" (rerun with -v for the verifier log)");
		goto destroy_skel;
	}
	if (cfg->unwind == UNWIND_DWARF) {
		tr->unwind = unwind_maps__new(skel->maps.unwind_rows, skel->maps.unwind_tables,
					      skel->maps.unwind_modules);
		if (!tr->unwind) {
			err = -errno;
			fprintf(stderr, "memtrace: cannot set up unwind tables: %s\n", strerror(-err));
			goto destroy_skel;
		}
	}
	return tr;

destroy_skel:
	memtrace_bpf__destroy(skel);
free_tr:
	free(tr);
	errno = -err;
	return NULL;
}

static int add_link(struct tracer *tr, struct bpf_link *link)
{
	int err = libbpf_get_error(link);

	if (err)
		return err;
	if (tr->nr_links == MAX_LINKS) {
		bpf_link__destroy(link);
		return -E2BIG;
	}
	tr->links[tr->nr_links++] = link;
	return 0;
}

static int attach_uprobe(struct tracer *tr, struct bpf_program *prog, const char *path,
			 uint64_t off, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);

	return add_link(tr, bpf_program__attach_uprobe_opts(prog, tr->tgid, path, off, &opts));
}

/* Syscall tracepoints need tracefs; mount it where it is expected if absent. */
static int ensure_tracefs(void)
{
	struct stat st;

	if (stat("/sys/kernel/tracing/events", &st) == 0 ||
	    stat("/sys/kernel/debug/tracing/events", &st) == 0)
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return -errno;
	return 0;
}

static bool is_alias(const uint64_t *done, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		if (done[i] == off)
			return true;
	return false;
}

static int attach_fns(struct tracer *tr, const struct target *t)
{
	struct elf_funcs *ef = elf_funcs__open(t->alloc_path);
	uint64_t done[sizeof(probe_fns) / sizeof(probe_fns[0])];
	size_t nr_done = 0;
	int err = 0;

	if (!ef) {
		err = -errno;
		fprintf(stderr, "memtrace: cannot read allocator %s: %s\n", t->alloc_name,
			strerror(-err));
		return err;
	}
	for (size_t i = 0; i < sizeof(probe_fns) / sizeof(probe_fns[0]); i++) {
		const struct probe_fn *p = &probe_fns[i];
		struct elf_func f;
		struct probe_place place = { .offset = 0 };

		if (elf_funcs__find(ef, p->name, &f)) {
			if (p->required) {
				fprintf(stderr, "memtrace: %s has no %s\n", t->alloc_name, p->name);
				err = -ENOENT;
				goto close_elf;
			}
			if (tr->cfg.verbose)
				fprintf(stderr, "memtrace: %s: no %s, not probed\n", t->alloc_name,
					p->name);
			continue;
		}
		if (is_alias(done, nr_done, f.offset)) {
			/* same code as a function already probed (glibc's
			 * aligned_alloc is memalign): one probe, the first name */
			if (tr->cfg.verbose)
				fprintf(stderr, "memtrace: %s: same code as a function already probed\n",
					p->name);
			continue;
		}
		done[nr_done++] = f.offset;
		/* A return probe must sit at the entry (it swaps the return
		 * address at [sp]) and shares that breakpoint with the entry
		 * probe. Entry-only probes (free) move to the first instruction
		 * the kernel emulates: free_enter reads only its argument
		 * register, never sp, so a stack pointer change is harmless. */
		if (p->ret || tr->cfg.probe_at_entry ||
		    probe_place__choose(ef, &f, probe_place__arg_regs(p->nargs), &place)) {
			place.offset = f.offset;
			snprintf(place.reason, sizeof(place.reason), "%s",
				 p->ret ? "entry (shared with the return probe)" : "entry");
		}
		if (tr->cfg.verbose)
			fprintf(stderr, "memtrace: %s: %s+0x%llx probe at +0x%llx: %s\n",
				p->name, t->alloc_name, (unsigned long long)f.offset,
				(unsigned long long)(place.offset - f.offset), place.reason);
		err = attach_uprobe(tr, entry_prog(tr->skel, p->kind), t->alloc_path,
				    place.offset, false);
		if (!err && p->ret)
			err = attach_uprobe(tr, tr->skel->progs.alloc_return, t->alloc_path,
					    f.offset, true);
		if (err) {
			fprintf(stderr, "memtrace: cannot attach to %s in %s: %s\n", p->name,
				t->alloc_name, strerror(-err));
			goto close_elf;
		}
	}
close_elf:
	elf_funcs__close(ef);
	return err;
}

static int attach_syscalls(struct tracer *tr)
{
	static const char *const tps[] = {
		"sys_enter_mmap", "sys_exit_mmap", "sys_enter_munmap", "sys_exit_munmap",
		"sys_enter_mremap", "sys_exit_mremap",
	};
	struct bpf_program *progs[] = {
		tr->skel->progs.mmap_enter, tr->skel->progs.mmap_exit,
		tr->skel->progs.munmap_enter, tr->skel->progs.munmap_exit,
		tr->skel->progs.mremap_enter, tr->skel->progs.mremap_exit,
	};
	int err = ensure_tracefs();

	if (err) {
		fprintf(stderr, "memtrace: tracefs is not mounted and cannot be: %s\n",
			strerror(-err));
		return err;
	}
	for (size_t i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		err = add_link(tr, bpf_program__attach_tracepoint(progs[i], "syscalls", tps[i]));
		if (err) {
			fprintf(stderr, "memtrace: cannot attach to syscalls:%s: %s\n", tps[i],
				strerror(-err));
			return err;
		}
	}
	return 0;
}

static int on_notify(void *ctx, void *data, size_t len)
{
	struct tracer *tr = ctx;

	if (len >= sizeof(struct notify_event) && tr->notify_cb)
		tr->notify_cb(data, tr->notify_ctx);
	return 0;
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/*
 * Each uprobe unregistration waits for an RCU grace period (0.1-0.25 s
 * here): destroy the links in parallel, in reverse order of attachment.
 */
static void detach_all(struct tracer *tr)
{
	pthread_t th[MAX_LINKS];
	bool started[MAX_LINKS] = { false };

	for (unsigned int i = tr->nr_links; i-- > 0;)
		started[i] = pthread_create(&th[i], NULL, destroy_link, tr->links[i]) == 0;
	for (unsigned int i = tr->nr_links; i-- > 0;) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			bpf_link__destroy(tr->links[i]);
	}
	tr->nr_links = 0;
}

int tracer__attach(struct tracer *tr, const struct target *t)
{
	int err;

	if (tr->unwind && !t->launched) {
		/* Tables before probes: the first stack already unwinds fully.
		 * A launched command gets its tables once it has exec'd. */
		err = unwind_maps__add_pid(tr->unwind, t->pid);
		if (err < 0 && err != -ESRCH) {
			fprintf(stderr, "memtrace: cannot load unwind tables of pid %d: %s\n",
				t->pid, strerror(-err));
			return err;
		}
	}
	err = attach_fns(tr, t);
	if (!err && tr->cfg.trace_mmap)
		err = attach_syscalls(tr);
	if (!err) {
		tr->rb = ring_buffer__new(bpf_map__fd(tr->skel->maps.notify), on_notify, tr, NULL);
		if (!tr->rb)
			err = -errno;
	}
	if (err)
		detach_all(tr);
	return err;
}

int tracer__allocs_fd(const struct tracer *tr) { return bpf_map__fd(tr->skel->maps.allocs); }
int tracer__mmaps_fd(const struct tracer *tr) { return bpf_map__fd(tr->skel->maps.mmaps); }
int tracer__stacks_fd(const struct tracer *tr) { return bpf_map__fd(tr->skel->maps.stacks); }
int tracer__aggs_fd(const struct tracer *tr) { return bpf_map__fd(tr->skel->maps.aggs); }
int tracer__counters_fd(const struct tracer *tr) { return bpf_map__fd(tr->skel->maps.counters); }

int tracer__notify_fd(const struct tracer *tr)
{
	return tr->rb ? ring_buffer__epoll_fd(tr->rb) : -1;
}

int tracer__notify_consume(struct tracer *tr, void (*cb)(const void *ev, void *ctx), void *ctx)
{
	if (!tr->rb)
		return 0;
	tr->notify_cb = cb;
	tr->notify_ctx = ctx;
	return ring_buffer__consume(tr->rb);
}

int tracer__refresh_unwind(struct tracer *tr)
{
	int err;

	if (!tr->unwind)
		return 0;
	err = unwind_maps__add_pid(tr->unwind, tr->tgid);
	return err < 0 ? err : 0;
}

void tracer__unwind_usage(const struct tracer *tr, uint64_t *rows, uint64_t *rows_max,
			  uint64_t *tables, uint64_t *failed)
{
	struct unwind_maps_stats st;

	*rows = *rows_max = *tables = *failed = 0;
	if (!tr->unwind)
		return;
	unwind_maps__stats(tr->unwind, &st);
	*rows = st.rows_used;
	*rows_max = st.rows_max;
	*tables = st.tables;
	*failed = st.no_table + st.tables_full + st.rows_full + st.open_failures;
}

unsigned int tracer__nr_links(const struct tracer *tr)
{
	return tr->nr_links;
}

uint64_t tracer__map_max(const struct tracer *tr, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(tr->skel->obj, name);

	return m ? bpf_map__max_entries(m) : 0;
}

void tracer__free(struct tracer *tr)
{
	if (!tr)
		return;
	ring_buffer__free(tr->rb);
	detach_all(tr);
	unwind_maps__free(tr->unwind);
	memtrace_bpf__destroy(tr->skel);
	free(tr);
}

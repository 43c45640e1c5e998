// SPDX-License-Identifier: MIT
/* tracer.c - open, configure, load, attach and destroy the BPF side. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/memtrace.h"
#include "memtrace.skel.h"
#include "target/elf_funcs.h"
#include "tracer/link_set.h"
#include "target/probe_place.h"
#include "tracer/tables.h"
#include "tracer/tracer.h"
#include "tracer/tracer_paths.h"
#include "tracer/uprobe_multi.h"
#include "unwind/unwind_maps.h"

struct tracer {
	struct memtrace_bpf *skel;
	struct link_set links;	/* in order of attachment */
	bool multi;		/* uprobes through uprobe_multi links */
	bool session;		/* malloc family through uprobe session links */
	struct ring_buffer *rb;
	struct unwind_maps *unwind;	/* dwarf mode */
	struct alloc_tables *tables;	/* the live allocations' tables */
	void (*notify_cb)(const void *ev, void *ctx);
	void *notify_ctx;
	struct tracer_config cfg;
	int tgid;
	struct tracer_paths paths;	/* what this kernel made of cfg */
	struct bpf_program *alloc_return, *alloc_session, *mmap_exit, *mremap_exit; /* the walker's */
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

#define NR_PROBE_FNS	(sizeof(probe_fns) / sizeof(probe_fns[0]))

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
static bool quiet_libbpf;	/* a load that may fail: its fallback speaks */

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if ((level != LIBBPF_WARN || quiet_libbpf) && !verbose_libbpf)	/* debug and info: -v */
		return 0;
	return vfprintf(stderr, fmt, args);
}

void tracer__libbpf_print(bool verbose)
{
	verbose_libbpf = verbose;
	libbpf_set_print(print_libbpf);
}

/*
 * The programs that walk stacks, of the walker mode (enum unwind_mode):
 * the other walker's are not loaded, so --unwind fp never depends on the
 * dwarf walker verifying.
 */
static void choose_walker(struct tracer *tr, int mode)
{
	struct memtrace_bpf *skel = tr->skel;
	bool dwarf = mode == UNWIND_DWARF;

	tr->alloc_return = dwarf ? skel->progs.alloc_return : skel->progs.alloc_return_fp;
	tr->alloc_session = dwarf ? skel->progs.alloc_sess : skel->progs.alloc_sess_fp;
	tr->mmap_exit = dwarf ? skel->progs.mmap_exit : skel->progs.mmap_exit_fp;
	tr->mremap_exit = dwarf ? skel->progs.mremap_exit : skel->progs.mremap_exit_fp;
	bpf_program__set_autoload(dwarf ? skel->progs.alloc_return_fp : skel->progs.alloc_return,
				  false);
	bpf_program__set_autoload(dwarf ? skel->progs.alloc_sess_fp :
				  skel->progs.alloc_sess, false);
	bpf_program__set_autoload(dwarf ? skel->progs.mmap_exit_fp : skel->progs.mmap_exit, false);
	bpf_program__set_autoload(dwarf ? skel->progs.mremap_exit_fp : skel->progs.mremap_exit,
				  false);
}

/*
 * Every uprobe program: loaded for uprobe_multi, or left as they are. With
 * sessions, the walker's session program replaces the malloc family's
 * entry programs and its return program; without, it does not load.
 */
static void set_uprobe_attach_type(struct tracer *tr)
{
	for (size_t i = 0; i < NR_PROBE_FNS; i++) {
		struct bpf_program *p = entry_prog(tr->skel, probe_fns[i].kind);

		if (tr->session && probe_fns[i].ret)
			bpf_program__set_autoload(p, false);
		else if (tr->multi)
			bpf_program__set_expected_attach_type(p,
				(enum bpf_attach_type)UPROBE_MULTI_ATTACH_TYPE);
	}
	if (tr->session) {
		bpf_program__set_autoload(tr->alloc_return, false);
		bpf_program__set_expected_attach_type(tr->alloc_session,
			(enum bpf_attach_type)UPROBE_SESSION_ATTACH_TYPE);
	} else {
		bpf_program__set_autoload(tr->alloc_session, false);
		if (tr->multi)
			bpf_program__set_expected_attach_type(tr->alloc_return,
				(enum bpf_attach_type)UPROBE_MULTI_ATTACH_TYPE);
	}
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

/*
 * Open the skeleton into tr->skel, configured for tr->cfg with the walker
 * mode (enum unwind_mode), and load it. Returns 0, or -errno with
 * tr->skel destroyed (NULL); messages only for what is not a load failure.
 */
static int open_load_once(struct tracer *tr, int mode)
{
	const struct tracer_config *cfg = &tr->cfg;
	struct memtrace_bpf *skel;
	int err;

	skel = memtrace_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "memtrace: cannot open BPF object: %s\n", strerror(-err));
		return err ? err : -EINVAL;
	}
	tr->skel = skel;
	skel->rodata->target_tgid = tr->tgid;
	skel->rodata->sample_bytes = cfg->sample_bytes;
	skel->rodata->sample_seed = cfg->sample_seed;
	skel->rodata->temp_ns = cfg->temp_ns;
	skel->rodata->stop_on_code_map = cfg->stop_on_code_map && mode == UNWIND_DWARF;
	skel->rodata->page_size = (__u32)sysconf(_SC_PAGESIZE);
	/* MEMTRACE_WALK_MEMO=0: walk every stack, for benchmarks of the
	 * worst case (a new stack at every allocation) */
	skel->rodata->walk_memo = !tracer_paths__env_off("MEMTRACE_WALK_MEMO");
	if (cfg->sample_bytes)
		fill_exp_draws(skel->rodata->exp_draws, cfg->sample_seed);
	/* the allocs tables are made after load (alloc_tables.h); stacks
	 * maps are not preallocated */
	tables__size_stacks(skel->obj, cfg->max_stacks);
	/* (stack, kind) pairs: a stack has one kind, mostly */
	bpf_map__set_max_entries(skel->maps.aggs, (__u32)(cfg->max_stacks + cfg->max_stacks / 4));
	if (mode == UNWIND_DWARF) {
		bpf_map__set_max_entries(skel->maps.unwind_rows, (__u32)cfg->unwind_rows);
		bpf_map__set_max_entries(skel->maps.unwind_modules, 1);
	} else {		/* the walker never looks: keep them tiny */
		bpf_map__set_max_entries(skel->maps.unwind_rows, 1);
		bpf_map__set_max_entries(skel->maps.unwind_tables, 1);
		bpf_map__set_max_entries(skel->maps.unwind_modules, 1);
	}
	/* mmap's tracepoints stay without --no-mmap's accounting: they also
	 * say where new code is mapped (libc in a launched command, dlopen) */
	skel->rodata->trace_mmap = cfg->trace_mmap;
	skel->rodata->execs_expected = cfg->execs_expected;
	choose_walker(tr, mode);
	if (!cfg->trace_mmap) {
		bpf_program__set_autoload(skel->progs.munmap_enter, false);
		bpf_program__set_autoload(skel->progs.munmap_exit, false);
		bpf_program__set_autoload(skel->progs.mremap_enter, false);
		bpf_program__set_autoload(tr->mremap_exit, false);
	}
	set_uprobe_attach_type(tr);
	err = memtrace_bpf__load(skel);
	if (err) {
		memtrace_bpf__destroy(skel);
		tr->skel = NULL;
	}
	return err;
}

/*
 * open_load_once(); where the session program does not load although the
 * kernel has session links, load entry and return programs instead, say
 * so and note the fallback in tr->paths.
 */
static int open_load(struct tracer *tr, int mode)
{
	bool quiet = quiet_libbpf;
	int err;

	if (!tr->session)
		return open_load_once(tr, mode);
	quiet_libbpf = true;
	err = open_load_once(tr, mode);
	quiet_libbpf = quiet;
	if (!err || err == -EPERM)
		return err;
	fprintf(stderr, "memtrace: the uprobe session program does not load on this kernel (%s); "
		"entry and return probes instead\n", strerror(-err));
	tr->session = false;
	tr->paths.uprobe_session = false;
	tracer_paths__missing(&tr->paths, "uprobe_session");
	return open_load_once(tr, mode);
}

/*
 * Load with the walker cfg asks for. When the dwarf walker does not load
 * (a kernel whose verifier rejects it), load the frame-pointer walker
 * instead, say so on stderr and note the fallback in tr->paths.
 * MEMTRACE_DWARF_WALKER=0 takes that fallback without trying.
 */
static int load_walker(struct tracer *tr)
{
	int mode = tr->cfg.unwind, err;

	if (mode == UNWIND_DWARF && tracer_paths__env_off("MEMTRACE_DWARF_WALKER")) {
		err = -EOPNOTSUPP;
	} else {
		quiet_libbpf = mode == UNWIND_DWARF;	/* the fallback may load */
		err = open_load(tr, mode);
		quiet_libbpf = false;
		if (!err || mode != UNWIND_DWARF || err == -EPERM)
			goto done;
	}
	fprintf(stderr, "memtrace: the dwarf stack walker does not load on this kernel (%s); "
		"walking frame pointers instead (as --unwind fp)\n",
		err == -EOPNOTSUPP ? "MEMTRACE_DWARF_WALKER=0" : strerror(-err));
	tracer_paths__missing(&tr->paths, "dwarf_walker");
	mode = UNWIND_FP;
	err = open_load(tr, mode);
done:
	tr->paths.unwind = mode;
	if (err)
		fprintf(stderr, "memtrace: cannot load BPF programs: %s%s\n", strerror(-err),
			err == -EPERM ? " (run as root, or with CAP_BPF and CAP_PERFMON)" :
			" (rerun with -v for the verifier log)");
	else if (tr->cfg.verbose)
		fprintf(stderr, "memtrace: stacks by the %s walker\n",
			mode == UNWIND_DWARF ? "dwarf" : "frame-pointer");
	return err;
}

struct tracer *tracer__new(const struct tracer_config *cfg, int tgid)
{
	struct tracer *tr = calloc(1, sizeof(*tr));
	int err;

	if (!tr)
		return NULL;
	tr->cfg = *cfg;
	tr->tgid = tgid;
	tracer__libbpf_print(cfg->verbose);
	tr->multi = tracer_paths__uprobe_multi(cfg->verbose, &tr->paths);
	tr->paths.uprobe_multi = tr->multi;
	tr->session = tracer_paths__uprobe_session(tr->multi, cfg->verbose, &tr->paths);
	tr->paths.uprobe_session = tr->session;
	err = load_walker(tr);
	if (err)
		goto free_tr;
	tr->tables = alloc_tables__new(bpf_map__fd(tr->skel->maps.allocs),
				       bpf_map__fd(tr->skel->maps.alloc_records), cfg->max_allocs);
	if (!tr->tables) {
		err = -errno;
		fprintf(stderr, "memtrace: cannot create the live allocations table: %s\n",
			strerror(-err));
		goto destroy_skel;
	}
	if (tr->paths.unwind == UNWIND_DWARF) {
		tr->unwind = unwind_maps__new(tr->skel->maps.unwind_rows, tr->skel->maps.unwind_tables,
					      tr->skel->maps.unwind_modules);
		if (!tr->unwind) {
			err = -errno;
			fprintf(stderr, "memtrace: cannot set up unwind tables: %s\n", strerror(-err));
			goto free_tables;
		}
	}
	return tr;

free_tables:
	alloc_tables__free(tr->tables);
destroy_skel:
	memtrace_bpf__destroy(tr->skel);
free_tr:
	free(tr);
	errno = -err;
	return NULL;
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

/* One uprobe to attach: a program at a file offset of the allocator. */
struct uprobe_plan {
	const char *fn;		/* the probed function, for messages */
	struct bpf_program *prog;
	uint64_t offset;
	uint64_t cookie;	/* session: the function's enum alloc_kind */
	bool ret;
};

#define MAX_UPROBES	(2 * NR_PROBE_FNS)

static bool is_alias(const uint64_t *done, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		if (done[i] == off)
			return true;
	return false;
}

/*
 * The uprobes of t's allocator: which functions, at which offsets (free at
 * a trap-aware offset), in attach order. Fills plan (MAX_UPROBES entries).
 * Returns how many, or -errno after printing one line on stderr.
 */
static int plan_uprobes(const struct tracer *tr, const struct target *t,
			struct uprobe_plan *plan)
{
	struct elf_funcs *ef = elf_funcs__open(t->alloc_path);
	uint64_t done[NR_PROBE_FNS];
	size_t nr_done = 0;
	int n = 0, err = 0;

	if (!ef) {
		err = -errno;
		fprintf(stderr, "memtrace: cannot read allocator %s: %s\n", t->alloc_name,
			strerror(-err));
		return err;
	}
	for (size_t i = 0; i < NR_PROBE_FNS; i++) {
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
		/* Probes move to the first instruction the kernel emulates
		 * (one trap, not two). A return probe shares its function's
		 * breakpoint and swaps the return address at [sp]: it moves
		 * only where nothing before the point moved sp (uretprobe_ok),
		 * so [sp] is still the return address and the entry's sp the
		 * probe's; else both stay at the entry. free_enter reads only
		 * its argument register, never sp: any sp change is harmless. */
		if (tr->cfg.probe_at_entry ||
		    probe_place__choose(ef, &f, probe_place__arg_regs(p->nargs), &place) ||
		    (p->ret && !place.uretprobe_ok)) {
			place.offset = f.offset;
			snprintf(place.reason, sizeof(place.reason), "%s",
				 p->ret ? "entry (shared with the return probe)" : "entry");
		} else if (p->ret) {
			size_t len = strlen(place.reason);

			snprintf(place.reason + len, sizeof(place.reason) - len,
				 "; shared with the return probe");
		}
		if (tr->cfg.verbose)
			fprintf(stderr, "memtrace: %s: %s+0x%llx probe at +0x%llx: %s\n",
				p->name, t->alloc_name, (unsigned long long)f.offset,
				(unsigned long long)(place.offset - f.offset), place.reason);
		if (p->ret && tr->session) {	/* entry and return in one */
			plan[n++] = (struct uprobe_plan){ p->name, tr->alloc_session,
							  place.offset, (uint64_t)p->kind, false };
			continue;
		}
		plan[n++] = (struct uprobe_plan){ p->name, entry_prog(tr->skel, p->kind),
						  place.offset, 0, false };
		if (p->ret)
			plan[n++] = (struct uprobe_plan){ p->name, tr->alloc_return,
							  place.offset, 0, true };
	}
close_elf:
	elf_funcs__close(ef);
	return err ? err : n;
}

/* One perf-event link per uprobe, in plan order. Returns 0 or -errno. */
static int attach_uprobes_perf(struct tracer *tr, const struct target *t,
			       const struct uprobe_plan *plan, int n)
{
	for (int i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = plan[i].ret);
		int err = link_set__add_link(&tr->links,
				bpf_program__attach_uprobe_opts(plan[i].prog, tr->tgid,
								t->alloc_path, plan[i].offset,
								&opts), 1);

		if (err) {
			fprintf(stderr, "memtrace: cannot attach to %s in %s: %s\n", plan[i].fn,
				t->alloc_name, strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * The uprobes of plan sharing plan[first]'s program and kind and not yet
 * taken: their offsets into offs, cookies into cookies, their names into
 * fns. Returns how many.
 */
static unsigned int take_group(const struct uprobe_plan *plan, int n, int first, bool *taken,
			       uint64_t *offs, uint64_t *cookies, char *fns, size_t fns_cap)
{
	unsigned int cnt = 0;
	size_t len = 0;

	fns[0] = '\0';
	for (int j = first; j < n; j++) {
		if (taken[j] || plan[j].prog != plan[first].prog || plan[j].ret != plan[first].ret)
			continue;
		taken[j] = true;
		cookies[cnt] = plan[j].cookie;
		offs[cnt++] = plan[j].offset;
		if (len < fns_cap)
			len += snprintf(fns + len, fns_cap - len, "%s%s", len ? ", " : "",
					plan[j].fn);
	}
	return cnt;
}

/*
 * One uprobe_multi link per program and kind with all its offsets: a link
 * per entry program, one return link for every allocating function (or,
 * with sessions, one session link for them), all for the target's tgid
 * only. Return links go first: a call entered
 * between two links then returns without an entry (counted as a missed
 * entry), never enters without a return, which would leave an entry on
 * its thread's stack and make its next allocations look nested. Returns
 * 0 or -errno.
 */
static int attach_uprobes_multi(struct tracer *tr, const struct target *t,
				const struct uprobe_plan *plan, int n)
{
	bool taken[MAX_UPROBES] = { false };
	uint64_t offs[MAX_UPROBES], cookies[MAX_UPROBES];
	char fns[256];

	for (int pass = 0; pass < 2; pass++) {
		bool ret = pass == 0;

		for (int i = 0; i < n; i++) {
			unsigned int cnt;
			int err;

			if (taken[i] || plan[i].ret != ret)
				continue;
			cnt = take_group(plan, n, i, taken, offs, cookies, fns, sizeof(fns));
			if (plan[i].prog == tr->alloc_session && tr->session)
				err = uprobe_multi__attach_session(bpf_program__fd(plan[i].prog),
						t->alloc_path, offs, cookies, cnt, tr->tgid);
			else
				err = uprobe_multi__attach(bpf_program__fd(plan[i].prog),
						t->alloc_path, offs, cnt, tr->tgid, ret);
			err = link_set__add_fd(&tr->links, err, cnt);
			if (err) {
				fprintf(stderr, "memtrace: cannot attach to %s in %s: %s\n", fns,
					t->alloc_name, strerror(-err));
				return err;
			}
			if (tr->cfg.verbose)
				fprintf(stderr, "memtrace: uprobe_multi link %s (%s): %s\n",
					bpf_program__name(plan[i].prog), ret ? "return" :
					plan[i].prog == tr->alloc_session ? "session" : "entry", fns);
		}
	}
	return 0;
}

static int attach_fns(struct tracer *tr, const struct target *t)
{
	struct uprobe_plan plan[MAX_UPROBES];
	int n = plan_uprobes(tr, t, plan);

	if (n < 0)
		return n;
	return tr->multi ? attach_uprobes_multi(tr, t, plan, n) :
			   attach_uprobes_perf(tr, t, plan, n);
}

static int attach_syscalls(struct tracer *tr)
{
	static const char *const tps[] = {
		"sys_enter_mmap", "sys_exit_mmap", "sys_enter_munmap", "sys_exit_munmap",
		"sys_enter_mremap", "sys_exit_mremap",
	};
	struct bpf_program *progs[] = {
		tr->skel->progs.mmap_enter, tr->mmap_exit,
		tr->skel->progs.munmap_enter, tr->skel->progs.munmap_exit,
		tr->skel->progs.mremap_enter, tr->mremap_exit,
	};
	size_t n = tr->cfg.trace_mmap ? sizeof(tps) / sizeof(tps[0]) : 2;	/* mmap's pair */
	int err = ensure_tracefs();

	if (err) {
		fprintf(stderr, "memtrace: tracefs is not mounted and cannot be: %s\n",
			strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		err = link_set__add_link(&tr->links,
				bpf_program__attach_tracepoint(progs[i], "syscalls", tps[i]), 1);
		if (err) {
			fprintf(stderr, "memtrace: cannot attach to syscalls:%s: %s\n", tps[i],
				strerror(-err));
			return err;
		}
	}
	/* exec ends the traced image; forks are counted */
	err = link_set__add_link(&tr->links, bpf_program__attach_tracepoint(tr->skel->progs.target_exec,
						"sched", "sched_process_exec"), 1);
	if (!err)
		err = link_set__add_link(&tr->links, bpf_program__attach(tr->skel->progs.target_fork), 1);
	if (err)
		fprintf(stderr, "memtrace: cannot attach to sched:sched_process_exec/fork: %s\n",
			strerror(-err));
	return err;
}

static int on_notify(void *ctx, void *data, size_t len)
{
	struct tracer *tr = ctx;

	if (len >= sizeof(struct notify_event) && tr->notify_cb)
		tr->notify_cb(data, tr->notify_ctx);
	return 0;
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
	if (!err)
		err = attach_syscalls(tr);
	if (!err) {
		tr->rb = ring_buffer__new(bpf_map__fd(tr->skel->maps.notify), on_notify, tr, NULL);
		if (!tr->rb)
			err = -errno;
	}
	if (!err) {
		err = alloc_tables__watch(tr->tables);
		if (err)
			fprintf(stderr, "memtrace: cannot start the thread that grows the live "
				"allocations table: %s\n", strerror(-err));
	}
	if (err)
		link_set__release(&tr->links);
	return err;
}

bool tracer__image_gone(const struct tracer *tr)
{
	return *(volatile __u32 *)&tr->skel->bss->image_gone != 0;
}

struct alloc_tables *tracer__alloc_tables(const struct tracer *tr) { return tr->tables; }
int tracer__mmaps_fd(const struct tracer *tr) { return bpf_map__fd(tr->skel->maps.mmaps); }
void tracer__stack_fds(const struct tracer *tr, int fds[STACK_CLASSES])
{
	tables__stack_fds(tr->skel->obj, fds);
}
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

size_t tracer__unwind_failures(const struct tracer *tr, struct unwind_failure *out, size_t max)
{
	return tr->unwind ? unwind_maps__failures(tr->unwind, out, max) : 0;
}

void tracer__paths(const struct tracer *tr, struct tracer_paths *out)
{
	*out = tr->paths;
}

unsigned int tracer__nr_links(const struct tracer *tr)
{
	return link_set__probes(&tr->links);
}

uint64_t tracer__map_max(const struct tracer *tr, const char *name)
{
	/* "stacks": each class's map holds max_stacks */
	struct bpf_map *m = bpf_object__find_map_by_name(tr->skel->obj,
							 strcmp(name, "stacks") ? name : "stacks_8");

	if (!m)
		return 0;
	if (m == tr->skel->maps.allocs) {	/* the current table's slots */
		struct alloc_tables_usage u;

		alloc_tables__usage(tr->tables, &u);
		return u.capacity;
	}
	return bpf_map__max_entries(m);
}

void tracer__map_usage(const struct tracer *tr, struct map_usage *u)
{
	tables__usage(tr->skel->obj, tr->tables, u);
}

void tracer__free(struct tracer *tr)
{
	if (!tr)
		return;
	ring_buffer__free(tr->rb);
	link_set__release(&tr->links);
	unwind_maps__free(tr->unwind);
	alloc_tables__free(tr->tables);
	memtrace_bpf__destroy(tr->skel);
	free(tr);
}

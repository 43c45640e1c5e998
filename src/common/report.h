/* SPDX-License-Identifier: MIT */
/*
 * report.h - one report: what every writer (text, JSON, pprof, CSV, ...)
 * and the analysis read. Built by collect.c from the BPF maps, frames
 * filled by the symbolizer, analysis fields by analysis.c.
 *
 * Ownership: a struct report owns its stacks array, each stack owns its
 * frames array, and each frame owns its strings. report__free() releases
 * all of it.
 *
 * Stage common (the bottom): the report model and small utilities. It
 * owns struct report and its names; it calls nothing of memtrace.
 */
#ifndef MEMTRACE_REPORT_H
#define MEMTRACE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "bpf/memtrace.h"

/* One symbolized frame. Strings are NULL when unknown. */
struct frame {
	uint64_t ip;		/* address in the target */
	char *module;		/* path of the mapped file as the target sees it */
	uint64_t offset;	/* ip as an offset in the module's ELF address space
				   (what addr2line takes), valid when module != NULL */
	char *build_id;		/* hex */
	char *function;		/* demangled */
	char *system_name;	/* as in the symbol table (mangled) */
	char *file;		/* source file of the call site */
	int line;		/* 0 when unknown */
	bool inlined;		/* an inlined frame expanded from the same ip */
	bool kernel;		/* a kernel frame (issue 14): module is "vmlinux" or
				   the kernel module's name, offset is from the
				   start of function, build_id is NULL */
};

enum severity {
	SEV_NONE = 0,
	SEV_LOW,
	SEV_MEDIUM,
	SEV_HIGH,
	SEV_CRITICAL,
};

/* Lifetime view of one stack (issue 5). Times in seconds. */
struct lifetime {
	uint64_t freed;		/* frees of allocations from this stack */
	double p50_s, p90_s, p99_s; /* percentiles of freed lifetimes, < 0 unknown */
	uint64_t temporary;	/* freed within the temporary threshold */
	int64_t peak_bytes;
};

struct stack_report {
	uint64_t stack_id;
	enum alloc_kind kind;
	int64_t outstanding_bytes;
	int64_t outstanding_allocs;
	uint64_t alloc_calls;
	uint64_t alloc_bytes;
	uint64_t free_calls;
	uint64_t free_bytes;
	double oldest_age_s;	/* < 0 when unknown */
	double mean_age_s;	/* < 0 when unknown */
	uint32_t flags;		/* STACK_F_* */
	char *cache;		/* kmem_cache kind: the slab cache's name, else NULL */
	uint32_t nr_ips;
	uint64_t *ips;		/* raw ips, ip[0] = caller of the allocator */
	size_t nr_frames;	/* symbolized frames (>= nr_ips with inlines) */
	struct frame *frames;
	/* analysis (issue 5); zero until analysis__update() fills them */
	bool analysed;
	double growth_bytes_per_s;
	double growth_r2;	/* fit quality, 0..1 */
	enum severity severity;
	const char *growth_reason; /* static; non-NULL: growth not rated (0), why */
	const char *severity_reason; /* static: what decided the severity */
	struct lifetime life;
	const uint64_t *life_hist; /* LIFE_BUCKETS counters, owned by the report */
	/* sizes and realloc steps from BPF (issue 16); 0 when unknown */
	uint64_t size_min, size_max;	/* smallest and largest request */
	uint64_t realloc_grows;		/* reallocs that grew a tracked block */
	uint64_t realloc_step_bytes;	/* sum of new - old size over those */
	uint64_t realloc_old_bytes;	/* sum of the old sizes (bytes a move copies) */
	uint64_t realloc_step_min, realloc_step_max;
	int category;		/* index in report.categories, -1 none */
};

/* One category of stacks (issue 16): categories.h fills it. */
struct category_report {
	char *name;
	int64_t outstanding_bytes;
	int64_t outstanding_allocs;
	uint64_t alloc_calls, free_calls;
	double alloc_rate, free_rate;	/* calls/s over the last interval */
	double growth_bytes_per_s;	/* the same fit as a stack's */
	const char *growth_reason;	/* non-NULL: growth not rated (0), why */
	enum severity severity;
	int64_t peak_bytes;		/* highest outstanding seen */
	size_t stacks;			/* stacks in it in this report */
};

enum rec_kind {
	REC_FIX_LEAK = 0,
	REC_POOL,
	REC_RESERVE,
	REC_BATCH_SMALL,
	REC_OVERSIZED,
	REC_MAX,
};

enum difficulty {
	DIFF_EASY = 0,
	DIFF_MEDIUM,
	DIFF_HARD,
};

/* One recommendation (issue 16): recommend.h fills them, ranked. */
struct recommendation {
	enum rec_kind kind;
	ssize_t stack;			/* index in report.stacks, -1: a category */
	int category;			/* index in report.categories, -1 none */
	char *description;
	double savings_bytes;		/* < 0: none */
	double savings_calls_per_s;	/* < 0: none */
	double savings_copy_bytes_per_s; /* reserve: bytes copied/s; < 0 none */
	double held_after_24h_bytes;	/* fix_leak; < 0 none */
	enum difficulty difficulty;
	int priority;			/* 1 = first */
	int tier;			/* ranking: 2 leaks, 1 memory, 0 CPU */
	double score;			/* ranking inside a tier, higher first */
};

struct totals {
	int64_t outstanding_bytes;
	int64_t outstanding_allocs;
	uint64_t alloc_calls;
	uint64_t free_calls;
	uint64_t dropped_events;	/* sum of drops[] */
	uint64_t unmatched_frees;
	uint64_t drops[DROP_MAX];
	uint64_t counters[CNT_MAX];
	uint64_t unwind_failed;
	uint64_t truncated_stacks;
	uint64_t fp_fallback_frames;	/* dwarf mode: frames unwound by frame pointer */
	uint64_t stack_walks;		/* stacks walked in BPF */
	uint64_t stack_walks_skipped;	/* ... skipped: a thread's memo proved the stack */
	uint64_t unwind_rows;		/* dwarf mode: table rows loaded, and the limit */
	uint64_t unwind_rows_max;
	uint64_t unwind_tables;		/* binaries with tables */
	uint64_t unwind_no_table;	/* binaries without (no CFI, maps full): fp there */
};

/* BPF map memory and fill (issue 15): what the tracers' maps hold now
 * (bytes are the kernel's memlock, as bpftool shows). memory_bytes 0: not
 * known (no tracer ran). User and kernel tracers add up. */
struct map_usage {
	uint64_t memory_bytes;		/* every map of the tracers */
	uint64_t allocs_memory_bytes;	/* the live allocations' current tables */
	uint64_t allocs_capacity;	/* their slots */
	uint64_t allocs_max;		/* slots they may grow to (--max-allocs) */
	uint64_t allocs_live;		/* records in them */
	uint64_t allocs_grows;		/* tables replaced by larger ones */
	uint64_t stacks_memory_bytes;	/* the stacks maps (not preallocated) */
	uint64_t aggs_memory_bytes;	/* the per-stack aggregates */
	uint64_t aggs_capacity;		/* their slots */
};

/* Process-level view from /proc (issue 5). Bytes; < 0 when unknown. */
struct proc_view {
	int64_t rss_bytes;
	int64_t heap_bytes;		/* [heap] + anonymous private from smaps_rollup */
	double rss_growth_bytes_per_s;
	double heap_growth_bytes_per_s;
	const char *growth_reason;	/* static; non-NULL: growths not rated (0) */
};

/* One process of a host-wide sweep (--system). Bytes; < 0 when unknown. */
struct process_report {
	int pid;
	char comm[16];
	char *cgroup;		/* cgroup v2 path ("/system.slice/x.service"), owned */
	double started;		/* unix seconds */
	int64_t rss_anon_bytes;
	int64_t rss_file_bytes;
	int64_t rss_shmem_bytes;
	int64_t swap_bytes;
	int64_t heap_bytes;	/* brk - start_brk */
	int64_t anon_map_bytes;	/* private writable mappings (VmData) less the heap */
	uint64_t events;	/* tracepoint hits for it */
	size_t stack;		/* index in report.stacks of its analysis view */
	/* --fault-stacks: where it first touched pages, most sampled first;
	 * alloc_calls = faults sampled, outstanding_bytes = the estimate of
	 * bytes first touched (samples x N x page size), kind KIND_PROCESS */
	size_t nr_fault_stacks;
	struct stack_report *fault_stacks;	/* owned */
};

/* Totals of a host-wide sweep. */
struct sweep_totals {
	uint64_t processes_seen;	/* first seen since the sweep began */
	uint64_t processes_exited;	/* ... and gone (their state dropped) */
	uint64_t processes_tracked;	/* in the sweep's table now */
	uint64_t processes_shown;	/* of those, matching the filters */
	uint64_t events;		/* tracepoint hits */
	uint64_t foreign_mm_events;	/* rss changes of an mm with no known owner */
	uint64_t bpf_run_time_ns;	/* the sweep's programs, in the kernel */
	uint32_t fault_sample;		/* --fault-stacks: 1 in N sampled; 0 off */
	uint64_t faults;		/* first-touch user faults seen */
	uint64_t fault_samples;		/* ... sampled and counted */
};

/* A binary whose unwind table could not be built (dwarf mode): its stacks
 * unwind by frame pointer there. */
struct unwind_failure {
	char module[256];	/* path as the target maps it */
	char build_id[2 * 40 + 1];	/* hex of up to 40 bytes (unwind_maps.c: BKEY_ID_MAX), "" if none */
	int err;		/* -errno of the build */
};

#define REPORT_UNWIND_FAILURES	16	/* failures named in a report (all are counted) */

/* Kernel memory from /proc/meminfo next to a --kernel run's totals (issue
 * 14). Bytes, < 0 when unknown; growth since the first report, bytes/s. */
struct kernel_view {
	int64_t slab_bytes;
	int64_t sunreclaim_bytes;
	int64_t percpu_bytes;
	int64_t slab_delta, sunreclaim_delta, percpu_delta;	/* since the first report */
	double slab_growth_bytes_per_s;
	double sunreclaim_growth_bytes_per_s;
	double percpu_growth_bytes_per_s;
};

/* What a report traces: user allocations, kernel ones (--kernel), or both. */
enum trace_scope {
	SCOPE_USER = 0,		/* one process's allocator (the default) */
	SCOPE_USER_KERNEL,	/* --kernel -p: and the kernel's in its context */
	SCOPE_KERNEL_PID,	/* --kernel-only -p: only the kernel's, in its context */
	SCOPE_KERNEL_HOST,	/* --kernel without -p: the kernel's, host-wide */
};

struct report {
	int pid;
	char comm[32];
	double time;		/* unix seconds */
	double elapsed_s;	/* since tracing went live */
	bool final;
	uint64_t sample_bytes;	/* 0 = full tracing */
	enum unwind_mode unwind;	/* the walker in use */
	/* The kernel, and the paths memtrace takes on it (struct tracer_paths);
	 * release "" when no user tracer ran */
	struct report_paths {
		char release[65];	/* uname -r */
		bool uprobe_multi;	/* uprobes by uprobe_multi links, else perf events */
		bool uprobe_session;	/* malloc family by uprobe session links */
		unsigned int fallbacks;	/* features it lacks whose fallback is in use */
		char missing[64];	/* their names, comma-separated */
	} paths;
	unsigned int exec_count;	/* execs of the target since tracing went live (it ends at one) */
	struct totals totals;
	struct map_usage maps;
	struct proc_view proc;
	/* the first binaries without a table (totals.unwind_no_table counts all) */
	struct unwind_failure unwind_failures[REPORT_UNWIND_FAILURES];
	size_t nr_unwind_failures;
	enum trace_scope scope;
	struct kernel_view kernel;	/* scope != SCOPE_USER */
	size_t nr_stacks;	/* sorted by outstanding_bytes, descending */
	struct stack_report *stacks;
	/* verdict (issue 5) */
	enum severity worst;
	ssize_t suspect;	/* index of the top suspect stack, -1 none */
	/* host-wide sweep (--system): pid is 0; stacks[processes[i].stack] is
	 * process i as the analysis sees it (kind KIND_PROCESS, outstanding =
	 * anon RSS + swap). */
	bool system;
	size_t nr_processes;
	struct process_report *processes;
	struct sweep_totals sweep;
	/* --system --deep: the last report of each deep trace (-p reports,
	 * symbolized and analysed), borrowed: valid while the report is written */
	size_t nr_deep;
	struct report **deep;
	/* issue 16 */
	char allocator[64];	/* basename of the allocator's module, "" unknown */
	size_t nr_categories;
	struct category_report *categories;	/* owned, names owned */
	size_t nr_recs;
	struct recommendation *recs;		/* owned, by priority */
};

/* Release everything a report owns, and the report itself. NULL is a no-op. */
void report__free(struct report *r);

/* Add src's map usage to dst's (a user and a kernel tracer). Cannot fail. */
void map_usage__add(struct map_usage *dst, const struct map_usage *src);

/*
 * Move every stack of src into dst and add src's totals (counts, drops,
 * counters) to dst's; dst is sorted again and src freed. Returns 0, or
 * -ENOMEM leaving both unchanged (src not freed).
 */
int report__merge(struct report *dst, struct report *src);

/* The JSON name of a scope ("user", "user+kernel", "kernel", "kernel-host"). */
const char *trace_scope_name(enum trace_scope s);

/* Release an array of n stack reports and all they own. NULL is a no-op. */
void stacks__free(struct stack_report *stacks, size_t n);

/* Release a frame's strings (not the frame). */
void frame__clear(struct frame *f);

/* The JSON name of an allocation kind ("malloc", ...), "unknown" if out of range. */
const char *alloc_kind_name(unsigned int kind);
/* The JSON name of a drop reason (enum drop_reason; "allocs_map_full"...), "unknown" past DROP_MAX. */
const char *drop_name(unsigned int reason);

/* Public names of a recommendation kind ("fix_leak", ...) and a difficulty
 * ("easy", ...); "unknown" if out of range. */
const char *rec_kind_name(unsigned int kind);
const char *difficulty_name(unsigned int d);

/* The name of a severity ("none" ... "critical"). */
const char *severity_name(enum severity s);

/* Parse a severity name; returns 0 and sets *out, or -EINVAL. */
int severity_parse(const char *s, enum severity *out);

/* Sort r->stacks by outstanding bytes, descending (ties: alloc_bytes, stack id). */
void report__sort(struct report *r);

/*
 * A printable name for a frame: the function (demangled), else
 * "module_basename+0xOFFSET", else "0xIP". Returns f->function itself or
 * buf (filled, NUL-terminated, truncated to size). Cannot fail.
 */
const char *frame__name(const struct frame *f, char *buf, size_t size);

/* The basename of a module path, "?" for NULL. Cannot fail. */
const char *frame__module_base(const char *module);

#endif /* MEMTRACE_REPORT_H */

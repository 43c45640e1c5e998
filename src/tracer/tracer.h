/* SPDX-License-Identifier: MIT */
/*
 * tracer.h - the BPF side's lifecycle: open the skeleton, configure, load,
 * attach the allocator uprobes and syscall tracepoints, destroy.
 *
 * Stage tracer: the BPF object's lifecycle and its links
 * (uprobe_multi.h, link_set.h). Hands the map descriptors to collect.
 * May call: common, target, unwind.
 */
#ifndef MEMTRACE_TRACER_H
#define MEMTRACE_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include "common/report.h"
#include "target/target.h"
#include "bpf/memtrace.h"
#include "tracer/alloc_tables.h"

struct tracer_config {
	uint64_t max_allocs;
	uint64_t max_stacks;
	uint64_t sample_bytes;
	uint64_t sample_seed;
	int unwind;		/* enum unwind_mode */
	uint64_t temp_ns;	/* freed within this: a temporary allocation */
	uint64_t unwind_rows;	/* dwarf mode: unwind rows for all binaries */
	bool trace_mmap;
	bool stop_on_code_map;	/* launched: hold the target at each new code mapping */
	unsigned int execs_expected;	/* launched: 1 (its own exec); a later exec ends tracing */
	bool probe_at_entry;	/* no trap-aware placement */
	bool verbose;
};

struct tracer;

/* What tracer__new() made of this kernel: the paths in use, and the
 * features it lacks whose fallback is in use (probed, never by version). */
struct tracer_paths {
	bool uprobe_multi;	/* uprobes through uprobe_multi links, else perf-event links */
	bool uprobe_session;	/* malloc family through uprobe session links */
	int unwind;		/* the stack walker loaded (enum unwind_mode) */
	unsigned int fallbacks;	/* missing features with a fallback in use */
	char missing[64];	/* their names, comma-separated: uprobe_multi,
				   uprobe_session, dwarf_walker */
};

/*
 * Open and load the BPF programs for tgid with cfg. The uprobe programs
 * are loaded for uprobe_multi links when the kernel has them (Linux 6.6+),
 * else for perf-event links, or for perf-event links anyway when the
 * environment has MEMTRACE_UPROBE_MULTI=0; cfg->verbose prints which.
 * With uprobe_multi links, the malloc family gets one session program
 * (entry and return, Linux 6.13+) where the kernel has uprobe session
 * links, unless MEMTRACE_UPROBE_SESSION=0; else (or when that program does
 * not load, said on stderr) entry and return programs.
 * Only the programs of cfg->unwind's stack walker load; when the dwarf
 * walker does not (or with MEMTRACE_DWARF_WALKER=0), the frame-pointer
 * walker does instead, with one line on stderr (see tracer__paths()).
 * Returns NULL and sets errno on failure (after printing one line on
 * stderr saying why).
 */
struct tracer *tracer__new(const struct tracer_config *cfg, int tgid);

/*
 * Attach to the target's allocator (t->alloc_path) and the syscall
 * tracepoints. malloc and free are required; missing optional functions
 * are skipped (logged with verbose), and the exec and fork tracepoints. The
 * uprobes fire for tgid only, and record nothing once it execs (see
 * tracer__image_gone()). With uprobe_multi: one link per entry program and one
 * return link for all allocating functions, or with sessions one session
 * link for them (the attach cookie of each offset is its enum alloc_kind).
 * Every probe sits at the first instruction the kernel emulates, a
 * function's return probe with its entry where the stack pointer has not
 * moved before it (else both at the entry). Returns 0 or -errno (after
 * printing one line on stderr); on failure nothing stays attached.
 */
int tracer__attach(struct tracer *tr, const struct target *t);

/*
 * True once the target exec'd past cfg->execs_expected: the BPF side then
 * records nothing more (the new image is not traced) and a NOTIFY_EXEC
 * event was sent. Cannot fail.
 */
bool tracer__image_gone(const struct tracer *tr);

/* Map file descriptors, for collect.c. */
struct alloc_tables *tracer__alloc_tables(const struct tracer *tr);
int tracer__mmaps_fd(const struct tracer *tr);
void tracer__stack_fds(const struct tracer *tr, int fds[STACK_CLASSES]);
int tracer__aggs_fd(const struct tracer *tr);
int tracer__counters_fd(const struct tracer *tr);

/* The ring buffer of notifications: poll fd, and consume with a callback
 * that receives each struct notify_event. Returns events consumed or -errno. */
int tracer__notify_fd(const struct tracer *tr);
int tracer__notify_consume(struct tracer *tr, void (*cb)(const void *ev, void *ctx), void *ctx);

/*
 * Load unwind tables for code the target mapped since attach (dlopen).
 * Call after a NOTIFY_EXEC_MAP. Returns 0 or -errno; dwarf mode only.
 */
int tracer__refresh_unwind(struct tracer *tr);

/* Unwind table usage: rows used and available, binaries with tables, and
 * binaries that could not get one (no .eh_frame, maps full). */
void tracer__unwind_usage(const struct tracer *tr, uint64_t *rows, uint64_t *rows_max,
			  uint64_t *tables, uint64_t *failed);

/* The binaries that got no unwind table, named (see unwind_maps__failures()):
 * the first max into out; returns how many there are (0 in fp mode). */
size_t tracer__unwind_failures(const struct tracer *tr, struct unwind_failure *out, size_t max);

/* The kernel paths in use and the fallbacks taken (see struct tracer_paths). */
void tracer__paths(const struct tracer *tr, struct tracer_paths *out);

/* Number of probes attached (uprobes and tracepoints, however linked),
 * and the records a map holds at most, by name: its max entries (for
 * "allocs", the slots of its current table, which grows: alloc_tables.h). */
unsigned int tracer__nr_links(const struct tracer *tr);
uint64_t tracer__map_max(const struct tracer *tr, const char *name);

/* The memory and fill of the tracer's maps now (fdinfo memlock). Cannot
 * fail (unreadable maps count 0). */
void tracer__map_usage(const struct tracer *tr, struct map_usage *u);

/* libbpf messages on stderr: warnings, and with verbose debug and info
 * too (every BPF object of a run). Cannot fail. */
void tracer__libbpf_print(bool verbose);

/* Detach and unload everything, in reverse order. NULL is a no-op. */
void tracer__free(struct tracer *tr);

#endif

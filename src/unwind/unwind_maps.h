/* SPDX-License-Identifier: MIT */
/*
 * unwind_maps.h - fills the dwarf walker's BPF maps (bpf/unwind.bpf.h)
 * for traced processes.
 *
 * For a pid: every executable file mapping in /proc/PID/maps becomes a
 * module (start, end, bias, table). Each distinct binary (by build-id plus
 * a check of what the table is built from: PT_LOAD headers and .eh_frame
 * bytes; else by file identity) gets its table built once (unwind_table.c)
 * and its rows appended to the one global rows array, so processes share
 * libc's rows. A failed build names only its own file: it never replaces
 * or blocks the table of another file with the same build id.
 * Rows are never freed: the arrays only grow until the tracer exits.
 *
 * What does not fit is counted, never fatal: a binary whose table does not
 * fit (rows or tables map full) or cannot be built gets table = -1 and the
 * walker uses frame pointers in it; mappings past UNWIND_MAX_MODULES are
 * left out (the walker's fp fallback then stops at them).
 *
 * Loader sequence (dwarf mode):
 *   open skeleton; load the dwarf walker's programs (alloc_return, ...); optionally
 *   bpf_map__set_max_entries(unwind_rows / unwind_tables / unwind_modules);
 *   load; u = unwind_maps__new(rows, tables, modules);
 *   unwind_maps__add_pid(u, pid) before attaching, again on each
 *   NOTIFY_EXEC_MAP (coalesced per poll round), unwind_maps__remove_pid()
 *   when it exits; unwind_maps__stats() for the report; unwind_maps__free().
 * In fp mode shrink the three maps to 1 entry before load: the rows map
 * alone is UNWIND_ROWS_MAX * 16 bytes (32 MiB) of locked memory.
 *
 * Not thread safe: one caller at a time.
 *
 * Stage unwind: .eh_frame parsing (eh_frame.h, eh_cfi.h), unwind tables
 * (unwind_table.h) and the per-process BPF maps the walker reads (this
 * file). May call: common, target.
 */
#ifndef MEMTRACE_UNWIND_MAPS_H
#define MEMTRACE_UNWIND_MAPS_H

#include <stddef.h>
#include <stdint.h>
#include "common/report.h"

struct bpf_map;
struct unwind_maps;

struct unwind_maps_stats {
	uint64_t rows_used, rows_max;	/* entries of the rows map */
	uint64_t bytes;			/* rows_used * sizeof(struct unwind_row) */
	uint32_t tables, tables_max;	/* binaries with rows loaded */
	uint32_t pids;			/* processes with a module list */
	uint64_t shared;		/* mappings served by an already loaded table */
	uint64_t no_table;		/* binaries without usable CFI (fp there) */
	uint64_t tables_full;		/* binaries left out: tables map full */
	uint64_t rows_full;		/* binaries left out: rows map full */
	uint64_t modules_dropped;	/* mappings past UNWIND_MAX_MODULES (per call) */
	uint64_t open_failures;		/* mappings whose file could not be opened (per call) */
	uint64_t build_ns;		/* time spent building tables */
};

/*
 * Manage the three maps of a loaded BPF object (the unwind_rows,
 * unwind_tables and unwind_modules maps of bpf/unwind.bpf.h; sizes as
 * created, after any bpf_map__set_max_entries). Call after load. The rows
 * map is written through mmap when it is mmapable (the default), else by
 * update syscalls. Returns a handle for unwind_maps__free(), or NULL with
 * errno set (EINVAL: a map has the wrong key or value size; ENOMEM).
 */
struct unwind_maps *unwind_maps__new(struct bpf_map *rows, struct bpf_map *tables,
				     struct bpf_map *modules);

/*
 * (Re)write pid's module list from its current mappings, building and
 * loading tables for binaries not seen before. Idempotent: call again after
 * the process maps new code (dlopen) to add it. Returns the number of
 * modules in the list (>= 0; a module may have no table, see the stats),
 * or -errno: -ESRCH when the process is gone (or a zombie), -EACCES when
 * its maps are unreadable, -E2BIG when the modules map is full
 * (UNWIND_MAX_PIDS), -ENOMEM. On error the map entry is unchanged.
 */
int unwind_maps__add_pid(struct unwind_maps *u, int pid);

/* Drop pid's module list (process exited). Returns 0 or -ENOENT. */
int unwind_maps__remove_pid(struct unwind_maps *u, int pid);

/* Copy the counters into *st. Cannot fail. */
void unwind_maps__stats(const struct unwind_maps *u, struct unwind_maps_stats *st);

/*
 * The binaries whose table could not be built (no or corrupt CFI, maps
 * full), one entry per binary, in the order met: copies the first max into
 * out and returns how many there are. Cannot fail.
 */
size_t unwind_maps__failures(const struct unwind_maps *u, struct unwind_failure *out, size_t max);

/* Unmap and free; the BPF maps keep their contents. NULL is fine. */
void unwind_maps__free(struct unwind_maps *u);

#endif

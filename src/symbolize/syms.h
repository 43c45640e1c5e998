/* SPDX-License-Identifier: MIT */
/*
 * syms.h - turn a target's raw instruction pointers into frames.
 *
 * A struct syms is a snapshot of one process's executable mappings. Each
 * mapped file is opened once (through /proc/PID/map_files, so deleted or
 * replaced binaries and containers resolve to the inode actually mapped)
 * and kept open, so symbolization still works after the target exits.
 * Files are shared by build-id in a module cache that lives as long as the
 * struct syms; every resolved address is cached per (module, address), so
 * symbolizing the same ips again reads no file at all.
 *
 * Names, files and lines come from elfutils libdwfl: .symtab/.dynsym,
 * .gnu_debugdata (MiniDebugInfo), separate debug files found by build-id
 * under the debug directory or by .gnu_debuglink, and, when asked for and
 * DEBUGINFOD_URLS is set, debuginfod (bounded in time).
 *
 * Not thread-safe: one thread at a time per struct syms.
 *
 * Stage symbolize: ips -> frames (libdwfl, demangle.h, debuginfod).
 * May call: common, target.
 */
#ifndef MEMTRACE_SYMS_H
#define MEMTRACE_SYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/report.h"

struct syms;

struct syms_opts {
	const char *debug_dir;	/* separate debug files; NULL = "/usr/lib/debug" */
	bool debuginfod;	/* query DEBUGINFOD_URLS servers; off unless set */
	bool names;		/* false = --no-symbols: module, offset, build_id only */
};

/* Counters, for tests and benchmarks. Only ever increase. */
struct syms_stats {
	uint64_t maps_reads;	/* /proc/PID/maps parsed */
	uint64_t file_opens;	/* target files opened (ELF headers read) */
	uint64_t debug_loads;	/* modules whose symbols/DWARF were loaded */
	uint64_t lookups;	/* addresses resolved by reading symbols/DWARF */
	uint64_t cache_hits;	/* addresses answered from the cache */
	uint64_t refreshes;	/* syms__refresh calls, explicit or implicit */
	uint64_t debuginfod_queries; /* debuginfod downloads attempted */
};

/*
 * Snapshot the executable mappings of process pid from /proc/PID/maps and
 * open every mapped file; pid 0: no process, kernel addresses only (a
 * host-wide --kernel run). opts may be NULL (names on, default debug dir,
 * no debuginfod); it is copied. Returns a new struct syms, freed with
 * syms__free(), or NULL with errno set (ESRCH: no such process; EACCES or
 * EPERM: not allowed to read its maps; ENOMEM).
 */
struct syms *syms__new(int pid, const struct syms_opts *opts);

/*
 * Re-read /proc/PID/maps, e.g. after a dlopen. New files are opened;
 * mappings that were replaced by something else are forgotten, the others
 * are kept. When the process is gone every known mapping is kept and
 * -ESRCH is returned, so a final report still symbolizes. Returns 0 or
 * -errno; on failure the snapshot is unchanged.
 */
int syms__refresh(struct syms *s);

/*
 * The process now runs another image (it exec'd): keep the mappings known
 * and never read its maps again, as if it had exited (syms__refresh() then
 * returns -ESRCH and changes nothing). NULL is a no-op.
 */
void syms__freeze(struct syms *s);

/*
 * Symbolize nr return addresses. Kernel addresses (ksyms.h) resolve
 * through /proc/kallsyms, read on the first one, into one frame each
 * (kernel = true: function, offset from it, module "vmlinux" or the kernel
 * module's name). ips[i] is a return address: the call site
 * ips[i] - 1 is looked up, but frame.ip is ips[i] as given and
 * frame.offset is ips[i] in the module's ELF address space.
 * For each ip, appends its inlined frames innermost first (inlined = true)
 * then the function containing the code (inlined = false), so the result
 * reads innermost first like pprof and heaptrack. Without names an ip
 * gives one frame with module, offset and build_id. An ip in a module
 * without symbols gives module, offset and build_id with function NULL.
 * An ip outside every known mapping triggers one syms__refresh() per call;
 * if still unknown its frame has module NULL (it is never attributed to a
 * module that did not contain it when it was seen). Such ips are
 * remembered and do not trigger refreshes again.
 * On success returns 0 and sets *frames to a malloc'd array of *nr_frames
 * frames, which the caller releases with frame__clear() on each and
 * free(). On failure returns -errno (-ENOMEM, -EINVAL) and sets *frames to
 * NULL and *nr_frames to 0.
 */
int syms__symbolize(struct syms *s, const uint64_t *ips, size_t nr,
		    struct frame **frames, size_t *nr_frames);

/* A copy of the counters. Cannot fail. */
struct syms_stats syms__stats(const struct syms *s);

/* Close every file and free everything. NULL is a no-op. */
void syms__free(struct syms *s);

/*
 * Symbolize every stack of r that has ips and no frames yet (a failed
 * stack keeps no frames: writers show its raw ips). Cannot fail.
 */
void syms__symbolize_report(struct syms *s, struct report *r);

#endif /* MEMTRACE_SYMS_H */

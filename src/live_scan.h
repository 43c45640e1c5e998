/* SPDX-License-Identifier: MIT */
/*
 * live_scan.h - walk the live allocations in the kernel (bpf/live_scan.bpf.c).
 *
 * A report needs, per (stack id, kind), the oldest live allocation and the
 * bytes and count of those older than a cutoff (--older). A scanner runs a
 * BPF map-element iterator over the allocs map, then over the mmaps map,
 * folding every record into a small accumulator map in the kernel; the
 * caller then reads one entry per (stack id, kind) instead of copying every
 * live allocation. Results are those of collect.c's userspace walk, record
 * for record (same age_add() rule, same order: allocs, then mmaps).
 */
#ifndef MEMTRACE_LIVE_SCAN_H
#define MEMTRACE_LIVE_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include "../bpf/live_scan.h"

/* What one run found. The arrays belong to the scanner: valid until its
 * next run or live_scan__free. */
struct live_scan_result {
	const struct live_key *keys;	/* nr distinct (stack id, kind) */
	const struct live_acc *vals;	/* vals[i] is keys[i]'s */
	size_t nr;
	uint64_t allocs;		/* records walked in the allocs map */
	uint64_t mmaps;			/* records walked in the mmaps map */
};

struct live_scan;

/*
 * Load the iterators and attach them to allocs_fd (u64 -> struct
 * alloc_info) and mmaps_fd (u64 -> struct mmap_info; -1: none), with room
 * for max_keys (stack id, kind) pairs (0: LIVE_ACC_MAX_ENTRIES). The
 * descriptors stay the caller's and must outlive the scanner. libbpf's
 * messages are passed to its print callback at debug level (a kernel
 * without iterators is an expected case, not a warning). Returns NULL and
 * sets errno when iterators are unavailable (old kernel, no BTF, no
 * permission, wrong value sizes): the caller walks in userspace instead.
 */
struct live_scan *live_scan__new(int allocs_fd, int mmaps_fd, uint32_t max_keys);

/*
 * Walk every live record; those with ts <= cutoff_ns count as old.
 * Returns 0 and fills *res; -ENOSPC when some record found the accumulator
 * full (*res untouched: a partial result would be silently wrong; walk in
 * userspace instead); other -errno when the iterator or a map read failed.
 * The accumulator is left empty in every case, so the next run starts
 * clean.
 */
int live_scan__run(struct live_scan *ls, uint64_t cutoff_ns, struct live_scan_result *res);

/* Accumulator size in (stack id, kind) pairs. */
uint32_t live_scan__max_keys(const struct live_scan *ls);

/* Detach and unload. NULL is a no-op. */
void live_scan__free(struct live_scan *ls);

#endif

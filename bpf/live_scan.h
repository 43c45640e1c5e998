/* SPDX-License-Identifier: MIT */
/*
 * live_scan.h - what live_scan.bpf.c (the in-kernel walk of the live
 * allocations) and its user side (src/live_scan.c) share.
 *
 * The walk is a BPF map-element iterator run over `allocs`, then over
 * `mmaps`; it folds every record into one accumulator entry per
 * (stack id, kind), so a report reads O(stacks) entries instead of copying
 * every live allocation to userspace.
 */
#ifndef LIVE_SCAN_H
#define LIVE_SCAN_H

#include "memtrace.h"

/* Default accumulator size; userspace sets it to the aggs map's size. */
#define LIVE_ACC_MAX_ENTRIES	AGGS_MAX_ENTRIES

/* Key of the accumulator: the same pair as struct agg_key. */
struct live_key {
	__u64 stack_id;
	__u32 kind;		/* enum alloc_kind */
	__u32 pad;
};

/*
 * What the walk found for one (stack id, kind). min_ts follows collect.c's
 * age_add() rule exactly: it takes ts when it is 0 or ts is smaller.
 */
struct live_acc {
	__u64 min_ts;		/* oldest allocation time (ns), 0 if none */
	__s64 old_bytes;	/* est_bytes (mmap: len) of records with ts <= cutoff */
	__s64 old_count;	/* est_count (mmap: WEIGHT_ONE) of those, x WEIGHT_ONE */
	__u64 records;		/* records folded in */
};

/* Statistics of one iterator run (the .bss of live_scan.bpf.c). */
struct live_scan_stats {
	__u64 seen;		/* records visited */
	__u64 lost;		/* records not folded: accumulator full (or no memory) */
	__u64 keys;		/* accumulator entries created */
};

#endif /* LIVE_SCAN_H */

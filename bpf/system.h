/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * system.h - types shared by bpf/system.bpf.c (the host-wide sweep,
 * `memtrace --system`) and its loader and reader in userspace.
 *
 * Only fixed-size types and bounds: both sides include it.
 */
#ifndef MEMTRACE_SYSTEM_H
#define MEMTRACE_SYSTEM_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SYS_PROCS_MAX	16384	/* processes tracked at once (resizable before load) */
#define SYS_RSS_MEMBERS	4
#define SYS_SEEN_MAPS	(1u << SYS_RSS_MEMBERS)	/* MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES */

enum sys_rss_member {
	SYS_RSS_FILE = 0,
	SYS_RSS_ANON,
	SYS_RSS_SWAP,
	SYS_RSS_SHMEM,
};

/* One process (thread group) as the kernel's own counters last said. */
struct sys_proc {
	__u64 start_ns;		/* group leader's start_boottime: with the tgid, the identity */
	__u64 rss[SYS_RSS_MEMBERS]; /* bytes, from kmem:rss_stat (exact sums) */
	__u64 heap_bytes;	/* brk - start_brk at the last brk */
	__u64 data_bytes;	/* VmData (private writable mappings) at the last map change */
	__u64 events;		/* tracepoint hits for this process */
	__u32 mm_id;		/* rss_stat's hash of the process's current mm */
	__u32 rss_seen;		/* bit i: rss[i] was reported since tracking began;
				   SYS_SEEN_MAPS: heap_bytes and data_bytes were */
};

/* Per-CPU counters; each report shows them. */
enum sys_counter {
	SYS_CNT_EVENTS = 0,	/* every program run */
	SYS_CNT_PROCS_NEW,	/* processes first seen */
	SYS_CNT_PROCS_EXITED,	/* ... gone (their state removed) */
	SYS_CNT_DROP_FULL,	/* procs map full: a process not tracked */
	SYS_CNT_DROP_MMS_FULL,	/* mms map full: an mm's owner not remembered */
	SYS_CNT_FOREIGN_MM,	/* rss_stat of an mm not (or no longer) a process's own */
	SYS_CNT_FAULTS,		/* --fault-stacks: first-touch user faults seen */
	SYS_CNT_FAULT_SAMPLES,	/* ... sampled, their stack counted */
	SYS_CNT_DROP_FAULT,	/* ... sampled, but the stack not taken or not counted */
	SYS_CNT_MAX,
};

/* --fault-stacks: sampled first-touch faults per process and user stack. */
struct sys_fault_key {
	__u32 tgid;
	__s32 stack_id;		/* in sys_stacks (bpf_get_stackid) */
};

#define SYS_FAULT_STACKS_MAX	16384	/* distinct stacks, and (tgid, stack) pairs */

#endif /* MEMTRACE_SYSTEM_H */

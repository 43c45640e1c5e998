/* SPDX-License-Identifier: MIT */
/*
 * memtrace.h - the types shared by the BPF programs and userspace.
 *
 * Only fixed-size types, enums and bounds live here: both memtrace.bpf.c
 * (through vmlinux.h) and the userspace modules (through <linux/types.h>)
 * include it.
 */
#ifndef MEMTRACE_H
#define MEMTRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bounds. Map sizes are defaults; userspace resizes before load. */
#define MAX_STACK_DEPTH		127	/* frames kept per stack */
#define ALLOCS_MAX_ENTRIES	(1 << 20) /* live allocations tracked */
#define STACKS_MAX_ENTRIES	(1 << 16) /* distinct stacks */
#define AGGS_MAX_ENTRIES	(1 << 16) /* distinct (stack, kind) pairs */
#define MMAPS_MAX_ENTRIES	(1 << 14) /* live anonymous mappings */
#define MUNMAP_PASS_HITS	4	/* regions one pass of a release takes */
#define MUNMAP_PASSES		8	/* passes: a munmap may touch 32 regions */
#define LIFE_BUCKETS		32	/* log2(us) lifetime histogram */
#define SAMPLE_DRAWS		4096	/* exponential draws table for sampling */

/* Unwinding (issue 4): rows and modules the DWARF walker may use. */
#define UNWIND_MAX_MODULES	64	/* executable mappings per process */
#define UNWIND_MAX_TABLES	256	/* distinct binaries with tables */
#define UNWIND_ROWS_MAX		(1 << 21) /* rows over all tables (16 bytes each) */
#define UNWIND_MAX_PIDS		1024	/* processes with a module list */

/* Allocation kinds: the order is the public JSON "kind" order, keep it. */
enum alloc_kind {
	KIND_MALLOC = 0,
	KIND_CALLOC,
	KIND_REALLOC,
	KIND_REALLOCARRAY,
	KIND_POSIX_MEMALIGN,
	KIND_ALIGNED_ALLOC,
	KIND_MEMALIGN,
	KIND_VALLOC,
	KIND_PVALLOC,
	KIND_MMAP,
	KIND_MREMAP,
	KIND_PROCESS,		/* --system: a whole process (anon RSS + swap) */
	KIND_KMALLOC,		/* kernel (issue 14): kmalloc, kmalloc_node */
	KIND_KMEM_CACHE,	/* kmem_cache_alloc(_node) */
	KIND_PAGES,		/* page allocator, any order */
	KIND_PERCPU,		/* per-CPU allocator */
	KIND_MAX,
};

/* Why an event was not accounted: indexes of the per-CPU drop counters. */
enum drop_reason {
	DROP_ALLOCS_FULL = 0,	/* allocs map full: a live allocation untracked */
	DROP_STACKS_FULL,	/* stacks map full: stack id not stored */
	DROP_AGGS_FULL,		/* aggs map full: stack aggregate not updated */
	DROP_MMAPS_FULL,	/* mmaps map full */
	DROP_ENTRIES_FULL,	/* entry state could not be saved */
	DROP_MISSED_ENTRY,	/* return seen without its entry */
	DROP_MUNMAP_OVERFLOW,	/* munmap touched more than MUNMAP_PASSES *
				   MUNMAP_PASS_HITS regions */
	DROP_NOTIFY_FULL,	/* ring buffer full: a notification lost */
	DROP_KSTACK_FAILED,	/* kernel (issue 14): the kernel stack could not be read */
	DROP_KMEM_MISSED,	/* kernel: tracepoint runs skipped by the kernel (a
				   program already running on the CPU); from
				   userspace (prog recursion_misses) */
	DROP_MAX,
};

/* Other per-CPU counters, all shown in reports. */
enum counter {
	CNT_ALLOC_CALLS = 0,	/* successful allocations accounted */
	CNT_FREE_CALLS,		/* frees (and munmaps) that released tracked memory */
	CNT_UNMATCHED_FREES,	/* free(p) with p not tracked (allocated before attach) */
	CNT_UNWIND_FAILED,	/* stacks whose walk stopped on an error */
	CNT_UNWIND_TRUNCATED,	/* stacks cut at MAX_STACK_DEPTH */
	CNT_UNWIND_FP_FALLBACK,	/* frames unwound by frame pointer in dwarf mode */
	CNT_PROBE_HITS,		/* every BPF program invocation for the target */
	CNT_SAMPLED_OUT,	/* allocations skipped by byte sampling */
	CNT_STACK_WALKS,	/* stack walks done */
	CNT_STACK_WALKS_SKIPPED, /* walks skipped: the thread's memo proved the stack */
	CNT_FORKS,		/* child processes the target forked (not traced) */
	CNT_ALLOC_ENTRIES,	/* entry probe runs of the malloc family (not free) */
	CNT_ALLOC_RETURNS,	/* their return probe runs (sessions skip unsampled ones) */
	CNT_MAX,
};

/*
 * Stacks are stored by depth class, one map each (no preallocation): a
 * stack of nr frames goes to the first class that holds nr. The class is
 * in the top 3 bits of the stack id, so a reader knows the map.
 */
#define STACK_CLASSES		5
#define STACK_CLASS_SHIFT	61

/* Frames a class holds: 8, 16, 32, 64, MAX_STACK_DEPTH. */
static inline __u32 stack_class_depth(__u32 cls)
{
	return cls >= STACK_CLASSES - 1 ? MAX_STACK_DEPTH : 8u << cls;
}

/* The class of a stack of nr frames. */
static inline __u32 stack_class(__u32 nr)
{
	return nr <= 8 ? 0 : nr <= 16 ? 1 : nr <= 32 ? 2 : nr <= 64 ? 3 : 4;
}

/* The id of a stack of hash h in class cls (never 0). */
static inline __u64 stack_class_id(__u64 h, __u32 cls)
{
	__u64 id = (h & ((1ULL << STACK_CLASS_SHIFT) - 1)) | ((__u64)cls << STACK_CLASS_SHIFT);

	return id ? id : 1;
}

/* The class of stack id (an id stack_class_id() made). */
static inline __u32 stack_id_class(__u64 id)
{
	__u32 c = (__u32)(id >> STACK_CLASS_SHIFT);

	return c < STACK_CLASSES ? c : STACK_CLASSES - 1;
}

/* Flags of a stack. */
#define STACK_F_TRUNCATED	(1u << 0) /* deeper than MAX_STACK_DEPTH */
#define STACK_F_UNWIND_ERROR	(1u << 1) /* walk stopped early on an error */
#define STACK_F_FP_FALLBACK	(1u << 2) /* some frames came from the fp chain */

/* Unwinding modes: which walker (each its own programs). */
enum unwind_mode {
	UNWIND_FP = 0,
	UNWIND_DWARF = 1,
};

/* A stack, as stored in the stacks map, keyed by a 64-bit hash of ip[]. */
struct stack_trace {
	__u32 nr;		/* valid entries in ip[] */
	__u32 flags;		/* STACK_F_* */
	__u64 ip[MAX_STACK_DEPTH];	/* ip[0] is the caller of the allocator */
};

/*
 * Per-stack aggregate. Byte and count fields are estimates after unbiasing
 * when sampling (issue 6); exact in full-tracing mode.
 *
 * The aggs map is a hash map by struct agg_key, not preallocated: an
 * aggregate costs memory once its stack is seen. A new one is made from
 * zeros (agg_zero) and its fields are then updated with atomics in place.
 */
struct agg_key {
	__u64 stack_id;
	__u32 kind;
	__u32 pad;		/* 0 */
};

struct agg_val {
	__u64 stack_id;		/* its key's (set by the reader from the key) */
	__u32 kind;
	__u32 pad;
	__s64 outstanding_bytes;
	__s64 outstanding_allocs;
	__u64 alloc_calls;	/* allocations made at this stack */
	__u64 alloc_bytes;	/* bytes allocated at this stack */
	__u64 free_calls;	/* frees of allocations from this stack */
	__u64 free_bytes;
	__u64 sum_alloc_ts;	/* sum of timestamps (ns) of outstanding allocations */
	__s64 peak_bytes;	/* highest outstanding_bytes seen (best effort) */
	__u64 temp_allocs;	/* freed within temp_ns of allocation */
	__u64 life_hist[LIFE_BUCKETS]; /* freed: lifetime in [2^b, 2^(b+1)) us; b=0: < 2us */
	/* sizes of the exact records (not sampled ones); 0: none yet (best
	 * effort under races, like peak_bytes) */
	__u64 size_min;
	__u64 size_max;
	/* realloc steps (issue 16): reallocs that grew a tracked block */
	__u64 realloc_grows;
	__u64 realloc_step_bytes;	/* sum of new - old size */
	__u64 realloc_old_bytes;	/* sum of old sizes: bytes a move copies */
	__u64 realloc_step_min;		/* best effort, 0: none */
	__u64 realloc_step_max;
};

/* One live allocation: its slot's record in the allocs map (below). */
struct alloc_info {
	__u64 size;		/* requested bytes (mapping length for mmap) */
	__u64 ts;		/* bpf_ktime_get_ns() at allocation */
	__u64 stack_id;
	__u32 kind;		/* enum alloc_kind */
	__u32 weight;		/* allocations it stands for when size is 0 (>= 1) */
	__u64 est_bytes;	/* bytes this record stands for (== size unless sampled) */
};	/* 40 bytes: with its address, 48 bytes a slot (README "Memory") */

/* Fixed point for sampled counts: est_count of an exact record. */
#define WEIGHT_ONE		1024

/*
 * The allocations a record stands for, x WEIGHT_ONE: est_bytes scaled by
 * the size (byte sampling: k * sample_bytes / size; 1-in-N sampling: N;
 * exact: 1), or weight for a record of no bytes. Not stored: a record's
 * est_count is always this, so deriving it saves 8 bytes a slot.
 */
static inline __u64 alloc_est_count(__u64 size, __u64 est_bytes, __u32 weight)
{
	return size ? est_bytes * WEIGHT_ONE / size : (__u64)weight * WEIGHT_ONE;
}

/*
 * The allocs map: every live allocation by address, an ARRAY of buckets
 * used as a two-choice hash table (an address lives in one of the two
 * buckets alloc_buckets() names), so that the hot path takes no lock and
 * calls no helper, and userspace maps it instead of copying.
 *
 * A slot's addr is 0 (free), ALLOC_BUSY (being released) or the address.
 * The BPF programs claim a free slot with a compare-and-swap on addr,
 * write the record and store ts last; they release it by swapping addr to
 * ALLOC_BUSY, zeroing ts, then addr. A record is therefore complete when
 * ts is non-zero and it and addr read the same before and after the other
 * fields (x86_64 keeps stores in order; the writes' atomics order them for
 * the compiler). Two live allocations never share an address, so the
 * allocator itself orders the operations on one key.
 */
#define ALLOC_WAYS		8	/* slots per bucket: one cache line of addrs */
#define ALLOC_BUSY		1	/* addr of a slot being released (or moved) */

struct alloc_bucket {
	__u64 addr[ALLOC_WAYS];
	struct alloc_info info[ALLOC_WAYS];
};

/*
 * The allocs map is an array of two tables (tables.bpf.h): records are
 * made in ALLOC_TBL_NEW; ALLOC_TBL_OLD is set only while userspace moves
 * the records of a table that filled into a larger NEW one. A record being
 * moved is first copied into NEW as a shadow, addr | ALLOC_SHADOW (the
 * tracked addresses are all even), then the OLD slot is released and the
 * shadow becomes addr; the BPF programs look in OLD first, then NEW, so
 * they always meet a record exactly once (tracer/alloc_tables.c).
 */
#define ALLOC_TBL_NEW		0
#define ALLOC_TBL_OLD		1
#define ALLOC_TBL_MAX		2
#define ALLOC_SHADOW		1ULL	/* low bit of a moving record's addr */

/* Buckets for max_allocs live allocations at <= 2/3 load (at least 2):
 * two-choice buckets of 8 start to refuse records at about 70%. */
static inline __u32 alloc_bucket_count(__u64 max_allocs)
{
	__u64 slots = max_allocs + max_allocs / 2;
	__u64 nb = (slots + ALLOC_WAYS - 1) / ALLOC_WAYS;

	return nb < 2 ? 2 : (__u32)nb;
}

/* The two buckets (distinct, < nb, nb >= 2) where addr may live. */
static inline void alloc_buckets(__u64 addr, __u32 nb, __u32 *b1, __u32 *b2)
{
	__u64 h1 = addr * 0x9e3779b97f4a7c15ULL;
	__u64 h2 = (addr ^ (addr >> 31)) * 0xc2b2ae3d27d4eb4fULL;
	__u32 x = (__u32)(((h1 >> 32) * nb) >> 32);
	__u32 y = (__u32)(((h2 >> 32) * nb) >> 32);

	if (y == x)
		y = x + 1 < nb ? x + 1 : 0;
	*b1 = x;
	*b2 = y;
}

/* The key of a live anonymous mapping in the mmaps map: its start and
 * when it was recorded (mmap_info.ts again). With the time in the key, a
 * range the kernel hands out again while the release of its previous
 * mapping is still in flight (another thread's munmap) is a new entry,
 * never an overwrite of the old one. */
struct mmap_key {
	__u64 start;
	__u64 ts;
};

/* A live anonymous mapping in the mmaps map. */
struct mmap_info {
	__u64 len;
	__u64 ts;
	__u64 stack_id;
	__u32 kind;		/* KIND_MMAP or KIND_MREMAP */
	__u32 pad;
};

/* Notifications to userspace through the ring buffer. */
enum notify_type {
	NOTIFY_EXEC_MAP = 1,	/* new executable mapping: refresh modules */
	NOTIFY_EXEC = 2,	/* the traced image exec'd: tracing of it has ended */
};

struct notify_event {
	__u32 type;
	__u32 pid;
	__u64 addr;
	__u64 len;
	__u32 stopped;		/* the target stopped itself: SIGCONT it when done */
	__u32 pad;
};

/* Unwind table row (issue 4). Architecture neutral: "sp" and "fp" are the
 * stack and frame pointer registers of the architecture. A row holds from
 * its pc up to the next row's pc; the last row of a table ends it. */
enum cfa_rule {
	CFA_SP = 0,		/* CFA = sp + cfa_off */
	CFA_FP = 1,		/* CFA = fp + cfa_off */
	CFA_PLT = 2,		/* x86_64 PLT: CFA = sp + cfa_off, + 8 when
				   (pc & 15) >= plt_split (the push is done) */
	CFA_UNDEFINED = 3,	/* outermost frame (return address undefined): stop */
	CFA_UNSUPPORTED = 4,	/* no FDE covers pc, or an expression we do not
				   evaluate: fall back to fp */
};

enum reg_rule {
	REG_SAME = 0,		/* unchanged in the caller */
	REG_AT_CFA = 1,		/* saved at CFA + off */
	REG_UNDEFINED = 2,
};

/* 16 bytes: an ARRAY map rounds values up to 8 anyway. */
struct unwind_row {
	__u32 pc;		/* start of the range, relative to the table's base */
	__s32 cfa_off;		/* 32 bits: frames above 32 KiB exist (libc, python) */
	__u8 cfa_rule;		/* enum cfa_rule */
	__u8 fp_rule;		/* enum reg_rule for the frame pointer */
	__u8 plt_split;		/* CFA_PLT only: 11 for .plt, 9 for IBT .plt */
	__u8 pad;
	__s16 fp_off;		/* with REG_AT_CFA */
	__s16 ra_off;		/* return address at CFA + ra_off (x86_64: -8) */
};

/* Where one table lives in the global rows array. */
struct unwind_table_loc {
	__u32 first;		/* index of its first row in the rows map */
	__u32 count;
};

/* An executable mapping of the target, for the walker's module search. */
struct unwind_module {
	__u64 start;		/* mapping start (virtual address) */
	__u64 end;
	__u64 bias;		/* pc - bias = row pc (table base folded in) */
	__u32 table;		/* index into the table locations, or -1 (none) */
	__u32 pad;
};

struct unwind_modules {
	__u32 nr;		/* sorted by start */
	__u32 gen;		/* changes with every update: the walker's row
				   cache keys on it */
	struct unwind_module mod[UNWIND_MAX_MODULES];
};

#endif /* MEMTRACE_H */

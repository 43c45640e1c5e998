// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * memtrace.bpf.c - allocation tracing for one process.
 *
 * Uprobes on the allocator's malloc family, syscall tracepoints for
 * mmap/munmap/mremap. Every live allocation is kept in `allocs` (address ->
 * size, time, stack) and every stack's totals in `aggs`, so userspace reads
 * O(stacks) per report. Nothing is dropped silently: every failed map
 * operation bumps a per-CPU counter that each report shows.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "memtrace.h"

#ifndef BPF_UPROBE		/* libbpf < 1.2 (Debian 12) has only the kprobe names */
#define BPF_UPROBE(name, args...)	BPF_KPROBE(name, ##args)
#define BPF_URETPROBE(name, args...)	BPF_KRETPROBE(name, ##args)
#endif

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Configuration, set by userspace before load. */
const volatile __u32 target_tgid = 0;
const volatile __u32 unwind_mode = UNWIND_FP;
const volatile __u64 sample_bytes = 0;	/* 0: every allocation */
const volatile __u64 sample_seed = 0;
const volatile __u64 temp_ns = 1000000;	/* "temporary": freed within 1 ms */
const volatile __u32 page_size = 4096;
const volatile __u32 aggs_slots = AGGS_MAX_ENTRIES;	/* aggs' max_entries */
const volatile __u32 alloc_nb = 2;	/* allocs' max_entries (buckets) */
const volatile __u32 walk_memo = 1;	/* 0: walk every stack (benchmarks) */
/* Launched command: stop it at each new code mapping until its unwind
 * tables and symbols are loaded (memtrace is its parent). */
const volatile __u32 stop_on_code_map = 0;
/* Exponential draws with mean 65536 (fixed point 16.16), for sampling. */
const volatile __u32 exp_draws[SAMPLE_DRAWS] = {};

#define MAX_NEST	4		/* allocator calls in flight per thread */
#define MEMO_WAYS	4		/* walks remembered per thread, by call site */
#define NR_COUNTERS	(DROP_MAX + CNT_MAX)

#ifndef MAP_FIXED
#define MAP_FIXED		0x10
#define MAP_ANONYMOUS		0x20
#define MAP_FIXED_NOREPLACE	0x100000
#define PROT_EXEC		0x4
#endif

/* Live allocations: a two-choice table of buckets (see struct alloc_bucket),
 * alloc_nb of them; no helper call and no lock on the hot path. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);		/* userspace: alloc_bucket_count() */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct alloc_bucket);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STACKS_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct stack_trace);
} stacks SEC(".maps");

/* Open addressing over an array (see struct agg_val): no helper call and
 * no lock on the hot path, and userspace maps it instead of copying. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AGGS_MAX_ENTRIES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct agg_val);
} aggs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MMAPS_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct mmap_info);
} mmaps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_trace);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} notify SEC(".maps");

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += n;
}

#define unwind_count_fp_fallback(n)	count(DROP_MAX + CNT_UNWIND_FP_FALLBACK, (n))
#include "unwind.bpf.h"

/* One allocator (or syscall) call in flight on a thread. */
struct entry {
	__u64 sp;		/* stack pointer at function entry */
	__u64 size;
	__u64 ptr;		/* realloc: old pointer; posix_memalign: out pointer */
	__u64 old_ts;		/* realloc: the old block's record, to detect reuse */
	__u32 kind;
	__u32 nested;		/* made inside another allocator call: its business */
};

/* mmap-family syscall in flight (at most one per thread). */
struct sys_entry {
	__u64 addr;
	__u64 len;
	__u64 new_len;
	__u64 flags;
	__u64 prot;
	__s64 fd;
	__u32 nr;		/* which syscall: 1 mmap, 2 munmap, 3 mremap */
	__u32 skip;		/* made from inside the allocator */
};

struct task_state {
	__u32 depth;		/* entries in e[] */
	__u32 lost;		/* entries not saved because e[] was full */
	__s64 countdown;	/* sampling: bytes until the next sample */
	__u64 rng;		/* sampling: xorshift state */
	struct entry e[MAX_NEST];
	struct sys_entry sys;
	/* The last walk from each of MEMO_WAYS call-site classes: a repeat
	 * from the same place with the same stack skips the walk (exact, see
	 * unwind_user_stack()); result is its stack id. */
	struct unwind_memo memo[MEMO_WAYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} tasks SEC(".maps");

#define drop(reason)	count((reason), 1)
#define counter(cnt)	count(DROP_MAX + (cnt), 1)

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

/* This thread's state; created when create (NULL only if that fails). */
static __always_inline struct task_state *task_state(bool create)
{
	return bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* ---- stacks ---------------------------------------------------------- */

static __always_inline __u64 hash_stack(const struct stack_trace *st)
{
	__u64 h = 0xcbf29ce484222325ULL ^ st->nr;

	for (int i = 0; i < MAX_STACK_DEPTH; i++) {
		if (i >= st->nr)
			break;
		h ^= st->ip[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h ? h : 1;	/* 0 means "no stack" */
}

/*
 * Walk the user stack from regs, store it, return its id (0 if unknown).
 * ts (nullable): the thread's state, whose memos skip repeated walks.
 */
static __always_inline __u64 get_stack_id(struct pt_regs *regs, struct task_state *ts)
{
	__u32 zero = 0;
	struct stack_trace *st = bpf_map_lookup_elem(&scratch, &zero);
	struct unwind_memo *memo = NULL;
	__u64 id = 0, seq;
	long err;

	if (!st)
		return 0;
	if (ts && walk_memo) {
		__u64 way = (PT_REGS_IP(regs) * 0x9e3779b97f4a7c15ULL) >> 62;

		memo = &ts->memo[way & (MEMO_WAYS - 1)];
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		/* "&& memo": a hit implies it, the verifier needs to see it */
		if (unwind_user_stack(regs, target_tgid, st, unwind_mode, memo) == UNWIND_MEMO_HIT &&
		    memo) {
			counter(CNT_STACK_WALKS_SKIPPED);
			return memo->result;
		}
		counter(CNT_STACK_WALKS);
		seq = unwind_seq();
		if (st->flags & STACK_F_TRUNCATED)
			counter(CNT_UNWIND_TRUNCATED);
		if (st->flags & STACK_F_UNWIND_ERROR)
			counter(CNT_UNWIND_FAILED);
		id = hash_stack(st);
		if (!bpf_map_lookup_elem(&stacks, &id)) {
			err = bpf_map_update_elem(&stacks, &id, st, BPF_NOEXIST);
			if (err && err != -17 /* EEXIST */) {
				drop(DROP_STACKS_FULL);
				return 0;
			}
		}
		if (unwind_seq() == seq)
			break;
		/* st (per-CPU) was reused by another walk meanwhile: the id may
		 * be of a mix; walk again (the mix stays unreferenced) */
		id = 0;
	}
	if (memo)
		memo->result = id;
	return id;
}

/* User registers of the current task, for syscall tracepoints. */
static __always_inline struct pt_regs *user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* ---- aggregation ----------------------------------------------------- */

/*
 * Slot of (stack_id, kind) in aggs, claimed when create; -1 when absent
 * (not create) or when its AGG_PROBES slots are all taken (counted).
 * Slots are never released, so a key's probe sequence has no holes.
 * A plain bounded loop: verified once (a global function), no callback.
 */
__noinline int agg_slot(__u64 stack_id, __u32 kind, int create)
{
	__u64 tag = agg_tag(stack_id, kind), cur;
	struct agg_val *v;
	__u32 k;

	if (!aggs_slots)
		return -1;
	k = agg_first_slot(tag, aggs_slots);
	for (int i = 0; i < AGG_PROBES; i++) {
		v = bpf_map_lookup_elem(&aggs, &k);
		if (!v)
			return -1;
		cur = v->tag;
		if (cur == 0) {
			if (!create)
				return -1;
			cur = __sync_val_compare_and_swap(&v->tag, 0, tag);
			if (cur == 0) {
				v->stack_id = stack_id;
				v->kind = kind;
				__sync_fetch_and_or(&v->ready, 1);	/* ordered after the key */
				return k;
			}
		}
		if (cur == tag)	/* (also: claimed for the same key meanwhile) */
			return k;
		k = (k + 1) % aggs_slots;	/* no branch: one path per probe */
	}
	if (create)
		drop(DROP_AGGS_FULL);
	return -1;
}

static __always_inline struct agg_val *agg_get(__u64 stack_id, __u32 kind, bool create)
{
	int slot = agg_slot(stack_id, kind, create);
	__u32 k = slot;

	return slot < 0 ? NULL : bpf_map_lookup_elem(&aggs, &k);
}

static __always_inline void agg_add(__u64 stack_id, __u32 kind, __u64 bytes,
				    __u64 cnt, __u64 ts)
{
	struct agg_val *v = agg_get(stack_id, kind, true);
	__s64 now;

	if (!v)
		return;
	now = __sync_fetch_and_add(&v->outstanding_bytes, bytes) + bytes;
	__sync_fetch_and_add(&v->outstanding_allocs, cnt);
	__sync_fetch_and_add(&v->alloc_calls, cnt);
	__sync_fetch_and_add(&v->alloc_bytes, bytes);
	__sync_fetch_and_add(&v->sum_alloc_ts, ts);
	if (now > v->peak_bytes)
		v->peak_bytes = now;	/* best effort under races */
	counter(CNT_ALLOC_CALLS);
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

/*
 * Release `bytes` of a record of the given stack. `whole` when the record is
 * gone (a free, a complete munmap): then it counts as a free and its
 * lifetime is recorded.
 */
static __always_inline void agg_release(__u64 stack_id, __u32 kind, __u64 bytes,
					__u64 cnt, __u64 ts, bool whole)
{
	struct agg_val *v = agg_get(stack_id, kind, false);
	__u64 life, b;

	if (!v)
		return;
	__sync_fetch_and_add(&v->outstanding_bytes, -(__s64)bytes);
	__sync_fetch_and_add(&v->free_bytes, bytes);
	if (!whole)
		return;
	__sync_fetch_and_add(&v->outstanding_allocs, -(__s64)cnt);
	__sync_fetch_and_add(&v->free_calls, cnt);
	__sync_fetch_and_add(&v->sum_alloc_ts, -ts);
	life = bpf_ktime_get_ns() - ts;
	if (life < temp_ns)
		__sync_fetch_and_add(&v->temp_allocs, cnt);
	b = log2_u64(life / 1000);
	if (b >= LIFE_BUCKETS)
		b = LIFE_BUCKETS - 1;
	__sync_fetch_and_add(&v->life_hist[b & (LIFE_BUCKETS - 1)], cnt);
	counter(CNT_FREE_CALLS);
}

/* ---- sampling -------------------------------------------------------- */

static __always_inline __u32 next_rand(struct task_state *ts)
{
	__u64 x = ts->rng;

	if (!x) {
		/* Same seed, same samples: mix in the thread's ordinal (tid -
		 * tgid: 0 for the main thread), never the pid itself. */
		__u64 id = bpf_get_current_pid_tgid();
		__u64 ord = (__u32)id - (id >> 32);

		x = (sample_seed ^ ((ord + 1) * 0x9e3779b97f4a7c15ULL)) | 1;
	}
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	ts->rng = x;
	return (__u32)(x >> 32);
}

static __always_inline __s64 draw(struct task_state *ts)
{
	__u32 i = next_rand(ts) & (SAMPLE_DRAWS - 1);

	return (__s64)(((__u64)exp_draws[i] * sample_bytes) >> 16) + 1;
}

/*
 * Decide whether an allocation of `size` is recorded, and what it stands for.
 * Returns false when sampled out. Allocations >= sample_bytes are exact.
 */
static __always_inline bool sample(struct task_state *ts, __u64 size,
				   __u64 *est_bytes, __u64 *est_count)
{
	__u64 k = 0;

	*est_bytes = size;
	*est_count = WEIGHT_ONE;
	if (!sample_bytes || size >= sample_bytes)
		return true;
	if (!ts)
		return true;
	if (ts->countdown == 0)
		ts->countdown = draw(ts);
	ts->countdown -= size;
	for (int i = 0; i < 16 && ts->countdown <= 0; i++) {
		k++;
		ts->countdown += draw(ts);
	}
	if (!k) {
		counter(CNT_SAMPLED_OUT);
		return false;
	}
	/* Each sample point stands for sample_bytes bytes (unbiased). */
	*est_bytes = k * sample_bytes;
	*est_count = size ? (k * sample_bytes * WEIGHT_ONE) / size : WEIGHT_ONE;
	return true;
}

/* ---- the allocs table ------------------------------------------------ */

#define ALLOC_SLOT_NEW	(1LL << 40)	/* alloc_slot(): claimed just now */
#define barrier()	asm volatile("" ::: "memory")

/*
 * The slot (bucket * ALLOC_WAYS + way) of addr in allocs, or -1 when it is
 * absent. claim: when absent, claim a free slot for addr (in the bucket of
 * the two with more free slots) and return it | ALLOC_SLOT_NEW; -1 when
 * both buckets are full. A claimed slot's record is the caller's to fill.
 */
__noinline long alloc_slot(__u64 addr, int claim)
{
	__u32 k[2], kk;
	struct alloc_bucket *b;
	__u64 a, nfree[2] = {}, pick;

	if (addr <= ALLOC_BUSY)
		return -1;
	alloc_buckets(addr, alloc_nb, &k[0], &k[1]);
	/* Written for the verifier: one bucket pointer per outer pass and no
	 * branch but the ones that return, so every pass verifies alike. */
	for (int j = 0; j < 2; j++) {
		kk = k[j];
		b = bpf_map_lookup_elem(&allocs, &kk);
		if (!b)
			return -1;
		for (__u32 w = 0; w < ALLOC_WAYS; w++) {
			__u64 nz;

			a = b->addr[w];
			if (a == addr)
				return (long)kk * ALLOC_WAYS + w;
			/* nz = a | -a: its top bit is a != 0. In asm, or clang
			 * makes it a branch, and the verifier then follows
			 * every count of free slots apart. */
			nz = -a;
			asm volatile("%[nz] |= %[a]" : [nz] "+r"(nz) : [a] "r"(a));
			nfree[j] += (nz >> 63) ^ 1;
		}
	}
	if (!claim)
		return -1;
	pick = (nfree[0] - nfree[1]) >> 63;	/* 1: the second has more free */
	for (int pass = 0; pass < 2; pass++) {
		kk = k[(pick ^ pass) & 1];
		b = bpf_map_lookup_elem(&allocs, &kk);
		if (!b)
			return -1;
		for (__u32 w = 0; w < ALLOC_WAYS; w++) {
			if (b->addr[w] == 0 &&
			    __sync_val_compare_and_swap(&b->addr[w], 0, addr) == 0)
				return ((long)kk * ALLOC_WAYS + w) | ALLOC_SLOT_NEW;
		}
	}
	return -1;
}

/* The bucket holding slot (from alloc_slot()), NULL if out of range. */
static __always_inline struct alloc_bucket *alloc_bucket_of(long slot)
{
	__u32 k = (__u32)(slot & 0xffffffffLL) / ALLOC_WAYS;

	return bpf_map_lookup_elem(&allocs, &k);
}

/* The record of live allocation addr, NULL if untracked. */
static __always_inline struct alloc_info *alloc_find(__u64 addr)
{
	long slot = alloc_slot(addr, 0);
	struct alloc_bucket *b;

	if (slot < 0)
		return NULL;
	b = alloc_bucket_of(slot);
	return b ? &b->info[slot & (ALLOC_WAYS - 1)] : NULL;
}

/* ---- allocations ----------------------------------------------------- */

static __always_inline void release_record(const struct alloc_info *info)
{
	agg_release(info->stack_id, info->kind, info->est_bytes, info->est_count,
		    info->ts, true);
}

static __always_inline void record_alloc(struct pt_regs *regs, struct task_state *ts,
					 __u64 addr, __u64 size, __u32 kind)
{
	struct alloc_info info = { .size = size, .kind = kind };
	struct alloc_bucket *b;
	struct alloc_info *rec;
	long slot;

	if (!sample(ts, size, &info.est_bytes, &info.est_count))
		return;
	info.ts = bpf_ktime_get_ns();
	info.stack_id = get_stack_id(regs, ts);
	slot = alloc_slot(addr, 1);
	b = slot < 0 ? NULL : alloc_bucket_of(slot);
	if (!b) {
		drop(DROP_ALLOCS_FULL);
		return;
	}
	rec = &b->info[slot & (ALLOC_WAYS - 1)];
	if (!(slot & ALLOC_SLOT_NEW)) {
		/* The address is live again: its free was not seen. */
		struct alloc_info old = *rec;

		*(volatile __u64 *)&rec->ts = 0;	/* readers: incomplete */
		barrier();
		release_record(&old);
	}
	rec->size = info.size;
	rec->stack_id = info.stack_id;
	rec->kind = info.kind;
	rec->flags = 0;
	rec->est_bytes = info.est_bytes;
	rec->est_count = info.est_count;
	barrier();
	*(volatile __u64 *)&rec->ts = info.ts;	/* last: the record is complete */
	agg_add(info.stack_id, kind, info.est_bytes, info.est_count, info.ts);
}

/*
 * Release the record of addr; only if it was made at ts only_ts, when
 * that is non-zero (realloc: not a record of the block's reuse). Returns
 * false when addr is not tracked.
 */
static __always_inline bool record_free(__u64 addr, __u64 only_ts)
{
	long slot = alloc_slot(addr, 0);
	struct alloc_bucket *b = slot < 0 ? NULL : alloc_bucket_of(slot);
	struct alloc_info info, *rec;
	__u32 w = slot & (ALLOC_WAYS - 1);

	if (!b)
		return false;
	rec = &b->info[w];
	if (only_ts && rec->ts != only_ts)
		return true;
	if (__sync_val_compare_and_swap(&b->addr[w], addr, ALLOC_BUSY) != addr)
		return true;	/* another CPU released it */
	info = *rec;
	*(volatile __u64 *)&rec->ts = 0;
	barrier();
	*(volatile __u64 *)&b->addr[w] = 0;	/* the slot is free again */
	release_record(&info);
	return true;
}

static __always_inline void push_entry(struct pt_regs *ctx, __u32 kind,
				       __u64 size, __u64 ptr)
{
	struct task_state *ts;
	struct entry *e;
	__u32 d;

	counter(CNT_PROBE_HITS);
	ts = task_state(true);
	if (!ts) {
		drop(DROP_ENTRIES_FULL);
		return;
	}
	d = ts->depth;
	if (d >= MAX_NEST) {
		ts->lost++;
		drop(DROP_ENTRIES_FULL);
		return;
	}
	e = &ts->e[d & (MAX_NEST - 1)];
	e->sp = PT_REGS_SP(ctx);	/* entry probes with a return probe sit at the entry */
	e->size = size;
	e->ptr = ptr;
	e->kind = kind;
	/* realloc(NULL, n) calling malloc, reallocarray calling realloc: the
	 * outer call accounts for the result. */
	e->nested = d > 0;
	e->old_ts = 0;
	if (kind == KIND_REALLOC || kind == KIND_REALLOCARRAY) {
		struct alloc_info *old = ptr ? alloc_find(ptr) : NULL;

		if (old)
			e->old_ts = old->ts;
	}
	ts->depth = d + 1;
}

/*
 * Pop the entry that this return belongs to: the one whose entry stack
 * pointer is sp - 8 (the return address was popped). Entries above it
 * belong to calls that never returned (longjmp) and are discarded.
 */
static __always_inline bool pop_entry(struct pt_regs *ctx, struct task_state **tsp,
				      struct entry *out)
{
	struct task_state *ts;
	__u64 sp = PT_REGS_SP(ctx) - 8;

	counter(CNT_PROBE_HITS);
	ts = task_state(false);
	*tsp = ts;
	if (!ts || !ts->depth)
		goto missed;
	for (int i = MAX_NEST - 1; i >= 0; i--) {
		if (i >= ts->depth)
			continue;
		if (ts->e[i].sp == sp) {
			*out = ts->e[i];
			ts->depth = i;
			return true;
		}
	}
	if (ts->lost) {		/* this return's entry was never saved */
		ts->lost--;
		return false;
	}
missed:
	drop(DROP_MISSED_ENTRY);
	return false;
}

static __always_inline int alloc_exit(struct pt_regs *ctx)
{
	struct task_state *ts;
	struct entry e;
	__u64 ret = PT_REGS_RC(ctx);

	if (!pop_entry(ctx, &ts, &e) || e.nested)
		return 0;

	switch (e.kind) {
	case KIND_POSIX_MEMALIGN:
		if ((int)ret != 0)
			return 0;
		if (bpf_probe_read_user(&ret, sizeof(ret), (void *)e.ptr))
			return 0;
		break;
	case KIND_REALLOC:
	case KIND_REALLOCARRAY:
		if (!e.ptr)
			break;			/* realloc(NULL, n) == malloc(n) */
		if (!ret && e.size)
			return 0;		/* failed: the old block stays */
		if (e.old_ts)		/* release the old block, unless reused */
			record_free(e.ptr, e.old_ts);
		else if (!sample_bytes) {
			counter(CNT_UNMATCHED_FREES);
		}
		break;
	default:
		break;
	}
	if (!ret)
		return 0;
	record_alloc(ctx, ts, ret, e.size, e.kind);
	return 0;
}

static __always_inline __u64 mul_checked(__u64 a, __u64 b)
{
	/* Long multiplication on 32-bit halves: BPF has no 128-bit product. */
	__u64 ah = a >> 32, al = a & 0xffffffff, bh = b >> 32, bl = b & 0xffffffff;
	__u64 cross, low;

	if (ah && bh)
		return ~0ULL;	/* overflow: an impossible size, the call fails */
	cross = ah * bl + al * bh;
	if (cross >> 32)
		return ~0ULL;
	low = al * bl;
	if (low + (cross << 32) < low)
		return ~0ULL;
	return low + (cross << 32);
}

SEC("uprobe")
int BPF_UPROBE(malloc_enter, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_MALLOC, size, 0);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(calloc_enter, __u64 nmemb, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_CALLOC, mul_checked(nmemb, size), 0);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(realloc_enter, __u64 ptr, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_REALLOC, size, ptr);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(reallocarray_enter, __u64 ptr, __u64 nmemb, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_REALLOCARRAY,
			   mul_checked(nmemb, size), ptr);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(posix_memalign_enter, __u64 memptr, __u64 align, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_POSIX_MEMALIGN, size, memptr);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(aligned_alloc_enter, __u64 align, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_ALIGNED_ALLOC, size, 0);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(memalign_enter, __u64 align, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_MEMALIGN, size, 0);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(valloc_enter, __u64 size)
{
	if (is_target())
		push_entry(ctx, KIND_VALLOC, size, 0);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(pvalloc_enter, __u64 size)
{
	__u64 ps = page_size;

	if (is_target())	/* pvalloc rounds up to a whole page */
		push_entry(ctx, KIND_PVALLOC,
			   size ? (size + ps - 1) / ps * ps : ps, 0);
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(alloc_return)
{
	if (is_target())
		alloc_exit(ctx);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(free_enter, __u64 ptr)
{
	if (!is_target() || !ptr)
		return 0;
	counter(CNT_PROBE_HITS);
	if (!record_free(ptr, 0) && !sample_bytes)
		counter(CNT_UNMATCHED_FREES);
	return 0;
}

/* ---- mmap, munmap, mremap ----------------------------------------- */

struct range_hits {
	__u64 lo, hi;		/* range being released */
	__u32 n;
	__u32 overflow;
	__u64 start[MUNMAP_MAX_HITS];
};

static long collect_overlap(struct bpf_map *map, __u64 *key, struct mmap_info *val,
			    struct range_hits *h)
{
	__u64 s = *key, e = s + val->len;

	if (e <= h->lo || s >= h->hi)
		return 0;
	if (h->n >= MUNMAP_MAX_HITS) {
		h->overflow = 1;
		return 1;
	}
	h->start[h->n & (MUNMAP_MAX_HITS - 1)] = s;
	h->n++;
	return 0;
}

/* Release the part of tracked mapping h->start[i] that [lo, hi) covers. */
static long release_one(__u32 i, struct range_hits *h)
{
	struct mmap_info *p, m;
	__u64 s, e, cut_lo, cut_hi, lo = h->lo, hi = h->hi;

	if (i >= MUNMAP_MAX_HITS)
		return 1;
	s = h->start[i];
	p = bpf_map_lookup_elem(&mmaps, &s);
	if (!p)
		return 0;
	m = *p;
	e = s + m.len;
	cut_lo = s > lo ? s : lo;
	cut_hi = e < hi ? e : hi;
	if (cut_lo >= cut_hi)
		return 0;
	if (cut_lo == s && cut_hi == e) {		/* whole */
		if (!bpf_map_delete_elem(&mmaps, &s))
			agg_release(m.stack_id, m.kind, m.len, WEIGHT_ONE, m.ts, true);
		return 0;
	}
	if (cut_lo == s) {				/* head */
		struct mmap_info rest = m;
		__u64 ns = cut_hi;

		rest.len = e - cut_hi;
		if (bpf_map_delete_elem(&mmaps, &s))
			return 0;
		if (bpf_map_update_elem(&mmaps, &ns, &rest, BPF_ANY))
			drop(DROP_MMAPS_FULL);
	} else if (cut_hi == e) {			/* tail */
		p->len = cut_lo - s;
	} else {					/* middle: split in two */
		struct mmap_info rest = m;
		__u64 ns = cut_hi;
		struct agg_val *v;

		rest.len = e - cut_hi;
		p->len = cut_lo - s;
		if (bpf_map_update_elem(&mmaps, &ns, &rest, BPF_ANY)) {
			drop(DROP_MMAPS_FULL);
		} else {
			/* two live pieces now */
			v = agg_get(m.stack_id, m.kind, false);
			if (v) {
				__sync_fetch_and_add(&v->outstanding_allocs, WEIGHT_ONE);
				__sync_fetch_and_add(&v->sum_alloc_ts, m.ts);
			}
		}
	}
	agg_release(m.stack_id, m.kind, cut_hi - cut_lo, WEIGHT_ONE, m.ts, false);
	return 0;
}

/* Release [lo, hi) from the tracked mappings it overlaps. */
static __always_inline void release_range(__u64 lo, __u64 hi)
{
	struct range_hits h = { .lo = lo, .hi = hi };

	if (lo >= hi)
		return;
	bpf_for_each_map_elem(&mmaps, collect_overlap, &h, 0);
	if (h.overflow)
		drop(DROP_MUNMAP_OVERFLOW);
	if (h.n)
		bpf_loop(h.n, release_one, &h, 0);
}

static __always_inline __u64 page_round(__u64 len)
{
	__u64 ps = page_size;

	return (len + ps - 1) / ps * ps;
}

static __always_inline void record_mapping(__u64 addr, __u64 len, __u32 kind)
{
	struct mmap_info m = { .len = len, .kind = kind };
	struct pt_regs *regs = user_regs();

	m.ts = bpf_ktime_get_ns();
	m.stack_id = regs ? get_stack_id(regs, NULL) : 0;
	if (bpf_map_update_elem(&mmaps, &addr, &m, BPF_ANY)) {
		drop(DROP_MMAPS_FULL);
		return;
	}
	agg_add(m.stack_id, kind, len, WEIGHT_ONE, m.ts);
}

/* Start of an mmap-family syscall: save the arguments. */
static __always_inline struct task_state *sys_enter(__u32 nr)
{
	struct task_state *ts;

	if (!is_target())
		return NULL;
	counter(CNT_PROBE_HITS);
	ts = task_state(true);
	if (!ts) {
		drop(DROP_ENTRIES_FULL);
		return NULL;
	}
	ts->sys.nr = nr;
	/* Mappings made by the allocator itself are its business: the
	 * allocation they serve is already accounted at malloc. */
	ts->sys.skip = ts->depth > 0;
	return ts;
}

static __always_inline struct task_state *sys_exit(__u32 nr)
{
	struct task_state *ts;

	if (!is_target())
		return NULL;
	counter(CNT_PROBE_HITS);
	ts = task_state(false);
	if (!ts || ts->sys.nr != nr)
		return NULL;
	ts->sys.nr = 0;
	return ts;
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int mmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct task_state *ts = sys_enter(1);

	if (!ts)
		return 0;
	ts->sys.addr = ctx->args[0];
	ts->sys.len = ctx->args[1];
	ts->sys.prot = ctx->args[2];
	ts->sys.flags = ctx->args[3];
	ts->sys.fd = (__s64)ctx->args[4];
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_state *ts = sys_exit(1);
	__u64 addr = ctx->ret, len;

	if (!ts || ctx->ret < 0)
		return 0;
	len = page_round(ts->sys.len);
	/* A fixed mapping replaces whatever was mapped there. */
	if (ts->sys.flags & MAP_FIXED)
		release_range(addr, addr + len);
	if (!(ts->sys.flags & MAP_ANONYMOUS)) {
		if (ts->sys.prot & PROT_EXEC) {	/* a new code mapping: dlopen */
			struct notify_event *ev;

			ev = bpf_ringbuf_reserve(&notify, sizeof(*ev), 0);
			if (!ev) {
				drop(DROP_NOTIFY_FULL);
			} else {
				ev->type = NOTIFY_EXEC_MAP;
				ev->pid = target_tgid;
				ev->addr = addr;
				ev->len = len;
				ev->stopped = 0;
				if (stop_on_code_map && !bpf_send_signal(19 /* SIGSTOP */))
					ev->stopped = 1;
				bpf_ringbuf_submit(ev, 0);
			}
		}
		return 0;
	}
	if (ts->sys.skip)
		return 0;
	record_mapping(addr, len, KIND_MMAP);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_munmap")
int munmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct task_state *ts = sys_enter(2);

	if (!ts)
		return 0;
	ts->sys.addr = ctx->args[0];
	ts->sys.len = ctx->args[1];
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_munmap")
int munmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_state *ts = sys_exit(2);

	if (!ts || ctx->ret != 0)
		return 0;
	/* Even inside the allocator: a range we track is being unmapped. */
	release_range(ts->sys.addr, ts->sys.addr + page_round(ts->sys.len));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mremap")
int mremap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct task_state *ts = sys_enter(3);

	if (!ts)
		return 0;
	ts->sys.addr = ctx->args[0];
	ts->sys.len = ctx->args[1];
	ts->sys.new_len = ctx->args[2];
	ts->sys.flags = ctx->args[3];
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mremap")
int mremap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_state *ts = sys_exit(3);
	__u64 naddr = ctx->ret;

	if (!ts || ctx->ret < 0 || ts->sys.skip)
		return 0;
	/* Like realloc: the old range is released, the new one is an
	 * allocation at this caller's stack. */
	release_range(ts->sys.addr, ts->sys.addr + page_round(ts->sys.len));
	record_mapping(naddr, page_round(ts->sys.new_len), KIND_MREMAP);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmem.bpf.c - kernel allocations (issue 14): slab objects (kmalloc,
 * kmem_cache), pages and per-CPU memory, through BTF tracepoints only.
 *
 * Host-wide, or only what is allocated in one process's context
 * (target_tgid). Frees are matched by address whoever frees (another CPU,
 * an interrupt), never by task. Every live allocation is a record in
 * `allocs` and every (stack, kind)'s totals are in `aggs`, the layouts of
 * the user tracer (alloc_table.bpf.h, aggs.bpf.h), so userspace reads both
 * objects with one collector. Stacks are the kernel frames
 * (bpf_get_stack), then, with user_stacks, the user frames of the same
 * event (frame pointers), hashed into `stacks`.
 *
 * A separate object from memtrace.bpf.c: the user tracer's programs and
 * verifier cost do not change.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kmem.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Configuration, set by userspace before load. */
const volatile __u32 target_tgid = 0;	/* 0: every process */
const volatile __u32 self_tgid = 0;	/* memtrace itself: never traced */
const volatile __u32 user_stacks = 0;	/* append the user frames */
const volatile __u32 page_sample = 1;	/* record 1 in N page allocations */
const volatile __u64 temp_ns = 1000000;	/* "temporary": freed within 1 ms */
const volatile __u32 page_size = 4096;

#define NR_COUNTERS	(DROP_MAX + CNT_MAX)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

#include "tables.bpf.h"		/* allocs, stacks */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KCACHES_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct kcache_name);
} kcaches SEC(".maps");

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += n;
}

#define drop(reason)	count((reason), 1)
#define counter(cnt)	count(DROP_MAX + (cnt), 1)

#include "aggs.bpf.h"		/* per-stack totals */
#include "alloc_table.bpf.h"	/* live allocations */

/* ---- stacks -------------------------------------------------------------- */

/*
 * The stack of this event, stored once; its id (0 when unknown, counted).
 * cache (kmem_cache kind: the address of the cache's name, 0 otherwise; a
 * scalar, which a trusted pointer is not): mixed into the id so that one
 * stack through two caches is two entries, and the name is stored for it.
 */
static __always_inline __u64 kstack_id(void *ctx, __u64 cache)
{
	__u32 zero = 0;
	struct stack_trace *sc = bpf_map_lookup_elem(&scratch, &zero);
	struct stack_trace *st;
	long n, un = 0;
	__u64 id;

	if (!sc)
		return 0;
	st = sc;
	n = bpf_get_stack(ctx, st->ip, KSTACK_DEPTH * sizeof(__u64), 0);
	if (n <= 0) {
		drop(DROP_KSTACK_FAILED);
		return 0;
	}
	st->nr = (__u32)((__u64)n / sizeof(__u64));
	st->flags = st->nr >= KSTACK_DEPTH ? STACK_F_TRUNCATED : 0;
	if (user_stacks) {
		/* straight after the kernel frames: a fixed size that fits
		 * after at most KSTACK_DEPTH of them */
		__u32 nr = st->nr;

		if (nr > KSTACK_DEPTH)
			nr = KSTACK_DEPTH;
		un = bpf_get_stack(ctx, &st->ip[nr], (MAX_STACK_DEPTH - KSTACK_DEPTH) * sizeof(__u64),
				   BPF_F_USER_STACK);
		if (un > 0)
			st->nr = nr + (__u32)((__u64)un / sizeof(__u64));
	}
	if (st->flags & STACK_F_TRUNCATED)
		counter(CNT_UNWIND_TRUNCATED);
	n = stack_put(cache * 0x9e3779b97f4a7c15ULL, &id);
	if (n == -17 /* EEXIST */)
		return id;
	if (n) {
		drop(DROP_STACKS_FULL);
		return 0;
	}
	if (cache && !n) {
		struct kcache_name name = {};

		bpf_probe_read_kernel_str(name.name, sizeof(name.name), (const void *)cache);
		bpf_map_update_elem(&kcaches, &id, &name, BPF_NOEXIST);
	}
	counter(CNT_STACK_WALKS);
	return id;
}

/* ---- allocations and frees ----------------------------------------------- */

/* Made in a traced context: the target's, or any but memtrace's own. */
static __always_inline bool traced(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	counter(CNT_PROBE_HITS);
	if (target_tgid)
		return tgid == target_tgid;
	return tgid != self_tgid;
}

/*
 * Record an allocation at key (bytes, kind, cache: see kstack_id()).
 * sample: 1 in page_sample of them is recorded (uniformly at random), each
 * standing for page_sample allocations: unbiased.
 */
static __always_inline void kalloc(void *ctx, __u64 key, __u64 bytes, __u32 kind,
				   __u64 cache, bool sample)
{
	__u32 weight = sample && page_sample > 1 ? page_sample : 1;
	struct alloc_info info = {
		.size = bytes, .kind = kind,
		.est_bytes = bytes * weight, .weight = weight,
	};

	if (!key || !traced())
		return;
	if (weight > 1 && bpf_get_prandom_u32() % weight) {
		counter(CNT_SAMPLED_OUT);
		return;
	}
	info.ts = bpf_ktime_get_ns();
	info.stack_id = kstack_id(ctx, cache);
	alloc_store(key, &info);
}

/* A free by address, from any task. sampled: 1 in N allocations of this
 * kind were recorded, so a miss says nothing. */
static __always_inline void kfree_addr(__u64 key, bool sampled)
{
	if (!key)
		return;
	if (!record_free(key, 0) && !target_tgid && !sampled)
		counter(CNT_UNMATCHED_FREES);
}

SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc)
{
	kalloc(ctx, (__u64)ptr, bytes_alloc, KIND_KMALLOC, 0, false);
	return 0;
}

/* Kernels before 6.1 have kmalloc_node and kmem_cache_alloc_node too (same
 * first arguments); userspace loads these only where BTF has them. */
SEC("tp_btf/kmalloc_node")
int BPF_PROG(kmalloc_node, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc)
{
	kalloc(ctx, (__u64)ptr, bytes_alloc, KIND_KMALLOC, 0, false);
	return 0;
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc, unsigned long call_site, const void *ptr, struct kmem_cache *s)
{
	kalloc(ctx, (__u64)ptr, BPF_CORE_READ(s, size), KIND_KMEM_CACHE,
	       (__u64)BPF_CORE_READ(s, name), false);
	return 0;
}

/* Before 6.1: no cache argument (and a _node twin); no cache name then. */
SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc_sized, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc)
{
	kalloc(ctx, (__u64)ptr, bytes_alloc, KIND_KMEM_CACHE, 0, false);
	return 0;
}

SEC("tp_btf/kmem_cache_alloc_node")
int BPF_PROG(kmem_cache_alloc_node, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc)
{
	kalloc(ctx, (__u64)ptr, bytes_alloc, KIND_KMEM_CACHE, 0, false);
	return 0;
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree, unsigned long call_site, const void *ptr)
{
	kfree_addr((__u64)ptr, false);
	return 0;
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(kmem_cache_free, unsigned long call_site, const void *ptr)
{
	kfree_addr((__u64)ptr, false);
	return 0;
}

/* A struct page pointer as a number (the key of its record): the verifier
 * allows no arithmetic or scalar use of a trusted pointer. */
static __always_inline __u64 page_key(struct page *page)
{
	__u64 key = 0;

	bpf_probe_read_kernel(&key, sizeof(key), &page);
	return key;
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(mm_page_alloc, struct page *page, unsigned int order)
{
	kalloc(ctx, page_key(page), (__u64)page_size << (order & 31), KIND_PAGES, 0, true);
	return 0;
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(mm_page_free, struct page *page, unsigned int order)
{
	kfree_addr(page_key(page), page_sample > 1);
	return 0;
}

SEC("tp_btf/percpu_alloc_percpu")
int BPF_PROG(percpu_alloc_percpu, unsigned long call_site, bool reserved, bool is_atomic,
	     size_t size, size_t align, void *base_addr, int off, void *ptr, size_t bytes_alloc)
{
	if (ptr)
		kalloc(ctx, (__u64)ptr | KMEM_PERCPU_TAG, bytes_alloc, KIND_PERCPU, 0, false);
	return 0;
}

SEC("tp_btf/percpu_free_percpu")
int BPF_PROG(percpu_free_percpu, void *base_addr, int off, void *ptr)
{
	if (ptr)
		kfree_addr((__u64)ptr | KMEM_PERCPU_TAG, false);
	return 0;
}

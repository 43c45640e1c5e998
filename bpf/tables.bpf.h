/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tables.bpf.h - the maps every tracing object keeps alike, so that
 * userspace reads them with one reader (tracer/alloc_tables.c, collect.c):
 * `allocs`, the live allocations, and the stacks by id (`stacks_8` ...
 * `stacks_127`, one map per depth class). Included by stacks.bpf.h
 * (memtrace.bpf.c) and kmem.bpf.c, after memtrace.h.
 */
#ifndef MEMTRACE_TABLES_BPF_H
#define MEMTRACE_TABLES_BPF_H

/*
 * Live allocations: two-choice tables of buckets (see struct alloc_bucket)
 * in an array of maps: ALLOC_TBL_NEW, where records are made, and, while
 * userspace moves its records into a larger NEW, ALLOC_TBL_OLD (see
 * alloc_table.bpf.h). Userspace creates the tables (tracer/alloc_tables.c):
 * a table's bucket count is its max_entries.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, ALLOC_TBL_MAX);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(max_entries, 2);
		__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
		__uint(key_size, sizeof(__u32));	/* sizes, not BTF types: */
		__uint(value_size, sizeof(struct alloc_bucket));	/* a value type
					without BTF of its own makes the kernel refuse both */
	});
} allocs SEC(".maps");

/* Records made and released (per CPU, [0] made, [1] released): userspace
 * sums them into the live count that decides when the table grows. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} alloc_records SEC(".maps");

/*
 * Stacks by id, one hash map per depth class (STACK_CLASS_DEPTHS), none
 * preallocated: a stack costs its own frames, not MAX_STACK_DEPTH of them.
 * The class is the top bits of the id (stack_class_id()).
 */
#define STACK_MAP(name, depth)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_HASH);			\
		__uint(max_entries, STACKS_MAX_ENTRIES);		\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__uint(key_size, sizeof(__u64));			\
		__uint(value_size, 8 + 8 * (depth));			\
	} name SEC(".maps")

STACK_MAP(stacks_8, 8);
STACK_MAP(stacks_16, 16);
STACK_MAP(stacks_32, 32);
STACK_MAP(stacks_64, 64);
STACK_MAP(stacks_127, MAX_STACK_DEPTH);

/* Per-CPU: the stack being built (a program runs on one CPU throughout,
 * and tracing programs do not nest on one, so stack_put() finds it there). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_trace);
} scratch SEC(".maps");

/*
 * bpf_map_update_elem() on a map made without preallocation (stacks_*,
 * aggs), tried twice when the first try fails for a moment: such a map
 * takes its entries from a per-CPU cache that the kernel refills from an
 * irq_work, which the failing call raises (-ENOMEM until it has run: a
 * burst of new entries on one CPU, seen on 6.1), or finds its bucket's
 * lock taken on this CPU (-EBUSY). Returns 0 or the last -errno: the
 * caller counts what is lost.
 */
static __always_inline long map_update_twice(void *map, const void *key, const void *val,
					     __u64 flags)
{
	long err = bpf_map_update_elem(map, key, val, flags);

	if (err == -12 /* ENOMEM */ || err == -16 /* EBUSY */)
		err = bpf_map_update_elem(map, key, val, flags);
	return err;
}

static __always_inline long stack_put_in(void *map, __u64 id, const struct stack_trace *st)
{
	if (bpf_map_lookup_elem(map, &id))
		return -17;	/* EEXIST */
	return map_update_twice(map, &id, st, BPF_NOEXIST);
}

/* A stack's hash (never 0: 0 means "no stack"); seed tells apart stacks
 * that must not share an id (kmem: the cache). */
static __always_inline __u64 hash_ips(const __u64 *ip, __u32 nr, __u64 seed)
{
	__u64 h = 0xcbf29ce484222325ULL ^ nr ^ seed;

	for (int i = 0; i < MAX_STACK_DEPTH; i++) {
		if (i >= nr)
			break;
		h ^= ip[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

/*
 * Store the stack in scratch, hashed with seed, under its id
 * (stack_class_id(), set in *id) unless it is there. Returns 0 (stored),
 * -EEXIST (already there), or another -errno (its class's map is full: the
 * caller counts the drop). A global function: verified once, not once per
 * path of its caller (the stack walkers leave many). It takes no stack
 * pointer: 6.1's verifier refuses a pointer argument as a map key or value.
 */
__noinline long stack_put(__u64 seed, __u64 *id)
{
	__u32 zero = 0, cls;
	struct stack_trace *st = bpf_map_lookup_elem(&scratch, &zero);
	__u64 k;

	if (!st || !id)
		return -22;	/* EINVAL */
	cls = stack_class(st->nr);
	k = stack_class_id(hash_ips(st->ip, st->nr, seed), cls);
	*id = k;
	switch (cls) {
	case 0: return stack_put_in(&stacks_8, k, st);
	case 1: return stack_put_in(&stacks_16, k, st);
	case 2: return stack_put_in(&stacks_32, k, st);
	case 3: return stack_put_in(&stacks_64, k, st);
	default: return stack_put_in(&stacks_127, k, st);
	}
}

#endif /* MEMTRACE_TABLES_BPF_H */

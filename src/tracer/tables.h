/* SPDX-License-Identifier: MIT */
/*
 * tables.h - the maps both tracing objects (memtrace.bpf.c, kmem.bpf.c)
 * share (bpf/tables.bpf.h): the stacks by depth class, sized and found by
 * name, and the memory of an object's maps.
 */
#ifndef MEMTRACE_TABLES_H
#define MEMTRACE_TABLES_H

#include <stdint.h>
#include <bpf/libbpf.h>
#include "bpf/memtrace.h"
#include "common/report.h"
#include "tracer/alloc_tables.h"

/* Size the stacks maps of obj (before load) for max_stacks each. */
void tables__size_stacks(struct bpf_object *obj, uint64_t max_stacks);

/* The fds of the stacks maps of a loaded obj, by class (-1: none). */
void tables__stack_fds(const struct bpf_object *obj, int fds[STACK_CLASSES]);

/* Memory of what the stacks maps of a loaded obj hold (their memlock). */
uint64_t tables__stacks_memory(const struct bpf_object *obj);

/*
 * Memory the kernel charges for the maps of a loaded obj, plus the live
 * allocations' current table of t (NULL: none), in bytes: the fdinfo
 * memlock that bpftool shows. Cannot fail (unreadable maps count 0).
 */
uint64_t tables__memory(const struct bpf_object *obj, struct alloc_tables *t);

/* The map usage of a loaded obj whose live allocations are in t. */
void tables__usage(const struct bpf_object *obj, struct alloc_tables *t, struct map_usage *u);

/* Memory the kernel charges for the BPF map fd (its fdinfo memlock), 0
 * when unknown. */
uint64_t bpf_map_memory(int fd);

#endif /* MEMTRACE_TABLES_H */

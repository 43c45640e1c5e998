// SPDX-License-Identifier: MIT
/* report.c - ownership and names for struct report. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/report.h"

static const char *const kind_names[KIND_MAX] = {
	[KIND_MALLOC] = "malloc",
	[KIND_CALLOC] = "calloc",
	[KIND_REALLOC] = "realloc",
	[KIND_REALLOCARRAY] = "reallocarray",
	[KIND_POSIX_MEMALIGN] = "posix_memalign",
	[KIND_ALIGNED_ALLOC] = "aligned_alloc",
	[KIND_MEMALIGN] = "memalign",
	[KIND_VALLOC] = "valloc",
	[KIND_PVALLOC] = "pvalloc",
	[KIND_MMAP] = "mmap",
	[KIND_MREMAP] = "mremap",
	[KIND_PROCESS] = "process",
	[KIND_KMALLOC] = "kmalloc",
	[KIND_KMEM_CACHE] = "kmem_cache",
	[KIND_PAGES] = "pages",
	[KIND_PERCPU] = "percpu",
};

static const char *const severity_names[] = {
	[SEV_NONE] = "none",
	[SEV_LOW] = "low",
	[SEV_MEDIUM] = "medium",
	[SEV_HIGH] = "high",
	[SEV_CRITICAL] = "critical",
};

static const char *const rec_kind_names[REC_MAX] = {
	[REC_FIX_LEAK] = "fix_leak",
	[REC_POOL] = "pool",
	[REC_RESERVE] = "reserve",
	[REC_BATCH_SMALL] = "batch_small",
	[REC_OVERSIZED] = "oversized",
};

static const char *const difficulty_names[] = {
	[DIFF_EASY] = "easy",
	[DIFF_MEDIUM] = "medium",
	[DIFF_HARD] = "hard",
};

static const char *const drop_names[DROP_MAX] = {
	[DROP_ALLOCS_FULL] = "allocs_map_full",
	[DROP_STACKS_FULL] = "stacks_map_full",
	[DROP_AGGS_FULL] = "aggs_map_full",
	[DROP_MMAPS_FULL] = "mmaps_map_full",
	[DROP_ENTRIES_FULL] = "entries_full",
	[DROP_MISSED_ENTRY] = "missed_entry",
	[DROP_MUNMAP_OVERFLOW] = "munmap_overflow",
	[DROP_NOTIFY_FULL] = "notify_full",
	[DROP_KSTACK_FAILED] = "kernel_stack_failed",
	[DROP_KMEM_MISSED] = "kernel_events_missed",
};

const char *drop_name(unsigned int reason)
{
	return reason < DROP_MAX && drop_names[reason] ? drop_names[reason] : "unknown";
}

const char *rec_kind_name(unsigned int kind)
{
	return kind < REC_MAX ? rec_kind_names[kind] : "unknown";
}

const char *difficulty_name(unsigned int d)
{
	return d <= DIFF_HARD ? difficulty_names[d] : "unknown";
}

const char *alloc_kind_name(unsigned int kind)
{
	return kind < KIND_MAX ? kind_names[kind] : "unknown";
}

const char *severity_name(enum severity s)
{
	if ((unsigned int)s > SEV_CRITICAL)
		return "unknown";
	return severity_names[s];
}

int severity_parse(const char *s, enum severity *out)
{
	for (unsigned int i = 0; i <= SEV_CRITICAL; i++) {
		if (strcmp(s, severity_names[i]) == 0) {
			*out = (enum severity)i;
			return 0;
		}
	}
	return -EINVAL;
}

void frame__clear(struct frame *f)
{
	free(f->module);
	free(f->build_id);
	free(f->function);
	free(f->system_name);
	free(f->file);
	memset(f, 0, sizeof(*f));
}

void stacks__free(struct stack_report *stacks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct stack_report *s = &stacks[i];

		for (size_t j = 0; j < s->nr_frames; j++)
			frame__clear(&s->frames[j]);
		free(s->frames);
		free(s->ips);
		free(s->cache);
		free((void *)s->life_hist);
	}
	free(stacks);
}

void report__free(struct report *r)
{
	if (!r)
		return;
	stacks__free(r->stacks, r->nr_stacks);
	for (size_t i = 0; i < r->nr_processes; i++) {
		free(r->processes[i].cgroup);
		stacks__free(r->processes[i].fault_stacks, r->processes[i].nr_fault_stacks);
	}
	free(r->processes);
	for (size_t i = 0; i < r->nr_categories; i++)
		free(r->categories[i].name);
	free(r->categories);
	for (size_t i = 0; i < r->nr_recs; i++)
		free(r->recs[i].description);
	free(r->recs);
	free(r);
}

void map_usage__add(struct map_usage *dst, const struct map_usage *src)
{
	dst->memory_bytes += src->memory_bytes;
	dst->allocs_memory_bytes += src->allocs_memory_bytes;
	dst->allocs_capacity += src->allocs_capacity;
	dst->allocs_max += src->allocs_max;
	dst->allocs_live += src->allocs_live;
	dst->allocs_grows += src->allocs_grows;
	dst->stacks_memory_bytes += src->stacks_memory_bytes;
	dst->aggs_memory_bytes += src->aggs_memory_bytes;
	dst->aggs_capacity += src->aggs_capacity;
}

int report__merge(struct report *dst, struct report *src)
{
	struct stack_report *n;
	struct totals *d = &dst->totals;
	const struct totals *t = &src->totals;

	n = realloc(dst->stacks, (dst->nr_stacks + src->nr_stacks + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	dst->stacks = n;
	memcpy(n + dst->nr_stacks, src->stacks, src->nr_stacks * sizeof(*n));
	dst->nr_stacks += src->nr_stacks;
	src->nr_stacks = 0;
	d->outstanding_bytes += t->outstanding_bytes;
	d->outstanding_allocs += t->outstanding_allocs;
	d->alloc_calls += t->alloc_calls;
	d->free_calls += t->free_calls;
	d->dropped_events += t->dropped_events;
	d->unmatched_frees += t->unmatched_frees;
	for (int i = 0; i < DROP_MAX; i++)
		d->drops[i] += t->drops[i];
	for (int i = 0; i < CNT_MAX; i++)
		d->counters[i] += t->counters[i];
	d->unwind_failed += t->unwind_failed;
	d->truncated_stacks += t->truncated_stacks;
	d->stack_walks += t->stack_walks;
	map_usage__add(&dst->maps, &src->maps);
	report__sort(dst);
	report__free(src);
	return 0;
}

const char *trace_scope_name(enum trace_scope s)
{
	static const char *const names[] = {
		[SCOPE_USER] = "user", [SCOPE_USER_KERNEL] = "user+kernel",
		[SCOPE_KERNEL_PID] = "kernel", [SCOPE_KERNEL_HOST] = "kernel-host",
	};

	return (unsigned int)s <= SCOPE_KERNEL_HOST ? names[s] : "unknown";
}

static int cmp_stack(const void *a, const void *b)
{
	const struct stack_report *x = a, *y = b;

	if (x->outstanding_bytes != y->outstanding_bytes)
		return x->outstanding_bytes > y->outstanding_bytes ? -1 : 1;
	if (x->alloc_bytes != y->alloc_bytes)
		return x->alloc_bytes > y->alloc_bytes ? -1 : 1;
	if (x->stack_id != y->stack_id)
		return x->stack_id < y->stack_id ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

void report__sort(struct report *r)
{
	if (r->nr_stacks > 1)
		qsort(r->stacks, r->nr_stacks, sizeof(*r->stacks), cmp_stack);
}

const char *frame__module_base(const char *module)
{
	const char *slash;

	if (!module)
		return "?";
	slash = strrchr(module, '/');
	return slash && slash[1] ? slash + 1 : module;
}

const char *frame__name(const struct frame *f, char *buf, size_t size)
{
	if (f->function && *f->function)
		return f->function;
	if (f->module)
		snprintf(buf, size, "%s+0x%" PRIx64, frame__module_base(f->module), f->offset);
	else
		snprintf(buf, size, "0x%" PRIx64, f->ip);
	return buf;
}

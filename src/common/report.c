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
};

static const char *const severity_names[] = {
	[SEV_NONE] = "none",
	[SEV_LOW] = "low",
	[SEV_MEDIUM] = "medium",
	[SEV_HIGH] = "high",
	[SEV_CRITICAL] = "critical",
};

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

void report__free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nr_stacks; i++) {
		struct stack_report *s = &r->stacks[i];

		for (size_t j = 0; j < s->nr_frames; j++)
			frame__clear(&s->frames[j]);
		free(s->frames);
		free(s->ips);
		free((void *)s->life_hist);
	}
	free(r->stacks);
	for (size_t i = 0; i < r->nr_processes; i++)
		free(r->processes[i].cgroup);
	free(r->processes);
	free(r);
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

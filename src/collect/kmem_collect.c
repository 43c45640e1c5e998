// SPDX-License-Identifier: MIT
/* kmem_collect.c - kernel tracer maps -> struct report (kmem_collect.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "bpf/kmem.h"
#include "collect/kmem_collect.h"

struct kmem_collector {
	struct collector *c;
	int kcaches;
};

struct kmem_collector *kmem_collector__new(const struct kmem_collect_maps *maps,
					   const struct collect_opts *o)
{
	struct kmem_collector *kc = calloc(1, sizeof(*kc));
	struct collect_maps cm = {
		.tables = maps->tables, .allocs = maps->allocs, .mmaps = -1,
		.aggs = maps->aggs, .counters = maps->counters,
	};
	int err;

	if (!kc)
		return NULL;
	memcpy(cm.stacks, maps->stacks, sizeof(cm.stacks));
	kc->kcaches = maps->kcaches;
	kc->c = collector__new(&cm, o);
	if (!kc->c) {
		err = errno;
		free(kc);
		errno = err;
		return NULL;
	}
	return kc;
}

/* The cache name of each kmem_cache stack (a stack never changes cache). */
static void name_caches(struct kmem_collector *kc, struct report *r)
{
	for (size_t i = 0; i < r->nr_stacks; i++) {
		struct stack_report *s = &r->stacks[i];
		struct kcache_name n;

		if (s->kind != KIND_KMEM_CACHE || s->cache ||
		    bpf_map_lookup_elem(kc->kcaches, &s->stack_id, &n))
			continue;
		n.name[sizeof(n.name) - 1] = '\0';
		s->cache = strdup(n.name);	/* NULL: shown without a name */
	}
}

int kmem_collector__read(struct kmem_collector *kc, uint64_t now_ns, uint64_t missed,
			 struct report **out)
{
	int err = collector__read(kc->c, now_ns, out);

	if (err)
		return err;
	name_caches(kc, *out);
	(*out)->totals.drops[DROP_KMEM_MISSED] += missed;
	(*out)->totals.dropped_events += missed;
	return 0;
}

void kmem_collector__last_counts(const struct kmem_collector *kc, uint64_t *allocs,
				 uint64_t *stacks)
{
	uint64_t mmaps;

	collector__last_counts(kc->c, allocs, &mmaps, stacks);
}

void kmem_collector__free(struct kmem_collector *kc)
{
	if (!kc)
		return;
	collector__free(kc->c);
	free(kc);
}

// SPDX-License-Identifier: MIT
/* kernel_source.c - the kernel tracer and its collector (kernel_source.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "collect/kmem_collect.h"
#include "common/util.h"
#include "pipeline/kernel_source.h"
#include "tracer/kmem_tracer.h"

struct kernel_source {
	struct kmem_tracer *kt;
	struct kmem_collector *kc;
	enum trace_scope scope;
};

struct kernel_source *kernel_source__open(const struct options *o, int tgid, uint64_t temp_ns)
{
	struct kernel_source *ks = calloc(1, sizeof(*ks));
	struct kmem_config cfg = {
		.max_allocs = o->max_allocs, .max_stacks = o->max_stacks, .temp_ns = temp_ns,
		.page_sample = (uint32_t)o->kernel_sample, .user_stacks = !o->kernel_only,
		.verbose = o->verbose,
	};
	struct collect_opts copts = { .older_s = o->older_s, .ages = true };
	struct kmem_collect_maps maps;
	int err;

	if (!ks)
		return NULL;
	ks->scope = !tgid ? SCOPE_KERNEL_HOST : o->kernel_only ? SCOPE_KERNEL_PID :
		    SCOPE_USER_KERNEL;
	ks->kt = kmem_tracer__new(&cfg, tgid);
	if (!ks->kt) {
		err = errno;
		goto free_ks;
	}
	maps = (struct kmem_collect_maps){
		.tables = kmem_tracer__alloc_tables(ks->kt), .allocs = -1,
		.aggs = kmem_tracer__aggs_fd(ks->kt), .counters = kmem_tracer__counters_fd(ks->kt),
		.kcaches = kmem_tracer__kcaches_fd(ks->kt),
	};
	kmem_tracer__stack_fds(ks->kt, maps.stacks);
	ks->kc = kmem_collector__new(&maps, &copts);
	if (!ks->kc) {
		err = errno;
		fprintf(stderr, "memtrace: cannot read the kernel tracer's maps: %s\n", strerror(err));
		goto free_tracer;
	}
	return ks;

free_tracer:
	kmem_tracer__free(ks->kt);
free_ks:
	free(ks);
	errno = err;
	return NULL;
}

int kernel_source__add(struct kernel_source *ks, struct report *r)
{
	struct kmem_prog_stats st = kmem_tracer__stats(ks->kt);
	struct report *k;
	int err;

	err = kmem_collector__read(ks->kc, clock__mono_ns(), st.missed, &k);
	if (!err)
		kmem_tracer__map_usage(ks->kt, &k->maps);
	if (err)
		return err;
	err = report__merge(r, k);
	if (err) {
		report__free(k);
		return err;
	}
	r->scope = ks->scope;
	return 0;
}

void kernel_source__self(const struct kernel_source *ks, struct tracer_self *self)
{
	uint64_t allocs, stacks;
	int maps[] = { TRACER_MAP_ALLOCS, TRACER_MAP_STACKS, TRACER_MAP_AGGS };
	const char *names[] = { "allocs", "stacks", "aggs" };
	uint64_t used[3];

	kmem_collector__last_counts(ks->kc, &allocs, &stacks);
	used[0] = allocs;
	used[1] = stacks;
	used[2] = stacks;
	for (int i = 0; i < 3; i++) {
		double fill = (double)used[i] / (double)kmem_tracer__map_max(ks->kt, names[i]);

		/* the fuller of the user and kernel tables */
		if (fill > self->map_fill[maps[i]])
			self->map_fill[maps[i]] = fill;
	}
}

unsigned int kernel_source__nr_links(const struct kernel_source *ks)
{
	return kmem_tracer__nr_links(ks->kt);
}

void kernel_source__close(struct kernel_source *ks)
{
	if (!ks)
		return;
	kmem_collector__free(ks->kc);
	kmem_tracer__free(ks->kt);
	free(ks);
}

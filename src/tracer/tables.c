// SPDX-License-Identifier: MIT
/* tables.c - the maps both tracing objects share (tables.h). */
#include <stdio.h>
#include <string.h>
#include "tracer/tables.h"

static void stack_map_name(uint32_t cls, char *buf, size_t len)
{
	snprintf(buf, len, "stacks_%u", stack_class_depth(cls));
}

void tables__size_stacks(struct bpf_object *obj, uint64_t max_stacks)
{
	char name[32];

	for (uint32_t c = 0; c < STACK_CLASSES; c++) {
		struct bpf_map *m;

		stack_map_name(c, name, sizeof(name));
		m = bpf_object__find_map_by_name(obj, name);
		if (m)
			bpf_map__set_max_entries(m, (uint32_t)max_stacks);
	}
}

void tables__stack_fds(const struct bpf_object *obj, int fds[STACK_CLASSES])
{
	char name[32];

	for (uint32_t c = 0; c < STACK_CLASSES; c++) {
		const struct bpf_map *m;

		stack_map_name(c, name, sizeof(name));
		m = bpf_object__find_map_by_name(obj, name);
		fds[c] = m ? bpf_map__fd(m) : -1;
	}
}

uint64_t bpf_map_memory(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	if (fd < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

uint64_t tables__stacks_memory(const struct bpf_object *obj)
{
	int fds[STACK_CLASSES];
	uint64_t sum = 0;

	tables__stack_fds(obj, fds);
	for (int c = 0; c < STACK_CLASSES; c++)
		sum += bpf_map_memory(fds[c]);
	return sum;
}

uint64_t tables__memory(const struct bpf_object *obj, struct alloc_tables *t)
{
	const struct bpf_map *m;
	uint64_t sum = 0;

	bpf_object__for_each_map(m, obj)
		sum += bpf_map_memory(bpf_map__fd(m));
	if (t) {
		struct alloc_tables_usage u;

		alloc_tables__usage(t, &u);
		sum += u.bytes;
	}
	return sum;
}

void tables__usage(const struct bpf_object *obj, struct alloc_tables *t, struct map_usage *u)
{
	const struct bpf_map *aggs = bpf_object__find_map_by_name(obj, "aggs");
	struct alloc_tables_usage a;

	memset(u, 0, sizeof(*u));
	alloc_tables__usage(t, &a);
	u->memory_bytes = tables__memory(obj, t);
	u->allocs_memory_bytes = a.bytes;
	u->allocs_capacity = a.capacity;
	u->allocs_max = a.max_capacity;
	u->allocs_live = a.live;
	u->allocs_grows = a.grows;
	u->stacks_memory_bytes = tables__stacks_memory(obj);
	if (aggs) {
		u->aggs_memory_bytes = bpf_map_memory(bpf_map__fd(aggs));
		u->aggs_capacity = bpf_map__max_entries(aggs);
	}
}

// SPDX-License-Identifier: MIT
/*
 * agg_table.c - read the aggs table through a shared mapping.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "collect/agg_table.h"
#include "tracer/map_mmap.h"
#include "common/util.h"

struct agg_table {
	struct map_mmap m;	/* slots of struct agg_val */
};

struct agg_table *agg_table__open(int fd)
{
	struct agg_table *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return NULL;
	err = map_mmap__open(fd, sizeof(struct agg_val), 1, false, &t->m);
	if (err) {
		free(t);
		errno = -err;
		return NULL;
	}
	return t;
}

int agg_table__read(const struct agg_table *t, struct agg_val **vals, size_t *n)
{
	size_t cap = 0, used = 0;
	struct agg_val *v = NULL;

	const struct agg_val *slot = t->m.mem;

	for (size_t i = 0; i < t->m.entries; i++) {
		const volatile struct agg_val *s = &slot[i];

		if (!s->ready)
			continue;
		if (array__grow((void **)&v, &cap, used + 1, sizeof(*v), 256)) {
			free(v);
			return -ENOMEM;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);	/* ready, then the key */
		memcpy(&v[used++], (const void *)s, sizeof(*v));
	}
	*vals = v;
	*n = used;
	return 0;
}

void agg_table__close(struct agg_table *t)
{
	if (!t)
		return;
	map_mmap__close(&t->m);
	free(t);
}

int agg_table__put(int fd, __u64 stack_id, __u32 kind, const struct agg_val *v)
{
	__u64 tag = agg_tag(stack_id, kind);
	struct agg_val cur, val = *v;
	long slots = map_mmap__check(fd, sizeof(struct agg_val), 1);
	__u32 k;

	if (slots < 0)
		return (int)slots;
	k = agg_first_slot(tag, (__u32)slots);
	for (int i = 0; i < AGG_PROBES; i++, k = k + 1 < slots ? k + 1 : 0) {
		if (bpf_map_lookup_elem(fd, &k, &cur))
			return -errno;
		if (cur.tag && cur.tag != tag)
			continue;
		val.tag = tag;
		val.stack_id = stack_id;
		val.kind = kind;
		val.ready = 1;
		return bpf_map_update_elem(fd, &k, &val, BPF_ANY) ? -errno : 0;
	}
	return -ENOSPC;
}

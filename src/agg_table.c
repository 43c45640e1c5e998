// SPDX-License-Identifier: MIT
/*
 * agg_table.c - read the aggs table through a shared mapping.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "agg_table.h"

struct agg_table {
	const struct agg_val *slot;
	size_t slots;
	size_t len;		/* bytes mapped */
};

static int table_info(int fd, size_t *slots)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(struct agg_val) ||
	    !(info.map_flags & BPF_F_MMAPABLE) || !info.max_entries)
		return -EINVAL;
	*slots = info.max_entries;
	return 0;
}

struct agg_table *agg_table__open(int fd)
{
	long page = sysconf(_SC_PAGESIZE);
	struct agg_table *t;
	size_t slots;
	void *mem;
	int err;

	err = table_info(fd, &slots);
	if (err) {
		errno = -err;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->slots = slots;
	t->len = (slots * sizeof(struct agg_val) + page - 1) / page * page;
	mem = mmap(NULL, t->len, PROT_READ, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		err = errno;
		free(t);
		errno = err;
		return NULL;
	}
	t->slot = mem;
	return t;
}

int agg_table__read(const struct agg_table *t, struct agg_key **keys,
		    struct agg_val **vals, size_t *n)
{
	size_t cap = 0, used = 0;
	struct agg_key *k = NULL;
	struct agg_val *v = NULL;

	for (size_t i = 0; i < t->slots; i++) {
		const volatile struct agg_val *s = &t->slot[i];

		if (!s->ready)
			continue;
		if (used == cap) {
			size_t nc = cap ? 2 * cap : 256;
			struct agg_key *nk = realloc(k, nc * sizeof(*k));
			struct agg_val *nv;

			if (!nk)
				goto nomem;
			k = nk;
			nv = realloc(v, nc * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
			cap = nc;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);	/* ready, then the key */
		memcpy(&v[used], (const void *)s, sizeof(*v));
		k[used].stack_id = v[used].stack_id;
		k[used].kind = v[used].kind;
		k[used].pad = 0;
		used++;
	}
	*keys = k;
	*vals = v;
	*n = used;
	return 0;
nomem:
	free(k);
	free(v);
	return -ENOMEM;
}

void agg_table__close(struct agg_table *t)
{
	if (!t)
		return;
	munmap((void *)t->slot, t->len);
	free(t);
}

int agg_table__put(int fd, __u64 stack_id, __u32 kind, const struct agg_val *v)
{
	__u64 tag = agg_tag(stack_id, kind);
	struct agg_val cur, val = *v;
	size_t slots;
	__u32 k;
	int err;

	err = table_info(fd, &slots);
	if (err)
		return err;
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

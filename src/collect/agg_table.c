// SPDX-License-Identifier: MIT
/*
 * agg_table.c - read the aggs map (a hash map by struct agg_key) with
 * batch lookups.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "collect/agg_table.h"
#include "collect/map_read.h"

struct agg_table {
	int fd;
};

struct agg_table *agg_table__open(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct agg_table *t;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return NULL;
	if (info.type != BPF_MAP_TYPE_HASH || info.key_size != sizeof(struct agg_key) ||
	    info.value_size != sizeof(struct agg_val)) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->fd = fd;
	return t;
}

int agg_table__read(const struct agg_table *t, struct agg_val **vals, size_t *n)
{
	struct agg_key *keys = NULL;
	struct agg_val *v = NULL;
	int err;

	err = map_read_all(t->fd, sizeof(*keys), sizeof(*v), (void **)&keys, (void **)&v, n);
	if (err)
		return err;
	for (size_t i = 0; i < *n; i++) {	/* the key says whose it is */
		v[i].stack_id = keys[i].stack_id;
		v[i].kind = keys[i].kind;
	}
	free(keys);
	if (!*n) {
		free(v);
		v = NULL;
	}
	*vals = v;
	return 0;
}

void agg_table__close(struct agg_table *t)
{
	free(t);
}

int agg_table__put(int fd, __u64 stack_id, __u32 kind, const struct agg_val *v)
{
	struct agg_key k = { .stack_id = stack_id, .kind = kind };
	struct agg_val val = *v;

	val.stack_id = stack_id;
	val.kind = kind;
	return bpf_map_update_elem(fd, &k, &val, BPF_ANY) ? -errno : 0;
}

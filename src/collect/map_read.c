// SPDX-License-Identifier: MIT
/* map_read.c - copy a whole hash map with batch operations. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "collect/map_read.h"

#define BATCH 4096

int map_read_all(int fd, size_t ksz, size_t vsz, void **keys, void **vals, size_t *n)
{
	size_t cap = BATCH, total = 0;
	char *k = malloc(cap * ksz), *v = malloc(cap * vsz);
	uint64_t in = 0, out = 0;
	bool first = true;
	int err = 0;

	while (k && v) {
		__u32 count;
		char *nk, *nv;

		if (cap - total < BATCH) {
			cap *= 2;
			nk = realloc(k, cap * ksz);
			if (nk)
				k = nk;
			nv = realloc(v, cap * vsz);
			if (nv)
				v = nv;
			if (!nk || !nv)
				break;
		}
		count = (__u32)(cap - total);
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, k + total * ksz,
					   v + total * vsz, &count, NULL);
		total += count;
		if (err) {
			err = -errno;
			if (err == -ENOENT) {	/* done */
				err = 0;
				goto done;
			}
			if (err == -ENOSPC)	/* a bucket larger than count: grow */
				continue;
			goto fail;
		}
		in = out;
		first = false;
	}
	err = -ENOMEM;
fail:
	free(k);
	free(v);
	return err;
done:
	*keys = k;
	*vals = v;
	*n = total;
	return 0;
}


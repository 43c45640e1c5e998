// SPDX-License-Identifier: MIT
/*
 * map_mmap.c - check and map the BPF tables userspace reads in place.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "tracer/map_mmap.h"

long map_mmap__check(int fd, size_t value_size, size_t min_entries)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != value_size ||
	    !(info.map_flags & BPF_F_MMAPABLE) || !info.max_entries ||
	    info.max_entries < min_entries)
		return -EINVAL;
	return info.max_entries;
}

int map_mmap__open(int fd, size_t value_size, size_t min_entries, bool writable,
		   struct map_mmap *m)
{
	long page = sysconf(_SC_PAGESIZE);
	long entries = map_mmap__check(fd, value_size, min_entries);
	size_t len;
	void *mem;

	if (entries < 0)
		return (int)entries;
	/* ARRAY values are 8-byte aligned: value_size is, for our structs */
	len = ((size_t)entries * value_size + page - 1) / page * page;
	mem = mmap(NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	m->mem = mem;
	m->entries = (size_t)entries;
	m->len = len;
	m->writable = writable;
	return 0;
}

void map_mmap__close(struct map_mmap *m)
{
	if (m->mem)
		munmap(m->mem, m->len);
	memset(m, 0, sizeof(*m));
}

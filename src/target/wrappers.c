// SPDX-License-Identifier: MIT
/* wrappers.c - runtime ranges of the syscall wrappers of mmap and mremap. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "target/elf_funcs.h"
#include "target/procmaps.h"
#include "target/wrappers.h"

/* Public names, and the internal ones ld.so's own copies carry. */
static const char *const wrapper_names[] = {
	"mmap", "mmap64", "mremap", "__mmap64", "__mmap", "__mremap",
};

static bool is_candidate(const char *path, const char *exe)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return proc_maps__is_libc(path) || strncmp(base, "ld-linux", 8) == 0 ||
	       strcmp(path, exe) == 0;
}

/* Add the wrappers of one file, mapped executable by entry e. */
static size_t add_file(int pid, const struct map_entry *e, struct addr_range *out, size_t n,
		       size_t max)
{
	char buf[PATH_MAX];
	struct elf_funcs *ef;

	if (!proc_maps__open_path(pid, e, buf, sizeof(buf)))
		return n;
	ef = elf_funcs__open(buf);
	if (!ef)
		return n;
	for (size_t i = 0; i < sizeof(wrapper_names) / sizeof(wrapper_names[0]) && n < max; i++) {
		struct elf_func f;
		uint64_t lo;
		bool dup = false;

		if (elf_funcs__find(ef, wrapper_names[i], &f) || !f.size)
			continue;
		if (f.offset < e->offset || f.offset >= e->offset + (e->end - e->start))
			continue;	/* not in this executable segment */
		lo = e->start + (f.offset - e->offset);
		for (size_t j = 0; j < n && !dup; j++)
			dup = out[j].lo == lo;	/* mmap64 is an alias of mmap */
		if (dup)
			continue;
		out[n].lo = lo;
		out[n].hi = lo + f.size;
		n++;
	}
	elf_funcs__close(ef);
	return n;
}

int wrappers__find(int pid, struct addr_range *out, size_t max)
{
	char link[64], exe[PATH_MAX];
	struct proc_maps maps;
	ssize_t len;
	size_t n = 0;
	int err;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	len = readlink(link, exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	err = proc_maps__read(pid, &maps);
	if (err)
		return err;
	for (size_t i = 0; i < maps.nr && n < max; i++) {
		const struct map_entry *e = &maps.e[i];

		if (e->path && e->path[0] == '/' && e->perms[2] == 'x' && is_candidate(e->path, exe))
			n = add_file(pid, e, out, n, max);
	}
	proc_maps__free(&maps);
	return (int)n;
}

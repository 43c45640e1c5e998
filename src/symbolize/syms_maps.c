// SPDX-License-Identifier: MIT
/* syms_maps.c - the executable mappings of the target, from /proc/PID/maps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "target/procmaps.h"
#include "symbolize/syms_int.h"
#include "common/util.h"

void syms_maps__free(struct syms_map *maps, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(maps[i].path);
	free(maps);
}

static int push_map(struct syms_map **maps, size_t *nr, size_t *cap, const struct syms_map *m)
{
	if (array__grow((void **)maps, cap, *nr + 1, sizeof(**maps), 32))
		return -ENOMEM;
	(*maps)[(*nr)++] = *m;
	return 0;
}

/* Turn a chrooted target's path (relative to our root) into its own, in place. */
static void strip_root(const struct syms *s, char *path)
{
	size_t pl = s->root_link ? strlen(s->root_link) : 0;

	if (pl && !strncmp(path, s->root_link, pl) && path[pl] == '/')
		memmove(path, path + pl, strlen(path + pl) + 1);
}

/* The executable mappings of s->pid, in address order. */
static int read_maps(struct syms *s, struct syms_map **out, size_t *nr_out)
{
	struct syms_map *maps = NULL;
	struct proc_maps pm;
	size_t nr = 0, cap = 0;
	int err;

	err = proc_maps__read(s->pid, &pm);	/* -ESRCH/-EIO: died while read */
	if (err)
		return err;
	for (size_t i = 0; i < pm.nr; i++) {
		struct map_entry *e = &pm.e[i];
		struct syms_map m = {
			.start = e->start, .end = e->end, .pgoff = e->offset, .ino = e->inode,
			.path = e->path,
		};

		if (e->perms[2] != 'x')
			continue;
		if (m.path)
			strip_root(s, m.path);
		err = push_map(&maps, &nr, &cap, &m);
		if (err)
			goto free_maps;
		e->path = NULL;		/* now owned by maps */
	}
	if (nr == 0)
		err = -ESRCH;			/* zombie: no mappings left */
free_maps:
	proc_maps__free(&pm);
	if (err) {
		syms_maps__free(maps, nr);
		return err;
	}
	s->stats.maps_reads++;
	*out = maps;
	*nr_out = nr;
	return 0;
}

const struct syms_map *syms_maps__find(const struct syms_map *maps, size_t nr, uint64_t addr)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < maps[mid].start)
			hi = mid;
		else if (addr >= maps[mid].end)
			lo = mid + 1;
		else
			return &maps[mid];
	}
	return NULL;
}

static bool same_map(const struct syms_map *a, const struct syms_map *b)
{
	return a->start == b->start && a->end == b->end && a->pgoff == b->pgoff &&
	       a->ino == b->ino && !a->path == !b->path &&
	       (!a->path || !strcmp(a->path, b->path));
}

static int cmp_map(const void *a, const void *b)
{
	const struct syms_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Open what is new in nm, then add the old mappings nothing replaced. */
static int merge_maps(struct syms *s, struct syms_map **nm, size_t *nr, size_t cap)
{
	for (size_t i = 0; i < *nr; i++) {
		struct syms_map *m = &(*nm)[i];
		const struct syms_map *old = syms_maps__find(s->maps, s->nr_maps, m->start);

		if (old && same_map(old, m)) {
			m->mod = old->mod;
			continue;
		}
		if (m->path && m->path[0] == '/') {
			m->mod = syms_module__get(s, m);
			if (!m->mod && errno == ENOMEM)
				return -ENOMEM;
		}
	}
	for (size_t i = 0; i < s->nr_maps; i++) {
		struct syms_map *o = &s->maps[i];
		bool replaced = false;

		for (size_t j = 0; j < *nr && !replaced; j++)
			replaced = (*nm)[j].start < o->end && o->start < (*nm)[j].end;
		if (replaced)
			continue;
		struct syms_map copy = *o;

		copy.path = o->path ? strdup(o->path) : NULL;
		if ((o->path && !copy.path) || push_map(nm, nr, &cap, &copy)) {
			free(copy.path);
			return -ENOMEM;
		}
	}
	qsort(*nm, *nr, sizeof(**nm), cmp_map);
	return 0;
}

void syms__freeze(struct syms *s)
{
	if (s)
		s->frozen = true;
}

int syms__refresh(struct syms *s)
{
	struct syms_map *nm = NULL;
	size_t nr = 0;
	int err;

	if (!s->pid)
		return 0;	/* kernel addresses only: no mappings */
	s->stats.refreshes++;
	if (s->frozen)
		return -ESRCH;	/* another image: its maps are not the traced one's */
	err = read_maps(s, &nm, &nr);
	if (err)
		return err;
	err = merge_maps(s, &nm, &nr, nr);
	if (err) {
		syms_maps__free(nm, nr);
		return err;
	}
	syms_maps__free(s->maps, s->nr_maps);
	s->maps = nm;
	s->nr_maps = nr;
	return 0;
}


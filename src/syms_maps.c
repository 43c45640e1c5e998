// SPDX-License-Identifier: MIT
/* syms_maps.c - the executable mappings of the target, from /proc/PID/maps. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "syms_int.h"

#define DELETED_SUFFIX " (deleted)"

void syms_maps__free(struct syms_map *maps, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(maps[i].path);
	free(maps);
}

static int push_map(struct syms_map **maps, size_t *nr, size_t *cap, const struct syms_map *m)
{
	if (*nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct syms_map *n = realloc(*maps, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		*maps = n;
		*cap = ncap;
	}
	(*maps)[(*nr)++] = *m;
	return 0;
}

/* The executable mappings of s->pid, in address order. */
static int read_maps(struct syms *s, struct syms_map **out, size_t *nr_out)
{
	struct syms_map *maps = NULL;
	size_t nr = 0, cap = 0, len = 0;
	char p[64], *line = NULL;
	int err = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/maps", s->pid);
	f = fopen(p, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &len, f) > 0) {
		struct syms_map m = { 0 };
		char perms[8], *path;
		unsigned int maj, mnr;
		int n = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &m.start, &m.end, perms, &m.pgoff, &maj, &mnr, &m.ino, &n) < 7 ||
		    n == 0) {
			err = -EINVAL;
			goto out;
		}
		if (strlen(perms) < 3 || perms[2] != 'x')
			continue;
		path = line + n;
		path[strcspn(path, "\n")] = '\0';
		if (*path) {
			size_t pl = strlen(path), sl = strlen(DELETED_SUFFIX);

			if (pl > sl && !strcmp(path + pl - sl, DELETED_SUFFIX))
				path[pl - sl] = '\0';
			/* a chrooted target's paths come relative to our root */
			pl = s->root_link ? strlen(s->root_link) : 0;
			if (pl && !strncmp(path, s->root_link, pl) && path[pl] == '/')
				path += pl;
			m.path = strdup(path);
			if (!m.path) {
				err = -ENOMEM;
				goto out;
			}
		}
		err = push_map(&maps, &nr, &cap, &m);
		if (err) {
			free(m.path);
			goto out;
		}
	}
	if (ferror(f))
		err = nr ? -EIO : -ESRCH;	/* a dying process reads as an error */
	else if (nr == 0)
		err = -ESRCH;			/* zombie: no mappings left */
out:
	free(line);
	fclose(f);
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

int syms__refresh(struct syms *s)
{
	struct syms_map *nm = NULL;
	size_t nr = 0;
	int err;

	s->stats.refreshes++;
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


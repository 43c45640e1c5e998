// SPDX-License-Identifier: MIT
/* procmaps.c - parse /proc/PID/maps. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "target/procmaps.h"
#include "common/util.h"

static int parse_line(char *line, struct map_entry *e)
{
	unsigned long long start, end, off, ino;
	int n = 0;
	char *p;
	size_t len;

	memset(e, 0, sizeof(*e));
	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, e->perms, &off,
		   &e->dev_major, &e->dev_minor, &ino, &n) < 7 || !n)
		return -EINVAL;
	e->start = start;
	e->end = end;
	e->offset = off;
	e->inode = ino;
	p = line + n;
	len = strcspn(p, "\n");
	p[len] = '\0';
	if (!*p)
		return 0;
	if (len > 10 && strcmp(p + len - 10, " (deleted)") == 0) {
		p[len - 10] = '\0';
		e->deleted = true;
	}
	e->path = strdup(p);
	return e->path ? 0 : -ENOMEM;
}

int proc_maps__parse(FILE *f, struct proc_maps *out)
{
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	int err = 0;

	memset(out, 0, sizeof(*out));
	while (getline(&line, &cap, f) > 0) {
		if (array__grow((void **)&out->e, &alloc, out->nr + 1, sizeof(*out->e), 64)) {
			err = -ENOMEM;
			goto free_all;
		}
		err = parse_line(line, &out->e[out->nr]);
		if (err)
			goto free_all;
		out->nr++;
	}
	if (ferror(f)) {	/* e.g. the process died while we read */
		err = errno == ESRCH ? -ESRCH : -EIO;
		goto free_all;
	}
	free(line);
	return 0;

free_all:
	free(line);
	proc_maps__free(out);
	return err;
}

int proc_maps__read(int pid, struct proc_maps *out)
{
	char path[64];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	err = proc_maps__parse(f, out);
	fclose(f);
	return err;
}

void proc_maps__free(struct proc_maps *m)
{
	for (size_t i = 0; i < m->nr; i++)
		free(m->e[i].path);
	free(m->e);
	m->e = NULL;
	m->nr = 0;
}

const struct map_entry *proc_maps__find(const struct proc_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m->e[mid].start)
			hi = mid;
		else if (addr >= m->e[mid].end)
			lo = mid + 1;
		else
			return &m->e[mid];
	}
	return NULL;
}

const char *proc_maps__open_path(int pid, const struct map_entry *e, char *buf, size_t len)
{
	if (!e->path || e->path[0] != '/')
		return NULL;
	snprintf(buf, len, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, e->start, e->end);
	if (access(buf, R_OK) == 0)
		return buf;
	snprintf(buf, len, "/proc/%d/root%s", pid, e->path);
	return buf;
}

bool proc_maps__is_libc(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strncmp(base, "libc.so", 7) == 0 || strncmp(base, "libc-", 5) == 0;
}

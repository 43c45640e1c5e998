// SPDX-License-Identifier: MIT
/* ksyms.c - /proc/kallsyms as a sorted table (ksyms.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "symbolize/ksyms.h"

/* kallsyms has no sizes: no function is this long, an address this far
 * past a symbol is in no function (a gap, or past the end). */
#define KSYMS_MAX_FUNC	(1ULL << 20)

struct ksyms {
	struct ksym *syms;	/* sorted by addr */
	size_t nr, cap;
	char **mods;		/* distinct module names, owned */
	size_t nr_mods, cap_mods;
	char *names;		/* every name, NUL-separated, owned */
	size_t names_len, names_cap;
};

/* The module name as stored once, or NULL on ENOMEM. */
static const char *module_name(struct ksyms *k, const char *m)
{
	for (size_t i = 0; i < k->nr_mods; i++)
		if (!strcmp(k->mods[i], m))
			return k->mods[i];
	if (array__grow((void **)&k->mods, &k->cap_mods, k->nr_mods + 1, sizeof(char *), 16))
		return NULL;
	k->mods[k->nr_mods] = strdup(m);
	return k->mods[k->nr_mods] ? k->mods[k->nr_mods++] : NULL;
}

/* Append a name to the pool; returns its offset, or -1 on ENOMEM. */
static ssize_t pool_add(struct ksyms *k, const char *name)
{
	size_t len = strlen(name) + 1;
	size_t at = k->names_len;

	if (array__grow((void **)&k->names, &k->names_cap, at + len, 1, 1 << 20))
		return -1;
	memcpy(k->names + at, name, len);
	k->names_len += len;
	return (ssize_t)at;
}

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* One line "ADDR TYPE NAME [\t[MODULE]]": text symbols only. */
static int add_line(struct ksyms *k, char *line, size_t *nonzero)
{
	char type, name[256], mod[64] = "";
	unsigned long long addr;
	const char *m = NULL;
	ssize_t at;

	if (sscanf(line, "%llx %c %255s [%63[^]]]", &addr, &type, name, mod) < 3)
		return 0;
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return 0;
	if (addr)
		(*nonzero)++;
	if (mod[0] && !(m = module_name(k, mod)))
		return -ENOMEM;
	at = pool_add(k, name);
	if (at < 0 || array__grow((void **)&k->syms, &k->cap, k->nr + 1, sizeof(*k->syms), 1 << 16))
		return -ENOMEM;
	/* name is an offset until the pool stops moving */
	k->syms[k->nr++] = (struct ksym){ .addr = addr, .name = (const char *)(uintptr_t)at,
					  .module = m };
	return 0;
}

struct ksyms *ksyms__load(const char *path)
{
	struct ksyms *k = calloc(1, sizeof(*k));
	size_t nonzero = 0, cap = 0;
	char *line = NULL;
	FILE *f;
	int err = 0;

	if (!k)
		return NULL;
	f = fopen(path ? path : "/proc/kallsyms", "re");
	if (!f) {
		err = -errno;
		goto free_k;
	}
	while (!err && getline(&line, &cap, f) > 0)
		err = add_line(k, line, &nonzero);
	free(line);
	fclose(f);
	if (err)
		goto free_k;
	if (!nonzero) {		/* kptr_restrict: every address reads 0 */
		err = -EACCES;
		goto free_k;
	}
	for (size_t i = 0; i < k->nr; i++)
		k->syms[i].name = k->names + (uintptr_t)k->syms[i].name;
	qsort(k->syms, k->nr, sizeof(*k->syms), cmp_ksym);
	return k;

free_k:
	ksyms__free(k);
	errno = err ? -err : ENOMEM;
	return NULL;
}

const struct ksym *ksyms__find(const struct ksyms *k, uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi = k->nr;
	const struct ksym *s;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &k->syms[lo - 1];
	if (addr - s->addr >= KSYMS_MAX_FUNC)	/* past the last symbol of an area */
		return NULL;
	*off = addr - s->addr;
	return s;
}

bool ksyms__is_tracing(const struct ksym *sym)
{
	static const char *const prefixes[] = {
		"bpf_prog_", "bpf_trace_run", "__bpf_trace_", "__traceiter_", "perf_trace_",
		"trace_call_bpf",
	};

	if (sym->module && !strcmp(sym->module, "bpf"))
		return true;	/* BPF programs: "bpf_prog_<tag>_<name> [bpf]" */
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(sym->name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

uint64_t ksyms__addr(const struct ksyms *k, const char *name)
{
	for (size_t i = 0; i < k->nr; i++)
		if (!strcmp(k->syms[i].name, name))
			return k->syms[i].addr;
	return 0;
}

uint64_t ksyms__count(const struct ksyms *k)
{
	return k->nr;
}

void ksyms__free(struct ksyms *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->nr_mods; i++)
		free(k->mods[i]);
	free(k->mods);
	free(k->names);
	free(k->syms);
	free(k);
}

// SPDX-License-Identifier: MIT
/* syms.c - lifecycle, the address cache and frame building. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "symbolize/syms_int.h"
#include "common/util.h"

#define DEFAULT_DEBUG_DIR "/usr/lib/debug"

/* ---- lifecycle ----------------------------------------------------------- */

static int set_paths(struct syms *s, const char *debug_dir)
{
	char p[64], abs[PATH_MAX];
	struct stat ours, theirs;
	ssize_t n;
	size_t len;

	snprintf(p, sizeof(p), "/proc/%d/root/", s->pid);
	if (stat(p, &theirs) != 0)
		return errno == ENOENT ? -ESRCH : -errno;
	if (stat("/", &ours) != 0 || ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino) {
		snprintf(s->root, sizeof(s->root), "/proc/%d/root", s->pid);
		n = readlink(s->root, abs, sizeof(abs) - 1);
		if (n > 1 && abs[0] == '/') {
			abs[n] = '\0';
			if (!(s->root_link = strdup(abs)))
				return -ENOMEM;
		}
	}
	if (realpath(debug_dir, abs))
		debug_dir = abs;
	s->debug_dir = strdup(debug_dir);
	len = strlen(debug_dir) + strlen(s->root) + sizeof(":" DEFAULT_DEBUG_DIR);
	s->debuginfo_path = malloc(len);
	if (!s->debug_dir || !s->debuginfo_path)
		return -ENOMEM;
	if (s->root[0])
		snprintf(s->debuginfo_path, len, "%s:%s" DEFAULT_DEBUG_DIR, debug_dir, s->root);
	else
		snprintf(s->debuginfo_path, len, "%s", debug_dir);
	return 0;
}

struct syms *syms__new(int pid, const struct syms_opts *opts)
{
	struct syms *s;
	int err;

	if (pid < 0) {
		errno = EINVAL;
		return NULL;
	}
	elf_version(EV_CURRENT);
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->pid = pid;
	s->names = opts ? opts->names : true;
	s->debuginfod = opts && opts->debuginfod;
	if (!pid) {		/* kernel addresses only */
		if (opts && opts->debug_dir && !(s->debug_dir = strdup(opts->debug_dir))) {
			err = -ENOMEM;
			goto free_syms;
		}
		return s;
	}
	err = set_paths(s, opts && opts->debug_dir ? opts->debug_dir : DEFAULT_DEBUG_DIR);
	if (err)
		goto free_syms;
	syms_module__init_callbacks(&s->cbs, &s->debuginfo_path);
	err = syms__refresh(s);
	if (err)
		goto free_syms;
	return s;

free_syms:
	syms__free(s);
	errno = -err;
	return NULL;
}

void syms__free(struct syms *s)
{
	struct syms_module *mod, *next;

	if (!s)
		return;
	syms_maps__free(s->maps, s->nr_maps);
	for (mod = s->mods; mod; mod = next) {
		next = mod->next;
		syms_module__free(mod);
	}
	syms_debuginfod__free(s->dbgd);
	ksyms__free(s->ksyms);
	kdebug__free(s->kdebug);
	free(s->unknown);
	free(s->root_link);
	free(s->debuginfo_path);
	free(s->debug_dir);
	free(s);
}

struct syms_stats syms__stats(const struct syms *s)
{
	return s->stats;
}

/* ---- ips no mapping holds -------------------------------------------------- */

static bool is_unknown(const struct syms *s, uint64_t ip)
{
	size_t lo = 0, hi = s->nr_unknown;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->unknown[mid] == ip)
			return true;
		if (s->unknown[mid] < ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void add_unknown(struct syms *s, uint64_t ip)
{
	uint64_t *n;
	size_t i;

	if (is_unknown(s, ip))
		return;
	n = realloc(s->unknown, (s->nr_unknown + 1) * sizeof(*n));
	if (!n)
		return;	/* only costs a refresh next time */
	s->unknown = n;
	for (i = s->nr_unknown; i > 0 && n[i - 1] > ip; i--)
		n[i] = n[i - 1];
	n[i] = ip;
	s->nr_unknown++;
}

/* ---- the address cache ------------------------------------------------------ */

static size_t bucket(uint64_t vaddr, size_t nr_buckets)
{
	return (size_t)((vaddr * 0x9E3779B97F4A7C15ull) >> 32) & (nr_buckets - 1);
}

static struct syms_entry *cache_find(const struct syms_module *mod, uint64_t vaddr)
{
	struct syms_entry *e;

	if (!mod->nr_buckets)
		return NULL;
	for (e = mod->buckets[bucket(vaddr, mod->nr_buckets)]; e; e = e->next)
		if (e->vaddr == vaddr)
			return e;
	return NULL;
}

static int cache_add(struct syms_module *mod, struct syms_entry *e)
{
	if (mod->nr_entries >= mod->nr_buckets) {
		size_t nb = mod->nr_buckets ? mod->nr_buckets * 2 : 256;
		struct syms_entry **b = calloc(nb, sizeof(*b));

		if (!b)
			return -ENOMEM;
		for (size_t i = 0; i < mod->nr_buckets; i++) {
			struct syms_entry *x = mod->buckets[i], *next;

			for (; x; x = next) {
				next = x->next;
				x->next = b[bucket(x->vaddr, nb)];
				b[bucket(x->vaddr, nb)] = x;
			}
		}
		free(mod->buckets);
		mod->buckets = b;
		mod->nr_buckets = nb;
	}
	e->next = mod->buckets[bucket(e->vaddr, mod->nr_buckets)];
	mod->buckets[bucket(e->vaddr, mod->nr_buckets)] = e;
	mod->nr_entries++;
	return 0;
}

/* ---- frames --------------------------------------------------------------- */

struct out {
	struct frame *f;
	size_t nr, cap;
};

static struct frame *next_frame(struct out *o, uint64_t ip)
{
	if (array__grow((void **)&o->f, &o->cap, o->nr + 1, sizeof(*o->f), 64))
		return NULL;
	memset(&o->f[o->nr], 0, sizeof(o->f[0]));
	o->f[o->nr].ip = ip;
	return &o->f[o->nr++];
}

static int dup_str(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* The frames of one ip inside mapping m. */
static int emit_mapped(struct syms *s, struct out *o, uint64_t ip, const struct syms_map *m)
{
	struct syms_module *mod = m->mod;
	uint64_t off = ip - 1 - m->start + m->pgoff, vaddr = 0;
	struct syms_entry *e = NULL;
	uint32_t n;
	int err;

	if (mod && syms_module__vaddr(mod, off, &vaddr) == 0) {
		e = cache_find(mod, vaddr);
		if (e) {
			s->stats.cache_hits++;
		} else {
			e = syms_module__resolve(s, mod, vaddr);
			if (!e)
				return -ENOMEM;
			if (cache_add(mod, e)) {
				syms_entry__free(e);
				return -ENOMEM;
			}
		}
	} else if (mod) {
		mod = NULL;	/* outside every PT_LOAD: report the file offset */
		vaddr = off;
	} else {
		vaddr = m->path && m->path[0] == '/' ? off : ip - 1 - m->start;
	}
	n = e && e->nr ? e->nr : 1;
	for (uint32_t i = 0; i < n; i++) {
		struct frame *f = next_frame(o, ip);
		const struct syms_sym *sym = e && e->nr ? &e->syms[i] : NULL;

		if (!f)
			return -ENOMEM;
		if (!m->path)
			continue;	/* anonymous executable memory (JIT) */
		f->offset = vaddr + 1;
		err = dup_str(&f->module, m->path);
		if (!err && m->mod)
			err = dup_str(&f->build_id, m->mod->build_id);
		if (!err && sym) {
			f->line = sym->line;
			f->inlined = sym->inlined;
			err = dup_str(&f->function, sym->function);
			if (!err)
				err = dup_str(&f->system_name, sym->system_name);
			if (!err)
				err = dup_str(&f->file, sym->file);
		}
		if (err)
			return err;
	}
	return 0;
}

/* /proc/kallsyms, read on the first kernel ip; the symbol holding ip. */
static const struct ksym *kernel_sym(struct syms *s, uint64_t ip, uint64_t *off)
{
	if (!s->ksyms_tried) {
		s->ksyms_tried = true;
		s->ksyms = ksyms__load(NULL);
	}
	return s->ksyms ? ksyms__find(s->ksyms, ip - 1, off) : NULL;
}

/* The vmlinux debug information, looked for once (kdebug.h). */
static struct kdebug *kernel_debug(struct syms *s)
{
	char path[PATH_MAX];
	uint64_t text;

	if (s->kdebug_tried)
		return s->kdebug;
	s->kdebug_tried = true;
	text = s->ksyms ? ksyms__addr(s->ksyms, "_text") : 0;
	if (text && !kdebug__find(s->debug_dir, NULL, path, sizeof(path)))
		s->kdebug = kdebug__open(path, "_text", text);
	return s->kdebug;
}

/* The frame of a kernel ip: symbol and offset from kallsyms, the module
 * ("vmlinux" for the core kernel), file:line of the call from vmlinux debug
 * information when installed. Addresses kallsyms does not hold (or when it
 * is unreadable) keep only ip. */
static int emit_kernel(struct syms *s, struct out *o, uint64_t ip)
{
	struct frame *f = next_frame(o, ip);
	const struct ksym *k;
	uint64_t off;
	int err;

	if (!f)
		return -ENOMEM;
	f->kernel = true;
	k = kernel_sym(s, ip, &off);
	if (!k)
		return 0;
	s->stats.lookups++;
	f->offset = off + 1;	/* of the return address, like user frames */
	err = dup_str(&f->module, k->module ? k->module : "vmlinux");
	if (!err && s->names)
		err = dup_str(&f->function, k->name);
	if (!err && s->names)
		err = dup_str(&f->system_name, k->name);
	if (!err && s->names && !k->module && kernel_debug(s)) {
		const char *file;

		if (!kdebug__line(s->kdebug, ip - 1, &file, &f->line))
			err = dup_str(&f->file, file);
	}
	return err;
}

/* Leading kernel ips in the tracing machinery (ksyms__is_tracing()). */
static size_t tracing_frames(struct syms *s, const uint64_t *ips, size_t nr)
{
	size_t skip = 0;
	uint64_t off;

	while (skip < nr && ksyms__is_kernel(ips[skip])) {
		const struct ksym *k = kernel_sym(s, ips[skip], &off);

		if (!k || !ksyms__is_tracing(k))
			break;
		skip++;
	}
	return skip < nr ? skip : 0;	/* never leave a stack empty */
}

int syms__symbolize(struct syms *s, const uint64_t *ips, size_t nr,
		    struct frame **frames, size_t *nr_frames)
{
	struct out o = { 0 };
	int err = 0;

	*frames = NULL;
	*nr_frames = 0;
	if (!s || (!ips && nr))
		return -EINVAL;
	for (size_t i = 0; i < nr; i++) {
		if (ips[i] && !ksyms__is_kernel(ips[i]) && s->pid &&
		    !syms_maps__find(s->maps, s->nr_maps, ips[i] - 1) &&
		    !is_unknown(s, ips[i])) {
			syms__refresh(s);	/* the process may be gone: keep what we have */
			break;
		}
	}
	for (size_t i = tracing_frames(s, ips, nr); i < nr && !err; i++) {
		const struct syms_map *m = ips[i] ? syms_maps__find(s->maps, s->nr_maps, ips[i] - 1) : NULL;

		if (ksyms__is_kernel(ips[i])) {
			err = emit_kernel(s, &o, ips[i]);
		} else if (m) {
			err = emit_mapped(s, &o, ips[i], m);
		} else {
			add_unknown(s, ips[i]);
			err = next_frame(&o, ips[i]) ? 0 : -ENOMEM;
		}
	}
	if (err) {
		for (size_t i = 0; i < o.nr; i++)
			frame__clear(&o.f[i]);
		free(o.f);
		return err;
	}
	if (!o.f) {	/* nr == 0: an empty array the caller can still free */
		o.f = malloc(sizeof(*o.f));
		if (!o.f)
			return -ENOMEM;
	}
	*frames = o.f;
	*nr_frames = o.nr;
	return 0;
}

void syms__symbolize_report(struct syms *s, struct report *r)
{
	for (size_t i = 0; i < r->nr_stacks; i++) {
		struct stack_report *st = &r->stacks[i];

		if (!st->nr_ips || st->nr_frames)
			continue;
		if (syms__symbolize(s, st->ips, st->nr_ips, &st->frames, &st->nr_frames)) {
			st->frames = NULL;
			st->nr_frames = 0;
		}
	}
}

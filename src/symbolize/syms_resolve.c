// SPDX-License-Identifier: MIT
/* syms_resolve.c - one ELF address to frames: DWARF scopes, lines, symbols. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "symbolize/demangle.h"
#include "symbolize/syms_int.h"
#include "common/util.h"

#define MAX_INLINE_DEPTH 64

struct names {
	const char *linkage;	/* mangled, or the plain name for C */
	const char *plain;	/* DW_AT_name */
};

/*
 * Names and paths come from the target's files: control characters (a line
 * break, a terminal escape) become '?' and ';' (the frame separator of the
 * collapsed and CSV stacks) ':', so no output's lines or frames can be
 * forged by a symbol. No real C, C++ or Rust name holds either.
 */
static void tame(char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			*s = '?';
		else if (c == ';')
			*s = ':';
	}
}

/* Fill one frame; strings copied (tame()d). Returns 0 or -ENOMEM. */
static int set_sym(struct syms_sym *out, const char *linkage, const char *plain,
		   const char *file, int line, bool inlined)
{
	const char *sys = linkage ? linkage : plain;

	memset(out, 0, sizeof(*out));
	out->line = line;
	out->inlined = inlined;
	if (sys) {
		out->system_name = strdup(sys);
		out->function = demangle__name(sys);
		if (!out->function && errno == ENOMEM)
			return -ENOMEM;
		if (!out->function)
			out->function = strdup(sys);
		if (!out->system_name || !out->function)
			return -ENOMEM;
	}
	if (file && !(out->file = strdup(file)))
		return -ENOMEM;
	tame(out->system_name);
	tame(out->function);
	tame(out->file);
	return 0;
}

static struct names die_names(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	struct names n;

	n.linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!n.linkage)
		n.linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	n.plain = dwarf_diename(die);
	return n;
}

/* The call site of an inlined_subroutine: file from its own CU's table. */
static void call_site(Dwarf_Die *die, const char **file, int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word v;
	Dwarf_Files *files;
	Dwarf_Die cu;

	*file = NULL;
	*line = 0;
	if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &v) == 0)
		*line = (int)v;
	if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &v) == 0 &&
	    dwarf_diecu(die, &cu, NULL, NULL) &&
	    dwarf_getsrcfiles(&cu, &files, NULL) == 0)
		*file = dwarf_filesrc(files, v, NULL, NULL);
}

static struct syms_entry *new_entry(uint64_t vaddr, uint32_t nr)
{
	struct syms_entry *e = calloc(1, sizeof(*e) + nr * sizeof(e->syms[0]));

	if (e)
		e->vaddr = vaddr;
	return e;
}

/* ---- per-CU function index ----------------------------------------------- */

struct fn_vec {
	struct syms_fn_range *r;
	size_t nr, cap;
	int err;
};

static void add_ranges(Dwarf_Die *die, struct fn_vec *v)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;

	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (lo >= hi)
			continue;
		if (array__grow((void **)&v->r, &v->cap, v->nr + 1, sizeof(*v->r), 64)) {
			v->err = -ENOMEM;
			return;
		}
		v->r[v->nr++] = (struct syms_fn_range){ lo, hi, dwarf_dieoffset(die) };
	}
}

/* Concrete functions are children of the CU, namespaces or classes. */
static void index_children(Dwarf_Die *parent, struct fn_vec *v, int depth)
{
	Dwarf_Die c;

	if (dwarf_child(parent, &c) != 0)
		return;
	do {
		switch (dwarf_tag(&c)) {
		case DW_TAG_subprogram:
			add_ranges(&c, v);
			break;
		case DW_TAG_namespace:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
		case DW_TAG_module:
			if (depth < 32)
				index_children(&c, v, depth + 1);
			break;
		default:
			break;
		}
	} while (!v->err && dwarf_siblingof(&c, &c) == 0);
}

static int cmp_range(const void *a, const void *b)
{
	const struct syms_fn_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;	/* outermost first */
}

/* The index of cudie, built on first use. NULL only on ENOMEM. */
static struct syms_cu_index *cu_index(struct syms_module *mod, Dwarf_Die *cudie)
{
	uint64_t off = dwarf_dieoffset(cudie);
	size_t lo = 0, hi = mod->nr_cus;
	struct syms_cu_index *n;
	struct fn_vec v = { 0 };

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mod->cus[mid].cu == off)
			return &mod->cus[mid];
		if (mod->cus[mid].cu < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	index_children(cudie, &v, 0);
	n = v.err ? NULL : realloc(mod->cus, (mod->nr_cus + 1) * sizeof(*n));
	if (!n) {
		free(v.r);
		return NULL;
	}
	if (v.nr > 1)
		qsort(v.r, v.nr, sizeof(*v.r), cmp_range);
	mod->cus = n;
	memmove(&n[lo + 1], &n[lo], (mod->nr_cus - lo) * sizeof(*n));
	n[lo] = (struct syms_cu_index){ .cu = off, .nr = v.nr, .r = v.r };
	mod->nr_cus++;
	return &n[lo];
}

/* The innermost indexed function holding pc, or NULL. */
static const struct syms_fn_range *cu_find(const struct syms_cu_index *ix, uint64_t pc)
{
	const struct syms_fn_range *best = NULL;
	size_t lo = 0, hi = ix->nr;

	while (lo < hi) {	/* first range with lo > pc */
		size_t mid = lo + (hi - lo) / 2;

		if (ix->r[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* ranges starting at or before pc; nested ones sort after their parent */
	for (size_t i = lo, seen = 0; i-- > 0 && seen < 16; seen++) {
		if (pc < ix->r[i].hi && (!best || ix->r[i].hi - ix->r[i].lo < best->hi - best->lo))
			best = &ix->r[i];
	}
	return best;
}

/* ---- the inline chain inside one function ------------------------------ */

static bool has_pc_attrs(Dwarf_Die *die)
{
	return dwarf_hasattr(die, DW_AT_low_pc) || dwarf_hasattr(die, DW_AT_ranges);
}

/*
 * Append to chain the inlined_subroutines holding pc below die, outermost
 * first. Lexical blocks are walked through; blocks without addresses are
 * transparent.
 */
static void inline_chain(Dwarf_Die *die, uint64_t pc, Dwarf_Die *chain, int *n, int depth)
{
	Dwarf_Die c;

	if (depth > 64 || dwarf_child(die, &c) != 0)
		return;
	do {
		switch (dwarf_tag(&c)) {
		case DW_TAG_inlined_subroutine:
			if (dwarf_haspc(&c, pc) <= 0)
				break;
			if (*n < MAX_INLINE_DEPTH - 1)
				chain[(*n)++] = c;
			inline_chain(&c, pc, chain, n, depth + 1);
			return;
		case DW_TAG_lexical_block:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
		case DW_TAG_with_stmt:
		case DW_TAG_common_block: {
			int before = *n;

			if (has_pc_attrs(&c) && dwarf_haspc(&c, pc) <= 0)
				break;
			inline_chain(&c, pc, chain, n, depth + 1);
			if (has_pc_attrs(&c) || *n > before)
				return;
			break;
		}
		default:
			break;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
}

/*
 * DWARF view: the function holding vaddr and the inlines expanded into it
 * at vaddr, innermost first. The innermost frame's location is the line
 * table's; each outer one is the call site recorded by the inline below.
 * Returns 0 with *out NULL when DWARF does not cover vaddr, or -ENOMEM.
 */
static int resolve_dwarf(struct syms_module *mod, uint64_t vaddr, struct syms_entry **out)
{
	Dwarf_Die *cudie, sub, chain[MAX_INLINE_DEPTH];
	const struct syms_fn_range *fr;
	struct syms_cu_index *ix;
	const char *file = NULL;
	struct syms_entry *e;
	Dwarf_Addr bias, a;
	Dwfl_Line *dl;
	int n = 1, line = 0;

	*out = NULL;
	cudie = dwfl_module_addrdie(mod->dwmod, vaddr, &bias);
	if (!cudie)
		return 0;
	ix = cu_index(mod, cudie);
	if (!ix)
		return -ENOMEM;
	fr = cu_find(ix, vaddr - bias);
	if (!fr || !dwarf_offdie(dwarf_cu_getdwarf(cudie->cu), fr->die, &sub))
		return 0;
	chain[0] = sub;
	inline_chain(&sub, vaddr - bias, chain, &n, 0);
	e = new_entry(vaddr, (uint32_t)n);
	if (!e)
		return -ENOMEM;
	dl = dwfl_module_getsrc(mod->dwmod, vaddr);
	if (dl)
		file = dwfl_lineinfo(dl, &a, &line, NULL, NULL, NULL);
	for (int i = n - 1; i >= 0; i--) {
		struct names nm = die_names(&chain[i]);

		if (set_sym(&e->syms[e->nr++], nm.linkage, nm.plain, file, line, i > 0)) {
			syms_entry__free(e);
			return -ENOMEM;
		}
		call_site(&chain[i], &file, &line);
	}
	*out = e;
	return 0;
}

/* Symbol-table view, for modules (or code) without DWARF. */
static struct syms_entry *resolve_symtab(struct syms_module *mod, uint64_t vaddr)
{
	const char *name, *file = NULL;
	struct syms_entry *e;
	Dwarf_Addr a;
	Dwfl_Line *dl;
	int line = 0;

	name = syms_symtab__find(mod, vaddr);
	if (!name)
		return new_entry(vaddr, 0);
	e = new_entry(vaddr, 1);
	if (!e)
		return NULL;
	dl = dwfl_module_getsrc(mod->dwmod, vaddr);
	if (dl)
		file = dwfl_lineinfo(dl, &a, &line, NULL, NULL, NULL);
	e->nr = 1;
	if (set_sym(&e->syms[0], name, NULL, file, line, false)) {
		syms_entry__free(e);
		errno = ENOMEM;
		return NULL;
	}
	return e;
}

struct syms_entry *syms_module__resolve(struct syms *s, struct syms_module *mod, uint64_t vaddr)
{
	struct syms_entry *e;

	s->stats.lookups++;
	if (!s->names)
		return new_entry(vaddr, 0);
	if (!mod->dwfl_tried)
		syms_module__load(mod);
	if (!mod->dwmod)
		return new_entry(vaddr, 0);
	if (resolve_dwarf(mod, vaddr, &e)) {
		errno = ENOMEM;
		return NULL;
	}
	return e ? e : resolve_symtab(mod, vaddr);
}

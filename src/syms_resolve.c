// SPDX-License-Identifier: MIT
/* syms_resolve.c - one ELF address to frames: DWARF scopes, lines, symbols. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "demangle.h"
#include "syms_int.h"

#define MAX_INLINE_DEPTH 64

struct names {
	const char *linkage;	/* mangled, or the plain name for C */
	const char *plain;	/* DW_AT_name */
};

/* Fill one frame; strings copied. Returns 0 or -ENOMEM. */
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

/*
 * DWARF view: the physical chain of scopes holding vaddr, innermost first.
 * Each inlined_subroutine is a frame whose location is the line table's
 * (innermost) or the call site recorded by the inline below it.
 */
static int resolve_dwarf(Dwfl_Module *dwmod, uint64_t vaddr, struct syms_entry **out)
{
	const char *file = NULL;
	Dwarf_Die *cudie, *scopes = NULL, inner;
	struct syms_entry *e = NULL;
	Dwarf_Addr bias, a;
	Dwfl_Line *dl;
	int n, line = 0, nframes = 0, err = 0;

	*out = NULL;
	cudie = dwfl_module_addrdie(dwmod, vaddr, &bias);
	if (!cudie)
		return 0;
	n = dwarf_getscopes(cudie, vaddr - bias, &scopes);
	if (n <= 0) {
		free(scopes);
		return 0;
	}
	inner = scopes[0];
	free(scopes);
	scopes = NULL;
	n = dwarf_getscopes_die(&inner, &scopes);
	for (int i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram)
			nframes++;
		if (tag == DW_TAG_subprogram || nframes >= MAX_INLINE_DEPTH)
			break;
	}
	if (nframes == 0)
		goto free_scopes;
	e = new_entry(vaddr, (uint32_t)nframes);
	if (!e) {
		err = -ENOMEM;
		goto free_scopes;
	}
	dl = dwfl_module_getsrc(dwmod, vaddr);
	if (dl)
		file = dwfl_lineinfo(dl, &a, &line, NULL, NULL, NULL);
	for (int i = 0; i < n && e->nr < (uint32_t)nframes; i++) {
		int tag = dwarf_tag(&scopes[i]);
		bool inl = tag == DW_TAG_inlined_subroutine;
		struct names nm;

		if (!inl && tag != DW_TAG_subprogram)
			continue;
		nm = die_names(&scopes[i]);
		err = set_sym(&e->syms[e->nr++], nm.linkage, nm.plain, file, line, inl);
		if (err) {
			syms_entry__free(e);
			e = NULL;
			goto free_scopes;
		}
		if (inl)
			call_site(&scopes[i], &file, &line);
	}
free_scopes:
	free(scopes);
	*out = e;
	return err;
}

/* Symbol-table view, for modules (or code) without DWARF. */
static struct syms_entry *resolve_symtab(Dwfl_Module *dwmod, uint64_t vaddr)
{
	const char *name, *file = NULL;
	struct syms_entry *e;
	GElf_Off off;
	GElf_Sym sym;
	Dwarf_Addr a;
	Dwfl_Line *dl;
	int line = 0;

	name = dwfl_module_addrinfo(dwmod, vaddr, &off, &sym, NULL, NULL, NULL);
	if (!name)
		return new_entry(vaddr, 0);
	e = new_entry(vaddr, 1);
	if (!e)
		return NULL;
	dl = dwfl_module_getsrc(dwmod, vaddr);
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
	if (resolve_dwarf(mod->dwmod, vaddr, &e)) {
		errno = ENOMEM;
		return NULL;
	}
	return e ? e : resolve_symtab(mod->dwmod, vaddr);
}

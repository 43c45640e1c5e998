// SPDX-License-Identifier: MIT
/*
 * syms_symtab.c - address -> symbol through a sorted index of libdwfl's
 * symbol table (dwfl_module_addrinfo scans every symbol on each call).
 */
#include <stdlib.h>
#include "symbolize/syms_int.h"

static int cmp_fsym(const void *a, const void *b)
{
	const struct syms_fsym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	return x->size > y->size ? -1 : x->size < y->size;
}

static void build(struct syms_module *mod)
{
	int n = dwfl_module_getsymtab(mod->dwmod);

	mod->fsyms_built = true;
	if (n <= 0 || !(mod->fsyms = calloc((size_t)n, sizeof(*mod->fsyms))))
		return;
	for (int i = 1; i < n; i++) {
		GElf_Word shndx;
		GElf_Addr addr;
		GElf_Sym sym;
		const char *name = dwfl_module_getsym_info(mod->dwmod, i, &sym, &addr, &shndx,
							   NULL, NULL);
		int type = name ? GELF_ST_TYPE(sym.st_info) : -1;
		int bind = name ? GELF_ST_BIND(sym.st_info) : -1;

		if (!name || !*name || sym.st_shndx == SHN_UNDEF || addr == 0 ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE))
			continue;
		mod->fsyms[mod->nr_fsyms++] = (struct syms_fsym){
			.addr = addr, .size = sym.st_size, .name = name,
			.rank = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2,
		};
	}
	qsort(mod->fsyms, mod->nr_fsyms, sizeof(*mod->fsyms), cmp_fsym);
}

const char *syms_symtab__find(struct syms_module *mod, uint64_t vaddr)
{
	size_t lo = 0, hi, best = SIZE_MAX;

	if (!mod->fsyms_built)
		build(mod);
	hi = mod->nr_fsyms;
	while (lo < hi) {	/* first symbol above vaddr */
		size_t mid = lo + (hi - lo) / 2;

		if (mod->fsyms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	/* the symbols at the closest address below; best ranked sorts first */
	for (size_t i = lo; i-- > 0 && mod->fsyms[i].addr == mod->fsyms[lo - 1].addr;)
		best = i;
	for (size_t i = best; i < lo; i++) {
		const struct syms_fsym *f = &mod->fsyms[i];

		if (vaddr < f->addr + f->size)
			return f->name;
		if (f->size == 0 && (lo == mod->nr_fsyms || vaddr < mod->fsyms[lo].addr))
			return f->name;	/* sizeless (asm): up to the next symbol */
	}
	return NULL;
}

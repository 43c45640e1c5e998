// SPDX-License-Identifier: MIT
/* eh_cfi.c - .eh_frame CFI with or without .eh_frame_hdr (see eh_cfi.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "unwind/eh_cfi.h"

Elf_Scn *eh_cfi__section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh))
			continue;
		n = elf_strptr(elf, shstrndx, sh->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

bool eh_cfi__has_hdr(Elf *elf)
{
	GElf_Shdr sh;

	return eh_cfi__section(elf, ".eh_frame_hdr", &sh) != NULL;
}

/* A copy of elf's bytes where the header's section name reads "Xeh_frame_hdr". */
static int copy_without_hdr(Elf *elf, struct eh_cfi *c)
{
	GElf_Shdr sh, strsh;
	size_t shstrndx, size;
	Elf_Scn *scn = eh_cfi__section(elf, ".eh_frame_hdr", &sh), *strscn = NULL;
	char *raw = elf_rawfile(elf, &size);
	uint64_t at;

	if (!elf_getshdrstrndx(elf, &shstrndx))
		strscn = elf_getscn(elf, shstrndx);
	if (!scn || !raw || !strscn || !gelf_getshdr(strscn, &strsh))
		return -ENODATA;
	at = strsh.sh_offset + sh.sh_name;
	if (strsh.sh_type == SHT_NOBITS || sh.sh_name >= strsh.sh_size || at >= size)
		return -ENODATA;
	c->image = malloc(size);
	if (!c->image)
		return -ENOMEM;
	memcpy(c->image, raw, size);
	((char *)c->image)[at] = 'X';
	c->copy = elf_memory(c->image, size);
	return c->copy ? 0 : -ENODATA;
}

int eh_cfi__open(Elf *elf, bool no_hdr, struct eh_cfi *c)
{
	int err;

	memset(c, 0, sizeof(*c));
	if (no_hdr) {
		err = copy_without_hdr(elf, c);
		if (err)
			goto fail;
	}
	c->cfi = dwarf_getcfi_elf(c->copy ? c->copy : elf);
	if (c->cfi)
		return 0;
	err = -ENODATA;
fail:
	eh_cfi__close(c);
	return err;
}

void eh_cfi__close(struct eh_cfi *c)
{
	if (c->cfi)
		dwarf_cfi_end(c->cfi);
	if (c->copy)
		elf_end(c->copy);
	free(c->image);
	memset(c, 0, sizeof(*c));
}

/* SPDX-License-Identifier: MIT */
/*
 * eh_cfi.h - libdw's CFI of an ELF file's .eh_frame, with or without the
 * .eh_frame_hdr search table.
 *
 * libdw (dwarf_getcfi_elf) trusts .eh_frame_hdr: a header it cannot parse
 * makes it return no CFI at all, and a header whose search table is wrong
 * makes every lookup miss, although .eh_frame itself is intact. Opened
 * without the header, the same .eh_frame is searched linearly: slower,
 * exact. unwind_table.c opens with the header first and falls back.
 */
#ifndef MEMTRACE_EH_CFI_H
#define MEMTRACE_EH_CFI_H

#include <elfutils/libdw.h>
#include <gelf.h>
#include <stdbool.h>

struct eh_cfi {
	Dwarf_CFI *cfi;
	Elf *copy;		/* without the header: an in-memory copy of the file */
	void *image;		/* its bytes */
};

/* The section called name, its header in *sh; NULL when there is none. */
Elf_Scn *eh_cfi__section(Elf *elf, const char *name, GElf_Shdr *sh);

/* True when elf has an .eh_frame_hdr section (whose search table libdw uses). */
bool eh_cfi__has_hdr(Elf *elf);

/*
 * Open elf's CFI into *c: libdw's own choice, or with no_hdr through a
 * copy of the file in which the .eh_frame_hdr section is renamed, so only
 * .eh_frame is read. Returns 0, -ENODATA (no usable CFI) or -ENOMEM; on
 * error *c holds nothing to close.
 */
int eh_cfi__open(Elf *elf, bool no_hdr, struct eh_cfi *c);

/* Release what eh_cfi__open() made. A zeroed *c is fine. */
void eh_cfi__close(struct eh_cfi *c);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * unwind_table.h - one ELF file's .eh_frame as a sorted array of
 * struct unwind_row, the form the BPF walker (bpf/unwind.bpf.h) searches.
 *
 * Rows come from libdw's CFI interpreter, one per change of the rules we
 * care about (CFA, frame pointer, return address), adjacent identical rows
 * merged. Addresses not covered by any FDE get a CFA_UNSUPPORTED row (the
 * walker falls back to the frame pointer there). PLT sections get CFA_PLT
 * rows, from their CFI when the linker wrote one, else synthesized.
 *
 * Only the register numbers are architecture specific (one table in the
 * .c file); x86_64 is the one filled in.
 */
#ifndef MEMTRACE_UNWIND_TABLE_H
#define MEMTRACE_UNWIND_TABLE_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bpf/memtrace.h"

struct unwind_table {
	struct unwind_row *rows;	/* sorted by pc, at least 2 */
	size_t nr;
	uint64_t base;			/* ELF address of row pc 0 */
	unsigned int fdes;		/* FDEs read */
	unsigned int unsupported;	/* rows from rules the walker cannot evaluate */
	unsigned int plt_rows;		/* CFA_PLT rows */
	unsigned int synthesized;	/* rows made up for PLT sections without CFI */
	bool hdr_ignored;		/* built from .eh_frame alone: .eh_frame_hdr was corrupt */
};

/*
 * Build the table of an ELF file opened with libelf (ET_EXEC or ET_DYN).
 * Returns 0 and a table the caller frees with unwind_table__free(), or
 * -errno with *out untouched: -ENODATA when the file has no .eh_frame, no
 * FDE in it, or no FDE libdw reads a rule from (a table of fp fallback
 * rows only would hold nothing), -ENOTSUP for an architecture without a register map or a
 * byte order other than the host's, -E2BIG when the code spans more than
 * 4 GiB, -EINVAL for malformed CFI, -ENOMEM. A corrupt .eh_frame_hdr
 * (libdw cannot parse it, or its search table misses FDEs) never discards
 * an intact .eh_frame: the table is then built from .eh_frame alone
 * (hdr_ignored).
 */
int unwind_table__build(Elf *elf, struct unwind_table **out);

/*
 * Same for a path: opens, builds, closes. Also -errno of open(2), and
 * -ENOEXEC when the file is not ELF.
 */
int unwind_table__build_file(const char *path, struct unwind_table **out);

/*
 * The row in force at ELF address addr: the last row whose pc is <= addr,
 * or NULL when addr is below the first row. Past the end of the code the
 * final (CFA_UNSUPPORTED) row is returned. Cannot fail otherwise.
 */
const struct unwind_row *unwind_table__find(const struct unwind_table *t, uint64_t addr);

/* Release a table; NULL is fine. */
void unwind_table__free(struct unwind_table *t);

#endif

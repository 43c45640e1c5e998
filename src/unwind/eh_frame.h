/* SPDX-License-Identifier: MIT */
/*
 * eh_frame.h - the FDEs of an ELF file's .eh_frame, as address ranges.
 *
 * libdw interprets CFI (dwarf_cfi_addrframe) but has no public way to list
 * what an .eh_frame covers: this walks it with dwarf_next_cfi() and decodes
 * each FDE's initial_location / address_range with the pointer encoding
 * its CIE announces ("zR"). Little-endian, host-order files only.
 */
#ifndef MEMTRACE_EH_FRAME_H
#define MEMTRACE_EH_FRAME_H

#include <gelf.h>
#include <stdint.h>

/* Called per FDE with its range [lo, hi) in ELF addresses; non-zero stops. */
typedef int (*eh_frame_fde_fn)(uint64_t lo, uint64_t hi, void *ctx);

/*
 * Call fn for every FDE of section scn (elf's .eh_frame) whose range is not
 * empty, in section order. FDEs whose CIE uses an encoding we do not
 * decode are skipped. Returns the number of FDEs passed to fn, fn's first
 * non-zero return, or -EINVAL (malformed section), -ENOMEM.
 */
int eh_frame__for_each_fde(Elf *elf, Elf_Scn *scn, eh_frame_fde_fn fn, void *ctx);

#endif

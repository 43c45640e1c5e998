// SPDX-License-Identifier: MIT
/*
 * eh_frame.c - FDE address ranges of an .eh_frame section.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "unwind/eh_frame.h"
#include "common/util.h"

struct cie_info {
	Dwarf_Off off;		/* section offset */
	uint8_t fde_enc;	/* DW_EH_PE_* of FDE initial_location */
};

struct cies {
	struct cie_info *v;
	size_t nr, cap;
	bool is64;
};

static int read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned int shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		uint8_t c = *(*p)++;

		*v |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
		if (!(c & 0x80))
			return 0;
	}
	return -EINVAL;
}

static int read_sleb(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	unsigned int shift = 0;
	uint64_t u = 0;
	uint8_t c = 0;

	while (*p < end && shift < 64) {
		c = *(*p)++;
		u |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
		if (!(c & 0x80)) {
			if (shift < 64 && (c & 0x40))
				u |= ~0ULL << shift;
			*v = (int64_t)u;
			return 0;
		}
	}
	return -EINVAL;
}

static int read_fixed(const uint8_t **p, const uint8_t *end, size_t n, bool sign, uint64_t *v)
{
	uint64_t u = 0;

	if ((size_t)(end - *p) < n)
		return -EINVAL;
	memcpy(&u, *p, n);	/* little endian only: checked in build */
	if (sign && n < 8 && (u >> (n * 8 - 1)) & 1)
		u |= ~0ULL << (n * 8);
	*p += n;
	*v = u;
	return 0;
}

/*
 * Decode one DW_EH_PE_* value at *p. field_addr is the ELF address of the
 * field (for pcrel); apply=false reads the value only (address_range).
 */
static int read_encoded(const uint8_t **p, const uint8_t *end, uint8_t enc, bool is64,
			uint64_t field_addr, bool apply, uint64_t *v)
{
	int64_t s = 0;
	int err;

	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
		err = read_fixed(p, end, is64 ? 8 : 4, false, v);
		break;
	case DW_EH_PE_uleb128:
		err = read_uleb(p, end, v);
		break;
	case DW_EH_PE_sleb128:
		err = read_sleb(p, end, &s);
		*v = (uint64_t)s;
		break;
	case DW_EH_PE_udata2:
		err = read_fixed(p, end, 2, false, v);
		break;
	case DW_EH_PE_udata4:
		err = read_fixed(p, end, 4, false, v);
		break;
	case DW_EH_PE_udata8:
		err = read_fixed(p, end, 8, false, v);
		break;
	case DW_EH_PE_sdata2:
		err = read_fixed(p, end, 2, true, v);
		break;
	case DW_EH_PE_sdata4:
		err = read_fixed(p, end, 4, true, v);
		break;
	case DW_EH_PE_sdata8:
		err = read_fixed(p, end, 8, true, v);
		break;
	default:
		return -EINVAL;
	}
	if (err || !apply)
		return err;
	if (enc & DW_EH_PE_indirect)
		return -ENOTSUP;
	switch (enc & 0x70) {
	case DW_EH_PE_absptr:
		break;
	case DW_EH_PE_pcrel:
		*v += field_addr;
		break;
	default:		/* textrel, datarel, funcrel: not seen in .eh_frame */
		return -ENOTSUP;
	}
	if (!is64)
		*v &= 0xffffffffULL;
	return 0;
}

/* Remember the FDE pointer encoding a CIE announces ("zR": R's byte). */
static int add_cie(struct cies *b, Dwarf_Off off, const Dwarf_CIE *cie)
{
	const uint8_t *p = cie->augmentation_data;
	const uint8_t *end = p ? p + cie->augmentation_data_size : NULL;
	uint8_t enc = DW_EH_PE_absptr;
	uint64_t skip;

	if (cie->augmentation[0] == 'z') {
		for (const char *a = cie->augmentation + 1; *a && p; a++) {
			if (*a == 'R') {
				if (p >= end)
					break;
				enc = *p++;
			} else if (*a == 'P') {
				if (p >= end)
					break;
				uint8_t penc = *p++;

				if (read_encoded(&p, end, penc & 0x0f, b->is64, 0, false, &skip))
					break;
			} else if (*a == 'L') {
				p++;
			} else if (*a != 'S' && *a != 'B' && *a != 'G') {
				break;	/* unknown letter: R, if any, came first */
			}
		}
	} else if (cie->augmentation[0]) {
		enc = DW_EH_PE_omit;	/* pre-"z" augmentations: skip its FDEs */
	}
	if (array__grow((void **)&b->v, &b->cap, b->nr + 1, sizeof(*b->v), 16))
		return -ENOMEM;
	b->v[b->nr].off = off;
	b->v[b->nr].fde_enc = enc;
	b->nr++;
	return 0;
}

/*
 * CIEs are met in section order, so b->v is sorted by offset: a binary
 * search (a hostile file may hold a CIE for every FDE and point all its
 * FDEs at the first one).
 */
static const struct cie_info *cie_find(const struct cies *b, Dwarf_Off off)
{
	size_t lo = 0, hi = b->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->v[mid].off == off)
			return &b->v[mid];
		if (b->v[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int eh_frame__for_each_fde(Elf *elf, Elf_Scn *scn, eh_frame_fde_fn fn, void *ctx)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	Elf_Data *data = elf_getdata(scn, NULL);
	struct cies cies = { 0 };
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	GElf_Shdr sh;
	int rc, err = 0, n = 0;

	if (!ident || !data || !data->d_buf || !gelf_getshdr(scn, &sh))
		return -EINVAL;
	cies.is64 = ident[EI_CLASS] == ELFCLASS64;
	while (!err && (rc = dwarf_next_cfi(ident, data, true, off, &next, &e)) == 0) {
		if (dwarf_cfi_cie_p(&e)) {
			err = add_cie(&cies, off, &e.cie);
		} else {
			const struct cie_info *cie = cie_find(&cies, e.fde.CIE_pointer);
			const uint8_t *p = e.fde.start;
			uint64_t lo, len, field;

			field = sh.sh_addr + (uint64_t)(p - (const uint8_t *)data->d_buf);
			if (cie && cie->fde_enc != DW_EH_PE_omit &&
			    !read_encoded(&p, e.fde.end, cie->fde_enc, cies.is64, field, true, &lo) &&
			    !read_encoded(&p, e.fde.end, cie->fde_enc, cies.is64, 0, false, &len) &&
			    len && lo + len > lo) {
				err = fn(lo, lo + len, ctx);
				n++;
			}
		}
		off = next;
	}
	free(cies.v);
	if (err)
		return err;
	return rc < 0 ? -EINVAL : n;
}

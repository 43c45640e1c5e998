// SPDX-License-Identifier: MIT
/*
 * unwind_table.c - .eh_frame -> sorted struct unwind_row[] (issue 4).
 *
 * eh_frame.c lists every FDE's address range (dwarf_next_cfi); within a
 * range, dwarf_cfi_addrframe() + dwarf_frame_info() give the rules at a
 * pc and the end of the row, so one call per row covers the range. Rules
 * become rows: CFA = sp/fp + off, return address and frame pointer saved
 * at CFA + off. Anything else becomes CFA_UNSUPPORTED (walker: frame
 * pointer) and is counted.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unwind/eh_cfi.h"
#include "unwind/eh_frame.h"
#include "unwind/unwind_table.h"
#include "common/util.h"

/* The only architecture-specific part: DWARF register numbers. */
struct unwind_arch {
	unsigned int machine;	/* e_machine */
	int sp, fp, ra;		/* DWARF numbers of sp, fp, return address column */
	bool x86_plt;		/* lazy PLT entries push an index (CFA_PLT rows) */
};

static const struct unwind_arch arches[] = {
	{ EM_X86_64, 7, 6, 16, true },
	/*
	 * arm64 would be { EM_AARCH64, 31, 29, 30, false }, plus a row rule
	 * for "return address still in x30" (leaf frames, PLT) in memtrace.h.
	 */
};

static const struct unwind_arch *arch_find(unsigned int machine)
{
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (arches[i].machine == machine)
			return &arches[i];
	return NULL;
}

/* A row with its absolute ELF address, before sorting and compaction. */
struct raw_row {
	uint64_t addr;
	uint32_t seq;		/* insertion order: on equal addr the first wins */
	bool end;		/* end of an FDE: loses against a row at addr */
	struct unwind_row r;
};

struct range {
	uint64_t lo, hi;
};

struct builder {
	const struct unwind_arch *arch;
	Elf *elf;
	Dwarf_CFI *cfi;
	struct raw_row *raw;
	size_t nr, cap;
	struct range *ranges;
	size_t nr_ranges, cap_ranges;
	unsigned int fdes, unsupported, plt_rows, synthesized;
	unsigned int misses;	/* FDEs libdw found no CFI for at their start */
};


static int push_row(struct builder *b, uint64_t addr, const struct unwind_row *r, bool end)
{
	struct raw_row *x;

	if (array__grow((void **)&b->raw, &b->cap, b->nr + 1, sizeof(*b->raw), 64))
		return -ENOMEM;
	x = &b->raw[b->nr];
	x->addr = addr;
	x->seq = b->nr;
	x->end = end;
	x->r = *r;
	b->nr++;
	if (r->cfa_rule == CFA_UNSUPPORTED && !end)
		b->unsupported++;
	if (r->cfa_rule == CFA_PLT)
		b->plt_rows++;
	return 0;
}

/* ---- rules -> rows ------------------------------------------------------ */

static bool op_is_breg(const Dwarf_Op *op, int reg, int64_t *off)
{
	if (op->atom == DW_OP_bregx && (int)op->number == reg) {
		*off = (int64_t)op->number2;
		return true;
	}
	if (op->atom >= DW_OP_breg0 && op->atom <= DW_OP_breg31 &&
	    (int)(op->atom - DW_OP_breg0) == reg) {
		*off = (int64_t)op->number;
		return true;
	}
	return false;
}

/*
 * The expression ld writes for lazy PLT entries:
 *   breg(sp) N; breg(ra) 0; lit15; and; litK; ge; lit3; shl; plus
 * i.e. CFA = sp + N + ((pc & 15) >= K ? 8 : 0).
 */
static bool match_plt(const struct unwind_arch *a, const Dwarf_Op *ops, size_t n,
		      int64_t *off, uint8_t *split)
{
	int64_t zero;

	if (!a->x86_plt || n != 9 || !op_is_breg(&ops[0], a->sp, off) ||
	    !op_is_breg(&ops[1], a->ra, &zero) || zero != 0 ||
	    ops[2].atom != DW_OP_lit15 || ops[3].atom != DW_OP_and ||
	    ops[4].atom < DW_OP_lit0 || ops[4].atom > DW_OP_lit15 ||
	    ops[5].atom != DW_OP_ge || ops[6].atom != DW_OP_lit3 ||
	    ops[7].atom != DW_OP_shl || ops[8].atom != DW_OP_plus)
		return false;
	*split = ops[4].atom - DW_OP_lit0;
	return true;
}

/*
 * A register saved at CFA + off: libdw spells it call_frame_cfa [; plus_uconst off].
 * Returns 1 and *off for that, 0 for same value, -1 for undefined, -2 otherwise.
 */
static int reg_rule(Dwarf_Frame *f, int reg, int64_t *off)
{
	Dwarf_Op mem[3], *ops;
	size_t n;

	if (dwarf_frame_register(f, reg, mem, &ops, &n) < 0)
		return -2;
	if (n == 0)
		return ops ? -1 : 0;
	if (ops[0].atom != DW_OP_call_frame_cfa)
		return -2;
	if (n == 1) {
		*off = 0;
		return 1;
	}
	if (n == 2 && ops[1].atom == DW_OP_plus_uconst) {
		*off = (int64_t)ops[1].number;
		return 1;
	}
	return -2;		/* val_offset (stack_value), expressions */
}

static bool fits_s16(int64_t v)
{
	return v >= INT16_MIN && v <= INT16_MAX;
}

static void frame_row(const struct unwind_arch *a, Dwarf_Frame *f, struct unwind_row *r)
{
	Dwarf_Op *ops;
	size_t n;
	int64_t off;
	int rule;

	memset(r, 0, sizeof(*r));
	r->cfa_rule = CFA_UNSUPPORTED;
	if (dwarf_frame_cfa(f, &ops, &n) < 0 || n == 0)
		return;
	if (n == 1 && op_is_breg(&ops[0], a->sp, &off))
		r->cfa_rule = CFA_SP;
	else if (n == 1 && op_is_breg(&ops[0], a->fp, &off))
		r->cfa_rule = CFA_FP;
	else if (match_plt(a, ops, n, &off, &r->plt_split))
		r->cfa_rule = CFA_PLT;
	else
		return;
	if (off < INT32_MIN || off > INT32_MAX)
		goto unsupported;
	r->cfa_off = (int32_t)off;

	rule = reg_rule(f, a->ra, &off);
	if (rule == -1) {	/* return address undefined: outermost frame */
		memset(r, 0, sizeof(*r));
		r->cfa_rule = CFA_UNDEFINED;
		return;
	}
	if (rule != 1 || !fits_s16(off))
		goto unsupported;
	r->ra_off = (int16_t)off;

	rule = reg_rule(f, a->fp, &off);
	if (rule == 1 && fits_s16(off)) {
		r->fp_rule = REG_AT_CFA;
		r->fp_off = (int16_t)off;
	} else {
		r->fp_rule = rule == 0 ? REG_SAME : REG_UNDEFINED;
	}
	return;
unsupported:
	memset(r, 0, sizeof(*r));
	r->cfa_rule = CFA_UNSUPPORTED;
}

/* Rows of one FDE's range [lo, hi): one addrframe call per row. */
static int add_range(uint64_t lo, uint64_t hi, void *ctx)
{
	struct builder *b = ctx;
	struct unwind_row r, end = { .cfa_rule = CFA_UNSUPPORTED };
	uint64_t pc = lo;
	int err;

	while (pc < hi) {
		Dwarf_Frame *f;
		Dwarf_Addr start, stop;

		if (dwarf_cfi_addrframe(b->cfi, pc, &f) < 0) {
			b->misses += pc == lo;
			break;	/* no usable FDE after all: the end row covers it */
		}
		if (dwarf_frame_info(f, &start, &stop, NULL) < 0 || stop <= pc) {
			free(f);
			break;
		}
		frame_row(b->arch, f, &r);
		free(f);
		err = push_row(b, pc, &r, false);
		if (err)
			return err;
		pc = stop;
	}
	if (array__grow((void **)&b->ranges, &b->cap_ranges, b->nr_ranges + 1, sizeof(*b->ranges), 64))
		return -ENOMEM;
	b->ranges[b->nr_ranges++] = (struct range){ lo, hi };
	return push_row(b, hi, &end, true);
}
/* ---- PLT sections without CFI ------------------------------------------- */

static bool covered(const struct builder *b, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < b->nr_ranges; i++)
		if (b->ranges[i].lo < hi && lo < b->ranges[i].hi)
			return true;
	return false;
}

static int synth(struct builder *b, uint64_t addr, const struct unwind_row *r)
{
	b->synthesized++;
	return push_row(b, addr, r, false);
}

/*
 * x86_64 lazy .plt: PLT0 (16 bytes) runs with the entry's push done
 * (CFA = sp + 16), then pushes once more (sp + 24 after 6 bytes); each
 * entry pushes its index at byte 6 (classic) or 4 (IBT, when .plt.sec
 * exists). .plt.sec and .plt.got entries only jump: CFA = sp + 8.
 */
static int add_plt(struct builder *b)
{
	static const char *const jump_only[] = { ".plt.sec", ".plt.got", ".plt.bnd" };
	struct unwind_row r = { .cfa_rule = CFA_SP, .cfa_off = 8, .ra_off = -8 };
	struct unwind_row end = { .cfa_rule = CFA_UNSUPPORTED };
	GElf_Shdr sh, sec;
	bool ibt = eh_cfi__section(b->elf, ".plt.sec", &sec) != NULL;
	int err = 0;

	if (!b->arch->x86_plt)
		return 0;
	if (eh_cfi__section(b->elf, ".plt", &sh) && sh.sh_size >= 16 &&
	    !covered(b, sh.sh_addr, sh.sh_addr + sh.sh_size)) {
		struct unwind_row plt0a = r, plt0b = r, ent = r;

		plt0a.cfa_off = 16;
		plt0b.cfa_off = 24;
		ent.cfa_rule = CFA_PLT;
		ent.plt_split = ibt ? 9 : 11;
		err = synth(b, sh.sh_addr, &plt0a) ?: synth(b, sh.sh_addr + 6, &plt0b) ?:
		      synth(b, sh.sh_addr + 16, &ent) ?:
		      push_row(b, sh.sh_addr + sh.sh_size, &end, true);
	}
	for (size_t i = 0; !err && i < sizeof(jump_only) / sizeof(jump_only[0]); i++) {
		if (!eh_cfi__section(b->elf, jump_only[i], &sh) || !sh.sh_size ||
		    covered(b, sh.sh_addr, sh.sh_addr + sh.sh_size))
			continue;
		err = synth(b, sh.sh_addr, &r) ?: push_row(b, sh.sh_addr + sh.sh_size, &end, true);
	}
	return err;
}

/* ---- sort, compact ------------------------------------------------------- */

static int raw_cmp(const void *pa, const void *pb)
{
	const struct raw_row *a = pa, *b = pb;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (a->end != b->end)
		return a->end ? 1 : -1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool same_rule(const struct unwind_row *a, const struct unwind_row *b)
{
	return a->cfa_rule == b->cfa_rule && a->cfa_off == b->cfa_off &&
	       a->fp_rule == b->fp_rule && a->fp_off == b->fp_off &&
	       a->ra_off == b->ra_off && a->plt_split == b->plt_split;
}

/*
 * An FDE end followed within UNWIND_GAP_SLACK bytes by the next FDE is
 * alignment padding, never executed: let the last row run over it rather
 * than spend a row on it (~13% of libc's rows).
 */
#define UNWIND_GAP_SLACK 16

/*
 * *next: the index of the first row after i that is not an FDE end, kept
 * across calls with growing i (start at 0), so that a run of end rows
 * (FDEs libdw read no rule from: a hostile file can hold millions) costs
 * one pass, not one pass per row.
 */
static bool gap_is_padding(const struct builder *b, size_t i, size_t *next)
{
	if (*next <= i)
		for (*next = i + 1; *next < b->nr && b->raw[*next].end; (*next)++)
			;
	return *next < b->nr && b->raw[*next].addr - b->raw[i].addr < UNWIND_GAP_SLACK;
}

static int finish(struct builder *b, struct unwind_table **out)
{
	struct unwind_table *t;
	uint64_t lo, hi, base;
	size_t n = 0, usable = 0, next = 0;

	qsort(b->raw, b->nr, sizeof(*b->raw), raw_cmp);
	lo = b->raw[0].addr;
	hi = b->raw[b->nr - 1].addr;
	base = hi <= UINT32_MAX ? 0 : lo & ~0xfffULL;	/* page aligned: pc & 15 survives */
	if (hi - base > UINT32_MAX)
		return -E2BIG;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->rows = malloc(b->nr * sizeof(*t->rows));
	if (!t->rows) {
		free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < b->nr; i++) {
		const struct raw_row *x = &b->raw[i];

		if (i > 0 && b->raw[i - 1].addr == x->addr)
			continue;	/* first row at an address wins */
		if (x->end && gap_is_padding(b, i, &next))
			continue;
		if (n > 0 && same_rule(&t->rows[n - 1], &x->r))
			continue;
		t->rows[n] = x->r;
		t->rows[n].pc = (uint32_t)(x->addr - base);
		usable += x->r.cfa_rule != CFA_UNSUPPORTED;
		n++;
	}
	if (!usable) {		/* only fp fallback rows: no table is more honest */
		unwind_table__free(t);
		return -ENODATA;
	}
	t->nr = n;
	t->base = base;
	t->fdes = b->fdes;
	t->unsupported = b->unsupported;
	t->plt_rows = b->plt_rows;
	t->synthesized = b->synthesized;
	*out = t;
	return 0;
}

/* One build with libdw's CFI c. Returns 0 (and *out) or -errno. */
static int build_with(Elf *elf, Elf_Scn *scn, const struct unwind_arch *arch,
		      Dwarf_CFI *cfi, unsigned int *misses, struct unwind_table **out)
{
	struct builder b = { .elf = elf, .arch = arch, .cfi = cfi };
	int err;

	err = eh_frame__for_each_fde(elf, scn, add_range, &b);
	*misses = b.misses;
	if (err <= 0) {
		err = err ?: -ENODATA;
		goto free_all;
	}
	b.fdes = err;
	err = add_plt(&b);
	if (err)
		goto free_all;
	err = finish(&b, out);
free_all:
	free(b.ranges);
	free(b.raw);
	return err;
}

int unwind_table__build(Elf *elf, struct unwind_table **out)
{
	const struct unwind_arch *arch;
	const unsigned char *ident;
	struct unwind_table *t = NULL;
	unsigned int misses = 0;
	struct eh_cfi c;
	GElf_Ehdr eh;
	GElf_Shdr sh;
	Elf_Scn *scn;
	int err;

	if (!gelf_getehdr(elf, &eh))
		return -ENOEXEC;
	ident = eh.e_ident;
	if (ident[EI_DATA] != (__BYTE_ORDER == __LITTLE_ENDIAN ? ELFDATA2LSB : ELFDATA2MSB))
		return -ENOTSUP;
	arch = arch_find(eh.e_machine);
	if (!arch)
		return -ENOTSUP;
	scn = eh_cfi__section(elf, ".eh_frame", &sh);
	if (!scn || sh.sh_type == SHT_NOBITS || !sh.sh_size)
		return -ENODATA;
	err = eh_cfi__open(elf, false, &c);
	if (!err) {
		err = build_with(elf, scn, arch, c.cfi, &misses, &t);
		eh_cfi__close(&c);
	}
	/* A corrupt .eh_frame_hdr (unparsable, or a search table that misses
	 * FDEs .eh_frame has) must not discard an intact .eh_frame. */
	if ((err == -ENODATA || misses) && eh_cfi__has_hdr(elf) &&
	    !eh_cfi__open(elf, true, &c)) {
		struct unwind_table *t2 = NULL;
		unsigned int misses2 = 0;
		int err2 = build_with(elf, scn, arch, c.cfi, &misses2, &t2);

		eh_cfi__close(&c);
		if (!err2 && (err || misses2 < misses)) {
			unwind_table__free(t);
			t = t2;
			t->hdr_ignored = true;
			err = 0;
		} else {
			unwind_table__free(t2);
		}
	}
	if (!err)
		*out = t;
	return err;
}

int unwind_table__build_file(const char *path, struct unwind_table **out)
{
	Elf *elf;
	int fd, err;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		err = -ENOEXEC;
		goto close_fd;
	}
	err = elf_kind(elf) == ELF_K_ELF ? unwind_table__build(elf, out) : -ENOEXEC;
	elf_end(elf);
close_fd:
	close(fd);
	return err;
}

const struct unwind_row *unwind_table__find(const struct unwind_table *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nr;
	uint64_t rel;

	if (addr < t->base || addr - t->base > UINT32_MAX)
		return addr < t->base ? NULL : &t->rows[t->nr - 1];
	rel = addr - t->base;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}

void unwind_table__free(struct unwind_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t);
}

// SPDX-License-Identifier: MIT
/*
 * probe_place.c - trap-aware placement of entry uprobes (x86-64).
 *
 * Two halves: classify() mirrors what Linux 6.18's
 * arch/x86/kernel/uprobes.c does with one instruction (from its raw
 * bytes), and choose() walks the function's first instructions with
 * capstone, deciding for each one whether it may run before the probe.
 */
#include <capstone/capstone.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "target/probe_place.h"

#define PAGE_SIZE_4K	4096u
#define PREFIX_WINDOW	256u	/* bytes decoded from the entry at most */

/* x86_nops[1..8] of a 64-bit kernel (9..11 carry a cs prefix: rejected). */
static const uint8_t kernel_nops[9][8] = {
	[1] = { 0x90 },
	[2] = { 0x66, 0x90 },
	[3] = { 0x0f, 0x1f, 0x00 },
	[4] = { 0x0f, 0x1f, 0x40, 0x00 },
	[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[6] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[7] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	[8] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

unsigned int probe_place__arg_regs(int n)
{
	static const enum probe_reg order[] = {
		PROBE_REG_RDI, PROBE_REG_RSI, PROBE_REG_RDX,
		PROBE_REG_RCX, PROBE_REG_R8, PROBE_REG_R9,
	};
	unsigned int mask = 0;
	int i;

	for (i = 0; i < n && i < 6; i++)
		mask |= PROBE_REG_BIT(order[i]);
	return mask;
}

const char *probe_place__class_str(enum probe_insn_class cls)
{
	switch (cls) {
	case PROBE_INSN_STEPPED:
		return "stepped";
	case PROBE_INSN_EMULATED:
		return "emulated";
	case PROBE_INSN_OPTIMIZED:
		return "optimized";
	case PROBE_INSN_REJECTED:
		return "rejected";
	}
	return "?";
}

static bool is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	}
	return false;
}

/* One-byte opcodes uprobes refuses on x86-64 (invalid, int*, in/out, hlt, cli...). */
static bool bad_opcode1(uint8_t op)
{
	switch (op) {
	case 0x06: case 0x07: case 0x0e: case 0x16: case 0x17: case 0x1e:
	case 0x1f: case 0x27: case 0x2f: case 0x37: case 0x3f:
	case 0x60: case 0x61: case 0x62:
	case 0x6c: case 0x6d: case 0x6e: case 0x6f: case 0x82:
	case 0xcc: case 0xcd: case 0xce: case 0xcf: case 0xd4: case 0xd5: case 0xd6:
	case 0xe4: case 0xe5: case 0xe6: case 0xe7: case 0xec: case 0xed:
	case 0xee: case 0xef: case 0xf1: case 0xf4: case 0xfa: case 0xfb:
		return true;
	}
	return false;
}

/* Two-byte (0f xx) opcodes uprobes refuses (system insns, ud2, syscall...). */
static bool bad_opcode2(uint8_t op)
{
	switch (op) {
	case 0x00: case 0x01: case 0x05: case 0x06: case 0x07: case 0x08:
	case 0x09: case 0x0b: case 0x30: case 0x34: case 0x35: case 0x37:
	case 0x78: case 0x79: case 0xae:
		return true;
	}
	return false;
}

/* Classify one instruction of known length @n. */
static enum probe_insn_class classify_bytes(const uint8_t *c, size_t n, uint64_t vaddr)
{
	bool op66 = false, branch;
	uint8_t rex = 0, op;
	size_t p = 0;

	for (; p < n && is_legacy_prefix(c[p]); p++) {
		switch (c[p]) {
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0xf0:
			return PROBE_INSN_REJECTED;	/* is_prefix_bad() */
		case 0x66:
			op66 = true;
			break;
		}
	}
	if (p < n && (c[p] & 0xf0) == 0x40)
		rex = c[p++];
	if (p >= n)
		return PROBE_INSN_REJECTED;
	op = c[p];

	/* can_optimize(): 5-byte nop/nopl, not crossing a page */
	if (n == 5 && ((op == 0x90 && p + 1 == n) ||
		       (op == 0x0f && p + 2 < n && c[p + 1] == 0x1f && !((c[p + 2] >> 3) & 7))) &&
	    PAGE_SIZE_4K - (vaddr & (PAGE_SIZE_4K - 1)) >= 5)
		return PROBE_INSN_OPTIMIZED;
	if (n <= 8 && !memcmp(c, kernel_nops[n], n))
		return PROBE_INSN_EMULATED;
	if (op == 0x90 && p + 1 == n)
		/*
		 * "prefix* + nop" is emulated as a nop, also REX.B 90 which
		 * is xchg %r8,%rax: probing it would drop the exchange.
		 */
		return (rex & 1) ? PROBE_INSN_REJECTED : PROBE_INSN_EMULATED;

	branch = op == 0xeb || op == 0xe9 || op == 0xe8 || (op >= 0x70 && op <= 0x7f) ||
		 (op == 0x0f && p + 1 < n && (c[p + 1] & 0xf0) == 0x80);
	if (branch)
		return op66 ? PROBE_INSN_REJECTED : PROBE_INSN_EMULATED;

	if (op >= 0x50 && op <= 0x57) {
		if (n == 1 || (n == 2 && rex == 0x41))
			return PROBE_INSN_EMULATED;
		return PROBE_INSN_STEPPED;
	}
	if (op == 0xc4 || op == 0xc5 || op == 0x62)
		return PROBE_INSN_STEPPED;	/* VEX/EVEX: approximated */
	if (op == 0x8e && p + 1 < n && ((c[p + 1] >> 3) & 7) == 2)
		return PROBE_INSN_REJECTED;	/* mov to %ss masks exceptions */
	if (op == 0x0f)
		return (p + 1 < n && bad_opcode2(c[p + 1])) ? PROBE_INSN_REJECTED
							    : PROBE_INSN_STEPPED;
	return bad_opcode1(op) ? PROBE_INSN_REJECTED : PROBE_INSN_STEPPED;
}

static int open_decoder(csh *h)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, h) != CS_ERR_OK)
		return -ENOMEM;
	cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	return 0;
}

enum probe_insn_class probe_place__classify(const uint8_t *code, size_t len, uint64_t vaddr,
					    size_t *ilen)
{
	enum probe_insn_class cls = PROBE_INSN_REJECTED;
	cs_insn *insn;
	csh h;

	if (ilen)
		*ilen = 0;
	if (!code || !len || open_decoder(&h))
		return PROBE_INSN_REJECTED;
	if (cs_disasm(h, code, len, vaddr, 1, &insn) == 1) {
		cls = classify_bytes(code, insn->size, vaddr);
		if (ilen)
			*ilen = insn->size;
		cs_free(insn, 1);
	}
	cs_close(&h);
	return cls;
}

/* Index (enum probe_reg) of the 64-bit register containing @r, -1 if not a GPR. */
static int gpr_index(unsigned int r)
{
	switch (r) {
	case X86_REG_RAX: case X86_REG_EAX: case X86_REG_AX: case X86_REG_AH: case X86_REG_AL:
		return PROBE_REG_RAX;
	case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CH: case X86_REG_CL:
		return PROBE_REG_RCX;
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DH: case X86_REG_DL:
		return PROBE_REG_RDX;
	case X86_REG_RBX: case X86_REG_EBX: case X86_REG_BX: case X86_REG_BH: case X86_REG_BL:
		return PROBE_REG_RBX;
	case X86_REG_RSP: case X86_REG_ESP: case X86_REG_SP: case X86_REG_SPL:
		return PROBE_REG_RSP;
	case X86_REG_RBP: case X86_REG_EBP: case X86_REG_BP: case X86_REG_BPL:
		return PROBE_REG_RBP;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL:
		return PROBE_REG_RSI;
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL:
		return PROBE_REG_RDI;
	case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: case X86_REG_R8B:
		return PROBE_REG_R8;
	case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: case X86_REG_R9B:
		return PROBE_REG_R9;
	case X86_REG_R10: case X86_REG_R10D: case X86_REG_R10W: case X86_REG_R10B:
		return PROBE_REG_R10;
	case X86_REG_R11: case X86_REG_R11D: case X86_REG_R11W: case X86_REG_R11B:
		return PROBE_REG_R11;
	case X86_REG_R12: case X86_REG_R12D: case X86_REG_R12W: case X86_REG_R12B:
		return PROBE_REG_R12;
	case X86_REG_R13: case X86_REG_R13D: case X86_REG_R13W: case X86_REG_R13B:
		return PROBE_REG_R13;
	case X86_REG_R14: case X86_REG_R14D: case X86_REG_R14W: case X86_REG_R14B:
		return PROBE_REG_R14;
	case X86_REG_R15: case X86_REG_R15D: case X86_REG_R15W: case X86_REG_R15B:
		return PROBE_REG_R15;
	}
	return -1;
}

static const char *const reg_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

static bool in_group(const cs_insn *insn, uint8_t grp)
{
	const cs_detail *d = insn->detail;
	int i;

	for (i = 0; i < d->groups_count; i++)
		if (d->groups[i] == grp)
			return true;
	return false;
}

static bool is_branch(const cs_insn *insn)
{
	return in_group(insn, X86_GRP_JUMP) || in_group(insn, X86_GRP_CALL) ||
	       in_group(insn, X86_GRP_RET) || in_group(insn, X86_GRP_INT) ||
	       in_group(insn, X86_GRP_IRET) || in_group(insn, X86_GRP_BRANCH_RELATIVE);
}

/* Straight-line integer instructions whose effects cs_regs_access() covers. */
static bool understood(const cs_insn *insn)
{
	switch (insn->id) {
	case X86_INS_MOV: case X86_INS_MOVABS: case X86_INS_MOVZX: case X86_INS_MOVSX:
	case X86_INS_MOVSXD: case X86_INS_LEA: case X86_INS_TEST: case X86_INS_CMP:
	case X86_INS_ADD: case X86_INS_SUB: case X86_INS_AND: case X86_INS_OR:
	case X86_INS_XOR: case X86_INS_INC: case X86_INS_DEC: case X86_INS_NEG:
	case X86_INS_NOT: case X86_INS_SHL: case X86_INS_SHR: case X86_INS_SAR:
	case X86_INS_IMUL: case X86_INS_MUL: case X86_INS_PUSH: case X86_INS_NOP:
	case X86_INS_ENDBR64: case X86_INS_BT: case X86_INS_CDQE: case X86_INS_CQO:
	case X86_INS_PREFETCHT0: case X86_INS_PREFETCHT1: case X86_INS_PREFETCHT2:
	case X86_INS_PREFETCHNTA: case X86_INS_PREFETCHW:
		return true;
	}
	return !strncmp(insn->mnemonic, "cmov", 4) || !strncmp(insn->mnemonic, "set", 3);
}

/*
 * May @insn run before the probe? Returns NULL and updates *@sp_delta
 * when it may, else why not (static text). @why_reg names a register.
 */
static const char *check_skippable(csh h, const cs_insn *insn, unsigned int mask,
				   int32_t *sp_delta, const char **why_reg)
{
	const cs_x86 *x = &insn->detail->x86;
	uint8_t nr_read, nr_write, i;
	cs_regs rd, wr;

	if (is_branch(insn))
		return "branches";
	if (!understood(insn))
		return "not understood";
	for (i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type == X86_OP_MEM && (op->access & CS_AC_WRITE))
			return op->mem.base == X86_REG_RIP ? "writes memory (rip-relative)"
							   : "writes memory";
	}
	if (cs_regs_access(h, insn, rd, &nr_read, wr, &nr_write) != CS_ERR_OK)
		return "not understood";
	for (i = 0; i < nr_write; i++) {
		int r = gpr_index(wr[i]);

		if (r < 0)
			continue;
		if (r == PROBE_REG_RSP) {
			const cs_x86_op *o = x->operands;

			if (insn->id == X86_INS_PUSH && insn->size <= 2 && x->prefix[2] != 0x66)
				*sp_delta += 8;
			else if ((insn->id == X86_INS_SUB || insn->id == X86_INS_ADD) &&
				 x->op_count == 2 && o[0].type == X86_OP_REG &&
				 o[0].reg == X86_REG_RSP && o[1].type == X86_OP_IMM &&
				 o[1].imm >= 0 && o[1].imm < 0x100000)
				*sp_delta += insn->id == X86_INS_SUB ? (int32_t)o[1].imm
								     : -(int32_t)o[1].imm;
			else
				return "moves rsp in a way not tracked";
			if (*sp_delta < 0)
				return "moves rsp above the entry";
			continue;
		}
		if (mask & PROBE_REG_BIT(r)) {
			*why_reg = reg_names[r];
			return "writes probed register";
		}
	}
	return NULL;
}

/* Targets in (lo, hi] of direct branches or rip-relative references in [start, end). */
static int scan_function(csh h, const uint8_t *code, size_t len, uint64_t start,
			 uint64_t lo, uint64_t hi, uint64_t *from)
{
	cs_insn *insn = cs_malloc(h);
	uint64_t addr = start;
	size_t left = len;
	int found = 0;

	if (!insn)
		return -ENOMEM;
	while (left && !found) {
		const cs_x86 *x;
		uint8_t i;

		if (!cs_disasm_iter(h, &code, &left, &addr, insn)) {
			found = -EILSEQ;
			break;
		}
		x = &insn->detail->x86;
		for (i = 0; i < x->op_count; i++) {
			const cs_x86_op *op = &x->operands[i];
			uint64_t t;

			if (op->type == X86_OP_IMM && is_branch(insn))
				t = op->imm;
			else if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP)
				t = insn->address + insn->size + op->mem.disp;
			else
				continue;
			if (t > lo && t <= hi) {
				*from = insn->address;
				found = 1;
			}
		}
	}
	cs_free(insn, 1);
	return found;
}

static int32_t le32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24);
}

/*
 * Any e8/e9/0f8x rel32 in the executable segments (outside the function
 * [fstart, fend)) whose target is in (lo, hi]? Byte-wise, so it may see
 * branches that are not there (in the middle of other instructions): that
 * only costs a fallback, and a 4-byte displacement hitting a window of a
 * few bytes by chance is rare.
 */
static bool scan_rel32(const struct elf_funcs *e, uint64_t fstart, uint64_t fend,
		       uint64_t lo, uint64_t hi, uint64_t *from)
{
	const struct elf_seg *segs;
	size_t n = elf_funcs__segments(e, &segs), s;

	for (s = 0; s < n; s++) {
		const uint8_t *p;
		uint64_t i;

		if (!(segs[s].flags & PF_X) || segs[s].filesz < 6)
			continue;
		p = elf_funcs__bytes(e, segs[s].offset, segs[s].filesz);
		if (!p)
			continue;
		for (i = 0; i + 6 <= segs[s].filesz; i++) {
			uint64_t at = segs[s].vaddr + i, t;

			if (p[i] == 0xe8 || p[i] == 0xe9)
				t = at + 5 + (int64_t)le32(p + i + 1);
			else if (p[i] == 0x0f && (p[i + 1] & 0xf0) == 0x80)
				t = at + 6 + (int64_t)le32(p + i + 2);
			else
				continue;
			if (t > lo && t <= hi && (at < fstart || at >= fend)) {
				*from = at;
				return true;
			}
		}
	}
	return false;
}

static bool kernel_sees_entry(const uint8_t *c, size_t n)
{
	static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };

	return (n >= 1 && c[0] == 0x55) || (n == 4 && !memcmp(c, endbr64, 4));
}

static void insn_text(const cs_insn *insn, char *buf, size_t len)
{
	snprintf(buf, len, "%.20s%s%.40s", insn->mnemonic, insn->op_str[0] ? " " : "",
		 insn->op_str);
}

/* What walk_prefix() found. */
struct walk {
	uint64_t chosen;		/* address of the probe point, 0: fall back */
	int32_t sp;			/* sp_delta at chosen */
	uint32_t ninsn;			/* instructions skipped */
	const uint8_t *entry_code, *chosen_code;
	size_t entry_len, chosen_len;
	char entry_text[PROBE_PLACE_INSN_MAX];
};

/*
 * Walk from the entry to the first instruction the kernel emulates, as
 * long as every instruction before it may run before the probe. Fills
 * @w and, on the way, r->entry_cls, r->cls, r->insn; on a fall back
 * leaves w->chosen 0 and says why in r->reason.
 */
static void walk_prefix(csh h, cs_insn *insn, const uint8_t *code, size_t window,
			const struct elf_func *f, unsigned int mask, struct walk *w,
			struct probe_place *r)
{
	char text[PROBE_PLACE_INSN_MAX];
	uint64_t addr = f->vaddr;
	const uint8_t *p = code;
	size_t left = window;
	int32_t sp = 0;

	for (w->ninsn = 0; w->ninsn < PROBE_PLACE_MAX_INSNS; w->ninsn++) {
		const char *why, *why_reg = NULL;
		const uint8_t *at = p;
		enum probe_insn_class cls;

		if (!cs_disasm_iter(h, &p, &left, &addr, insn)) {
			snprintf(r->reason, sizeof(r->reason), "entry: cannot decode at +0x%" PRIx64,
				 (uint64_t)(at - code));
			return;
		}
		cls = classify_bytes(at, insn->size, insn->address);
		insn_text(insn, text, sizeof(text));
		if (!w->ninsn) {
			r->entry_cls = cls;
			w->entry_code = at;
			w->entry_len = insn->size;
			memcpy(w->entry_text, text, sizeof(text));
		}
		/* push %rbp with sp moved: the kernel would take [sp] as our caller */
		if ((cls == PROBE_INSN_EMULATED || cls == PROBE_INSN_OPTIMIZED) &&
		    !(at[0] == 0x55 && sp != 0)) {
			w->chosen = insn->address;
			w->sp = sp;
			w->chosen_code = at;
			w->chosen_len = insn->size;
			r->cls = cls;
			memcpy(r->insn, text, sizeof(text));
			return;
		}
		why = check_skippable(h, insn, mask, &sp, &why_reg);
		if (why) {
			snprintf(r->reason, sizeof(r->reason), "entry: +0x%" PRIx64 " %s %s%s%s",
				 insn->address - f->vaddr, text, why, why_reg ? " " : "",
				 why_reg ? why_reg : "");
			return;
		}
	}
	snprintf(r->reason, sizeof(r->reason), "entry: no emulated instruction in the first %u",
		 PROBE_PLACE_MAX_INSNS);
}

/*
 * Can execution arrive inside (entry, chosen] other than by falling
 * through from the entry? Returns 1 (sets *@from), 0, -ENOMEM, or -EILSEQ
 * when the function does not decode.
 */
static int prefix_entered(csh h, const struct elf_funcs *e, const struct elf_func *f,
			  const uint8_t *code, uint64_t chosen, uint64_t *from)
{
	const uint8_t *body = f->size ? elf_funcs__bytes(e, f->offset, f->size) : code;
	size_t len = f->size ? f->size : chosen - f->vaddr;
	int found;

	if (!body)
		return -EILSEQ;
	found = scan_function(h, body, len, f->vaddr, f->vaddr, chosen, from);
	if (found)
		return found;
	return scan_rel32(e, f->vaddr, f->vaddr + (f->size ? f->size : 1), f->vaddr, chosen, from);
}

int probe_place__choose(const struct elf_funcs *e, const struct elf_func *f,
			unsigned int arg_reg_mask, struct probe_place *out)
{
	struct probe_place r = { 0 };
	struct walk w = { 0 };
	const uint8_t *code;
	uint64_t from = 0;
	cs_insn *insn;
	size_t window;
	int err;
	csh h;

	if (!e || !f || !out)
		return -EINVAL;
	window = f->size && f->size < PREFIX_WINDOW ? f->size : PREFIX_WINDOW;
	code = elf_funcs__bytes(e, f->offset, window);
	if (!code && !f->size)
		code = elf_funcs__bytes(e, f->offset, window = 16);
	if (!code)
		return -ERANGE;

	r.offset = f->offset;
	r.vaddr = f->vaddr;
	if (elf_funcs__machine(e) != EM_X86_64) {
		snprintf(r.reason, sizeof(r.reason), "entry: not an x86-64 file");
		r.uretprobe_ok = true;
		*out = r;
		return 0;
	}
	err = open_decoder(&h);
	if (err)
		return err;
	insn = cs_malloc(h);
	if (!insn) {
		err = -ENOMEM;
		goto close_decoder;
	}

	walk_prefix(h, insn, code, window, f, arg_reg_mask, &w, &r);
	if (w.chosen == f->vaddr) {
		snprintf(r.reason, sizeof(r.reason), "entry: %s by the kernel",
			 probe_place__class_str(r.cls));
	} else if (w.chosen) {
		err = prefix_entered(h, e, f, code, w.chosen, &from);
		if (err == -ENOMEM)
			goto free_insn;
		if (err < 0)
			snprintf(r.reason, sizeof(r.reason), "entry: the function does not decode");
		else if (err)
			snprintf(r.reason, sizeof(r.reason),
				 "entry: 0x%" PRIx64 " branches into the skipped prefix", from);
		if (err)
			w.chosen = 0;
	}

	if (w.chosen && w.chosen != f->vaddr) {
		r.offset = f->offset + (w.chosen - f->vaddr);
		r.vaddr = w.chosen;
		r.skipped = w.chosen - f->vaddr;
		r.skipped_insns = w.ninsn;
		r.sp_delta = w.sp;
		r.kernel_adds_caller = w.sp == 0 && kernel_sees_entry(w.chosen_code, w.chosen_len);
		snprintf(r.reason, sizeof(r.reason),
			 "+0x%x: skipped %u %s (entry %s was %s), sp_delta %d", r.skipped, w.ninsn,
			 w.ninsn == 1 ? "insn" : "insns", w.entry_text,
			 probe_place__class_str(r.entry_cls), r.sp_delta);
	} else {
		/* the entry, whole: whatever the walk had put in r is reset */
		r.cls = w.entry_code ? r.entry_cls : PROBE_INSN_REJECTED;
		r.entry_cls = r.cls;
		memcpy(r.insn, w.entry_text, sizeof(w.entry_text));
		r.kernel_adds_caller = w.entry_code && kernel_sees_entry(w.entry_code, w.entry_len);
	}
	r.uretprobe_ok = r.sp_delta == 0;
	*out = r;
	err = 0;
free_insn:
	cs_free(insn, 1);
close_decoder:
	cs_close(&h);
	return err;
}

/* SPDX-License-Identifier: MIT */
/*
 * probe_place.h - choose where in a function to put an entry uprobe so
 * that each hit costs one trap, not two.
 *
 * On x86-64 a uprobe hit traps (int3); the kernel then either emulates the
 * probed instruction or single-steps a copy of it out of line, which costs
 * a second trap. Linux 6.18 emulates: the canonical nops (x86_nops[1..8]),
 * any prefixed 0x90, jmp rel8/rel32, call rel32, jcc rel8/rel32, and
 * "push reg" (50+r, or 41 50+r for r8..r15). A 5-byte nop is optimized
 * after its first hit into a call to the uprobe trampoline (a syscall,
 * not a trap; measured 0.6 us against 0.8 us for an emulated nop).
 * Everything else is single-stepped (test, mov, cmp, sub, endbr64...), and
 * instructions with a cs/ds/es/ss or lock prefix, or branches with a 0x66
 * prefix, cannot be probed at all.
 *
 * probe_place__choose() decodes the first instructions of a function and
 * moves the probe forward to the first instruction the kernel emulates,
 * as long as every instruction it skips is straight-line code that writes
 * none of the registers the probe reads and no memory except by push. It
 * reports how far the stack pointer moved (pushes, sub/add imm on rsp),
 * so the probe can still find the entry stack pointer and the return
 * address: entry_sp = probe_sp + sp_delta. When unsure it keeps the entry.
 *
 * Measured here (tools/bench-probe-place.sh, bare uprobe on libc): free's
 * entry "test %rdi,%rdi" is single-stepped, 11.5 us a call; its "je" at
 * +3, chosen, 0.7 us. At the chosen point the masked registers still hold
 * their entry values; the return address is at entry_sp.
 */
#ifndef MEMTRACE_PROBE_PLACE_H
#define MEMTRACE_PROBE_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target/elf_funcs.h"

/* x86-64 general registers, in encoding order; bit positions of a reg mask. */
enum probe_reg {
	PROBE_REG_RAX, PROBE_REG_RCX, PROBE_REG_RDX, PROBE_REG_RBX,
	PROBE_REG_RSP, PROBE_REG_RBP, PROBE_REG_RSI, PROBE_REG_RDI,
	PROBE_REG_R8, PROBE_REG_R9, PROBE_REG_R10, PROBE_REG_R11,
	PROBE_REG_R12, PROBE_REG_R13, PROBE_REG_R14, PROBE_REG_R15,
};

#define PROBE_REG_BIT(r)	(1u << (r))

/*
 * Mask of the first @n SysV argument registers (rdi, rsi, rdx, rcx, r8,
 * r9): PROBE_ARG_REGS(1) for free, (2) for calloc, (3) for posix_memalign.
 * Add PROBE_REG_BIT(PROBE_REG_RBP) when the probe walks frame pointers.
 */
#define PROBE_ARG_REGS(n)	probe_place__arg_regs(n)

/* How Linux (6.18, x86-64) handles a uprobe on one instruction. */
enum probe_insn_class {
	PROBE_INSN_STEPPED,	/* copied and single-stepped: two traps a hit */
	PROBE_INSN_EMULATED,	/* emulated in the trap handler: one trap a hit */
	PROBE_INSN_OPTIMIZED,	/* nop5: becomes a call to the uprobe trampoline */
	PROBE_INSN_REJECTED,	/* registration fails on it, or (xchg %r8,%rax,
				   41 90) 6.18 would emulate it wrongly as a nop */
};

#define PROBE_PLACE_MAX_INSNS	16	/* instructions examined from the entry */
#define PROBE_PLACE_INSN_MAX	64
#define PROBE_PLACE_REASON_MAX	160

/* What probe_place__choose() decided. */
struct probe_place {
	uint64_t offset;	/* file offset to attach the uprobe at */
	uint64_t vaddr;		/* the same point as an ELF address */
	uint32_t skipped;	/* bytes skipped from the entry (0: at entry) */
	uint32_t skipped_insns;	/* instructions skipped */
	int32_t sp_delta;	/* entry_sp = sp at the probe + sp_delta (>= 0) */
	enum probe_insn_class cls;	/* of the probed instruction */
	enum probe_insn_class entry_cls; /* of the entry instruction */
	/*
	 * The kernel's user stack walker treats the probed instruction as a
	 * function entry (push %rbp or endbr64) and itself reports [sp] as
	 * the caller. Only ever true with sp_delta == 0.
	 */
	bool kernel_adds_caller;
	/*
	 * A uretprobe may share this offset: [sp] still holds the return
	 * address (sp_delta == 0). Otherwise attach the uretprobe at the
	 * entry: the kernel would overwrite a pushed register instead.
	 */
	bool uretprobe_ok;
	char insn[PROBE_PLACE_INSN_MAX];	/* probed instruction, "je 0x98fb8" */
	char reason[PROBE_PLACE_REASON_MAX];	/* why here, for -v logs */
};

/* Mask of the first @n (0..6) SysV integer argument registers. */
unsigned int probe_place__arg_regs(int n);

/*
 * Choose the probe point for function @f of @e (from elf_funcs__find())
 * whose probe reads the registers in @arg_reg_mask (PROBE_REG_BIT bits)
 * and fill @out. Falls back to the entry (out->offset == f->offset,
 * reason says why) when the entry is already emulated, when something
 * before the first emulated instruction branches, writes a masked
 * register, writes memory, moves rsp other than by push/sub/add imm, is
 * not understood, or when any direct branch in the function, or any rel32
 * branch in the file's executable segments, targets an instruction
 * inside the skipped range. Non-x86-64 files always get the entry.
 * Returns 0 (also on fallback), -EINVAL on NULL arguments, -ERANGE when
 * the function's bytes are not in the file, -ENOMEM when the decoder
 * cannot be opened. @out is written on success only.
 */
int probe_place__choose(const struct elf_funcs *e, const struct elf_func *f,
			unsigned int arg_reg_mask, struct probe_place *out);

/*
 * Classify the instruction at @code (at most @len bytes, decoded as
 * x86-64, at address @vaddr: only its page offset matters, for nop5)
 * the way Linux 6.18 arch/x86/kernel/uprobes.c would. Sets *@ilen to its
 * length when @ilen is not NULL. Returns PROBE_INSN_REJECTED for bytes
 * that do not decode. Cannot fail otherwise.
 */
enum probe_insn_class probe_place__classify(const uint8_t *code, size_t len, uint64_t vaddr,
					    size_t *ilen);

/* "stepped", "emulated", "optimized", "rejected"; "?" when out of range. */
const char *probe_place__class_str(enum probe_insn_class cls);

#endif /* MEMTRACE_PROBE_PLACE_H */

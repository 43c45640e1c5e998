// SPDX-License-Identifier: MIT
/*
 * test_probe_place.c - probe placement decisions.
 *
 * 1. classify(): raw instruction bytes -> what Linux 6.18 does with a
 *    uprobe on them (tools/bench-probe-place.sh measures the same list).
 * 2. Synthetic functions below, in this binary's own .text: one situation
 *    each (a branch back into the prefix, an argument register write, a
 *    push, endbr64, a rip-relative load or store...) with the exact
 *    expected decision.
 * 3. Real libraries (libc, libstdc++, jemalloc, tcmalloc when installed):
 *    the decision is checked against a second, independent model that
 *    reads objdump's AT&T text; plus the exact offsets for glibc 2.36.
 */
#include <errno.h>
#include <gnu/libc-version.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "target/elf_funcs.h"
#include "elf_tools.h"
#include "target/probe_place.h"

#define RDI	PROBE_REG_BIT(PROBE_REG_RDI)
#define RSI	PROBE_REG_BIT(PROBE_REG_RSI)
#define RDX	PROBE_REG_BIT(PROBE_REG_RDX)
#define RBP	PROBE_REG_BIT(PROBE_REG_RBP)

/* ---------------------------------------------------------------- classify */

struct cls_case {
	const char *name;
	const char *bytes;
	size_t len;		/* instruction length */
	uint64_t vaddr;
	enum probe_insn_class want;
};

#define CASE(n, b, va, w) { n, b, sizeof(b) - 1, va, w }

static const struct cls_case cls_cases[] = {
	CASE("nop", "\x90", 0x1000, PROBE_INSN_EMULATED),
	CASE("xchg %ax,%ax", "\x66\x90", 0x1000, PROBE_INSN_EMULATED),
	CASE("nopl (%rax)", "\x0f\x1f\x00", 0x1000, PROBE_INSN_EMULATED),
	CASE("nopl 0(%rax)", "\x0f\x1f\x40\x00", 0x1000, PROBE_INSN_EMULATED),
	CASE("nop5", "\x0f\x1f\x44\x00\x00", 0x1000, PROBE_INSN_OPTIMIZED),
	CASE("nop5 across a page", "\x0f\x1f\x44\x00\x00", 0x1ffd, PROBE_INSN_EMULATED),
	CASE("nopw 0(%rax,%rax)", "\x66\x0f\x1f\x44\x00\x00", 0x1000, PROBE_INSN_EMULATED),
	CASE("nop7", "\x0f\x1f\x80\x00\x00\x00\x00", 0x1000, PROBE_INSN_EMULATED),
	CASE("nop8", "\x0f\x1f\x84\x00\x00\x00\x00\x00", 0x1000, PROBE_INSN_EMULATED),
	CASE("cs nopw (nop10)", "\x66\x2e\x0f\x1f\x84\x00\x00\x00\x00\x00", 0x1000,
	     PROBE_INSN_REJECTED),
	CASE("nopw (%rax), not canonical", "\x66\x0f\x1f\x00", 0x1000, PROBE_INSN_STEPPED),
	CASE("pause", "\xf3\x90", 0x1000, PROBE_INSN_EMULATED),
	CASE("xchg %r8,%rax (REX.B 90)", "\x41\x90", 0x1000, PROBE_INSN_REJECTED),
	CASE("push %rbx", "\x53", 0x1000, PROBE_INSN_EMULATED),
	CASE("push %rbp", "\x55", 0x1000, PROBE_INSN_EMULATED),
	CASE("push %r12", "\x41\x54", 0x1000, PROBE_INSN_EMULATED),
	CASE("rex.W push %rbx", "\x48\x53", 0x1000, PROBE_INSN_STEPPED),
	CASE("pushw %bx", "\x66\x53", 0x1000, PROBE_INSN_STEPPED),
	CASE("jmp rel8", "\xeb\x00", 0x1000, PROBE_INSN_EMULATED),
	CASE("jmp rel32", "\xe9\x00\x00\x00\x00", 0x1000, PROBE_INSN_EMULATED),
	CASE("je rel8", "\x74\x10", 0x1000, PROBE_INSN_EMULATED),
	CASE("jp rel8", "\x7a\x10", 0x1000, PROBE_INSN_EMULATED),
	CASE("jne rel32", "\x0f\x85\x00\x01\x00\x00", 0x1000, PROBE_INSN_EMULATED),
	CASE("call rel32", "\xe8\x00\x01\x00\x00", 0x1000, PROBE_INSN_EMULATED),
	CASE("bnd jmp", "\xf2\xe9\x00\x01\x00\x00", 0x1000, PROBE_INSN_EMULATED),
	CASE("jmpw (66 e9)", "\x66\xe9\x00\x01", 0x1000, PROBE_INSN_REJECTED),
	CASE("endbr64", "\xf3\x0f\x1e\xfa", 0x1000, PROBE_INSN_STEPPED),
	CASE("test %rdi,%rdi", "\x48\x85\xff", 0x1000, PROBE_INSN_STEPPED),
	CASE("mov %rdi,%rax", "\x48\x89\xf8", 0x1000, PROBE_INSN_STEPPED),
	CASE("sub $8,%rsp", "\x48\x83\xec\x08", 0x1000, PROBE_INSN_STEPPED),
	CASE("cmpb $0,x(%rip)", "\x80\x3d\x10\x00\x00\x00\x00", 0x1000, PROBE_INSN_STEPPED),
	CASE("jmp *%rax", "\xff\xe0", 0x1000, PROBE_INSN_STEPPED),
	CASE("notrack jmp *%rax", "\x3e\xff\xe0", 0x1000, PROBE_INSN_REJECTED),
	CASE("ret", "\xc3", 0x1000, PROBE_INSN_STEPPED),
	CASE("lock incl (%rdi)", "\xf0\xff\x07", 0x1000, PROBE_INSN_REJECTED),
	CASE("int3", "\xcc", 0x1000, PROBE_INSN_REJECTED),
	CASE("syscall", "\x0f\x05", 0x1000, PROBE_INSN_REJECTED),
	CASE("ud2", "\x0f\x0b", 0x1000, PROBE_INSN_REJECTED),
	CASE("mov %eax,%ss", "\x8e\xd0", 0x1000, PROBE_INSN_REJECTED),
	CASE("vzeroupper", "\xc5\xf8\x77", 0x1000, PROBE_INSN_STEPPED),
};

static void test_classify(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cls_cases) / sizeof(cls_cases[0]); i++) {
		const struct cls_case *c = &cls_cases[i];
		uint8_t buf[16] = { 0 };
		enum probe_insn_class got;
		size_t ilen;

		memcpy(buf, c->bytes, c->len);
		buf[c->len] = 0xc3;	/* something after it */
		got = probe_place__classify(buf, c->len + 1, c->vaddr, &ilen);
		if (got != c->want || ilen != c->len)
			fail_msg("%s: got %s len %zu, want %s len %zu", c->name,
				 probe_place__class_str(got), ilen,
				 probe_place__class_str(c->want), c->len);
	}
}

static void test_classify_edges(void **state)
{
	size_t ilen = 99;

	(void)state;
	/* truncated: does not decode */
	assert_int_equal(probe_place__classify((const uint8_t *)"\x0f\x85\x00", 3, 0, &ilen),
			 PROBE_INSN_REJECTED);
	assert_int_equal(ilen, 0);
	assert_int_equal(probe_place__classify(NULL, 4, 0, NULL), PROBE_INSN_REJECTED);
	assert_int_equal(probe_place__classify((const uint8_t *)"\x90", 0, 0, NULL),
			 PROBE_INSN_REJECTED);
	assert_string_equal(probe_place__class_str(PROBE_INSN_STEPPED), "stepped");
	assert_string_equal(probe_place__class_str(PROBE_INSN_OPTIMIZED), "optimized");
	assert_string_equal(probe_place__class_str((enum probe_insn_class)42), "?");
}

static void test_arg_regs(void **state)
{
	(void)state;
	assert_int_equal(PROBE_ARG_REGS(0), 0);
	assert_int_equal(PROBE_ARG_REGS(1), RDI);
	assert_int_equal(PROBE_ARG_REGS(3), RDI | RSI | RDX);
	assert_int_equal(PROBE_ARG_REGS(6), RDI | RSI | RDX | PROBE_REG_BIT(PROBE_REG_RCX) |
						PROBE_REG_BIT(PROBE_REG_R8) |
						PROBE_REG_BIT(PROBE_REG_R9));
	assert_int_equal(PROBE_ARG_REGS(9), PROBE_ARG_REGS(6));
}

/* ------------------------------------------------------ synthetic functions */

/* Never executed: only decoded from this binary's file. */
__asm__(
	".text\n"
	".p2align 6\n"
	"pp_data: .quad 0\n"
#define FN(name, body) ".p2align 4\n.globl " #name "\n.type " #name ",@function\n" \
	#name ":\n" body "\n.size " #name ", .-" #name "\n"
	FN(pp_push_entry, "push %rbx\npop %rbx\nret")
	FN(pp_test_je, "test %rdi,%rdi\nje 1f\nnop\n1: ret")
	FN(pp_branch_back, "test %rdi,%rdi\n1: je 2f\ndec %rdi\njmp 1b\n2: ret")
	FN(pp_loop_to_entry, "test %rdi,%rdi\nje 2f\ndec %rdi\njmp pp_loop_to_entry\n2: ret")
	FN(pp_arg_write, "mov %rsi,%rdi\npush %rbx\npop %rbx\nret")
	FN(pp_subreg_write, "mov %edx,%esi\npush %rbx\npop %rbx\nret")
	FN(pp_scratch_write, "xor %eax,%eax\npush %rbx\npop %rbx\nret")
	FN(pp_sub_push, "sub $0x18,%rsp\npush %rbx\npop %rbx\nadd $0x18,%rsp\nret")
	FN(pp_sub_push_rbp, "sub $8,%rsp\npush %rbp\nmov %rsp,%rbp\npush %rbx\npop %rbx\n"
			    "pop %rbp\nadd $8,%rsp\nret")
	FN(pp_endbr_push_rbp, "endbr64\npush %rbp\npop %rbp\nret")
	FN(pp_endbr_push_r12, "endbr64\npush %r12\npop %r12\nret")
	FN(pp_endbr_arg_write, "endbr64\nmov %rsi,%rdi\npush %rbx\npop %rbx\nret")
	FN(pp_rip_load, "mov pp_data(%rip),%rax\npush %rbx\npop %rbx\nret")
	FN(pp_rip_store, "mov %rax,pp_data(%rip)\npush %rbx\npop %rbx\nret")
	FN(pp_stack_store, "mov %rdi,-8(%rsp)\npush %rbx\npop %rbx\nret")
	FN(pp_lea_into_prefix, "lea 1f(%rip),%rax\n1: push %rbx\npop %rbx\nret")
	FN(pp_unknown, "cpuid\npush %rbx\npop %rbx\nret")
	FN(pp_mul, "mul %rsi\npush %rbx\npop %rbx\nret")
	FN(pp_rsp_align, "and $-16,%rsp\npush %rbx\npop %rbx\nret")
	FN(pp_nop5_entry, ".byte 0x0f,0x1f,0x44,0,0\nret")
	FN(pp_cs_nop_entry, ".byte 0x66,0x2e,0x0f,0x1f,0x84,0,0,0,0,0\npush %rbx\npop %rbx\nret")
	FN(pp_long_prefix, ".rept 17\nmov %rax,%rcx\n.endr\npush %rbx\npop %rbx\nret")
	FN(pp_far_target, "test %rdi,%rdi\nje 1f\nnop\n1: ret")
	FN(pp_far_jumper, "test %rax,%rax\n.byte 0xe9\n.long pp_far_target + 3 - (. + 4)\nret")
	FN(pp_ret_first, "ret\npush %rbx\nret")
#undef FN
);

struct syn_case {
	const char *func;
	unsigned int mask;
	uint32_t skip;		/* expected bytes from the entry (0: at entry) */
	int32_t sp_delta;
	enum probe_insn_class cls;
	bool kernel_adds_caller;
	const char *reason;	/* substring of out->reason */
};

static const struct syn_case syn_cases[] = {
	{ "pp_push_entry", RDI, 0, 0, PROBE_INSN_EMULATED, false, "entry: emulated" },
	{ "pp_test_je", RDI, 3, 0, PROBE_INSN_EMULATED, false, "skipped 1 insn" },
	{ "pp_branch_back", RDI, 0, 0, PROBE_INSN_STEPPED, false, "branches into the skipped" },
	{ "pp_loop_to_entry", RDI, 3, 0, PROBE_INSN_EMULATED, false, "skipped 1 insn" },
	{ "pp_arg_write", RDI, 0, 0, PROBE_INSN_STEPPED, false, "writes probed register rdi" },
	{ "pp_arg_write", RSI, 3, 0, PROBE_INSN_EMULATED, false, "skipped 1 insn" },
	{ "pp_subreg_write", RDI, 2, 0, PROBE_INSN_EMULATED, false, "skipped 1 insn" },
	{ "pp_subreg_write", RDI | RSI, 0, 0, PROBE_INSN_STEPPED, false,
	  "writes probed register rsi" },
	{ "pp_scratch_write", RDI | RSI | RDX, 2, 0, PROBE_INSN_EMULATED, false, "skipped" },
	{ "pp_sub_push", RDI, 4, 0x18, PROBE_INSN_EMULATED, false, "sp_delta 24" },
	/* push %rbp with rsp moved is not taken (the kernel would report [sp] as caller) */
	{ "pp_sub_push_rbp", RDI, 8, 16, PROBE_INSN_EMULATED, false, "skipped 3 insns" },
	{ "pp_sub_push_rbp", RDI | RBP, 0, 0, PROBE_INSN_STEPPED, false,
	  "writes probed register rbp" },
	{ "pp_endbr_push_rbp", RDI, 4, 0, PROBE_INSN_EMULATED, true, "entry endbr64 was stepped" },
	{ "pp_endbr_push_r12", RDI, 4, 0, PROBE_INSN_EMULATED, false, "skipped 1 insn" },
	{ "pp_endbr_arg_write", RDI, 0, 0, PROBE_INSN_STEPPED, true, "rdi" },
	{ "pp_rip_load", RDI, 7, 0, PROBE_INSN_EMULATED, false, "skipped 1 insn" },
	{ "pp_rip_store", RDI, 0, 0, PROBE_INSN_STEPPED, false, "writes memory (rip-relative)" },
	{ "pp_stack_store", RDI, 0, 0, PROBE_INSN_STEPPED, false, "writes memory" },
	{ "pp_lea_into_prefix", RDI, 0, 0, PROBE_INSN_STEPPED, false, "branches into" },
	{ "pp_unknown", RDI, 0, 0, PROBE_INSN_STEPPED, false, "cpuid not understood" },
	{ "pp_mul", RDI | RSI | RDX, 0, 0, PROBE_INSN_STEPPED, false, "probed register rdx" },
	{ "pp_mul", RDI | RSI, 3, 0, PROBE_INSN_EMULATED, false, "skipped 1 insn" },
	{ "pp_rsp_align", RDI, 0, 0, PROBE_INSN_STEPPED, false, "rsp in a way not tracked" },
	{ "pp_nop5_entry", RDI, 0, 0, PROBE_INSN_OPTIMIZED, false, "entry: optimized" },
	{ "pp_cs_nop_entry", RDI, 10, 0, PROBE_INSN_EMULATED, false, "was rejected" },
	{ "pp_long_prefix", RDI, 0, 0, PROBE_INSN_STEPPED, false, "no emulated instruction" },
	{ "pp_far_target", RDI, 0, 0, PROBE_INSN_STEPPED, false, "branches into the skipped" },
	{ "pp_ret_first", RDI, 0, 0, PROBE_INSN_STEPPED, false, "ret branches" },
};

struct self_state {
	char path[4096];
	struct elf_funcs *e;
};

static int self_setup(void **state)
{
	static struct self_state st;
	ssize_t n = readlink("/proc/self/exe", st.path, sizeof(st.path) - 1);

	if (n < 0)
		return -1;
	st.path[n] = '\0';
	st.e = elf_funcs__open(st.path);
	if (!st.e)
		return -1;
	*state = &st;
	return 0;
}

static int self_teardown(void **state)
{
	struct self_state *st = *state;

	elf_funcs__close(st->e);
	st->e = NULL;
	return 0;
}

static void test_synthetic(void **state)
{
	struct self_state *st = *state;
	size_t i;

	for (i = 0; i < sizeof(syn_cases) / sizeof(syn_cases[0]); i++) {
		const struct syn_case *c = &syn_cases[i];
		struct probe_place pp;
		struct elf_func f;

		if (elf_funcs__find(st->e, c->func, &f))
			fail_msg("%s: not found in %s", c->func, st->path);
		assert_int_equal(probe_place__choose(st->e, &f, c->mask, &pp), 0);
		if (pp.offset != f.offset + c->skip || pp.skipped != c->skip ||
		    pp.vaddr != f.vaddr + c->skip || pp.sp_delta != c->sp_delta ||
		    pp.cls != c->cls || pp.kernel_adds_caller != c->kernel_adds_caller ||
		    !strstr(pp.reason, c->reason))
			fail_msg("%s mask %#x: got +%u sp_delta %d %s caller %d \"%s\" (%s); "
				 "want +%u sp_delta %d %s caller %d \"%s\"",
				 c->func, c->mask, pp.skipped, pp.sp_delta,
				 probe_place__class_str(pp.cls), pp.kernel_adds_caller, pp.reason,
				 pp.insn, c->skip, c->sp_delta, probe_place__class_str(c->cls),
				 c->kernel_adds_caller, c->reason);
		assert_int_equal(pp.uretprobe_ok, pp.sp_delta == 0);
		if (!c->skip) {		/* a fallback is the entry, whole */
			assert_int_equal(pp.skipped_insns, 0);
			assert_int_equal(pp.cls, pp.entry_cls);
		}
		assert_true(pp.insn[0] != '\0');
	}
}

static void test_choose_errors(void **state)
{
	struct self_state *st = *state;
	struct probe_place pp = { .offset = 7 };
	struct elf_func f;

	assert_int_equal(elf_funcs__find(st->e, "pp_test_je", &f), 0);
	assert_int_equal(probe_place__choose(NULL, &f, RDI, &pp), -EINVAL);
	assert_int_equal(probe_place__choose(st->e, NULL, RDI, &pp), -EINVAL);
	assert_int_equal(probe_place__choose(st->e, &f, RDI, NULL), -EINVAL);
	f.offset = ~0ull - 8;	/* not in the file */
	assert_int_equal(probe_place__choose(st->e, &f, RDI, &pp), -ERANGE);
	assert_int_equal(pp.offset, 7);	/* untouched */
}

/* ------------------------------------------------- real libraries vs objdump */

enum { OR_CHOSEN, OR_ENTRY, OR_UNKNOWN };

static int reg_family(const char *r)
{
	static const char *const names[16][4] = {
		{ "rax", "eax", "ax", "al" }, { "rcx", "ecx", "cx", "cl" },
		{ "rdx", "edx", "dx", "dl" }, { "rbx", "ebx", "bx", "bl" },
		{ "rsp", "esp", "sp", "spl" }, { "rbp", "ebp", "bp", "bpl" },
		{ "rsi", "esi", "si", "sil" }, { "rdi", "edi", "di", "dil" },
		{ "r8", "r8d", "r8w", "r8b" }, { "r9", "r9d", "r9w", "r9b" },
		{ "r10", "r10d", "r10w", "r10b" }, { "r11", "r11d", "r11w", "r11b" },
		{ "r12", "r12d", "r12w", "r12b" }, { "r13", "r13d", "r13w", "r13b" },
		{ "r14", "r14d", "r14w", "r14b" }, { "r15", "r15d", "r15w", "r15b" },
	};
	int i, j;

	if (*r != '%')
		return -1;
	for (i = 0; i < 16; i++)
		for (j = 0; j < 4; j++)
			if (!strcmp(r + 1, names[i][j]))
				return i;
	return -1;
}

static bool starts(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* The oracle's own idea of "the kernel emulates this", from objdump text. */
static bool oracle_emulated(const struct tinsn *t)
{
	static const char *const nops[9] = {
		NULL, "\x90", "\x66\x90", "\x0f\x1f\x00", "\x0f\x1f\x40\x00",
		"\x0f\x1f\x44\x00\x00", "\x66\x0f\x1f\x44\x00\x00",
		"\x0f\x1f\x80\x00\x00\x00\x00", "\x0f\x1f\x84\x00\x00\x00\x00\x00",
	};

	if (t->len <= 8 && t->len > 0 && !memcmp(t->bytes, nops[t->len], t->len))
		return true;
	if (!strcmp(t->mnem, "push") && t->ops[0] == '%' &&
	    (t->len == 1 || (t->len == 2 && t->bytes[0] == 0x41)))
		return true;
	if ((t->mnem[0] == 'j' || !strcmp(t->mnem, "call")) && t->ops[0] != '*' &&
	    t->bytes[0] != 0x66)
		return true;
	return false;
}

/* 1: may run before the probe, 0: may not, -1: the oracle does not know. */
static int oracle_skip(const struct tinsn *t, unsigned int mask, int *sp)
{
	static const char *const alu[] = {
		"mov", "lea", "add", "sub", "and", "or", "xor", "shl", "shr", "sar",
		"imul", "inc", "dec", "neg", "not",
	};
	const char *m = t->mnem, *dest;
	char buf[160];
	size_t i;
	int r;

	if (m[0] == '?' || starts(m, "cmpxchg") || starts(m, "movs") || starts(m, "stos"))
		return -1;
	if (starts(m, "test") || starts(m, "cmp") || !strcmp(m, "endbr64") || starts(m, "nop"))
		return 1;
	if (!strcmp(m, "push")) {
		*sp += 8;
		return 1;
	}
	if (starts(m, "mul")) {
		return (mask & (RDX | PROBE_REG_BIT(PROBE_REG_RAX))) ? 0 : 1;
	}
	for (i = 0; i < sizeof(alu) / sizeof(alu[0]); i++)
		if (starts(m, alu[i]))
			break;
	if (i == sizeof(alu) / sizeof(alu[0]))
		return -1;
	snprintf(buf, sizeof(buf), "%s", t->ops);
	buf[strcspn(buf, "#")] = '\0';
	while (*buf && buf[strlen(buf) - 1] == ' ')
		buf[strlen(buf) - 1] = '\0';
	dest = strrchr(buf, ',');
	dest = dest ? dest + 1 : buf;
	if (strchr(dest, '('))
		return 0;		/* memory write */
	r = reg_family(dest);
	if (r < 0)
		return -1;
	if (r == PROBE_REG_RSP) {
		unsigned long imm;

		if (sscanf(buf, "$0x%lx,%%rsp", &imm) == 1 && (starts(m, "sub") || starts(m, "add"))) {
			*sp += starts(m, "sub") ? (int)imm : -(int)imm;
			return 1;
		}
		return 0;
	}
	return (mask & PROBE_REG_BIT(r)) ? 0 : 1;
}

/* Branch or rip-relative reference targets in (lo, hi] anywhere in the function? */
static bool oracle_targets(const struct tinsn *body, int n, uint64_t lo, uint64_t hi)
{
	int i;

	for (i = 0; i < n; i++) {
		const struct tinsn *t = &body[i];
		const char *hash = strchr(t->ops, '#');
		uint64_t tgt;

		if ((t->mnem[0] == 'j' || !strcmp(t->mnem, "call")) && t->ops[0] != '*' &&
		    sscanf(t->ops, "%" SCNx64, &tgt) == 1 && tgt > lo && tgt <= hi)
			return true;
		if (hash && sscanf(hash + 1, " %" SCNx64, &tgt) == 1 && tgt > lo && tgt <= hi)
			return true;
	}
	return false;
}

/*
 * The expected decision for @f, from objdump alone. Sets *@vaddr and
 * *@sp for OR_CHOSEN.
 */
static int oracle(const char *path, const struct elf_func *f, unsigned int mask,
		  uint64_t *vaddr, int *sp)
{
	static struct tinsn body[8192];
	uint64_t end = f->vaddr + (f->size ? f->size : 64);
	int n, i, s = 0;

	n = tool_disasm(path, f->vaddr, end, body, 8192);
	if (n <= 0)
		return OR_UNKNOWN;
	for (i = 0; i < n && i < PROBE_PLACE_MAX_INSNS; i++) {
		int k;

		if (oracle_emulated(&body[i]) && !(body[i].bytes[0] == 0x55 && s)) {
			if (!i || oracle_targets(body, n, f->vaddr, body[i].addr))
				return OR_ENTRY;
			*vaddr = body[i].addr;
			*sp = s;
			return OR_CHOSEN;
		}
		k = oracle_skip(&body[i], mask, &s);
		if (k <= 0)
			return k ? OR_UNKNOWN : OR_ENTRY;
	}
	return OR_ENTRY;
}

struct lib_func {
	const char *name;
	int nargs;
};

/* Check every function of @lib against the oracle; returns how many were exact. */
static int check_lib(const char *lib, const struct lib_func *funcs, size_t n)
{
	struct elf_funcs *e = elf_funcs__open(lib);
	int exact = 0;
	size_t i;

	assert_non_null(e);
	for (i = 0; i < n; i++) {
		unsigned int mask = PROBE_ARG_REGS(funcs[i].nargs);
		struct probe_place pp;
		struct elf_func f;
		uint64_t want_va = 0;
		int want_sp = 0, v;

		if (elf_funcs__find(e, funcs[i].name, &f))
			fail_msg("%s: %s not found", lib, funcs[i].name);
		assert_int_equal(probe_place__choose(e, &f, mask, &pp), 0);
		v = oracle(lib, &f, mask, &want_va, &want_sp);
		switch (v) {
		case OR_CHOSEN:
			if (pp.vaddr != want_va || pp.sp_delta != want_sp ||
			    pp.offset != f.offset + (want_va - f.vaddr))
				fail_msg("%s %s: chose +%u sp_delta %d (%s), objdump says +%" PRIu64
					 " sp_delta %d", lib, funcs[i].name, pp.skipped,
					 pp.sp_delta, pp.reason, want_va - f.vaddr, want_sp);
			exact++;
			break;
		case OR_ENTRY:
			if (pp.offset != f.offset || pp.sp_delta)
				fail_msg("%s %s: chose +%u (%s), objdump says entry", lib,
					 funcs[i].name, pp.skipped, pp.reason);
			exact++;
			break;
		default:
			/* still: a moved probe sits on an emulated insn after straight code */
			if (pp.skipped) {
				struct tinsn t[PROBE_PLACE_MAX_INSNS + 1];
				int m = tool_disasm(lib, f.vaddr, pp.vaddr + 1, t,
						    PROBE_PLACE_MAX_INSNS + 1), k;

				assert_true(m > 1);
				assert_int_equal(t[m - 1].addr, pp.vaddr);
				assert_true(oracle_emulated(&t[m - 1]));
				for (k = 0; k < m - 1; k++)
					assert_false(t[k].mnem[0] == 'j' || starts(t[k].mnem, "call") ||
						     starts(t[k].mnem, "ret"));
			}
			break;
		}
		assert_true(pp.sp_delta >= 0 && pp.sp_delta % 8 == 0);
	}
	elf_funcs__close(e);
	print_message("%s: %d of %zu decisions exactly as objdump says\n", lib, exact, n);
	return exact;
}

static void test_libc(void **state)
{
	static const struct lib_func funcs[] = {
		{ "malloc", 1 }, { "free", 1 }, { "calloc", 2 }, { "realloc", 2 },
		{ "posix_memalign", 3 }, { "aligned_alloc", 2 }, { "memalign", 2 },
		{ "valloc", 1 }, { "pvalloc", 1 }, { "reallocarray", 3 },
	};
	int exact;

	(void)state;
	exact = check_lib(LIBC_PATH, funcs, sizeof(funcs) / sizeof(funcs[0]));
	assert_int_equal(exact, sizeof(funcs) / sizeof(funcs[0]));
}

/*
 * Debian 12's glibc 2.36, by name: free skips "test %rdi,%rdi" to its je;
 * the memalign family and valloc skip the "cmpb $0,...(%rip)" init check;
 * reallocarray stays (mul %rdx clobbers the size argument).
 */
static void test_libc_2_36_exact(void **state)
{
	static const struct {
		const char *name;
		int nargs;
		uint32_t skip;
		const char *insn;	/* prefix of the probed insn text */
	} want[] = {
		{ "malloc", 1, 0, "push r12" }, { "free", 1, 3, "je " },
		{ "calloc", 2, 0, "push r13" }, { "realloc", 2, 0, "push r15" },
		{ "posix_memalign", 3, 7, "push r12" }, { "aligned_alloc", 2, 7, "je " },
		{ "memalign", 2, 7, "je " }, { "valloc", 1, 7, "push rbx" },
		{ "pvalloc", 1, 7, "push rbx" }, { "reallocarray", 3, 0, "mov rax, rsi" },
	};
	struct elf_funcs *e;
	size_t i;

	(void)state;
	if (strcmp(gnu_get_libc_version(), "2.36"))
		skip();
	e = elf_funcs__open(LIBC_PATH);
	assert_non_null(e);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct probe_place pp;
		struct elf_func f;

		assert_int_equal(elf_funcs__find(e, want[i].name, &f), 0);
		assert_int_equal(probe_place__choose(e, &f, PROBE_ARG_REGS(want[i].nargs), &pp), 0);
		if (pp.skipped != want[i].skip || pp.sp_delta || !starts(pp.insn, want[i].insn))
			fail_msg("%s: +%u sp_delta %d %s (%s); want +%u %s", want[i].name,
				 pp.skipped, pp.sp_delta, pp.insn, pp.reason, want[i].skip,
				 want[i].insn);
		assert_int_equal(pp.cls, want[i].skip || i == 0 || i == 2 || i == 3
					 ? PROBE_INSN_EMULATED : PROBE_INSN_STEPPED);
	}
	elf_funcs__close(e);
}

static void test_libstdcxx(void **state)
{
	static const struct lib_func funcs[] = {
		{ "_Znwm", 1 }, { "_ZdlPv", 1 }, { "_ZdlPvm", 2 }, { "_Znam", 1 },
		{ "_ZdaPv", 1 }, { "_ZnwmSt11align_val_t", 2 }, { "_ZnwmRKSt9nothrow_t", 2 },
	};

	(void)state;
	if (access(LIBSTDCXX_PATH, R_OK))
		skip();
	check_lib(LIBSTDCXX_PATH, funcs, sizeof(funcs) / sizeof(funcs[0]));
}

static void test_jemalloc(void **state)
{
	static const struct lib_func funcs[] = {
		{ "malloc", 1 }, { "free", 1 }, { "calloc", 2 }, { "realloc", 2 },
		{ "posix_memalign", 3 }, { "aligned_alloc", 2 }, { "memalign", 2 },
		{ "valloc", 1 }, { "mallocx", 2 }, { "rallocx", 3 }, { "sdallocx", 3 },
	};

	(void)state;
	if (access(JEMALLOC_PATH, R_OK))
		skip();
	check_lib(JEMALLOC_PATH, funcs, sizeof(funcs) / sizeof(funcs[0]));
}

static void test_tcmalloc(void **state)
{
	static const struct lib_func funcs[] = {
		{ "malloc", 1 }, { "free", 1 }, { "calloc", 2 }, { "realloc", 2 },
		{ "posix_memalign", 3 }, { "memalign", 2 }, { "valloc", 1 }, { "pvalloc", 1 },
		{ "_Znwm", 1 }, { "_ZdlPv", 1 }, { "_ZdlPvm", 2 },
	};

	(void)state;
	if (access(TCMALLOC_PATH, R_OK))
		skip();
	check_lib(TCMALLOC_PATH, funcs, sizeof(funcs) / sizeof(funcs[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_classify_edges),
		cmocka_unit_test(test_arg_regs),
		cmocka_unit_test_setup_teardown(test_synthetic, self_setup, self_teardown),
		cmocka_unit_test_setup_teardown(test_choose_errors, self_setup, self_teardown),
		cmocka_unit_test(test_libc),
		cmocka_unit_test(test_libc_2_36_exact),
		cmocka_unit_test(test_libstdcxx),
		cmocka_unit_test(test_jemalloc),
		cmocka_unit_test(test_tcmalloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

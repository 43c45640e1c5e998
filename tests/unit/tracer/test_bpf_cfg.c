// SPDX-License-Identifier: MIT
/*
 * test_bpf_cfg.c - every program of bpf/memtrace.bpf.c, as libbpf loads
 * it (subprograms appended), passes the control-flow check of older
 * verifiers: Linux 6.1's check_cfg() rejects a back-edge that is a
 * fall-through (an instruction that is no jump, or a call's return, into
 * an instruction still on the DFS stack), where 6.12's accepts any
 * back-edge. clang lays out loops either way, so a new loop can break
 * Debian 12's kernel unnoticed on a newer one: this finds it here, in
 * milliseconds (the kernel matrix, tools/kernels/, boots 6.1 to be sure).
 * Loading needs root: skipped otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>
#include "memtrace.skel.h"
#include "tracer/uprobe_multi.h"

enum { DISCOVERED = 0x10, EXPLORED = 0x20, FALLTHROUGH = 1, BRANCH = 2 };

struct cfg {
	const struct bpf_insn *insn;
	int n, *state, *stack, sp;
	char why[128];
};

/* 6.1's push_insn(): 1 keep exploring, 0 done, -1 rejected (c->why). */
static int push(struct cfg *c, int t, int w, int e, bool loop_ok)
{
	if (e == FALLTHROUGH && c->state[t] >= (DISCOVERED | FALLTHROUGH))
		return 0;
	if (e == BRANCH && c->state[t] >= (DISCOVERED | BRANCH))
		return 0;
	if (w < 0 || w >= c->n) {
		snprintf(c->why, sizeof(c->why), "jump out of range from insn %d to %d", t, w);
		return -1;
	}
	if (c->state[w] == 0) {
		c->state[t] = DISCOVERED | e;
		c->state[w] = DISCOVERED;
		c->stack[c->sp++] = w;
		return 1;
	}
	if ((c->state[w] & 0xf0) == DISCOVERED) {
		if (loop_ok)
			return 0;
		snprintf(c->why, sizeof(c->why), "back-edge from insn %d to %d", t, w);
		return -1;
	}
	c->state[t] = DISCOVERED | e;
	return 0;
}

/* 6.1's visit_insn(). */
static int visit(struct cfg *c, int t)
{
	const struct bpf_insn *x = &c->insn[t];
	int r;

	if (x->code == (BPF_LD | BPF_IMM | BPF_DW) && x->src_reg == BPF_PSEUDO_FUNC) {
		r = push(c, t, t + 1, FALLTHROUGH, false);
		return r ? r : push(c, t, t + x->imm + 1, BRANCH, true);
	}
	if (BPF_CLASS(x->code) != BPF_JMP && BPF_CLASS(x->code) != BPF_JMP32)
		return push(c, t, t + 1, FALLTHROUGH, false);
	switch (BPF_OP(x->code)) {
	case BPF_EXIT:
		return 0;
	case BPF_CALL:
		r = push(c, t, t + 1, FALLTHROUGH, false);
		if (r || x->src_reg != BPF_PSEUDO_CALL)
			return r;
		return push(c, t, t + x->imm + 1, BRANCH, false);
	case BPF_JA:
		return push(c, t, t + x->off + 1, FALLTHROUGH, true);
	default:
		r = push(c, t, t + 1, FALLTHROUGH, true);
		return r ? r : push(c, t, t + x->off + 1, BRANCH, true);
	}
}

/* 0, or -1 with the reason in why. */
static int check_cfg(const struct bpf_insn *insn, int n, char *why, size_t len)
{
	struct cfg c = { .insn = insn, .n = n };
	int r = 0;

	c.state = calloc(n, sizeof(int));
	c.stack = calloc(n, sizeof(int));
	assert_non_null(c.state);
	assert_non_null(c.stack);
	c.state[0] = DISCOVERED;
	c.stack[c.sp++] = 0;
	while (c.sp && r >= 0) {
		int t = c.stack[c.sp - 1];

		r = visit(&c, t);
		if (r == 0) {
			c.state[t] = EXPLORED;
			c.sp--;
		}
	}
	snprintf(why, len, "%s", c.why);
	free(c.state);
	free(c.stack);
	return r < 0 ? -1 : 0;
}

/* The rule itself: a loop closed by a fall-through is caught, by a jump not. */
static void test_rule(void **state)
{
	/* 0: r0 = 0; 1: if r0 > 3 goto +2; 2: r0 += 1; 3: goto -3; 4: exit */
	const struct bpf_insn jump_loop[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_JGT | BPF_K, .dst_reg = 0, .off = 2, .imm = 3 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_JMP | BPF_JA, .off = -3 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	/* the same loop entered by a jump to its test and closed by the
	 * fall-through of 1 into 2: 0: goto +1; 1: r0 += 1;
	 * 2: if r0 < 3 goto -2; 3: exit */
	const struct bpf_insn fall_loop[] = {
		{ .code = BPF_JMP | BPF_JA, .off = 1 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_JMP | BPF_JLT | BPF_K, .dst_reg = 0, .off = -2, .imm = 3 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char why[128];

	(void)state;
	assert_int_equal(check_cfg(jump_loop, 5, why, sizeof(why)), 0);
	assert_int_equal(check_cfg(fall_loop, 4, why, sizeof(why)), -1);
	assert_string_equal(why, "back-edge from insn 1 to 2");
}

static void test_every_program(void **state)
{
	struct memtrace_bpf *skel;
	struct bpf_program *p;
	int err, bad = 0, n = 0;
	char why[128];

	(void)state;
	if (geteuid() != 0)
		skip();
	skel = memtrace_bpf__open();
	assert_non_null(skel);
	/* both walkers' programs (all autoload by default); small maps */
	bpf_map__set_max_entries(skel->maps.unwind_rows, 1);
	/* the session programs load only for session links (Linux 6.13+),
	 * and only where the kernel has them */
	if (uprobe_multi__session_supported() == 1) {
		bpf_program__set_expected_attach_type(skel->progs.alloc_sess,
			(enum bpf_attach_type)UPROBE_SESSION_ATTACH_TYPE);
		bpf_program__set_expected_attach_type(skel->progs.alloc_sess_fp,
			(enum bpf_attach_type)UPROBE_SESSION_ATTACH_TYPE);
	} else {
		bpf_program__set_autoload(skel->progs.alloc_sess, false);
		bpf_program__set_autoload(skel->progs.alloc_sess_fp, false);
	}
	err = memtrace_bpf__load(skel);
	if (err == -EPERM) {
		memtrace_bpf__destroy(skel);
		skip();
	}
	assert_int_equal(err, 0);
	bpf_object__for_each_program(p, skel->obj) {
		const struct bpf_insn *insn = bpf_program__insns(p);
		int cnt = (int)bpf_program__insn_cnt(p);

		assert_non_null(insn);
		n++;
		if (check_cfg(insn, cnt, why, sizeof(why))) {
			print_message("%s: %s (6.1's verifier rejects it)\n",
				      bpf_program__name(p), why);
			bad++;
		}
	}
	memtrace_bpf__destroy(skel);
	assert_true(n >= 20);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_every_program),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

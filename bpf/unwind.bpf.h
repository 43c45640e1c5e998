/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * unwind.bpf.h - user stack walk for BPF programs (issue 4): by .eh_frame
 * rows (UNWIND_DWARF) or by the frame-pointer chain (UNWIND_FP).
 *
 * Include after vmlinux.h, bpf_helpers.h, bpf_tracing.h, bpf_core_read.h
 * and memtrace.h. Defines three maps that userspace fills through
 * src/unwind_maps.c:
 *   unwind_rows     ARRAY, every table's rows back to back (mmapable)
 *   unwind_tables   ARRAY, table index -> where its rows are
 *   unwind_modules  HASH, tgid -> executable mappings sorted by start
 *
 * Per frame in dwarf mode: binary search of the module holding pc, binary
 * search of its table's rows, CFA from sp or fp, return address (and the
 * saved frame pointer) read at CFA offsets. A pc without a usable row
 * takes one frame-pointer step instead (STACK_F_FP_FALLBACK); in dwarf
 * mode a frame-pointer step must land in a known module, or the walk stops
 * with STACK_F_UNWIND_ERROR rather than record garbage.
 *
 * Verifier cost: the frame loop is bpf_loop(); the searches and the two
 * kinds of step are global functions (checked once, alone) and the
 * searches are branch-free, so one walker costs ~5k verified instructions.
 *
 * To count frames recovered by the frame pointer in dwarf mode, define
 * unwind_count_fp_fallback(n) before including this file.
 */
#ifndef MEMTRACE_UNWIND_BPF_H
#define MEMTRACE_UNWIND_BPF_H

#define UNWIND_ROW_STEPS	22	/* binary search steps over the rows */
#define UNWIND_MODULE_STEPS	7	/* ... over one process's modules */
#define UNWIND_MAX_PENDING	4	/* uretprobe return instances per frame */
#define UNWIND_NO_TABLE		0xffffffffu
#define UNWIND_MOD_MASK		(UNWIND_MAX_MODULES - 1)

_Static_assert((1u << UNWIND_ROW_STEPS) >= UNWIND_ROWS_MAX, "row search too short");
_Static_assert((1u << UNWIND_MODULE_STEPS) >= UNWIND_MAX_MODULES, "module search too short");
_Static_assert((UNWIND_MAX_MODULES & UNWIND_MOD_MASK) == 0, "UNWIND_MAX_MODULES: power of 2");
_Static_assert(sizeof(struct unwind_row) == 16, "unwind_row layout");

#ifndef unwind_count_fp_fallback
#define unwind_count_fp_fallback(n) do { } while (0)
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, UNWIND_ROWS_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct unwind_row);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, UNWIND_MAX_TABLES);
	__type(key, __u32);
	__type(value, struct unwind_table_loc);
} unwind_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, UNWIND_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct unwind_modules);
} unwind_modules SEC(".maps");

/* The caller's registers as the walk recovers them. */
struct unwind_regs {
	__u64 pc, sp, fp;
	__u64 ri;		/* next pending uretprobe (struct return_instance *) */
	__u32 fp_valid;		/* fp holds the caller's value (not undefined) */
	__u32 pad;
};

/* What a step did. */
enum unwind_step_result {
	UNWIND_NEXT = 0,	/* regs hold the caller */
	UNWIND_END = 1,		/* outermost frame: clean end */
	UNWIND_ERR = 2,		/* unreadable or implausible: stop, flag */
	UNWIND_FALLBACK = 3,	/* no rule we evaluate here: use fp */
};

/* State of one walk, on the caller's stack, shared with the bpf_loop callback. */
struct unwind_walk {
	struct stack_trace *st;
	struct unwind_modules *mods;	/* tgid's modules; NULL: fp only */
	struct unwind_regs regs;
	__u32 fp_frames;	/* frames recovered by fp in dwarf mode */
	__u8 dwarf;		/* dwarf mode requested */
	__u8 from_fp;		/* regs.pc came from a frame-pointer step */
	__u8 done;		/* walk ended (cleanly or not) */
};

/*
 * Index of the module holding pc, or -1. Branch-free halving: a search
 * with branches gives the verifier one path per outcome (the index is
 * precise, so they never merge). le = (start <= pc): user addresses are
 * below 2^63. Indexes are masked, a no-op that shows the bound.
 */
static __always_inline int unwind_find_module(const struct unwind_modules *m, __u64 pc)
{
	__u64 base = 0, n = m->nr, half, le, idx;

	if (n == 0 || n > UNWIND_MAX_MODULES)
		return -1;
	for (int i = 0; i < UNWIND_MODULE_STEPS; i++) {
		if (n <= 1)
			break;
		half = n / 2;
		idx = (base + half) & UNWIND_MOD_MASK;
		le = ((pc - m->mod[idx].start) >> 63) ^ 1;
		base += le * half;
		n -= half;
	}
	idx = base & UNWIND_MOD_MASK;
	if (pc < m->mod[idx].start || pc >= m->mod[idx].end)
		return -1;
	return idx;
}

/*
 * Copy the row in force at rel (table-relative pc) into *out: the last
 * row with pc <= rel. Returns 1, or 0 when there is none.
 */
__noinline int unwind_find_row(__u32 table, __u64 rel, struct unwind_row *out)
{
	struct unwind_table_loc *loc = bpf_map_lookup_elem(&unwind_tables, &table);
	struct unwind_row *row;
	__u32 base, n, half, key;
	__u64 le;

	if (!loc || !out || rel > 0xffffffffULL || !loc->count)
		return 0;
	base = loc->first;
	n = loc->count;
	for (int i = 0; i < UNWIND_ROW_STEPS; i++) {	/* as in unwind_find_module() */
		if (n <= 1)
			break;
		half = n / 2;
		key = base + half;
		row = bpf_map_lookup_elem(&unwind_rows, &key);
		if (!row)
			return 0;
		le = ((rel - row->pc) >> 63) ^ 1;	/* row->pc <= rel */
		base += le * half;
		n -= half;
	}
	row = bpf_map_lookup_elem(&unwind_rows, &base);
	if (!row || row->pc > rel)
		return 0;	/* below the table's first row */
	*out = *row;
	return 1;
}

/*
 * The row in force at pc in mods, copied to *out. Returns 1 (found), 0
 * (pc's module has no row for it) or -1 (no module holds pc).
 */
__noinline int unwind_lookup(struct unwind_modules *mods, __u64 pc, struct unwind_row *out)
{
	struct unwind_module *mod;
	int m;

	if (!mods || !out)
		return -1;
	m = unwind_find_module(mods, pc);
	if (m < 0)
		return -1;
	mod = &mods->mod[m & UNWIND_MOD_MASK];
	if (mod->table == UNWIND_NO_TABLE)
		return 0;
	return unwind_find_row(mod->table, pc - mod->bias, out);
}

/*
 * The return address read from stack slot `slot`. While a uretprobe is
 * pending on a function (e.g. malloc, when its mmap is traced), the kernel
 * has replaced that function's return address by its trampoline and keeps
 * the real one in current->utask->return_instances, innermost first, each
 * with the slot it replaced (ri->stack): take it from there.
 */
static __always_inline __u64 unwind_fix_ra(struct unwind_regs *r, __u64 slot, __u64 ra)
{
	for (int i = 0; i < UNWIND_MAX_PENDING; i++) {
		struct return_instance *ri = (void *)r->ri;
		__u64 stack;

		if (!ri)
			break;
		stack = BPF_CORE_READ(ri, stack);
		if (stack > slot)
			break;	/* an outer frame's */
		if (stack == slot)
			ra = BPF_CORE_READ(ri, orig_ret_vaddr);
		r->ri = (__u64)BPF_CORE_READ(ri, next);
	}
	return ra;
}

/* One frame by the chain: [fp] = caller's fp, [fp + 8] = return address. */
__noinline int unwind_fp_step(struct unwind_regs *r)
{
	__u64 frame[2];

	if (!r)
		return UNWIND_ERR;
	if (!r->fp_valid)
		return UNWIND_ERR;
	if (!r->fp)
		return UNWIND_END;	/* outermost frames clear fp */
	if ((r->fp & 7) || r->fp < r->sp)
		return UNWIND_ERR;	/* not a frame: callers live above us */
	if (bpf_probe_read_user(frame, sizeof(frame), (void *)r->fp))
		return UNWIND_ERR;
	r->sp = r->fp + 16;
	r->pc = unwind_fix_ra(r, r->fp + 8, frame[1]);
	r->fp = frame[0];
	return r->pc ? UNWIND_NEXT : UNWIND_END;
}

/* One frame by a row. */
__noinline int unwind_row_step(struct unwind_regs *r, const struct unwind_row *row)
{
	__u64 cfa, ra, fp, slot;

	if (!r || !row)
		return UNWIND_ERR;
	switch (row->cfa_rule) {
	case CFA_SP:
		cfa = r->sp + (__s64)row->cfa_off;
		break;
	case CFA_FP:
		if (!r->fp_valid)
			return UNWIND_ERR;
		cfa = r->fp + (__s64)row->cfa_off;
		break;
	case CFA_PLT:
		/* module bias and table base are page aligned: pc & 15 is the ELF's */
		cfa = r->sp + (__s64)row->cfa_off + ((r->pc & 15) >= row->plt_split ? 8 : 0);
		break;
	case CFA_UNDEFINED:
		return UNWIND_END;	/* outermost frame (_start, clone3) */
	default:
		return UNWIND_FALLBACK;
	}
	if (cfa <= r->sp)
		return UNWIND_ERR;
	slot = cfa + (__s64)row->ra_off;
	if (bpf_probe_read_user(&ra, sizeof(ra), (void *)slot))
		return UNWIND_ERR;
	if (row->fp_rule == REG_AT_CFA) {
		if (bpf_probe_read_user(&fp, sizeof(fp), (void *)(cfa + (__s64)row->fp_off)))
			return UNWIND_ERR;
		r->fp = fp;
		r->fp_valid = 1;
	} else if (row->fp_rule == REG_UNDEFINED) {
		r->fp_valid = 0;
	}
	r->sp = cfa;
	r->pc = unwind_fix_ra(r, slot, ra);
	return r->pc ? UNWIND_NEXT : UNWIND_END;
}

/* bpf_loop callback: record regs.pc, step to the caller. */
static long unwind_step(__u32 i, void *ctx)
{
	struct unwind_walk *w = ctx;
	struct stack_trace *st = w->st;
	struct unwind_row row;
	__u32 n = st->nr;
	int found = 0, rc;

	if (n >= MAX_STACK_DEPTH)
		return 1;
	if (w->mods) {
		/* a return address is after the call: look up the call itself */
		found = unwind_lookup(w->mods, n ? w->regs.pc - 1 : w->regs.pc, &row);
		if (found < 0 && w->from_fp) {	/* fp chain into the unknown */
			st->flags |= STACK_F_UNWIND_ERROR;
			w->done = 1;
			return 1;
		}
	}
	st->ip[n] = w->regs.pc;
	st->nr = n + 1;
	rc = found > 0 ? unwind_row_step(&w->regs, &row) : UNWIND_FALLBACK;
	w->from_fp = rc == UNWIND_FALLBACK;
	if (rc == UNWIND_FALLBACK) {
		if (w->dwarf) {
			w->fp_frames++;
			st->flags |= STACK_F_FP_FALLBACK;
		}
		rc = unwind_fp_step(&w->regs);
	}
	if (rc == UNWIND_NEXT)
		return 0;
	if (rc == UNWIND_ERR)
		st->flags |= STACK_F_UNWIND_ERROR;
	w->done = 1;
	return 1;
}

/*
 * Walk the user stack from regs into st (st->nr, st->flags, st->ip[]),
 * ip[0] = regs->ip. regs: a uretprobe's ctx, or for a syscall tracepoint
 * bpf_task_pt_regs(bpf_get_current_task_btf()). mode: UNWIND_DWARF uses
 * tgid's modules (all frame pointer, flagged, if it has none); UNWIND_FP
 * follows frame pointers only. Never fails: returns st->nr; problems show
 * as STACK_F_UNWIND_ERROR, STACK_F_TRUNCATED, STACK_F_FP_FALLBACK.
 */
static __always_inline int unwind_user_stack(struct pt_regs *regs, __u32 tgid,
					     struct stack_trace *st, __u32 mode)
{
	struct unwind_walk w = {};

	st->nr = 0;
	st->flags = 0;
	if (!regs)
		return 0;
	w.st = st;
	w.regs.pc = PT_REGS_IP_CORE(regs);
	w.regs.sp = PT_REGS_SP_CORE(regs);
	w.regs.fp = PT_REGS_FP_CORE(regs);
	w.regs.fp_valid = 1;
	if (bpf_core_field_exists(struct task_struct, utask))
		w.regs.ri = (__u64)BPF_CORE_READ(bpf_get_current_task_btf(), utask,
						 return_instances);
	if (mode == UNWIND_DWARF) {
		w.dwarf = 1;
		w.mods = bpf_map_lookup_elem(&unwind_modules, &tgid);
	}
	if (!w.regs.pc)
		return 0;
	bpf_loop(MAX_STACK_DEPTH, unwind_step, &w, 0);
	if (!w.done && w.regs.pc && st->nr >= MAX_STACK_DEPTH)
		st->flags |= STACK_F_TRUNCATED;
	unwind_count_fp_fallback(w.fp_frames);
	return st->nr;
}

#endif /* MEMTRACE_UNWIND_BPF_H */

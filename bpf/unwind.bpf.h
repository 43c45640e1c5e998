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
 * To count frames recovered by the frame pointer in dwarf mode, define
 * unwind_count_fp_fallback(n) before including this file.
 */
#ifndef MEMTRACE_UNWIND_BPF_H
#define MEMTRACE_UNWIND_BPF_H

#define UNWIND_ROW_STEPS	22	/* binary search steps over the rows */
#define UNWIND_MODULE_STEPS	7	/* ... over one process's modules */
#define UNWIND_NO_TABLE		0xffffffffu

_Static_assert((1u << UNWIND_ROW_STEPS) >= UNWIND_ROWS_MAX, "row search too short");
_Static_assert((1u << UNWIND_MODULE_STEPS) >= UNWIND_MAX_MODULES, "module search too short");
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

/* State of one walk, on the caller's stack, shared with the bpf_loop callback. */
struct unwind_walk {
	struct stack_trace *st;
	__u64 pc, sp, fp;
	__u64 ri;		/* next pending uretprobe (struct return_instance *) */
	__u32 tgid;
	__u32 fp_frames;	/* frames recovered by fp in dwarf mode */
	__u8 dwarf;		/* dwarf mode requested */
	__u8 mods;		/* tgid has a module list */
	__u8 fp_valid;		/* fp holds the caller's value (not undefined) */
	__u8 from_fp;		/* pc came from a frame-pointer step */
	__u8 done;		/* walk ended (cleanly or not) */
};

/*
 * Index of the module holding pc, or -1. Indexes are masked (a no-op:
 * they are below nr <= UNWIND_MAX_MODULES) so the verifier sees the bound.
 */
#define UNWIND_MOD_MASK		(UNWIND_MAX_MODULES - 1)
_Static_assert((UNWIND_MAX_MODULES & UNWIND_MOD_MASK) == 0, "UNWIND_MAX_MODULES: power of 2");

static __always_inline int unwind_find_module(const struct unwind_modules *m, __u64 pc)
{
	__u64 lo = 0, hi = m->nr, mid;

	if (hi > UNWIND_MAX_MODULES)
		hi = UNWIND_MAX_MODULES;
	for (int i = 0; i < UNWIND_MODULE_STEPS; i++) {
		if (lo >= hi)
			break;
		mid = (lo + (hi - lo) / 2) & UNWIND_MOD_MASK;
		if (m->mod[mid].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	mid = (lo - 1) & UNWIND_MOD_MASK;
	if (pc >= m->mod[mid].end)
		return -1;
	return mid;
}

/* The row in force at rel (table-relative pc), or NULL. */
static __always_inline struct unwind_row *unwind_find_row(__u32 table, __u64 rel)
{
	struct unwind_table_loc *loc = bpf_map_lookup_elem(&unwind_tables, &table);
	__u32 first, lo, hi, mid;
	struct unwind_row *row;

	if (!loc || rel > 0xffffffffULL)
		return NULL;
	first = loc->first;
	lo = first;
	hi = first + loc->count;
	if (hi < lo)
		return NULL;
	for (int i = 0; i < UNWIND_ROW_STEPS; i++) {
		if (lo >= hi)
			break;
		mid = lo + (hi - lo) / 2;
		row = bpf_map_lookup_elem(&unwind_rows, &mid);
		if (!row)
			return NULL;
		if (row->pc <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo != hi || lo == first)
		return NULL;
	mid = lo - 1;
	return bpf_map_lookup_elem(&unwind_rows, &mid);
}

/*
 * The row in force at pc in tgid's modules, copied to *out. A global
 * function: the verifier checks it once, on its own, which keeps both
 * binary searches out of the per-frame callback's state space.
 * Returns 1 (found), 0 (pc's module has no row for it) or -1 (no module
 * holds pc, or tgid has none).
 */
__noinline int unwind_lookup(__u32 tgid, __u64 pc, struct unwind_row *out)
{
	struct unwind_modules *mods = bpf_map_lookup_elem(&unwind_modules, &tgid);
	struct unwind_module *mod;
	struct unwind_row *row;
	int m;

	if (!mods || !out)
		return -1;
	m = unwind_find_module(mods, pc);
	if (m < 0)
		return -1;
	mod = &mods->mod[m & UNWIND_MOD_MASK];
	if (mod->table == UNWIND_NO_TABLE)
		return 0;
	row = unwind_find_row(mod->table, pc - mod->bias);
	if (!row)
		return 0;
	*out = *row;
	return 1;
}

static __always_inline long unwind_fail(struct unwind_walk *w)
{
	w->st->flags |= STACK_F_UNWIND_ERROR;
	w->done = 1;
	return 1;
}

static __always_inline long unwind_end(struct unwind_walk *w)
{
	w->done = 1;
	return 1;
}

/*
 * The return address read from stack slot `slot`. While a uretprobe is
 * pending on a function (e.g. malloc, when its mmap is traced), the kernel
 * has replaced that function's return address by its trampoline and keeps
 * the real one in current->utask->return_instances, innermost first, each
 * with the slot it replaced (ri->stack): take it from there.
 */
#define UNWIND_MAX_PENDING	4	/* return instances looked at per frame */

static __always_inline __u64 unwind_fix_ra(struct unwind_walk *w, __u64 slot, __u64 ra)
{
	for (int i = 0; i < UNWIND_MAX_PENDING; i++) {
		struct return_instance *ri = (void *)w->ri;
		__u64 stack;

		if (!ri)
			break;
		stack = BPF_CORE_READ(ri, stack);
		if (stack > slot)
			break;	/* an outer frame's */
		if (stack == slot)
			ra = BPF_CORE_READ(ri, orig_ret_vaddr);
		w->ri = (__u64)BPF_CORE_READ(ri, next);
	}
	return ra;
}

/* One frame by the frame-pointer chain: [fp] = caller's fp, [fp + 8] = return address. */
static __always_inline long unwind_fp_step(struct unwind_walk *w)
{
	__u64 frame[2];

	if (w->dwarf) {
		w->fp_frames++;
		w->st->flags |= STACK_F_FP_FALLBACK;
	}
	if (!w->fp_valid)
		return unwind_fail(w);
	if (!w->fp)
		return unwind_end(w);	/* outermost frames clear fp */
	if ((w->fp & 7) || w->fp < w->sp)
		return unwind_fail(w);	/* not a frame: callers live above us */
	if (bpf_probe_read_user(frame, sizeof(frame), (void *)w->fp))
		return unwind_fail(w);
	w->sp = w->fp + 16;
	w->pc = w->ri ? unwind_fix_ra(w, w->fp + 8, frame[1]) : frame[1];
	w->fp = frame[0];
	w->from_fp = 1;
	return w->pc ? 0 : unwind_end(w);
}

/* One frame by a row. */
static __always_inline long unwind_row_step(struct unwind_walk *w, const struct unwind_row *r)
{
	__u64 cfa, ra, fp;

	switch (r->cfa_rule) {
	case CFA_SP:
		cfa = w->sp + (__s64)r->cfa_off;
		break;
	case CFA_FP:
		if (!w->fp_valid)
			return unwind_fail(w);
		cfa = w->fp + (__s64)r->cfa_off;
		break;
	case CFA_PLT:
		/* module bias and table base are page aligned: pc & 15 is the ELF's */
		cfa = w->sp + (__s64)r->cfa_off + ((w->pc & 15) >= r->plt_split ? 8 : 0);
		break;
	case CFA_UNDEFINED:
		return unwind_end(w);	/* outermost frame (_start, clone3) */
	default:
		return unwind_fp_step(w);
	}
	if (cfa <= w->sp)
		return unwind_fail(w);
	if (bpf_probe_read_user(&ra, sizeof(ra), (void *)(cfa + (__s64)r->ra_off)))
		return unwind_fail(w);
	if (w->ri)
		ra = unwind_fix_ra(w, cfa + (__s64)r->ra_off, ra);
	if (r->fp_rule == REG_AT_CFA) {
		if (bpf_probe_read_user(&fp, sizeof(fp), (void *)(cfa + (__s64)r->fp_off)))
			return unwind_fail(w);
		w->fp = fp;
		w->fp_valid = 1;
	} else if (r->fp_rule == REG_UNDEFINED) {
		w->fp_valid = 0;
	}
	w->sp = cfa;
	w->pc = ra;
	w->from_fp = 0;
	return ra ? 0 : unwind_end(w);
}

/* bpf_loop callback: record w->pc, compute the caller's registers. */
static long unwind_step(__u32 i, void *ctx)
{
	struct unwind_walk *w = ctx;
	struct stack_trace *st = w->st;
	struct unwind_row row;
	__u32 n = st->nr;
	int found = 0;

	if (n >= MAX_STACK_DEPTH)
		return 1;
	if (w->mods) {
		/* a return address is after the call: look up the call itself */
		found = unwind_lookup(w->tgid, n ? w->pc - 1 : w->pc, &row);
		if (found < 0 && w->from_fp)	/* fp chain into the unknown */
			return unwind_fail(w);
	}
	st->ip[n] = w->pc;
	st->nr = n + 1;
	if (found > 0)
		return unwind_row_step(w, &row);
	return unwind_fp_step(w);
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
	w.pc = PT_REGS_IP_CORE(regs);
	w.sp = PT_REGS_SP_CORE(regs);
	w.fp = PT_REGS_FP_CORE(regs);
	w.fp_valid = 1;
	w.tgid = tgid;
	if (bpf_core_field_exists(struct task_struct, utask))
		w.ri = (__u64)BPF_CORE_READ(bpf_get_current_task_btf(), utask, return_instances);
	if (mode == UNWIND_DWARF) {
		w.dwarf = 1;
		w.mods = bpf_map_lookup_elem(&unwind_modules, &tgid) != NULL;
	}
	if (!w.pc)
		return 0;
	bpf_loop(MAX_STACK_DEPTH, unwind_step, &w, 0);
	if (!w.done && w.pc && st->nr >= MAX_STACK_DEPTH)
		st->flags |= STACK_F_TRUNCATED;
	unwind_count_fp_fallback(w.fp_frames);
	return st->nr;
}

#endif /* MEMTRACE_UNWIND_BPF_H */

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * unwind.bpf.h - user stack walk for BPF programs (issue 4): by .eh_frame
 * rows (UNWIND_DWARF) or by the frame-pointer chain (UNWIND_FP).
 *
 * Include after vmlinux.h, bpf_helpers.h, bpf_tracing.h, bpf_core_read.h
 * and memtrace.h. Defines three maps that userspace fills through
 * src/unwind/unwind_maps.c:
 *   unwind_rows     ARRAY, every table's rows back to back (mmapable)
 *   unwind_tables   ARRAY, table index -> where its rows are
 *   unwind_modules  HASH, tgid -> executable mappings sorted by start
 * and two per-CPU maps of its own: unwind_cache (pc -> row) and
 * unwind_window (the stack chunks of the walk in progress).
 *
 * Per frame in dwarf mode: the row in force at pc (from a per-CPU cache of
 * recent pcs, else a binary search of the module holding pc and one of its
 * table's rows), CFA from sp or fp, return address (and the saved frame
 * pointer) read at CFA offsets. Stack reads go through a per-CPU window:
 * the 512-byte aligned chunks above sp are copied in once each (a chunk
 * never crosses a page, so it is readable whenever the slot is), which
 * turns a dozen small user reads into two or three. A pc without a usable row
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
#define UNWIND_CHUNK		512	/* stack window: bytes per user read */
#define UNWIND_CHUNKS		16	/* ... chunks: 8 KiB above sp's chunk */
#define UNWIND_WINDOW		(UNWIND_CHUNK * UNWIND_CHUNKS)
#define UNWIND_CACHE_BITS	12	/* pc -> row cache: 4096 slots per CPU */
#define UNWIND_CACHE_SLOTS	(1u << UNWIND_CACHE_BITS)
#define UNWIND_MEMO_WORDS	128	/* stack words a memoized walk may need */
#define UNWIND_MEMO_HIT		(-1)	/* unwind_user_stack(): same stack as the memo's */
_Static_assert((UNWIND_MEMO_WORDS & (UNWIND_MEMO_WORDS - 1)) == 0, "UNWIND_MEMO_WORDS: power of 2");

_Static_assert((1u << UNWIND_ROW_STEPS) >= UNWIND_ROWS_MAX, "row search too short");
_Static_assert((1u << UNWIND_MODULE_STEPS) >= UNWIND_MAX_MODULES, "module search too short");
_Static_assert((UNWIND_MAX_MODULES & UNWIND_MOD_MASK) == 0, "UNWIND_MAX_MODULES: power of 2");
_Static_assert(sizeof(struct unwind_row) == 16, "unwind_row layout");
_Static_assert(4096 % UNWIND_CHUNK == 0, "a chunk must not cross a page");
_Static_assert(UNWIND_CHUNKS <= 32, "chunk bitmap is 32 bits");

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

/* A cached row lookup: valid for pc while the process's modules keep gen. */
struct unwind_cache_slot {
	__u64 pc;		/* looked-up pc (after the return address - 1) */
	__u32 gen;		/* unwind_modules.gen it was found under */
	__s32 found;		/* unwind_lookup()'s result: 1, 0 or -1 */
	struct unwind_row row;	/* with found == 1 */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UNWIND_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct unwind_cache_slot);
} unwind_cache SEC(".maps");

/* The stack chunks of one walk. seq counts walks on this CPU: a walk that
 * sees it move was preempted by another one (same buffers) and is redone. */
struct unwind_window_buf {
	__u64 seq;
	__u8 buf[UNWIND_WINDOW];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_window_buf);
} unwind_window SEC(".maps");

/* The caller's registers as the walk recovers them. */
struct unwind_regs {
	__u64 pc, sp, fp;
	__u64 ri;		/* next pending uretprobe (struct return_instance *) */
	__u64 base;		/* user address of the window's first byte */
	__u32 loaded;		/* bitmap of the window's chunks copied in */
	__u32 fp_valid;		/* fp holds the caller's value (not undefined) */
	__u32 fp_initial;	/* fp is still the register the walk started with */
	__u32 used_fp0;		/* ... and a rule or fp step used it */
	__u32 fp_pending;	/* fp came from the stack word at fp_addr, not
				   noted in the memo until a step uses it */
	__u32 pad;
	__u64 fp_addr, fp_val;	/* that word */
	__u64 last_addr, last_val; /* the last word read */
};

/*
 * What one walk depended on, so that the next walk from the same place can
 * be skipped when nothing it depends on changed. A walk is a function of
 * the registers it starts from (fp only if a rule used it before it was
 * restored from the stack), the rows (fixed while the process's modules
 * keep their generation) and the stack words it needs: noted here. Per
 * thread, owned by the caller (e.g. task storage).
 */
struct unwind_memo {
	__u64 pc, sp, fp;	/* registers the walk started from */
	__u64 result;		/* the caller's result for this stack; 0: none */
	__u64 lo, hi;		/* lowest and highest address of the words */
	__u32 gen;		/* unwind_modules.gen during the walk; 0: fp mode */
	__u32 nr;		/* words noted; > UNWIND_MEMO_WORDS: not memoizable */
	__u32 uses_fp;		/* fp is part of the key */
	__u32 mode;		/* enum unwind_mode of the walk */
	/* The words the result depends on: every return address, and a saved
	 * frame pointer only if a later rule or fp step used it (optimized
	 * code keeps loop counters in rbp: their saved values must not defeat
	 * the memo). Their addresses during the walk; once sealed
	 * (unwind_memo_seal()), their offsets from lo. */
	__u64 addr[UNWIND_MEMO_WORDS];
	__u64 val[UNWIND_MEMO_WORDS];
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
	struct unwind_window_buf *win;	/* stack chunks; NULL: read slot by slot */
	struct unwind_memo *memo;	/* records what the walk reads; NULL: none */
	struct unwind_regs regs;
	__u32 fp_frames;	/* frames recovered by fp in dwarf mode */
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
 * Read the 8-byte user word at addr into *out, through the walk's window
 * when addr lies in it. Returns 0, or non-zero when it is unreadable.
 */
static __always_inline long unwind_read_raw(struct unwind_window_buf *win,
					    struct unwind_regs *r, __u64 addr, __u64 *out)
{
	__u64 off = addr - r->base;
	__u32 c;

	if (!win || off >= UNWIND_WINDOW || (addr & 7))
		return bpf_probe_read_user(out, sizeof(*out), (void *)addr);
	c = off / UNWIND_CHUNK;
	if (!(r->loaded & (1u << c))) {
		if (bpf_probe_read_user(&win->buf[(c * UNWIND_CHUNK) & (UNWIND_WINDOW - 1)],
					UNWIND_CHUNK, (void *)(r->base + c * UNWIND_CHUNK)))
			return -1;
		r->loaded |= 1u << c;
	}
	*out = *(__u64 *)&win->buf[off & (UNWIND_WINDOW - 8)];
	return 0;
}

/* Note a word the walk's result depends on in memo (when there is one). */
static __always_inline void unwind_note(struct unwind_memo *memo, __u64 addr, __u64 val)
{
	__u32 n;

	if (!memo)
		return;
	n = memo->nr;
	if (n < UNWIND_MEMO_WORDS) {
		memo->addr[n] = addr;
		memo->val[n] = val;
		if (!n || addr < memo->lo)
			memo->lo = addr;
		if (!n || addr > memo->hi)
			memo->hi = addr;
	}
	if (n <= UNWIND_MEMO_WORDS)
		memo->nr = n + 1;
}

/*
 * unwind_read_raw(); need: the result depends on the word whatever comes
 * next (a return address), noted in memo now; otherwise it is only kept
 * in r->last_addr/last_val (a saved frame pointer: see unwind_use_fp()).
 */
static __always_inline long unwind_read(struct unwind_window_buf *win, struct unwind_regs *r,
					struct unwind_memo *memo, __u64 addr, __u64 *out,
					bool need)
{
	if (unwind_read_raw(win, r, addr, out)) {
		if (memo)	/* it may read next time: never skip this walk */
			memo->nr = UNWIND_MEMO_WORDS + 1;
		return -1;
	}
	if (need)
		unwind_note(memo, addr, *out);
	r->last_addr = addr;
	r->last_val = *out;
	return 0;
}

/* fp now holds the word just read (r->last_addr). */
static __always_inline void unwind_set_fp(struct unwind_regs *r, __u64 fp)
{
	r->fp = fp;
	r->fp_initial = 0;
	r->fp_pending = 1;
	r->fp_addr = r->last_addr;
	r->fp_val = r->last_val;
}

/* The walk is about to use fp: its value is part of the result now. */
static __always_inline void unwind_use_fp(struct unwind_regs *r, struct unwind_memo *memo)
{
	r->used_fp0 |= r->fp_initial;
	if (r->fp_pending) {
		unwind_note(memo, r->fp_addr, r->fp_val);
		r->fp_pending = 0;
	}
}

/*
 * unwind_lookup() through this CPU's cache: the slot of pc holds the last
 * lookup that hashed there, valid while the modules' generation is the
 * same (userspace bumps it on every change of the process's mappings).
 */
__noinline int unwind_lookup_cached(struct unwind_modules *mods, __u64 pc,
				    struct unwind_row *out)
{
	__u32 key = (__u32)((pc * 0x9e3779b97f4a7c15ULL) >> (64 - UNWIND_CACHE_BITS));
	struct unwind_cache_slot *s = bpf_map_lookup_elem(&unwind_cache, &key);
	__u32 gen;
	int found;

	if (!mods || !out)
		return -1;
	gen = mods->gen;
	if (s && s->pc == pc && s->gen == gen) {
		*out = s->row;
		return s->found;
	}
	found = unwind_lookup(mods, pc, out);
	if (s) {
		s->pc = pc;
		s->gen = gen;
		s->found = found;
		if (found > 0)
			s->row = *out;
	}
	return found;
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
__noinline int unwind_fp_step(struct unwind_window_buf *win, struct unwind_regs *r,
			      struct unwind_memo *memo)
{
	__u64 fp, ra, fp_at;

	if (!r || !r->fp_valid)
		return UNWIND_ERR;
	unwind_use_fp(r, memo);
	if (!r->fp)
		return UNWIND_END;	/* outermost frames clear fp */
	if ((r->fp & 7) || r->fp < r->sp)
		return UNWIND_ERR;	/* not a frame: callers live above us */
	if (unwind_read(win, r, memo, r->fp + 8, &ra, true))
		return UNWIND_ERR;
	fp_at = r->fp;
	if (unwind_read(win, r, memo, fp_at, &fp, false))
		return UNWIND_ERR;
	r->sp = fp_at + 16;
	r->pc = unwind_fix_ra(r, fp_at + 8, ra);
	unwind_set_fp(r, fp);
	return r->pc ? UNWIND_NEXT : UNWIND_END;
}

/* One frame by a row. */
__noinline int unwind_row_step(struct unwind_window_buf *win, struct unwind_regs *r,
			       const struct unwind_row *row, struct unwind_memo *memo)
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
		unwind_use_fp(r, memo);
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
	if (unwind_read(win, r, memo, slot, &ra, true))
		return UNWIND_ERR;
	if (row->fp_rule == REG_AT_CFA) {
		if (unwind_read(win, r, memo, cfa + (__s64)row->fp_off, &fp, false))
			return UNWIND_ERR;
		unwind_set_fp(r, fp);
		r->fp_valid = 1;
	} else if (row->fp_rule == REG_UNDEFINED) {
		r->fp_valid = 0;
		r->fp_initial = 0;
		r->fp_pending = 0;
	}
	r->sp = cfa;
	r->pc = unwind_fix_ra(r, slot, ra);
	return r->pc ? UNWIND_NEXT : UNWIND_END;
}

/*
 * One frame: record regs.pc, step to the caller. dwarf: a constant, so
 * that the frame-pointer walker has no code of the dwarf one (it loads
 * wherever the dwarf walker's verification fails).
 */
static __always_inline long unwind_step_mode(struct unwind_walk *w, bool dwarf)
{
	struct stack_trace *st = w->st;
	struct unwind_row row;
	__u32 n = st->nr;
	int found = 0, rc;

	if (n >= MAX_STACK_DEPTH)
		return 1;
	if (dwarf && w->mods) {
		/* a return address is after the call: look up the call itself */
		found = unwind_lookup_cached(w->mods, n ? w->regs.pc - 1 : w->regs.pc, &row);
		if (found < 0 && w->from_fp) {	/* fp chain into the unknown */
			st->flags |= STACK_F_UNWIND_ERROR;
			w->done = 1;
			return 1;
		}
	}
	st->ip[n] = w->regs.pc;
	st->nr = n + 1;
	rc = found > 0 ? unwind_row_step(w->win, &w->regs, &row, w->memo) : UNWIND_FALLBACK;
	w->from_fp = rc == UNWIND_FALLBACK;
	if (rc == UNWIND_FALLBACK) {
		if (dwarf) {
			w->fp_frames++;
			st->flags |= STACK_F_FP_FALLBACK;
		}
		rc = unwind_fp_step(w->win, &w->regs, w->memo);
	}
	if (rc == UNWIND_NEXT)
		return 0;
	if (rc == UNWIND_ERR)
		st->flags |= STACK_F_UNWIND_ERROR;
	w->done = 1;
	return 1;
}

/* bpf_loop callbacks: a frame by rows (or fp where none), a frame by fp. */
static long unwind_step(__u32 i, void *ctx)
{
	return unwind_step_mode(ctx, true);
}

static long unwind_step_fp(__u32 i, void *ctx)
{
	return unwind_step_mode(ctx, false);
}

/*
 * Turn the walk's word addresses into offsets from lo, the form
 * unwind_memo_check() compares, or make memo unusable (nr past
 * UNWIND_MEMO_WORDS) when its words do not fit one aligned span of the
 * window. Done once per walk, so that each check does as little as it can.
 */
__noinline int unwind_memo_seal(struct unwind_memo *memo)
{
	__u64 lo, nr, off;

	if (!memo)
		return 0;
	nr = memo->nr;
	lo = memo->lo;
	if (!nr || nr > UNWIND_MEMO_WORDS || memo->hi < lo || (lo & 7) ||
	    memo->hi + 8 - lo > UNWIND_WINDOW)
		goto unusable;
	for (__u32 i = 0; i < UNWIND_MEMO_WORDS; i++) {
		if (i >= nr)
			return 0;
		off = memo->addr[i] - lo;
		if (off & 7)
			goto unusable;
		memo->addr[i] = off;
	}
	return 0;
unusable:
	memo->nr = UNWIND_MEMO_WORDS + 1;
	return 0;
}

/*
 * 1 when every word memo noted (sealed) still holds the value it had,
 * else 0. The words usually span a few hundred bytes of one stack: one
 * read of the span into win->buf (not through its chunks), then compares.
 */
__noinline int unwind_memo_check(struct unwind_window_buf *win, const struct unwind_memo *memo)
{
	__u64 nr, len, diff = 0;

	if (!win || !memo || !memo->nr || memo->nr > UNWIND_MEMO_WORDS)
		return 0;
	nr = memo->nr;
	len = memo->hi + 8 - memo->lo;	/* sealed: aligned, within the window */
	if (len > UNWIND_WINDOW)
		return 0;
	/* One read of the span: its fixed cost dominates (measured: reading
	 * only the 512-byte chunks that hold words was no faster). */
	if (bpf_probe_read_user(win->buf, len, (void *)memo->lo))
		return 0;
	/* A plain bounded loop, verified once (a global function), without a
	 * branch per word: a bpf_loop callback per word measured 4x slower. */
	for (__u32 i = 0; i < UNWIND_MEMO_WORDS; i++) {
		if (i >= nr)
			break;
		diff |= *(__u64 *)&win->buf[memo->addr[i] & (UNWIND_WINDOW - 8)] ^ memo->val[i];
	}
	return diff == 0;
}

/*
 * Walk the user stack from regs into st (st->nr, st->flags, st->ip[]),
 * ip[0] = regs->ip. regs: a uretprobe's ctx, or for a syscall tracepoint
 * bpf_task_pt_regs(bpf_get_current_task_btf()). mode: UNWIND_DWARF uses
 * tgid's modules (all frame pointer, flagged, if it has none); UNWIND_FP
 * follows frame pointers only. Never fails: returns st->nr; problems show
 * as STACK_F_UNWIND_ERROR, STACK_F_TRUNCATED, STACK_F_FP_FALLBACK.
 *
 * memo (nullable): this thread's record of an earlier walk. When that walk
 * started from the same registers and mode, the modules kept their
 * generation and every stack word it needed is unchanged, this walk would
 * find the same stack: returns UNWIND_MEMO_HIT without walking, st left
 * as it was, and memo->result is what the caller stored for that stack.
 * Otherwise it walks and records the walk in memo with result 0, for the
 * caller to fill (a walk that cannot be memoized leaves memo->nr past
 * UNWIND_MEMO_WORDS, which never hits).
 */
static __always_inline int unwind_user_stack(struct pt_regs *regs, __u32 tgid,
					     struct stack_trace *st, __u32 mode,
					     struct unwind_memo *memo)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct unwind_modules *mods = NULL;
	struct unwind_window_buf *win;
	struct unwind_walk w;
	__u64 pc, sp, fp, ri = 0, seq;
	__u32 zero = 0, gen = 0, attempt = 0;

	st->nr = 0;
	st->flags = 0;
	if (!regs)
		return 0;
	pc = PT_REGS_IP(regs);
	sp = PT_REGS_SP(regs);
	fp = PT_REGS_FP(regs);
	if (!pc)
		return 0;
	if (bpf_core_field_exists(struct task_struct, utask)) {
		struct uprobe_task *ut = task->utask;

		if (ut)
			ri = (__u64)ut->return_instances;
	}
	if (mode == UNWIND_DWARF) {
		mods = bpf_map_lookup_elem(&unwind_modules, &tgid);
		if (mods)
			gen = mods->gen;
	}
	win = bpf_map_lookup_elem(&unwind_window, &zero);
	if (ri)
		memo = NULL;	/* return addresses come from the kernel too */
	/* test memo itself below: the verifier cannot relate two tests of ri */
	asm volatile("" : "+r"(memo));
	if (memo && memo->result && memo->pc == pc && memo->sp == sp && memo->gen == gen &&
	    memo->mode == mode && (!memo->uses_fp || memo->fp == fp) && win) {
		seq = ++win->seq;
		if (unwind_memo_check(win, memo) && win->seq == seq)
			return UNWIND_MEMO_HIT;
	}
	/* A walk that another walk on this CPU disturbed (the window is
	 * per-CPU) is redone once. do/while: the back-edge is the loop's
	 * conditional jump, never a fall-through, which Linux 6.1's verifier
	 * rejects (check_cfg) and clang made of a for loop with continue. */
	do {
		__builtin_memset(&w, 0, sizeof(w));
		st->nr = 0;
		st->flags = 0;
		if (memo) {
			memo->result = 0;
			memo->nr = 0;
		}
		w.st = st;
		w.mods = mods;
		w.win = win;
		w.memo = memo;
		w.regs.base = sp & ~(__u64)(UNWIND_CHUNK - 1);
		w.regs.pc = pc;
		w.regs.sp = sp;
		w.regs.fp = fp;
		w.regs.fp_valid = 1;
		w.regs.fp_initial = 1;
		w.regs.ri = ri;
		seq = win ? ++win->seq : 0;
		/* mode is a constant where the caller's is: one walker per program */
		bpf_loop(MAX_STACK_DEPTH, mode == UNWIND_DWARF ? unwind_step : unwind_step_fp,
			 &w, 0);
		if (!w.done && w.regs.pc && st->nr >= MAX_STACK_DEPTH)
			st->flags |= STACK_F_TRUNCATED;
	} while (win && win->seq != seq && !attempt++);
	if (win && win->seq != seq) {
		st->flags |= STACK_F_UNWIND_ERROR;
		if (memo)
			memo->nr = UNWIND_MEMO_WORDS + 1;
	}
	if (memo) {
		memo->pc = pc;
		memo->sp = sp;
		memo->fp = fp;
		memo->gen = gen;
		memo->mode = mode;
		memo->uses_fp = w.regs.used_fp0;
		unwind_memo_seal(memo);
	}
	unwind_count_fp_fallback(w.fp_frames);
	return st->nr;
}

/*
 * This CPU's walk counter: a caller that keeps using the walk's result
 * (st is per-CPU scratch too) compares it before and after to detect
 * another walk on this CPU in between.
 */
static __always_inline __u64 unwind_seq(void)
{
	__u32 zero = 0;
	struct unwind_window_buf *win = bpf_map_lookup_elem(&unwind_window, &zero);

	return win ? win->seq : 0;
}

#endif /* MEMTRACE_UNWIND_BPF_H */

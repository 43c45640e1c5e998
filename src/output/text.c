// SPDX-License-Identifier: MIT
/* text.c - a report for a terminal. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "common/util.h"
#include "output/collapsed.h"
#include "output/text.h"

const char *text__bytes(int64_t bytes, char *buf, size_t len)
{
	return bytes__human(bytes, buf, len);
}

static void print_frame(const struct frame *f, FILE *out)
{
	char buf[512];	/* module basename (<= NAME_MAX) + "+0x" + offset */

	fprintf(out, "        %s%s", f->inlined ? "  (inlined) " : "",
		frame__name(f, buf, sizeof(buf)));
	if (f->kernel && f->function)
		fprintf(out, "+0x%" PRIx64, f->offset);	/* of the return address */
	if (f->file)
		fprintf(out, " at %s:%d", f->file, f->line);
	if (f->module && f->function)
		fprintf(out, "  [%s]", frame__module_base(f->module));
	else if (f->module && f->build_id)
		fprintf(out, "  [build-id %s]", f->build_id);
	fputc('\n', out);
}

static void print_stack(const struct report *r, const struct stack_report *s, size_t rank,
			FILE *out)
{
	char b1[32], b2[32];

	fprintf(out, "#%zu  %s outstanding in %" PRId64 " allocation%s (%s%s%s)",
		rank, text__bytes(s->outstanding_bytes, b1, sizeof(b1)), s->outstanding_allocs,
		s->outstanding_allocs == 1 ? "" : "s", alloc_kind_name(s->kind),
		s->cache ? " " : "", s->cache ? s->cache : "");
	fprintf(out, "  [%" PRIu64 " calls, %s allocated, %" PRIu64 " freed",
		s->alloc_calls, text__bytes((int64_t)s->alloc_bytes, b2, sizeof(b2)),
		s->free_calls);
	if (s->oldest_age_s >= 0)
		fprintf(out, ", oldest %.1fs", s->oldest_age_s);
	fputs("]\n", out);
	if (s->analysed) {
		/* one line that never contradicts itself: a growth not rated is
		 * 0 with its reason; a capped severity says what capped it */
		if (s->growth_reason)
			fprintf(out, "      growth 0 B/s (%s), severity %s", s->growth_reason,
				severity_name(s->severity));
		else
			fprintf(out, "      growth %.0f B/s (%.2f MB/h), severity %s",
				s->growth_bytes_per_s, s->growth_bytes_per_s * 3600 / 1e6,
				severity_name(s->severity));
		if (s->severity >= SEV_LOW && s->severity_reason &&
		    strcmp(s->severity_reason, "steady growth") != 0)
			fprintf(out, " (%s)", s->severity_reason);
		if (s->category >= 0 && (size_t)s->category < r->nr_categories)
			fprintf(out, ", category %s", r->categories[s->category].name);
		fputc('\n', out);
	}
	if (s->nr_frames) {
		for (size_t i = 0; i < s->nr_frames; i++)
			print_frame(&s->frames[i], out);
	} else {
		for (uint32_t i = 0; i < s->nr_ips; i++) {
			struct frame f = { .ip = s->ips[i] };

			print_frame(&f, out);
		}
	}
	if (s->flags & STACK_F_TRUNCATED)
		fputs("        ... (truncated)\n", out);
	else if (s->flags & STACK_F_UNWIND_ERROR)
		fputs("        ... (unwinding stopped early)\n", out);
	if (!s->nr_ips && !s->nr_frames)
		fputs("        (stack not recorded)\n", out);
}

/* One /proc/meminfo value and its change, "Slab 120.3 MiB (+1.2 MiB, +0.4 MB/h)". */
static void print_meminfo(const char *name, int64_t v, int64_t delta, double growth, FILE *out)
{
	char b1[32], b2[32];

	if (v < 0) {
		fprintf(out, "%s unknown", name);
		return;
	}
	fprintf(out, "%s %s (%s%s, %+.2f MB/h)", name, text__bytes(v, b1, sizeof(b1)),
		delta >= 0 ? "+" : "", text__bytes(delta, b2, sizeof(b2)), growth * 3600 / 1e6);
}

/* --kernel: the scope line and /proc/meminfo's kernel memory. */
static void print_kernel(const struct report *r, FILE *out)
{
	const struct kernel_view *k = &r->kernel;
	static const char *const scope[] = {
		[SCOPE_USER_KERNEL] = "user allocations and kernel allocations in its context",
		[SCOPE_KERNEL_PID] = "kernel allocations in its context",
		[SCOPE_KERNEL_HOST] = "kernel allocations, host-wide",
	};

	fprintf(out, "Tracing %s.\nKernel (/proc/meminfo, change since start): ",
		scope[r->scope]);
	print_meminfo("Slab", k->slab_bytes, k->slab_delta, k->slab_growth_bytes_per_s, out);
	fputs("; ", out);
	print_meminfo("SUnreclaim", k->sunreclaim_bytes, k->sunreclaim_delta,
		      k->sunreclaim_growth_bytes_per_s, out);
	fputs("; ", out);
	print_meminfo("Percpu", k->percpu_bytes, k->percpu_delta, k->percpu_growth_bytes_per_s, out);
	fputc('\n', out);
}

/* " (allocs_map_full: N, ...)": the reasons of the drops, when there are any. */
static void print_drop_reasons(const struct totals *t, FILE *out)
{
	const char *sep = " (";

	for (unsigned int i = 0; i < DROP_MAX; i++) {
		if (!t->drops[i])
			continue;
		fprintf(out, "%s%s: %" PRIu64, sep, drop_name(i), t->drops[i]);
		sep = ", ";
	}
	if (sep[0] == ',')
		fputc(')', out);
}

int text_report__write(const struct report *r, int top, FILE *out)
{
	const struct totals *t = &r->totals;
	size_t n = r->nr_stacks, shown = 0;
	char b[32];

	if (top > 0 && (size_t)top < n)
		n = (size_t)top;
	if (r->scope == SCOPE_KERNEL_HOST)
		fprintf(out, "\n=== memtrace: kernel, host-wide, %.1fs%s ===\n", r->elapsed_s,
			r->final ? ", final report" : "");
	else
		fprintf(out, "\n=== memtrace: pid %d (%s), %.1fs%s ===\n", r->pid, r->comm,
			r->elapsed_s, r->final ? ", final report" : "");
	if (r->scope != SCOPE_USER)
		print_kernel(r, out);
	fprintf(out, "Tracking allocations made since tracing went live");
	if (r->sample_bytes)
		fprintf(out, " (sampled: about one per %" PRIu64 " bytes, estimates)", r->sample_bytes);
	fputs(".\n", out);
	if (r->exec_count)
		fputs("The target executed a new program: tracing ended at exec; this is the old "
		      "image's last report, the new image is not traced.\n", out);
	if (t->counters[CNT_FORKS])
		fprintf(out, "The target forked %" PRIu64 " child process%s: children are not "
			"traced.\n", t->counters[CNT_FORKS], t->counters[CNT_FORKS] == 1 ? "" : "es");
	fprintf(out, "Outstanding: %s in %" PRId64 " allocations; %" PRIu64 " alloc calls, %"
		PRIu64 " frees\n", text__bytes(t->outstanding_bytes, b, sizeof(b)),
		t->outstanding_allocs, t->alloc_calls, t->free_calls);
	fprintf(out, "Dropped events: %" PRIu64, t->dropped_events);
	print_drop_reasons(t, out);
	fprintf(out, "; unmatched frees: %" PRIu64 "; unwind failures: %" PRIu64
		"; truncated stacks: %" PRIu64 "\n",
		t->unmatched_frees, t->unwind_failed, t->truncated_stacks);
	if (r->paths.release[0]) {
		fprintf(out, "Kernel %s: uprobes through %s links%s, %s stack walker",
			r->paths.release, r->paths.uprobe_multi ? "uprobe_multi" : "perf-event",
			r->paths.uprobe_session ? " (malloc family: sessions)" : "",
			r->unwind == UNWIND_DWARF ? "dwarf" : "frame-pointer");
		if (r->paths.fallbacks)
			fprintf(out, " (%u fallback%s: no %s)", r->paths.fallbacks,
				r->paths.fallbacks > 1 ? "s" : "", r->paths.missing);
		fputs("\n", out);
		fprintf(out, "Probe runs: %" PRIu64 "; malloc family: %" PRIu64 " entries, %" PRIu64
			" returns\n", t->counters[CNT_PROBE_HITS], t->counters[CNT_ALLOC_ENTRIES],
			t->counters[CNT_ALLOC_RETURNS]);
	}
	if (r->maps.memory_bytes) {
		const struct map_usage *m = &r->maps;
		char mb[32], ab[32], sb[32], gb[32];

		fprintf(out, "BPF maps: %s; live allocations table %" PRIu64 " of %" PRIu64
			" slots (%s, grows to %" PRIu64 ", %" PRIu64 " grow%s); stacks %s;"
			" aggregates %s\n", text__bytes((int64_t)m->memory_bytes, mb, sizeof(mb)),
			m->allocs_live, m->allocs_capacity,
			text__bytes((int64_t)m->allocs_memory_bytes, ab, sizeof(ab)), m->allocs_max,
			m->allocs_grows, m->allocs_grows == 1 ? "" : "s",
			text__bytes((int64_t)m->stacks_memory_bytes, sb, sizeof(sb)),
			text__bytes((int64_t)m->aggs_memory_bytes, gb, sizeof(gb)));
	}
	if (r->unwind == UNWIND_DWARF)
		fprintf(out, "Unwinding: dwarf, %" PRIu64 " binaries with tables (%" PRIu64
			" rows of %" PRIu64 "), %" PRIu64 " without; %" PRIu64
			" frames by frame pointer\n", t->unwind_tables, t->unwind_rows,
			t->unwind_rows_max, t->unwind_no_table, t->fp_fallback_frames);
	for (size_t i = 0; i < r->nr_unwind_failures; i++)
		fprintf(out, "  no unwind table for %s%s%s: %s\n", r->unwind_failures[i].module,
			r->unwind_failures[i].build_id[0] ? " build-id " : "",
			r->unwind_failures[i].build_id, strerror(-r->unwind_failures[i].err));
	for (size_t i = 0; i < r->nr_stacks && shown < n; i++) {
		if (r->stacks[i].outstanding_bytes <= 0)
			continue;	/* freed or churned away: no outstanding memory */
		if (!shown)
			fprintf(out, "\nTop stacks by outstanding bytes:\n");
		print_stack(r, &r->stacks[i], ++shown, out);
	}
	if (!shown)
		fputs("\nNo outstanding allocations.\n", out);
	return fflush(out) ? -EIO : 0;
}

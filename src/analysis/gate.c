// SPDX-License-Identifier: MIT
/* gate.c - --fail-on / --max-growth exit statuses for CI. */
#include <errno.h>
#include "analysis/analysis.h"
#include "analysis/gate.h"

void gate_opts__defaults(struct gate_opts *g)
{
	g->fail_on_set = false;
	g->fail_on = SEV_CRITICAL;
	g->max_growth_set = false;
	g->max_growth_bps = 0;
}

int gate__parse_fail_on(struct gate_opts *g, const char *s)
{
	enum severity sev;

	if (!s || severity_parse(s, &sev) || sev == SEV_NONE)
		return -EINVAL;
	g->fail_on = sev;
	g->fail_on_set = true;
	return 0;
}

int gate__parse_max_growth(struct gate_opts *g, const char *s)
{
	double bps;

	if (analysis__parse_rate(s, &bps))
		return -EINVAL;
	g->max_growth_bps = bps;
	g->max_growth_set = true;
	return 0;
}

int gate__check(const struct gate_opts *g, const struct report *r, struct gate_result *res)
{
	struct gate_result out = { .status = GATE_EXIT_OK, .severity_stack = -1, .growth_stack = -1 };

	for (size_t i = 0; i < r->nr_stacks; i++) {
		const struct stack_report *s = &r->stacks[i];

		if (!s->analysed)
			continue;
		if (g->fail_on_set && s->severity >= g->fail_on &&
		    (out.severity_stack < 0 || s->severity > r->stacks[out.severity_stack].severity))
			out.severity_stack = (ssize_t)i;
		if (g->max_growth_set && s->severity >= SEV_LOW &&
		    s->growth_bytes_per_s > g->max_growth_bps &&
		    (out.growth_stack < 0 ||
		     s->growth_bytes_per_s > r->stacks[out.growth_stack].growth_bytes_per_s))
			out.growth_stack = (ssize_t)i;
	}
	if (out.severity_stack >= 0)
		out.status = GATE_EXIT_SEVERITY;
	else if (out.growth_stack >= 0)
		out.status = GATE_EXIT_GROWTH;
	if (res)
		*res = out;
	return out.status;
}

int gate__print(const struct gate_opts *g, const struct gate_result *res,
		const struct report *r, FILE *f)
{
	char label[512];

	if (res->severity_stack >= 0) {
		const struct stack_report *s = &r->stacks[res->severity_stack];

		fprintf(f, "memtrace: --fail-on %s: %s stack %s growing %+.1f MB/h (%+.0f B/s), exit %d\n",
			severity_name(g->fail_on), severity_name(s->severity),
			analysis__stack_label(s, ANALYSIS_LABEL_DEPTH, label, sizeof(label)),
			s->growth_bytes_per_s / MB_PER_H, s->growth_bytes_per_s, GATE_EXIT_SEVERITY);
	}
	if (res->growth_stack >= 0) {
		const struct stack_report *s = &r->stacks[res->growth_stack];

		fprintf(f, "memtrace: --max-growth %.0f B/s: stack %s grows %+.0f B/s (%+.1f MB/h), exit %d\n",
			g->max_growth_bps,
			analysis__stack_label(s, ANALYSIS_LABEL_DEPTH, label, sizeof(label)),
			s->growth_bytes_per_s, s->growth_bytes_per_s / MB_PER_H,
			res->severity_stack >= 0 ? GATE_EXIT_SEVERITY : GATE_EXIT_GROWTH);
	}
	return ferror(f) ? -EIO : 0;
}

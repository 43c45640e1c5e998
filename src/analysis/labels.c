// SPDX-License-Identifier: MIT
/* labels.c - short human names of frames and stacks (gate, baseline, writers). */
#include <inttypes.h>
#include <stdio.h>
#include "analysis/analysis.h"

const char *analysis__frame_name(const struct frame *f, bool allow_ip, char *buf, size_t len)
{
	const char *name = "?";

	if (allow_ip || (f->function && *f->function) || (f->module && *f->module))
		name = frame__name(f, buf, len);
	if (name != buf)
		snprintf(buf, len, "%s", name);
	return buf;
}

const char *analysis__stack_label(const struct stack_report *s, int depth, char *buf, size_t len)
{
	size_t used = 0, nr = s->nr_frames ? s->nr_frames : s->nr_ips;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < nr && (int)i < depth && used < len; i++) {
		char name[256];

		if (s->nr_frames)
			analysis__frame_name(&s->frames[i], true, name, sizeof(name));
		else
			snprintf(name, sizeof(name), "0x%" PRIx64, s->ips[i]);
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " <- " : "", name);
	}
	if (used < len)
		snprintf(buf + used, len - used, "%s[%s]", nr ? " " : "", alloc_kind_name(s->kind));
	return buf;
}

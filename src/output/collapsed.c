// SPDX-License-Identifier: MIT
/* collapsed.c - collapsed stacks ("a;b;c 123") for flame graph tools. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "output/collapsed.h"

/* One frame name, separators made safe. */
static void put_name(FILE *f, const char *s)
{
	for (; *s; s++) {
		char c = *s;

		if (c == ';')
			c = ':';
		else if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		putc(c, f);
	}
}

int collapsed__write(const struct report *r, FILE *f)
{
	char buf[256];

	for (size_t i = 0; i < r->nr_stacks; i++) {
		const struct stack_report *s = &r->stacks[i];
		bool first = true;

		if (s->outstanding_bytes <= 0)
			continue;
		for (size_t j = s->nr_frames; j-- > 0; first = false) {
			if (!first)
				putc(';', f);
			put_name(f, frame__name(&s->frames[j], buf, sizeof(buf)));
		}
		if (!s->nr_frames) {
			for (size_t j = s->nr_ips; j-- > 0; first = false)
				fprintf(f, "%s0x%" PRIx64, first ? "" : ";", s->ips[j]);
		}
		if (first)
			fputs("[unknown]", f);
		fprintf(f, " %" PRId64 "\n", s->outstanding_bytes);
	}
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}

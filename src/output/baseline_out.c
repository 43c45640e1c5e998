// SPDX-License-Identifier: MIT
/* baseline_out.c - a baseline comparison as text and as JSON. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "output/json_out.h"
#include "output/baseline_out.h"
#include "output/text.h"

static const char *fmt_signed_bytes(int64_t v, char *buf, size_t len)
{
	char tmp[24];

	text__bytes(llabs(v), tmp, sizeof(tmp));
	snprintf(buf, len, "%s%s", v < 0 ? "-" : "+", tmp);
	return buf;
}

static const char *fmt_pct(const struct baseline_entry *e, char *buf, size_t len)
{
	if (e->status == BASELINE_NEW)
		snprintf(buf, len, "new");
	else if (e->status == BASELINE_VANISHED)
		snprintf(buf, len, "vanished");
	else if (isnan(e->drift_pct))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%+.1f%%", e->drift_pct);
	return buf;
}

int baseline_diff__print_text(const struct baseline_diff *d, size_t max_lines, FILE *f)
{
	char a[32], b[32], c[32], p[32];
	size_t shown = 0, drifted = 0;

	fprintf(f, "Baseline: %s (pid %d, %.0f s traced)\n", d->base->comm, d->base->pid,
		d->base->elapsed_s);
	fprintf(f, "  total outstanding %s -> %s: %s",
		text__bytes(d->base_total, a, sizeof(a)),
		text__bytes(d->cur_total, b, sizeof(b)),
		fmt_signed_bytes(d->drift_total, c, sizeof(c)));
	if (!isnan(d->drift_pct))
		fprintf(f, " (%+.1f%%)", d->drift_pct);
	fprintf(f, "\n  %zu matched, %zu new, %zu vanished\n", d->nr_matched, d->nr_new,
		d->nr_vanished);
	for (size_t i = 0; i < d->nr; i++)
		drifted += d->entries[i].drift_bytes != 0;
	if (drifted)
		fprintf(f, "  %11s %9s %11s %11s  %s\n", "DRIFT", "PCT", "BASELINE", "NOW", "STACK");
	for (size_t i = 0; i < d->nr; i++) {
		const struct baseline_entry *e = &d->entries[i];

		if (!e->drift_bytes)
			continue;
		if (max_lines && shown == max_lines) {
			fprintf(f, "  ... %zu more\n", drifted - shown);
			break;
		}
		fprintf(f, "  %11s %9s %11s %11s  %s\n",
			fmt_signed_bytes(e->drift_bytes, a, sizeof(a)), fmt_pct(e, p, sizeof(p)),
			e->status == BASELINE_NEW ? "-" : text__bytes(e->base_bytes, b, sizeof(b)),
			e->status == BASELINE_VANISHED ? "-" : text__bytes(e->cur_bytes, c, sizeof(c)),
			e->label);
		shown++;
	}
	return ferror(f) ? -EIO : 0;
}

static json_object *pct_json(double v)
{
	return isnan(v) ? NULL : json_object_new_double(v);
}

static const char *const status_names[] = {
	[BASELINE_MATCHED] = "matched",
	[BASELINE_NEW] = "new",
	[BASELINE_VANISHED] = "vanished",
};

json_object *baseline_diff__to_json(const struct baseline_diff *d)
{
	json_object *root, *base, *total, *arr;

	root = json_object_new_object();
	base = json_object_new_object();
	total = json_object_new_object();
	arr = json_object_new_array();
	if (!root || !base || !total || !arr)
		goto put;
	json__add(base, "pid", json_object_new_int(d->base->pid));
	json__add(base, "comm", json_object_new_string(d->base->comm));
	json__add(base, "time", json_object_new_double(d->base->time));
	json__add(total, "baseline_bytes", json_object_new_int64(d->base_total));
	json__add(total, "current_bytes", json_object_new_int64(d->cur_total));
	json__add(total, "drift_bytes", json_object_new_int64(d->drift_total));
	json__add(total, "drift_pct", pct_json(d->drift_pct));
	for (size_t i = 0; i < d->nr; i++) {
		const struct baseline_entry *e = &d->entries[i];
		json_object *o = json_object_new_object();

		if (!o || json_object_array_add(arr, o)) {
			json_object_put(o);
			goto put;
		}
		json__add(o, "status", json_object_new_string(status_names[e->status]));
		json__add(o, "signature", json_object_new_string(e->signature));
		json__add(o, "label", json_object_new_string(e->label));
		json__add(o, "baseline_bytes", e->status == BASELINE_NEW ? NULL : json_object_new_int64(e->base_bytes));
		json__add(o, "current_bytes", e->status == BASELINE_VANISHED ? NULL : json_object_new_int64(e->cur_bytes));
		json__add(o, "drift_bytes", json_object_new_int64(e->drift_bytes));
		json__add(o, "drift_pct", pct_json(e->drift_pct));
		json__add(o, "growth_bytes_per_s", json_object_new_double(e->growth_bps));
		json__add(o, "severity", json_object_new_string(severity_name(e->severity)));
	}
	json__add(root, "baseline", base);
	json__add(root, "total", total);
	json__add(root, "matched", json_object_new_uint64(d->nr_matched));
	json__add(root, "new", json_object_new_uint64(d->nr_new));
	json__add(root, "vanished", json_object_new_uint64(d->nr_vanished));
	json__add(root, "stacks", arr);
	return root;

put:
	json_object_put(arr);
	json_object_put(total);
	json_object_put(base);
	json_object_put(root);
	return NULL;
}

// SPDX-License-Identifier: MIT
/*
 * flamegraph.c - interactive flame graph SVG (see flamegraph.h).
 *
 * The stacks are merged into a tree (root -> caller-most -> leaf -> kind),
 * children ordered by bytes, then written depth-first: one <g class="f">
 * per frame holding a <title> (hover), a <rect> and a <text>, positions in
 * pixels. The embedded script keeps the original geometry and rescales
 * on zoom; it needs no network and no other file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "output/collapsed.h"
#include "output/flamegraph.h"
#include "output/flametree.h"
#include "common/util.h"

#define XPAD		10
#define TOP		56	/* title, subtitle, buttons */
#define BOTTOM		28	/* details line */
#define FONT_SIZE	12
#define CHAR_W		(FONT_SIZE * 0.6)

static void human_bytes(char *buf, size_t size, double v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while ((v >= 1024 || v <= -1024) && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%.0f B", v);
	else
		snprintf(buf, size, "%.2f %s", v, units[u]);
}

/* s, escaped for XML text and attributes, at most max characters (0: all). */
static void put_xml(FILE *f, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;

	while (*p && (!max || chars < max)) {
		size_t n = utf8__seq_len(p);

		chars++;
		if (n > 1) {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			putc(n == 1 && (*p >= 0x20 || *p == '\n' || *p == '\t') ? *p : '?', f);
		}
		p++;
	}
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void node_color(const struct flame_node *n, char *buf, size_t size)
{
	uint32_t h = name_hash(n->name);
	double v1 = (h & 0xff) / 255.0, v2 = ((h >> 8) & 0xff) / 255.0, v3 = ((h >> 16) & 0xff) / 255.0;
	uint8_t r, g, b;

	switch (n->type) {
	case FLAME_INLINE:		/* cool: inlined into the frame below */
		r = (uint8_t)(50 + 60 * v1);
		g = b = (uint8_t)(165 + 55 * v2);
		break;
	case FLAME_UNKNOWN:		/* grey: no symbol */
		r = g = b = (uint8_t)(180 + 30 * v1);
		break;
	case FLAME_KIND:		/* green: the allocator */
		r = (uint8_t)(120 + 40 * v1);
		g = (uint8_t)(200 + 40 * v2);
		b = 120;
		break;
	case FLAME_ROOT:
		r = 230, g = 120, b = 70;
		break;
	default:		/* warm */
		r = (uint8_t)(205 + 50 * v3);
		g = (uint8_t)(230 * v1);
		b = (uint8_t)(55 * v2);
	}
	snprintf(buf, size, "rgb(%u,%u,%u)", r, g, b);
}

struct out {
	FILE *f;
	int64_t total;
	double scale;		/* pixels per byte */
	int height;
};

static void write_node(struct out *o, const struct flame_tree *t, size_t i, double x, int depth)
{
	const struct flame_node *n = &t->n[i];
	double w = n->bytes * o->scale, y = o->height - BOTTOM - (depth + 1) * FLAMEGRAPH_FRAME_H;
	double pct = o->total ? 100.0 * n->bytes / o->total : 0;
	size_t fit = w > 6 ? (size_t)((w - 6) / CHAR_W) : 0;
	char bytes[32], color[32];

	if (w < FLAMEGRAPH_MIN_WIDTH)
		return;
	human_bytes(bytes, sizeof(bytes), (double)n->bytes);
	node_color(n, color, sizeof(color));
	fputs("<g class=\"f\" data-n=\"", o->f);
	put_xml(o->f, n->name, 0);
	fprintf(o->f, "\" data-d=\"");
	put_xml(o->f, n->name, 0);
	fprintf(o->f, " (%s, %.2f%%)\"><title>", bytes, pct);
	put_xml(o->f, n->name, 0);
	if (n->type == FLAME_INLINE)
		fputs(" (inlined)", o->f);
	if (n->type == FLAME_KIND)
		fputs(" (allocator)", o->f);
	if (n->module) {
		fputs("\nmodule: ", o->f);
		put_xml(o->f, n->module, 0);
	}
	if (n->file) {
		fputs("\nsource: ", o->f);
		put_xml(o->f, n->file, 0);
		if (n->line > 0)
			fprintf(o->f, ":%d", n->line);
	}
	fprintf(o->f, "\n%s outstanding (%" PRId64 " bytes, %.2f%%)</title>"
		"<rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"%s\" rx=\"2\"/>"
		"<text x=\"%.2f\" y=\"%.1f\">", bytes, n->bytes, pct, x, y, w,
		FLAMEGRAPH_FRAME_H - 1, color, x + 3, y + FLAMEGRAPH_FRAME_H - 5);
	if (fit >= 3) {
		if (utf8_chars(n->name) <= fit) {
			put_xml(o->f, n->name, 0);
		} else {
			put_xml(o->f, n->name, fit - 2);
			fputs("..", o->f);
		}
	}
	fputs("</text></g>\n", o->f);
	for (size_t c = n->child; c != FLAME_NONE; c = t->n[c].next) {
		write_node(o, t, c, x, depth + 1);
		x += t->n[c].bytes * o->scale;
	}
}

static const char style[] =
	"text{font-family:monospace;font-size:12px;fill:#000}\n"
	"#title{font-size:17px;text-anchor:middle}\n"
	"#subtitle{text-anchor:middle;fill:#555}\n"
	"#search,#unzoom{cursor:pointer;fill:#225}\n"
	"#search.active{fill:#c0c}\n"
	"g.f{cursor:pointer}\n"
	"g.f:hover rect{stroke:#000;stroke-width:0.6}\n"
	"g.f text{pointer-events:none}\n"
	".hide{display:none}\n"
	".parent{opacity:0.55}\n";

/* The viewer: original geometry kept on each frame, rescaled on zoom. */
static const char script[] =
	"'use strict';\n"
	"var svg, frames, details, matched, unzoomBtn, searchBtn, W, XPAD, CW;\n"
	"var HIT = 'rgb(230,0,230)', EPS = 0.001;\n"
	"function init() {\n"
	"  svg = document.documentElement;\n"
	"  W = +svg.getAttribute('width'); XPAD = +svg.getAttribute('data-xpad');\n"
	"  CW = +svg.getAttribute('data-charw');\n"
	"  details = document.getElementById('details');\n"
	"  matched = document.getElementById('matched');\n"
	"  unzoomBtn = document.getElementById('unzoom');\n"
	"  searchBtn = document.getElementById('search');\n"
	"  frames = Array.prototype.slice.call(document.querySelectorAll('g.f'));\n"
	"  frames.forEach(function (g) {\n"
	"    var r = g.querySelector('rect');\n"
	"    g._x = +r.getAttribute('x'); g._w = +r.getAttribute('width');\n"
	"    g._y = +r.getAttribute('y'); g._n = g.getAttribute('data-n');\n"
	"    g._fill = r.getAttribute('fill');\n"
	"    g.addEventListener('click', function (e) { zoom(g); e.stopPropagation(); });\n"
	"    g.addEventListener('mouseover', function () { details.textContent = g.getAttribute('data-d'); });\n"
	"    g.addEventListener('mouseout', function () { details.textContent = ' '; });\n"
	"  });\n"
	"  unzoomBtn.addEventListener('click', unzoom);\n"
	"  searchBtn.addEventListener('click', askSearch);\n"
	"  window.addEventListener('keydown', function (e) {\n"
	"    if (e.key === 'F3' || ((e.ctrlKey || e.metaKey) && e.key === 'f')) { e.preventDefault(); askSearch(); }\n"
	"    else if (e.key === 'Escape') { unzoom(); clearSearch(); }\n"
	"  });\n"
	"  applyHash();\n"
	"  svg.setAttribute('data-ready', '1');\n"
	"}\n"
	"function place(g, x, w) {\n"
	"  var r = g.querySelector('rect'), t = g.querySelector('text');\n"
	"  var fit = Math.floor((w - 6) / CW), s = g._n;\n"
	"  r.setAttribute('x', x.toFixed(2)); r.setAttribute('width', w.toFixed(2));\n"
	"  t.setAttribute('x', (x + 3).toFixed(2));\n"
	"  if (fit < 3) s = ''; else if (s.length > fit) s = s.substring(0, fit - 2) + '..';\n"
	"  t.textContent = s;\n"
	"}\n"
	"function zoom(z) {\n"
	"  var scale = (W - 2 * XPAD) / z._w;\n"
	"  frames.forEach(function (g) {\n"
	"    g.classList.remove('hide'); g.classList.remove('parent');\n"
	"    var inside = g._x >= z._x - EPS && g._x + g._w <= z._x + z._w + EPS;\n"
	"    if (g._y > z._y) {\n"
	"      if (g._x <= z._x + EPS && g._x + g._w >= z._x + z._w - EPS) {\n"
	"        g.classList.add('parent'); place(g, XPAD, W - 2 * XPAD);\n"
	"      } else g.classList.add('hide');\n"
	"    } else if (inside) place(g, XPAD + (g._x - z._x) * scale, g._w * scale);\n"
	"    else g.classList.add('hide');\n"
	"  });\n"
	"  unzoomBtn.classList.remove('hide');\n"
	"  svg.setAttribute('data-zoom', z._n);\n"
	"}\n"
	"function unzoom() {\n"
	"  frames.forEach(function (g) {\n"
	"    g.classList.remove('hide'); g.classList.remove('parent'); place(g, g._x, g._w);\n"
	"  });\n"
	"  unzoomBtn.classList.add('hide');\n"
	"  svg.removeAttribute('data-zoom');\n"
	"}\n"
	"function clearSearch() {\n"
	"  frames.forEach(function (g) { g.querySelector('rect').setAttribute('fill', g._fill); });\n"
	"  matched.textContent = ' '; searchBtn.classList.remove('active');\n"
	"  svg.removeAttribute('data-matched');\n"
	"}\n"
	"function search(term) {\n"
	"  var re, hits = [], sum = 0, end = -1;\n"
	"  try { re = new RegExp(term); } catch (e) { matched.textContent = 'bad regexp'; return; }\n"
	"  frames.forEach(function (g) {\n"
	"    var hit = re.test(g._n);\n"
	"    g.querySelector('rect').setAttribute('fill', hit ? HIT : g._fill);\n"
	"    if (hit) hits.push(g);\n"
	"  });\n"
	"  hits.sort(function (a, b) { return a._x - b._x || b._w - a._w; });\n"
	"  hits.forEach(function (g) { if (g._x >= end - EPS) { sum += g._w; end = g._x + g._w; } });\n"
	"  var pct = (100 * sum / (W - 2 * XPAD)).toFixed(1);\n"
	"  matched.textContent = 'Matched: ' + pct + '% (' + hits.length + ' frames)';\n"
	"  searchBtn.classList.add('active');\n"
	"  svg.setAttribute('data-matched', pct);\n"
	"}\n"
	"function askSearch() {\n"
	"  var term = window.prompt('Search frames (regular expression):', '');\n"
	"  if (term === null || term === '') clearSearch(); else search(term);\n"
	"}\n"
	"function applyHash() {\n"
	"  var h = window.location.hash.replace(/^#/, '');\n"
	"  h.split('&').forEach(function (kv) {\n"
	"    var i = kv.indexOf('='); if (i < 0) return;\n"
	"    var k = kv.substring(0, i), v = decodeURIComponent(kv.substring(i + 1));\n"
	"    if (k === 'search') search(v);\n"
	"    if (k === 'zoom') {\n"
	"      var z = frames.filter(function (g) { return g._n === v; })\n"
	"                    .sort(function (a, b) { return b._w - a._w; })[0];\n"
	"      if (z) zoom(z);\n"
	"    }\n"
	"  });\n"
	"}\n";

static void write_header(struct out *o, const struct report *r, const char *title, size_t stacks)
{
	char total[32];

	human_bytes(total, sizeof(total), (double)o->total);
	fprintf(o->f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" data-xpad=\"%d\" data-charw=\"%.2f\" onload=\"init()\">\n"
		"<style type=\"text/css\"><![CDATA[\n%s]]></style>\n"
		"<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n"
		"<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f6f6f2\"/>\n"
		"<text id=\"title\" x=\"%d\" y=\"22\">", FLAMEGRAPH_WIDTH, o->height,
		FLAMEGRAPH_WIDTH, o->height, XPAD, CHAR_W, style, script, FLAMEGRAPH_WIDTH / 2);
	put_xml(o->f, title ? title : "memtrace: outstanding bytes", 0);
	fprintf(o->f, "</text>\n<text id=\"subtitle\" x=\"%d\" y=\"40\">pid %d (",
		FLAMEGRAPH_WIDTH / 2, r->pid);
	put_xml(o->f, r->comm, 0);
	fprintf(o->f, "), %s outstanding in %zu stacks after %.0f s%s</text>\n"
		"<text id=\"unzoom\" class=\"hide\" x=\"%d\" y=\"22\">Reset Zoom</text>\n"
		"<text id=\"search\" x=\"%d\" y=\"22\">Search</text>\n"
		"<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n"
		"<text id=\"matched\" x=\"%d\" y=\"%d\"> </text>\n",
		total, stacks, r->elapsed_s, r->sample_bytes ? " (sampled, unbiased)" : "",
		XPAD, FLAMEGRAPH_WIDTH - XPAD - 60, XPAD, o->height - 10,
		FLAMEGRAPH_WIDTH - XPAD - 260, o->height - 10);
}

int flamegraph__write(const struct report *r, FILE *f, const char *title)
{
	struct out o = { .f = f };
	struct flame_tree t;
	size_t stacks = 0;
	int err;

	err = flametree__build(&t, r);
	if (err)
		return err;
	for (size_t i = 0; i < r->nr_stacks; i++)
		stacks += r->stacks[i].outstanding_bytes > 0;
	o.total = t.n[0].bytes;
	o.scale = o.total > 0 ? (double)(FLAMEGRAPH_WIDTH - 2 * XPAD) / o.total : 0;
	o.height = TOP + (t.max_depth + 1) * FLAMEGRAPH_FRAME_H + BOTTOM;
	write_header(&o, r, title, stacks);
	fputs("<g id=\"frames\">\n", f);
	if (o.total > 0)
		write_node(&o, &t, 0, XPAD, 0);
	else
		fprintf(f, "<text x=\"%d\" y=\"%d\">no outstanding bytes</text>\n", XPAD,
			o.height - BOTTOM - 4);
	fputs("</g>\n</svg>\n", f);
	flametree__free(&t);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * test_flamegraph.c - flame graph SVG: the expected frames with widths in
 * proportion to bytes, escaping of awkward names, well-formed XML
 * (xmllint), and a real browser (headless Chromium) that renders it to a
 * non-blank PNG and runs its script: search and zoom from the URL
 * fragment, checked in the DOM the browser dumps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <zlib.h>
#include "output/flamegraph.h"
#include "writers_fixture.h"
#include "writers_tools.h"

static char *render(const struct report *r, const char *title)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(flamegraph__write(r, f, title), 0);
	fclose(f);
	return buf;
}

/* width="..." of the frame whose data-n is name. */
static double frame_width(const char *svg, const char *name)
{
	char key[256];
	const char *g, *w;

	snprintf(key, sizeof(key), "<g class=\"f\" data-n=\"%s\"", name);
	g = strstr(svg, key);
	assert_non_null(g);
	w = strstr(g, " width=\"");
	assert_non_null(w);
	return strtod(w + 8, NULL);
}

static void test_frames_and_widths(void **state)
{
	struct report *r = fx_report();
	char *svg = render(r, "leak <test> & co");
	double full = FLAMEGRAPH_WIDTH - 20;
	(void)state;

	assert_non_null(strstr(svg, "<title>leak &lt;test&gt; &amp; co</title>") ||
			strstr(svg, ">leak &lt;test&gt; &amp; co</text>"));
	assert_non_null(strstr(svg, "data-n=\"leak_inner\""));
	assert_non_null(strstr(svg, "<title>leak_inner (inlined)\nmodule: " FX_APP
				    "\nsource: /src/leaky/leak.c:12\n3.00 MiB outstanding (3145728 bytes, 66.61%)"));
	assert_non_null(strstr(svg, "data-n=\"Pool&lt;Node, 64&gt;::grow(unsigned long)\""));
	assert_non_null(strstr(svg, "data-n=\"libfoo.so+0x1234\""));
	assert_non_null(strstr(svg, "data-n=\"0xdead0000\""));
	assert_non_null(strstr(svg, "data-n=\"[mmap]\""));
	assert_null(strstr(svg, "temp_buffer"));	/* nothing outstanding */
	assert_non_null(strstr(svg, "4722688 bytes, 100.00%"));
	assert_non_null(strstr(svg, "pid 4242 (leaky_app), 4.50 MiB outstanding in 4 stacks"));
	/* self-contained: nothing loaded from anywhere (the xmlns is a name, not a fetch) */
	assert_null(strstr(svg, "href"));
	assert_null(strstr(svg, "url("));
	assert_null(strstr(svg, "@import"));
	assert_null(strstr(svg, "src="));
	assert_null(strstr(svg, "https:"));

	/* widths in proportion to bytes; callers as wide as the sum above them */
	assert_float_equal(frame_width(svg, "all"), full, 0.01);
	assert_float_equal(frame_width(svg, "main"), full * (FX_TOTAL_BYTES - FX_RAW_BYTES) /
			   FX_TOTAL_BYTES, 0.01);
	assert_float_equal(frame_width(svg, "leak_outer"), full * FX_LEAK_BYTES / FX_TOTAL_BYTES, 0.01);
	assert_float_equal(frame_width(svg, "leak_inner"), full * FX_LEAK_BYTES / FX_TOTAL_BYTES, 0.01);
	/* __libc_start_main appears once: stacks merge into one tree */
	assert_null(strstr(strstr(svg, "data-n=\"__libc_start_main\"") + 1,
			   "data-n=\"__libc_start_main\""));
	free(svg);
	report__free(r);
}

static void test_empty_report(void **state)
{
	struct report r = { .pid = 7 };
	char *svg = render(&r, NULL);
	(void)state;

	assert_non_null(strstr(svg, "no outstanding bytes"));
	assert_non_null(strstr(svg, "</svg>"));
	free(svg);
}

static void test_narrow_frames_left_out(void **state)
{
	struct report *r = fx_big_report(3000, 8);
	char *svg;
	(void)state;

	/* the 1-byte tail stacks are far below 0.1 px */
	for (size_t i = 100; i < r->nr_stacks; i++)
		r->stacks[i].outstanding_bytes = 1;
	svg = render(r, NULL);
	assert_non_null(strstr(svg, "data-n=\"fn_100000(int)\""));
	assert_null(strstr(svg, "data-n=\"fn_102999(int)\""));
	free(svg);
	report__free(r);
}

/* A report whose names need escaping: markup, bad UTF-8, control bytes. */
static struct report *awkward_report(void)
{
	struct report *r = fx_report();

	free(r->stacks[0].frames[0].function);
	r->stacks[0].frames[0].function = strdup("evil</text><script>alert(1)</script>&\"'\x01\xff\xc3(");
	free(r->stacks[1].frames[0].function);
	r->stacks[1].frames[0].function = strdup("caf\xc3\xa9::na\xc3\xafve()");
	snprintf(r->comm, sizeof(r->comm), "a<b&c");
	return r;
}

static char *write_svg(const char *dir, const struct report *r, const char *name)
{
	char *path;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(flamegraph__write(r, f, "memtrace test"), 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* out without its trailing line break (xmllint --xpath ends with one). */
static const char *chomp(char *out)
{
	size_t n = strlen(out);

	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = 0;
	return out;
}

static void test_xmllint(void **state)
{
	struct report *r = awkward_report();
	char *dir, *path, *out = NULL;
	(void)state;

	if (!tool_exists("xmllint")) {
		report__free(r);
		skip();	/* libxml2-utils absent: tools/install-deps.sh installs it */
	}
	dir = make_tmpdir("svg");
	path = write_svg(dir, r, "flame.svg");
	assert_int_equal(run_capture((char *[]){ "xmllint", "--noout", path, NULL }, &out, 30), 0);
	assert_string_equal(out, "");
	free(out);
	/* the expected frames are there as elements, not just as bytes */
	assert_int_equal(run_capture((char *[]){ "xmllint", "--xpath",
		"count(//*[local-name()='g'][@class='f'][@data-n='main'])", path, NULL }, &out, 30), 0);
	assert_string_equal(chomp(out), "1");
	free(out);
	assert_int_equal(run_capture((char *[]){ "xmllint", "--xpath",
		"string(//*[local-name()='g'][@class='f'][starts-with(@data-n,'caf')]/@data-n)", path,
		NULL }, &out, 30), 0);
	assert_string_equal(chomp(out), "caf\xc3\xa9::na\xc3\xafve()");
	free(out);
	assert_int_equal(run_capture((char *[]){ "xmllint", "--xpath",
		"count(//*[local-name()='script'])", path, NULL }, &out, 30), 0);
	assert_string_equal(chomp(out), "1");	/* the name's <script> stayed text */
	free(out);
	free(path);
	remove_tree(dir);
	free(dir);
	report__free(r);
}

/* Headless chromium with its profile in profile_dir: mode (a flag), url. */
static int chromium(const char *profile_dir, const char *mode, const char *url, char **out)
{
	char profile[600];
	char *argv[] = { "chromium", "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", profile, "--hide-scrollbars", "--window-size=1200,400",
		(char *)mode, (char *)url, NULL };

	snprintf(profile, sizeof(profile), "--user-data-dir=%s", profile_dir);
	return run_capture(argv, out, 120);
}

/* Distinct byte values in the inflated image data of a PNG: a blank page
 * has very few, a drawn flame graph many. -1 if not a PNG. */
static int png_variety(const char *path)
{
	size_t len, pos = 8, cap = 1 << 20;
	unsigned char *png = (unsigned char *)read_file_all(path, &len), *raw = malloc(cap);
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	z_stream zs = { 0 };
	bool seen[256] = { 0 };
	int n = 0;

	if (!png || len < 8 || memcmp(png, sig, 8) != 0) {
		free(png);
		free(raw);
		return -1;
	}
	inflateInit(&zs);
	while (pos + 12 <= len) {
		uint32_t clen = (uint32_t)png[pos] << 24 | png[pos + 1] << 16 | png[pos + 2] << 8 | png[pos + 3];

		if (memcmp(png + pos + 4, "IDAT", 4) == 0) {
			zs.next_in = png + pos + 8;
			zs.avail_in = clen;
			while (zs.avail_in) {
				zs.next_out = raw;
				zs.avail_out = cap;
				if (inflate(&zs, Z_NO_FLUSH) < 0)
					break;
				for (size_t i = 0; i < cap - zs.avail_out; i++)
					seen[raw[i]] = true;
				if (zs.avail_out)
					break;
			}
		}
		pos += 12 + clen;
	}
	inflateEnd(&zs);
	for (int i = 0; i < 256; i++)
		n += seen[i];
	free(png);
	free(raw);
	return n;
}

static void test_chromium(void **state)
{
	struct report *r = fx_report();
	char *dir, *profile, *path, *png, *url, *shot, *out = NULL;
	int variety;
	(void)state;

	if (!tool_exists("chromium")) {
		report__free(r);
		skip();	/* chromium absent: tools/install-deps.sh installs it */
	}
	dir = make_tmpdir("chromium");
	profile = make_tmpdir("chromium-profile");
	if (!getenv("HOME"))	/* CI may run without one; chromium wants it */
		setenv("HOME", profile, 1);
	path = write_svg(dir, r, "flame.svg");
	assert_true(asprintf(&png, "%s/flame.png", dir) > 0);
	assert_true(asprintf(&shot, "--screenshot=%s", png) > 0);
	assert_true(asprintf(&url, "file://%s", path) > 0);

	/* rendered: a PNG with a real picture in it */
	assert_int_equal(chromium(profile, shot, url, &out), 0);
	free(out);
	variety = png_variety(png);
	print_message("chromium screenshot %s: %d distinct byte values\n", png, variety);
	assert_true(variety > 40);
	if (getenv("MEMTRACE_KEEP_SCREENSHOT"))
		link(png, getenv("MEMTRACE_KEEP_SCREENSHOT"));
	free(url);

	/* scripted: search and zoom through the fragment, read back from the DOM */
	assert_true(asprintf(&url, "file://%s#search=leak&zoom=main", path) > 0);
	assert_int_equal(chromium(profile, "--dump-dom", url, &out), 0);
	assert_non_null(strstr(out, "data-ready=\"1\""));
	assert_non_null(strstr(out, "data-matched=\"66.6\""));
	assert_non_null(strstr(out, "data-zoom=\"main\""));
	assert_non_null(strstr(out, "Matched: 66.6% (2 frames)"));
	assert_non_null(strstr(out, "class=\"f parent\""));	/* callers of main dimmed */
	/* the 4 KiB raw stack is not under main: hidden when zoomed */
	assert_non_null(strstr(out, "<g class=\"f hide\" data-n=\"0xdead0000\""));
	free(out);

	free(url);
	free(shot);
	free(png);
	free(path);
	remove_tree(profile);
	free(profile);
	remove_tree(dir);
	free(dir);
	report__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_and_widths),
		cmocka_unit_test(test_empty_report),
		cmocka_unit_test(test_narrow_frames_left_out),
		cmocka_unit_test(test_xmllint),
		cmocka_unit_test(test_chromium),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

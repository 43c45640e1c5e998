// SPDX-License-Identifier: MIT
/*
 * test_pprof.c - pprof writer: the decoded message has the documented
 * shape (sample types, mappings with build ids, inline lines, mangled
 * system names, unsymbolized frames), the gzip and atomic file paths work,
 * `go tool pprof` reads it and shows the expected functions and bytes, and
 * 1,000 stacks encode quickly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <zlib.h>
#include "output/proto/profile.pb-c.h"
#include "output/pprof.h"
#include "writers_fixture.h"
#include "writers_tools.h"

typedef Memtrace__Pprof__Profile pb_profile;

static const char *str(const pb_profile *p, int64_t i)
{
	assert_true(i >= 0 && (size_t)i < p->n_strings);
	return p->strings[i];
}

static const Memtrace__Pprof__Location *loc(const pb_profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->n_location; i++)
		if (p->location[i]->id == id)
			return p->location[i];
	fail_msg("no location %llu", (unsigned long long)id);
	return NULL;
}

static const Memtrace__Pprof__Function *fn(const pb_profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->n_function; i++)
		if (p->function[i]->id == id)
			return p->function[i];
	fail_msg("no function %llu", (unsigned long long)id);
	return NULL;
}

static const Memtrace__Pprof__Mapping *map(const pb_profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->n_mapping; i++)
		if (p->mapping[i]->id == id)
			return p->mapping[i];
	fail_msg("no mapping %llu", (unsigned long long)id);
	return NULL;
}

static pb_profile *decode(const struct report *r)
{
	void *buf = NULL;
	size_t len = 0;
	pb_profile *p;

	assert_int_equal(pprof__encode(r, false, &buf, &len), 0);
	p = memtrace__pprof__profile__unpack(NULL, len, buf);
	assert_non_null(p);
	free(buf);
	return p;
}

static void test_message_shape(void **state)
{
	struct report *r = fx_report();
	pb_profile *p = decode(r);
	static const char *const types[4][2] = {
		{ "alloc_objects", "count" }, { "alloc_space", "bytes" },
		{ "inuse_objects", "count" }, { "inuse_space", "bytes" },
	};
	(void)state;

	assert_string_equal(p->strings[0], "");
	assert_int_equal(p->n_sample_type, 4);
	for (int i = 0; i < 4; i++) {
		assert_string_equal(str(p, p->sample_type[i]->type), types[i][0]);
		assert_string_equal(str(p, p->sample_type[i]->unit), types[i][1]);
	}
	assert_string_equal(str(p, p->default_sample_type), "inuse_space");
	assert_string_equal(str(p, p->period_type->type), "space");
	assert_int_equal(p->period, 1);
	assert_int_equal(p->time_nanos, 1700000000500000000LL);
	assert_int_equal(p->duration_nanos, 30000000000LL);
	assert_int_equal(p->n_sample, r->nr_stacks);

	/* mappings: the main binary first, build ids from the frames */
	assert_int_equal(p->n_mapping, 3);
	assert_string_equal(str(p, p->mapping[0]->filename), FX_APP);
	assert_string_equal(str(p, p->mapping[0]->build_id), FX_APP_BUILD_ID);
	assert_int_equal(p->mapping[0]->memory_start, FX_APP_BIAS);
	assert_true(p->mapping[0]->has_functions);
	assert_true(p->mapping[0]->has_inline_frames);
	for (size_t i = 0; i < p->n_mapping; i++) {
		if (strcmp(str(p, p->mapping[i]->filename), FX_LIBC) == 0)
			assert_string_equal(str(p, p->mapping[i]->build_id), FX_LIBC_BUILD_ID);
		if (strcmp(str(p, p->mapping[i]->filename), FX_LIBFOO) == 0)
			assert_false(p->mapping[i]->has_functions);	/* pprof may symbolize it */
	}

	/* stack 0: one location for the inlined pair, innermost line first */
	const Memtrace__Pprof__Sample *s = p->sample[0];
	const Memtrace__Pprof__Location *l = loc(p, s->location_id[0]);

	assert_int_equal(s->n_location_id, 3);
	assert_int_equal(s->n_value, 4);
	assert_int_equal(s->value[0], 10);
	assert_int_equal(s->value[1], 10 << 20);
	assert_int_equal(s->value[2], 3);
	assert_int_equal(s->value[3], FX_LEAK_BYTES);
	assert_int_equal(l->address, FX_APP_BIAS + 0x1100);
	assert_string_equal(str(p, map(p, l->mapping_id)->filename), FX_APP);
	assert_int_equal(l->n_line, 2);
	assert_string_equal(str(p, fn(p, l->line[0]->function_id)->name), "leak_inner");
	assert_int_equal(l->line[0]->line, 12);
	assert_string_equal(str(p, fn(p, l->line[1]->function_id)->name), "leak_outer");
	assert_string_equal(str(p, fn(p, l->line[1]->function_id)->filename), "/src/leaky/leak.c");
	l = loc(p, s->location_id[2]);
	assert_string_equal(str(p, fn(p, l->line[0]->function_id)->name), "__libc_start_main");
	assert_string_equal(str(p, map(p, l->mapping_id)->filename), FX_LIBC);
	assert_string_equal(str(p, s->label[0]->key), "kind");
	assert_string_equal(str(p, s->label[0]->str), "malloc");
	assert_string_equal(str(p, s->label[1]->key), "stack_id");
	assert_int_equal(s->label[1]->num, 0x1111);

	/* stack 1: demangled name, mangled system name; main shared with stack 0 */
	s = p->sample[1];
	l = loc(p, s->location_id[0]);
	assert_string_equal(str(p, fn(p, l->line[0]->function_id)->name), FX_POOL_NAME);
	assert_string_equal(str(p, fn(p, l->line[0]->function_id)->system_name), FX_POOL_MANGLED);
	assert_int_equal(s->location_id[1], p->sample[0]->location_id[1]);
	assert_string_equal(str(p, s->label[0]->str), "calloc");

	/* stack 2: no symbol: address and mapping, no line */
	l = loc(p, p->sample[2]->location_id[0]);
	assert_int_equal(l->n_line, 0);
	assert_int_equal(l->address, FX_LIBFOO_BIAS + 0x1234);
	assert_string_equal(str(p, map(p, l->mapping_id)->filename), FX_LIBFOO);

	/* stack 3: raw ip only: no mapping either */
	l = loc(p, p->sample[3]->location_id[0]);
	assert_int_equal(l->address, 0xdead0000);
	assert_int_equal(l->mapping_id, 0);
	assert_int_equal(l->n_line, 0);

	/* stack 4: freed memory still shows in alloc_space */
	assert_int_equal(p->sample[4]->value[1], 2 << 20);
	assert_int_equal(p->sample[4]->value[3], 0);

	/* ids are unique and every location's functions exist */
	for (size_t i = 0; i < p->n_location; i++) {
		assert_int_equal(p->location[i]->id, i + 1);
		for (size_t j = 0; j < p->location[i]->n_line; j++)
			fn(p, p->location[i]->line[j]->function_id);
	}
	assert_int_equal(p->n_comment, 2);
	assert_non_null(strstr(str(p, p->comment[0]), "pid 4242 (leaky_app)"));

	memtrace__pprof__profile__free_unpacked(p, NULL);
	report__free(r);
}

static void test_sampling_period(void **state)
{
	struct report *r = fx_report();
	pb_profile *p;
	(void)state;

	r->sample_bytes = 524288;
	p = decode(r);
	assert_int_equal(p->period, 524288);
	assert_non_null(strstr(str(p, p->comment[1]), "524288"));
	memtrace__pprof__profile__free_unpacked(p, NULL);
	report__free(r);
}

static void test_empty_report(void **state)
{
	struct report r = { .pid = 1 };
	pb_profile *p;
	(void)state;

	p = decode(&r);
	assert_int_equal(p->n_sample, 0);
	assert_int_equal(p->n_sample_type, 4);
	memtrace__pprof__profile__free_unpacked(p, NULL);
}

static void test_gzip_matches_raw(void **state)
{
	struct report *r = fx_report();
	void *raw, *gz;
	size_t raw_len, gz_len;
	unsigned char *out;
	uLongf out_len;
	z_stream zs = { 0 };
	(void)state;

	assert_int_equal(pprof__encode(r, false, &raw, &raw_len), 0);
	assert_int_equal(pprof__encode(r, true, &gz, &gz_len), 0);
	assert_true(gz_len > 18);
	assert_int_equal(((unsigned char *)gz)[0], 0x1f);
	assert_int_equal(((unsigned char *)gz)[1], 0x8b);
	out_len = raw_len * 2 + 64;
	out = malloc(out_len);
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = gz;
	zs.avail_in = gz_len;
	zs.next_out = out;
	zs.avail_out = out_len;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.total_out, raw_len);
	assert_memory_equal(out, raw, raw_len);
	inflateEnd(&zs);
	free(out);
	free(gz);
	free(raw);
	report__free(r);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_write_atomic(void **state)
{
	struct report *r = fx_report();
	char *dir = make_tmpdir("pprof"), path[512], *data;
	size_t len;
	struct stat st;
	(void)state;

	snprintf(path, sizeof(path), "%s/heap.pb.gz", dir);
	assert_int_equal(write_file_all(path, "old"), 0);
	assert_int_equal(pprof__write(r, path), 0);
	data = read_file_all(path, &len);
	assert_non_null(data);
	assert_true(len > 100);
	assert_int_equal((unsigned char)data[0], 0x1f);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);	/* common/outfile.h's default */
	assert_int_equal(count_entries(dir), 1);	/* no temporary left */
	free(data);

	/* failure: missing directory, nothing created, negative errno */
	snprintf(path, sizeof(path), "%s/missing/heap.pb.gz", dir);
	assert_int_equal(pprof__write(r, path), -ENOENT);
	assert_int_equal(count_entries(dir), 1);

	remove_tree(dir);
	free(dir);
	report__free(r);
}

/* Run `go tool pprof OPTS... file` (opts NULL-terminated); returns its output. */
static char *go_pprof(const char *dir, const char *file, const char *const *opts)
{
	char gocache[600], *out = NULL, *argv[16] = { "go", "tool", "pprof" };
	int rc, n = 3;

	while (*opts && n < 14)
		argv[n++] = (char *)*opts++;
	argv[n++] = (char *)file;
	argv[n] = NULL;
	snprintf(gocache, sizeof(gocache), "%s/gocache", dir);
	setenv("GOCACHE", gocache, 1);
	setenv("HOME", dir, 1);
	setenv("GOTOOLCHAIN", "local", 1);
	setenv("PPROF_TMPDIR", dir, 1);
	setenv("PPROF_BINARY_PATH", dir, 1);	/* never look for the fake binaries */
	rc = run_capture(argv, &out, 120);
	if (rc != 0)
		fail_msg("go tool pprof %s exited %d:\n%s", opts[0], rc, out ? out : "");
	return out;
}

/* The line of `-top` output that ends with name, or NULL. */
static const char *top_line(const char *out, const char *name, char *line, size_t size)
{
	const char *p = out;

	while (p && *p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		size_t k = strlen(name);

		if (n >= k && memcmp(p + n - k, name, k) == 0 && n < size) {
			memcpy(line, p, n);
			line[n] = 0;
			return line;
		}
		p = e ? e + 1 : NULL;
	}
	return NULL;
}

static void test_go_tool_pprof(void **state)
{
	struct report *r = fx_report();
	char *dir, path[512], line[1024], *out;
	long long flat;
	(void)state;

	if (!tool_exists("go")) {
		report__free(r);
		skip();	/* golang-go absent: tools/install-deps.sh installs it */
	}
	dir = make_tmpdir("gopprof");
	snprintf(path, sizeof(path), "%s/heap.pb.gz", dir);
	assert_int_equal(pprof__write(r, path), 0);

	/* -top on the default sample type (inuse_space), exact bytes */
	out = go_pprof(dir, path, (const char *[]){ "-top", "-unit=byte", "-nodefraction=0", NULL });
	assert_non_null(strstr(out, "Type: inuse_space"));
	assert_non_null(strstr(out, "Build ID: " FX_APP_BUILD_ID));
	assert_non_null(strstr(out, "File: leaky_app"));
	assert_non_null(top_line(out, "leak_inner (inline)", line, sizeof(line)));
	assert_int_equal(sscanf(line, " %lldB", &flat), 1);
	assert_int_equal(flat, FX_LEAK_BYTES);
	assert_non_null(top_line(out, FX_POOL_NAME, line, sizeof(line)));
	assert_int_equal(sscanf(line, " %lldB", &flat), 1);
	assert_int_equal(flat, FX_POOL_BYTES);
	assert_non_null(top_line(out, "[libfoo.so]", line, sizeof(line)));
	assert_int_equal(sscanf(line, " %lldB", &flat), 1);
	assert_int_equal(flat, FX_MMAP_BYTES);
	/* the function an inlined frame sits in: no flat bytes, all in cum */
	assert_non_null(top_line(out, "leak_outer", line, sizeof(line)));
	assert_non_null(strstr(line, "3145728B"));
	assert_int_equal(sscanf(line, " %lld ", &flat), 1);
	assert_int_equal(flat, 0);
	assert_non_null(strstr(out, "Showing nodes accounting for 4722688B, 100% of 4722688B total"));
	free(out);

	/* alloc_space includes freed memory */
	out = go_pprof(dir, path, (const char *[]){ "-top", "-unit=byte", "-sample_index=alloc_space", NULL });
	assert_non_null(strstr(out, "Type: alloc_space"));
	assert_non_null(top_line(out, "temp_buffer", line, sizeof(line)));
	assert_int_equal(sscanf(line, " %lldB", &flat), 1);
	assert_int_equal(flat, 2 << 20);
	free(out);

	/* -traces marks the inlined frame and keeps the whole stack, with labels */
	out = go_pprof(dir, path, (const char *[]){ "-traces", NULL });
	assert_non_null(strstr(out, "leak_inner (inline)\n             leak_outer\n"
				    "             main\n             __libc_start_main\n"));
	assert_non_null(strstr(out, "kind:  calloc"));
	assert_non_null(strstr(out, "stack_id:  4369"));
	free(out);

	/* -raw: mappings with build ids, period */
	out = go_pprof(dir, path, (const char *[]){ "-raw", NULL });
	assert_non_null(strstr(out, FX_APP_BUILD_ID));
	assert_non_null(strstr(out, FX_LIBC_BUILD_ID));
	assert_non_null(strstr(out, "Period: 1"));
	free(out);

	remove_tree(dir);
	free(dir);
	report__free(r);
}

static void test_encode_1000_stacks(void **state)
{
	struct report *r = fx_big_report(1000, 32);
	void *buf;
	size_t len, frames = 0;
	double t0, raw_s, gz_s;
	pb_profile *p;
	(void)state;

	for (size_t i = 0; i < r->nr_stacks; i++)
		frames += r->stacks[i].nr_frames;
	t0 = now_s();
	assert_int_equal(pprof__encode(r, false, &buf, &len), 0);
	raw_s = now_s() - t0;
	p = memtrace__pprof__profile__unpack(NULL, len, buf);
	assert_non_null(p);
	assert_int_equal(p->n_sample, 1000);
	assert_true(p->n_function < frames);	/* callers are shared */
	memtrace__pprof__profile__free_unpacked(p, NULL);
	free(buf);

	t0 = now_s();
	assert_int_equal(pprof__encode(r, true, &buf, &len), 0);
	gz_s = now_s() - t0;
	print_message("pprof: 1000 stacks x 32 frames: encode %.2f ms, encode+gzip %.2f ms, %zu bytes gz\n",
		      raw_s * 1e3, gz_s * 1e3, len);
	assert_true(gz_s < 2.0);	/* generous: sanitizer builds too */
	free(buf);
	report__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_shape),
		cmocka_unit_test(test_sampling_period),
		cmocka_unit_test(test_empty_report),
		cmocka_unit_test(test_gzip_matches_raw),
		cmocka_unit_test(test_write_atomic),
		cmocka_unit_test(test_go_tool_pprof),
		cmocka_unit_test(test_encode_1000_stacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

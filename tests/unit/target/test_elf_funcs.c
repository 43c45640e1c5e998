// SPDX-License-Identifier: MIT
/*
 * test_elf_funcs.c - function lookup in real Debian libraries and in
 * libelffx.so (tests/fixtures/elf_funcs: versions, aliases, an IFUNC, a
 * local symbol, addresses != file offsets), checked against nm/readelf.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "target/elf_funcs.h"
#include "elf_tools.h"

#define FIXTURE "fixtures/elf_funcs/libelffx.so"

static bool exists(const char *path)
{
	return access(path, R_OK) == 0;
}

/* elf_funcs__find(@name) agrees with nm (@nm_name) and readelf. */
static void check_against_nm(struct elf_funcs *e, const char *path, const char *name,
			     const char *nm_name)
{
	uint64_t addr, size, off;
	struct elf_func f;

	assert_int_equal(tool_sym(path, true, nm_name, &addr, &size), 0);
	assert_int_equal(tool_file_offset(path, addr, &off), 0);
	assert_int_equal(elf_funcs__find(e, name, &f), 0);
	assert_int_equal(f.vaddr, addr);
	assert_int_equal(f.offset, off);
	assert_int_equal(f.size, size);
	assert_true(f.dynamic);
}

static void test_libc_allocators(void **state)
{
	static const char *const funcs[][2] = {
		{ "malloc", "malloc@@GLIBC_2.2.5" },
		{ "free", "free@@GLIBC_2.2.5" },
		{ "calloc", "calloc@@GLIBC_2.2.5" },
		{ "realloc", "realloc@@GLIBC_2.2.5" },
		{ "posix_memalign", "posix_memalign@@GLIBC_2.2.5" },
		{ "aligned_alloc", "aligned_alloc@@GLIBC_2.16" },
		{ "memalign", "memalign@@GLIBC_2.2.5" },
		{ "valloc", "valloc@@GLIBC_2.2.5" },
		{ "pvalloc", "pvalloc@@GLIBC_2.2.5" },
		{ "reallocarray", "reallocarray@@GLIBC_2.26" },
	};
	struct elf_funcs *e;
	size_t i;

	(void)state;
	e = elf_funcs__open(LIBC_PATH);
	assert_non_null(e);
	assert_int_equal(elf_funcs__machine(e), 62 /* EM_X86_64 */);
	assert_string_equal(elf_funcs__path(e), LIBC_PATH);
	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		check_against_nm(e, LIBC_PATH, funcs[i][0], funcs[i][1]);
	elf_funcs__close(e);
}

static void test_libc_versions_and_aliases(void **state)
{
	struct elf_func m, m2, a, c, c2, d, h;
	uint64_t addr;
	struct elf_funcs *e;

	(void)state;
	e = elf_funcs__open(LIBC_PATH);
	assert_non_null(e);

	/* versioned spellings of the default version */
	assert_int_equal(elf_funcs__find(e, "malloc", &m), 0);
	assert_string_equal(m.version, "GLIBC_2.2.5");
	assert_false(m.ifunc);
	assert_int_equal(elf_funcs__find(e, "malloc@@GLIBC_2.2.5", &m2), 0);
	assert_int_equal(m2.offset, m.offset);
	assert_int_equal(elf_funcs__find(e, "malloc@GLIBC_2.2.5", &m2), 0);
	assert_int_equal(m2.offset, m.offset);
	assert_int_equal(elf_funcs__find(e, "malloc@@GLIBC_9.9", &m2), -ENOENT);

	/* alias: same code, same offset */
	assert_int_equal(elf_funcs__find(e, "__libc_malloc", &a), 0);
	assert_int_equal(a.offset, m.offset);
	assert_int_equal(a.size, m.size);

	/* memcpy: default GLIBC_2.14 is an IFUNC, GLIBC_2.2.5 a plain compat function */
	assert_int_equal(elf_funcs__find(e, "memcpy", &c), 0);
	assert_string_equal(c.version, "GLIBC_2.14");
	assert_true(c.ifunc);
	assert_int_equal(tool_sym(LIBC_PATH, true, "memcpy@@GLIBC_2.14", &addr, NULL), 0);
	assert_int_equal(c.vaddr, addr);
	assert_int_equal(elf_funcs__find(e, "memcpy@GLIBC_2.2.5", &c2), 0);
	assert_string_equal(c2.version, "GLIBC_2.2.5");
	assert_false(c2.ifunc);
	assert_int_equal(tool_sym(LIBC_PATH, true, "memcpy@GLIBC_2.2.5", &addr, NULL), 0);
	assert_int_equal(c2.vaddr, addr);
	assert_int_equal(elf_funcs__find(e, "memcpy@@GLIBC_2.2.5", &d), -ENOENT);

	/* only a hidden compat version exists: found by plain name, not as default */
	if (tool_sym(LIBC_PATH, true, "cfree@GLIBC_2.2.5", &addr, NULL) == 0) {
		assert_int_equal(elf_funcs__find(e, "cfree", &h), 0);
		assert_int_equal(h.vaddr, addr);
		assert_int_equal(elf_funcs__find(e, "cfree@@GLIBC_2.2.5", &h), -ENOENT);
	}

	assert_int_equal(elf_funcs__find(e, "no_such_function_xyz", &d), -ENOENT);
	assert_int_equal(elf_funcs__find(e, "mallo", &d), -ENOENT);
	assert_int_equal(elf_funcs__find(e, "malloc_", &d), -ENOENT);
	assert_int_equal(elf_funcs__find(e, "", &d), -ENOENT);
	elf_funcs__close(e);
}

static void test_libstdcxx_operators(void **state)
{
	struct elf_funcs *e;

	(void)state;
	if (!exists(LIBSTDCXX_PATH))
		skip();
	e = elf_funcs__open(LIBSTDCXX_PATH);
	assert_non_null(e);
	check_against_nm(e, LIBSTDCXX_PATH, "_Znwm", "_Znwm@@GLIBCXX_3.4");
	check_against_nm(e, LIBSTDCXX_PATH, "_ZdlPv", "_ZdlPv@@GLIBCXX_3.4");
	check_against_nm(e, LIBSTDCXX_PATH, "_ZdlPvm", "_ZdlPvm@@CXXABI_1.3.9");
	/* libstdc++ imports malloc: undefined symbols are not functions of it */
	{
		struct elf_func f;

		assert_int_equal(elf_funcs__find(e, "malloc", &f), -ENOENT);
	}
	elf_funcs__close(e);
}

static void test_other_allocators(void **state)
{
	static const char *const libs[] = { JEMALLOC_PATH, TCMALLOC_PATH };
	static const char *const funcs[] = { "malloc", "free", "calloc", "realloc" };
	int seen = 0;
	size_t i, j;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct elf_funcs *e;
		char nm_name[64];
		uint64_t addr;

		if (!exists(libs[i]))
			continue;
		seen++;
		e = elf_funcs__open(libs[i]);
		assert_non_null(e);
		for (j = 0; j < 4; j++) {
			/* unversioned in jemalloc; "Base" version in some builds */
			snprintf(nm_name, sizeof(nm_name), "%s", funcs[j]);
			if (tool_sym(libs[i], true, nm_name, &addr, NULL))
				snprintf(nm_name, sizeof(nm_name), "%s@@Base", funcs[j]);
			check_against_nm(e, libs[i], funcs[j], nm_name);
		}
		elf_funcs__close(e);
	}
	if (!seen)
		skip();
}

/* --- the fixture: addresses != offsets, versions, aliases, IFUNC, locals --- */

struct fx_state {
	char path[4096];
	struct elf_funcs *e;
};

static int fx_setup(void **state)
{
	static struct fx_state st;

	if (!tool_out_path(FIXTURE, st.path, sizeof(st.path)) || !exists(st.path)) {
		fprintf(stderr, "missing fixture %s: make builds it\n", st.path);
		return -1;
	}
	st.e = elf_funcs__open(st.path);
	if (!st.e)
		return -1;
	*state = &st;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx_state *st = *state;

	elf_funcs__close(st->e);
	st->e = NULL;
	return 0;
}

static void test_fixture_offsets(void **state)
{
	struct fx_state *st = *state;
	uint64_t addr, size, off;
	const uint8_t *code;
	struct elf_func f;

	assert_int_equal(tool_sym(st->path, true, "fx_sized@@VERS_1", &addr, &size), 0);
	assert_int_equal(tool_file_offset(st->path, addr, &off), 0);
	assert_true(addr != off);	/* -Ttext-segment: the point of the fixture */
	assert_int_equal(elf_funcs__find(st->e, "fx_sized", &f), 0);
	assert_int_equal(f.vaddr, addr);
	assert_int_equal(f.offset, off);
	assert_int_equal(f.size, 3);
	assert_string_equal(f.version, "VERS_1");
	code = elf_funcs__bytes(st->e, f.offset, f.size);
	assert_non_null(code);
	assert_memory_equal(code, "\x53\x5b\xc3", 3);	/* push %rbx; pop %rbx; ret */

	assert_int_equal(elf_funcs__vaddr_to_offset(st->e, addr, &off), 0);
	assert_int_equal(off, f.offset);
	assert_int_equal(elf_funcs__vaddr_to_offset(st->e, 0x10, &off), -ERANGE);
	assert_null(elf_funcs__bytes(st->e, ~0ull - 4, 8));
}

static void test_fixture_alias_size(void **state)
{
	struct fx_state *st = *state;
	struct elf_func sized, alias;

	assert_int_equal(elf_funcs__find(st->e, "fx_sized", &sized), 0);
	assert_int_equal(elf_funcs__find(st->e, "fx_alias0", &alias), 0);
	assert_int_equal(alias.offset, sized.offset);
	assert_int_equal(alias.size, 3);	/* st_size 0, taken from fx_sized */
}

static void test_fixture_versions(void **state)
{
	struct fx_state *st = *state;
	uint64_t v1, v2;
	struct elf_func f;

	assert_int_equal(tool_sym(st->path, true, "fx_ver@@VERS_2", &v2, NULL), 0);
	assert_int_equal(tool_sym(st->path, false, "fx_ver@VERS_1", &v1, NULL), 0);
	assert_true(v1 != v2);

	assert_int_equal(elf_funcs__find(st->e, "fx_ver", &f), 0);
	assert_int_equal(f.vaddr, v2);
	assert_string_equal(f.version, "VERS_2");
	assert_true(f.dynamic);
	assert_int_equal(elf_funcs__find(st->e, "fx_ver@@VERS_2", &f), 0);
	assert_int_equal(f.vaddr, v2);
	/* VERS_1 exists only as a local "fx_ver@VERS_1" in .symtab */
	assert_int_equal(elf_funcs__find(st->e, "fx_ver@VERS_1", &f), 0);
	assert_int_equal(f.vaddr, v1);
	assert_false(f.dynamic);
	assert_string_equal(f.version, "VERS_1");
	assert_int_equal(elf_funcs__find(st->e, "fx_ver@@VERS_1", &f), -ENOENT);
	assert_int_equal(elf_funcs__find(st->e, "fx_ver@VERS_3", &f), -ENOENT);
}

static void test_fixture_symtab_and_ifunc(void **state)
{
	struct fx_state *st = *state;
	uint64_t addr;
	struct elf_func f;

	assert_int_equal(tool_sym(st->path, false, "fx_local_impl", &addr, NULL), 0);
	assert_int_equal(elf_funcs__find(st->e, "fx_local_impl", &f), 0);
	assert_int_equal(f.vaddr, addr);
	assert_false(f.dynamic);
	assert_string_equal(f.version, "");

	assert_int_equal(elf_funcs__find(st->e, "fx_ifunc", &f), 0);
	assert_true(f.ifunc);
	assert_int_equal(tool_sym(st->path, true, "fx_ifunc@@VERS_1", &addr, NULL), 0);
	assert_int_equal(f.vaddr, addr);
}

static void test_one_shot(void **state)
{
	struct fx_state *st = *state;
	struct elf_func a, b;

	assert_int_equal(elf_funcs__find(st->e, "fx_sized", &a), 0);
	assert_int_equal(elf_funcs__find_in(st->path, "fx_sized", &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(elf_funcs__find_in(st->path, "nope", &b), -ENOENT);
	assert_int_equal(elf_funcs__find_in("/nonexistent/libx.so", "malloc", &b), -ENOENT);
}

/* --- failure paths --- */

static void test_open_errors(void **state)
{
	char tmpl[] = "/tmp/test_elf_funcs.XXXXXX";
	struct elf_func f = { .vaddr = 42 };
	int fd;

	(void)state;
	errno = 0;
	assert_null(elf_funcs__open("/nonexistent/libx.so"));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(elf_funcs__open(NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(elf_funcs__open("/tmp"));
	assert_int_equal(errno, ENOEXEC);

	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	errno = 0;
	assert_null(elf_funcs__open(tmpl));	/* empty */
	assert_int_equal(errno, ENOEXEC);
	assert_int_equal(write(fd, "#!/bin/sh\necho not an elf file at all\n", 39), 39);
	errno = 0;
	assert_null(elf_funcs__open(tmpl));
	assert_int_equal(errno, ENOEXEC);
	close(fd);
	unlink(tmpl);

	assert_int_equal(elf_funcs__find(NULL, "malloc", &f), -EINVAL);
	assert_int_equal(f.vaddr, 42);	/* untouched */
	elf_funcs__close(NULL);
}

static void test_find_null_args(void **state)
{
	struct fx_state *st = *state;
	struct elf_func f;

	assert_int_equal(elf_funcs__find(st->e, NULL, &f), -EINVAL);
	assert_int_equal(elf_funcs__find(st->e, "fx_sized", NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libc_allocators),
		cmocka_unit_test(test_libc_versions_and_aliases),
		cmocka_unit_test(test_libstdcxx_operators),
		cmocka_unit_test(test_other_allocators),
		cmocka_unit_test_setup_teardown(test_fixture_offsets, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fixture_alias_size, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fixture_versions, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fixture_symtab_and_ifunc, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_one_shot, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_find_null_args, fx_setup, fx_teardown),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

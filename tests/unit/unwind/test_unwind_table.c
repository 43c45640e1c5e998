// SPDX-License-Identifier: MIT
/*
 * test_unwind_table.c - unwind_table__build() against readelf.
 *
 * Small programs are compiled here (-O2 -fomit-frame-pointer, with and
 * without asynchronous unwind tables, with and without linker CFI for the
 * PLT, with IBT PLTs), and every row `readelf --debug-dump=frames-interp`
 * prints must be what our table gives at that address; every row of ours
 * must start at an address readelf names (or a PLT section boundary).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elf_tools.h"
#include "unwind/unwind_table.h"

static const char prog_src[] =
	"#include <stdio.h>\n"
	"#include <stdlib.h>\n"
	"#include <string.h>\n"
	"__attribute__((noinline)) int leaf(int x) { return x * 3 + 1; }\n"
	"__attribute__((noinline)) int vla(int n) { char b[n]; memset(b, n, n);\n"
	"  return leaf(b[n / 2]) + b[n - 1]; }\n"
	"__attribute__((noinline)) int big(int n) { volatile char b[70000];\n"
	"  b[n] = 1; return b[n / 2] + leaf(n); }\n"
	"__attribute__((noinline)) int saver(int a, int b) {\n"
	"  int c = leaf(a), d = leaf(b), e = leaf(c), f = leaf(d), g = leaf(e), h = leaf(f);\n"
	"  int i = leaf(g + h), j = leaf(i);\n"
	"  return a + b + c + d + e + f + g + h + i + j + leaf(a * b); }\n"
	"int main(int argc, char **argv) {\n"
	"  char *p = malloc(argc * 10);\n"
	"  printf(\"%d %d %d %p %s\\n\", vla(argc + 8), big(argc), saver(argc, 2), p, argv[0]);\n"
	"  free(p); return 0; }\n";

struct fixture {
	char dir[64];
	char src[96];
};

static struct fixture fx;

/* Compile prog_src into dir/name with extra flags; 0 or -1. */
static int compile(const char *name, const char *flags)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cc -O2 -fomit-frame-pointer %s -o %s/%s %s 2>/dev/null",
		 flags, fx.dir, name, fx.src);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s/%s", fx.dir, name);
	return buf;
}

static int group_setup(void **state)
{
	FILE *f;

	(void)state;
	strcpy(fx.dir, "/tmp/memtrace-unwind-XXXXXX");
	if (!mkdtemp(fx.dir))
		return -1;
	snprintf(fx.src, sizeof(fx.src), "%s/prog.c", fx.dir);
	f = fopen(fx.src, "w");
	if (!f)
		return -1;
	fputs(prog_src, f);
	fclose(f);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- readelf --debug-dump=frames-interp ---------------------------------- */

struct rd_row {
	uint64_t loc;
	char cfa[64], rbp[64], ra[64];
};

struct rd_entry {
	uint64_t off;		/* CIE offset, or FDE's CIE offset */
	bool is_cie;
	uint64_t lo, hi;	/* FDE */
	size_t nr;
	struct rd_row *rows;
};

struct rd {
	size_t nr;
	struct rd_entry *e;
};

static void rd_free(struct rd *rd)
{
	for (size_t i = 0; i < rd->nr; i++)
		free(rd->e[i].rows);
	free(rd->e);
}

/* Split on blanks; "r10 (r10)" (a register rule) stays one token. */
static int tokenize(char *line, char tok[][64], int max)
{
	int n = 0;

	for (char *t = strtok(line, " \t\n"); t; t = strtok(NULL, " \t\n")) {
		if (t[0] == '(' && n > 0)
			continue;
		if (n == max)
			break;
		snprintf(tok[n++], 64, "%s", t);
	}
	return n;
}

static int rd_parse(const char *path, struct rd *rd)
{
	char cmd[256], line[1024];
	int col_rbp = -1, col_ra = -1;
	struct rd_entry *cur = NULL;
	FILE *p;

	memset(rd, 0, sizeof(*rd));
	snprintf(cmd, sizeof(cmd), "readelf --debug-dump=frames-interp %s", path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		char tok[24][64];
		int n = tokenize(line, tok, 24);
		unsigned long long a, b;

		if (n >= 4 && (!strcmp(tok[3], "CIE") || !strcmp(tok[3], "FDE"))) {
			rd->e = realloc(rd->e, (rd->nr + 1) * sizeof(*rd->e));
			cur = &rd->e[rd->nr++];
			memset(cur, 0, sizeof(*cur));
			cur->is_cie = tok[3][0] == 'C';
			cur->off = strtoull(tok[0], NULL, 16);
			if (!cur->is_cie) {
				cur->off = strtoull(tok[4] + 4, NULL, 16);	/* cie=... */
				if (sscanf(tok[5], "pc=%llx..%llx", &a, &b) != 2)
					return -1;
				cur->lo = a;
				cur->hi = b;
			}
			continue;
		}
		if (n >= 2 && !strcmp(tok[0], "LOC")) {
			col_rbp = col_ra = -1;
			for (int i = 2; i < n; i++) {
				if (!strcmp(tok[i], "rbp"))
					col_rbp = i;
				if (!strcmp(tok[i], "ra"))
					col_ra = i;
			}
			continue;
		}
		if (cur && n >= 2 && strlen(tok[0]) == 16 && strspn(tok[0], "0123456789abcdef") == 16) {
			struct rd_row *r;

			cur->rows = realloc(cur->rows, (cur->nr + 1) * sizeof(*cur->rows));
			r = &cur->rows[cur->nr++];
			memset(r, 0, sizeof(*r));
			r->loc = strtoull(tok[0], NULL, 16);
			strcpy(r->cfa, tok[1]);
			strcpy(r->rbp, col_rbp >= 0 && col_rbp < n ? tok[col_rbp] : "u");
			strcpy(r->ra, col_ra >= 0 && col_ra < n ? tok[col_ra] : "u");
		}
	}
	pclose(p);	/* exits 1 on libc.so.6 (debuglink not found): judge by content */
	return rd->nr > 0 ? 0 : -1;
}

static const struct rd_entry *rd_cie(const struct rd *rd, uint64_t off)
{
	for (size_t i = 0; i < rd->nr; i++)
		if (rd->e[i].is_cie && rd->e[i].off == off)
			return &rd->e[i];
	return NULL;
}

/* ---- sections ----------------------------------------------------------- */

struct sec {
	uint64_t addr, size;
};

static bool section(const char *path, const char *name, struct sec *s)
{
	char cmd[256], line[512];
	bool found = false;
	FILE *p;

	/* readelf -SW: "[Nr] Name Type Address Off Size ..." on one line */
	snprintf(cmd, sizeof(cmd), "readelf -SW %s", path);
	p = popen(cmd, "r");
	if (!p)
		return false;
	while (fgets(line, sizeof(line), p)) {
		char nm[64], type[32];
		unsigned long long addr, off, size;
		char *q = strchr(line, ']');

		if (!q || sscanf(q + 1, "%63s %31s %llx %llx %llx", nm, type, &addr, &off, &size) != 5)
			continue;
		if (!strcmp(nm, name)) {
			s->addr = addr;
			s->size = size;
			found = true;
		}
	}
	pclose(p);
	return found;
}

/* The .symtab address of name (nm, elf_tools.h), 0 if none. */
static uint64_t sym_addr(const char *path, const char *name)
{
	uint64_t a;

	return tool_sym(path, false, name, &a, NULL) ? 0 : a;
}

/* ---- expected rows ------------------------------------------------------- */

static bool parse_off(const char *s, const char *prefix, int64_t *off)
{
	size_t n = strlen(prefix);
	char *end;

	if (strncmp(s, prefix, n) || (s[n] != '+' && s[n] != '-'))
		return false;
	*off = strtoll(s + n, &end, 10);
	return *end == 0;
}

static bool in_sec(const struct sec *s, uint64_t a)
{
	return s && a >= s->addr && a < s->addr + s->size;
}

static struct unwind_row expect_row(const struct rd_row *r, const struct sec *plt)
{
	struct unwind_row e = { .cfa_rule = CFA_UNSUPPORTED };
	int64_t off;

	if (parse_off(r->cfa, "rsp", &off)) {
		e.cfa_rule = CFA_SP;
	} else if (parse_off(r->cfa, "rbp", &off)) {
		e.cfa_rule = CFA_FP;
	} else if (!strcmp(r->cfa, "exp") && in_sec(plt, r->loc)) {
		e.cfa_rule = CFA_PLT;
		off = 8;
	} else {
		return e;
	}
	e.cfa_off = off;
	if (!strcmp(r->ra, "u"))
		return (struct unwind_row){ .cfa_rule = CFA_UNDEFINED };
	if (!parse_off(r->ra, "c", &off))
		return (struct unwind_row){ .cfa_rule = CFA_UNSUPPORTED };
	e.ra_off = off;
	if (parse_off(r->rbp, "c", &off)) {
		e.fp_rule = REG_AT_CFA;
		e.fp_off = off;
	} else if (strcmp(r->rbp, "u") && strcmp(r->rbp, "s")) {
		e.fp_rule = REG_UNDEFINED;
	}
	return e;
}

static void assert_rule(const struct unwind_row *got, const struct unwind_row *want, uint64_t loc)
{
	if (got && got->cfa_rule == want->cfa_rule && got->cfa_off == want->cfa_off &&
	    got->fp_rule == want->fp_rule && got->fp_off == want->fp_off &&
	    got->ra_off == want->ra_off)
		return;
	print_error("at %#llx: want cfa %u%+d fp %u%+d ra %+d, got ",
		    (unsigned long long)loc, want->cfa_rule, want->cfa_off, want->fp_rule,
		    want->fp_off, want->ra_off);
	if (got)
		print_error("cfa %u%+d fp %u%+d ra %+d\n", got->cfa_rule, got->cfa_off,
			    got->fp_rule, got->fp_off, got->ra_off);
	else
		print_error("no row\n");
	fail();
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Does an FDE start within 16 bytes (alignment padding) at or after end? */
static bool code_follows(const uint64_t *los, size_t n, uint64_t end)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (los[mid] < end)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && los[lo] < end + 16;
}

/*
 * Every readelf row is what we give at its LOC; every FDE end not followed
 * by code within 16 bytes falls back; every row of ours starts at a LOC,
 * an FDE end or a PLT section boundary. Returns the table for more checks.
 */
static struct unwind_table *check_against_readelf(const char *path)
{
	static const char *const plts[] = { ".plt", ".plt.sec", ".plt.got" };
	struct unwind_table *t = NULL;
	struct sec plt = { 0 }, s;
	bool has_plt = section(path, ".plt", &plt);
	uint64_t *allowed = NULL, *los;
	size_t nr_allowed = 0, checked = 0, nr_los = 0;
	struct rd rd;

	assert_int_equal(rd_parse(path, &rd), 0);
	assert_int_equal(unwind_table__build_file(path, &t), 0);
	for (size_t i = 0; i < rd.nr; i++) {
		const struct rd_entry *e = &rd.e[i], *cie;

		if (e->is_cie)
			continue;
		allowed = realloc(allowed, (nr_allowed + e->nr + 2) * sizeof(*allowed));
		allowed[nr_allowed++] = e->lo;
		allowed[nr_allowed++] = e->hi;
		if (e->nr == 0) {	/* no instructions: the CIE's row, at lo */
			struct rd_row r;
			struct unwind_row want;

			cie = rd_cie(&rd, e->off);
			assert_non_null(cie);
			assert_true(cie->nr >= 1);
			r = cie->rows[0];
			r.loc = e->lo;
			want = expect_row(&r, has_plt ? &plt : NULL);
			assert_rule(unwind_table__find(t, e->lo), &want, e->lo);
			checked++;
		}
		for (size_t j = 0; j < e->nr; j++) {
			struct unwind_row want = expect_row(&e->rows[j], has_plt ? &plt : NULL);
			const struct unwind_row *got = unwind_table__find(t, e->rows[j].loc);

			assert_rule(got, &want, e->rows[j].loc);
			if (want.cfa_rule == CFA_PLT)
				assert_true(got->plt_split == 11 || got->plt_split == 9);
			allowed[nr_allowed++] = e->rows[j].loc;
			checked++;
		}
	}
	for (size_t i = 0; i < sizeof(plts) / sizeof(plts[0]); i++) {
		if (!section(path, plts[i], &s))
			continue;
		allowed = realloc(allowed, (nr_allowed + 4) * sizeof(*allowed));
		allowed[nr_allowed++] = s.addr;
		allowed[nr_allowed++] = s.addr + 6;
		allowed[nr_allowed++] = s.addr + 16;
		allowed[nr_allowed++] = s.addr + s.size;
	}
	qsort(allowed, nr_allowed, sizeof(*allowed), u64_cmp);
	los = malloc(rd.nr * sizeof(*los));
	for (size_t i = 0; i < rd.nr; i++)
		if (!rd.e[i].is_cie)
			los[nr_los++] = rd.e[i].lo;
	qsort(los, nr_los, sizeof(*los), u64_cmp);
	/* FDE ends with no code right after them must fall back. */
	for (size_t i = 0; i < rd.nr; i++) {
		const struct rd_entry *e = &rd.e[i];
		const uint64_t *next;
		uint64_t key = e->hi;
		bool padding;

		if (e->is_cie)
			continue;
		padding = code_follows(los, nr_los, e->hi);
		next = bsearch(&key, allowed, nr_allowed, sizeof(key), u64_cmp);
		if (padding || !next)
			continue;
		if (has_plt && in_sec(&plt, e->hi))
			continue;
		assert_int_equal(unwind_table__find(t, e->hi)->cfa_rule, CFA_UNSUPPORTED);
	}
	for (size_t i = 0; i < t->nr; i++) {
		uint64_t key = t->base + t->rows[i].pc;

		if (!bsearch(&key, allowed, nr_allowed, sizeof(key), u64_cmp)) {
			print_error("row at %#llx matches nothing readelf printed\n",
				    (unsigned long long)key);
			fail();
		}
		if (i > 0)
			assert_true(t->rows[i].pc > t->rows[i - 1].pc);
	}
	assert_true(checked > 0);
	assert_int_equal(t->rows[t->nr - 1].cfa_rule, CFA_UNSUPPORTED);
	free(los);
	free(allowed);
	rd_free(&rd);
	return t;
}

/* ---- tests --------------------------------------------------------------- */

static void test_async_matches_readelf(void **state)
{
	struct unwind_table *t;
	const struct unwind_row *r;
	const char *p;
	bool fp_cfa = false;
	uint64_t a, b;

	(void)state;
	if (compile("async", "-fasynchronous-unwind-tables"))
		skip();
	p = path_of("async");
	t = check_against_readelf(p);
	/* the VLA function computes its CFA from rbp, big() needs > 32 KiB */
	a = sym_addr(p, "vla");
	b = sym_addr(p, "big");
	assert_true(a && b);
	for (uint64_t x = a; x < a + 64; x++)
		if ((r = unwind_table__find(t, x)) && r->cfa_rule == CFA_FP)
			fp_cfa = true;
	assert_true(fp_cfa);
	r = NULL;
	for (uint64_t x = b; x < b + 32; x++)
		if (unwind_table__find(t, x)->cfa_off > 65536)
			r = unwind_table__find(t, x);
	assert_non_null(r);
	assert_int_equal(r->cfa_rule, CFA_SP);
	/* main's caller is libc; _start says "return address undefined" */
	assert_int_equal(unwind_table__find(t, sym_addr(p, "_start"))->cfa_rule, CFA_UNDEFINED);
	unwind_table__free(t);
}

static void test_noasync_matches_readelf(void **state)
{
	struct unwind_table *t;
	const char *p;

	(void)state;
	if (compile("noasync", "-fno-asynchronous-unwind-tables"))
		skip();
	p = path_of("noasync");
	t = check_against_readelf(p);
	/* no FDE for our functions: the walker must fall back there */
	assert_int_equal(unwind_table__find(t, sym_addr(p, "leaf"))->cfa_rule, CFA_UNSUPPORTED);
	assert_int_equal(unwind_table__find(t, sym_addr(p, "saver") + 4)->cfa_rule,
			 CFA_UNSUPPORTED);
	unwind_table__free(t);
}

/* The rows of a lazy .plt and of .plt.sec/.plt.got, however they came. */
static void check_plt(const char *p, const struct unwind_table *t, uint8_t split)
{
	struct sec plt, s;
	const struct unwind_row *r;

	assert_true(section(p, ".plt", &plt));
	assert_true(plt.size >= 32);
	r = unwind_table__find(t, plt.addr);
	assert_int_equal(r->cfa_rule, CFA_SP);
	assert_int_equal(r->cfa_off, 16);
	r = unwind_table__find(t, plt.addr + 6);
	assert_int_equal(r->cfa_rule, CFA_SP);
	assert_int_equal(r->cfa_off, 24);
	for (uint64_t x = plt.addr + 16; x < plt.addr + plt.size; x++) {
		r = unwind_table__find(t, x);
		assert_int_equal(r->cfa_rule, CFA_PLT);
		assert_int_equal(r->cfa_off, 8);
		assert_int_equal(r->ra_off, -8);
		assert_int_equal(r->plt_split, split);
	}
	assert_true(t->plt_rows >= 1);
	if (section(p, ".plt.sec", &s)) {
		r = unwind_table__find(t, s.addr + 4);
		assert_int_equal(r->cfa_rule, CFA_SP);
		assert_int_equal(r->cfa_off, 8);
	}
	if (section(p, ".plt.got", &s)) {
		r = unwind_table__find(t, s.addr);
		assert_int_equal(r->cfa_rule, CFA_SP);
		assert_int_equal(r->cfa_off, 8);
	}
}

static void test_plt_from_cfi(void **state)
{
	struct unwind_table *t;

	(void)state;
	if (compile("lazy", "-Wl,-z,lazy"))
		skip();
	t = check_against_readelf(path_of("lazy"));
	assert_int_equal(t->synthesized, 0);
	check_plt(path_of("lazy"), t, 11);
	unwind_table__free(t);
}

static void test_plt_synthesized(void **state)
{
	struct unwind_table *t;

	(void)state;
	if (compile("nold", "-Wl,-z,lazy -Wl,--no-ld-generated-unwind-info"))
		skip();
	t = check_against_readelf(path_of("nold"));
	assert_true(t->synthesized >= 3);
	check_plt(path_of("nold"), t, 11);
	unwind_table__free(t);
}

static void test_plt_ibt(void **state)
{
	struct unwind_table *t;

	(void)state;
	if (compile("ibt", "-fcf-protection=full -Wl,-z,ibtplt -Wl,-z,lazy") ||
	    compile("ibt_nold", "-fcf-protection=full -Wl,-z,ibtplt -Wl,-z,lazy "
		    "-Wl,--no-ld-generated-unwind-info"))
		skip();
	t = check_against_readelf(path_of("ibt"));
	check_plt(path_of("ibt"), t, 9);
	unwind_table__free(t);
	t = check_against_readelf(path_of("ibt_nold"));
	assert_true(t->synthesized >= 3);
	check_plt(path_of("ibt_nold"), t, 9);
	unwind_table__free(t);
}

static void test_libc_matches_readelf(void **state)
{
	struct unwind_table *t;

	(void)state;
	if (access(LIBC_PATH, R_OK))
		skip();
	t = check_against_readelf(LIBC_PATH);
	assert_true(t->nr > 1000);
	assert_true(t->unsupported > 0);	/* __restore_rt, __longjmp... */
	assert_int_equal(t->synthesized, 0);
	unwind_table__free(t);
}

/* Big real-world tables: C++ (libstdc++) and python3 (cfa_off > 32 KiB). */
static void test_system_binaries_match_readelf(void **state)
{
	static const char *const paths[] = {
		"/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/bin/python3",
	};
	int done = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (access(paths[i], R_OK))
			continue;
		unwind_table__free(check_against_readelf(paths[i]));
		done++;
	}
	if (!done)
		skip();
}

static void test_errors(void **state)
{
	struct unwind_table *t = (void *)1;
	char cmd[512];

	(void)state;
	assert_int_equal(unwind_table__build_file("/nonexistent/x", &t), -ENOENT);
	assert_int_equal(unwind_table__build_file(fx.src, &t), -ENOEXEC);
	if (compile("bare", "") == 0) {
		snprintf(cmd, sizeof(cmd), "objcopy --remove-section=.eh_frame "
			 "--remove-section=.eh_frame_hdr %s/bare %s/bare2 2>/dev/null",
			 fx.dir, fx.dir);
		if (system(cmd) == 0)
			assert_int_equal(unwind_table__build_file(path_of("bare2"), &t), -ENODATA);
	}
	assert_ptr_equal(t, (void *)1);		/* untouched on failure */
}

/* Offset and size in the file of section name of path, or -1. */
static long section_at(const char *path, const char *name, size_t *size)
{
	int fd = open(path, O_RDONLY);
	Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	long off = -1;
	GElf_Shdr sh;

	if (elf && !elf_getshdrstrndx(elf, &shstrndx)) {
		while ((scn = elf_nextscn(elf, scn))) {
			const char *n = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;

			if (n && !strcmp(n, name)) {
				off = (long)sh.sh_offset;
				*size = sh.sh_size;
				break;
			}
		}
	}
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	return off;
}

/* A copy of src at dst with len bytes at off set to byte. */
static void corrupt_copy(const char *src, const char *dst, long off, size_t len, int byte)
{
	char cmd[512];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "cp %s %s", src, dst);
	assert_int_equal(system(cmd), 0);
	f = fopen(dst, "r+");
	assert_non_null(f);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(fputc(byte, f), byte);
	fclose(f);
}

static void assert_same_rows(const struct unwind_table *a, const struct unwind_table *b)
{
	assert_int_equal(a->nr, b->nr);
	assert_int_equal(a->base, b->base);
	assert_int_equal(a->fdes, b->fdes);
	assert_memory_equal(a->rows, b->rows, a->nr * sizeof(*a->rows));
}

/*
 * A corrupt .eh_frame_hdr never discards an intact .eh_frame: with a header
 * libdw refuses (version 2) and with a search table that points nowhere
 * (its entries zeroed), the table is built from .eh_frame alone, row for
 * row the same as from the intact file.
 */
static void test_corrupt_eh_frame_hdr(void **state)
{
	static const char *const srcs[] = { "hdr_prog", LIBC_PATH };
	char src[256], bad[256];

	(void)state;
	assert_int_equal(compile("hdr_prog", ""), 0);
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		struct unwind_table *good, *t;
		size_t hdr_size = 0;
		long hdr;

		snprintf(src, sizeof(src), "%s", i == 0 ? path_of(srcs[i]) : srcs[i]);
		if (access(src, R_OK))
			continue;
		hdr = section_at(src, ".eh_frame_hdr", &hdr_size);
		assert_true(hdr > 0 && hdr_size > 12);
		assert_int_equal(unwind_table__build_file(src, &good), 0);
		assert_false(good->hdr_ignored);

		snprintf(bad, sizeof(bad), "%s/hdr_version", fx.dir);
		corrupt_copy(src, bad, hdr, 1, 2);	/* version 2: libdw gives no CFI */
		assert_int_equal(unwind_table__build_file(bad, &t), 0);
		assert_true(t->hdr_ignored);
		assert_same_rows(good, t);
		unwind_table__free(t);

		snprintf(bad, sizeof(bad), "%s/hdr_table", fx.dir);
		corrupt_copy(src, bad, hdr + 12, hdr_size - 12, 0);	/* the search table */
		assert_int_equal(unwind_table__build_file(bad, &t), 0);
		assert_true(t->hdr_ignored);
		assert_same_rows(good, t);
		unwind_table__free(t);
		unwind_table__free(good);
	}
}

static void test_find_bounds(void **state)
{
	struct unwind_row rows[] = {
		{ .pc = 0x10, .cfa_rule = CFA_SP, .cfa_off = 8 },
		{ .pc = 0x20, .cfa_rule = CFA_SP, .cfa_off = 16 },
		{ .pc = 0x30, .cfa_rule = CFA_UNSUPPORTED },
	};
	struct unwind_table t = { .rows = rows, .nr = 3, .base = 0x1000 };

	(void)state;
	assert_null(unwind_table__find(&t, 0x100f));
	assert_null(unwind_table__find(&t, 0x10));
	assert_ptr_equal(unwind_table__find(&t, 0x1010), &rows[0]);
	assert_ptr_equal(unwind_table__find(&t, 0x101f), &rows[0]);
	assert_ptr_equal(unwind_table__find(&t, 0x1020), &rows[1]);
	assert_ptr_equal(unwind_table__find(&t, 0x5000), &rows[2]);
	assert_ptr_equal(unwind_table__find(&t, 0x7fffffffffffULL), &rows[2]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_bounds),
		cmocka_unit_test(test_async_matches_readelf),
		cmocka_unit_test(test_noasync_matches_readelf),
		cmocka_unit_test(test_plt_from_cfi),
		cmocka_unit_test(test_plt_synthesized),
		cmocka_unit_test(test_plt_ibt),
		cmocka_unit_test(test_libc_matches_readelf),
		cmocka_unit_test(test_system_binaries_match_readelf),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_corrupt_eh_frame_hdr),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* SPDX-License-Identifier: MIT */
/*
 * elf_tools.h - independent answers from binutils (nm, readelf, objdump)
 * for test_elf_funcs.c, test_probe_place.c and test_unwind_table.c, so that
 * what libelf and capstone say is checked against a second reader of the
 * same file.
 */
#ifndef MEMTRACE_TEST_ELF_TOOLS_H
#define MEMTRACE_TEST_ELF_TOOLS_H

#include <inttypes.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIBC_PATH	"/lib/x86_64-linux-gnu/libc.so.6"
#define LIBSTDCXX_PATH	"/usr/lib/x86_64-linux-gnu/libstdc++.so.6"
#define JEMALLOC_PATH	"/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
#define TCMALLOC_PATH	"/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4"

/* @rel relative to the build output folder (the test binary's parent's parent). */
static inline const char *tool_out_path(const char *rel, char *buf, size_t len)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return NULL;
	exe[n] = '\0';
	snprintf(buf, len, "%s/../%s", dirname(exe), rel);
	return buf;
}

/*
 * Address and size of symbol @name exactly as nm prints it
 * ("malloc@@GLIBC_2.2.5"), from nm -D (@dynamic) or nm. Returns 0 or -1.
 */
static inline int tool_sym(const char *path, bool dynamic, const char *name, uint64_t *addr,
			   uint64_t *size)
{
	char cmd[4200], line[1024];
	int ret = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm %s --defined-only --format=posix '%s' 2>/dev/null",
		 dynamic ? "-D" : "", path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		char sym[512], type[8];
		uint64_t a, s = 0;
		int n = sscanf(line, "%511s %7s %" SCNx64 " %" SCNx64, sym, type, &a, &s);

		if (n >= 3 && !strcmp(sym, name)) {
			*addr = a;
			if (size)
				*size = n == 4 ? s : 0;
			ret = 0;
			break;
		}
	}
	pclose(p);
	return ret;
}

/* File offset of @vaddr through readelf's LOAD lines. Returns 0 or -1. */
static inline int tool_file_offset(const char *path, uint64_t vaddr, uint64_t *off)
{
	char cmd[4200], line[1024];
	int ret = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -lW '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		uint64_t o, v, pa, fsz;

		if (sscanf(line, " LOAD 0x%" SCNx64 " 0x%" SCNx64 " 0x%" SCNx64 " 0x%" SCNx64,
			   &o, &v, &pa, &fsz) == 4 && vaddr >= v && vaddr < v + fsz) {
			*off = vaddr - v + o;
			ret = 0;
		}
	}
	pclose(p);
	return ret;
}

/* One instruction as objdump -d -w prints it (AT&T). */
struct tinsn {
	uint64_t addr;
	uint8_t bytes[16];
	int len;
	char mnem[32];		/* "test", "je", "push"; prefixes like "bnd" stay here */
	char ops[160];		/* "%rdi,%rdi"; "98fb8 <free+0xc8>" */
};

/* Disassemble [@start, @stop) of @path with objdump. Returns the count or -1. */
static inline int tool_disasm(const char *path, uint64_t start, uint64_t stop,
			      struct tinsn *out, int max)
{
	char cmd[4200], line[1024];
	int n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "objdump -d -w --start-address=0x%" PRIx64 " --stop-address=0x%" PRIx64
		 " '%s' 2>/dev/null", start, stop, path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p) && n < max) {
		char *tab1, *tab2, *s;
		struct tinsn t = { 0 };
		unsigned int b;
		int k;

		if (sscanf(line, " %" SCNx64 ":", &t.addr) != 1 || !(tab1 = strchr(line, '\t')))
			continue;
		tab2 = strchr(tab1 + 1, '\t');
		if (tab2)
			*tab2 = '\0';
		for (s = tab1 + 1; t.len < 16 && sscanf(s, "%2x%n", &b, &k) == 1; s += k)
			t.bytes[t.len++] = b;
		if (!tab2) {	/* continuation line of a long instruction */
			if (n) {
				struct tinsn *prev = &out[n - 1];

				for (k = 0; k < t.len && prev->len < 16; k++)
					prev->bytes[prev->len++] = t.bytes[k];
			}
			continue;
		}
		s = tab2 + 1;
		s[strcspn(s, "\n")] = '\0';
		if (sscanf(s, "%31s %159[^\n]", t.mnem, t.ops) < 1)
			continue;
		if (!strcmp(t.mnem, "bnd") || !strcmp(t.mnem, "notrack") || !strcmp(t.mnem, "rex.W") ||
		    !strcmp(t.mnem, "lock") || !strcmp(t.mnem, "data16") || !strcmp(t.mnem, "cs") ||
		    !strcmp(t.mnem, "ds") || !strcmp(t.mnem, "rep") || !strcmp(t.mnem, "repz"))
			snprintf(t.mnem, sizeof(t.mnem), "?%.29s", s);	/* prefixed: unknown */
		out[n++] = t;
	}
	pclose(p);
	return n;
}

#endif /* MEMTRACE_TEST_ELF_TOOLS_H */

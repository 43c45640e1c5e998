// SPDX-License-Identifier: MIT
/*
 * fuzz_syms.c - symbolization of a target's mapped file
 * (src/symbolize/syms_module.c, syms_resolve.c, syms_symtab.c): the
 * build-id note, the PT_LOADs, .gnu_debuglink, the symbol tables and
 * DWARF (through libdwfl), as syms__frames() meets them for an address in
 * a mapping of the target.
 *
 * The module is opened the production way: a mapping whose file is
 * reached through the target's root, checked by inode. Debug files are
 * searched only in an empty directory, so the run depends on the input
 * alone, and .gnu_debuglink names are looked up in that directory.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "symbolize/syms_int.h"
#include "fuzz_file.h"

static char dir[PATH_MAX], lib[PATH_MAX + 8];

static void remove_dir(void)
{
	unlink(lib);
	rmdir(dir);
}

/* The symbolizer, and the input's file in a directory of its own ($TMPDIR). */
static struct syms *syms_get(struct fuzz_file *f)
{
	static struct syms *s;

	if (!s) {
		const char *tmp = getenv("TMPDIR");
		struct syms_opts o = { .names = true };

		snprintf(dir, sizeof(dir), "%s/memtrace-fuzz-syms.XXXXXX", tmp ? tmp : "/tmp");
		o.debug_dir = mkdtemp(dir);
		s = o.debug_dir ? syms__new(getpid(), &o) : NULL;
		if (!s)
			abort();
		snprintf(lib, sizeof(lib), "%s/lib.so", dir);
		fuzz_file__at(f, lib);
		atexit(remove_dir);
	}
	return s;
}

static void resolve(struct syms *s, struct syms_module *mod, uint64_t vaddr)
{
	struct syms_entry *e = syms_module__resolve(s, mod, vaddr);

	if (!e)
		return;
	for (uint32_t i = 0; i < e->nr; i++)	/* every name is a string */
		if (e->syms[i].function && strlen(e->syms[i].function) > (1u << 30))
			abort();
	syms_entry__free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file f;
	struct syms *s = syms_get(&f);
	struct syms_map m = { .start = 0x1000, .end = 0x2000 };
	struct syms_module *mod;
	struct stat st;

	m.path = (char *)fuzz_file__set(&f, data, size);
	if (fstat(f.fd, &st))
		abort();
	m.ino = st.st_ino;
	mod = syms_module__get(s, &m);
	if (!mod)
		return 0;
	if (s->mods != mod)	/* each input is a new module: the list stays empty */
		abort();
	for (size_t i = 0; i < mod->nr_loads && i < 4; i++) {
		uint64_t va;

		resolve(s, mod, mod->loads[i].vaddr);
		resolve(s, mod, mod->loads[i].vaddr + mod->loads[i].filesz / 2);
		if (!syms_module__vaddr(mod, mod->loads[i].offset + 1, &va))
			resolve(s, mod, va);
	}
	/* symbols' own addresses: the lookups a real stack makes */
	for (size_t i = 0; i < mod->nr_fsyms && i < 64; i++)
		resolve(s, mod, mod->fsyms[i].addr + mod->fsyms[i].size / 2);
	s->mods = mod->next;
	syms_module__free(mod);
	return 0;
}

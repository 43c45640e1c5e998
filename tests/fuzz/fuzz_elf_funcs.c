// SPDX-License-Identifier: MIT
/*
 * fuzz_elf_funcs.c - ELF function lookup (src/target/elf_funcs.c) and the
 * probe placement that disassembles what it finds (probe_place.c), on any
 * file a target could map as its libc or executable: program and section
 * headers, .dynsym/.symtab and their strings, .gnu.version/_d.
 */
#include <stdlib.h>
#include "target/elf_funcs.h"
#include "target/probe_place.h"
#include "fuzz_file.h"

/* What the tracer, the target checks and wrappers.c look up, plus each naming form. */
static const char *const names[] = {
	"malloc", "free", "calloc", "realloc", "posix_memalign", "aligned_alloc",
	"memalign", "valloc", "pvalloc", "mmap", "munmap", "mremap", "main",
	"mmap64", "__mmap64", "__mmap", "__mremap",
	"malloc@@GLIBC_2.2.5", "memcpy@GLIBC_2.2.5", "f@", "@@",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file f;
	const char *path = fuzz_file__set(&f, data, size);
	struct elf_funcs *e = elf_funcs__open(path);
	const struct elf_seg *segs;
	size_t nr;

	if (!e)
		return 0;
	nr = elf_funcs__segments(e, &segs);
	for (size_t i = 0; i < nr; i++) {
		uint64_t off;

		if (!elf_funcs__vaddr_to_offset(e, segs[i].vaddr, &off) &&
		    elf_funcs__bytes(e, off, 1) && off >= size)
			abort();	/* bytes beyond the file */
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct elf_func fn;
		struct probe_place pp;

		if (elf_funcs__find(e, names[i], &fn))
			continue;
		if (fn.version[sizeof(fn.version) - 1])
			abort();
		probe_place__choose(e, &fn, PROBE_ARG_REGS(2), &pp);
	}
	elf_funcs__close(e);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * elf_funcs.h - find functions in an ELF file by name, the way uprobe
 * attach wants them: a file offset, plus the link-time address and size.
 *
 * Open a file once, look up many names, close:
 *
 *	struct elf_funcs *e = elf_funcs__open("/lib/x86_64-linux-gnu/libc.so.6");
 *	struct elf_func f;
 *	if (e && elf_funcs__find(e, "malloc", &f) == 0)
 *		attach_uprobe(path, f.offset);
 *	elf_funcs__close(e);
 *
 * Names: "malloc" finds the default version of malloc (what a program
 * linking today gets); "malloc@@GLIBC_2.2.5" asks for that default
 * version; "memcpy@GLIBC_2.2.5" for that exact version, default or not.
 * .dynsym is searched before .symtab. Aliases (malloc, __libc_malloc)
 * resolve to the same offset; a symbol of size 0 takes its size from an
 * alias at the same address.
 */
#ifndef MEMTRACE_ELF_FUNCS_H
#define MEMTRACE_ELF_FUNCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_FUNC_VERSION_MAX 32

/* One function, as found by elf_funcs__find(). */
struct elf_func {
	uint64_t vaddr;		/* st_value: address in the ELF's own address space */
	uint64_t offset;	/* file offset of vaddr (uprobe attach takes this) */
	uint64_t size;		/* st_size (or an alias's), 0 when unknown */
	bool ifunc;		/* STT_GNU_IFUNC: vaddr is the resolver, not the function */
	bool dynamic;		/* found in .dynsym (false: .symtab) */
	char version[ELF_FUNC_VERSION_MAX]; /* "GLIBC_2.2.5", "" when unversioned */
};

/* One PT_LOAD segment. */
struct elf_seg {
	uint64_t vaddr;
	uint64_t offset;
	uint64_t filesz;
	uint64_t memsz;
	uint32_t flags;		/* PF_X | PF_W | PF_R */
};

/* Opaque: an open ELF file with its function symbols indexed by name. */
struct elf_funcs;

/*
 * Open and index @path. Returns a handle the caller owns (release with
 * elf_funcs__close()), or NULL with errno set: ENOENT/EACCES from open,
 * ENOEXEC when the file is not a valid ELF, ENOMEM.
 */
struct elf_funcs *elf_funcs__open(const char *path);

/* Release everything elf_funcs__open() made. NULL is a no-op. */
void elf_funcs__close(struct elf_funcs *e);

/*
 * Find function @name (see the naming rules above) and fill @out.
 * Returns 0, -ENOENT when no defined function has that name (or
 * version), -ERANGE when its address lies in no file-backed PT_LOAD
 * segment, -EINVAL on NULL arguments. @out is only written on success.
 */
int elf_funcs__find(const struct elf_funcs *e, const char *name, struct elf_func *out);

/*
 * One-shot: open @path, find @name, close. Returns as elf_funcs__find(),
 * or the negative errno elf_funcs__open() failed with.
 */
int elf_funcs__find_in(const char *path, const char *name, struct elf_func *out);

/*
 * Translate link-time address @vaddr to a file offset through the PT_LOAD
 * segments. Returns 0 and sets *@offset, or -ERANGE when no segment maps
 * @vaddr from the file.
 */
int elf_funcs__vaddr_to_offset(const struct elf_funcs *e, uint64_t vaddr, uint64_t *offset);

/*
 * The file's bytes at [@offset, @offset + @len), or NULL when that range
 * is outside the file. The pointer is valid until elf_funcs__close().
 */
const uint8_t *elf_funcs__bytes(const struct elf_funcs *e, uint64_t offset, size_t len);

/* The PT_LOAD segments; sets *@segs (valid until close), returns the count. */
size_t elf_funcs__segments(const struct elf_funcs *e, const struct elf_seg **segs);

/* e_machine (EM_X86_64, EM_AARCH64...). Cannot fail. */
unsigned int elf_funcs__machine(const struct elf_funcs *e);

/* The path given to elf_funcs__open(). Cannot fail. */
const char *elf_funcs__path(const struct elf_funcs *e);

#endif /* MEMTRACE_ELF_FUNCS_H */

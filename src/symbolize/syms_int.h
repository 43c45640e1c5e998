/* SPDX-License-Identifier: MIT */
/*
 * syms_int.h - what the syms*.c files share.
 * Not part of the public interface (see syms.h).
 */
#ifndef MEMTRACE_SYMS_INT_H
#define MEMTRACE_SYMS_INT_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "symbolize/kdebug.h"
#include "symbolize/ksyms.h"
#include "symbolize/syms.h"

/* One resolved frame, owned by the cache. */
struct syms_sym {
	char *function;		/* demangled */
	char *system_name;	/* as in the symbol table or DWARF linkage name */
	char *file;
	int line;
	bool inlined;
};

/* The frames of one address of one module, innermost first. */
struct syms_entry {
	struct syms_entry *next;	/* hash chain */
	uint64_t vaddr;			/* ELF address looked up (ip - 1) */
	uint32_t nr;
	struct syms_sym syms[];
};

/* The address range of one concrete function DIE. */
struct syms_fn_range {
	uint64_t lo, hi;	/* DWARF addresses, [lo, hi) */
	uint64_t die;		/* Dwarf_Off of the DW_TAG_subprogram */
};

/*
 * The functions of one compile unit, sorted by lo: built by one walk of
 * the CU's top levels, so a lookup never rescans the CU's DIE tree.
 */
struct syms_cu_index {
	uint64_t cu;		/* Dwarf_Off of the CU DIE */
	size_t nr;
	struct syms_fn_range *r;
};

/* One symbol of a module's symbol tables, for address lookups. */
struct syms_fsym {
	uint64_t addr, size;
	const char *name;	/* in libelf's data, lives as long as the Dwfl */
	int rank;		/* binding: global 0, weak 1, local 2 */
};

/* A PT_LOAD segment, to turn a file offset into an ELF address. */
struct syms_load {
	uint64_t offset, filesz, vaddr;
};

/*
 * One ELF file, shared by every mapping of it and kept across refreshes.
 * Keyed by build-id, or by device/inode/size/mtime when it has none.
 */
struct syms_module {
	struct syms_module *next;	/* all modules of a struct syms */
	char *key;
	char *build_id;		/* hex, NULL when the file has none */
	struct syms *s;		/* owner: options, stats, debug paths */
	char *target_path;	/* as the target first mapped it */
	int fd;			/* keeps even a deleted file readable */
	Elf *elf;
	uint64_t dev, ino;	/* of the file we opened */
	size_t nr_loads;
	struct syms_load *loads;
	/* symbols: loaded on first lookup */
	bool dwfl_tried;
	bool debug_searched;	/* debuglink/debuginfod already failed once */
	Dwfl *dwfl;
	Dwfl_Module *dwmod;
	struct syms_cu_index *cus;	/* sorted by cu */
	size_t nr_cus;
	bool fsyms_built;
	struct syms_fsym *fsyms;	/* sorted by addr, then rank */
	size_t nr_fsyms;
	/* cache: ELF address -> frames */
	struct syms_entry **buckets;
	size_t nr_buckets, nr_entries;
};

/* One executable mapping of the target. */
struct syms_map {
	uint64_t start, end, pgoff, ino;
	char *path;			/* as in maps, " (deleted)" removed; NULL anonymous */
	struct syms_module *mod;	/* NULL: anonymous, [vdso], or unreadable */
};

struct syms_debuginfod;

struct syms {
	int pid;
	bool names;
	bool debuginfod;
	bool frozen;		/* syms__freeze(): the mappings known stay as they are */
	char *debug_dir;
	char *debuginfo_path;	/* for Dwfl_Callbacks: debug_dir[:root/usr/lib/debug] */
	Dwfl_Callbacks cbs;	/* every module's Dwfl points here */
	char root[48];		/* "" when the target shares our root, else /proc/PID/root */
	char *root_link;	/* where its root is in ours (chroot), NULL if "/" */
	size_t nr_maps;
	struct syms_map *maps;	/* sorted by start, not overlapping */
	struct syms_module *mods;
	uint64_t *unknown;	/* ips found in no mapping after a refresh, sorted */
	size_t nr_unknown;
	struct syms_debuginfod *dbgd;
	struct syms_stats stats;
	struct ksyms *ksyms;	/* kernel ips: /proc/kallsyms, read on first use */
	bool ksyms_tried;
	struct kdebug *kdebug;	/* vmlinux file:line, when installed; on first use */
	bool kdebug_tried;
};

/* The mapping holding addr in maps (sorted, disjoint), or NULL. */
const struct syms_map *syms_maps__find(const struct syms_map *maps, size_t nr, uint64_t addr);

/* Free nr mappings and the array. NULL is a no-op. */
void syms_maps__free(struct syms_map *maps, size_t nr);

/*
 * Open the file behind one mapping (map_files first, then root + path,
 * checking the inode), read its build-id and PT_LOADs, and return the
 * cached module for it, creating it if new. Returns NULL with errno set
 * (ENOENT/EACCES: file gone or unreadable, ENOEXEC: not ELF, ENOMEM).
 */
struct syms_module *syms_module__get(struct syms *s, const struct syms_map *m);

/*
 * The ELF address of file offset off in mod, via its PT_LOADs. Returns 0
 * and sets *vaddr, or -ENOENT when no loadable segment holds off.
 */
int syms_module__vaddr(const struct syms_module *mod, uint64_t off, uint64_t *vaddr);

/*
 * Point cbs at the module callbacks: debug files by build-id under the
 * dirs of *debuginfo_path, by .gnu_debuglink, then debuginfod if enabled.
 */
void syms_module__init_callbacks(Dwfl_Callbacks *cbs, char **debuginfo_path);

/*
 * Load mod's symbols and DWARF: report its open file to a Dwfl of its own
 * at its link-time addresses, so Dwfl addresses are ELF addresses. Sets
 * mod->dwfl_tried, and mod->dwmod unless that fails. Cannot fail otherwise.
 */
void syms_module__load(struct syms_module *mod);

/*
 * Resolve ELF address vaddr of mod (reading symbols and DWARF on the first
 * call). Returns a new entry (not yet in the cache), with nr == 0 when
 * nothing is known, or NULL with errno ENOMEM.
 */
struct syms_entry *syms_module__resolve(struct syms *s, struct syms_module *mod, uint64_t vaddr);

/*
 * The symbol holding ELF address vaddr in mod's symbol tables (.symtab,
 * else .dynsym, plus .gnu_debugdata), from an index sorted on first use.
 * Returns its name, or NULL when none holds vaddr.
 */
const char *syms_symtab__find(struct syms_module *mod, uint64_t vaddr);

/* Release an entry from syms_module__resolve. NULL is a no-op. */
void syms_entry__free(struct syms_entry *e);

/* Close the file and free the module, its symbols and its cache. */
void syms_module__free(struct syms_module *mod);

/*
 * Ask the debuginfod servers in DEBUGINFOD_URLS for the debug file of
 * build-id hex, within a time budget. Returns an open fd and sets *path
 * (malloc'd), or -errno (-ENOSYS: no client or no URLs, -ETIME: budget
 * spent).
 */
int syms_debuginfod__find(struct syms *s, const char *build_id, char **path);

/* Release the debuginfod client. NULL is a no-op. */
void syms_debuginfod__free(struct syms_debuginfod *d);

#endif /* MEMTRACE_SYMS_INT_H */

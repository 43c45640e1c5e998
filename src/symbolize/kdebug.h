/* SPDX-License-Identifier: MIT */
/*
 * kdebug.h - file:line of kernel addresses from the running kernel's
 * vmlinux debug information, where it is installed (issue 14).
 *
 * The vmlinux is found by the kernel's build id (/sys/kernel/notes) under
 * the debug directory (.build-id/xx/rest.debug), else at the usual paths
 * of distribution debug packages, and checked against that build id. Its
 * link-time addresses are moved by the kernel's KASLR offset: the running
 * address of a symbol (_text, from kallsyms) minus its address in the file.
 * Modules' debug information is not read.
 *
 * Stage symbolize. May call: common.
 */
#ifndef MEMTRACE_KDEBUG_H
#define MEMTRACE_KDEBUG_H

#include <stddef.h>
#include <stdint.h>

struct kdebug;

/*
 * The path of the running kernel's vmlinux with debug information: by
 * build id (read from notes, NULL: /sys/kernel/notes) under debug_dir, or
 * DIR/boot/vmlinux-RELEASE, /usr/lib/debug/boot/vmlinux-RELEASE,
 * /usr/lib/debug/lib/modules/RELEASE/vmlinux, /boot/vmlinux-RELEASE whose
 * build id matches. Returns 0 and fills path, or -ENOENT.
 */
int kdebug__find(const char *debug_dir, const char *notes, char *path, size_t size);

/*
 * Open the debug information of path, whose symbol sym runs at run_addr
 * (the offset between the two moves every address). Returns NULL with
 * errno set (ENOENT: no such symbol or file, ENODATA: no line
 * information).
 */
struct kdebug *kdebug__open(const char *path, const char *sym, uint64_t run_addr);

/*
 * The source file and line of the running address addr. Returns 0 and sets
 * *file (lives as long as kd) and *line, or -ENOENT.
 */
int kdebug__line(struct kdebug *kd, uint64_t addr, const char **file, int *line);

/* NULL is a no-op. */
void kdebug__free(struct kdebug *kd);

#endif

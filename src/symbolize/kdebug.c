// SPDX-License-Identifier: MIT
/* kdebug.c - kernel file:line from vmlinux debug information (kdebug.h). */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "symbolize/kdebug.h"

struct kdebug {
	Dwfl *dwfl;
	Dwfl_Module *mod;
	uint64_t bias;		/* running address - file address */
};

#define NT_BUILD_ID	3
#define MAX_ID		64

/* The GNU build id in a buffer of ELF notes; returns its length or 0. */
static size_t notes_build_id(const unsigned char *p, size_t n, unsigned char *id)
{
	size_t off = 0;

	while (off + 12 <= n) {
		uint32_t namesz, descsz, type;
		size_t name_at = off + 12, desc_at;

		memcpy(&namesz, p + off, 4);
		memcpy(&descsz, p + off + 4, 4);
		memcpy(&type, p + off + 8, 4);
		desc_at = name_at + ((namesz + 3) & ~3u);
		if (desc_at + descsz > n)
			return 0;
		if (type == NT_BUILD_ID && namesz == 4 && !memcmp(p + name_at, "GNU", 4) &&
		    descsz && descsz <= MAX_ID) {
			memcpy(id, p + desc_at, descsz);
			return descsz;
		}
		off = desc_at + ((descsz + 3) & ~3u);
	}
	return 0;
}

/* The running kernel's build id. */
static size_t kernel_build_id(const char *notes, unsigned char *id)
{
	unsigned char buf[4096];
	int fd = open(notes ? notes : "/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 ? notes_build_id(buf, (size_t)n, id) : 0;
}

/* The build id of an ELF file (from its notes), or 0. */
static size_t file_build_id(const char *path, unsigned char *id)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t len = 0;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && !len && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (d && d->d_buf)
			len = notes_build_id(d->d_buf, d->d_size, id);
	}
	elf_end(elf);
	close(fd);
	return len;
}

static bool matches(const char *path, const unsigned char *id, size_t n)
{
	unsigned char fid[MAX_ID];

	return access(path, R_OK) == 0 && file_build_id(path, fid) == n && !memcmp(fid, id, n);
}

int kdebug__find(const char *debug_dir, const char *notes, char *path, size_t size)
{
	unsigned char id[MAX_ID];
	size_t n = kernel_build_id(notes, id);
	struct utsname u;
	char hex[2 * MAX_ID + 1];
	const char *dirs[] = { debug_dir, "/usr/lib/debug" };

	if (!n || uname(&u))
		return -ENOENT;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	for (size_t i = 0; i < 2; i++) {
		if (!dirs[i])
			continue;
		snprintf(path, size, "%s/.build-id/%.2s/%s.debug", dirs[i], hex, hex + 2);
		if (matches(path, id, n))
			return 0;
		snprintf(path, size, "%s/boot/vmlinux-%s", dirs[i], u.release);
		if (matches(path, id, n))
			return 0;
		snprintf(path, size, "%s/lib/modules/%s/vmlinux", dirs[i], u.release);
		if (matches(path, id, n))
			return 0;
	}
	snprintf(path, size, "/boot/vmlinux-%s", u.release);
	if (matches(path, id, n))
		return 0;
	snprintf(path, size, "/lib/modules/%s/build/vmlinux", u.release);
	return matches(path, id, n) ? 0 : -ENOENT;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* The file address of symbol name in mod, or 0. */
static uint64_t symbol_addr(Dwfl_Module *mod, const char *name)
{
	int n = dwfl_module_getsymtab(mod);

	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *s = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);

		if (s && !strcmp(s, name))
			return addr;
	}
	return 0;
}

struct kdebug *kdebug__open(const char *path, const char *sym, uint64_t run_addr)
{
	struct kdebug *kd = calloc(1, sizeof(*kd));
	Dwarf_Addr bias;
	uint64_t at;
	int err = ENOENT;

	if (!kd)
		return NULL;
	kd->dwfl = dwfl_begin(&callbacks);
	if (!kd->dwfl)
		goto free_kd;
	kd->mod = dwfl_report_offline(kd->dwfl, "vmlinux", path, -1);
	dwfl_report_end(kd->dwfl, NULL, NULL);
	if (!kd->mod)
		goto free_kd;
	at = symbol_addr(kd->mod, sym);
	if (!at)
		goto free_kd;
	if (!dwfl_module_getdwarf(kd->mod, &bias)) {
		err = ENODATA;
		goto free_kd;
	}
	kd->bias = run_addr - at;
	return kd;

free_kd:
	kdebug__free(kd);
	errno = err;
	return NULL;
}

int kdebug__line(struct kdebug *kd, uint64_t addr, const char **file, int *line)
{
	Dwfl_Line *l = dwfl_module_getsrc(kd->mod, addr - kd->bias);
	const char *f;

	if (!l)
		return -ENOENT;
	f = dwfl_lineinfo(l, NULL, line, NULL, NULL, NULL);
	if (!f)
		return -ENOENT;
	*file = f;
	return 0;
}

void kdebug__free(struct kdebug *kd)
{
	if (!kd)
		return;
	if (kd->dwfl)
		dwfl_end(kd->dwfl);
	free(kd);
}

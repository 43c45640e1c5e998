// SPDX-License-Identifier: MIT
/* syms_module.c - one mapped ELF file: open, identify, find debug info. */
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "symbolize/syms_int.h"

/* Hex of the GNU build-id note; NULL when there is none (errno ENOENT/ENOMEM). */
static char *build_id_hex(Elf *elf)
{
	const void *bits;
	ssize_t len = dwelf_elf_gnu_build_id(elf, &bits);
	char *hex;

	if (len <= 0) {
		errno = ENOENT;
		return NULL;
	}
	hex = malloc((size_t)len * 2 + 1);
	if (!hex)
		return NULL;
	for (ssize_t i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", ((const unsigned char *)bits)[i]);
	return hex;
}

static int read_loads(struct syms_module *mod)
{
	size_t n;

	if (elf_getphdrnum(mod->elf, &n) != 0)
		return -ENOEXEC;
	mod->loads = calloc(n ? n : 1, sizeof(*mod->loads));
	if (!mod->loads)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(mod->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		mod->loads[mod->nr_loads++] = (struct syms_load){
			.offset = ph.p_offset, .filesz = ph.p_filesz, .vaddr = ph.p_vaddr,
		};
	}
	return mod->nr_loads ? 0 : -ENOEXEC;
}

int syms_module__vaddr(const struct syms_module *mod, uint64_t off, uint64_t *vaddr)
{
	for (size_t i = 0; i < mod->nr_loads; i++) {
		const struct syms_load *l = &mod->loads[i];

		if (off >= l->offset && off < l->offset + l->filesz) {
			*vaddr = off - l->offset + l->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * map_files names the inode that is mapped, even deleted or replaced; a
 * path through the target's root is only trusted when the inode matches.
 */
static int open_mapped(struct syms *s, const struct syms_map *m, struct stat *st)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, s->pid,
		 m->start, m->end);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, st) == 0)
			return fd;
		close(fd);
	}
	if (!m->path || m->path[0] != '/')
		return -ENOENT;
	snprintf(p, sizeof(p), "%s%s", s->root, m->path);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) != 0 || st->st_ino != m->ino) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

static struct syms_module *find_key(struct syms *s, const char *key)
{
	for (struct syms_module *mod = s->mods; mod; mod = mod->next)
		if (!strcmp(mod->key, key))
			return mod;
	return NULL;
}

struct syms_module *syms_module__get(struct syms *s, const struct syms_map *m)
{
	struct syms_module *mod, *old;
	struct stat st;
	char key[128];
	int fd, err;

	fd = open_mapped(s, m, &st);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	s->stats.file_opens++;
	mod = calloc(1, sizeof(*mod));
	if (!mod) {
		err = -ENOMEM;
		goto close_fd;
	}
	mod->s = s;
	mod->fd = fd;
	mod->dev = st.st_dev;
	mod->ino = st.st_ino;
	mod->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!mod->elf || elf_kind(mod->elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto free_mod;
	}
	mod->build_id = build_id_hex(mod->elf);
	if (!mod->build_id && errno == ENOMEM) {
		err = -ENOMEM;
		goto free_mod;
	}
	if (!mod->build_id)
		snprintf(key, sizeof(key), "file:%" PRIx64 ":%" PRIu64 ":%" PRId64 ":%" PRId64,
			 (uint64_t)st.st_dev, (uint64_t)st.st_ino, (int64_t)st.st_size,
			 (int64_t)st.st_mtime);
	old = find_key(s, mod->build_id ? mod->build_id : key);
	if (old) {
		syms_module__free(mod);
		return old;
	}
	mod->key = strdup(mod->build_id ? mod->build_id : key);
	mod->target_path = strdup(m->path ? m->path : "");
	if (!mod->key || !mod->target_path) {
		err = -ENOMEM;
		goto free_mod;
	}
	err = read_loads(mod);
	if (err)
		goto free_mod;
	mod->next = s->mods;
	s->mods = mod;
	return mod;

free_mod:
	syms_module__free(mod);	/* closes fd */
	errno = -err;
	return NULL;
close_fd:
	close(fd);
	errno = -err;
	return NULL;
}

void syms_entry__free(struct syms_entry *e)
{
	if (!e)
		return;
	for (uint32_t i = 0; i < e->nr; i++) {
		free(e->syms[i].function);
		free(e->syms[i].system_name);
		free(e->syms[i].file);
	}
	free(e);
}

void syms_module__free(struct syms_module *mod)
{
	if (!mod)
		return;
	for (size_t i = 0; i < mod->nr_buckets; i++) {
		struct syms_entry *e = mod->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			syms_entry__free(e);
		}
	}
	free(mod->buckets);
	for (size_t i = 0; i < mod->nr_cus; i++)
		free(mod->cus[i].r);
	free(mod->cus);
	free(mod->fsyms);
	if (mod->dwfl)
		dwfl_end(mod->dwfl);
	if (mod->elf)
		elf_end(mod->elf);
	if (mod->fd >= 0)
		close(mod->fd);
	free(mod->loads);
	free(mod->target_path);
	free(mod->build_id);
	free(mod->key);
	free(mod);
}

/* ---- separate debug files ---------------------------------------------- */

static uint32_t file_crc(int fd)
{
	unsigned char buf[65536];
	uLong crc = crc32(0, Z_NULL, 0);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		crc = crc32(crc, buf, (uInt)n);
		off += n;
	}
	return (uint32_t)crc;
}

/* A debug file belongs to mod if its build-id matches, else by CRC. */
static bool debug_matches(const struct syms_module *mod, int fd, uint32_t crc)
{
	struct stat st;
	bool ok;

	if (fstat(fd, &st) || ((uint64_t)st.st_dev == mod->dev && (uint64_t)st.st_ino == mod->ino))
		return false;	/* the debuglink named the file itself */
	if (mod->build_id) {
		Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		char *id = elf ? build_id_hex(elf) : NULL;

		ok = id && !strcmp(id, mod->build_id);
		free(id);
		if (elf)
			elf_end(elf);
		return ok;
	}
	return file_crc(fd) == crc;
}

/* .gnu_debuglink: next to the file, in .debug/, then under the debug dirs. */
static int find_debuglink(struct syms_module *mod, const char *link, uint32_t crc,
			  char **found)
{
	struct syms *s = mod->s;
	const char *slash = strrchr(mod->target_path, '/');
	int dirlen = slash ? (int)(slash - mod->target_path) : 0;
	char p[PATH_MAX];

	if (!slash || strchr(link, '/'))
		return -1;
	for (int i = 0; i < 4; i++) {
		int fd;

		switch (i) {
		case 0:
			snprintf(p, sizeof(p), "%s%.*s/%s", s->root, dirlen, mod->target_path, link);
			break;
		case 1:
			snprintf(p, sizeof(p), "%s%.*s/.debug/%s", s->root, dirlen, mod->target_path, link);
			break;
		case 2:
			snprintf(p, sizeof(p), "%s%.*s/%s", s->debug_dir, dirlen, mod->target_path, link);
			break;
		default:
			if (!s->root[0])
				continue;
			snprintf(p, sizeof(p), "%s/usr/lib/debug%.*s/%s", s->root, dirlen,
				 mod->target_path, link);
			break;
		}
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (debug_matches(mod, fd, crc)) {
			*found = strdup(p);
			return fd;
		}
		close(fd);
	}
	return -1;
}

static int find_elf(Dwfl_Module *dwmod, void **userdata, const char *modname,
		    Dwarf_Addr base, char **file_name, Elf **elfp)
{
	(void)dwmod, (void)userdata, (void)modname, (void)base, (void)file_name;
	*elfp = NULL;
	return -1;	/* every module is reported with its file already open */
}

static int find_debuginfo(Dwfl_Module *dwmod, void **userdata, const char *modname,
			  Dwarf_Addr base, const char *file_name, const char *link,
			  GElf_Word crc, char **found)
{
	struct syms_module *mod = *userdata;
	int fd;

	/* <dir>/.build-id/xx/yyyy.debug for each dir of debuginfo_path */
	fd = dwfl_build_id_find_debuginfo(dwmod, userdata, modname, base, file_name,
					  link, crc, found);
	if (fd >= 0 || !mod || mod->debug_searched)
		return fd;
	mod->debug_searched = true;	/* libdwfl asks again for symtab and DWARF */
	if (link) {
		fd = find_debuglink(mod, link, crc, found);
		if (fd >= 0)
			return fd;
	}
	if (mod->build_id && mod->s->debuginfod) {
		fd = syms_debuginfod__find(mod->s, mod->build_id, found);
		if (fd >= 0)
			return fd;
	}
	errno = 0;	/* "not found", not an error */
	return -1;
}

void syms_module__init_callbacks(Dwfl_Callbacks *cbs, char **debuginfo_path)
{
	cbs->find_elf = find_elf;
	cbs->find_debuginfo = find_debuginfo;
	cbs->section_address = dwfl_offline_section_address;
	cbs->debuginfo_path = debuginfo_path;
}

void syms_module__load(struct syms_module *mod)
{
	const char *name = strrchr(mod->target_path, '/');
	void **userdata;
	int fd;

	mod->dwfl_tried = true;
	mod->s->stats.debug_loads++;
	mod->dwfl = dwfl_begin(&mod->s->cbs);
	if (!mod->dwfl)
		return;
	fd = dup(mod->fd);
	if (fd < 0)
		goto end_dwfl;
	dwfl_report_begin(mod->dwfl);
	mod->dwmod = dwfl_report_elf(mod->dwfl, name ? name + 1 : mod->target_path,
				     mod->target_path, fd, 0, true);
	dwfl_report_end(mod->dwfl, NULL, NULL);
	if (!mod->dwmod) {
		close(fd);
		goto end_dwfl;
	}
	dwfl_module_info(mod->dwmod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	*userdata = mod;
	return;
end_dwfl:
	dwfl_end(mod->dwfl);
	mod->dwfl = NULL;
}

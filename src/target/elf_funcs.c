// SPDX-License-Identifier: MIT
/*
 * elf_funcs.c - function symbols of one ELF file, indexed by name.
 *
 * At open: mmap the file (for elf_funcs__bytes()), read the PT_LOAD
 * segments, and collect every defined STT_FUNC/STT_GNU_IFUNC symbol of
 * .dynsym and .symtab with its version (from .gnu.version/.gnu.version_d
 * for .dynsym, from an "@"/"@@" suffix for .symtab), sorted by base name.
 * A lookup is a binary search plus a ranking of the candidates.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/elf_funcs.h"
#include "common/util.h"

struct sym_ent {
	const char *name;	/* full name, points into the Elf's string table */
	size_t base_len;	/* length before any '@' */
	const char *version;	/* NULL when unversioned */
	uint64_t value;
	uint64_t size;
	uint16_t shndx;
	uint8_t type;
	uint8_t bind;
	bool hidden;		/* non-default version ("@", or versym bit 15) */
	bool dynamic;
};

struct elf_funcs {
	char *path;
	int fd;
	Elf *elf;
	const uint8_t *map;
	size_t map_len;
	unsigned int machine;
	struct elf_seg *segs;
	size_t nr_segs;
	struct sym_ent *syms;
	size_t nr_syms;
	const char **verdefs;	/* version index -> name, from .gnu.version_d */
	size_t nr_verdefs;
};

static int load_segments(struct elf_funcs *e)
{
	size_t phnum, i;

	if (elf_getphdrnum(e->elf, &phnum))
		return -ENOEXEC;
	e->segs = calloc(phnum ? phnum : 1, sizeof(*e->segs));
	if (!e->segs)
		return -ENOMEM;
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e->elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		e->segs[e->nr_segs++] = (struct elf_seg){
			.vaddr = ph.p_vaddr, .offset = ph.p_offset,
			.filesz = ph.p_filesz, .memsz = ph.p_memsz, .flags = ph.p_flags,
		};
	}
	return 0;
}

/* Fill e->verdefs from .gnu.version_d (index -> version name). */
static int load_verdefs(struct elf_funcs *e, Elf_Scn *scn, GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t off = 0, n;

	if (!data)
		return 0;
	for (n = 0; n < sh->sh_info; n++) {
		GElf_Verdef vd;
		GElf_Verdaux va;
		const char *name;

		if (!gelf_getverdef(data, off, &vd))
			break;
		if (gelf_getverdaux(data, off + vd.vd_aux, &va) &&
		    (name = elf_strptr(e->elf, sh->sh_link, va.vda_name))) {
			size_t idx = vd.vd_ndx & 0x7fff;

			if (idx >= e->nr_verdefs) {
				const char **v = realloc(e->verdefs, (idx + 1) * sizeof(*v));

				if (!v)
					return -ENOMEM;
				memset(v + e->nr_verdefs, 0, (idx + 1 - e->nr_verdefs) * sizeof(*v));
				e->verdefs = v;
				e->nr_verdefs = idx + 1;
			}
			e->verdefs[idx] = name;
		}
		if (!vd.vd_next)
			break;
		off += vd.vd_next;
	}
	return 0;
}

static int push_sym(struct elf_funcs *e, size_t *cap, const struct sym_ent *s)
{
	if (array__grow((void **)&e->syms, cap, e->nr_syms + 1, sizeof(*e->syms), 1024))
		return -ENOMEM;
	e->syms[e->nr_syms++] = *s;
	return 0;
}

/* Collect the defined functions of one symbol table. */
static int load_symtab(struct elf_funcs *e, Elf_Scn *scn, GElf_Shdr *sh,
		       Elf_Data *versym, size_t *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	bool dynamic = sh->sh_type == SHT_DYNSYM;
	size_t i, n;
	int err;

	if (!data || !sh->sh_entsize)
		return 0;
	n = sh->sh_size / sh->sh_entsize;
	for (i = 1; i < n; i++) {
		struct sym_ent s = { .dynamic = dynamic };
		const char *at;
		GElf_Sym sym;

		if (!gelf_getsym(data, i, &sym))
			continue;
		s.type = GELF_ST_TYPE(sym.st_info);
		s.bind = GELF_ST_BIND(sym.st_info);
		if ((s.type != STT_FUNC && s.type != STT_GNU_IFUNC) ||
		    sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		s.name = elf_strptr(e->elf, sh->sh_link, sym.st_name);
		if (!s.name || !*s.name)
			continue;
		s.value = sym.st_value;
		s.size = sym.st_size;
		s.shndx = sym.st_shndx;
		at = strchr(s.name, '@');
		s.base_len = at ? (size_t)(at - s.name) : strlen(s.name);
		if (at) {
			s.hidden = at[1] != '@';
			s.version = at + (s.hidden ? 1 : 2);
		} else if (dynamic && versym) {
			GElf_Versym vs;

			if (gelf_getversym(versym, i, &vs)) {
				size_t idx = vs & 0x7fff;

				s.hidden = vs & 0x8000;
				if (idx >= 2 && idx < e->nr_verdefs)
					s.version = e->verdefs[idx];
			}
		}
		err = push_sym(e, cap, &s);
		if (err)
			return err;
	}
	return 0;
}

static int cmp_base(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = strncmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

static int cmp_sym(const void *pa, const void *pb)
{
	const struct sym_ent *a = pa, *b = pb;
	int c = cmp_base(a->name, a->base_len, b->name, b->base_len);

	if (c)
		return c;
	/* stable order between equal names: dynsym first, then by address */
	if (a->dynamic != b->dynamic)
		return a->dynamic ? -1 : 1;
	return (a->value > b->value) - (a->value < b->value);
}

static int load_symbols(struct elf_funcs *e)
{
	Elf_Scn *scn = NULL, *dynsym = NULL, *symtab = NULL;
	GElf_Shdr dyn_sh, sym_sh;
	Elf_Data *versym = NULL;
	size_t cap = 0;
	int err;

	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		switch (sh.sh_type) {
		case SHT_DYNSYM:
			dynsym = scn;
			dyn_sh = sh;
			break;
		case SHT_SYMTAB:
			symtab = scn;
			sym_sh = sh;
			break;
		case SHT_GNU_versym:
			versym = elf_getdata(scn, NULL);
			break;
		case SHT_GNU_verdef:
			err = load_verdefs(e, scn, &sh);
			if (err)
				return err;
			break;
		}
	}
	if (dynsym) {
		err = load_symtab(e, dynsym, &dyn_sh, versym, &cap);
		if (err)
			return err;
	}
	if (symtab) {
		err = load_symtab(e, symtab, &sym_sh, NULL, &cap);
		if (err)
			return err;
	}
	if (e->nr_syms)
		qsort(e->syms, e->nr_syms, sizeof(*e->syms), cmp_sym);
	return 0;
}

struct elf_funcs *elf_funcs__open(const char *path)
{
	struct elf_funcs *e;
	struct stat st;
	GElf_Ehdr eh;
	int err;

	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = ENOEXEC;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	e->fd = -1;
	e->path = strdup(path);
	if (!e->path) {
		err = -ENOMEM;
		goto close_e;
	}
	e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0) {
		err = -errno;
		goto close_e;
	}
	if (fstat(e->fd, &st)) {
		err = -errno;
		goto close_e;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf32_Ehdr)) {
		err = -ENOEXEC;
		goto close_e;
	}
	e->map_len = st.st_size;
	e->map = mmap(NULL, e->map_len, PROT_READ, MAP_PRIVATE, e->fd, 0);
	if (e->map == MAP_FAILED) {
		e->map = NULL;
		err = -errno;
		goto close_e;
	}
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &eh)) {
		err = -ENOEXEC;
		goto close_e;
	}
	e->machine = eh.e_machine;
	err = load_segments(e);
	if (err)
		goto close_e;
	err = load_symbols(e);
	if (err)
		goto close_e;
	return e;

close_e:
	elf_funcs__close(e);
	errno = -err;
	return NULL;
}

void elf_funcs__close(struct elf_funcs *e)
{
	if (!e)
		return;
	free(e->verdefs);
	free(e->syms);
	free(e->segs);
	if (e->elf)
		elf_end(e->elf);
	if (e->map)
		munmap((void *)e->map, e->map_len);
	if (e->fd >= 0)
		close(e->fd);
	free(e->path);
	free(e);
}

int elf_funcs__vaddr_to_offset(const struct elf_funcs *e, uint64_t vaddr, uint64_t *offset)
{
	size_t i;

	for (i = 0; i < e->nr_segs; i++) {
		const struct elf_seg *s = &e->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz) {
			*offset = vaddr - s->vaddr + s->offset;
			return 0;
		}
	}
	return -ERANGE;
}

/* No program headers (a relocatable object): offset through the section. */
static int section_offset(const struct elf_funcs *e, const struct sym_ent *s, uint64_t *offset)
{
	Elf_Scn *scn = elf_getscn(e->elf, s->shndx);
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
	    s->value < sh.sh_addr || s->value - sh.sh_addr >= sh.sh_size)
		return -ERANGE;
	*offset = sh.sh_offset + (s->value - sh.sh_addr);
	return 0;
}

/* Higher is better among symbols with the requested name. */
static int rank(const struct sym_ent *s)
{
	int r = 0;

	if (s->dynamic)
		r += 16;
	if (!s->hidden)
		r += 8;
	if (s->bind == STB_GLOBAL)
		r += 4;
	else if (s->bind == STB_WEAK)
		r += 2;
	if (s->size)
		r += 1;
	return r;
}

int elf_funcs__find(const struct elf_funcs *e, const char *name, struct elf_func *out)
{
	const struct sym_ent *best = NULL;
	const char *at, *want_ver = NULL;
	bool want_default = false;
	size_t base_len, lo, hi, i;
	uint64_t size, offset;
	int err;

	if (!e || !name || !out)
		return -EINVAL;
	at = strchr(name, '@');
	base_len = at ? (size_t)(at - name) : strlen(name);
	if (at) {
		want_default = at[1] == '@';
		want_ver = at + (want_default ? 2 : 1);
	}
	/* lower bound of base name */
	lo = 0;
	hi = e->nr_syms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_base(e->syms[mid].name, e->syms[mid].base_len, name, base_len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < e->nr_syms; i++) {
		const struct sym_ent *s = &e->syms[i];

		if (cmp_base(s->name, s->base_len, name, base_len))
			break;
		if (want_ver && (!s->version || strcmp(s->version, want_ver)))
			continue;
		if (want_default && s->hidden)
			continue;
		if (!best || rank(s) > rank(best))
			best = s;
	}
	if (!best)
		return -ENOENT;

	size = best->size;
	for (i = 0; !size && i < e->nr_syms; i++)
		if (e->syms[i].value == best->value && e->syms[i].size)
			size = e->syms[i].size;

	if (e->nr_segs)
		err = elf_funcs__vaddr_to_offset(e, best->value, &offset);
	else
		err = section_offset(e, best, &offset);
	if (err)
		return err;

	memset(out, 0, sizeof(*out));
	out->vaddr = best->value;
	out->offset = offset;
	out->size = size;
	out->ifunc = best->type == STT_GNU_IFUNC;
	out->dynamic = best->dynamic;
	if (best->version) {
		strncpy(out->version, best->version, sizeof(out->version) - 1);
		out->version[sizeof(out->version) - 1] = '\0';
	}
	return 0;
}

int elf_funcs__find_in(const char *path, const char *name, struct elf_func *out)
{
	struct elf_funcs *e = elf_funcs__open(path);
	int err;

	if (!e)
		return -errno;
	err = elf_funcs__find(e, name, out);
	elf_funcs__close(e);
	return err;
}

const uint8_t *elf_funcs__bytes(const struct elf_funcs *e, uint64_t offset, size_t len)
{
	if (!e || offset > e->map_len || len > e->map_len - offset)
		return NULL;
	return e->map + offset;
}

size_t elf_funcs__segments(const struct elf_funcs *e, const struct elf_seg **segs)
{
	*segs = e->segs;
	return e->nr_segs;
}

unsigned int elf_funcs__machine(const struct elf_funcs *e)
{
	return e->machine;
}

const char *elf_funcs__path(const struct elf_funcs *e)
{
	return e->path;
}

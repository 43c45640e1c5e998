// SPDX-License-Identifier: MIT
/*
 * unwind_maps.c - per-process module lists and shared unwind tables in the
 * BPF maps of bpf/unwind.bpf.h (issue 4).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>
#include "target/procmaps.h"
#include "unwind/eh_cfi.h"
#include "unwind/unwind_maps.h"
#include "common/util.h"
#include "unwind/unwind_table.h"

#define MAX_LOADS	8	/* PT_LOAD segments remembered per binary */

/* One binary: its table (or why it has none) and what bias needs. */
struct binary {
	int table;		/* index in the tables map, or -errno */
	uint64_t base;		/* table base (ELF address of row pc 0) */
	size_t nr_loads;
	struct {
		uint64_t vaddr, offset, filesz;
	} loads[MAX_LOADS];
};

/*
 * Names of a binary: "b:<build-id>:<check>" and "f:<dev>:<ino>:<size>:<mtime>".
 * A build id is at most BKEY_ID_MAX bytes (longer ones are not used as
 * names); a key holds either name whole, never truncated: a truncated
 * name could stand for another binary.
 */
#define BKEY_ID_MAX	40
#define KEY_LEN		(2 + 2 * BKEY_ID_MAX + 1 + 16 + 1)
_Static_assert(sizeof(((struct unwind_failure *)0)->build_id) >= 2 * BKEY_ID_MAX + 1,
	       "a failure names the whole build id");

struct alias {
	char key[KEY_LEN];
	size_t bin;		/* index in bins */
};

struct unwind_maps {
	int rows_fd, tables_fd, modules_fd;
	struct unwind_row *rows_mem;	/* mmap of the rows map, or NULL */
	size_t rows_mem_len;
	struct binary *bins;
	size_t nr_bins, cap_bins;
	struct alias *aliases;
	size_t nr_aliases, cap_aliases;
	int *pids;
	size_t nr_pids, cap_pids;
	struct unwind_failure *failures;	/* binaries without a table */
	size_t nr_failures, cap_failures;
	uint32_t gen;			/* last unwind_modules.gen given out */
	struct unwind_maps_stats st;
};

struct unwind_maps *unwind_maps__new(struct bpf_map *rows, struct bpf_map *tables,
				     struct bpf_map *modules)
{
	struct unwind_maps *u;
	long page = sysconf(_SC_PAGESIZE);

	if (!rows || !tables || !modules ||
	    bpf_map__value_size(rows) != sizeof(struct unwind_row) ||
	    bpf_map__value_size(tables) != sizeof(struct unwind_table_loc) ||
	    bpf_map__value_size(modules) != sizeof(struct unwind_modules) ||
	    bpf_map__key_size(modules) != sizeof(uint32_t) ||
	    bpf_map__fd(rows) < 0 || bpf_map__fd(tables) < 0 || bpf_map__fd(modules) < 0) {
		errno = EINVAL;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		errno = ENOMEM;
		return NULL;
	}
	u->rows_fd = bpf_map__fd(rows);
	u->tables_fd = bpf_map__fd(tables);
	u->modules_fd = bpf_map__fd(modules);
	u->st.rows_max = bpf_map__max_entries(rows);
	u->st.tables_max = bpf_map__max_entries(tables);
	if (bpf_map__map_flags(rows) & BPF_F_MMAPABLE) {
		size_t len = u->st.rows_max * sizeof(struct unwind_row);

		len = (len + page - 1) / page * page;
		u->rows_mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, u->rows_fd, 0);
		if (u->rows_mem == MAP_FAILED)
			u->rows_mem = NULL;	/* fall back to update syscalls */
		else
			u->rows_mem_len = len;
	}
	return u;
}

/* ---- binaries ------------------------------------------------------------ */

static struct binary *find_alias(struct unwind_maps *u, const char *key)
{
	for (size_t i = 0; i < u->nr_aliases; i++)
		if (!strcmp(u->aliases[i].key, key))
			return &u->bins[u->aliases[i].bin];
	return NULL;
}

static int add_alias(struct unwind_maps *u, const char *key, size_t bin)
{
	if (array__grow((void **)&u->aliases, &u->cap_aliases, u->nr_aliases + 1, sizeof(*u->aliases), 16))
		return -ENOMEM;
	snprintf(u->aliases[u->nr_aliases].key, sizeof(u->aliases[0].key), "%s", key);
	u->aliases[u->nr_aliases].bin = bin;
	u->nr_aliases++;
	return 0;
}

/* Append rows to the rows map: through the mapping, else in one batch. */
static int write_rows(struct unwind_maps *u, const struct unwind_table *t, uint32_t first)
{
	uint32_t *keys;
	__u32 count = t->nr;
	int err;

	if (u->rows_mem) {
		memcpy(u->rows_mem + first, t->rows, t->nr * sizeof(*t->rows));
		return 0;
	}
	keys = malloc(t->nr * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < t->nr; i++)
		keys[i] = first + i;
	err = bpf_map_update_batch(u->rows_fd, keys, t->rows, &count, NULL);
	if (err) {	/* batch unsupported: one by one */
		err = 0;
		for (size_t i = 0; i < t->nr && !err; i++)
			if (bpf_map_update_elem(u->rows_fd, &keys[i], &t->rows[i], BPF_ANY))
				err = -errno;
	}
	free(keys);
	return err;
}

/* Build elf's table and load it; returns the table index or -errno. */
static int load_table(struct unwind_maps *u, Elf *elf, uint64_t *base)
{
	struct unwind_table_loc loc;
	struct unwind_table *t;
	uint64_t t0 = clock__mono_ns();
	uint32_t idx;
	int err;

	if (u->st.tables >= u->st.tables_max) {
		u->st.tables_full++;
		return -ENOSPC;
	}
	err = unwind_table__build(elf, &t);
	u->st.build_ns += clock__mono_ns() - t0;
	if (err) {
		u->st.no_table++;
		return err;
	}
	if (t->nr > u->st.rows_max - u->st.rows_used) {
		u->st.rows_full++;
		err = -ENOSPC;
		goto free_table;
	}
	loc.first = u->st.rows_used;
	loc.count = t->nr;
	err = write_rows(u, t, loc.first);
	if (err)
		goto free_table;
	idx = u->st.tables;
	if (bpf_map_update_elem(u->tables_fd, &idx, &loc, BPF_ANY)) {
		err = -errno;
		goto free_table;
	}
	u->st.tables++;
	u->st.rows_used += t->nr;
	*base = t->base;
	err = idx;
free_table:
	unwind_table__free(t);
	return err;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * What a table is built from, beyond the build id: the PT_LOAD headers
 * (they place the rows) and the .eh_frame bytes. Two files with one build
 * id share a table only when these agree: a copy with the same build id
 * but other headers (corrupt, edited) never gets or gives another's table.
 */
static uint64_t table_check(Elf *elf)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	Elf_Data *d;
	Elf_Scn *scn;
	GElf_Shdr sh;
	GElf_Phdr ph;
	size_t nph;

	if (!elf_getphdrnum(elf, &nph))
		for (size_t i = 0; i < nph; i++)
			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD)
				h = fnv(h, &ph, sizeof(ph));
	scn = eh_cfi__section(elf, ".eh_frame", &sh);
	if (!scn)
		return fnv(h, "-", 1);
	h = fnv(h, &sh.sh_addr, sizeof(sh.sh_addr));
	d = elf_rawdata(scn, NULL);
	return d && d->d_buf ? fnv(h, d->d_buf, d->d_size) : fnv(h, "?", 1);
}

/* Remember a binary that got no table: named in reports, counted once. */
static int note_failure(struct unwind_maps *u, const char *path, const char *bkey, int err)
{
	struct unwind_failure *f;

	if (array__grow((void **)&u->failures, &u->cap_failures, u->nr_failures + 1,
			sizeof(*u->failures), 8))
		return -ENOMEM;
	f = &u->failures[u->nr_failures++];
	memset(f, 0, sizeof(*f));
	snprintf(f->module, sizeof(f->module), "%s", path);
	if (bkey[0])	/* "b:<hex>:<check>" */
		snprintf(f->build_id, sizeof(f->build_id), "%.*s",
			 (int)strcspn(bkey + 2, ":"), bkey + 2);
	f->err = err;
	return 0;
}

/*
 * The binary behind fd (mapped as path), as an index in u->bins: from the
 * file identity cache, else by build id and check, else newly read (table
 * built and loaded). A binary whose table cannot be built is named by its
 * file identity only: it never stands for another file with the same
 * build id. Returns 0, -ENOEXEC (not ELF), -ENOMEM or -errno of fstat.
 */
static int get_binary(struct unwind_maps *u, int fd, const char *path, size_t *out)
{
	char fkey[KEY_LEN], bkey[KEY_LEN] = "";
	struct binary *b;
	const void *id;
	struct stat sb;
	GElf_Phdr ph;
	size_t nph;
	ssize_t len;
	Elf *elf;
	int err = 0;

	if (fstat(fd, &sb))
		return -errno;
	snprintf(fkey, sizeof(fkey), "f:%" PRIu64 ":%" PRIu64 ":%" PRId64 ":%" PRId64 ".%09ld",
		 (uint64_t)sb.st_dev, (uint64_t)sb.st_ino, (int64_t)sb.st_size,
		 (int64_t)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	b = find_alias(u, fkey);
	if (b) {
		u->st.shared++;
		*out = b - u->bins;
		return 0;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto end_elf;
	}
	len = dwelf_elf_gnu_build_id(elf, &id);
	if (len > 0 && len <= BKEY_ID_MAX) {
		char *p = bkey + sprintf(bkey, "b:");

		for (ssize_t i = 0; i < len; i++)
			p += sprintf(p, "%02x", ((const unsigned char *)id)[i]);
		sprintf(p, ":%016" PRIx64, table_check(elf));
		b = find_alias(u, bkey);
		if (b) {	/* same binary, other file (container, copy) */
			u->st.shared++;
			*out = b - u->bins;
			err = add_alias(u, fkey, *out);
			goto end_elf;
		}
	}
	if (array__grow((void **)&u->bins, &u->cap_bins, u->nr_bins + 1, sizeof(*u->bins), 16)) {
		err = -ENOMEM;
		goto end_elf;
	}
	b = &u->bins[u->nr_bins];
	memset(b, 0, sizeof(*b));
	if (!elf_getphdrnum(elf, &nph))
		for (size_t i = 0; i < nph && b->nr_loads < MAX_LOADS; i++) {
			if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
				continue;
			b->loads[b->nr_loads].vaddr = ph.p_vaddr;
			b->loads[b->nr_loads].offset = ph.p_offset;
			b->loads[b->nr_loads].filesz = ph.p_filesz;
			b->nr_loads++;
		}
	b->table = load_table(u, elf, &b->base);
	/* on failure the table stays loaded, unnamed: harmless */
	err = add_alias(u, fkey, u->nr_bins);
	if (!err && b->table < 0)
		err = note_failure(u, path, bkey, b->table);
	else if (!err && bkey[0])
		err = add_alias(u, bkey, u->nr_bins);
	if (!err)
		*out = u->nr_bins++;
end_elf:
	elf_end(elf);
	return err;
}

/* ELF address of the mapping's first byte: through the PT_LOAD holding offset. */
static int mapping_vaddr(const struct binary *b, uint64_t offset, uint64_t *vaddr)
{
	long page = sysconf(_SC_PAGESIZE);

	for (size_t i = 0; i < b->nr_loads; i++) {
		uint64_t lo = b->loads[i].offset & ~(uint64_t)(page - 1);

		if (offset >= lo && offset < b->loads[i].offset + b->loads[i].filesz) {
			*vaddr = b->loads[i].vaddr - b->loads[i].offset + offset;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- processes ----------------------------------------------------------- */

static int mod_cmp(const void *pa, const void *pb)
{
	const struct unwind_module *a = pa, *b = pb;

	return a->start < b->start ? -1 : a->start > b->start;
}

/* Add one executable mapping to mods (counted, never fatal). */
static int add_mapping(struct unwind_maps *u, int pid, struct unwind_modules *mods,
		       const struct map_entry *e)
{
	struct unwind_module *m;
	struct binary *b;
	char path[PATH_MAX];
	uint64_t vaddr;
	size_t bin = 0;
	int fd = -1, err;

	if (mods->nr >= UNWIND_MAX_MODULES) {
		u->st.modules_dropped++;
		return 0;
	}
	if (proc_maps__open_path(pid, e, path, sizeof(path)))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		u->st.open_failures++;
		return 0;
	}
	err = get_binary(u, fd, e->path, &bin);
	close(fd);
	if (err == -ENOMEM)
		return err;
	if (err) {
		u->st.no_table++;
		return 0;
	}
	b = &u->bins[bin];
	m = &mods->mod[mods->nr];
	memset(m, 0, sizeof(*m));
	m->start = e->start;
	m->end = e->end;
	m->table = (uint32_t)-1;
	if (b->table >= 0 && !mapping_vaddr(b, e->offset, &vaddr)) {
		m->bias = e->start - vaddr + b->base;
		m->table = b->table;
	}
	mods->nr++;
	return 0;
}

static int note_pid(struct unwind_maps *u, int pid)
{
	for (size_t i = 0; i < u->nr_pids; i++)
		if (u->pids[i] == pid)
			return 0;
	if (array__grow((void **)&u->pids, &u->cap_pids, u->nr_pids + 1, sizeof(*u->pids), 16))
		return -ENOMEM;
	u->pids[u->nr_pids++] = pid;
	return 0;
}

int unwind_maps__add_pid(struct unwind_maps *u, int pid)
{
	struct unwind_modules *mods;
	struct proc_maps maps;
	__u32 key = pid;
	int err;

	err = proc_maps__read(pid, &maps);
	if (err)
		return err;
	if (!maps.nr) {		/* zombie, kernel thread */
		err = -ESRCH;
		goto free_maps;
	}
	mods = calloc(1, sizeof(*mods));
	if (!mods) {
		err = -ENOMEM;
		goto free_maps;
	}
	elf_version(EV_CURRENT);
	for (size_t i = 0; i < maps.nr && !err; i++) {
		const struct map_entry *e = &maps.e[i];

		if (e->perms[2] != 'x' || !e->inode || !e->path || e->path[0] != '/')
			continue;	/* anonymous, [vdso], [uprobes] */
		err = add_mapping(u, pid, mods, e);
	}
	if (err)
		goto free_mods;
	qsort(mods->mod, mods->nr, sizeof(mods->mod[0]), mod_cmp);
	/* never 0: the walker's empty cache slots hold generation 0 */
	mods->gen = ++u->gen ? u->gen : ++u->gen;
	if (bpf_map_update_elem(u->modules_fd, &key, mods, BPF_ANY)) {
		err = -errno;
		goto free_mods;
	}
	err = note_pid(u, pid) ?: (int)mods->nr;
free_mods:
	free(mods);
free_maps:
	proc_maps__free(&maps);
	return err;
}

int unwind_maps__remove_pid(struct unwind_maps *u, int pid)
{
	__u32 key = pid;

	for (size_t i = 0; i < u->nr_pids; i++)
		if (u->pids[i] == pid) {
			u->pids[i] = u->pids[--u->nr_pids];
			break;
		}
	return bpf_map_delete_elem(u->modules_fd, &key) ? -ENOENT : 0;
}

void unwind_maps__stats(const struct unwind_maps *u, struct unwind_maps_stats *st)
{
	*st = u->st;
	st->pids = (uint32_t)u->nr_pids;
	st->bytes = st->rows_used * sizeof(struct unwind_row);
}

size_t unwind_maps__failures(const struct unwind_maps *u, struct unwind_failure *out, size_t max)
{
	for (size_t i = 0; i < u->nr_failures && i < max; i++)
		out[i] = u->failures[i];
	return u->nr_failures;
}

void unwind_maps__free(struct unwind_maps *u)
{
	if (!u)
		return;
	free(u->failures);
	if (u->rows_mem)
		munmap(u->rows_mem, u->rows_mem_len);
	free(u->pids);
	free(u->aliases);
	free(u->bins);
	free(u);
}

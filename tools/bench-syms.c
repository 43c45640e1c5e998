// SPDX-License-Identifier: MIT
/*
 * bench-syms.c - what symbolizing one report costs, first time and cached.
 *
 * Starts TARGET (a fixture that prints "ready" and waits on stdin), draws
 * STACKS stacks of DEPTH return addresses inside real functions of its
 * mappings (inner frames spread over the executable, libstdc++ and libc;
 * outer frames from a small shared pool, as real stacks share their
 * roots), then times syms__new + syms__symbolize of every stack (cold),
 * the same again (cached), and the cold pass with names off.
 *
 * Usage: bench-syms TARGET [STACKS] [DEPTH]
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "symbolize/syms.h"

enum { POOL_EXE, POOL_CXX, POOL_LIBC, POOL_MAX };

struct range {
	uint64_t start, size;
};

struct pool {
	struct range *r;
	size_t nr, cap;
};

static struct pool pools[POOL_MAX];
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add_range(struct pool *p, uint64_t start, uint64_t size)
{
	if (p->nr == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 1024;
		p->r = realloc(p->r, p->cap * sizeof(*p->r));
		if (!p->r)
			exit(1);
	}
	p->r[p->nr++] = (struct range){ start, size };
}

/* FUNC symbols of one mapped file, as addresses in the target. */
static void read_funcs(int pid, uint64_t start, uint64_t end, uint64_t pgoff, struct pool *p)
{
	char path[128];
	uint64_t bias = 0, lo = 0, hi = 0;
	Elf_Scn *scn = NULL;
	size_t nph;
	Elf *elf;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, start, end);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_getphdrnum(elf, &nph))
		goto out;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    pgoff >= ph.p_offset && pgoff < ph.p_offset + ph.p_filesz) {
			bias = start - (pgoff - ph.p_offset + ph.p_vaddr);
			lo = ph.p_vaddr + (pgoff - ph.p_offset);
			hi = lo + (end - start);
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;

			if (gelf_getsym(d, (int)i, &s) && GELF_ST_TYPE(s.st_info) == STT_FUNC &&
			    s.st_size > 2 && s.st_value >= lo && s.st_value + s.st_size <= hi)
				add_range(p, bias + s.st_value, s.st_size);
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
}

static void collect(int pid, const char *target)
{
	char path[64], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		uint64_t start, end, off;
		char perms[8], file[768] = "";
		int pool;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %767s",
			   &start, &end, perms, &off, file) < 4 || perms[2] != 'x')
			continue;
		if (strstr(file, "libstdc++"))
			pool = POOL_CXX;
		else if (strstr(file, "/libc.so"))
			pool = POOL_LIBC;
		else if (strstr(target, strrchr(file, '/') ? strrchr(file, '/') + 1 : "\1"))
			pool = POOL_EXE;
		else
			continue;
		read_funcs(pid, start, end, off, &pools[pool]);
	}
	if (f)
		fclose(f);
}

static uint64_t pick(int pool)
{
	struct pool *p = &pools[pool];
	struct range *r;

	if (!p->nr)
		p = &pools[POOL_EXE];
	r = &p->r[next_rand() % p->nr];
	return r->start + 1 + next_rand() % (r->size - 1);	/* a return address */
}

/* Symbolize every stack; returns seconds, or < 0 on error. */
static double run(struct syms **s, int pid, const struct syms_opts *opts, uint64_t *ips,
		  size_t stacks, size_t depth, size_t *nr_frames, size_t *nr_lines)
{
	double t0 = now();

	if (!*s && !(*s = syms__new(pid, opts)))
		return -1;
	*nr_frames = 0;
	*nr_lines = 0;
	for (size_t i = 0; i < stacks; i++) {
		struct frame *fr;
		size_t n;

		if (syms__symbolize(*s, ips + i * depth, depth, &fr, &n))
			return -1;
		*nr_frames += n;
		for (size_t k = 0; k < n; k++) {
			*nr_lines += fr[k].line > 0;
			frame__clear(&fr[k]);
		}
		free(fr);
	}
	return now() - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t stacks = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000;
	size_t depth = argc > 3 ? strtoul(argv[3], NULL, 0) : 16, roots = 40, uniq = 0, nf, nf_raw, nl, nl_raw;
	struct syms_opts opts = { .names = true }, nonames = { .names = false };
	struct syms *s = NULL, *s2 = NULL;
	uint64_t root[40], *ips, *sorted;
	double cold, warm, raw;
	int in[2], out[2], rc = 1;
	struct syms_stats st;
	char buf[64];
	FILE *fo;
	pid_t pid;

	if (argc < 2 || !stacks || depth < 2) {
		fprintf(stderr, "usage: %s TARGET [STACKS] [DEPTH]\n", argv[0]);
		return 2;
	}
	elf_version(EV_CURRENT);
	if (pipe(in) || pipe(out))
		return 1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(argv[1], argv[1], (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	fo = fdopen(out[0], "r");
	if (!fo || !fgets(buf, sizeof(buf), fo) || strcmp(buf, "ready\n")) {
		fprintf(stderr, "bench-syms: %s did not start\n", argv[1]);
		goto stop;
	}
	collect(pid, argv[1]);
	if (!pools[POOL_EXE].nr) {
		fprintf(stderr, "bench-syms: no functions found in %s\n", argv[1]);
		goto stop;
	}
	ips = calloc(stacks * depth, sizeof(*ips));
	sorted = calloc(stacks * depth, sizeof(*ips));
	if (!ips || !sorted)
		goto stop;
	for (size_t i = 0; i < roots; i++)
		root[i] = pick(i % 2 ? POOL_LIBC : POOL_EXE);
	for (size_t i = 0; i < stacks; i++) {
		for (size_t d = 0; d < depth; d++) {
			uint64_t r = next_rand() % 100;
			uint64_t *ip = &ips[i * depth + d];

			if (d >= depth - depth / 3)
				*ip = root[next_rand() % roots];
			else
				*ip = pick(r < 60 ? POOL_EXE : r < 85 ? POOL_CXX : POOL_LIBC);
		}
	}
	memcpy(sorted, ips, stacks * depth * sizeof(*ips));
	qsort(sorted, stacks * depth, sizeof(*sorted), cmp_u64);
	for (size_t i = 0; i < stacks * depth; i++)
		uniq += !i || sorted[i] != sorted[i - 1];

	cold = run(&s, pid, &opts, ips, stacks, depth, &nf, &nl);
	warm = run(&s, pid, &opts, ips, stacks, depth, &nf, &nl);
	raw = run(&s2, pid, &nonames, ips, stacks, depth, &nf_raw, &nl_raw);
	if (cold < 0 || warm < 0 || raw < 0) {
		fprintf(stderr, "bench-syms: symbolization failed: %s\n", strerror(errno));
		goto free_syms;
	}
	st = syms__stats(s);
	printf("bench-syms: %s: %zu stacks x %zu ips, %zu distinct ips "
	       "(%zu exe, %zu libstdc++, %zu libc functions)\n",
	       argv[1], stacks, depth, uniq, pools[POOL_EXE].nr, pools[POOL_CXX].nr,
	       pools[POOL_LIBC].nr);
	printf("  first time (syms__new + symbolize): %8.1f ms  %7.2f us/stack\n",
	       cold * 1e3, cold * 1e6 / (double)stacks);
	printf("  cached (same ips again):             %8.1f ms  %7.2f us/stack\n",
	       warm * 1e3, warm * 1e6 / (double)stacks);
	printf("  names off (--no-symbols), first:     %8.1f ms  %7.2f us/stack\n",
	       raw * 1e3, raw * 1e6 / (double)stacks);
	printf("  frames per report: %zu (inlines included), %zu with file:line; files opened %" PRIu64
	       ", debug loads %" PRIu64 ", lookups %" PRIu64 ", cache hits %" PRIu64 "\n",
	       nf, nl, st.file_opens, st.debug_loads, st.lookups, st.cache_hits);
	rc = 0;
free_syms:
	syms__free(s);
	syms__free(s2);
	free(ips);
	free(sorted);
stop:
	close(in[1]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return rc;
}

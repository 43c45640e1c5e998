// SPDX-License-Identifier: MIT
/*
 * bench-probe-place - what probe_place chooses, and what it saves.
 *
 *   bench-probe-place show LIB FUNC[:NARGS]...
 *	print the placement decision for each function (NARGS: argument
 *	registers the probe reads, default 1).
 *   bench-probe-place bench [-n CALLS] [LIBC]
 *	time malloc and free with no uprobe, a uprobe at the entry, and a
 *	uprobe at the chosen offset; print ns per call of each.
 *   bench-probe-place classify [-n CALLS]
 *	probe synthetic one-instruction functions (push, nop, jcc, test,
 *	endbr64...), time each, and print what the kernel measurably does
 *	next to what probe_place__classify() predicts.
 *
 * The uprobes are perf events of the "uprobe" PMU opened on this process
 * only (pid 0), so nothing else on the machine is slowed, and the event
 * count proves that every call hit the probe. Needs root (or
 * CAP_PERFMON with perf_event_paranoid allowing it). Exits 2 when uprobes
 * cannot be opened, so the wrapper script can report a skip.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "target/elf_funcs.h"
#include "target/probe_place.h"

#define DEFAULT_LIBC	"/lib/x86_64-linux-gnu/libc.so.6"
#define DEFAULT_CALLS	20000

static int uprobe_pmu_type(void)
{
	FILE *fp = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	int type = -1;

	if (!fp)
		return -errno;
	if (fscanf(fp, "%d", &type) != 1)
		type = -EINVAL;
	fclose(fp);
	return type;
}

/* A counting uprobe on @path:@offset for this process. Returns fd or -errno. */
static int open_uprobe(const char *path, uint64_t offset)
{
	struct perf_event_attr attr;
	int type = uprobe_pmu_type(), fd;

	if (type < 0)
		return type;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = type;
	attr.config1 = (uint64_t)(uintptr_t)path;	/* uprobe_path */
	attr.config2 = offset;				/* probe_offset */
	fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static uint64_t read_count(int fd)
{
	uint64_t c = 0;

	if (read(fd, &c, sizeof(c)) != sizeof(c))
		return 0;
	return c;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void print_place(const char *func, const struct elf_func *f, const struct probe_place *pp)
{
	printf("%-16s entry 0x%-8" PRIx64 " probe 0x%-8" PRIx64 " +%-3u sp_delta %-3d %-9s %-30s %s\n",
	       func, f->offset, pp->offset, pp->skipped, pp->sp_delta,
	       probe_place__class_str(pp->cls), pp->insn, pp->reason);
}

static int cmd_show(int argc, char **argv)
{
	struct elf_funcs *e;
	int i, ret = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: show LIB FUNC[:NARGS]...\n");
		return 1;
	}
	e = elf_funcs__open(argv[0]);
	if (!e) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	for (i = 1; i < argc; i++) {
		char name[256], *colon;
		struct probe_place pp;
		struct elf_func f;
		int nargs = 1, err;

		snprintf(name, sizeof(name), "%s", argv[i]);
		colon = strrchr(name, ':');
		if (colon) {
			*colon = '\0';
			nargs = atoi(colon + 1);
		}
		err = elf_funcs__find(e, name, &f);
		if (!err)
			err = probe_place__choose(e, &f, PROBE_ARG_REGS(nargs), &pp);
		if (err) {
			printf("%-16s error: %s\n", name, strerror(-err));
			ret = 1;
			continue;
		}
		print_place(name, &f, &pp);
	}
	elf_funcs__close(e);
	return ret;
}

/* --- bench: malloc and free of libc --- */

static void *volatile sink;

static double time_malloc(int n)
{
	void *ptrs[64];
	double t0, dt = 0;
	int i, j;

	for (i = 0; i < n; i += 64) {
		t0 = now_ns();
		for (j = 0; j < 64; j++)
			ptrs[j] = malloc(32);
		dt += now_ns() - t0;
		for (j = 0; j < 64; j++)
			free(ptrs[j]);
	}
	return dt / ((n + 63) / 64 * 64);
}

static double time_free(int n)
{
	void *ptrs[64];
	double t0, dt = 0;
	int i, j;

	for (i = 0; i < n; i += 64) {
		for (j = 0; j < 64; j++)
			ptrs[j] = malloc(32);
		sink = ptrs[0];
		t0 = now_ns();
		for (j = 0; j < 64; j++)
			free(ptrs[j]);
		dt += now_ns() - t0;
	}
	return dt / ((n + 63) / 64 * 64);
}

/*
 * Time @timer over @n calls with a uprobe at @lib:@offset (none when
 * @offset is 0). Sets *@ns per call and *@hits (probe hits while timed).
 * Returns 0 or the negative errno of perf_event_open.
 */
static int bench_one(const char *lib, uint64_t offset, double (*timer)(int), int n,
		     double *ns, uint64_t *hits)
{
	int fd = -1;

	if (offset) {
		fd = open_uprobe(lib, offset);
		if (fd < 0)
			return fd;
	}
	timer(n / 10 + 1);	/* warm up: the first hit maps the xol area */
	if (fd >= 0)
		ioctl(fd, PERF_EVENT_IOC_RESET, 0);
	*ns = timer(n);
	*hits = fd >= 0 ? read_count(fd) : 0;
	if (fd >= 0)
		close(fd);
	return 0;
}

static int cmd_bench(int n, const char *lib)
{
	static const struct {
		const char *func;
		int nargs;
		double (*timer)(int);
	} funcs[] = {
		{ "malloc", 1, time_malloc },
		{ "free", 1, time_free },
	};
	struct elf_funcs *e = elf_funcs__open(lib);
	size_t i;
	int ret = 0;

	if (!e) {
		fprintf(stderr, "%s: %s\n", lib, strerror(errno));
		return 1;
	}
	printf("# %s, %d calls per variant, uprobe on this process only\n", lib, n);
	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]) && !ret; i++) {
		double none, entry, chosen;
		uint64_t h0, h1, h2;
		struct probe_place pp;
		struct elf_func f;
		int err;

		err = elf_funcs__find(e, funcs[i].func, &f);
		if (!err)
			err = probe_place__choose(e, &f, PROBE_ARG_REGS(funcs[i].nargs), &pp);
		if (!err)
			err = bench_one(lib, 0, funcs[i].timer, n, &none, &h0);
		if (!err)
			err = bench_one(lib, f.offset, funcs[i].timer, n, &entry, &h1);
		if (!err)
			err = bench_one(lib, pp.offset, funcs[i].timer, n, &chosen, &h2);
		if (err) {
			fprintf(stderr, "%s: %s\n", funcs[i].func, strerror(-err));
			ret = (err == -EACCES || err == -EPERM || err == -ENOENT) ? 2 : 1;
			break;
		}
		print_place(funcs[i].func, &f, &pp);
		printf("%-8s no probe %8.1f ns/call | entry 0x%" PRIx64 " %8.1f ns/call (%" PRIu64
		       " hits) | chosen 0x%" PRIx64 " %8.1f ns/call (%" PRIu64 " hits) | %.1fx\n",
		       funcs[i].func, none, f.offset, entry, h1, pp.offset, chosen, h2,
		       chosen > 0 ? entry / chosen : 0.0);
		if ((int)h1 < n || (int)h2 < n) {
			fprintf(stderr, "%s: probe missed calls\n", funcs[i].func);
			ret = 1;
		}
	}
	elf_funcs__close(e);
	return ret;
}

/* --- classify: one-instruction synthetic functions --- */

/*
 * Each function starts with the instruction under test, then undoes its
 * effect and returns. The probe goes on the first instruction.
 */
__asm__(
	".text\n"
	".p2align 6\n"
	"syn_ret: ret\n"
#define SYN(name, body) ".p2align 4\n.globl " #name "\n.type " #name ",@function\n" \
	#name ":\n" body "\n.size " #name ", .-" #name "\n"
	SYN(syn_nop1, ".byte 0x90\nret")
	SYN(syn_nop2, ".byte 0x66,0x90\nret")
	SYN(syn_nop3, ".byte 0x0f,0x1f,0x00\nret")
	SYN(syn_nop4, ".byte 0x0f,0x1f,0x40,0x00\nret")
	SYN(syn_nop5, ".byte 0x0f,0x1f,0x44,0x00,0x00\nret")
	SYN(syn_nop6, ".byte 0x66,0x0f,0x1f,0x44,0x00,0x00\nret")
	SYN(syn_nop7, ".byte 0x0f,0x1f,0x80,0,0,0,0\nret")
	SYN(syn_nop8, ".byte 0x0f,0x1f,0x84,0,0,0,0,0\nret")
	SYN(syn_nop10cs, ".byte 0x66,0x2e,0x0f,0x1f,0x84,0,0,0,0,0\nret")
	SYN(syn_nopw4, ".byte 0x66,0x0f,0x1f,0x00\nret")
	SYN(syn_pause, "pause\nret")
	SYN(syn_push_rbx, "push %rbx\npop %rbx\nret")
	SYN(syn_push_rbp, "push %rbp\npop %rbp\nret")
	SYN(syn_push_r12, "push %r12\npop %r12\nret")
	SYN(syn_push_rex_w, ".byte 0x48,0x53\npop %rbx\nret")
	SYN(syn_jmp8, ".byte 0xeb,0x00\nret")
	SYN(syn_jmp32, ".byte 0xe9,0,0,0,0\nret")
	SYN(syn_jcc8, ".byte 0x74,0x00\nret")
	SYN(syn_jcc32, ".byte 0x0f,0x84,0,0,0,0\nret")
	SYN(syn_call, "call syn_ret\nret")
	SYN(syn_endbr64, "endbr64\nret")
	SYN(syn_test, "test %rdi,%rdi\nret")
	SYN(syn_mov, "mov %rdi,%rax\nret")
	SYN(syn_sub_rsp, "sub $8,%rsp\nadd $8,%rsp\nret")
	SYN(syn_cmp_rip, "cmpb $0,syn_ret(%rip)\nret")
	SYN(syn_lea, "lea 0x10(%rdi),%rax\nret")
#undef SYN
);

#define SYN_LIST(X) X(nop1) X(nop2) X(nop3) X(nop4) X(nop5) X(nop6) X(nop7) X(nop8) \
	X(nop10cs) X(nopw4) X(pause) X(push_rbx) X(push_rbp) X(push_r12) X(push_rex_w) \
	X(jmp8) X(jmp32) X(jcc8) X(jcc32) X(call) X(endbr64) X(test) X(mov) X(sub_rsp) \
	X(cmp_rip) X(lea)

#define SYN_DECL(n) void syn_##n(void);
SYN_LIST(SYN_DECL)
#undef SYN_DECL

static void (*syn_fn)(void);

static double time_syn(int n)
{
	double t0 = now_ns();
	int i;

	for (i = 0; i < n; i++)
		syn_fn();
	return (now_ns() - t0) / n;
}

static const char *measured_str(double ns, double emu, double step)
{
	if (ns < 0)
		return "rejected";
	return ns < (emu + step) / 2 ? "1 trap" : "2 traps";
}

static bool agrees(enum probe_insn_class pred, const char *measured)
{
	switch (pred) {
	case PROBE_INSN_EMULATED:
	case PROBE_INSN_OPTIMIZED:
		return !strcmp(measured, "1 trap");
	case PROBE_INSN_STEPPED:
		return !strcmp(measured, "2 traps");
	case PROBE_INSN_REJECTED:
		return !strcmp(measured, "rejected");
	}
	return false;
}

static int cmd_classify(int n)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} syns[] = {
#define SYN_ENT(nm) { #nm, syn_##nm },
		SYN_LIST(SYN_ENT)
#undef SYN_ENT
	};
	enum { NR_SYN = sizeof(syns) / sizeof(syns[0]) };
	double ns[NR_SYN], emu = 0, step = 0, none;
	enum probe_insn_class pred[NR_SYN];
	char hex[NR_SYN][40], self[4096];
	uint64_t hits[NR_SYN], dummy;
	struct elf_funcs *e;
	int ret = 0, bad = 0;
	ssize_t len;
	size_t i;

	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0)
		return 1;
	self[len] = '\0';
	e = elf_funcs__open(self);
	if (!e)
		return 1;
	syn_fn = syn_nop1;
	bench_one(self, 0, time_syn, n, &none, &dummy);
	for (i = 0; i < NR_SYN; i++) {
		const uint8_t *code;
		struct elf_func f;
		char name[64];
		size_t ilen, k;
		int err;

		snprintf(name, sizeof(name), "syn_%s", syns[i].name);
		if (elf_funcs__find(e, name, &f) || !(code = elf_funcs__bytes(e, f.offset, 16))) {
			fprintf(stderr, "%s: not found\n", name);
			ret = 1;
			goto close_e;
		}
		pred[i] = probe_place__classify(code, 16, f.vaddr, &ilen);
		hex[i][0] = '\0';
		for (k = 0; k < ilen && k < 12; k++)
			snprintf(hex[i] + 3 * k, sizeof(hex[i]) - 3 * k, "%02x ", code[k]);
		syn_fn = syns[i].fn;
		hits[i] = 0;
		err = bench_one(self, f.offset, time_syn, n, &ns[i], &hits[i]);
		if (err == -EACCES || err == -EPERM || err == -ENOENT) {
			fprintf(stderr, "uprobe: %s\n", strerror(-err));
			ret = 2;
			goto close_e;
		}
		if (err)
			ns[i] = -1;	/* the kernel refused the probe */
		if (!strcmp(syns[i].name, "nop1"))
			emu = ns[i];
		if (!strcmp(syns[i].name, "test"))
			step = ns[i];
	}
	printf("# %d calls each; no probe: %.1f ns/call\n", n, none);
	printf("%-12s %-32s %-10s %10s %8s %-9s %s\n", "function", "probed insn bytes",
	       "predicted", "ns/call", "hits", "measured", "agree");
	for (i = 0; i < NR_SYN; i++) {
		const char *m = measured_str(ns[i], emu, step);
		bool ok = agrees(pred[i], m);

		bad += !ok;
		printf("%-12s %-32s %-10s %10.1f %8" PRIu64 " %-9s %s\n", syns[i].name, hex[i],
		       probe_place__class_str(pred[i]), ns[i], hits[i], m, ok ? "yes" : "NO");
	}
	printf("classify: %d of %d agree\n", (int)NR_SYN - bad, (int)NR_SYN);
	ret = bad ? 1 : 0;
close_e:
	elf_funcs__close(e);
	return ret;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-probe-place show LIB FUNC[:NARGS]...\n"
		"       bench-probe-place bench [-n CALLS] [LIBC]\n"
		"       bench-probe-place classify [-n CALLS]\n");
}

int main(int argc, char **argv)
{
	const char *cmd;
	int n = DEFAULT_CALLS, i = 2;

	if (argc < 2) {
		usage();
		return 1;
	}
	cmd = argv[1];
	if (argc > 3 && !strcmp(argv[2], "-n")) {
		n = atoi(argv[3]);
		i = 4;
		if (n <= 0) {
			usage();
			return 1;
		}
	}
	if (!strcmp(cmd, "show"))
		return cmd_show(argc - 2, argv + 2);
	if (!strcmp(cmd, "bench"))
		return cmd_bench(n, i < argc ? argv[i] : DEFAULT_LIBC);
	if (!strcmp(cmd, "classify"))
		return cmd_classify(n);
	usage();
	return 1;
}

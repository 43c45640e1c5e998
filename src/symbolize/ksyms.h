/* SPDX-License-Identifier: MIT */
/*
 * ksyms.h - kernel addresses -> symbols, from /proc/kallsyms (the core
 * kernel and every loaded module's symbols, with the module's name).
 *
 * Loaded once per run (about 120k symbols, a few ms); a module loaded
 * later is found after ksyms__reload(). Addresses are as the running
 * kernel has them (after KASLR), what bpf_get_stack returns.
 *
 * Stage symbolize. May call: common.
 */
#ifndef MEMTRACE_KSYMS_H
#define MEMTRACE_KSYMS_H

#include <stdbool.h>
#include <stdint.h>

struct ksym {
	uint64_t addr;
	const char *name;
	const char *module;	/* NULL: the core kernel (vmlinux) */
};

struct ksyms;

/* Is ip a kernel address (x86_64: the upper half)? Cannot fail. */
static inline bool ksyms__is_kernel(uint64_t ip)
{
	return ip >= 0xffff800000000000ULL;
}

/*
 * Read the text symbols of a kallsyms file (path NULL: /proc/kallsyms).
 * Returns the table, or NULL with errno set (EACCES: addresses hidden,
 * kernel.kptr_restrict; ENOENT; ENOMEM). Addresses all zero count as
 * hidden.
 */
struct ksyms *ksyms__load(const char *path);

/*
 * The symbol holding addr: the one at the highest address <= addr. Sets
 * *off to addr - its address. NULL when addr is below every symbol or 1 MiB
 * or more past the one before it (kallsyms gives no sizes). The symbol
 * lives as long as the table.
 */
const struct ksym *ksyms__find(const struct ksyms *k, uint64_t addr, uint64_t *off);

/*
 * Is sym part of the tracing machinery that runs a BPF program at a
 * tracepoint (the program itself, bpf_trace_run*, __bpf_trace_*,
 * __traceiter_*, perf_trace_*, trace_call_bpf)? Such frames lead every
 * kernel stack a tracepoint program takes. Cannot fail.
 */
bool ksyms__is_tracing(const struct ksym *sym);

/* The address of the first symbol named name, 0 when none. Cannot fail. */
uint64_t ksyms__addr(const struct ksyms *k, const char *name);

/* Symbols in the table. */
uint64_t ksyms__count(const struct ksyms *k);

/* Free the table. NULL is a no-op. */
void ksyms__free(struct ksyms *k);

#endif

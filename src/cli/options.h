/* SPDX-License-Identifier: MIT */
/*
 * options.h - the command line.
 *
 * Stage cli: parsing argv into struct options. May call: common,
 * analysis (to validate analysis settings at parse time).
 */
#ifndef MEMTRACE_OPTIONS_H
#define MEMTRACE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <regex.h>

enum out_format {
	FORMAT_TEXT = 0,
	FORMAT_JSON,
};

struct options {
	int pid;			/* -p; 0 when launching a command */
	char **argv;			/* command after "--"; NULL with -p */
	int argc;
	double duration_s;		/* -d; 0 = until target exit or signal */
	double interval_s;		/* -i; default 5 */
	int top;			/* -n; 0 = all */
	enum out_format format;		/* -f */
	const char *output;		/* --output: reports go there */
	bool verbose;			/* -v */
	uint64_t max_allocs;		/* --max-allocs: sizes the allocs map */
	uint64_t max_stacks;		/* --max-stacks */
	bool no_symbols;		/* --no-symbols */
	const char *debug_dir;		/* --debug-dir */
	int unwind;			/* --unwind=fp|dwarf (enum unwind_mode) */
	uint64_t sample_bytes;		/* -s/--sample-bytes */
	uint64_t sample_seed;		/* --sample-seed */
	double older_s;			/* -o/--older */
	bool no_mmap;			/* --no-mmap: skip the syscall tracepoints */
	bool entry_probes;		/* --probe-at-entry: no trap-aware placement */
	/* analysis (issue 5) */
	const char *save_baseline;
	const char *baseline;
	const char *fail_on;		/* severity name */
	double max_growth;		/* bytes/s, < 0 = off */
	/* analysis settings as NAME=VALUE for analysis_opts__set() (--window,
	 * --sev-*, --temp, --analysis), validated at parse time */
	unsigned int nr_analysis;
	struct { const char *name; const char *value; } analysis[32];
	/* categories (issue 16): --category NAME=RULE in order, then the
	 * rules of --categories FILE; validated at parse time */
	unsigned int nr_category;
	const char *category[64];
	const char *categories_file;
	/* outputs (issue 7) */
	const char *pprof;
	bool pprof_every;
	const char *collapsed;
	const char *flamegraph;
	const char *csv;
	const char *http;
	unsigned int output_mode;	/* --output-mode: of the files made (0600) */
	/* host-wide sweep (issue 13) */
	bool system;			/* --system */
	bool has_comm, has_exclude_comm;
	regex_t comm_re;		/* --comm, compiled (extended) */
	regex_t exclude_comm_re;	/* --exclude-comm */
	const char *cgroup;		/* --cgroup: path under /sys/fs/cgroup */
	unsigned int metrics_top;	/* --metrics-top K: processes with series */
	unsigned int deep;		/* --deep N: suspects deep-traced at once */
	int deep_min;			/* --deep-min (enum severity); 0: medium */
	double deep_duration_s;		/* --deep-duration, default 30 */
	uint64_t deep_sample_bytes;	/* --deep-sample-bytes, default 512 KiB */
	bool deep_sample_set;		/* ... given */
	bool fault_stacks;		/* --fault-stacks */
	uint32_t fault_sample;		/* --fault-sample N: 1 in N (default 1000) */
	/* kernel allocations (issue 14) */
	bool kernel;			/* --kernel (also set by --kernel-only) */
	bool kernel_only;		/* --kernel-only: no user allocations */
	uint64_t kernel_sample;		/* --kernel-sample N: 1 in N page events (1 = all) */
};

/*
 * Parse argv into *o (defaults first). o->argv points into argv. Bad input
 * prints one line on stderr and exits with status 2; --help and --version
 * print and exit 0 (argp). Returns 0, or -EINVAL if argp reports an error
 * without exiting.
 */
int options__parse(struct options *o, int argc, char **argv);

struct analysis_opts;

/* The analysis settings of o (defaults, then --window, --sev-*, --temp,
 * --analysis in order, and -o) into *ao. Cannot fail: parsing checked them. */
void options__analysis_opts(const struct options *o, struct analysis_opts *ao);

/*
 * Check every output file o names (common/outfile.h: not a symbolic link
 * or a directory, its directory takes a new file), before anything is
 * loaded or attached. Returns 0, or -errno after one line on stderr
 * ("memtrace: cannot write --pprof FILE: why").
 */
int options__check_files(const struct options *o);

/* Release what parsing allocated (compiled regexes). Cannot fail. */
void options__free(struct options *o);

#endif

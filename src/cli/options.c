// SPDX-License-Identifier: MIT
/* options.c - argp command line of memtrace. */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "analysis/analysis.h"
#include "analysis/categories.h"
#include "cli/options.h"
#include "common/outfile.h"
#include "common/report.h"
#include "common/version.h"
#include "output/http.h"
#include "bpf/memtrace.h"

/* --version (and -V): "memtrace VERSION", the build's version. */
static void print_version(FILE *f, struct argp_state *state)
{
	(void)state;
	fprintf(f, "memtrace %s\n", version__string());
}

void (*argp_program_version_hook)(FILE *, struct argp_state *) = print_version;
const char *argp_program_bug_address = "<https://github.com/memtrace/memtrace/issues>";

static const char doc[] =
"memtrace: trace outstanding memory allocations of a running process, per call stack.\n"
"\n"
"USAGE: memtrace [OPTIONS] -p PID\n"
"       memtrace [OPTIONS] -- CMD [ARGS...]\n"
"       memtrace --system [OPTIONS]\n"
"       memtrace --kernel [OPTIONS] [-p PID | -- CMD [ARGS...]]\n"
"\n"
"EXAMPLES:\n"
"  memtrace -p 1234                 # report every 5 s until Ctrl-C\n"
"  memtrace -p 1234 -d 60 -n 5      # one minute, top 5 stacks\n"
"  memtrace -f json -p 1234         # JSON Lines, one object per report\n"
"  memtrace -s 524288 -p 1234       # sample about one allocation per 512 KiB\n"
"  memtrace --fail-on high -- ./my_tests   # CI gate on a test run\n"
"  memtrace --system -d 60          # which processes on the host grow\n"
"  memtrace --system --deep 1 -d 60 # ... and the leaking stacks of the worst\n"
"  memtrace --kernel -d 30          # kernel slab, page and per-CPU memory, host-wide\n"
"\v"
"Only allocations made after tracing goes live are tracked. Exit status: 0 ok,\n"
"1 error, 2 usage; with -- CMD, CMD's exit status; 3/4 CI gate (--fail-on,\n"
"--max-growth).";

enum {
	OPT_OUTPUT = 1000, OPT_MAX_ALLOCS, OPT_MAX_STACKS, OPT_NO_SYMBOLS, OPT_DEBUG_DIR,
	OPT_UNWIND, OPT_SEED, OPT_NO_MMAP, OPT_ENTRY, OPT_SAVE_BASELINE, OPT_BASELINE,
	OPT_FAIL_ON, OPT_MAX_GROWTH, OPT_PPROF, OPT_PPROF_EVERY, OPT_COLLAPSED,
	OPT_FLAMEGRAPH, OPT_CSV, OPT_HTTP, OPT_WINDOW, OPT_SEV_LOW, OPT_SEV_MEDIUM,
	OPT_SEV_HIGH, OPT_SEV_CRITICAL, OPT_TEMP, OPT_ANALYSIS,
	OPT_SYSTEM, OPT_COMM, OPT_EXCLUDE_COMM, OPT_CGROUP, OPT_METRICS_TOP, OPT_DEEP,
	OPT_DEEP_MIN, OPT_DEEP_DURATION, OPT_DEEP_SAMPLE, OPT_FAULT_STACKS, OPT_FAULT_SAMPLE,
	OPT_KERNEL, OPT_KERNEL_ONLY, OPT_KERNEL_SAMPLE,
	OPT_CATEGORY, OPT_CATEGORIES, OPT_OUTPUT_MODE,
};

/* The longest duration, interval or age memtrace takes: a leap year. */
#define MAX_SECS (366.0 * 86400)

static const struct argp_option opts[] = {
	{ "pid", 'p', "PID", 0, "Trace the running process PID", 0 },
	{ "duration", 'd', "SECS", 0, "Stop after SECS seconds (default: until exit or Ctrl-C)", 0 },
	{ "interval", 'i', "SECS", 0, "Report every SECS seconds (default 5)", 0 },
	{ "top", 'n', "N", 0, "Show the top N stacks (default 10, 0 = all)", 0 },
	{ "format", 'f', "FMT", 0, "Report format: text or json (JSON Lines)", 0 },
	{ "output", OPT_OUTPUT, "FILE", 0, "Write reports to FILE instead of stdout", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose: libbpf debug output, probe placement", 0 },
	{ "max-allocs", OPT_MAX_ALLOCS, "N", 0, "Live allocations tracked (default 1048576)", 1 },
	{ "max-stacks", OPT_MAX_STACKS, "N", 0, "Distinct stacks stored (default 65536)", 1 },
	{ "unwind", OPT_UNWIND, "fp|dwarf", 0, "Stack unwinding method (default dwarf)", 1 },
	{ "no-mmap", OPT_NO_MMAP, NULL, 0, "Do not trace mmap/munmap/mremap", 1 },
	{ "probe-at-entry", OPT_ENTRY, NULL, 0, "Probe functions at their first instruction", 1 },
	{ "sample-bytes", 's', "N", 0, "Sample about one allocation per N bytes (0 = all)", 1 },
	{ "sample-seed", OPT_SEED, "N", 0, "Seed of the sampling random numbers", 1 },
	{ "no-symbols", OPT_NO_SYMBOLS, NULL, 0, "No symbolization: module, offset, build id only", 2 },
	{ "debug-dir", OPT_DEBUG_DIR, "DIR", 0, "Separate debug files (default /usr/lib/debug)", 2 },
	{ "older", 'o', "SECS", 0, "Count only allocations at least SECS old", 3 },
	{ "save-baseline", OPT_SAVE_BASELINE, "FILE", 0, "Write the final report as a baseline", 3 },
	{ "baseline", OPT_BASELINE, "FILE", 0, "Compare with a saved baseline", 3 },
	{ "fail-on", OPT_FAIL_ON, "SEVERITY", 0, "Exit 3 if any stack reaches SEVERITY (low..critical)", 3 },
	{ "max-growth", OPT_MAX_GROWTH, "RATE", 0, "Exit 4 if a stack grows faster (B/s, or 200MB/h, 64KiB/s)", 3 },
	{ "window", OPT_WINDOW, "SECS", 0, "Growth fit window (default 60)", 3 },
	{ "sev-low", OPT_SEV_LOW, "RATE", 0, "Growth rated low from RATE (default 1MB/h)", 3 },
	{ "sev-medium", OPT_SEV_MEDIUM, "RATE", 0, "... medium (default 30MB/h)", 3 },
	{ "sev-high", OPT_SEV_HIGH, "RATE", 0, "... high (default 200MB/h)", 3 },
	{ "sev-critical", OPT_SEV_CRITICAL, "RATE", 0, "... critical (default 1000MB/h)", 3 },
	{ "temp", OPT_TEMP, "SECS", 0, "Freed within SECS counts as temporary (default 0.001)", 3 },
	{ "analysis", OPT_ANALYSIS, "NAME=VALUE", 0, "Other analysis settings (docs/analysis.md)", 3 },
	{ "category", OPT_CATEGORY, "NAME=RULE", 0,
	  "Category of stacks matching RULE: fn:GLOB, mod:GLOB or file:GLOB (repeatable)", 3 },
	{ "categories", OPT_CATEGORIES, "FILE", 0, "Category rules, one NAME=RULE a line", 3 },
	{ "pprof", OPT_PPROF, "FILE", 0, "Write a gzip'd pprof heap profile at the end", 4 },
	{ "pprof-every", OPT_PPROF_EVERY, NULL, 0, "Rewrite the pprof profile every interval", 4 },
	{ "collapsed", OPT_COLLAPSED, "FILE", 0, "Write collapsed stacks (flamegraph.pl input)", 4 },
	{ "flamegraph", OPT_FLAMEGRAPH, "FILE", 0, "Write an interactive flame graph SVG", 4 },
	{ "csv", OPT_CSV, "FILE", 0, "Append one CSV row per stack per report", 4 },
	{ "output-mode", OPT_OUTPUT_MODE, "MODE", 0, "Mode of the files written (octal, default 0600)", 4 },
	{ "http", OPT_HTTP, "ADDR", 0, "Serve /metrics, /debug/pprof/heap, /report.json", 4 },
	{ "system", OPT_SYSTEM, NULL, 0, "Sweep every process on the host (tracepoints only, no uprobes)", 5 },
	{ "comm", OPT_COMM, "REGEX", 0, "--system: only processes whose name matches", 5 },
	{ "exclude-comm", OPT_EXCLUDE_COMM, "REGEX", 0, "--system: not processes whose name matches", 5 },
	{ "cgroup", OPT_CGROUP, "PATH", 0, "--system: only this cgroup v2 path (as in /proc/PID/cgroup) and below", 5 },
	{ "deep", OPT_DEEP, "N", 0, "--system: deep-trace the stacks of up to N worst processes", 5 },
	{ "deep-min", OPT_DEEP_MIN, "SEVERITY", 0, "... from SEVERITY up (default medium)", 5 },
	{ "deep-duration", OPT_DEEP_DURATION, "SECS", 0, "... for SECS seconds each (default 30)", 5 },
	{ "deep-sample-bytes", OPT_DEEP_SAMPLE, "N", 0, "... sampling one per N bytes (default 524288, 0 = all)", 5 },
	{ "fault-stacks", OPT_FAULT_STACKS, NULL, 0, "--system: where processes first touch new pages (sampled faults)", 5 },
	{ "fault-sample", OPT_FAULT_SAMPLE, "N", 0, "... one fault in N (default 1000)", 5 },
	{ "metrics-top", OPT_METRICS_TOP, "K", 0, "--system --http: series for the top K processes (default 20)", 5 },
	{ "kernel", OPT_KERNEL, NULL, 0, "Trace kernel allocations too (host-wide without -p)", 5 },
	{ "kernel-only", OPT_KERNEL_ONLY, NULL, 0, "Trace kernel allocations only (with -p: in its context)", 5 },
	{ "kernel-sample", OPT_KERNEL_SAMPLE, "N", 0, "Record 1 in N page allocations (unbiased; default 1 = all)", 5 },
	{ 0 },
};

/* Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on hybrid hosts): path, or -ENOENT. */
static int cgroup2_mount(char *path, size_t cap)
{
	char line[4096], mnt[4096], fstype[64];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - FSTYPE SOURCE OPTS */
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		snprintf(path, cap, "%s", mnt);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

/*
 * A bad option value: one line on stderr and exit 2 (argp_error() would
 * add a second line, "Try `memtrace --help'...").
 */
static void __attribute__((noreturn, format(printf, 2, 3)))
usage_error(struct argp_state *state, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	(void)state;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "memtrace: %s\n", line);	/* one write: stderr is unbuffered */
	exit(2);
}

static int parse_double(const char *s, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < min || v != v)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Record an analysis setting after checking it applies cleanly. */
static void add_analysis(struct argp_state *state, struct options *o, const char *name,
			 const char *value)
{
	struct analysis_opts scratch;
	int err;

	analysis_opts__defaults(&scratch);
	err = analysis_opts__set(&scratch, name, value);
	if (err == -ENOENT)
		usage_error(state, "unknown analysis setting: %s", name);
	else if (err)
		usage_error(state, "invalid value for %s: %s", name, value);
	if (o->nr_analysis == sizeof(o->analysis) / sizeof(o->analysis[0]))
		usage_error(state, "too many analysis settings");
	o->analysis[o->nr_analysis].name = name;
	o->analysis[o->nr_analysis].value = value;
	o->nr_analysis++;
}

/* Record --category SPEC or --categories FILE after checking its rules. */
static void add_category(struct argp_state *state, struct options *o, bool file,
			 const char *arg)
{
	struct category_rules *scratch = category_rules__new();
	int err, line = 0;

	if (!scratch)
		argp_failure(state, 1, ENOMEM, "categories");
	err = file ? category_rules__load(scratch, arg, &line) : category_rules__add(scratch, arg);
	category_rules__free(scratch);
	if (file && err == -EINVAL)
		usage_error(state, "%s:%d: invalid category rule (NAME=fn:GLOB, mod:GLOB or "
			   "file:GLOB)", arg, line);
	else if (file && err)
		usage_error(state, "cannot read --categories %s: %s", arg, strerror(-err));
	else if (err)
		usage_error(state, "invalid --category: %s (NAME=fn:GLOB, mod:GLOB or file:GLOB)",
			   arg);
	if (file) {
		o->categories_file = arg;
	} else {
		if (o->nr_category == sizeof(o->category) / sizeof(o->category[0]))
			usage_error(state, "too many --category rules");
		o->category[o->nr_category++] = arg;
	}
}

void options__analysis_opts(const struct options *o, struct analysis_opts *ao)
{
	analysis_opts__defaults(ao);
	for (unsigned int i = 0; i < o->nr_analysis; i++)
		analysis_opts__set(ao, o->analysis[i].name, o->analysis[i].value);
	ao->older_s = o->older_s;
}

/* The analysis settings together (sev-low <= ... <= sev-critical, ...). */
static void check_analysis(struct argp_state *state, const struct options *o)
{
	struct analysis_opts ao;

	options__analysis_opts(o, &ao);
	if (analysis_opts__check(&ao))
		usage_error(state, "inconsistent analysis settings: --sev-low, --sev-medium, "
			    "--sev-high and --sev-critical must not decrease, window-min <= "
			    "window-max (docs/analysis.md)");
}

#define OUTPUT_FILES(o) { \
		{ "--output", (o)->output }, { "--csv", (o)->csv }, { "--pprof", (o)->pprof }, \
		{ "--collapsed", (o)->collapsed }, { "--flamegraph", (o)->flamegraph }, \
		{ "--save-baseline", (o)->save_baseline }, \
	}

int options__check_files(const struct options *o)
{
	const char *files[][2] = OUTPUT_FILES(o);

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int err;

		if (!files[i][1] || strcmp(files[i][1], "-") == 0)
			continue;
		err = outfile__check(files[i][1]);
		if (err) {
			fprintf(stderr, "memtrace: cannot write %s %s: %s\n", files[i][0], files[i][1],
				outfile__strerror(err));
			return err;
		}
	}
	return 0;
}

/* No two outputs into one file. */
static void check_files(struct argp_state *state, const struct options *o)
{
	const char *files[][2] = OUTPUT_FILES(o);
	size_t n = sizeof(files) / sizeof(files[0]);

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n && files[i][1]; j++)
			if (files[j][1] && strcmp(files[i][1], files[j][1]) == 0 &&
			    strcmp(files[i][1], "-") != 0)
				usage_error(state, "%s and %s name the same file: %s", files[i][0],
					    files[j][0], files[i][1]);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct options *o = state->input;
	uint64_t u;

	switch (key) {
	case 'p':
		if (parse_u64(arg, 1, INT_MAX, &u))
			usage_error(state, "invalid PID: %s", arg);
		o->pid = (int)u;
		break;
	case 'd':
		if (parse_double(arg, 0, &o->duration_s) || o->duration_s <= 0 ||
		    o->duration_s > MAX_SECS)
			usage_error(state, "invalid duration: %s (more than 0 s, at most %.0f s)", arg,
				    MAX_SECS);
		break;
	case 'i':
		if (parse_double(arg, 0, &o->interval_s) || o->interval_s < 0.05 ||
		    o->interval_s > MAX_SECS)
			usage_error(state, "invalid interval: %s (0.05 s to %.0f s)", arg, MAX_SECS);
		break;
	case 'n':
		if (parse_u64(arg, 0, INT_MAX, &u))
			usage_error(state, "invalid top count: %s", arg);
		o->top = (int)u;
		break;
	case 'f':
		if (strcmp(arg, "text") == 0)
			o->format = FORMAT_TEXT;
		else if (strcmp(arg, "json") == 0)
			o->format = FORMAT_JSON;
		else
			usage_error(state, "invalid format: %s (text or json)", arg);
		break;
	case 'v':
		o->verbose = true;
		break;
	case 's':
		if (parse_u64(arg, 0, 1ULL << 40, &o->sample_bytes))
			usage_error(state, "invalid sample bytes: %s", arg);
		break;
	case 'o':
		if (parse_double(arg, 0, &o->older_s) || o->older_s > MAX_SECS)
			usage_error(state, "invalid age: %s (0 s to %.0f s)", arg, MAX_SECS);
		break;
	case OPT_OUTPUT: o->output = arg; break;
	case OPT_MAX_ALLOCS:
		if (parse_u64(arg, 1, 1ULL << 28, &o->max_allocs))
			usage_error(state, "invalid --max-allocs: %s", arg);
		break;
	case OPT_MAX_STACKS:
		if (parse_u64(arg, 1, 1ULL << 24, &o->max_stacks))
			usage_error(state, "invalid --max-stacks: %s", arg);
		break;
	case OPT_NO_SYMBOLS: o->no_symbols = true; break;
	case OPT_DEBUG_DIR: {
		struct stat st;

		if (stat(arg, &st) || !S_ISDIR(st.st_mode))
			usage_error(state, "invalid --debug-dir: %s (%s)", arg,
				    *arg && !stat(arg, &st) ? "not a directory" : "no such directory");
		o->debug_dir = arg;
		break;
	}
	case OPT_UNWIND:
		if (strcmp(arg, "fp") == 0)
			o->unwind = UNWIND_FP;
		else if (strcmp(arg, "dwarf") == 0)
			o->unwind = UNWIND_DWARF;
		else
			usage_error(state, "invalid --unwind: %s (fp or dwarf)", arg);
		break;
	case OPT_SEED:
		if (parse_u64(arg, 0, UINT64_MAX, &o->sample_seed))
			usage_error(state, "invalid --sample-seed: %s", arg);
		break;
	case OPT_NO_MMAP: o->no_mmap = true; break;
	case OPT_ENTRY: o->entry_probes = true; break;
	case OPT_SAVE_BASELINE: o->save_baseline = arg; break;
	case OPT_BASELINE: o->baseline = arg; break;
	case OPT_FAIL_ON: {
		enum severity sev;

		if (severity_parse(arg, &sev) || sev == SEV_NONE)
			usage_error(state, "invalid --fail-on: %s (low, medium, high, critical)", arg);
		o->fail_on = arg;
		break;
	}
	case OPT_MAX_GROWTH:
		if (analysis__parse_rate(arg, &o->max_growth))
			usage_error(state, "invalid --max-growth: %s (e.g. 1000, 64KiB/s, 200MB/h)", arg);
		break;
	case OPT_WINDOW: add_analysis(state, o, "window", arg); break;
	case OPT_SEV_LOW: add_analysis(state, o, "sev-low", arg); break;
	case OPT_SEV_MEDIUM: add_analysis(state, o, "sev-medium", arg); break;
	case OPT_SEV_HIGH: add_analysis(state, o, "sev-high", arg); break;
	case OPT_SEV_CRITICAL: add_analysis(state, o, "sev-critical", arg); break;
	case OPT_TEMP: add_analysis(state, o, "temp", arg); break;
	case OPT_ANALYSIS: {
		char *eq = strchr(arg, '=');

		if (!eq)
			usage_error(state, "invalid --analysis: %s (NAME=VALUE)", arg);
		*eq = '\0';
		add_analysis(state, o, arg, eq + 1);
		break;
	}
	case OPT_CATEGORY:
	case OPT_CATEGORIES:
		add_category(state, o, key == OPT_CATEGORIES, arg);
		break;
	case OPT_PPROF: o->pprof = arg; break;
	case OPT_PPROF_EVERY: o->pprof_every = true; break;
	case OPT_COLLAPSED: o->collapsed = arg; break;
	case OPT_FLAMEGRAPH: o->flamegraph = arg; break;
	case OPT_CSV: o->csv = arg; break;
	case OPT_HTTP:
		if (http__check_addr(arg))
			usage_error(state, "invalid --http address: %s (PORT, :PORT, HOST:PORT or "
				    "[IPV6]:PORT, port 0 to 65535)", arg);
		o->http = arg;
		break;
	case OPT_OUTPUT_MODE: {
		char *end;
		unsigned long m;

		errno = 0;
		m = strtoul(arg, &end, 8);
		if (!*arg || *arg == '-' || *arg == '+' || errno || *end || m > 0777)
			usage_error(state, "invalid --output-mode: %s (octal, 0 to 0777, e.g. 0640)",
				    arg);
		o->output_mode = (unsigned int)m;
		break;
	}
	case OPT_SYSTEM: o->system = true; break;
	case OPT_COMM:
	case OPT_EXCLUDE_COMM: {
		regex_t *re = key == OPT_COMM ? &o->comm_re : &o->exclude_comm_re;
		bool *has = key == OPT_COMM ? &o->has_comm : &o->has_exclude_comm;
		char why[128];
		int rc;

		if (*has)
			regfree(re);
		*has = false;
		rc = regcomp(re, arg, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			regerror(rc, re, why, sizeof(why));
			usage_error(state, "invalid --%s regex '%s': %s",
				   key == OPT_COMM ? "comm" : "exclude-comm", arg, why);
		}
		*has = true;
		break;
	}
	case OPT_CGROUP: {
		char root[4096], path[8192];
		struct stat st;

		if (!*arg)
			usage_error(state, "invalid --cgroup: empty (/ is the whole hierarchy)");
		if (cgroup2_mount(root, sizeof(root)))
			usage_error(state, "--cgroup %s: no cgroup v2 hierarchy is mounted", arg);
		snprintf(path, sizeof(path), "%s/%s", root, arg);
		if (stat(path, &st) || !S_ISDIR(st.st_mode))
			usage_error(state, "unknown cgroup: %s (no directory %s)", arg, path);
		o->cgroup = arg;
		break;
	}
	case OPT_DEEP:
		if (parse_u64(arg, 1, 64, &u))
			usage_error(state, "invalid --deep: %s (1 to 64 processes)", arg);
		o->deep = (unsigned int)u;
		break;
	case OPT_DEEP_MIN: {
		enum severity sev;

		if (severity_parse(arg, &sev) || sev == SEV_NONE)
			usage_error(state, "invalid --deep-min: %s (low, medium, high, critical)", arg);
		o->deep_min = sev;
		break;
	}
	case OPT_DEEP_DURATION:
		if (parse_double(arg, 0.1, &o->deep_duration_s) || o->deep_duration_s > 86400)
			usage_error(state, "invalid --deep-duration: %s (0.1 s to a day)", arg);
		break;
	case OPT_DEEP_SAMPLE:
		if (parse_u64(arg, 0, 1ULL << 40, &o->deep_sample_bytes))
			usage_error(state, "invalid --deep-sample-bytes: %s", arg);
		o->deep_sample_set = true;
		break;
	case OPT_FAULT_STACKS: o->fault_stacks = true; break;
	case OPT_FAULT_SAMPLE:
		if (parse_u64(arg, 1, 1U << 30, &u))
			usage_error(state, "invalid --fault-sample: %s (1 in N faults, N >= 1)", arg);
		o->fault_sample = (uint32_t)u;
		break;
	case OPT_METRICS_TOP:
		if (parse_u64(arg, 1, 10000, &u))
			usage_error(state, "invalid --metrics-top: %s (1 to 10000)", arg);
		o->metrics_top = (unsigned int)u;
		break;
	case OPT_KERNEL: o->kernel = true; break;
	case OPT_KERNEL_ONLY: o->kernel = o->kernel_only = true; break;
	case OPT_KERNEL_SAMPLE:
		if (parse_u64(arg, 1, 1U << 30, &o->kernel_sample))
			usage_error(state, "invalid --kernel-sample: %s (1 in N page events, N >= 1)", arg);
		break;
	case ARGP_KEY_ARGS:
		o->argv = state->argv + state->next;
		o->argc = state->argc - state->next;
		break;
	case ARGP_KEY_END:
		check_analysis(state, o);
		check_files(state, o);
		if (o->system && (o->pid || o->argv))
			usage_error(state, "--system traces the whole host: no -p PID or -- CMD with it");
		if (o->system && o->kernel)
			usage_error(state, "--system and --kernel are separate runs: give one");
		if (!o->system && (o->has_comm || o->has_exclude_comm || o->cgroup ||
				   o->metrics_top || o->deep || o->deep_min || o->deep_duration_s ||
				   o->deep_sample_set || o->fault_stacks || o->fault_sample))
			usage_error(state, "--comm, --exclude-comm, --cgroup, --deep*, --fault-* and "
				   "--metrics-top go with --system");
		if (o->fault_sample && !o->fault_stacks)
			usage_error(state, "--fault-sample goes with --fault-stacks");
		if (!o->fault_sample)
			o->fault_sample = 1000;
		if (!o->deep && (o->deep_min || o->deep_duration_s || o->deep_sample_set))
			usage_error(state, "--deep-min, --deep-duration and --deep-sample-bytes "
				   "go with --deep N");
		if (!o->deep_duration_s)
			o->deep_duration_s = 30;
		if (!o->deep_min)
			o->deep_min = SEV_MEDIUM;
		if (o->system)
			break;
		if (o->pid && o->argv)
			usage_error(state, "give either -p PID or -- CMD, not both");
		if (!o->pid && !o->argv && !o->kernel)
			usage_error(state, "nothing to trace: give -p PID or -- CMD [ARGS...]");
		if (o->kernel_sample > 1 && !o->kernel)
			usage_error(state, "--kernel-sample needs --kernel");
		if (o->pprof_every && !o->pprof)
			usage_error(state, "--pprof-every needs --pprof FILE");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->interval_s = 5;
	o->top = 10;
	o->format = FORMAT_TEXT;
	o->max_allocs = ALLOCS_MAX_ENTRIES;
	o->max_stacks = STACKS_MAX_ENTRIES;
	o->debug_dir = "/usr/lib/debug";
	o->unwind = UNWIND_DWARF;
	o->max_growth = -1;
	o->kernel_sample = 1;
	o->deep_sample_bytes = 512 * 1024;
	o->output_mode = OUTFILE_MODE_DEFAULT;
}

int options__parse(struct options *o, int argc, char **argv)
{
	static const struct argp argp = { opts, parse_opt, NULL, doc, NULL, NULL, NULL };
	int err;

	defaults(o);
	/* Usage errors print one line (plus argp's "Try --help" hint) and
	 * exit 2; --help and --version exit 0. */
	argp_err_exit_status = 2;
	argv[0] = (char *)"memtrace";	/* messages start "memtrace: ", not the path */
	err = argp_parse(&argp, argc, argv, 0, NULL, o);
	return err ? -EINVAL : 0;
}

void options__free(struct options *o)
{
	if (o->has_comm)
		regfree(&o->comm_re);
	if (o->has_exclude_comm)
		regfree(&o->exclude_comm_re);
	o->has_comm = o->has_exclude_comm = false;
}

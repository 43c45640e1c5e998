// SPDX-License-Identifier: MIT
/*
 * main.c - memtrace: attach to a process (or start one), trace its
 * outstanding allocations per call stack, report on an interval and at
 * the end.
 */
#include <errno.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "cli/options.h"
#include "collect/collect.h"
#include "common/outfile.h"
#include "common/report.h"
#include "common/util.h"
#include "proc_trace.h"
#include "pipeline/kernel_source.h"
#include "pipeline/pipeline.h"
#include "symbolize/syms.h"
#include "system_run.h"
#include "target/launch_guard.h"
#include "target/target.h"
#include "target/wrappers.h"
#include "tracer/tracer.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

/* Root, or the capabilities BPF tracing needs. Returns 0 or -EPERM. */
static int check_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	uint64_t eff;

	if (geteuid() == 0)
		return 0;
	if (syscall(SYS_capget, &hdr, data))
		return -EPERM;
	eff = data[0].effective | ((uint64_t)data[1].effective << 32);
	if ((eff & (1ULL << CAP_SYS_ADMIN)) ||
	    ((eff & (1ULL << CAP_BPF)) && (eff & (1ULL << CAP_PERFMON))))
		return 0;
	return -EPERM;
}

struct session {
	struct options opt;
	struct target target;
	struct proc_trace pt;		/* tracer and collector */
	struct syms *syms;
	struct pipeline *pipeline;	/* symbolize, analyse, write */
	struct kernel_source *kernel;	/* --kernel -p: kernel allocations too */
	pid_t guard;			/* launched: SIGCONTs the command if memtrace dies */
	FILE *out;			/* reports: stdout or --output */
	struct outfile outfile;		/* --output */
	double start_mono;
	bool refresh_modules;
	bool resume_target;	/* the target stopped itself at a code mapping */
	bool image_gone;	/* the target exec'd: its traced image has ended */
	bool exec_told;		/* ... and stderr says so */
};

static void on_notify(const void *data, void *ctx)
{
	const struct notify_event *ev = data;
	struct session *s = ctx;

	if (ev->type == NOTIFY_EXEC_MAP)
		s->refresh_modules = true;
	if (ev->type == NOTIFY_EXEC)
		s->image_gone = true;
	if (ev->stopped)
		s->resume_target = true;
	if (s->opt.verbose)
		fprintf(stderr, "memtrace: new code mapped at 0x%llx (%llu bytes)\n",
			(unsigned long long)ev->addr, (unsigned long long)ev->len);
}

/* Where mmap's wrapper is, so mmap stacks start at mmap's caller. */
static void find_wrappers(struct session *s)
{
	struct addr_range r[16];
	int n = wrappers__find(s->target.pid, r, 16);

	if (n > 0)
		collector__set_wrappers(s->pt.collector, r, (size_t)n);
}

static void refresh_modules(struct session *s)
{
	int err;

	if (s->image_gone) {	/* the maps are the new image's: keep the old ones */
		s->refresh_modules = false;
		return;
	}
	find_wrappers(s);
	err = tracer__refresh_unwind(s->pt.tracer);
	if (err && s->opt.verbose)
		fprintf(stderr, "memtrace: cannot load unwind tables of new code: %s\n", strerror(-err));
	if (s->syms)
		syms__refresh(s->syms);
	s->refresh_modules = false;
	if (s->resume_target) {
		kill(s->target.pid, SIGCONT);
		s->resume_target = false;
	}
}

/* Read one report and hand it to the pipeline. Returns 0 or -errno. */
static int report_once(struct session *s, bool final)
{
	double t0 = clock__s(CLOCK_MONOTONIC);
	struct tracer_self self;
	struct report *r;
	int err;

	err = proc_trace__read(&s->pt, &s->target, s->start_mono, final, &r, &self);
	if (err)
		return err;
	if (s->kernel && (err = kernel_source__add(s->kernel, r))) {
		fprintf(stderr, "memtrace: cannot read the kernel tracer's maps: %s\n", strerror(-err));
		report__free(r);
		return err;
	}
	if (s->kernel)
		kernel_source__self(s->kernel, &self);
	r->exec_count = s->image_gone;
	return pipeline__report(s->pipeline, r, s->syms, &self, t0, final);
}

/* The first snapshot, for the HTTP endpoint only (no 503 before the first report). */
static void publish_live(struct session *s)
{
	struct tracer_self self;
	struct report *r;

	if (!s->opt.http || proc_trace__read(&s->pt, &s->target, s->start_mono, false, &r, &self))
		return;
	pipeline__live(s->pipeline, r, &self);
}

/*
 * True once the target has exec'd (a notification, or the BPF flag if the
 * notification was lost): the trace of its image ends, with one line on
 * stderr; the final report follows.
 */
static bool check_exec(struct session *s)
{
	char comm[64] = "?", path[64];
	FILE *f;

	if (!s->image_gone && !tracer__image_gone(s->pt.tracer))
		return false;
	s->image_gone = true;
	if (s->exec_told)
		return true;
	syms__freeze(s->syms);
	snprintf(path, sizeof(path), "/proc/%d/comm", s->target.pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	fprintf(stderr, "memtrace: pid %d (%s) executed a new program (%s): tracing ends here, "
		"the final report is the old image's; the new image is not traced\n",
		s->target.pid, s->target.comm, comm);
	s->exec_told = true;
	return true;
}

static int wait_interval(struct session *s, double deadline)
{
	struct pollfd fds[2] = {
		{ .fd = s->target.pidfd, .events = POLLIN },
		{ .fd = tracer__notify_fd(s->pt.tracer), .events = POLLIN },
	};

	while (!exiting) {
		double left = deadline - clock__s(CLOCK_MONOTONIC);
		int n;

		if (left <= 0)
			return 0;
		n = poll(fds, 2, clock__poll_ms(left));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		if (fds[1].revents) {
			tracer__notify_consume(s->pt.tracer, on_notify, s);
			if (s->refresh_modules)
				refresh_modules(s);
		}
		if (check_exec(s))
			return 1;
		if (fds[0].revents && target__poll_exit(&s->target))
			return 1;
	}
	return 0;
}

static int run(struct session *s)
{
	double end = s->opt.duration_s > 0 ? s->start_mono + s->opt.duration_s : 0;
	double next = s->start_mono + s->opt.interval_s;
	int err = 0, rc;

	while (!exiting) {
		double deadline = next;

		if (end && end < deadline)
			deadline = end;
		rc = wait_interval(s, deadline);
		if (rc < 0)
			return rc;
		if (rc > 0 || exiting)
			break;
		if (end && clock__s(CLOCK_MONOTONIC) >= end)
			break;
		/* The modules map before the target can go away. */
		tracer__notify_consume(s->pt.tracer, on_notify, s);
		if (s->refresh_modules)
			refresh_modules(s);
		err = report_once(s, false);
		if (err)
			return err;
		next += s->opt.interval_s;
	}
	tracer__notify_consume(s->pt.tracer, on_notify, s);
	check_exec(s);
	if (s->refresh_modules)
		refresh_modules(s);
	return report_once(s, true);
}

static int open_target(struct session *s)
{
	int err;

	if (s->opt.pid) {
		int tgid = target__tgid(s->opt.pid);

		if (tgid > 0 && tgid != s->opt.pid) {	/* a thread id: its process */
			fprintf(stderr, "memtrace: %d is a thread of process %d: tracing the "
				"process\n", s->opt.pid, tgid);
			s->opt.pid = tgid;
		}
		err = target__open_pid(&s->target, s->opt.pid);
		if (err)
			fprintf(stderr, "memtrace: pid %d: %s\n", s->opt.pid, target__strerror(err));
	} else {
		err = target__launch(&s->target, s->opt.argv);
		if (err)
			fprintf(stderr, "memtrace: cannot execute %s: %s\n", s->opt.argv[0],
				target__strerror(err));
	}
	return err;
}

int main(int argc, char **argv)
{
	struct session s = { .out = stdout };
	double temp_s;
	struct syms_opts sopts;
	struct sigaction sa = { .sa_handler = on_signal };
	int err, status = 1;

	if (options__parse(&s.opt, argc, argv))
		return 2;
	if (check_privileges()) {
		fprintf(stderr, "memtrace: needs root (or CAP_BPF and CAP_PERFMON) to load BPF programs\n");
		return 1;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "memtrace: this kernel exposes no BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot load\n");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Every output file can be written: before anything is loaded. */
	if (options__check_files(&s.opt))
		return 1;
	if (s.opt.output) {
		err = outfile__open(&s.outfile, s.opt.output, s.opt.output_mode);
		if (!err && (err = outfile__commit(&s.outfile)))
			outfile__close(&s.outfile);
		if (err) {
			fprintf(stderr, "memtrace: cannot write --output %s: %s\n", s.opt.output,
				outfile__strerror(err));
			return 1;
		}
		s.out = s.outfile.fp;
	}
	if (s.opt.system) {
		status = system_run(&s.opt, s.out, &exiting);
		goto close_out;
	}
	s.pipeline = pipeline__open(&s.opt, s.out);
	if (!s.pipeline)
		goto close_out;
	if (kernel_run__wanted(&s.opt)) {	/* --kernel host-wide, --kernel-only */
		status = kernel_run(&s.opt, s.pipeline, &exiting);
		goto close_pipeline;
	}
	err = open_target(&s);
	if (!err && s.target.launched)
		s.guard = launch_guard__start(s.target.pid);
	if (err) {
		/* like a shell: 127 not found, 126 found but not executable */
		if (!s.opt.pid && (err == -ENOENT || err == -EACCES || err == -ENOEXEC))
			status = err == -ENOENT ? 127 : 126;
		goto close_pipeline;
	}

	temp_s = pipeline__analysis_opts(s.pipeline)->temp_s;
	if (proc_trace__open(&s.pt, &s.opt, &s.target, s.opt.sample_bytes, temp_s))
		goto close_target;
	if (s.opt.kernel && !(s.kernel = kernel_source__open(&s.opt, s.target.pid, (uint64_t)(temp_s * 1e9))))
		goto free_collector;
	sopts = (struct syms_opts){ .debug_dir = s.opt.debug_dir, .names = !s.opt.no_symbols,
				    .debuginfod = getenv("DEBUGINFOD_URLS") != NULL };
	s.start_mono = clock__s(CLOCK_MONOTONIC);
	if (s.target.launched) {
		err = target__release(&s.target);
		if (err) {
			fprintf(stderr, "memtrace: cannot execute %s: %s\n", s.opt.argv[0],
				strerror(-err));
			status = err == -ENOENT ? 127 : 126;
			goto free_collector;
		}
	}
	/* After exec the launched command's maps are its own: read them
	 * while it is still stopped before its first instruction. */
	if (s.target.launched)
		tracer__refresh_unwind(s.pt.tracer);
	find_wrappers(&s);
	/* Modules are read before anyone is told tracing is live: a target
	 * that exits right after still symbolizes. */
	s.syms = syms__new(s.target.pid, &sopts);
	if (!s.syms && s.opt.verbose)
		fprintf(stderr, "memtrace: symbolization unavailable: %s\n", strerror(errno));
	publish_live(&s);	/* before anyone is told: no 503 from then on */
	fprintf(stderr, "memtrace: tracing pid %d (%s), allocator %s, %u probes; "
		"allocations from now on are tracked%s\n", s.target.pid, s.target.comm,
		s.target.alloc_name, tracer__nr_links(s.pt.tracer),
		s.opt.duration_s > 0 ? "" : "; Ctrl-C to stop");
	target__resume(&s.target);

	err = run(&s);
	status = err ? 1 : 0;
	if (s.target.launched && !err) {
		/* Stop tracing before waiting: a command that outlives -d runs on. */
		kernel_source__close(s.kernel);
		s.kernel = NULL;
		proc_trace__close(&s.pt);
		status = target__wait(&s.target);
	}
	/* A tripped CI gate wins over the command's own status. */
	if (!err && pipeline__gate_status(s.pipeline))
		status = pipeline__gate_status(s.pipeline);
	syms__free(s.syms);
free_collector:
	kernel_source__close(s.kernel);
	proc_trace__close(&s.pt);
close_target:
	launch_guard__stop(s.guard);
	target__close(&s.target);
close_pipeline:
	pipeline__close(s.pipeline);
close_out:
	if (s.out != stdout && outfile__close(&s.outfile) && !status) {
		fprintf(stderr, "memtrace: cannot write --output %s: %s\n", s.opt.output,
			strerror(EIO));
		status = 1;
	}
	options__free(&s.opt);
	return status;
}

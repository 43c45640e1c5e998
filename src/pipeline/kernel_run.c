// SPDX-License-Identifier: MIT
/* kernel_run.c - a run that traces only kernel allocations (kernel_source.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "pipeline/kernel_source.h"
#include "symbolize/syms.h"
#include "target/target.h"

bool kernel_run__wanted(const struct options *o)
{
	return o->kernel_only || (o->kernel && !o->pid && !o->argv);
}

struct krun {
	const struct options *o;
	struct pipeline *p;
	struct target t;
	bool has_target;
	struct kernel_source *ks;
	struct syms *syms;
	double start;
};

/* One report of the kernel allocations. Returns 0 or -errno. */
static int report_once(struct krun *k, bool final)
{
	double t0 = clock__s(CLOCK_MONOTONIC);
	struct report *r = calloc(1, sizeof(*r));
	struct tracer_self self;
	int err;

	if (!r)
		return -ENOMEM;
	r->suspect = -1;
	err = kernel_source__add(k->ks, r);
	if (err) {
		fprintf(stderr, "memtrace: cannot read the kernel tracer's maps: %s\n", strerror(-err));
		report__free(r);
		return err;
	}
	r->pid = k->has_target ? k->t.pid : 0;
	snprintf(r->comm, sizeof(r->comm), "%s", k->has_target ? k->t.comm : "kernel");
	r->time = clock__s(CLOCK_REALTIME);
	r->elapsed_s = clock__s(CLOCK_MONOTONIC) - k->start;
	r->final = final;
	r->unwind = UNWIND_FP;	/* kernel stacks: the kernel's own unwinder */
	tracer_self__init(&self);
	self.probe_hits = r->totals.counters[CNT_PROBE_HITS];
	kernel_source__self(k->ks, &self);
	return pipeline__report(k->p, r, k->syms, &self, t0, final);
}

/* Wait until deadline; 1 when the target exited, 0 otherwise, or -errno. */
static int wait_until(struct krun *k, double deadline, volatile sig_atomic_t *exiting)
{
	struct pollfd fd = { .fd = k->has_target ? k->t.pidfd : -1, .events = POLLIN };

	while (!*exiting) {
		double left = deadline - clock__s(CLOCK_MONOTONIC);
		int n;

		if (left <= 0)
			return 0;
		n = poll(&fd, 1, clock__poll_ms(left));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && target__poll_exit(&k->t))
			return 1;
	}
	return 0;
}

static int loop(struct krun *k, volatile sig_atomic_t *exiting)
{
	double end = k->o->duration_s > 0 ? k->start + k->o->duration_s : 0;
	double next = k->start + k->o->interval_s;
	int rc, err;

	while (!*exiting) {
		rc = wait_until(k, end && end < next ? end : next, exiting);
		if (rc < 0)
			return rc;
		if (rc > 0 || *exiting || (end && clock__s(CLOCK_MONOTONIC) >= end))
			break;
		err = report_once(k, false);
		if (err)
			return err;
		next += k->o->interval_s;
	}
	return report_once(k, true);
}

static int open_target(struct krun *k)
{
	int err;

	if (k->o->pid) {
		err = target__open_pid(&k->t, k->o->pid);
		if (err)
			fprintf(stderr, "memtrace: pid %d: %s\n", k->o->pid, target__strerror(err));
	} else {
		err = target__launch(&k->t, k->o->argv);
		if (err)
			fprintf(stderr, "memtrace: cannot execute %s: %s\n", k->o->argv[0],
				target__strerror(err));
	}
	return err;
}

/* Status of a launch that failed before or at exec, like a shell. */
static int launch_status(int err)
{
	return err == -ENOENT ? 127 : err == -EACCES || err == -ENOEXEC ? 126 : 1;
}

int kernel_run(const struct options *o, struct pipeline *p, volatile sig_atomic_t *exiting)
{
	struct krun k = { .o = o, .p = p, .t = { .pidfd = -1 } };
	struct syms_opts sopts = { .debug_dir = o->debug_dir, .names = !o->no_symbols };
	uint64_t temp_ns = (uint64_t)(pipeline__analysis_opts(p)->temp_s * 1e9);
	int err, status = 1;

	k.has_target = o->pid || o->argv;
	if (k.has_target) {
		err = open_target(&k);
		if (err)
			return o->pid ? 1 : launch_status(err);
	}
	k.ks = kernel_source__open(o, k.has_target ? k.t.pid : 0, temp_ns);
	if (!k.ks)
		goto close_target;
	k.start = clock__s(CLOCK_MONOTONIC);
	if (k.t.launched) {
		err = target__release(&k.t);
		if (err) {
			fprintf(stderr, "memtrace: cannot execute %s: %s\n", o->argv[0], strerror(-err));
			status = launch_status(err);
			goto close_source;
		}
	}
	/* Kernel frames only: user stacks are not recorded in this mode. */
	k.syms = syms__new(0, &sopts);
	if (k.has_target)
		fprintf(stderr, "memtrace: tracing pid %d (%s), kernel allocations in its context "
			"only, %u tracepoints%s\n", k.t.pid, k.t.comm, kernel_source__nr_links(k.ks),
			o->duration_s > 0 ? "" : "; Ctrl-C to stop");
	else
		fprintf(stderr, "memtrace: tracing kernel allocations host-wide, %u tracepoints; "
			"allocations from now on are tracked%s\n", kernel_source__nr_links(k.ks),
			o->duration_s > 0 ? "" : "; Ctrl-C to stop");
	if (k.t.launched)
		target__resume(&k.t);
	err = loop(&k, exiting);
	status = err ? 1 : 0;
	if (k.t.launched && !err) {
		kernel_source__close(k.ks);	/* a command that outlives -d runs on */
		k.ks = NULL;
		status = target__wait(&k.t);
	}
	if (!err && pipeline__gate_status(p))
		status = pipeline__gate_status(p);
	syms__free(k.syms);
close_source:
	kernel_source__close(k.ks);
close_target:
	if (k.has_target)
		target__close(&k.t);
	return status;
}

// SPDX-License-Identifier: MIT
/* link_set.c - a tracer's BPF links, released together in parallel. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>
#include "tracer/link_set.h"

int link_set__add_link(struct link_set *s, struct bpf_link *link, unsigned int probes)
{
	int err = libbpf_get_error(link);

	if (err)
		return err;
	if (s->n == LINK_SET_MAX) {
		bpf_link__destroy(link);
		return -E2BIG;
	}
	s->e[s->n++] = (struct link_set_entry){ .link = link, .fd = -1, .probes = probes };
	return 0;
}

int link_set__add_fd(struct link_set *s, int fd, unsigned int probes)
{
	if (fd < 0)
		return fd;
	if (s->n == LINK_SET_MAX) {
		close(fd);
		return -E2BIG;
	}
	s->e[s->n++] = (struct link_set_entry){ .fd = fd, .probes = probes };
	return 0;
}

unsigned int link_set__probes(const struct link_set *s)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->n; i++)
		n += s->e[i].probes;
	return n;
}

/* The gate release threads wait at until every one of them exists. */
struct release_gate {
	pthread_mutex_t lock;
	pthread_cond_t opened;
	bool open;
};

/* A release thread's work: wait at the gate, then release its entry. */
struct release_job {
	struct link_set_entry *e;
	struct release_gate *gate;
};

static void release_entry(struct link_set_entry *e)
{
	if (e->link)
		bpf_link__destroy(e->link);
	else
		close(e->fd);
}

static void *release_thread(void *arg)
{
	struct release_job *job = arg;

	pthread_mutex_lock(&job->gate->lock);
	while (!job->gate->open)
		pthread_cond_wait(&job->gate->opened, &job->gate->lock);
	pthread_mutex_unlock(&job->gate->lock);
	release_entry(job->e);
	return NULL;
}

/*
 * A perf-event link waits for its own grace period (45-90 ms each here,
 * and the kernel serializes the perf-event ones), a uprobe_multi link one
 * for all its probes: in parallel, the waits overlap.
 *
 * Every thread is created before any link is released: releasing a
 * tracepoint link (sched_process_fork) rewrites the kernel's code in
 * kernel_clone, which our own clone3 would otherwise be running through on
 * the other CPU. The kernel makes that safe with an int3 handler, but
 * Debian's 6.12 under qemu's emulation oopsed there ("Oops: int3" in
 * kernel_clone, make test-kernels); behind the gate no clone of ours
 * crosses a site being rewritten.
 */
void link_set__release(struct link_set *s)
{
	struct release_gate gate = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.opened = PTHREAD_COND_INITIALIZER,
	};
	struct release_job job[LINK_SET_MAX];
	bool started[LINK_SET_MAX] = { false };
	pthread_t th[LINK_SET_MAX];

	for (unsigned int i = s->n; i-- > 0;) {
		job[i] = (struct release_job){ .e = &s->e[i], .gate = &gate };
		started[i] = pthread_create(&th[i], NULL, release_thread, &job[i]) == 0;
	}
	pthread_mutex_lock(&gate.lock);
	gate.open = true;
	pthread_cond_broadcast(&gate.opened);
	pthread_mutex_unlock(&gate.lock);
	for (unsigned int i = s->n; i-- > 0;) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			release_entry(&s->e[i]);	/* after the others started */
	}
	s->n = 0;
}

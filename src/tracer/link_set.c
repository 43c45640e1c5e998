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

static void *release_entry(void *arg)
{
	struct link_set_entry *e = arg;

	if (e->link)
		bpf_link__destroy(e->link);
	else
		close(e->fd);
	return NULL;
}

/*
 * A perf-event link waits for its own grace period (45-90 ms each here,
 * and the kernel serializes the perf-event ones), a uprobe_multi link one
 * for all its probes: in parallel, the waits overlap.
 */
void link_set__release(struct link_set *s)
{
	pthread_t th[LINK_SET_MAX];
	bool started[LINK_SET_MAX] = { false };

	for (unsigned int i = s->n; i-- > 0;)
		started[i] = pthread_create(&th[i], NULL, release_entry, &s->e[i]) == 0;
	for (unsigned int i = s->n; i-- > 0;) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			release_entry(&s->e[i]);
	}
	s->n = 0;
}

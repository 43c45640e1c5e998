/* SPDX-License-Identifier: MIT */
/*
 * link_set.h - the BPF attachments of a tracer: libbpf links (perf-event
 * uprobes, tracepoints) and uprobe_multi link descriptors, kept in order
 * of attachment and released together.
 *
 * Releasing a link waits for the kernel to synchronize (RCU grace
 * periods): link_set__release() releases them all in parallel, so the
 * waits overlap.
 */
#ifndef MEMTRACE_LINK_SET_H
#define MEMTRACE_LINK_SET_H

#include <bpf/libbpf.h>

#define LINK_SET_MAX	48

/* One attachment: a libbpf link, or a link's file descriptor. */
struct link_set_entry {
	struct bpf_link *link;	/* NULL for a descriptor */
	int fd;			/* -1 for a libbpf link */
	unsigned int probes;	/* probes it holds */
};

/* Zero-initialized: empty. Embed it; it owns what it holds. */
struct link_set {
	struct link_set_entry e[LINK_SET_MAX];
	unsigned int n;
};

/*
 * Keep link, as a libbpf attach function returned it (an error is passed
 * through), holding probes probes. Returns 0, or -errno: link's own error,
 * or -E2BIG when the set is full (link is then destroyed). Either way the
 * caller no longer owns link.
 */
int link_set__add_link(struct link_set *s, struct bpf_link *link, unsigned int probes);

/*
 * Keep the link descriptor fd, or pass through its error (fd < 0: -errno,
 * as uprobe_multi__attach() returns). Returns 0, or -errno: fd itself, or
 * -E2BIG when the set is full (fd is then closed). Either way the caller
 * no longer owns fd.
 */
int link_set__add_fd(struct link_set *s, int fd, unsigned int probes);

/* Probes held by every link in the set. Cannot fail. */
unsigned int link_set__probes(const struct link_set *s);

/*
 * Release every link (destroy, or close), in parallel threads created in
 * reverse order of attachment, all of them before the first release (in
 * this thread, after the others, where a thread cannot be created).
 * Returns once all are released; the set is then empty.
 */
void link_set__release(struct link_set *s);

#endif

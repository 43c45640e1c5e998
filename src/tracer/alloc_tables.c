// SPDX-License-Identifier: MIT
/*
 * alloc_tables.c - create, watch and grow the live allocations' tables.
 *
 * Growth (the BPF side is alloc_table.bpf.h):
 *   1. create a larger table;
 *   2. set the current table as ALLOC_TBL_OLD, then the new one as
 *      ALLOC_TBL_NEW. The kernel waits
 *      for running BPF programs after each update of an array of maps, so
 *      once both returned no program makes records in the old table;
 *   3. move its records (alloc_table__move), under the lock the walks take;
 *   4. unset ALLOC_TBL_OLD (the kernel waits again) and drop the old table.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tracer/alloc_tables.h"
#include "tracer/tables.h"

#define WATCH_NS	5000000		/* fill checked every 5 ms when it nears growth, */
#define IDLE_NS		50000000	/* every 50 ms before */
#define HEADROOM	8192		/* slots kept free for the time a growth takes */

struct alloc_tables {
	int outer_fd, records_fd;
	int fd;				/* the current table */
	struct alloc_table *cur;	/* mapped read-write */
	uint32_t nb, max_nb;
	uint64_t grows, moved;
	bool stuck;			/* a growth failed: no more */
	int ncpus;
	pthread_mutex_t lock;		/* cur, fd, nb; held by moves and walks */
	pthread_t thread;
	bool watching;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stop;
};

static int create_table(uint32_t nb)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "alloc_table", sizeof(__u32),
				sizeof(struct alloc_bucket), nb, &o);

	return fd < 0 ? -errno : fd;
}

static int set_table(int outer_fd, __u32 which, int fd)
{
	return bpf_map_update_elem(outer_fd, &which, &fd, BPF_ANY) ? -errno : 0;
}

/* Records made minus released, over every CPU. */
static uint64_t live_records(const struct alloc_tables *t)
{
	__u64 vals[2][512];
	uint64_t n[2] = { 0, 0 };

	if (t->ncpus > 512)
		return 0;
	for (__u32 k = 0; k < 2; k++) {
		if (bpf_map_lookup_elem(t->records_fd, &k, vals[k]))
			return 0;
		for (int c = 0; c < t->ncpus; c++)
			n[k] += vals[k][c];
	}
	return n[0] > n[1] ? n[0] - n[1] : 0;
}

/* Grow when live passes this many slots of a table of slots: early enough
 * that the records made while it grows fit (two-choice buckets of 8 start
 * to refuse records near 70% full). */
static uint64_t grow_at(uint64_t slots)
{
	uint64_t at = slots * 65 / 100, room = slots * 70 / 100;

	if (room > HEADROOM && room - HEADROOM < at)
		at = room - HEADROOM;
	return at > slots / 4 ? at : slots / 4;
}

int alloc_tables__grow(struct alloc_tables *t, uint32_t nb)
{
	struct alloc_table *nt;
	size_t moved = 0;
	int fd, err;

	if (nb <= t->nb || nb > t->max_nb)
		return -EINVAL;
	fd = create_table(nb);
	if (fd < 0)
		return fd;
	nt = alloc_table__open(fd, true);
	if (!nt) {
		err = -errno;
		goto close_fd;
	}
	err = set_table(t->outer_fd, ALLOC_TBL_OLD, t->fd);
	if (err)
		goto close_nt;
	err = set_table(t->outer_fd, ALLOC_TBL_NEW, fd);
	if (err) {
		__u32 k = ALLOC_TBL_OLD;

		bpf_map_delete_elem(t->outer_fd, &k);
		goto close_nt;
	}
	pthread_mutex_lock(&t->lock);
	err = alloc_table__move(t->cur, nt, &moved);
	t->moved += moved;
	if (!err) {
		__u32 k = ALLOC_TBL_OLD;

		if (bpf_map_delete_elem(t->outer_fd, &k))
			err = -errno;
	}
	if (err) {		/* the old table stays searched as OLD: keep it */
		t->stuck = true;
		pthread_mutex_unlock(&t->lock);
		fprintf(stderr, "memtrace: cannot move the live allocations to a larger table: %s; "
			"the table stops growing (what does not fit is counted as dropped)\n",
			strerror(-err));
		alloc_table__close(nt);	/* fd stays: it is NEW in the map */
		return err;
	}
	alloc_table__close(t->cur);
	close(t->fd);
	t->cur = nt;
	t->fd = fd;
	t->nb = nb;
	t->grows++;
	pthread_mutex_unlock(&t->lock);
	return 0;

close_nt:
	alloc_table__close(nt);
close_fd:
	close(fd);
	return err;
}

static uint32_t next_size(const struct alloc_tables *t)
{
	uint64_t nb = (uint64_t)t->nb * 3 / 2;

	return nb > t->max_nb ? t->max_nb : (uint32_t)nb;
}

static void *watch(void *arg)
{
	struct alloc_tables *t = arg;
	struct timespec until;

	long wait_ns = IDLE_NS;

	pthread_mutex_lock(&t->stop_lock);
	while (!t->stop) {
		uint64_t live, at;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += wait_ns;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&t->stop_cond, &t->stop_lock, &until);
		if (t->stop)
			break;
		if (t->stuck || t->nb >= t->max_nb)
			continue;
		live = live_records(t);
		at = grow_at((uint64_t)t->nb * ALLOC_WAYS);
		if (live >= at)
			alloc_tables__grow(t, next_size(t));
		wait_ns = live >= at / 2 ? WATCH_NS : IDLE_NS;
	}
	pthread_mutex_unlock(&t->stop_lock);
	return NULL;
}

struct alloc_tables *alloc_tables__new(int outer_fd, int records_fd, uint64_t max_allocs)
{
	struct alloc_tables *t = calloc(1, sizeof(*t));
	pthread_condattr_t ca;
	int err;

	if (!t)
		return NULL;
	t->outer_fd = outer_fd;
	t->records_fd = records_fd;
	t->ncpus = libbpf_num_possible_cpus();
	t->max_nb = alloc_bucket_count(max_allocs);
	t->nb = t->max_nb < ALLOC_TABLES_START_BUCKETS ? t->max_nb : ALLOC_TABLES_START_BUCKETS;
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->stop_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->stop_cond, &ca);
	pthread_condattr_destroy(&ca);
	t->fd = create_table(t->nb);
	if (t->fd < 0) {
		err = t->fd;
		goto free_t;
	}
	t->cur = alloc_table__open(t->fd, true);
	if (!t->cur) {
		err = -errno;
		goto close_fd;
	}
	err = set_table(outer_fd, ALLOC_TBL_NEW, t->fd);
	if (err)
		goto close_cur;
	return t;

close_cur:
	alloc_table__close(t->cur);
close_fd:
	close(t->fd);
free_t:
	free(t);
	errno = -err;
	return NULL;
}

int alloc_tables__watch(struct alloc_tables *t)
{
	int err;

	if (t->watching)
		return 0;
	err = pthread_create(&t->thread, NULL, watch, t);
	if (err)
		return -err;
	t->watching = true;
	return 0;
}

int alloc_tables__walk(struct alloc_tables *t, alloc_table_fn fn, void *arg)
{
	int ret;

	pthread_mutex_lock(&t->lock);
	ret = alloc_table__walk(t->cur, fn, arg);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

void alloc_tables__usage(struct alloc_tables *t, struct alloc_tables_usage *u)
{
	memset(u, 0, sizeof(*u));
	u->live = live_records(t);
	pthread_mutex_lock(&t->lock);
	u->capacity = (uint64_t)t->nb * ALLOC_WAYS;
	u->max_capacity = (uint64_t)t->max_nb * ALLOC_WAYS;
	u->bytes = bpf_map_memory(t->fd);
	u->grows = t->grows;
	u->moved = t->moved;
	pthread_mutex_unlock(&t->lock);
}

int alloc_tables__fd(struct alloc_tables *t)
{
	return t->fd;
}

void alloc_tables__free(struct alloc_tables *t)
{
	if (!t)
		return;
	if (t->watching) {
		pthread_mutex_lock(&t->stop_lock);
		t->stop = true;
		pthread_cond_signal(&t->stop_cond);
		pthread_mutex_unlock(&t->stop_lock);
		pthread_join(t->thread, NULL);
	}
	alloc_table__close(t->cur);
	close(t->fd);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->stop_lock);
	pthread_cond_destroy(&t->stop_cond);
	free(t);
}

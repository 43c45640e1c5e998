// SPDX-License-Identifier: MIT
/*
 * dashboard.c - the dashboard's state, its event streams and its files
 * (dashboard.h).
 *
 * A publish renders the state once into an event, "id: SEQ\nevent:
 * report\ndata: JSON\n\n", reference-counted like http.c's snapshots:
 * /dashboard/state.json serves the JSON part of it, a stream the whole.
 * A stream with nothing new to send suspends its connection from the
 * content reader (libmicrohttpd's way to wait without a thread); the next
 * publish resumes it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "output/dashboard.h"
#include "output/dashboard_assets.h"

/* One rendered state, shared by the responses that send it. */
struct event {
	int refs;		/* atomic */
	uint64_t seq;
	bool final;
	char *buf;		/* the whole SSE event */
	size_t len;
	size_t json_off, json_len;	/* the state inside buf */
};

struct stream {
	struct dashboard *d;
	struct MHD_Connection *c;
	uint64_t sent;		/* seq of the last event sent, 0 none */
	struct event *ev;	/* being sent, NULL between events */
	size_t off;
	bool suspended;
	bool done;		/* the final event went out */
	struct stream *next;
};

struct dashboard {
	pthread_mutex_t lock;	/* cur, streams, closing */
	struct event *cur;	/* NULL until the first publish */
	struct stream *streams;
	size_t nr_streams;
	bool closing;
	/* the publisher's own, no lock */
	struct history *hist;
	double interval_s;
	uint64_t seq, renders;
};

static void event_put(struct event *e)
{
	if (!e || __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(e->buf);
	free(e);
}

static struct event *event_get_locked(struct event *e)
{
	if (e)
		__atomic_add_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
	return e;
}

struct dashboard *dashboard__new(void)
{
	struct dashboard *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->hist = history__new(60, 0);
	if (!d->hist) {
		free(d);
		return NULL;
	}
	d->interval_s = 5;
	pthread_mutex_init(&d->lock, NULL);
	return d;
}

int dashboard__configure(struct dashboard *d, double interval_s, double window_s)
{
	struct history *h = history__new(window_s, 0);

	if (!h)
		return -ENOMEM;
	history__free(d->hist);
	d->hist = h;
	d->interval_s = interval_s;
	return 0;
}

/* The event of a rendered state json (taken over) with sequence seq. */
static struct event *event_new(char *json, size_t json_len, uint64_t seq, bool final)
{
	struct event *e = calloc(1, sizeof(*e));
	char head[64];
	int n;

	if (!e)
		goto free_json;
	n = snprintf(head, sizeof(head), "id: %" PRIu64 "\nevent: report\ndata: ", seq);
	e->buf = malloc((size_t)n + json_len + 2);
	if (!e->buf)
		goto free_event;
	memcpy(e->buf, head, (size_t)n);
	memcpy(e->buf + n, json, json_len);
	memcpy(e->buf + n + json_len, "\n\n", 2);
	e->len = (size_t)n + json_len + 2;
	e->json_off = (size_t)n;
	e->json_len = json_len;
	e->seq = seq;
	e->final = final;
	e->refs = 1;
	free(json);
	return e;
free_event:
	free(e);
free_json:
	free(json);
	return NULL;
}

int dashboard__publish(struct dashboard *d, const struct report *r, json_object *report,
		       const struct tracer_self *self)
{
	struct event *e, *old;
	char *json;
	size_t len;
	int err;

	history__add(d->hist, r);
	err = dashboard__render(r, report, d->hist, self, d->interval_s, d->seq + 1, &json, &len);
	if (err)
		return err;
	e = event_new(json, len, d->seq + 1, r->final);
	if (!e)
		return -ENOMEM;
	d->seq++;
	d->renders++;
	pthread_mutex_lock(&d->lock);
	old = d->cur;
	d->cur = e;
	for (struct stream *s = d->streams; s; s = s->next) {
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->c);
		}
	}
	pthread_mutex_unlock(&d->lock);
	event_put(old);
	return 0;
}

bool dashboard__owns(const char *url)
{
	return strcmp(url, "/dashboard/state.json") == 0 ||
	       strcmp(url, "/dashboard/events") == 0 || dashboard_asset__find(url);
}

/* MHD content reader of a stream: the next event, or suspend until one. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	struct dashboard *d = s->d;
	size_t n;
	(void)pos;

	if (!s->ev) {
		pthread_mutex_lock(&d->lock);
		if (d->closing || s->done) {
			pthread_mutex_unlock(&d->lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (!d->cur || d->cur->seq == s->sent) {
			s->suspended = true;
			MHD_suspend_connection(s->c);
			pthread_mutex_unlock(&d->lock);
			return 0;
		}
		s->ev = event_get_locked(d->cur);
		s->off = 0;
		pthread_mutex_unlock(&d->lock);
	}
	n = s->ev->len - s->off;
	if (n > max)
		n = max;
	memcpy(buf, s->ev->buf + s->off, n);
	s->off += n;
	if (s->off == s->ev->len) {
		s->sent = s->ev->seq;
		s->done = s->ev->final;
		event_put(s->ev);
		s->ev = NULL;
	}
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls, **pp;
	struct dashboard *d = s->d;

	pthread_mutex_lock(&d->lock);
	for (pp = &d->streams; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			d->nr_streams--;
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	event_put(s->ev);
	free(s);
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned int status,
			     struct MHD_Response *resp, const char *type)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result unavailable(struct MHD_Connection *c, const char *why)
{
	return queue(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		     MHD_create_response_from_buffer(strlen(why), (void *)why, MHD_RESPMEM_PERSISTENT),
		     "text/plain; charset=utf-8");
}

static void response_done(void *cls)
{
	event_put(cls);
}

static enum MHD_Result serve_state(struct dashboard *d, struct MHD_Connection *c)
{
	struct event *e;

	pthread_mutex_lock(&d->lock);
	e = event_get_locked(d->cur);
	pthread_mutex_unlock(&d->lock);
	if (!e)
		return unavailable(c, "no report yet\n");
	return queue(c, MHD_HTTP_OK,
		     MHD_create_response_from_buffer_with_free_callback_cls(
			     e->json_len, e->buf + e->json_off, response_done, e),
		     "application/json");
}

static enum MHD_Result serve_events(struct dashboard *d, struct MHD_Connection *c)
{
	struct MHD_Response *resp;
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		return MHD_NO;
	s->d = d;
	s->c = c;
	pthread_mutex_lock(&d->lock);
	if (d->nr_streams >= DASHBOARD_MAX_STREAMS) {
		pthread_mutex_unlock(&d->lock);
		free(s);
		return unavailable(c, "too many event streams\n");
	}
	s->next = d->streams;
	d->streams = s;
	d->nr_streams++;
	pthread_mutex_unlock(&d->lock);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, s,
						 stream_free);
	if (!resp) {
		stream_free(s);
		return MHD_NO;
	}
	return queue(c, MHD_HTTP_OK, resp, "text/event-stream");
}

enum MHD_Result dashboard__serve(struct dashboard *d, struct MHD_Connection *c, const char *url)
{
	const struct dashboard_asset *a;

	if (strcmp(url, "/dashboard/state.json") == 0)
		return serve_state(d, c);
	if (strcmp(url, "/dashboard/events") == 0)
		return serve_events(d, c);
	a = dashboard_asset__find(url);
	if (!a)
		return MHD_NO;
	return queue(c, MHD_HTTP_OK,
		     MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT),
		     a->type);
}

void dashboard__shutdown(struct dashboard *d)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	bool left = true;

	if (!d)
		return;
	for (int i = 0; i < 200 && left; i++) {
		pthread_mutex_lock(&d->lock);
		d->closing = true;
		left = false;
		for (struct stream *s = d->streams; s; s = s->next) {
			if (s->suspended) {
				s->suspended = false;
				MHD_resume_connection(s->c);
			}
			left = true;
		}
		pthread_mutex_unlock(&d->lock);
		if (left)
			nanosleep(&ts, NULL);
	}
}

uint64_t dashboard__renders(const struct dashboard *d)
{
	return d->renders;
}

void dashboard__free(struct dashboard *d)
{
	if (!d)
		return;
	event_put(d->cur);
	history__free(d->hist);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

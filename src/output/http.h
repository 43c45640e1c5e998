/* SPDX-License-Identifier: MIT */
/*
 * http.h - the --http endpoint (libmicrohttpd, its own thread):
 *
 *   GET /metrics           Prometheus text (metrics.h)
 *   GET /debug/pprof/heap  gzip'd pprof heap profile (pprof.h), the path and
 *                          format Parca, Pyroscope and `go tool pprof URL` use
 *   GET /debug/pprof/heap?pid=N  --system --deep: the profile of pid N's deep
 *                          trace (404 when it has none)
 *   GET /debug/pprof/allocs  the same bytes (all four sample types), the path
 *                          Grafana Alloy's pyroscope.scrape uses by default
 *   GET /report.json       the last JSON report, as main rendered it
 *   GET /                  the live dashboard, and its files and data
 *                          under /dashboard/ (dashboard.h)
 *
 * HEAD works wherever GET does; other methods get 405 with an Allow
 * header, other paths 404, and the three data paths 503 until the first
 * http__publish(). Query strings are ignored (?seconds=, ?gc=).
 *
 * The tracer never waits for a client: http__publish() renders everything
 * up front and swaps a reference-counted snapshot under a mutex held only
 * for the swap; responses keep their snapshot alive until sent. Slow or
 * idle clients cost a connection slot, never tracer time: the daemon polls
 * with epoll, so hundreds of idle connections (a request line and nothing
 * more) never delay a scrape; at most HTTP_PER_IP_CONNECTIONS come from one
 * address and HTTP_MAX_CONNECTIONS in all (fewer if the descriptor limit
 * is lower), and a connection with no progress for HTTP_TIMEOUT_S is closed.
 */
#ifndef MEMTRACE_HTTP_H
#define MEMTRACE_HTTP_H

#include "output/dashboard.h"
#include "output/metrics.h"
#include "common/report.h"

#define HTTP_DEFAULT_HOST	"127.0.0.1"
#define HTTP_MAX_CONNECTIONS	1024
#define HTTP_PER_IP_CONNECTIONS	256
#define HTTP_TIMEOUT_S		5

struct http_server;

/*
 * Listen on addr: "PORT", ":PORT" or "HOST:PORT" ("[V6ADDR]:PORT"); the
 * host defaults to 127.0.0.1, so nothing is reachable from outside unless
 * an address says so (e.g. "0.0.0.0:9464"). Port 0 picks a free port (see
 * http__port()). Returns the running server, or NULL with *err set:
 * -EINVAL for a malformed address, the bind()/listen() errno
 * (-EADDRINUSE, -EACCES, -EADDRNOTAVAIL...), -ENOMEM, or -EIO if
 * libmicrohttpd failed to start.
 */
struct http_server *http__start(const char *addr, int *err);

/* Is addr an address http__start() takes (syntax only, nothing is
 * bound or resolved)? Returns 0 or -EINVAL. */
int http__check_addr(const char *addr);

/*
 * Render r as metrics (the top METRICS_TOP_STACKS stacks, self may be
 * NULL) and as a gzip'd profile, copy report_json (may be NULL: then
 * /report.json stays 503), and make them what the server serves from now
 * on. Runs in the caller's thread; never waits for clients. Returns 0, or
 * -ENOMEM and keeps serving the previous snapshot.
 */
int http__publish(struct http_server *s, const struct report *r, const char *report_json,
		  const struct tracer_self *self);

/*
 * http__publish() with the profile already encoded: pprof is what
 * pprof__encode(r, true, ...) returned, and the server takes it over
 * whatever the outcome (the caller must not use or free it after).
 */
int http__publish_encoded(struct http_server *s, const struct report *r,
			  const char *report_json, const struct tracer_self *self,
			  void *pprof, size_t pprof_len);

/* The port the server listens on (useful after port 0). */
/* Per-stack (or, --system, per-process) series in /metrics from the next
 * publish on: at most top (0: METRICS_TOP_STACKS). Cannot fail. */
void http__set_metrics_top(struct http_server *s, size_t top);

int http__port(const struct http_server *s);

/* The dashboard the server serves, owned by s (dashboard__publish() feeds it). */
struct dashboard *http__dashboard(struct http_server *s);

/* "HOST:PORT" the server listens on ("[::1]:PORT" for IPv6), owned by s. */
const char *http__address(const struct http_server *s);

/* Stop serving, close every connection and free s. NULL is a no-op. */
void http__stop(struct http_server *s);

#endif /* MEMTRACE_HTTP_H */

/* http_server - the one HTTP/1.1 server every HTTP protocol shares (JMAP,
 * DAV, management): a protocol of the connection layer (gateway/conn/conn.h)
 * that parses requests with http_parser.h, finds a route by path prefix and
 * hands the handler a request object to answer, now or later.
 *
 * Threads: the loop thread of the event_base given, for everything.
 *
 * Requests on a connection are handled one at a time, in order: while one
 * is being answered the next (pipelined, RFC 9112 9.3.2) stays in the input
 * buffer, so answers go out in request order. The body is read whole into
 * an evbuffer (at most limits.max_body) before the handler runs; with
 * "Expect: 100-continue" the server sends "100 Continue" once the head
 * passed the limits and a route with that method exists (else it answers
 * the final status and closes, RFC 9110 10.1.1). No route: 404; a route
 * without the method: 405 with Allow (RFC 9110 15.5.6); a method the server
 * does not know: 501 (RFC 9110 9.1); a parse error: its status (400, 413,
 * 414, 417, 431, 501, 505), then close. Between requests the connection
 * may stay idle for idle_timeout_s; a request being answered or a stream
 * has no read timeout (HTTP_BUSY_READ_TIMEOUT_S) but still notices the
 * client going away.
 *
 * A request's lifetime: the handler gets `req` and must finish it exactly
 * once, now or later: http_respond*() or http_stream_end() (or hand the
 * connection over with http_upgrade()). That frees req. If the connection
 * is gone before that (the client closed, a write failed, the server
 * stopped), req stays valid, its cancel callback (if set) runs once, and
 * the answer, when it comes, is dropped: a late answer is safe. A handler
 * that never finishes req leaks it. */
#ifndef EVM_HTTP_SERVER_H
#define EVM_HTTP_SERVER_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/conn/conn.h"
#include "gateway/http/http_parser.h"
#include "gateway/http/http_response.h"
#include "gateway/net.h"

struct view;
struct http_server;
struct http_request;

#define HTTP_BUSY_READ_TIMEOUT_S 86400

/* Handles one request (see the lifetime above). */
typedef void http_handler(void *ctx, struct http_request *req);

struct http_server_settings {
	const char *name;            /* "http", "https": for logs */
	const char *listen;          /* "host:port" / "[v6]:port" */
	struct net_tls *tls;         /* borrowed; set: implicit TLS (https) */
	unsigned max_connections;    /* 0 = unlimited */
	unsigned max_per_ip;         /* 0 = unlimited */
	unsigned idle_timeout_s;     /* keep-alive idle, and waiting for a request (0: 60) */
	struct http_parser_settings limits;
	struct view *view;           /* borrowed; for http_auth_basic (NULL: nobody) */
};

/* Binds set->listen and starts serving (no routes yet: every path 404).
 * set is copied. 0, or -1 with *error_r. */
int http_server_start(struct event_base *base, const struct http_server_settings *set,
		      struct http_server **srv_r, const char **error_r);
/* Closes every connection (in-flight requests are cancelled, see above)
 * and the listener. NULL-safe, sets *srv to NULL. */
void http_server_stop(struct http_server **srv);
/* The view http_auth_basic looks accounts up in, from the next request on
 * (the node opens it after binding). NULL-safe. */
void http_server_set_view(struct http_server *srv, struct view *view);
/* Live connections (NULL: 0). */
unsigned http_server_connections(const struct http_server *srv);
/* Drain: idle keep-alive connections close now, busy ones after their
 * current answer; new ones get 503 and close. NULL-safe. */
void http_server_set_draining(struct http_server *srv, int on);

/* Routes requests whose path starts with prefix ("/jmap/"; "/" catches
 * all) to handler; the longest matching prefix wins. http_server_route
 * takes every method the server knows; http_server_route_methods only
 * those listed ("GET, HEAD, POST": the Allow value of its 405; HEAD is not
 * implied). Re-registering a prefix replaces it. prefix and methods are
 * copied. 0, or -1 with *error_r (prefix not starting with "/"). */
int http_server_route(struct http_server *srv, const char *prefix, http_handler *handler, void *ctx,
		      const char **error_r);
int http_server_route_methods(struct http_server *srv, const char *prefix, const char *methods,
			      http_handler *handler, void *ctx, const char **error_r);

/* ---- the request (http_request.c) ---- */

/* The parsed head: method, target, path, query, fields (valid until req
 * is finished). */
const struct http_head *http_request_head(const struct http_request *req);
const char *http_request_method(const struct http_request *req);
const char *http_request_path(const struct http_request *req);      /* not decoded */
const char *http_request_query(const struct http_request *req);     /* NULL without "?" */
/* The first value of a field (case-insensitive name) or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);
/* The whole body (drain or read it freely; freed with req). */
struct evbuffer *http_request_body(struct http_request *req);
const char *http_request_peer_ip(const struct http_request *req);
int http_request_is_tls(const struct http_request *req);
/* 1 while the connection is there (the answer would reach the client). */
int http_request_connected(const struct http_request *req);
/* The value of Upgrade when the client asked to switch (Connection:
 * upgrade, HTTP/1.1, no body), else NULL. */
const char *http_request_upgrade_wanted(const struct http_request *req);
/* cb(ctx, req) runs once, later, if the connection goes away before req
 * is finished; req must still be finished afterwards. NULL cb: none. */
void http_request_on_cancel(struct http_request *req, void (*cb)(void *ctx, struct http_request *req),
			    void *ctx);

/* Answers with resp (its fields; resp is not consumed) and body (len
 * octets, copied). Finishes req. */
void http_respond(struct http_request *req, const struct http_response *resp, const void *body,
		  size_t len);
/* Answers with an evbuffer body (drained into the connection). Finishes req. */
void http_respond_buffer(struct http_request *req, const struct http_response *resp,
			 struct evbuffer *body);
/* A short answer: status, optional Content-Type, body text (NULL: "").
 * Finishes req. */
void http_respond_text(struct http_request *req, int status, const char *content_type,
		       const char *text);

/* A streamed answer (EventSource, large downloads): writes the head now
 * (chunked for HTTP/1.1, until close for HTTP/1.0); then http_stream_write
 * sends pieces as they come. 0, or -1 when the connection is gone. */
int http_stream_start(struct http_request *req, const struct http_response *resp);
/* One piece (len > 0). 0, or -1 when the connection is gone (the handler
 * stops and calls http_stream_end). */
int http_stream_write(struct http_request *req, const void *data, size_t len);
/* Octets written but not yet sent (backpressure for a large stream). */
size_t http_stream_pending(const struct http_request *req);
/* Ends the stream (the last chunk) and finishes req. */
void http_stream_end(struct http_request *req);

/* WebSocket and other upgrades (RFC 9110 7.8): writes resp (status 101;
 * add the Upgrade field and the protocol's own) and hands the connection
 * to ops/ctx: from now on the HTTP server calls them instead of parsing
 * HTTP (input: read conn_input; closed: as conn.h says). Bytes the client
 * sent after the request are in conn_input and input() runs soon. Finishes
 * req. Returns the connection, or NULL (req finished anyway) when it was
 * gone or the request cannot be upgraded (http_request_upgrade_wanted
 * NULL). */
struct http_takeover {
	void (*input)(void *ctx, struct conn *c);
	void (*output_space)(void *ctx, struct conn *c);    /* optional */
	void (*closed)(void *ctx, struct conn *c, const char *why);
	void (*drain)(void *ctx, struct conn *c, int on);   /* optional */
};
struct conn *http_upgrade(struct http_request *req, const struct http_response *resp,
			  const struct http_takeover *ops, void *ctx);

/* ---- authentication (http_auth.c) ---- */

/* ok 1: account and tenant of the user authenticated; 0: refused (no or
 * bad credentials, wrong password). */
typedef void http_auth_cb(void *ctx, struct http_request *req, int ok, const char *account,
			  const char *tenant);
/* Checks Authorization: Basic against the directory through the same
 * path as IMAP LOGIN (auth_password_verify: a worker thread, the cache,
 * no user enumeration, login throttling by the client's address). cb runs
 * exactly once, later, never inside this call (also when there are no
 * Basic credentials: ok 0). A failure, and credentials that are not
 * Basic, are answered after auth.failure_delay_ms (gateway/auth_gate.h);
 * a request without Authorization is refused on the next loop turn (a
 * client asking for the challenge is not guessing). */
void http_auth_basic(struct http_request *req, http_auth_cb *cb, void *ctx);
/* 1 when Authorization is "Bearer <token>" equal to token (compared in
 * constant time), else 0 (also when token is NULL or ""). */
int http_auth_bearer(const struct http_request *req, const char *token);
/* 401 with WWW-Authenticate: Basic realm="realm", charset="UTF-8" (RFC
 * 7617 2.1). Finishes req. */
void http_respond_unauthorized(struct http_request *req, const char *realm);

#endif

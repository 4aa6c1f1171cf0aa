/* http_server_private - the server, connection and request structs shared
 * by http_server.c (listener, routes, the connection's input loop),
 * http_request.c (answers, streams, upgrades) and http_auth.c. */
#ifndef EVM_HTTP_SERVER_PRIVATE_H
#define EVM_HTTP_SERVER_PRIVATE_H

#include "gateway/http/http_server.h"

struct http_route {
	char *prefix;
	size_t len;
	char *methods;             /* "GET, POST"; NULL: every known method */
	http_handler *handler;
	void *ctx;
};

struct http_server {
	struct event_base *base;
	struct http_server_settings set;   /* name and listen point to the copies below */
	char *name, *listen;
	struct conn_protocol proto;
	struct conn_server *cs;
	struct http_route *routes;
	size_t nroutes;
	int draining;
};

/* One connection. Freed in closed(); requests it answers outlive it. */
struct http_session {
	struct http_server *srv;
	struct conn *c;            /* NULL once closed */
	struct http_parser *parser;
	struct http_request *req;  /* being read (dispatched 0) or answered (1) */
	int in_input;              /* inside on_input: it goes on with the next request */
	int lingering;             /* after an error answer: discarding input until close */
	int half_closed;
	size_t discarded;
	const struct http_takeover *ops;   /* after http_upgrade: the new owner */
	struct http_takeover ops_copy;
	void *ops_ctx;
};

struct http_request {
	struct event_base *base;
	struct view *view;         /* for http_auth_basic */
	struct http_session *s;    /* NULL once the connection is gone */
	struct http_head *head;
	struct evbuffer *body;
	http_handler *handler;     /* NULL: answer `reject` instead */
	void *handler_ctx;
	int reject;                /* 404, 405, 501, 503 decided at the head */
	const char *allow;         /* the route's methods, for 405 */
	int dispatched;
	int head_only;             /* HEAD: no body in the answer */
	int close;                 /* close the connection after the answer */
	int linger;                /* ... with a lingering close (refused before its body) */
	int streaming, chunked;
	char peer_ip[64];
	int tls;
	void (*cancel)(void *ctx, struct http_request *req);
	void *cancel_ctx;
	int cancel_pending;        /* detached; the cancel runs on the next loop turn */
	int finished;              /* finished before that: the cancel just frees it */
};

/* Lingering close after an error answer (RFC 9112 9.6, http_server.c). */
void http_session_linger(struct http_session *s);
/* Frees req after its answer and lets the connection read the next
 * request (or close). */
void http_request_finish(struct http_request *req);
/* The connection went away: req is kept for its handler, cancel runs. */
void http_request_detach(struct http_request *req);
void http_request_free(struct http_request **req);
/* Answers req with its refusal (reject) and finishes it. */
void http_request_finish_reject(struct http_request *req);

#endif

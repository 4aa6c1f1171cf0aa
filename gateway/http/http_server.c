/* http_server - the listener, the routes and each connection's input loop:
 * parse one request, decide at its head (route, method, 100-continue),
 * collect its body, dispatch it, and read the next only once it is
 * answered; see http_server.h. Answers are in http_request.c. */
#include "gateway/http/http_server_private.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define HTTP_LINGER_S 5              /* lingering close: quiet time before closing */
#define HTTP_LINGER_MAX (1024 * 1024)  /* ... and most octets discarded meanwhile */

/* Methods the server knows (RFC 9110 9.3; WebDAV RFC 4918 9, CalDAV RFC
 * 4791 5.3.1, RFC 3253 3.6, RFC 5789); others are 501 (RFC 9110 9.1). */
static const char *const known_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT",
	"MKCALENDAR", "ACL",
};

/* 1 when method is in the comma list (exact, methods are case-sensitive). */
static int method_listed(const char *list, const char *method)
{
	size_t n = strlen(method);

	for (const char *s = list; *s != '\0';) {
		size_t len;

		s += strspn(s, ", \t");
		len = strcspn(s, ", \t");
		if (len == n && memcmp(s, method, n) == 0)
			return 1;
		s += len;
	}
	return 0;
}

/* The route with the longest prefix of path, or NULL. */
static const struct http_route *find_route(const struct http_server *srv, const char *path)
{
	const struct http_route *best = NULL;

	for (size_t i = 0; i < srv->nroutes; i++) {
		const struct http_route *r = &srv->routes[i];

		if (strncmp(path, r->prefix, r->len) == 0 && (best == NULL || r->len > best->len))
			best = r;
	}
	return best;
}

int http_server_route_methods(struct http_server *srv, const char *prefix, const char *methods,
			      http_handler *handler, void *ctx, const char **error_r)
{
	struct http_route *r = NULL;

	if (prefix[0] != '/' && strcmp(prefix, "*") != 0) {
		*error_r = "a route prefix starts with '/'";
		return -1;
	}
	for (size_t i = 0; i < srv->nroutes && r == NULL; i++)
		if (strcmp(srv->routes[i].prefix, prefix) == 0)
			r = &srv->routes[i];
	if (r == NULL) {
		srv->routes = xrealloc(srv->routes, (srv->nroutes + 1) * sizeof *srv->routes);
		r = &srv->routes[srv->nroutes++];
		r->prefix = xstrdup(prefix);
		r->len = strlen(prefix);
	} else {
		free(r->methods);
	}
	r->methods = methods != NULL ? xstrdup(methods) : NULL;
	r->handler = handler;
	r->ctx = ctx;
	return 0;
}

int http_server_route(struct http_server *srv, const char *prefix, http_handler *handler, void *ctx,
		      const char **error_r)
{
	return http_server_route_methods(srv, prefix, NULL, handler, ctx, error_r);
}

/* The head arrived: a request object with its handler, or the status it
 * will be refused with once its body is read. */
static struct http_request *new_request(struct http_session *s)
{
	struct http_request *req = xcalloc(1, sizeof *req);
	const struct http_route *route;
	size_t k;

	req->base = s->srv->base;
	req->view = s->srv->set.view;
	req->s = s;
	req->head = http_parser_take_head(s->parser);
	req->body = evbuffer_new();
	req->head_only = strcmp(req->head->method, "HEAD") == 0;
	req->close = !req->head->keep_alive;
	snprintf(req->peer_ip, sizeof req->peer_ip, "%s", conn_peer_ip(s->c));
	req->tls = conn_is_tls(s->c);
	for (k = 0; k < sizeof known_methods / sizeof known_methods[0]; k++)
		if (strcmp(req->head->method, known_methods[k]) == 0)
			break;
	route = find_route(s->srv, req->head->path);
	if (s->srv->draining || conn_draining(s->c)) {
		req->reject = 503;
		req->close = 1;
	} else if (k == sizeof known_methods / sizeof known_methods[0]) {
		req->reject = 501;
	} else if (route == NULL) {
		req->reject = 404;
	} else if (route->methods != NULL && !method_listed(route->methods, req->head->method)) {
		req->reject = 405;
		req->allow = route->methods;
	} else {
		req->handler = route->handler;
		req->handler_ctx = route->ctx;
	}
	return req;
}

/* RFC 9110 10.1.1: "100 Continue" only for a body we will read; a request
 * refused at its head is answered at once, and the connection closes since
 * the client may or may not send the body. 0, or -1: answered. */
static int expectation(struct http_session *s, struct http_request *req)
{
	if (!req->head->expect_continue || (req->head->content_length == 0 && !req->head->chunked))
		return 0;
	if (req->reject == 0) {
		http_write_continue(conn_output(s->c));
		return 0;
	}
	req->close = 1;
	req->linger = 1;
	req->dispatched = 1;
	http_request_finish_reject(req);
	return -1;
}

/* The request is complete: its handler (or its refusal) runs. */
static void dispatch(struct http_session *s)
{
	struct http_request *req = s->req;

	req->dispatched = 1;
	conn_set_read_timeout(s->c, HTTP_BUSY_READ_TIMEOUT_S);
	if (req->handler == NULL) {
		http_request_finish_reject(req);
		return;
	}
	req->handler(req->handler_ctx, req);
}

/* RFC 9112 9.6 lingering close: closing with unread input makes the
 * kernel send RST, which can destroy the answer before the client reads
 * it. So after an error answer the connection reads and discards (at most
 * HTTP_LINGER_MAX, until HTTP_LINGER_S of quiet or the client's close),
 * half-closes a plain socket once the answer is out so the client sees the
 * end, and only then closes. */
void http_session_linger(struct http_session *s)
{
	s->lingering = 1;
	conn_set_read_timeout(s->c, HTTP_LINGER_S);
	if (conn_pending_output(s->c) == 0 && !conn_is_tls(s->c) && !s->half_closed) {
		s->half_closed = 1;
		shutdown(conn_socket(s->c), SHUT_WR);
	}
}

/* Input while lingering: discarded. */
static void linger_input(struct http_session *s, struct conn *c)
{
	size_t n = evbuffer_get_length(conn_input(c));

	evbuffer_drain(conn_input(c), n);
	s->discarded += n;
	if (s->discarded > HTTP_LINGER_MAX)
		conn_close(c, "bad request");
}

/* A parse error: its status, then close (RFC 9112: the framing of what
 * follows is unknown). */
static void parse_error(struct http_session *s)
{
	const char *reason, *error;
	int status = http_parser_error(s->parser, &reason);
	struct http_response resp;
	struct http_framing f = { .minor = 1, .close = 1 };
	int chunked, close;

	log_info("%s[%s]: [%s] bad request: %d %s", s->srv->name, conn_id(s->c), conn_peer_ip(s->c), status,
		 reason);
	http_request_free(&s->req);
	http_response_init(&resp, status);
	(void)http_response_field(&resp, "Content-Type", "text/plain; charset=utf-8", &error);
	http_response_write_head(conn_output(s->c), &resp, &f, (int64_t)strlen(reason) + 1, &chunked, &close);
	conn_printf(s->c, "%s\n", reason);
	http_response_clear(&resp);
	http_session_linger(s);
	linger_input(s, s->c);
}

/* Feeds one contiguous piece of input (maybe none: a request without body
 * ends right after its head); 1 to go on, 0 to stop. */
static int feed(struct http_session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v = { NULL, 0 };
	const unsigned char *body;
	size_t used, blen, avail = evbuffer_peek(in, -1, NULL, &v, 1) > 0 ? v.iov_len : 0;
	enum http_parse_status st;

	st = http_parser_feed(s->parser, v.iov_base, avail, &used, &body, &blen);
	if (st == HTTP_PARSE_BODY && s->req->handler != NULL)
		evbuffer_add(s->req->body, body, blen);
	evbuffer_drain(in, used);
	switch (st) {
	case HTTP_PARSE_MORE:
		if (evbuffer_get_length(in) == 0 && http_parser_started(s->parser))
			conn_quickack(s->c);    /* part of a request: ack it now (net.h) */
		return evbuffer_get_length(in) > 0;
	case HTTP_PARSE_HEAD:
		s->req = new_request(s);
		return expectation(s, s->req) == 0;
	case HTTP_PARSE_BODY:
		return 1;
	case HTTP_PARSE_DONE:
		http_parser_next(s->parser);
		dispatch(s);
		return 1;
	case HTTP_PARSE_ERROR:
		parse_error(s);
		return 0;
	}
	return 0;
}

/* Input arrived: requests one at a time while none is being answered. */
static void on_input(void *session, struct conn *c)
{
	struct http_session *s = session;

	s->in_input = 1;
	if (s->ops != NULL)
		s->ops->input(s->ops_ctx, c);
	else if (s->lingering)
		linger_input(s, c);
	while (s->ops == NULL && !s->lingering && s->c != NULL && !conn_input_blocked(c) &&
	       !(s->req != NULL && s->req->dispatched) && feed(s, conn_input(c)))
		;
	s->in_input = 0;
	if (s->c == NULL)            /* closed inside (a handler stopped the server) */
		free(s);
}

static void *on_open(void *ctx, struct conn *c)
{
	struct http_server *srv = ctx;
	struct http_session *s = xcalloc(1, sizeof *s);

	s->srv = srv;
	s->c = c;
	s->parser = http_parser_new(&srv->set.limits);
	return s;
}

static void on_output_space(void *session, struct conn *c)
{
	struct http_session *s = session;

	if (s->ops != NULL && s->ops->output_space != NULL)
		s->ops->output_space(s->ops_ctx, c);
	else if (s->lingering)
		http_session_linger(s);  /* the answer may be out now: half-close */
}

/* Idle too long: a request begun gets 408 (RFC 9110 15.5.9); an idle
 * keep-alive connection just closes (RFC 9112 9.5). */
static void on_timeout(void *session, struct conn *c)
{
	struct http_session *s = session;

	if (s->ops == NULL && !s->lingering && (s->req != NULL || http_parser_started(s->parser) ||
			       evbuffer_get_length(conn_input(c)) > 0))
		conn_printf(c, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

static void on_closed(void *session, struct conn *c, const char *why)
{
	struct http_session *s = session;

	s->c = NULL;
	if (s->ops != NULL) {
		s->ops->closed(s->ops_ctx, c, why);
	} else if (s->req != NULL) {
		if (s->req->dispatched)
			http_request_detach(s->req);   /* its handler still owns it */
		else
			http_request_free(&s->req);
	}
	http_parser_free(&s->parser);
	if (!s->in_input)            /* else on_input frees it on its way out */
		free(s);
}

/* Drain: an idle connection closes now, a busy one after its answer. */
static void on_drain(void *session, struct conn *c, int on)
{
	struct http_session *s = session;

	if (s->ops != NULL) {
		if (s->ops->drain != NULL)
			s->ops->drain(s->ops_ctx, c, on);
	} else if (on && s->req == NULL && evbuffer_get_length(conn_input(c)) == 0) {
		conn_close_after_flush(c, "draining");
	} else if (on && s->req != NULL) {
		s->req->close = 1;
	}
}

int http_server_start(struct event_base *base, const struct http_server_settings *set,
		      struct http_server **srv_r, const char **error_r)
{
	struct http_server *srv = xcalloc(1, sizeof *srv);
	struct conn_server_settings cs = { 0 };

	srv->base = base;
	srv->set = *set;
	srv->name = xstrdup(set->name != NULL ? set->name : set->tls != NULL ? "https" : "http");
	srv->listen = xstrdup(set->listen);
	srv->set.name = srv->name;
	srv->set.listen = srv->listen;
	srv->proto = (struct conn_protocol){
		.name = srv->name,
		.reject_line = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		.preauth_timeout_s = set->idle_timeout_s > 0 ? set->idle_timeout_s : 60,
		.idle_timeout_s = set->idle_timeout_s > 0 ? set->idle_timeout_s : 60,
		.open = on_open, .input = on_input, .output_space = on_output_space,
		.timeout = on_timeout, .closed = on_closed, .drain = on_drain,
	};
	cs.name = srv->name;
	cs.listen = srv->listen;
	cs.tls = set->tls;
	cs.implicit_tls = set->tls != NULL;
	cs.max_connections = set->max_connections;
	cs.max_per_ip = set->max_per_ip;
	if (conn_server_start(base, &cs, &srv->proto, srv, &srv->cs, error_r) < 0) {
		free(srv->name);
		free(srv->listen);
		free(srv);
		return -1;
	}
	*srv_r = srv;
	return 0;
}

void http_server_stop(struct http_server **srvp)
{
	struct http_server *srv = *srvp;

	if (srv == NULL)
		return;
	conn_server_stop(&srv->cs);
	for (size_t i = 0; i < srv->nroutes; i++) {
		free(srv->routes[i].prefix);
		free(srv->routes[i].methods);
	}
	free(srv->routes);
	free(srv->name);
	free(srv->listen);
	free(srv);
	*srvp = NULL;
}

void http_server_set_view(struct http_server *srv, struct view *view)
{
	if (srv != NULL)
		srv->set.view = view;
}

unsigned http_server_connections(const struct http_server *srv)
{
	return srv != NULL ? conn_server_count(srv->cs) : 0;
}

void http_server_set_draining(struct http_server *srv, int on)
{
	if (srv == NULL)
		return;
	srv->draining = on;
	conn_server_set_draining(srv->cs, on);
}

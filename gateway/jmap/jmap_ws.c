/* jmap_ws - JMAP over WebSocket (RFC 8887): the sockets of a node and
 * their requests in flight (see jmap_ws.h; push: jmap_ws_push.c). */
#include "gateway/jmap/jmap_ws_private.h"
#include "gateway/jmap/jmap_shared.h"
#include "gateway/http/http_ws.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jmap_ws_server *jmap_ws_new(struct node *node, struct jmap_api *api)
{
	struct jmap_ws_server *srv = xcalloc(1, sizeof *srv);

	srv->node = node;
	srv->api = api;
	return srv;
}

unsigned jmap_ws_count(const struct jmap_ws_server *srv)
{
	return srv != NULL ? srv->count : 0;
}

void jmap_ws_send_json(struct ws_conn *wc, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);

	if (text != NULL && wc->ws != NULL)
		(void)http_ws_send_text(wc->ws, text, strlen(text));
	free(text);
}

/* RFC 8887 4.3.4: the problem details with "@type" and "requestId". */
static void send_request_error(struct ws_conn *wc, const char *id, json_t *problem)
{
	json_t *out = json_pack("{s:s}", "@type", "RequestError");

	if (id != NULL)
		json_object_set_new(out, "requestId", json_string(id));
	json_object_update(out, problem);
	jmap_ws_send_json(wc, out);
	json_decref(out);
}

void jmap_ws_request_error(struct ws_conn *wc, const char *id, const char *type, const char *limit,
			   const char *detail)
{
	json_t *p = jmap_problem(type, limit, detail);

	send_request_error(wc, id, p);
	json_decref(p);
}

static void request_free(struct ws_request *r)
{
	struct ws_conn *wc = r->wc;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		wc->requests = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	wc->nrequests--;
	jmap_run_cancel(&r->run);
	free(r->id);
	free(r);
}

/* The engine finished a Request: its Response (RFC 8887 4.3.3) or
 * RequestError, in whatever order requests finish. */
static void run_done(void *arg, int status, json_t *body)
{
	struct ws_request *r = arg;
	struct ws_conn *wc = r->wc;

	r->run = NULL;
	if (status == 200) {
		json_t *out = json_pack("{s:s}", "@type", "Response");

		if (r->id != NULL)
			json_object_set_new(out, "requestId", json_string(r->id));
		json_object_update(out, body);
		jmap_ws_send_json(wc, out);
		json_decref(out);
	} else {
		send_request_error(wc, r->id, body);
	}
	request_free(r);
}

static void run_request(struct ws_conn *wc, const char *id, const unsigned char *data, size_t len)
{
	const struct jmap_settings *s = jmap_api_settings(wc->owner->api);
	struct jmap_mail_user mu;
	struct jmap_run_params p;
	struct ws_request *r;
	const char *error = NULL;

	/* RFC 8620 3.6.1: over maxConcurrentRequests is a "limit" error. */
	if (wc->nrequests >= s->max_concurrent_requests) {
		jmap_ws_request_error(wc, id, JMAP_PROBLEM_LIMIT, "maxConcurrentRequests",
			      "too many requests in flight on this socket");
		return;
	}
	/* The accounts again for every request: a share revoked since the
	 * socket opened is gone (jmap_shared.h). */
	if (jmap_mail_user_build(wc->mreq, &mu, &error) < 0) {
		log_error("jmap: accounts of %s: %s", wc->mreq->address, error);
		jmap_ws_request_error(wc, id, "about:blank", NULL, "the server cannot read the accounts");
		return;
	}
	p = (struct jmap_run_params){ .user = &mu.user, .session_state = wc->session_state,
				      .request_ctx = wc->mreq };
	r = xcalloc(1, sizeof *r);
	r->wc = wc;
	r->id = id != NULL ? xstrdup(id) : NULL;
	r->next = wc->requests;
	if (r->next != NULL)
		r->next->prev = r;
	wc->requests = r;
	wc->nrequests++;
	/* The engine reads the body again as a Request (it ignores "@type"
	 * and "id"); it has no Content-Type over WebSocket. */
	r->run = jmap_api_run(wc->owner->api, &p, NULL, data, len, run_done, r);
	jmap_mail_user_clear(&mu);
}

/* One message (RFC 8887 4.3): text JSON told apart by "@type". */
static void on_message(void *ctx, struct http_ws *ws, int binary, const unsigned char *data, size_t len)
{
	struct ws_conn *wc = ctx;
	json_error_t jerr;
	json_t *msg, *type_v, *id_v;
	const char *type, *id;

	if (wc->owner == NULL)
		return;
	if (binary) {
		log_warn("jmap: websocket of %s sent binary data: closing", wc->mreq->address);
		http_ws_close(ws, HTTP_WS_UNSUPPORTED_DATA, "JMAP messages are text");
		return;
	}
	msg = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (msg == NULL) {
		jmap_ws_request_error(wc, NULL, JMAP_PROBLEM_NOT_JSON, NULL, "the message is not I-JSON");
		return;
	}
	id_v = json_object_get(msg, "id");
	id = json_is_string(id_v) ? json_string_value(id_v) : NULL;
	type_v = json_object_get(msg, "@type");
	type = json_is_string(type_v) ? json_string_value(type_v) : NULL;
	if (!json_is_object(msg) || type == NULL) {
		jmap_ws_request_error(wc, id, JMAP_PROBLEM_NOT_REQUEST, NULL,
			      "a JMAP WebSocket message is an object with \"@type\"");
	} else if (id_v != NULL && id == NULL) {
		jmap_ws_request_error(wc, NULL, JMAP_PROBLEM_NOT_REQUEST, NULL, "\"id\" must be a string");
	} else if (strcmp(type, "Request") == 0) {
		run_request(wc, id, data, len);
	} else if (strcmp(type, "WebSocketPushEnable") == 0) {
		jmap_ws_push_enable(wc, msg, id);
	} else if (strcmp(type, "WebSocketPushDisable") == 0) {
		jmap_ws_push_disable(wc);
	} else {
		jmap_ws_request_error(wc, id, JMAP_PROBLEM_NOT_REQUEST, NULL, "unknown \"@type\"");
	}
	json_decref(msg);
}

static void on_output_space(void *ctx, struct http_ws *ws)
{
	struct ws_conn *wc = ctx;

	(void)ws;
	if (wc->push_pending)
		jmap_ws_push_now(wc);
}

/* Stops everything the socket started (requests, push). */
static void conn_stop(struct ws_conn *wc)
{
	while (wc->requests != NULL)
		request_free(wc->requests);
	jmap_ws_push_disable(wc);
}

static void unlink_conn(struct ws_conn *wc)
{
	struct jmap_ws_server *srv = wc->owner;

	if (srv == NULL)
		return;
	if (wc->prev != NULL)
		wc->prev->next = wc->next;
	else
		srv->conns = wc->next;
	if (wc->next != NULL)
		wc->next->prev = wc->prev;
	srv->count--;
	wc->owner = NULL;
}

static void on_closed(void *ctx, struct http_ws *ws, unsigned code, const char *why)
{
	struct ws_conn *wc = ctx;

	(void)ws;
	(void)code;
	(void)why;
	wc->ws = NULL;
	conn_stop(wc);
	unlink_conn(wc);
	jmap_mail_req_unref(&wc->mreq);
	free(wc);
}

static const struct http_ws_handler ws_handler = {
	.message = on_message, .output_space = on_output_space, .closed = on_closed,
};

void jmap_ws_serve(struct jmap_ws_server *srv, struct http_request *req, struct jmap_mail_req *mreq,
		   const char *session_state)
{
	static const char *const protocols[] = { "jmap", NULL };
	const struct jmap_settings *s = jmap_api_settings(srv->api);
	struct http_ws_settings set = {
		.protocols = protocols,          /* RFC 8887 4.2 */
		.max_message = (size_t)s->max_size_request,
		.ping_interval_s = JMAP_WS_PING_S,
		.idle_timeout_s = JMAP_WS_IDLE_S,
	};
	struct ws_conn *wc = xcalloc(1, sizeof *wc);

	wc->mreq = mreq;
	snprintf(wc->session_state, sizeof wc->session_state, "%s", session_state);
	wc->ws = http_ws_accept(req, &set, &ws_handler, wc);
	if (wc->ws == NULL) {
		jmap_mail_req_unref(&wc->mreq);
		free(wc);
		return;
	}
	wc->owner = srv;
	wc->next = srv->conns;
	if (wc->next != NULL)
		wc->next->prev = wc;
	srv->conns = wc;
	srv->count++;
}

void jmap_ws_free(struct jmap_ws_server **srvp)
{
	struct jmap_ws_server *srv = *srvp;

	if (srv == NULL)
		return;
	while (srv->conns != NULL) {
		struct ws_conn *wc = srv->conns;

		conn_stop(wc);
		unlink_conn(wc);
		if (wc->ws != NULL)
			http_ws_close(wc->ws, HTTP_WS_GOING_AWAY, "server shutting down");
	}
	free(srv);
	*srvp = NULL;
}

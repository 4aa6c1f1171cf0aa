/* jmap_ws - JMAP over WebSocket (RFC 8887): the sockets of a node, their
 * requests in flight and their push (see jmap_ws.h). */
#include "gateway/jmap/jmap_ws.h"
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_push.h"
#include "gateway/jmap/jmap_session.h"
#include "gateway/http/http_ws.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/projector.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pings keep NATs and proxies from dropping an idle push socket; a client
 * that answers nothing for JMAP_WS_IDLE_S is gone. */
#define JMAP_WS_PING_S 30
#define JMAP_WS_IDLE_S 100

struct ws_request;

/* One socket. */
struct ws_conn {
	struct ws_conn *prev, *next;
	struct jmap_ws_server *owner;      /* NULL once the server is gone */
	struct http_ws *ws;                /* NULL once closed */
	struct jmap_mail_req *mreq;
	char session_state[JMAP_SESSION_STATE_SIZE];
	struct ws_request *requests;       /* in flight */
	unsigned nrequests;
	struct projector_sub *sub;         /* push enabled */
	unsigned push_types;
	int push_pending;                  /* a change came while the output was congested */
	int64_t last[MAIL_J_TYPES];        /* states last pushed */
};

/* One Request being run. */
struct ws_request {
	struct ws_request *prev, *next;
	struct ws_conn *wc;
	struct jmap_run *run;
	char *id;                          /* the Request's "id", or NULL */
};

struct jmap_ws_server {
	struct node *node;
	struct jmap_api *api;
	struct ws_conn *conns;
	unsigned count;
};

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

/* Sends obj as one text message (nothing once closing). */
static void send_json(struct ws_conn *wc, json_t *obj)
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
	send_json(wc, out);
	json_decref(out);
}

static void request_error(struct ws_conn *wc, const char *id, const char *type, const char *limit,
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
		send_json(wc, out);
		json_decref(out);
	} else {
		send_request_error(wc, r->id, body);
	}
	request_free(r);
}

static void run_request(struct ws_conn *wc, const char *id, const unsigned char *data, size_t len)
{
	const struct jmap_settings *s = jmap_api_settings(wc->owner->api);
	struct jmap_account acct;
	struct jmap_user user;
	struct jmap_run_params p;
	struct ws_request *r;

	/* RFC 8620 3.6.1: over maxConcurrentRequests is a "limit" error. */
	if (wc->nrequests >= s->max_concurrent_requests) {
		request_error(wc, id, JMAP_PROBLEM_LIMIT, "maxConcurrentRequests",
			      "too many requests in flight on this socket");
		return;
	}
	jmap_mail_account(wc->mreq, &acct);
	user = (struct jmap_user){ .username = wc->mreq->address, .accounts = &acct, .naccounts = 1 };
	p = (struct jmap_run_params){ .user = &user, .session_state = wc->session_state,
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
}

/* pushState (RFC 8887 4.3.5.1): every type's state, "<m>.<e>.<t>". */
static void push_state_string(const int64_t now[MAIL_J_TYPES], char *out, size_t size)
{
	snprintf(out, size, "%" PRId64 ".%" PRId64 ".%" PRId64, now[MAIL_J_MAILBOX], now[MAIL_J_EMAIL],
		 now[MAIL_J_THREAD]);
}

/* 0 with the states of a pushState of ours, -1 for anything else. */
static int push_state_parse(const char *s, int64_t states[MAIL_J_TYPES])
{
	const char *p = s;

	for (int t = 0; t < MAIL_J_TYPES; t++) {
		char *end;
		long long v;

		if (*p < '0' || *p > '9')
			return -1;
		v = strtoll(p, &end, 10);
		if (v < 0 || v == LLONG_MAX || *end != (t + 1 < MAIL_J_TYPES ? '.' : '\0'))
			return -1;
		states[t] = v;
		p = end + 1;
	}
	return 0;
}

/* Pushes a StateChange of the enabled types that moved, unless the
 * output is congested (then once it drains: states coalesce). */
static void push_now(struct ws_conn *wc)
{
	int64_t now[MAIL_J_TYPES];
	char ps[96];
	json_t *change;

	if (wc->ws == NULL || wc->owner == NULL || wc->push_types == 0)
		return;
	if (http_ws_congested(wc->ws)) {
		wc->push_pending = 1;
		return;
	}
	wc->push_pending = 0;
	if (jmap_push_states(wc->owner->node->view, wc->mreq->address, now) < 0)
		return;
	change = jmap_push_state_change(wc->mreq->account_id, wc->push_types, now, wc->last, 0);
	if (change == NULL)
		return;
	push_state_string(now, ps, sizeof ps);
	json_object_set_new(change, "pushState", json_string(ps));
	send_json(wc, change);
	json_decref(change);
}

static void on_change(void *ctx, const char *account)
{
	(void)account;
	push_now(ctx);
}

/* RFC 8887 4.3.5.2: WebSocketPushEnable {dataTypes, pushState}. */
static void push_enable(struct ws_conn *wc, json_t *msg, const char *id)
{
	json_t *types = json_object_get(msg, "dataTypes"), *ps = json_object_get(msg, "pushState"), *v;
	unsigned mask = 0;
	size_t i;
	int64_t now[MAIL_J_TYPES];

	if (types == NULL || json_is_null(types)) {
		mask = JMAP_PUSH_ALL;
	} else if (json_is_array(types)) {
		json_array_foreach(types, i, v) {
			if (!json_is_string(v)) {
				request_error(wc, id, JMAP_PROBLEM_NOT_REQUEST, NULL, "dataTypes must be type names");
				return;
			}
			mask |= jmap_push_type_bit(json_string_value(v));
		}
	} else {
		request_error(wc, id, JMAP_PROBLEM_NOT_REQUEST, NULL, "dataTypes must be an array or null");
		return;
	}
	if (ps != NULL && !json_is_string(ps) && !json_is_null(ps)) {
		request_error(wc, id, JMAP_PROBLEM_NOT_REQUEST, NULL, "pushState must be a string");
		return;
	}
	/* Subscribe before reading the states, so no change falls between. */
	if (wc->sub == NULL)
		wc->sub = projector_subscribe(wc->owner->node->projector, wc->mreq->address, on_change, wc);
	wc->push_types = mask;
	if (jmap_push_states(wc->owner->node->view, wc->mreq->address, now) < 0)
		return;
	if (!json_is_string(ps)) {
		memcpy(wc->last, now, sizeof now);   /* from now on */
		return;
	}
	/* The changes since the client's pushState; one not of ours (or from
	 * another server) gets every enabled type's state. */
	if (push_state_parse(json_string_value(ps), wc->last) < 0)
		for (int t = 0; t < MAIL_J_TYPES; t++)
			wc->last[t] = -1;
	push_now(wc);
}

/* RFC 8887 4.3.5.3: WebSocketPushDisable. */
static void push_disable(struct ws_conn *wc)
{
	projector_unsubscribe(&wc->sub);
	wc->push_types = 0;
	wc->push_pending = 0;
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
		request_error(wc, NULL, JMAP_PROBLEM_NOT_JSON, NULL, "the message is not I-JSON");
		return;
	}
	id_v = json_object_get(msg, "id");
	id = json_is_string(id_v) ? json_string_value(id_v) : NULL;
	type_v = json_object_get(msg, "@type");
	type = json_is_string(type_v) ? json_string_value(type_v) : NULL;
	if (!json_is_object(msg) || type == NULL) {
		request_error(wc, id, JMAP_PROBLEM_NOT_REQUEST, NULL,
			      "a JMAP WebSocket message is an object with \"@type\"");
	} else if (id_v != NULL && id == NULL) {
		request_error(wc, NULL, JMAP_PROBLEM_NOT_REQUEST, NULL, "\"id\" must be a string");
	} else if (strcmp(type, "Request") == 0) {
		run_request(wc, id, data, len);
	} else if (strcmp(type, "WebSocketPushEnable") == 0) {
		push_enable(wc, msg, id);
	} else if (strcmp(type, "WebSocketPushDisable") == 0) {
		push_disable(wc);
	} else {
		request_error(wc, id, JMAP_PROBLEM_NOT_REQUEST, NULL, "unknown \"@type\"");
	}
	json_decref(msg);
}

static void on_output_space(void *ctx, struct http_ws *ws)
{
	struct ws_conn *wc = ctx;

	(void)ws;
	if (wc->push_pending)
		push_now(wc);
}

/* Stops everything the socket started (requests, push). */
static void conn_stop(struct ws_conn *wc)
{
	while (wc->requests != NULL)
		request_free(wc->requests);
	push_disable(wc);
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

/* jmap_events - JMAP push over EventSource (RFC 8620 7.3): a text/event-
 * stream of StateChange objects (7.1) for the authenticated account,
 * driven by this node's projector (a change made through any node reaches
 * the stream once this node applied it), with "ping" events and
 * closeafter=state for long polling. The accounts shared with the user
 * are pushed too (jmap_shared_push.h). */
#include "gateway/jmap/jmap_events.h"
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_push.h"
#include "gateway/jmap/jmap_shared_push.h"
#include "gateway/http/http_server.h"
#include "gateway/http/http_util.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/projector.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ping interval a client may ask for is kept in this range (7.3: "the
 * server MAY modify the interval"). */
#define PING_MIN_S 5
#define PING_MAX_S 3600

struct jmap_stream {
	struct jmap_stream *prev, *next;
	struct jmap_events *owner;
	struct http_request *req;
	struct jmap_mail_req *mreq;
	struct projector_sub *sub;
	struct jmap_shared_push *shared;   /* the accounts shared with the user */
	struct event *ping;
	unsigned types;                 /* bit per enum mail_jtype */
	int closeafter_state;
	unsigned ping_s;                /* 0: no pings */
	int64_t last[MAIL_J_TYPES];     /* states last sent (or read at the start) */
};

struct jmap_events {
	struct node *node;
	struct jmap_stream *streams;
	unsigned count;
};

struct jmap_events *jmap_events_new(struct node *node)
{
	struct jmap_events *ev = xcalloc(1, sizeof *ev);

	ev->node = node;
	return ev;
}

static void stream_end(struct jmap_stream *st)
{
	struct jmap_events *ev = st->owner;

	if (st->prev != NULL)
		st->prev->next = st->next;
	else
		ev->streams = st->next;
	if (st->next != NULL)
		st->next->prev = st->prev;
	ev->count--;
	projector_unsubscribe(&st->sub);
	jmap_shared_push_free(&st->shared);
	if (st->ping != NULL)
		event_free(st->ping);
	http_stream_end(st->req);
	jmap_mail_req_unref(&st->mreq);
	free(st);
}

void jmap_events_free(struct jmap_events **evp)
{
	struct jmap_events *ev = *evp;

	if (ev == NULL)
		return;
	while (ev->streams != NULL)
		stream_end(ev->streams);
	free(ev);
	*evp = NULL;
}

unsigned jmap_events_count(const struct jmap_events *ev)
{
	return ev != NULL ? ev->count : 0;
}

static void arm_ping(struct jmap_stream *st)
{
	struct timeval tv = { (time_t)st->ping_s, 0 };

	if (st->ping != NULL)
		event_add(st->ping, &tv);
}

/* Writes one event; 0, or -1 when the client is gone (the stream ended). */
static int send_event(struct jmap_stream *st, const char *name, json_t *data)
{
	struct buf b = BUF_INIT;
	char *text = json_dumps(data, JSON_COMPACT);
	int r;

	buf_printf(&b, "event: %s\ndata: %s\n\n", name, text != NULL ? text : "{}");
	free(text);
	r = http_stream_write(st->req, b.data, b.len);
	buf_free(&b);
	if (r < 0) {
		stream_end(st);
		return -1;
	}
	arm_ping(st);
	return 0;
}

static void on_ping(evutil_socket_t fd, short what, void *ctx)
{
	struct jmap_stream *st = ctx;
	json_t *data = json_pack("{s:I}", "interval", (json_int_t)st->ping_s);

	(void)fd;
	(void)what;
	(void)send_event(st, "ping", data);
	json_decref(data);
}

/* The current states; 0 or -1. */
static int read_states(struct jmap_stream *st, int64_t now[MAIL_J_TYPES])
{
	return jmap_push_states(st->owner->node->view, st->mreq->address, now);
}

/* Sends a StateChange (7.1) for the asked types whose state moved (all of
 * them when force). */
static void push_states(struct jmap_stream *st, int force)
{
	int64_t now[MAIL_J_TYPES];
	json_t *change;

	if (read_states(st, now) < 0)
		return;
	change = jmap_push_state_change(st->mreq->account_id, st->types, now, st->last, force);
	if (st->shared != NULL)
		change = jmap_shared_push_join(st->shared, change, force);
	if (change == NULL)
		return;
	if (send_event(st, "state", change) == 0 && st->closeafter_state)
		stream_end(st);
	json_decref(change);
}

static void on_change(void *ctx, const char *account)
{
	(void)account;
	push_states(ctx, 0);
}

static void on_cancel(void *ctx, struct http_request *req)
{
	(void)req;
	stream_end(ctx);
}

/* types: "*" or a comma list of type names (7.3); unknown names are
 * ignored, as a client may ask for types this server does not have. */
static unsigned parse_types(const char *v)
{
	unsigned mask = 0;
	char buf[256], *save = NULL, *tok;

	if (v == NULL || strcmp(v, "*") == 0)
		return JMAP_PUSH_ALL;
	snprintf(buf, sizeof buf, "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		mask |= jmap_push_type_bit(tok);
	return mask;
}

/* A query parameter into buf (left as it is when absent): 0, or -1 when
 * the query is malformed or the value too long. */
static int param(const char *q, const char *name, char *buf, size_t size)
{
	const char *error;
	char *v = NULL;
	int r = http_query_param(q, name, &v, &error);

	if (r < 0 || (r == 1 && strlen(v) >= size)) {
		free(v);
		return -1;
	}
	if (r == 1)
		snprintf(buf, size, "%s", v);
	free(v);
	return 0;
}

void jmap_events_serve(struct jmap_events *ev, struct http_request *req, struct jmap_mail_req *mreq)
{
	const char *q = http_request_query(req);
	char types[256] = "*", closeafter[16] = "no", ping[16] = "0", *end;
	struct jmap_stream *st;
	struct http_response resp;
	const char *error;
	unsigned long p;

	/* RFC 8620 7.3: types, closeafter ("state" or "no"), ping (seconds). */
	if (param(q, "types", types, sizeof types) < 0 ||
	    param(q, "closeafter", closeafter, sizeof closeafter) < 0 ||
	    param(q, "ping", ping, sizeof ping) < 0 ||
	    (strcmp(closeafter, "state") != 0 && strcmp(closeafter, "no") != 0) ||
	    (p = strtoul(ping, &end, 10), *end != '\0' || ping[0] == '\0' || ping[0] == '-')) {
		http_respond_text(req, 400, "text/plain; charset=utf-8",
				  "types, closeafter=state|no and ping=<seconds> expected\n");
		jmap_mail_req_unref(&mreq);
		return;
	}
	st = xcalloc(1, sizeof *st);
	st->owner = ev;
	st->req = req;
	st->mreq = mreq;
	st->types = parse_types(types);
	st->closeafter_state = strcmp(closeafter, "state") == 0;
	st->ping_s = p == 0 ? 0 : p < PING_MIN_S ? PING_MIN_S : p > PING_MAX_S ? PING_MAX_S : (unsigned)p;
	st->next = ev->streams;
	if (st->next != NULL)
		st->next->prev = st;
	ev->streams = st;
	ev->count++;
	http_response_init(&resp, 200);
	(void)http_response_field(&resp, "Content-Type", "text/event-stream; charset=utf-8", &error);
	(void)http_response_field(&resp, "Cache-Control", "no-cache, no-store", &error);
	if (http_stream_start(req, &resp) < 0) {
		http_response_clear(&resp);
		stream_end(st);
		return;
	}
	http_response_clear(&resp);
	http_request_on_cancel(req, on_cancel, st);
	if (st->ping_s > 0)
		st->ping = event_new(ev->node->base, -1, 0, on_ping, st);
	/* Subscribe before reading the states, so no change falls between. */
	st->sub = projector_subscribe(ev->node->projector, mreq->address, on_change, st);
	st->shared = jmap_shared_push_new(mreq, st->types, 1, on_change, st);
	if (st->closeafter_state) {
		/* Long polling: the first change ends the answer. */
		int64_t now[MAIL_J_TYPES];

		if (read_states(st, now) == 0)
			memcpy(st->last, now, sizeof now);
		arm_ping(st);
		return;
	}
	/* A client that connects gets the states it should compare with. */
	push_states(st, 1);
}

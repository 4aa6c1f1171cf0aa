/* http_ws - the WebSocket session over wslay's event API (see http_ws.h):
 * input from conn_input() into wslay, wslay's frames into conn_output(),
 * backpressure, pings and the close handshake. */
#include "gateway/http/http_ws_private.h"
#include "common/buf.h"
#include "common/log.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <wslay/wslay.h>

#define WS_MAX_MESSAGE_DEFAULT (1024 * 1024)
#define WS_OUT_HIGH_DEFAULT (1024 * 1024)

struct http_ws {
	struct conn *c;                 /* NULL before attach and once closed */
	wslay_event_context_ptr wslay;
	struct http_ws_handler h;
	void *ctx;
	size_t out_high;
	unsigned ping_interval_s, idle_timeout_s;
	char protocol[64];
	int has_protocol;
	struct event *ping_timer, *close_timer;
	int busy;                       /* calls of ours on the stack */
	int in_recv;                    /* inside wslay_event_recv: frames go out after it */
	int gone;                       /* closed() ran: freed once busy is 0 */
	int read_paused;                /* stopped reading for backpressure */
	int close_queued;               /* our Close is queued: no more messages either way */
	int ending;                     /* conn_close_after_flush called */
	int lingering;                  /* failed: discarding input until the client leaves */
	int half_closed;
};

static void ws_free(struct http_ws *ws)
{
	if (ws->ping_timer != NULL)
		event_free(ws->ping_timer);
	if (ws->close_timer != NULL)
		event_free(ws->close_timer);
	wslay_event_context_free(ws->wslay);
	free(ws);
}

static void enter(struct http_ws *ws)
{
	ws->busy++;
}

/* Leaves a call of ours; a session closed meanwhile is freed here. */
static void leave(struct http_ws *ws)
{
	if (--ws->busy == 0 && ws->gone)
		ws_free(ws);
}

static size_t pending(const struct http_ws *ws)
{
	if (ws->c == NULL)
		return 0;
	return conn_pending_output(ws->c) + wslay_event_get_queued_msg_length(ws->wslay);
}

/* wslay wants input: from conn_input, unless the output is congested. */
static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	struct http_ws *ws = user;
	int n;

	(void)flags;
	if (ws->c == NULL || conn_closing(ws->c)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (pending(ws) > ws->out_high) {
		ws->read_paused = 1;
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	n = evbuffer_remove(conn_input(ws->c), buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

/* wslay's frames: all of them into the connection's output buffer (the
 * watermark above is what bounds it). */
static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
	struct http_ws *ws = user;
	struct evbuffer *out = ws->c != NULL ? conn_output(ws->c) : NULL;

	(void)flags;
	if (out == NULL) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	if (evbuffer_add(out, data, len) < 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

/* A whole message (wslay buffered its fragments, RFC 6455 5.4). Pings
 * were answered and Close echoed by wslay already. */
static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	struct http_ws *ws = user;
	static const unsigned char empty[1];

	(void)ctx;
	if (ws->close_queued || ws->c == NULL)
		return;
	if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME)
		ws->h.message(ws->ctx, ws, arg->opcode == WSLAY_BINARY_FRAME,
			      arg->msg != NULL ? arg->msg : empty, arg->msg_length);
}

/* Sends what wslay queued; ends the connection once the close handshake
 * is over (RFC 6455 7.1.1: the server closes TCP first). After a failure
 * (7.1.7: our Close sent, no more reading) the input is discarded until
 * the client leaves, and a plain socket is half-closed once the Close is
 * out, so the client reads it rather than a reset. */
static void flush(struct http_ws *ws)
{
	struct timeval tv = { HTTP_WS_CLOSE_WAIT_S, 0 };

	if (ws->c == NULL || ws->ending)
		return;
	if (wslay_event_send(ws->wslay) != 0) {
		ws->ending = 1;
		conn_close_after_flush(ws->c, "websocket write failed");
		return;
	}
	if (!wslay_event_get_close_sent(ws->wslay))
		return;
	if (wslay_event_get_close_received(ws->wslay) ||
	    (!wslay_event_want_read(ws->wslay) && conn_is_tls(ws->c))) {
		ws->ending = 1;
		conn_close_after_flush(ws->c, "websocket closed");
	} else if (!wslay_event_want_read(ws->wslay)) {
		ws->lingering = 1;
		if (!evtimer_pending(ws->close_timer, NULL))
			evtimer_add(ws->close_timer, &tv);
	} else if (!evtimer_pending(ws->close_timer, NULL)) {
		evtimer_add(ws->close_timer, &tv);   /* waiting for the client's Close */
	}
}

static void t_input(void *ctx, struct conn *c)
{
	struct http_ws *ws = ctx;
	int r;

	enter(ws);
	if (ws->lingering) {
		evbuffer_drain(conn_input(c), evbuffer_get_length(conn_input(c)));
		leave(ws);
		return;
	}
	ws->in_recv = 1;
	r = wslay_event_recv(ws->wslay);
	ws->in_recv = 0;
	if (r != 0 && ws->c != NULL) {
		log_warn("http: websocket %s: input failed (%d): closing", conn_id(ws->c), r);
		ws->close_queued = 1;
	}
	flush(ws);
	if (r != 0 && ws->c != NULL && !ws->ending && !ws->lingering) {
		ws->ending = 1;
		conn_close_after_flush(ws->c, "websocket error");
	}
	leave(ws);
}

static void t_output_space(void *ctx, struct conn *c)
{
	struct http_ws *ws = ctx;

	enter(ws);
	flush(ws);
	if (ws->lingering && !ws->half_closed && ws->c != NULL && conn_pending_output(c) == 0) {
		ws->half_closed = 1;
		(void)shutdown(conn_socket(c), SHUT_WR);
	}
	if (ws->c != NULL && pending(ws) <= ws->out_high / 2) {
		if (ws->read_paused) {
			ws->read_paused = 0;
			conn_resume_input(c);
		}
		if (ws->h.output_space != NULL && !ws->close_queued)
			ws->h.output_space(ws->ctx, ws);
	}
	leave(ws);
}

static void t_closed(void *ctx, struct conn *c, const char *why)
{
	struct http_ws *ws = ctx;
	unsigned code = HTTP_WS_ABNORMAL;

	(void)c;
	enter(ws);
	ws->c = NULL;
	evtimer_del(ws->ping_timer);
	evtimer_del(ws->close_timer);
	if (wslay_event_get_close_received(ws->wslay))
		code = wslay_event_get_status_code_received(ws->wslay);
	else if (wslay_event_get_close_sent(ws->wslay))
		code = wslay_event_get_status_code_sent(ws->wslay);
	ws->gone = 1;
	ws->h.closed(ws->ctx, ws, code, why);
	leave(ws);
}

/* The server drains: Going Away (RFC 6455 7.4.1). */
static void t_drain(void *ctx, struct conn *c, int on)
{
	(void)c;
	if (on)
		http_ws_close(ctx, HTTP_WS_GOING_AWAY, "server shutting down");
}

const struct http_takeover http_ws_takeover = {
	.input = t_input, .output_space = t_output_space, .closed = t_closed, .drain = t_drain,
};

static void on_ping(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	(void)http_ws_ping(ctx, "evmail", 6);
}

/* The client did not answer our Close in time. */
static void on_close_wait(evutil_socket_t fd, short what, void *ctx)
{
	struct http_ws *ws = ctx;

	(void)fd;
	(void)what;
	if (ws->c != NULL)
		conn_close(ws->c, "websocket close timeout");
}

struct http_ws *http_ws_alloc(const struct http_ws_settings *set, const struct http_ws_handler *h,
			      void *ctx, const char *protocol)
{
	struct http_ws *ws = xcalloc(1, sizeof *ws);
	struct wslay_event_callbacks cb = { .recv_callback = recv_cb, .send_callback = send_cb,
					    .on_msg_recv_callback = msg_cb };

	if (wslay_event_context_server_init(&ws->wslay, &cb, ws) != 0)
		log_panic("http: out of memory for a websocket");
	wslay_event_config_set_max_recv_msg_length(ws->wslay,
		set->max_message > 0 ? set->max_message : WS_MAX_MESSAGE_DEFAULT);
	ws->h = *h;
	ws->ctx = ctx;
	ws->out_high = set->out_high > 0 ? set->out_high : WS_OUT_HIGH_DEFAULT;
	ws->ping_interval_s = set->ping_interval_s;
	ws->idle_timeout_s = set->idle_timeout_s;
	if (protocol != NULL) {
		snprintf(ws->protocol, sizeof ws->protocol, "%s", protocol);
		ws->has_protocol = 1;
	}
	return ws;
}

void http_ws_attach(struct http_ws *ws, struct conn *c)
{
	struct timeval tv = { (time_t)ws->ping_interval_s, 0 };

	ws->c = c;
	ws->ping_timer = event_new(conn_base(c), -1, EV_PERSIST, on_ping, ws);
	ws->close_timer = evtimer_new(conn_base(c), on_close_wait, ws);
	if (ws->ping_interval_s > 0)
		evtimer_add(ws->ping_timer, &tv);
	if (ws->idle_timeout_s > 0)
		conn_set_read_timeout(c, ws->idle_timeout_s);
}

void http_ws_discard(struct http_ws **ws)
{
	if (*ws == NULL)
		return;
	ws_free(*ws);
	*ws = NULL;
}

struct http_ws *http_ws_new(struct conn *c, const struct http_ws_settings *set,
			    const struct http_ws_handler *h, void *ctx)
{
	struct http_ws *ws = http_ws_alloc(set, h, ctx, NULL);

	http_ws_attach(ws, c);
	return ws;
}

struct conn *http_ws_conn(const struct http_ws *ws)
{
	return ws->c;
}

const char *http_ws_protocol(const struct http_ws *ws)
{
	return ws->has_protocol ? ws->protocol : NULL;
}

/* Queues one message and sends it unless wslay is reading (then it goes
 * out right after). */
static int queue(struct http_ws *ws, uint8_t opcode, const void *data, size_t len)
{
	struct wslay_event_msg m = { .opcode = opcode, .msg = data, .msg_length = len };

	if (ws->c == NULL || ws->close_queued || conn_closing(ws->c))
		return -1;
	if (wslay_event_queue_msg(ws->wslay, &m) != 0)
		return -1;
	if (!ws->in_recv) {
		enter(ws);
		flush(ws);
		leave(ws);
	}
	return 0;
}

int http_ws_send_text(struct http_ws *ws, const void *data, size_t len)
{
	return queue(ws, WSLAY_TEXT_FRAME, data, len);
}

int http_ws_send_binary(struct http_ws *ws, const void *data, size_t len)
{
	return queue(ws, WSLAY_BINARY_FRAME, data, len);
}

int http_ws_ping(struct http_ws *ws, const void *data, size_t len)
{
	return len <= 125 ? queue(ws, WSLAY_PING, data, len) : -1;
}

void http_ws_close(struct http_ws *ws, unsigned code, const char *reason)
{
	size_t len = reason != NULL ? strlen(reason) : 0;

	if (ws->c == NULL || ws->close_queued || conn_closing(ws->c))
		return;
	if (len > 123)
		len = 123;
	if (wslay_event_queue_close(ws->wslay, (uint16_t)code, (const uint8_t *)reason, len) != 0)
		return;
	ws->close_queued = 1;
	evtimer_del(ws->ping_timer);
	if (!ws->in_recv) {
		enter(ws);
		flush(ws);
		leave(ws);
	}
}

size_t http_ws_pending(const struct http_ws *ws)
{
	return pending(ws);
}

int http_ws_congested(const struct http_ws *ws)
{
	return pending(ws) > ws->out_high;
}

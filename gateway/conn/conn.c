/* conn - one connection: its creation, the bufferevent's callbacks, input
 * and output, timeouts and backpressure (see conn.h). Closing is in
 * conn_close.c, STARTTLS and filter layers in conn_layer.c. */
#include "gateway/conn/conn_private.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"

#include <event2/bufferevent_ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_read(struct bufferevent *bev, void *ctx);
static void on_write(struct bufferevent *bev, void *ctx);
static void on_event(struct bufferevent *bev, short what, void *ctx);
static void on_wake(evutil_socket_t fd, short what, void *ctx);
static void on_deadline(evutil_socket_t fd, short what, void *ctx);

/* Keeps c's memory alive across a callback. */
void conn_ref(struct conn *c)
{
	c->refs++;
}

/* The last reference frees the conn (closed by then). */
void conn_unref(struct conn *c)
{
	if (--c->refs > 0)
		return;
	if (c->bev != NULL)
		log_panic("conn[%s]: freed while open", c->id);
	event_free(c->wake);
	event_free(c->deadline);
	free(c);
}

/* Fills the protocol's defaults. */
static void proto_defaults(struct conn_protocol *p)
{
	if (p->in_high == 0)
		p->in_high = CONN_IN_HIGH_DEFAULT;
	if (p->out_high == 0)
		p->out_high = CONN_OUT_HIGH_DEFAULT;
	if (p->preauth_timeout_s == 0)
		p->preauth_timeout_s = 60;
	if (p->idle_timeout_s == 0)
		p->idle_timeout_s = p->preauth_timeout_s;
	if (p->write_timeout_s == 0)
		p->write_timeout_s = 120;
	if (p->name == NULL)
		p->name = "conn";
}

struct conn *conn_new(struct event_base *base, struct bufferevent *bev, const char *peer_ip, int tls,
		      struct net_tls *tls_ctx, const struct conn_protocol *proto, void *proto_ctx)
{
	struct conn *c = xcalloc(1, sizeof *c);
	char rid[EVM_ID_HEX_LEN + 1];

	if (proto->closed == NULL || proto->open == NULL || proto->input == NULL)
		log_panic("conn: protocol %s lacks open, input or closed", proto->name);
	c->refs = 1;
	c->base = base;
	c->bev = bev;
	c->proto = *proto;
	proto_defaults(&c->proto);
	c->proto_ctx = proto_ctx;
	c->tls_ctx = tls_ctx;
	c->tls = tls;
	snprintf(c->peer_ip, sizeof c->peer_ip, "%s", peer_ip);
	evm_random_id(rid);
	memcpy(c->id, rid, sizeof c->id - 1);
	c->wake = event_new(base, -1, 0, on_wake, c);
	c->deadline = evtimer_new(base, on_deadline, c);
	for (struct bufferevent *b = bev; b != NULL; b = bufferevent_get_underlying(b))
		conn_watch_layer(c, b);
	conn_setup_top(c);
	return c;
}

int conn_open(struct conn *c)
{
	void *session;

	conn_ref(c);
	session = c->proto.open(c->proto_ctx, c);
	if (session == NULL) {
		/* refused: nothing of the protocol to tell */
		c->proto.closed = NULL;
		conn_close(c, "refused");
		conn_unref(c);
		return -1;
	}
	c->session = session;
	conn_unref(c);
	return 0;
}

struct conn *conn_attach(struct event_base *base, struct bufferevent *bev, const char *peer_ip,
			 int tls, struct net_tls *tls_ctx, const struct conn_protocol *proto,
			 void *proto_ctx)
{
	struct conn *c = conn_new(base, bev, peer_ip, tls, tls_ctx, proto, proto_ctx);

	return conn_open(c) < 0 ? NULL : c;
}

void conn_apply_timeouts(struct conn *c)
{
	struct timeval rd = { (time_t)c->proto.preauth_timeout_s, 0 };
	struct timeval wr = { (time_t)c->proto.write_timeout_s, 0 };

	if (c->bev == NULL)
		return;
	if (c->read_timeout_s > 0)
		rd.tv_sec = (time_t)c->read_timeout_s;
	else if (c->authenticated)
		rd.tv_sec = (time_t)c->proto.idle_timeout_s;
	bufferevent_set_timeouts(c->bev, &rd, &wr);
}

void conn_setup_top(struct conn *c)
{
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, c->proto.in_high);
	bufferevent_setwatermark(c->bev, EV_WRITE, c->proto.out_high / 2, 0);
	conn_apply_timeouts(c);
	if (c->closing || c->held || c->paused || c->peer_eof)
		bufferevent_enable(c->bev, EV_WRITE);
	else
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

void conn_wake(struct conn *c)
{
	if (c->bev != NULL)
		event_active(c->wake, EV_TIMEOUT, 0);
}

size_t conn_pending_output(struct conn *c)
{
	size_t n = 0;

	for (struct bufferevent *b = c->bev; b != NULL; b = bufferevent_get_underlying(b))
		n += evbuffer_get_length(bufferevent_get_output(b));
	return n;
}

/* Stops reading while the output is over out_high; 1 when paused. */
static int check_output(struct conn *c)
{
	if (c->paused)
		return 1;
	if (conn_pending_output(c) <= c->proto.out_high)
		return 0;
	c->paused = 1;
	bufferevent_disable(c->bev, EV_READ);
	return 1;
}

int conn_input_blocked(struct conn *c)
{
	return c->bev == NULL || c->closing || c->held || check_output(c);
}

/* After a half-close: closes after flush once no answer is in flight and
 * input() has taken every complete request (what is left is a partial
 * one that can never be completed). */
static void eof_check(struct conn *c)
{
	if (!c->peer_eof || c->bev == NULL || c->closing || c->held || c->paused ||
	    c->proto.busy(c->session))
		return;
	conn_close_after_flush(c, "closed by client");
}

/* input() when it may run now. */
static void run_input(struct conn *c)
{
	if (conn_input_blocked(c))
		return;
	c->want_input = 0;
	c->proto.input(c->session, c);
	if (c->bev != NULL && !c->closing)
		(void)check_output(c);
	eof_check(c);
}

/* The client's EOF. A protocol that can tell when it is busy gets the
 * half-close treatment (conn_protocol.busy): the requests already
 * buffered and the answers in flight still go out, within
 * CONN_EOF_MAX_MS; otherwise the connection closes at once. */
static void on_peer_eof(struct conn *c)
{
	struct timeval tv = { CONN_EOF_MAX_MS / 1000, (CONN_EOF_MAX_MS % 1000) * 1000 };

	if (c->proto.busy == NULL) {
		conn_close(c, "lost connection");
		return;
	}
	c->peer_eof = 1;
	bufferevent_disable(c->bev, EV_READ);
	snprintf(c->close_why, sizeof c->close_why, "closed by client, answers still due");
	evtimer_add(c->deadline, &tv);
	c->want_input = 1;
	run_input(c);
}

static void on_read(struct bufferevent *bev, void *ctx)
{
	struct conn *c = ctx;

	conn_ref(c);
	run_input(c);
	conn_unref(c);
}

/* The socket took output: the protocol may write more (output_space);
 * backpressure and the flush are watched on every layer (conn_layer.c). */
static void on_write(struct bufferevent *bev, void *ctx)
{
	struct conn *c = ctx;

	conn_ref(c);
	if (!c->closing && c->proto.output_space != NULL)
		c->proto.output_space(c->session, c);
	conn_unref(c);
}

static void on_event(struct bufferevent *bev, short what, void *ctx)
{
	struct conn *c = ctx;

	conn_ref(c);
	if (what & BEV_EVENT_CONNECTED) {
		/* implicit TLS or STARTTLS handshake done */
	} else if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !c->closing) {
		if (c->proto.timeout != NULL)
			c->proto.timeout(c->session, c);
		conn_close_after_flush(c, "timeout");
	} else if (what & BEV_EVENT_TIMEOUT) {
		conn_close(c, "write timeout");
	} else if (what & BEV_EVENT_EOF) {
		on_peer_eof(c);
	} else if (what & BEV_EVENT_ERROR) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		char msg[64] = "network error";

		if (e != 0)
			snprintf(msg, sizeof msg, "TLS error %lu", e);
		conn_close(c, msg);
	}
	conn_unref(c);
}

/* The deferred work: the flush of a closing conn, or input after a
 * resume or once the output drained. */
static void on_wake(evutil_socket_t fd, short what, void *ctx)
{
	struct conn *c = ctx;

	conn_ref(c);
	if (c->bev == NULL) {
		/* closed meanwhile */
	} else if (c->closing) {
		conn_flush_step(c);
	} else {
		if (c->paused && conn_pending_output(c) <= c->proto.out_high / 2) {
			c->paused = 0;
			c->want_input = 1;
			if (!c->held && !c->peer_eof)
				bufferevent_enable(c->bev, EV_READ);
		}
		if (c->want_input)
			run_input(c);
	}
	conn_unref(c);
}

/* The close-after-flush took too long: close now. */
static void on_deadline(evutil_socket_t fd, short what, void *ctx)
{
	struct conn *c = ctx;

	conn_ref(c);
	conn_close(c, c->close_why);
	conn_unref(c);
}

void conn_arm_deadline(struct conn *c)
{
	struct timeval tv = { CONN_FLUSH_MAX_MS / 1000, (CONN_FLUSH_MAX_MS % 1000) * 1000 };

	evtimer_add(c->deadline, &tv);
}

void conn_resume_input(struct conn *c)
{
	if (c->bev == NULL || c->closing)
		return;
	c->want_input = 1;
	conn_wake(c);
}

void conn_hold_input(struct conn *c, int on)
{
	if (c->bev == NULL || c->closing || c->held == on)
		return;
	c->held = on;
	if (on) {
		bufferevent_disable(c->bev, EV_READ);
	} else if (c->peer_eof) {
		c->want_input = 1;      /* the rest of the buffered input, then eof_check */
		conn_wake(c);
	} else if (!c->paused) {
		bufferevent_enable(c->bev, EV_READ);
		if (c->want_input)
			conn_wake(c);
	}
}

struct evbuffer *conn_input(struct conn *c)
{
	return c->bev != NULL ? bufferevent_get_input(c->bev) : NULL;
}

struct evbuffer *conn_output(struct conn *c)
{
	return c->bev != NULL && !c->closing ? bufferevent_get_output(c->bev) : NULL;
}

void conn_write(struct conn *c, const void *data, size_t len)
{
	struct evbuffer *out = conn_output(c);

	if (out != NULL)
		evbuffer_add(out, data, len);
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	struct evbuffer *out = conn_output(c);
	va_list ap;

	if (out == NULL)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
}

void conn_set_authenticated(struct conn *c)
{
	c->authenticated = 1;
	conn_apply_timeouts(c);
}

void conn_set_read_timeout(struct conn *c, unsigned seconds)
{
	c->read_timeout_s = seconds;
	conn_apply_timeouts(c);
}

int conn_quickack(struct conn *c)
{
	return c->bev != NULL ? net_quickack(c->bev) : 0;
}

const char *conn_id(const struct conn *c)
{
	return c->id;
}

const char *conn_peer_ip(const struct conn *c)
{
	return c->peer_ip;
}

int conn_is_tls(const struct conn *c)
{
	return c->tls;
}

int conn_draining(const struct conn *c)
{
	return c->server != NULL && c->server->draining;
}

struct event_base *conn_base(const struct conn *c)
{
	return c->base;
}

void *conn_session(const struct conn *c)
{
	return c->session;
}

evutil_socket_t conn_socket(const struct conn *c)
{
	for (struct bufferevent *b = c->bev; b != NULL; b = bufferevent_get_underlying(b)) {
		evutil_socket_t fd = bufferevent_getfd(b);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

/* pop3_session - the input loop, output, closing and draining of one POP3
 * session (see pop3_session.h), a protocol of the connection layer
 * (gateway/conn/conn.h: the bufferevent, TLS, timeouts, backpressure and
 * the flush before a close are the layer's). Commands are in pop3_cmd.c,
 * pop3_auth.c and pop3_maildrop.c. */
#include "gateway/pop3/pop3_session_private.h"
#include "common/buf.h"
#include "common/log.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void run(struct pop3_session *s);

void pop3_session_ref(struct pop3_session *s)
{
	s->refs++;
}

void pop3_session_unref(struct pop3_session *s)
{
	if (--s->refs > 0)
		return;
	pop3_maildrop_free(s);
	pop3_parser_free(&s->parser);
	free(s);
}

/* RFC 1939 3: the autologout timer is at least 10 minutes once logged in. */
void pop3_set_timeouts(struct pop3_session *s)
{
	if (s->conn != NULL)
		conn_set_read_timeout(s->conn, s->state == POP3_S_AUTH ? s->set.preauth_timeout_s
								       : s->set.idle_timeout_s);
}

void pop3_session_close(struct pop3_session *s)
{
	if (s->conn != NULL)
		conn_close(s->conn, "server shutdown");
}

void pop3_close_after_flush(struct pop3_session *s, const char *why)
{
	if (s->conn == NULL || s->closing)
		return;
	log_debug("pop3[%s]: closing: %s", s->id, why);
	s->closing = 1;
	conn_close_after_flush(s->conn, why);
}

struct evbuffer *pop3_output(struct pop3_session *s)
{
	return s->conn != NULL && !s->closing ? conn_output(s->conn) : NULL;
}

void pop3_write(struct pop3_session *s, const void *data, size_t len)
{
	struct evbuffer *out = pop3_output(s);

	if (out != NULL)
		evbuffer_add(out, data, len);
}

static void status_line(struct pop3_session *s, const char *status, const char *fmt, va_list ap)
{
	struct evbuffer *out = pop3_output(s);

	if (out == NULL)
		return;
	evbuffer_add_printf(out, "%s ", status);
	evbuffer_add_vprintf(out, fmt, ap);
	evbuffer_add(out, "\r\n", 2);
}

void pop3_ok(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	status_line(s, "+OK", fmt, ap);
	va_end(ap);
}

void pop3_err(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	status_line(s, "-ERR", fmt, ap);
	va_end(ap);
	if (++s->bad >= POP3_MAX_BAD)
		pop3_close_after_flush(s, "too many errors");
}

void pop3_resume(struct pop3_session *s)
{
	s->busy = 0;
	if (s->conn != NULL)
		conn_resume_input(s->conn);
}

/* RFC 2595 4: after "+OK Begin TLS" the plain-text input that followed is
 * discarded (the layer does it: command injection), the parser starts
 * over. */
void pop3_starttls(struct pop3_session *s)
{
	if (s->conn == NULL || conn_starttls(s->conn) < 0)
		return;
	s->tls = 1;
	s->user[0] = '\0';
	pop3_parser_reset(s->parser);
	log_info("pop3[%s]: stls", s->id);
}

/* A draining node ends a session with no command in progress; nothing is
 * deleted (no QUIT). RFC 2449 8.1.2 SYS/TEMP: try again later. */
static int drain_now(struct pop3_session *s)
{
	if (!s->draining || s->conn == NULL || s->closing || s->busy)
		return 0;
	pop3_write(s, "-ERR [SYS/TEMP] Node draining, try another server\r\n", 51);
	pop3_close_after_flush(s, "node draining");
	return 1;
}

/* Processes buffered input line by line until it runs out or the session
 * must wait (an asynchronous step, output backpressure, closing). */
static void run_locked(struct pop3_session *s)
{
	while (s->conn != NULL && !s->closing) {
		struct evbuffer *in = conn_input(s->conn);
		struct evbuffer_iovec v;
		const struct pop3_command *cmd = NULL;
		const char *error = NULL;
		size_t used = 0;
		enum pop3_parse_status st;

		if (s->busy || drain_now(s) || conn_input_blocked(s->conn))
			return;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			return;
		st = pop3_parser_feed(s->parser, v.iov_base, v.iov_len, &used, &cmd, &error);
		evbuffer_drain(in, used);
		switch (st) {
		case POP3_PARSE_MORE:
			break;
		case POP3_PARSE_LINE:
			pop3_sasl_line(s, cmd->rest);
			break;
		case POP3_PARSE_COMMAND:
			pop3_dispatch(s, cmd);
			break;
		case POP3_PARSE_ERROR:
			if (s->sasl != POP3_SASL_NONE) {
				s->sasl = POP3_SASL_NONE;
				pop3_err(s, "[AUTH] Authentication failed: %s", error);
			} else {
				pop3_err(s, "%s", error);
			}
			break;
		}
	}
}

static void run(struct pop3_session *s)
{
	pop3_session_ref(s);
	run_locked(s);
	pop3_session_unref(s);
}

void pop3_session_set_draining(struct pop3_session *s, int on)
{
	s->draining = on;
	if (on)
		run(s);
}

/* ---- the connection layer's callbacks ---- */

static void on_input(void *session, struct conn *c)
{
	run(session);
}

static void on_timeout(void *session, struct conn *c)
{
	struct pop3_session *s = session;

	pop3_write(s, "-ERR Autologout; idle for too long\r\n", 36);
	pop3_close_after_flush(s, "timeout");
}

/* The connection is gone: tell the owner, drop the connection's reference. */
static void on_closed(void *session, struct conn *c, const char *why)
{
	struct pop3_session *s = session;

	log_info("pop3[%s]: disconnect from [%s]: %s (user=%s)", s->id, s->peer_ip, why,
		 s->account[0] ? s->account : "-");
	s->conn = NULL;
	s->closing = 1;
	if (s->closed != NULL)
		s->closed(s->closed_ctx, s, s->peer_ip);
	pop3_session_unref(s);
}

static void on_drain(void *session, struct conn *c, int on)
{
	pop3_session_set_draining(session, on);
}

/* A command's answer is still to come (a password check, the maildrop
 * load or the UPDATE state's expunge). */
static int on_busy(void *session)
{
	return ((struct pop3_session *)session)->busy;
}

void pop3_conn_protocol(const struct pop3_session_settings *set, struct conn_protocol *p)
{
	*p = (struct conn_protocol){
		.name = "pop3",
		.reject_line = "-ERR [SYS/TEMP] Too many connections, try again later\r\n",
		.in_high = POP3_IN_HIGH,
		.out_high = POP3_OUT_HIGH,
		.preauth_timeout_s = set->preauth_timeout_s,
		.idle_timeout_s = set->idle_timeout_s,
		.write_timeout_s = POP3_WRITE_TIMEOUT_S,
		.input = on_input,
		.timeout = on_timeout,
		.closed = on_closed,
		.drain = on_drain,
		.busy = on_busy,
	};
}

struct pop3_session *pop3_session_new(struct node *node, struct conn *c,
				      const struct pop3_session_settings *set,
				      pop3_session_closed_cb *closed, void *closed_ctx)
{
	struct pop3_session *s = xcalloc(1, sizeof *s);

	s->refs = 1;    /* the connection's: dropped in on_closed */
	s->node = node;
	s->base = conn_base(c);
	s->conn = c;
	s->set = *set;
	if (s->set.preauth_timeout_s == 0)
		s->set.preauth_timeout_s = 60;
	if (s->set.idle_timeout_s == 0)
		s->set.idle_timeout_s = 600;
	s->closed = closed;
	s->closed_ctx = closed_ctx;
	snprintf(s->peer_ip, sizeof s->peer_ip, "%s", conn_peer_ip(c));
	snprintf(s->id, sizeof s->id, "%s", conn_id(c));
	snprintf(s->actor, sizeof s->actor, "pop3:%s", s->id);
	s->tls = conn_is_tls(c);
	s->state = POP3_S_AUTH;
	s->parser = pop3_parser_new();
	pop3_set_timeouts(s);
	log_info("pop3[%s]: connect from [%s]%s", s->id, s->peer_ip, s->tls ? " (TLS)" : "");
	if (set->draining || conn_draining(c)) {
		s->draining = 1;
		drain_now(s);
		return s;
	}
	/* No timestamp in the greeting: APOP is not offered (RFC 1939 7). */
	pop3_ok(s, "evmail POP3 ready");
	return s;
}

struct pop3_attach {
	struct node *node;
	const struct pop3_session_settings *set;
	pop3_session_closed_cb *closed;
	void *closed_ctx;
};

static void *open_attached(void *ctx, struct conn *c)
{
	struct pop3_attach *a = ctx;

	return pop3_session_new(a->node, c, a->set, a->closed, a->closed_ctx);
}

struct pop3_session *pop3_session_start(struct node *node, struct bufferevent *bev,
					const char *peer_ip, int tls,
					const struct pop3_session_settings *set,
					pop3_session_closed_cb *closed, void *closed_ctx)
{
	struct pop3_attach a = { node, set, closed, closed_ctx };
	struct conn_protocol p;
	struct conn *c;

	pop3_conn_protocol(set, &p);
	p.open = open_attached;
	c = conn_attach(bufferevent_get_base(bev), bev, peer_ip, tls, set->tls, &p, &a);
	return c != NULL ? conn_session(c) : NULL;
}

/* smtp_session - I/O and lifecycle of one SMTP/LMTP session (see
 * smtp_session.h); the verbs are in smtp_commands.c, the transaction in
 * smtp_txn.c. */
#include "gateway/smtp/smtp_session_private.h"
#include "common/ids.h"
#include "common/log.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *smtp_session_id(const struct smtp_session *s)
{
	return s->id;
}

void smtp_session_ref(struct smtp_session *s)
{
	s->refs++;
}

void smtp_session_unref(struct smtp_session *s)
{
	if (--s->refs > 0)
		return;
	smtp_txn_reset(s);
	smtp_auth_free(s);
	smtp_parser_free(&s->parser);
	free(s->helo);
	free(s->account);
	free(s);
}

static const char *proto(const struct smtp_session *s)
{
	return s->set.lmtp ? "lmtp" : "smtp";
}

/* Timeouts per state (RFC 5321 4.5.3.2): idle between commands, idle in
 * data; the write timeout is the data one (smtp_conn_protocol). */
static void set_timeouts(struct smtp_session *s)
{
	conn_set_read_timeout(s->conn, s->state == SMTP_S_DATA || s->state == SMTP_S_BDAT
					       ? s->set.data_timeout_s : s->set.command_timeout_s);
}

void smtp_set_state(struct smtp_session *s, enum smtp_state st)
{
	enum smtp_state old = s->state;

	if (old == SMTP_S_CLOSING)
		return;
	s->state = st;
	if (s->conn == NULL || st == SMTP_S_CLOSING)
		return;
	/* a delivery or password check in flight: the input stays unread */
	if (st == SMTP_S_WAIT)
		conn_hold_input(s->conn, 1);
	else if (old == SMTP_S_WAIT)
		conn_hold_input(s->conn, 0);
	set_timeouts(s);
}

void smtp_session_close(struct smtp_session *s)
{
	if (s->conn != NULL)
		conn_close(s->conn, "server shutdown");
}

/* Sends what is queued, then closes. */
void smtp_close_after_flush(struct smtp_session *s, const char *why)
{
	if (s->conn == NULL || s->state == SMTP_S_CLOSING)
		return;
	log_debug("%s[%s]: closing: %s", proto(s), s->id, why);
	smtp_set_state(s, SMTP_S_CLOSING);
	conn_close_after_flush(s->conn, why);
}

void smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	struct evbuffer *out;
	va_list ap;

	if (s->conn == NULL || s->state == SMTP_S_CLOSING || (out = conn_output(s->conn)) == NULL)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

void smtp_reply_error(struct smtp_session *s, const char *line)
{
	smtp_reply(s, "%s", line);
	if (++s->errors >= s->set.max_errors) {
		smtp_reply(s, "421 4.7.0 %s Too many errors, closing connection", s->set.hostname);
		smtp_close_after_flush(s, "too many errors");
	}
}

/* RFC 3207 4.2: after "220 Ready to start TLS" everything the client sent
 * in plain text is discarded (the layer does it: the command injection of
 * CVE-2011-0411), and the session starts over as if just connected (no
 * HELO, no transaction). */
void smtp_starttls(struct smtp_session *s)
{
	if (s->conn == NULL || conn_starttls(s->conn) < 0)
		return;
	s->tls = 1;
	smtp_parser_reset(s->parser);
	smtp_txn_reset(s);
	free(s->helo);
	s->helo = NULL;
	smtp_auth_free(s);
	free(s->account);
	s->account = NULL;
	s->esmtp = 0;
	s->state = SMTP_S_INIT;
	set_timeouts(s);
	log_info("%s[%s]: starttls", proto(s), s->id);
}

/* A draining node closes a session between transactions (no MAIL yet or
 * the last one answered) with 421 (RFC 5321 3.8; RFC 3463 X.3.2 "system
 * not accepting network messages"). 1 when it did. */
static int drain_now(struct smtp_session *s)
{
	if (!s->draining || s->conn == NULL || (s->state != SMTP_S_INIT && s->state != SMTP_S_READY))
		return 0;
	smtp_reply(s, "421 4.3.2 %s Service not available, node draining, try another server",
		   s->set.hostname);
	smtp_close_after_flush(s, "node draining");
	return 1;
}

void smtp_session_set_draining(struct smtp_session *s, int on)
{
	s->draining = on;
	if (on)
		smtp_run(s);
}

/* The input ran out in the middle of a command line, a DATA body or a BDAT
 * chunk and nothing is queued for the client: acknowledge now, not after
 * the kernel's delayed-ACK timer, or a client under Nagle's algorithm holds
 * back its last small write (the ".\r\n" after the body, a chunk after
 * its BDAT line) for ~40 ms (issue 9). */
static void ack_partial(struct smtp_session *s)
{
	if (conn_pending_output(s->conn) == 0)
		(void)conn_quickack(s->conn);
}

/* Processes buffered input in order until it runs out or the session must
 * wait (delivery, output backpressure, closing). */
static void run_locked(struct smtp_session *s)
{
	int partial = 0;    /* this call consumed part of a command, body or chunk */

	while (s->conn != NULL) {
		struct evbuffer *in = conn_input(s->conn);
		struct evbuffer_iovec v;
		const struct smtp_command *cmd;
		const char *reply;
		size_t used;

		if (s->state == SMTP_S_WAIT || s->state == SMTP_S_CLOSING || drain_now(s))
			return;
		if (conn_input_blocked(s->conn))
			return;     /* output backpressure: the layer resumes us */
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0) {
			if (partial)
				ack_partial(s);
			return;
		}
		partial = 1;
		switch (s->state) {
		case SMTP_S_DATA:
			if (smtp_data_feed(&s->txn.data, v.iov_base, v.iov_len, &used)) {
				evbuffer_drain(in, used);
				partial = 0;
				smtp_txn_data_end(s);
			} else {
				evbuffer_drain(in, used);
			}
			break;
		case SMTP_S_AUTH: {
			const char *line;
			size_t llen;

			switch (smtp_parser_feed_line(s->parser, v.iov_base, v.iov_len, &used, &line, &llen,
						      &reply)) {
			case SMTP_PARSE_COMMAND:
				evbuffer_drain(in, used);
				partial = 0;
				smtp_auth_line(s, line, llen);
				break;
			case SMTP_PARSE_ERROR:
				evbuffer_drain(in, used);
				partial = 0;
				smtp_auth_free(s);
				smtp_set_state(s, SMTP_S_READY);
				smtp_reply_error(s, reply);
				break;
			default:
				evbuffer_drain(in, used);
				break;
			}
			break;
		}
		case SMTP_S_BDAT:
			used = v.iov_len < s->bdat_remaining ? v.iov_len : (size_t)s->bdat_remaining;
			if (s->bdat_discard == NULL) {
				smtp_data_feed(&s->txn.data, v.iov_base, used, &used);
				s->txn.bdat_octets += used;
			}
			evbuffer_drain(in, used);
			s->bdat_remaining -= used;
			if (s->bdat_remaining == 0) {
				partial = 0;
				smtp_bdat_chunk_done(s);
			}
			break;
		default:
			switch (smtp_parser_feed(s->parser, v.iov_base, v.iov_len, &used, &cmd, &reply)) {
			case SMTP_PARSE_MORE:
				evbuffer_drain(in, used);
				break;
			case SMTP_PARSE_COMMAND:
				evbuffer_drain(in, used);
				smtp_dispatch(s, cmd);
				/* BDAT: its chunk may be behind the client's Nagle */
				partial = s->state == SMTP_S_BDAT;
				break;
			case SMTP_PARSE_ERROR:
				evbuffer_drain(in, used);
				partial = 0;
				smtp_reply_error(s, reply);
				break;
			case SMTP_PARSE_FATAL:
				evbuffer_drain(in, used);
				partial = 0;
				smtp_reply(s, "%s", reply);
				smtp_close_after_flush(s, "non-SMTP command");
				break;
			}
			break;
		}
	}
}

void smtp_run(struct smtp_session *s)
{
	smtp_session_ref(s);
	run_locked(s);
	smtp_session_unref(s);
}

/* ---- the connection layer's callbacks ---- */

static void on_input(void *session, struct conn *c)
{
	smtp_run(session);
}

/* The 354 is out and the body comes next: leave delayed-ACK mode now (the
 * write put the socket back in it), so the kernel acknowledges the body as
 * it arrives and the client's last small write (".\r\n") is not held by
 * its Nagle algorithm. */
static void on_output_space(void *session, struct conn *c)
{
	struct smtp_session *s = session;

	if (s->state == SMTP_S_DATA && conn_pending_output(c) == 0)
		(void)conn_quickack(c);
}

/* RFC 5321 4.5.3.2: the server's timeout; 421 before closing. */
static void on_timeout(void *session, struct conn *c)
{
	struct smtp_session *s = session;

	smtp_reply(s, "421 4.4.2 %s Timeout exceeded, closing connection", s->set.hostname);
	smtp_close_after_flush(s, "timeout");
}

/* The connection is gone: tell the owner, drop the connection's reference. */
static void on_closed(void *session, struct conn *c, const char *why)
{
	struct smtp_session *s = session;

	if (strcmp(why, "lost connection") == 0 && (s->state == SMTP_S_DATA || s->state == SMTP_S_BDAT))
		why = "lost connection in data";
	log_info("%s[%s]: disconnect from [%s]: %s (helo=%s, messages=%u, errors=%u)", proto(s), s->id,
		 s->peer_ip, why, s->helo != NULL ? s->helo : "", s->messages, s->errors);
	s->conn = NULL;
	s->state = SMTP_S_CLOSING;
	if (s->closed != NULL)
		s->closed(s->closed_ctx, s, s->peer_ip);
	smtp_session_unref(s);
}

static void on_drain(void *session, struct conn *c, int on)
{
	smtp_session_set_draining(session, on);
}

/* A delivery or a password check is in flight: its reply is still due. */
static int on_busy(void *session)
{
	return ((struct smtp_session *)session)->state == SMTP_S_WAIT;
}

void smtp_conn_protocol(const struct smtp_session_settings *set, struct conn_protocol *p)
{
	*p = (struct conn_protocol){
		.name = set->lmtp ? "lmtp" : "smtp",
		.in_high = SMTP_IN_HIGH,
		.out_high = SMTP_OUT_HIGH,
		.preauth_timeout_s = set->command_timeout_s,
		.idle_timeout_s = set->command_timeout_s,
		.write_timeout_s = set->data_timeout_s,
		.input = on_input,
		.output_space = on_output_space,
		.timeout = on_timeout,
		.closed = on_closed,
		.drain = on_drain,
		.busy = on_busy,
	};
}

struct smtp_session *smtp_session_new(struct conn *c, const struct smtp_session_settings *set,
				      const struct smtp_backend *backend,
				      smtp_session_closed_cb *closed, void *closed_ctx)
{
	struct smtp_session *s = xcalloc(1, sizeof *s);

	s->refs = 1;    /* the connection's: dropped in on_closed */
	s->base = conn_base(c);
	s->conn = c;
	s->set = *set;
	if (s->set.max_errors == 0)
		s->set.max_errors = 1;
	s->backend = *backend;
	s->closed = closed;
	s->closed_ctx = closed_ctx;
	snprintf(s->peer_ip, sizeof s->peer_ip, "%s", conn_peer_ip(c));
	snprintf(s->id, sizeof s->id, "%s", conn_id(c));
	s->tls = conn_is_tls(c);
	s->state = SMTP_S_INIT;
	s->parser = smtp_parser_new(set->max_line);
	set_timeouts(s);
	log_info("%s[%s]: connect from [%s]%s", proto(s), s->id, s->peer_ip, s->tls ? " (TLS)" : "");
	/* RFC 5321 3.1 / 4.3.2: a server that takes no mail now may answer the
	 * connection with 421 instead of 220; the close waits for the flush,
	 * never runs inside this call. */
	if (set->draining || conn_draining(c)) {
		s->draining = 1;
		drain_now(s);
		return s;
	}
	smtp_reply(s, "220 %s %s evmail ready", set->hostname, set->lmtp ? "LMTP" : "ESMTP");
	return s;
}

struct smtp_attach {
	const struct smtp_session_settings *set;
	const struct smtp_backend *backend;
	smtp_session_closed_cb *closed;
	void *closed_ctx;
};

static void *open_attached(void *ctx, struct conn *c)
{
	struct smtp_attach *a = ctx;

	return smtp_session_new(c, a->set, a->backend, a->closed, a->closed_ctx);
}

struct smtp_session *smtp_session_start(struct event_base *base, struct bufferevent *bev,
					const char *peer_ip, int tls,
					const struct smtp_session_settings *set,
					const struct smtp_backend *backend,
					smtp_session_closed_cb *closed, void *closed_ctx)
{
	struct smtp_attach a = { set, backend, closed, closed_ctx };
	struct conn_protocol p;
	struct conn *c;

	smtp_conn_protocol(set, &p);
	p.open = open_attached;
	c = conn_attach(base, bev, peer_ip, tls, set->tls, &p, &a);
	return c != NULL ? conn_session(c) : NULL;
}

/* smtp_session - I/O and lifecycle of one SMTP/LMTP session (see
 * smtp_session.h); the verbs are in smtp_commands.c, the transaction in
 * smtp_txn.c. */
#include "gateway/smtp/smtp_session_private.h"
#include "common/ids.h"
#include "common/log.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void on_read(struct bufferevent *bev, void *ctx);
static void on_write(struct bufferevent *bev, void *ctx);
static void on_event(struct bufferevent *bev, short what, void *ctx);

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

/* Timeouts per state (RFC 5321 4.5.3.2): idle between commands, idle in data. */
static void set_timeouts(struct smtp_session *s)
{
	struct timeval rd = { (time_t)s->set.command_timeout_s, 0 };
	struct timeval wr = { (time_t)s->set.data_timeout_s, 0 };

	if (s->state == SMTP_S_DATA || s->state == SMTP_S_BDAT)
		rd.tv_sec = (time_t)s->set.data_timeout_s;
	bufferevent_set_timeouts(s->bev, &rd, &wr);
}

void smtp_set_state(struct smtp_session *s, enum smtp_state st)
{
	enum smtp_state old = s->state;

	if (old == SMTP_S_CLOSING)
		return;
	s->state = st;
	if (s->bev == NULL || st == SMTP_S_CLOSING)
		return;
	if (st == SMTP_S_WAIT)
		bufferevent_disable(s->bev, EV_READ);
	else if (old == SMTP_S_WAIT && !s->paused)
		bufferevent_enable(s->bev, EV_READ);
	set_timeouts(s);
}

static void setup_bev(struct smtp_session *s)
{
	bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SMTP_IN_HIGH);
	bufferevent_setwatermark(s->bev, EV_WRITE, SMTP_OUT_HIGH / 2, 0);
	set_timeouts(s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* The connection is gone: free it, tell the owner, drop its reference. */
static void finish_close(struct smtp_session *s, const char *why)
{
	if (s->bev == NULL)
		return;
	log_info("%s[%s]: disconnect from [%s]: %s (helo=%s, messages=%u, errors=%u)", proto(s), s->id,
		 s->peer_ip, why, s->helo != NULL ? s->helo : "", s->messages, s->errors);
	bufferevent_free(s->bev);
	s->bev = NULL;
	s->state = SMTP_S_CLOSING;
	if (s->closed != NULL)
		s->closed(s->closed_ctx, s, s->peer_ip);
	smtp_session_unref(s);
}

void smtp_session_close(struct smtp_session *s)
{
	finish_close(s, "server shutdown");
}

/* A TLS filter may still hold bytes in the socket bufferevent under it:
 * give them a moment before closing. */
static void flush_retry(evutil_socket_t fd, short what, void *ctx)
{
	struct smtp_session *s = ctx;
	struct bufferevent *under;

	if (s->bev == NULL) {
		smtp_session_unref(s);
		return;
	}
	under = bufferevent_get_underlying(s->bev);
	if (under != NULL && evbuffer_get_length(bufferevent_get_output(under)) > 0 &&
	    ++s->flush_tries < 50) {
		struct timeval tv = { 0, 20000 };
		event_base_once(s->base, -1, EV_TIMEOUT, flush_retry, s, &tv);
		return;
	}
	finish_close(s, "closed");
	smtp_session_unref(s);
}

static void try_finish_flush(struct smtp_session *s)
{
	SSL *ssl;

	if (s->bev == NULL || evbuffer_get_length(bufferevent_get_output(s->bev)) > 0)
		return;
	/* TLS: send close_notify so the client sees a clean end (RFC 8446 6.1). */
	if (s->tls && !s->tls_shutdown && (ssl = bufferevent_openssl_get_ssl(s->bev)) != NULL) {
		s->tls_shutdown = 1;
		if (SSL_is_init_finished(ssl))
			(void)SSL_shutdown(ssl);
		ERR_clear_error();
	}
	smtp_session_ref(s);
	flush_retry(-1, 0, s);
}

/* Sends what is queued, then closes. */
void smtp_close_after_flush(struct smtp_session *s, const char *why)
{
	if (s->bev == NULL || s->state == SMTP_S_CLOSING)
		return;
	log_debug("%s[%s]: closing: %s", proto(s), s->id, why);
	smtp_set_state(s, SMTP_S_CLOSING);
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	try_finish_flush(s);
}

void smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	struct evbuffer *out;
	va_list ap;

	if (s->bev == NULL || s->state == SMTP_S_CLOSING)
		return;
	out = bufferevent_get_output(s->bev);
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
 * in plain text is discarded (the command injection of CVE-2011-0411), and
 * the session starts over as if just connected (no HELO, no transaction). */
void smtp_starttls(struct smtp_session *s)
{
	struct bufferevent *nbev;

	evbuffer_drain(bufferevent_get_input(s->bev), evbuffer_get_length(bufferevent_get_input(s->bev)));
	bufferevent_setcb(s->bev, NULL, NULL, NULL, NULL);
	bufferevent_set_timeouts(s->bev, NULL, NULL);   /* the TLS filter above it has its own */
	nbev = net_starttls(s->base, s->bev, s->set.tls);
	if (nbev == NULL) {
		bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
		finish_close(s, "STARTTLS setup failed");
		return;
	}
	s->bev = nbev;
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
	setup_bev(s);
	log_info("%s[%s]: starttls", proto(s), s->id);
}

/* A draining node closes a session between transactions (no MAIL yet or
 * the last one answered) with 421 (RFC 5321 3.8; RFC 3463 X.3.2 "system
 * not accepting network messages"). 1 when it did. */
static int drain_now(struct smtp_session *s)
{
	if (!s->draining || s->bev == NULL || (s->state != SMTP_S_INIT && s->state != SMTP_S_READY))
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
	struct bufferevent *b;

	for (b = s->bev; b != NULL; b = bufferevent_get_underlying(b))
		if (evbuffer_get_length(bufferevent_get_output(b)) > 0)
			return;
	(void)net_quickack(s->bev);
}

/* Processes buffered input in order until it runs out or the session must
 * wait (delivery, output backpressure, closing). */
static void run_locked(struct smtp_session *s)
{
	int partial = 0;    /* this call consumed part of a command, body or chunk */

	while (s->bev != NULL) {
		struct evbuffer *in = bufferevent_get_input(s->bev);
		struct evbuffer_iovec v;
		const struct smtp_command *cmd;
		const char *reply;
		size_t used;

		if (s->state == SMTP_S_WAIT || s->state == SMTP_S_CLOSING || drain_now(s))
			return;
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) > SMTP_OUT_HIGH) {
			s->paused = 1;
			bufferevent_disable(s->bev, EV_READ);
			return;
		}
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

static void on_read(struct bufferevent *bev, void *ctx)
{
	smtp_run(ctx);
}

static void on_write(struct bufferevent *bev, void *ctx)
{
	struct smtp_session *s = ctx;

	if (s->state == SMTP_S_CLOSING) {
		try_finish_flush(s);
		return;
	}
	/* The 354 is out and the body comes next: leave delayed-ACK mode now
	 * (the write put the socket back in it), so the kernel acknowledges
	 * the body as it arrives and the client's last small write (".\r\n")
	 * is not held by its Nagle algorithm. */
	if (s->state == SMTP_S_DATA && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		(void)net_quickack(bev);
	if (s->paused && evbuffer_get_length(bufferevent_get_output(bev)) <= SMTP_OUT_HIGH / 2) {
		s->paused = 0;
		if (s->state != SMTP_S_WAIT)
			bufferevent_enable(bev, EV_READ);
		smtp_run(s);
	}
}

static void on_event(struct bufferevent *bev, short what, void *ctx)
{
	struct smtp_session *s = ctx;

	smtp_session_ref(s);
	if (what & BEV_EVENT_CONNECTED) {
		/* implicit TLS or STARTTLS handshake done */
	} else if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && s->state != SMTP_S_CLOSING) {
		smtp_reply(s, "421 4.4.2 %s Timeout exceeded, closing connection", s->set.hostname);
		smtp_close_after_flush(s, "timeout");
	} else if (what & BEV_EVENT_TIMEOUT) {
		finish_close(s, "write timeout");
	} else if (what & BEV_EVENT_EOF) {
		finish_close(s, s->state == SMTP_S_DATA || s->state == SMTP_S_BDAT ?
				   "lost connection in data" : "lost connection");
	} else if (what & BEV_EVENT_ERROR) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		char msg[160] = "network error";

		if (e != 0)
			snprintf(msg, sizeof msg, "TLS error %lu", e);
		finish_close(s, msg);
	}
	smtp_session_unref(s);
}

struct smtp_session *smtp_session_start(struct event_base *base, struct bufferevent *bev,
					const char *peer_ip, int tls,
					const struct smtp_session_settings *set,
					const struct smtp_backend *backend,
					smtp_session_closed_cb *closed, void *closed_ctx)
{
	struct smtp_session *s = xcalloc(1, sizeof *s);
	char rid[EVM_ID_HEX_LEN + 1];

	s->refs = 1;
	s->base = base;
	s->bev = bev;
	s->set = *set;
	if (s->set.max_errors == 0)
		s->set.max_errors = 1;
	s->backend = *backend;
	s->closed = closed;
	s->closed_ctx = closed_ctx;
	snprintf(s->peer_ip, sizeof s->peer_ip, "%s", peer_ip);
	evm_random_id(rid);
	memcpy(s->id, rid, sizeof s->id - 1);
	s->tls = tls;
	s->state = SMTP_S_INIT;
	s->parser = smtp_parser_new(set->max_line);
	setup_bev(s);
	log_info("%s[%s]: connect from [%s]%s", proto(s), s->id, s->peer_ip, tls ? " (TLS)" : "");
	/* RFC 5321 3.1 / 4.3.2: a server that takes no mail now may answer the
	 * connection with 421 instead of 220; the close waits for the flush,
	 * never runs inside this call. */
	if (set->draining) {
		s->draining = 1;
		drain_now(s);
		return s;
	}
	smtp_reply(s, "220 %s %s evmail ready", set->hostname, set->lmtp ? "LMTP" : "ESMTP");
	return s;
}

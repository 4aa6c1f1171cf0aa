/* pop3_session - I/O, the input loop, closing and draining of one POP3
 * session (see pop3_session.h). Commands are in pop3_cmd.c, pop3_auth.c
 * and pop3_maildrop.c. */
#include "gateway/pop3/pop3_session_private.h"
#include "common/buf.h"
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
	if (s->resume != NULL)
		event_free(s->resume);
	free(s);
}

/* RFC 1939 3: the autologout timer is at least 10 minutes once logged in. */
void pop3_set_timeouts(struct pop3_session *s)
{
	struct timeval rd = { (time_t)s->set.preauth_timeout_s, 0 };
	struct timeval wr = { POP3_WRITE_TIMEOUT_S, 0 };

	if (s->state != POP3_S_AUTH)
		rd.tv_sec = (time_t)s->set.idle_timeout_s;
	bufferevent_set_timeouts(s->bev, &rd, &wr);
}

static void setup_bev(struct pop3_session *s)
{
	bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, POP3_IN_HIGH);
	pop3_set_timeouts(s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* The connection is gone: free it, tell the owner, drop its reference. */
static void finish_close(struct pop3_session *s, const char *why)
{
	if (s->bev == NULL)
		return;
	log_info("pop3[%s]: disconnect from [%s]: %s (user=%s)", s->id, s->peer_ip, why,
		 s->account[0] ? s->account : "-");
	bufferevent_free(s->bev);
	s->bev = NULL;
	s->closing = 1;
	if (s->closed != NULL)
		s->closed(s->closed_ctx, s, s->peer_ip);
	pop3_session_unref(s);
}

void pop3_session_close(struct pop3_session *s)
{
	finish_close(s, "server shutdown");
}

/* Octets not yet handed to the socket, over every layer (TLS). */
static size_t pending_output(struct bufferevent *bev)
{
	size_t n = 0;

	for (; bev != NULL; bev = bufferevent_get_underlying(bev))
		n += evbuffer_get_length(bufferevent_get_output(bev));
	return n;
}

/* Waits until every layer wrote its output, sends the TLS close_notify,
 * then closes (at most ~1 s). */
static void flush_retry(evutil_socket_t fd, short what, void *ctx)
{
	struct pop3_session *s = ctx;
	struct timeval tv = { 0, 20000 };
	SSL *ssl;

	if (s->bev == NULL) {
		pop3_session_unref(s);
		return;
	}
	if (pending_output(s->bev) > 0 && ++s->flush_tries < 50) {
		event_base_once(s->base, -1, EV_TIMEOUT, flush_retry, s, &tv);
		return;
	}
	if (s->tls && !s->tls_shutdown && (ssl = bufferevent_openssl_get_ssl(s->bev)) != NULL) {
		s->tls_shutdown = 1;
		if (SSL_is_init_finished(ssl))
			(void)SSL_shutdown(ssl);
		ERR_clear_error();
		event_base_once(s->base, -1, EV_TIMEOUT, flush_retry, s, &tv);
		return;
	}
	finish_close(s, "closed");
	pop3_session_unref(s);
}

static void try_finish_flush(struct pop3_session *s)
{
	if (s->bev == NULL || evbuffer_get_length(bufferevent_get_output(s->bev)) > 0)
		return;
	pop3_session_ref(s);
	flush_retry(-1, 0, s);
}

void pop3_close_after_flush(struct pop3_session *s, const char *why)
{
	if (s->bev == NULL || s->closing)
		return;
	log_debug("pop3[%s]: closing: %s", s->id, why);
	s->closing = 1;
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	try_finish_flush(s);
}

struct evbuffer *pop3_output(struct pop3_session *s)
{
	return s->bev != NULL && !s->closing ? bufferevent_get_output(s->bev) : NULL;
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
	if (s->resume != NULL && s->bev != NULL)
		event_active(s->resume, EV_TIMEOUT, 0);
}

/* RFC 2595 4: after "+OK Begin TLS" the plain-text input that followed is
 * discarded (command injection), the parser starts over. */
void pop3_starttls(struct pop3_session *s)
{
	struct bufferevent *nbev;

	evbuffer_drain(bufferevent_get_input(s->bev), evbuffer_get_length(bufferevent_get_input(s->bev)));
	bufferevent_setcb(s->bev, NULL, NULL, NULL, NULL);
	bufferevent_set_timeouts(s->bev, NULL, NULL);
	nbev = net_starttls(s->base, s->bev, s->set.tls);
	if (nbev == NULL) {
		bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
		finish_close(s, "STLS setup failed");
		return;
	}
	s->bev = nbev;
	s->tls = 1;
	s->user[0] = '\0';
	pop3_parser_reset(s->parser);
	setup_bev(s);
	log_info("pop3[%s]: stls", s->id);
}

/* A draining node ends a session with no command in progress; nothing is
 * deleted (no QUIT). RFC 2449 8.1.2 SYS/TEMP: try again later. */
static int drain_now(struct pop3_session *s)
{
	if (!s->draining || s->bev == NULL || s->closing || s->busy)
		return 0;
	pop3_write(s, "-ERR [SYS/TEMP] Node draining, try another server\r\n", 51);
	pop3_close_after_flush(s, "node draining");
	return 1;
}

/* Processes buffered input line by line until it runs out or the session
 * must wait (an asynchronous step, output backpressure, closing). */
static void run_locked(struct pop3_session *s)
{
	while (s->bev != NULL && !s->closing) {
		struct evbuffer *in = bufferevent_get_input(s->bev);
		struct evbuffer_iovec v;
		const struct pop3_command *cmd = NULL;
		const char *error = NULL;
		size_t used = 0;
		enum pop3_parse_status st;

		if (s->busy || drain_now(s))
			return;
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) > POP3_OUT_HIGH) {
			s->paused = 1;
			bufferevent_disable(s->bev, EV_READ);
			return;
		}
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

static void on_resume(evutil_socket_t fd, short what, void *ctx)
{
	run(ctx);
}

static void on_read(struct bufferevent *bev, void *ctx)
{
	run(ctx);
}

static void on_write(struct bufferevent *bev, void *ctx)
{
	struct pop3_session *s = ctx;

	if (s->closing) {
		try_finish_flush(s);
		return;
	}
	if (s->paused && evbuffer_get_length(bufferevent_get_output(bev)) <= POP3_OUT_HIGH / 2) {
		s->paused = 0;
		bufferevent_enable(bev, EV_READ);
		run(s);
	}
}

static void on_event(struct bufferevent *bev, short what, void *ctx)
{
	struct pop3_session *s = ctx;

	pop3_session_ref(s);
	if (what & BEV_EVENT_CONNECTED) {
		/* TLS handshake done */
	} else if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !s->closing) {
		pop3_write(s, "-ERR Autologout; idle for too long\r\n", 36);
		pop3_close_after_flush(s, "timeout");
	} else if (what & BEV_EVENT_TIMEOUT) {
		finish_close(s, "write timeout");
	} else if (what & BEV_EVENT_EOF) {
		finish_close(s, "lost connection");
	} else if (what & BEV_EVENT_ERROR) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		char msg[160] = "network error";

		if (e != 0)
			snprintf(msg, sizeof msg, "TLS error %lu", e);
		finish_close(s, msg);
	}
	pop3_session_unref(s);
}

struct pop3_session *pop3_session_start(struct node *node, struct bufferevent *bev,
					const char *peer_ip, int tls,
					const struct pop3_session_settings *set,
					pop3_session_closed_cb *closed, void *closed_ctx)
{
	struct pop3_session *s = xcalloc(1, sizeof *s);
	char rid[EVM_ID_HEX_LEN + 1];

	s->refs = 1;
	s->node = node;
	s->base = bufferevent_get_base(bev);
	s->bev = bev;
	s->set = *set;
	if (s->set.preauth_timeout_s == 0)
		s->set.preauth_timeout_s = 60;
	if (s->set.idle_timeout_s == 0)
		s->set.idle_timeout_s = 600;
	s->closed = closed;
	s->closed_ctx = closed_ctx;
	snprintf(s->peer_ip, sizeof s->peer_ip, "%s", peer_ip);
	evm_random_id(rid);
	memcpy(s->id, rid, sizeof s->id - 1);
	snprintf(s->actor, sizeof s->actor, "pop3:%s", s->id);
	s->tls = tls;
	s->state = POP3_S_AUTH;
	s->parser = pop3_parser_new();
	s->resume = event_new(s->base, -1, 0, on_resume, s);
	setup_bev(s);
	log_info("pop3[%s]: connect from [%s]%s", s->id, s->peer_ip, tls ? " (TLS)" : "");
	if (set->draining) {
		s->draining = 1;
		drain_now(s);
		return s;
	}
	/* No timestamp in the greeting: APOP is not offered (RFC 1939 7). */
	pop3_ok(s, "evmail POP3 ready");
	return s;
}

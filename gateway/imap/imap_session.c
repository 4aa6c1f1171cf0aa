/* imap_session - I/O, the input loop, dispatch and command completion of
 * one IMAP session (see imap_session.h). Commands are in imap_cmd_*.c. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_hooks.h"
#include "gateway/imap/imap_notify.h"
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
static void run(struct imap_session *s);

const char *imap_session_id(const struct imap_session *s)
{
	return s->id;
}

void imap_session_ref(struct imap_session *s)
{
	s->refs++;
}

void imap_session_unref(struct imap_session *s)
{
	if (--s->refs > 0)
		return;
	if (s->op != NULL && s->op_free != NULL)
		s->op_free(s->op);
	free(s->held_reply);
	imap_mbox_free(&s->mbox);
	imap_notify_free(s);
	imap_parser_free(&s->parser);
	if (s->resume != NULL)
		event_free(s->resume);
	if (s->idle_timer != NULL)
		event_free(s->idle_timer);
	free(s);
}

/* RFC 9051 5.4: the autologout timer; longer once authenticated. */
static void set_timeouts(struct imap_session *s)
{
	struct timeval rd = { (time_t)s->set.preauth_timeout_s, 0 };
	struct timeval wr = { IMAP_WRITE_TIMEOUT_S, 0 };

	if (s->state != IMAP_S_NOAUTH)
		rd.tv_sec = (time_t)s->set.idle_timeout_s;
	bufferevent_set_timeouts(s->bev, &rd, &wr);
}

static void setup_bev(struct imap_session *s)
{
	bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, IMAP_IN_HIGH);
	bufferevent_setwatermark(s->bev, EV_WRITE, IMAP_OUT_HIGH / 2, 0);
	set_timeouts(s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* The connection is gone: free it, tell the owner, drop its reference. */
static void finish_close(struct imap_session *s, const char *why)
{
	if (s->bev == NULL)
		return;
	log_info("imap[%s]: disconnect from [%s]: %s (user=%s, bad=%u)", s->id, s->peer_ip, why,
		 s->account[0] ? s->account : "-", s->bad);
	bufferevent_free(s->bev);
	s->bev = NULL;
	s->closing = 1;
	projector_unsubscribe(&s->sub);
	if (s->idle_timer != NULL)
		event_del(s->idle_timer);
	if (s->closed != NULL)
		s->closed(s->closed_ctx, s, s->peer_ip);
	imap_session_unref(s);
}

void imap_session_close(struct imap_session *s)
{
	finish_close(s, "server shutdown");
}

/* A TLS filter may still hold bytes in the bufferevent under it. */
/* Octets not yet handed to the socket, over every layer (COMPRESS, TLS). */
static size_t pending_output(struct bufferevent *bev)
{
	size_t n = 0;

	for (; bev != NULL; bev = bufferevent_get_underlying(bev))
		n += evbuffer_get_length(bufferevent_get_output(bev));
	return n;
}

/* The TLS connection, under a COMPRESS layer if any; NULL without TLS. */
static SSL *session_ssl(struct bufferevent *bev)
{
	SSL *ssl = NULL;

	for (; bev != NULL && ssl == NULL; bev = bufferevent_get_underlying(bev))
		ssl = bufferevent_openssl_get_ssl(bev);
	return ssl;
}

/* Waits until every layer has written its output, then sends the TLS
 * close_notify (after the last response, even under COMPRESS) and
 * closes once that is out too (at most ~1 s). */
static void flush_retry(evutil_socket_t fd, short what, void *ctx)
{
	struct imap_session *s = ctx;
	struct timeval tv = { 0, 20000 };
	SSL *ssl;

	if (s->bev == NULL) {
		imap_session_unref(s);
		return;
	}
	if (pending_output(s->bev) > 0 && ++s->flush_tries < 50) {
		event_base_once(s->base, -1, EV_TIMEOUT, flush_retry, s, &tv);
		return;
	}
	if (s->tls && !s->tls_shutdown && (ssl = session_ssl(s->bev)) != NULL) {
		s->tls_shutdown = 1;
		if (SSL_is_init_finished(ssl))
			(void)SSL_shutdown(ssl);
		ERR_clear_error();
		event_base_once(s->base, -1, EV_TIMEOUT, flush_retry, s, &tv);
		return;
	}
	finish_close(s, "closed");
	imap_session_unref(s);
}

static void try_finish_flush(struct imap_session *s)
{
	if (s->bev == NULL || evbuffer_get_length(bufferevent_get_output(s->bev)) > 0)
		return;
	imap_session_ref(s);
	flush_retry(-1, 0, s);
}

void imap_close_after_flush(struct imap_session *s, const char *why)
{
	if (s->bev == NULL || s->closing)
		return;
	log_debug("imap[%s]: closing: %s", s->id, why);
	s->closing = 1;
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	try_finish_flush(s);
}

void imap_write(struct imap_session *s, const void *data, size_t len)
{
	if (s->bev != NULL && !s->closing)
		evbuffer_add(bufferevent_get_output(s->bev), data, len);
}

void imap_printf(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->bev == NULL || s->closing)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(s->bev), fmt, ap);
	va_end(ap);
}

void imap_line(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->bev == NULL || s->closing)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(s->bev), fmt, ap);
	va_end(ap);
	evbuffer_add(bufferevent_get_output(s->bev), "\r\n", 2);
}

/* The command is over: the next one may be read. */
static void cmd_end(struct imap_session *s)
{
	s->in_cmd = 0;
	s->cur = NULL;
	s->line_fn = NULL;
	/* After an asynchronous command nobody is reading: wake the loop
	 * (harmless when the loop is running anyway). */
	if (s->resume != NULL && s->bev != NULL)
		event_active(s->resume, EV_TIMEOUT, 0);
}

static void tagged(struct imap_session *s, const char *status, const char *fmt, va_list ap)
{
	unsigned flags = s->cur != NULL ? s->cur->flags : 0;
	int allow_expunge = !(flags & IMAP_CMD_SEQ) || s->cur_uid;

	imap_hooks_before_reply(s, strcmp(status, "BAD") != 0, allow_expunge);   /* imap_hooks.c */
	if (s->mbox != NULL && strcmp(status, "BAD") != 0) {
		if (s->mbox->claiming && !s->reply_now && s->bev != NULL && !s->closing) {
			/* RFC 3501 2.3.2: new arrivals are announced once this
			 * session's \Recent claim is decided (imap_recent.c);
			 * the reply waits for it, no further input is read. */
			struct buf r = BUF_INIT;

			buf_printf(&r, "%s %s ", s->tag[0] ? s->tag : "*", status);
			buf_vprintf(&r, fmt, ap);
			buf_puts(&r, "\r\n");
			free(s->held_reply);
			s->held_reply = xstrdup(r.data);
			s->held_expunge = allow_expunge;
			s->line_fn = NULL;
			buf_free(&r);
			return;
		}
	}
	s->reply_now = 0;
	imap_printf(s, "%s %s ", s->tag[0] ? s->tag : "*", status);
	if (s->bev != NULL && !s->closing) {
		evbuffer_add_vprintf(bufferevent_get_output(s->bev), fmt, ap);
		evbuffer_add(bufferevent_get_output(s->bev), "\r\n", 2);
	}
	cmd_end(s);
}

void imap_reply_release(struct imap_session *s)
{
	char *reply = s->held_reply;

	if (reply == NULL)
		return;
	s->held_reply = NULL;
	/* What the claim decided comes first; a claim started now for
	 * later arrivals does not hold the reply again. */
	if (s->mbox != NULL)
		imap_mbox_report(s, s->held_expunge);
	imap_write(s, reply, strlen(reply));
	free(reply);
	cmd_end(s);
}

void imap_ok(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tagged(s, "OK", fmt, ap);
	va_end(ap);
}

void imap_no(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tagged(s, "NO", fmt, ap);
	va_end(ap);
}

void imap_bad(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tagged(s, "BAD", fmt, ap);
	va_end(ap);
	if (++s->bad >= IMAP_MAX_BAD) {
		imap_line(s, "* BYE Too many invalid commands");
		imap_close_after_flush(s, "too many bad commands");
	}
}

/* The capabilities advertised in every state, one per line: an extension
 * is listed only once it is complete (issue 4). */
static const char *const imap_capabilities[] = {
	"IMAP4rev1",
	"IMAP4rev2",
	"SASL-IR",
	"COMPRESS=DEFLATE",
	"UTF8=ACCEPT",
	"ID",
	"ENABLE",
	"IDLE",
	"NAMESPACE",
	"UNSELECT",
	"UIDPLUS",
	"ESEARCH",
	"SEARCHRES",
	"SORT",
	"SORT=DISPLAY",
	"ESORT",
	"THREAD=ORDEREDSUBJECT",
	"THREAD=REFERENCES",
	"WITHIN",
	"CONTEXT=SEARCH",
	"CONTEXT=SORT",
	"MOVE",
	"CONDSTORE",
	"QRESYNC",
	"BINARY",
	"CHILDREN",
	"SPECIAL-USE",
	"LIST-EXTENDED",
	"LIST-STATUS",
	"STATUS=SIZE",
	"CREATE-SPECIAL-USE",
	"QUOTA",
	"QUOTA=RES-STORAGE",
	"MULTIAPPEND",
	"CATENATE",
	"PREVIEW",
	"SAVEDATE",
	"OBJECTID",
	"UNAUTHENTICATE",
	"REPLACE",
	"METADATA",
	"METADATA-SERVER",
	"URLAUTH",
	"ACL",
	"RIGHTS=texk",
	"PARTIAL",
	"NOTIFY",
	NULL
};

void imap_capability_string(struct imap_session *s, struct buf *out)
{
	for (size_t i = 0; imap_capabilities[i] != NULL; i++)
		buf_printf(out, "%s%s", i ? " " : "", imap_capabilities[i]);
	/* RFC 7888 4: non-synchronising literals of any size (up to
	 * APPENDLIMIT) once authenticated, at most 4096 octets before; never
	 * both capabilities at once. */
	buf_puts(out, s->state == IMAP_S_NOAUTH ? " LITERAL-" : " LITERAL+");
	if (s->state == IMAP_S_NOAUTH) {
		if (s->set.tls != NULL && !s->tls)
			buf_puts(out, " STARTTLS");
		if (s->tls || s->set.allow_plaintext_auth)
			buf_puts(out, " AUTH=PLAIN AUTH=SCRAM-SHA-256 AUTH=LOGIN");
		else
			buf_puts(out, " LOGINDISABLED");
	}
	buf_printf(out, " APPENDLIMIT=%zu", s->set.max_literal);
}

/* RFC 9051 6.2.1: after "OK Begin TLS" the client's plain-text input is
 * discarded (command injection, CVE-2011-0411 / RFC 7817 et al.), the
 * parser starts over. */
void imap_starttls(struct imap_session *s)
{
	struct bufferevent *nbev;

	evbuffer_drain(bufferevent_get_input(s->bev), evbuffer_get_length(bufferevent_get_input(s->bev)));
	bufferevent_setcb(s->bev, NULL, NULL, NULL, NULL);
	bufferevent_set_timeouts(s->bev, NULL, NULL);
	nbev = net_starttls(s->base, s->bev, s->set.tls);
	if (nbev == NULL) {
		bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
		finish_close(s, "STARTTLS setup failed");
		return;
	}
	s->bev = nbev;
	s->tls = 1;
	imap_parser_reset(s->parser);
	setup_bev(s);
	log_info("imap[%s]: starttls", s->id);
}

static void on_change(void *ctx, const char *account)
{
	struct imap_session *s = ctx;

	s->changed = 1;
	imap_notify_changed(s);   /* RFC 5465 (imap_notify_session.c) */
	if (s->idling && s->mbox != NULL && s->bev != NULL && !s->closing)
		imap_mbox_report(s, 1);
}

void imap_logged_in(struct imap_session *s, const char *account, const char *tenant)
{
	struct imap_parser_limits lim = { .max_line = IMAP_AUTH_LINE, .max_literal = s->set.max_literal,
					  .max_args = 10000, .max_depth = 16 };

	snprintf(s->account, sizeof s->account, "%s", account);
	snprintf(s->tenant, sizeof s->tenant, "%s", tenant);
	s->state = IMAP_S_AUTH;
	imap_parser_set_limits(s->parser, &lim);
	if (s->node != NULL && s->node->projector != NULL)
		s->sub = projector_subscribe(s->node->projector, s->account, on_change, s);
	if (s->bev != NULL)
		set_timeouts(s);
	log_info("imap[%s]: login %s from [%s]", s->id, s->account, s->peer_ip);
}

/* RFC 8437 3: back to the not-authenticated state as if the connection were
 * new, keeping the TLS and COMPRESS layers: no mailbox, no account, no
 * ENABLEd extension, pre-authentication limits and timeouts. */
void imap_logged_out(struct imap_session *s)
{
	struct imap_parser_limits lim = { .max_line = IMAP_PREAUTH_LINE, .max_literal = IMAP_PREAUTH_LITERAL,
					  .max_args = 100, .max_depth = 4, .max_nonsync = IMAP_LITERAL_MINUS };

	log_info("imap[%s]: unauthenticate %s from [%s]", s->id, s->account, s->peer_ip);
	imap_deselect(s);
	imap_notify_free(s);
	projector_unsubscribe(&s->sub);
	s->state = IMAP_S_NOAUTH;
	s->account[0] = '\0';
	s->tenant[0] = '\0';
	s->rev2 = s->utf8 = s->condstore = s->qresync = 0;
	s->changed = 0;
	imap_parser_set_limits(s->parser, &lim);
	if (s->bev != NULL)
		set_timeouts(s);
}

/* ---- input ---- */

const char *imap_cmd_refused(const struct imap_session *s, const char *name, bool uid)
{
	const struct imap_cmd_def *def = imap_cmd_find(name);

	if (def == NULL)
		return "Unknown command";
	if (uid && !(def->flags & IMAP_CMD_UIDOK))
		return "UID form of a command that has none";
	if (s->state == IMAP_S_NOAUTH && !(def->flags & IMAP_CMD_NOAUTH))
		return "Log in first";
	if (s->state != IMAP_S_NOAUTH && !(def->flags & IMAP_CMD_AUTH))
		return "Already authenticated";
	if ((def->flags & IMAP_CMD_SELECTED) && s->mbox == NULL)
		return "No mailbox selected";
	return NULL;
}

static void dispatch(struct imap_session *s, const struct imap_command *cmd)
{
	const struct imap_cmd_def *def = imap_cmd_find(cmd->name);
	const char *why = imap_cmd_refused(s, cmd->name, cmd->uid);

	snprintf(s->tag, sizeof s->tag, "%s", cmd->tag);
	s->in_cmd = 1;
	s->cur = def;
	s->cur_uid = cmd->uid;
	if (why != NULL) {
		imap_bad(s, "%s", why);
		return;
	}
	if ((def->flags & IMAP_CMD_NOARGS) && !cmd->uid && cmd->nargs > 0) {
		imap_bad(s, "%s takes no arguments", def->name);
		return;
	}
	def->fn(s, cmd);
}

/* One line for a line handler: 1 handled, 0 need more. */
static int feed_line(struct imap_session *s, struct evbuffer *in)
{
	size_t len;
	char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);

	if (line == NULL) {
		if (evbuffer_get_length(in) > IMAP_AUTH_LINE) {
			imap_line(s, "* BYE Line too long");
			imap_close_after_flush(s, "line too long");
		}
		return 0;
	}
	s->line_fn(s, line, len);
	explicit_bzero(line, len);
	free(line);
	return 1;
}

/* A synchronising literal of a command that cannot run (unknown, or not
 * in this state): RFC 9051 7.5 lets the server answer BAD instead of the
 * "+", so the client never sends the octets; the parser starts over. 1
 * when refused. */
static int refuse_literal(struct imap_session *s)
{
	const struct imap_command *pc = imap_parser_pending(s->parser);
	const char *why = pc->name[0] == '\0' ? "Missing command" : imap_cmd_refused(s, pc->name, pc->uid);

	if (why == NULL)
		return 0;
	snprintf(s->tag, sizeof s->tag, "%s", pc->tag[0] ? pc->tag : "*");
	imap_parser_reset(s->parser);
	s->cur = NULL;
	s->cur_uid = false;
	s->in_cmd = 1;
	imap_bad(s, "%s", why);
	return 1;
}

static void parse_error(struct imap_session *s, struct imap_command *cmd, const char *error)
{
	snprintf(s->tag, sizeof s->tag, "%s", cmd != NULL && cmd->tag[0] ? cmd->tag : "*");
	s->cur = NULL;
	s->cur_uid = false;
	s->in_cmd = 1;
	if (imap_parser_fatal(s->parser)) {
		/* RFC 7888 4: BAD [TOOBIG]; the literal's octets, already sent,
		 * are not read: the connection cannot go on. */
		imap_bad(s, "%s", error);
		imap_line(s, "* BYE Non-synchronizing literal too big");
		imap_close_after_flush(s, "non-synchronizing literal over the LITERAL- limit");
		return;
	}
	if (imap_parser_literal_too_big(s->parser)) {
		imap_no(s, "[TOOBIG] %s", error ? error : "Literal too big");
		return;
	}
	imap_bad(s, "%s", error ? error : "Syntax error");
}

/* A draining node says goodbye to a session with no command in progress
 * (between commands, or in IDLE: RFC 9051 6.3.13 lets the server end it),
 * never in the middle of a literal; RFC 5530 3 UNAVAILABLE tells the
 * client to try again, elsewhere. 1 when it did. */
static int drain_now(struct imap_session *s)
{
	if (!s->draining || s->bev == NULL || s->closing || (s->in_cmd && !s->idling) ||
	    imap_parser_literal_remaining(s->parser) > 0)
		return 0;
	imap_line(s, "* BYE [UNAVAILABLE] Node draining, try another server");
	imap_close_after_flush(s, "node draining");
	return 1;
}

/* The input ran out in the middle of a command (a literal, or the rest of
 * the line after one) and nothing is queued for the client: acknowledge the
 * octets now instead of after the kernel's delayed-ACK timer, or a client
 * under Nagle's algorithm holds back the rest (imaplib sends a literal and
 * its CRLF in two writes; issue 9). */
static void ack_partial(struct imap_session *s)
{
	if (pending_output(s->bev) == 0)
		(void)net_quickack(s->bev);
}

/* Processes buffered input in order until it runs out or the session must
 * wait (a command in flight, output backpressure, closing). */
static void run_locked(struct imap_session *s)
{
	int partial = 0;    /* this call consumed part of a command */

	while (s->bev != NULL && !s->closing) {
		struct evbuffer *in = bufferevent_get_input(s->bev);
		struct evbuffer_iovec v;
		struct imap_command *cmd = NULL;
		const char *error = NULL;
		size_t used = 0;

		if ((s->in_cmd && s->line_fn == NULL) || drain_now(s))
			return;
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) > IMAP_OUT_HIGH) {
			s->paused = 1;
			bufferevent_disable(s->bev, EV_READ);
			return;
		}
		if (evbuffer_get_length(in) == 0) {
			if (partial)
				ack_partial(s);
			return;
		}
		if (s->line_fn != NULL) {
			if (!feed_line(s, in))
				return;
			continue;
		}
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			return;
		switch (imap_parser_feed(s->parser, v.iov_base, v.iov_len, &used, &cmd, &error)) {
		case IMAP_PARSE_NEED_MORE:
			evbuffer_drain(in, used);
			partial = 1;
			break;
		case IMAP_PARSE_CONTINUE:
			evbuffer_drain(in, used);
			partial = 0;    /* the "+" (or the BAD) carries the ACK */
			if (refuse_literal(s))
				break;
			imap_line(s, "+ Ready for literal data");
			break;
		case IMAP_PARSE_COMMAND:
			evbuffer_drain(in, used);
			partial = 0;
			dispatch(s, cmd);
			break;
		case IMAP_PARSE_ERROR:
			evbuffer_drain(in, used);
			partial = 0;
			parse_error(s, cmd, error);
			break;
		}
	}
}

static void run(struct imap_session *s)
{
	imap_session_ref(s);
	run_locked(s);
	imap_session_unref(s);
}

void imap_session_set_draining(struct imap_session *s, int on)
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
	struct imap_session *s = ctx;

	if (s->closing) {
		try_finish_flush(s);
		return;
	}
	/* The "+" continuation is out and the literal comes next: like
	 * Dovecot, leave delayed-ACK mode now so the kernel acknowledges the
	 * literal as it arrives (the write put the socket back in it). */
	if (imap_parser_literal_remaining(s->parser) > 0 && pending_output(bev) == 0)
		(void)net_quickack(bev);
	if (s->paused && evbuffer_get_length(bufferevent_get_output(bev)) <= IMAP_OUT_HIGH / 2) {
		s->paused = 0;
		bufferevent_enable(bev, EV_READ);
		run(s);
	}
}

static void on_event(struct bufferevent *bev, short what, void *ctx)
{
	struct imap_session *s = ctx;

	imap_session_ref(s);
	if (what & BEV_EVENT_CONNECTED) {
		/* TLS handshake done */
	} else if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !s->closing) {
		imap_line(s, "* BYE Autologout; idle for too long");
		imap_close_after_flush(s, "timeout");
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
	imap_session_unref(s);
}

struct imap_session *imap_session_start(struct node *node, struct bufferevent *bev,
					const char *peer_ip, int tls,
					const struct imap_session_settings *set,
					imap_session_closed_cb *closed, void *closed_ctx)
{
	struct imap_session *s = xcalloc(1, sizeof *s);
	struct imap_parser_limits lim = { .max_line = IMAP_PREAUTH_LINE, .max_literal = IMAP_PREAUTH_LITERAL,
					  .max_args = 100, .max_depth = 4, .max_nonsync = IMAP_LITERAL_MINUS };
	char rid[EVM_ID_HEX_LEN + 1];
	struct buf caps = BUF_INIT;

	s->refs = 1;
	s->node = node;
	s->base = bufferevent_get_base(bev);
	s->bev = bev;
	s->set = *set;
	if (s->set.preauth_timeout_s == 0)
		s->set.preauth_timeout_s = 60;
	if (s->set.idle_timeout_s == 0)
		s->set.idle_timeout_s = 1800;
	if (s->set.max_literal == 0)
		s->set.max_literal = 50u * 1024 * 1024;
	s->closed = closed;
	s->closed_ctx = closed_ctx;
	snprintf(s->peer_ip, sizeof s->peer_ip, "%s", peer_ip);
	evm_random_id(rid);
	memcpy(s->id, rid, sizeof s->id - 1);
	snprintf(s->actor, sizeof s->actor, "imap:%s", s->id);
	s->tls = tls;
	s->state = IMAP_S_NOAUTH;
	s->parser = imap_parser_new(&lim);
	s->resume = event_new(s->base, -1, 0, on_resume, s);
	setup_bev(s);
	log_info("imap[%s]: connect from [%s]%s", s->id, s->peer_ip, tls ? " (TLS)" : "");
	/* RFC 9051 7.1.5: BYE as the greeting refuses the connection. */
	if (set->draining) {
		s->draining = 1;
		drain_now(s);
		return s;
	}
	imap_capability_string(s, &caps);
	imap_line(s, "* OK [CAPABILITY %s] evmail ready", caps.data);
	buf_free(&caps);
	return s;
}

/* imap_reply - the session's output: raw writes, untagged lines and the
 * tagged reply that ends a command (after the hooks of imap_hooks.c: NOTIFY
 * events, the selected mailbox's updates), and the session's references.
 * It calls no engine: what it needs from them goes through s->hooks. */
#include "gateway/imap/imap_session_private.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Keeps the session alive across an asynchronous step. */
void imap_session_ref(struct imap_session *s)
{
	s->refs++;
}

/* Drops a reference; the last one frees the session and its engines' state. */
void imap_session_unref(struct imap_session *s)
{
	if (--s->refs > 0)
		return;
	if (s->op != NULL && s->op_free != NULL)
		s->op_free(s->op);
	free(s->held_reply);
	s->hooks->free(s);   /* the selected mailbox, NOTIFY (imap_hooks.c) */
	imap_parser_free(&s->parser);
	if (s->idle_timer != NULL)
		event_free(s->idle_timer);
	free(s);
}

/* Raw octets (a literal's data, a held reply). */
void imap_write(struct imap_session *s, const void *data, size_t len)
{
	if (s->conn != NULL && !s->closing)
		evbuffer_add(conn_output(s->conn), data, len);
}

/* Formatted output without CRLF. */
void imap_printf(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->conn == NULL || s->closing)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(conn_output(s->conn), fmt, ap);
	va_end(ap);
}

/* One untagged or continuation line, CRLF appended. */
void imap_line(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->conn == NULL || s->closing)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(conn_output(s->conn), fmt, ap);
	va_end(ap);
	evbuffer_add(conn_output(s->conn), "\r\n", 2);
}

/* The command is over: the next one may be read. */
static void cmd_end(struct imap_session *s)
{
	s->in_cmd = 0;
	s->cur = NULL;
	s->line_fn = NULL;
	/* After an asynchronous command nobody is reading: wake the loop
	 * (harmless when the loop is running anyway). */
	if (s->conn != NULL)
		conn_resume_input(s->conn);
}

/* "<tag> OK|NO|BAD text", after the hooks; held while a \\Recent claim is
 * in flight (RFC 3501 2.3.2, imap_recent.c). */
static void tagged(struct imap_session *s, const char *status, const char *fmt, va_list ap)
{
	unsigned flags = s->cur != NULL ? s->cur->flags : 0;
	int allow_expunge = !(flags & IMAP_CMD_SEQ) || s->cur_uid;

	s->hooks->before_reply(s, strcmp(status, "BAD") != 0, allow_expunge);   /* imap_hooks.c */
	if (strcmp(status, "BAD") != 0 && s->hooks->hold_reply(s)) {
		if (!s->reply_now && s->conn != NULL && !s->closing) {
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
	if (s->conn != NULL && !s->closing) {
		evbuffer_add_vprintf(conn_output(s->conn), fmt, ap);
		evbuffer_add(conn_output(s->conn), "\r\n", 2);
	}
	cmd_end(s);
}

/* The held tagged reply goes out after the claim's updates. */
void imap_reply_release(struct imap_session *s)
{
	char *reply = s->held_reply;

	if (reply == NULL)
		return;
	s->held_reply = NULL;
	/* What the claim decided comes first; a claim started now for
	 * later arrivals does not hold the reply again. */
	s->hooks->report(s, s->held_expunge);
	imap_write(s, reply, strlen(reply));
	free(reply);
	cmd_end(s);
}

/* "<tag> OK ...": the command succeeded. */
void imap_ok(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tagged(s, "OK", fmt, ap);
	va_end(ap);
}

/* "<tag> NO ...": the command failed. */
void imap_no(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tagged(s, "NO", fmt, ap);
	va_end(ap);
}

/* "<tag> BAD ...": a protocol error; BYE after IMAP_MAX_BAD of them. */
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

/* The selected mailbox's updates, through the report hook. */
void imap_report(struct imap_session *s, int allow_expunge)
{
	s->hooks->report(s, allow_expunge);
}

/* imap_connection - IMAP as a protocol of the connection layer
 * (gateway/conn/conn.h): its callbacks, the session's timeouts, closing
 * and STARTTLS (RFC 9051 6.2.1). The layer owns the bufferevent, TLS,
 * COMPRESS's place in the stack, backpressure and the flush before a
 * close. */
#include "gateway/imap/imap_session_private.h"
#include "common/log.h"

#include <event2/event.h>

/* RFC 9051 5.4: the autologout timer; longer once authenticated. */
void imap_set_timeouts(struct imap_session *s)
{
	if (s->conn != NULL)
		conn_set_read_timeout(s->conn, s->state == IMAP_S_NOAUTH ? s->set.preauth_timeout_s
									 : s->set.idle_timeout_s);
}

/* Closes the connection now (closed() below does the rest). */
void imap_finish_close(struct imap_session *s, const char *why)
{
	if (s->conn != NULL)
		conn_close(s->conn, why);
}

/* Octets not yet handed to the socket, over every layer. */
size_t imap_pending_output(struct imap_session *s)
{
	return s->conn != NULL ? conn_pending_output(s->conn) : 0;
}

/* Stops reading; closes once every byte of output is out. */
void imap_close_after_flush(struct imap_session *s, const char *why)
{
	if (s->conn == NULL || s->closing)
		return;
	log_debug("imap[%s]: closing: %s", s->id, why);
	s->closing = 1;
	conn_close_after_flush(s->conn, why);
}

/* RFC 9051 6.2.1: after "OK Begin TLS" the client's plain-text input is
 * discarded (the layer does it: CVE-2011-0411), the parser starts over. */
void imap_starttls(struct imap_session *s)
{
	if (s->conn == NULL || conn_starttls(s->conn) < 0)
		return;
	s->tls = 1;
	imap_parser_reset(s->parser);
	log_info("imap[%s]: starttls", s->id);
}

/* The "+" continuation is out and the literal comes next: like Dovecot,
 * leave delayed-ACK mode now so the kernel acknowledges the literal as it
 * arrives (the write put the socket back in it). */
static void on_output_space(void *session, struct conn *c)
{
	struct imap_session *s = session;

	if (imap_parser_literal_remaining(s->parser) > 0 && conn_pending_output(c) == 0)
		(void)conn_quickack(c);
}

/* RFC 9051 5.4: the autologout. */
static void on_timeout(void *session, struct conn *c)
{
	struct imap_session *s = session;

	imap_line(s, "* BYE Autologout; idle for too long");
	imap_close_after_flush(s, "timeout");
}

void imap_conn_protocol(const struct imap_session_settings *set, struct conn_protocol *p)
{
	*p = (struct conn_protocol){
		.name = "imap",
		.reject_line = "* BYE Too many connections, try again later\r\n",
		.in_high = IMAP_IN_HIGH,
		.out_high = IMAP_OUT_HIGH,
		.preauth_timeout_s = set->preauth_timeout_s,
		.idle_timeout_s = set->idle_timeout_s,
		.write_timeout_s = IMAP_WRITE_TIMEOUT_S,
		.output_space = on_output_space,
		.timeout = on_timeout,
	};
}

/* imap_session - the top of one IMAP session (see imap_session.h): its
 * start, the input loop and the dispatch of each command through the table
 * (imap_cmd_table.h). Output and tagged replies are in imap_reply.c, the
 * connection's close and STARTTLS in imap_connection.c, commands in
 * imap_cmd_*.c. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_cmd_table.h"
#include "gateway/imap/imap_hooks.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/projector.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

const char *imap_session_id(const struct imap_session *s)
{
	return s->id;
}

/* Server shutdown: closes at once. */
void imap_session_close(struct imap_session *s)
{
	imap_finish_close(s, "server shutdown");
}

/* ---- input ---- */

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
	/* RFC 9586 3: once UIDONLY is on, no command may name (or ask for)
	 * sequence numbers. */
	if (s->uidonly && (def->flags & IMAP_CMD_MSN) && !cmd->uid) {
		imap_bad(s, "[UIDREQUIRED] Use the UID form of %s", def->name);
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
	if (!s->draining || s->conn == NULL || s->closing || (s->in_cmd && !s->idling) ||
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
	if (imap_pending_output(s) == 0)
		(void)conn_quickack(s->conn);
}

/* Processes buffered input in order until it runs out or the session must
 * wait (a command in flight, output backpressure, closing). */
static void run_locked(struct imap_session *s)
{
	int partial = 0;    /* this call consumed part of a command */

	while (s->conn != NULL && !s->closing) {
		struct evbuffer *in = conn_input(s->conn);
		struct evbuffer_iovec v;
		struct imap_command *cmd = NULL;
		const char *error = NULL;
		size_t used = 0;

		if ((s->in_cmd && s->line_fn == NULL) || drain_now(s))
			return;
		if (conn_input_blocked(s->conn))
			return;     /* output backpressure: the layer resumes us */
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

static void imap_run(struct imap_session *s)
{
	imap_session_ref(s);
	run_locked(s);
	imap_session_unref(s);
}

void imap_session_set_draining(struct imap_session *s, int on)
{
	s->draining = on;
	if (on)
		imap_run(s);
}

/* The connection is gone: tell the owner, drop the connection's reference. */
static void conn_closed(void *session, struct conn *c, const char *why)
{
	struct imap_session *s = session;

	log_info("imap[%s]: disconnect from [%s]: %s (user=%s, bad=%u)", s->id, s->peer_ip, why,
		 s->account[0] ? s->account : "-", s->bad);
	s->conn = NULL;
	s->closing = 1;
	projector_unsubscribe(&s->sub);
	if (s->idle_timer != NULL)
		event_del(s->idle_timer);
	if (s->closed != NULL)
		s->closed(s->closed_ctx, s, s->peer_ip);
	imap_session_unref(s);
}

/* The server drains: announce it (imap_session_set_draining). */
static void conn_drain(void *session, struct conn *c, int on)
{
	imap_session_set_draining(session, on);
}

static void session_input(void *session, struct conn *c)
{
	imap_run(session);
}

/* A command runs and its tagged answer is still due; not while it waits
 * for the client (IDLE's DONE, an AUTHENTICATE response), which a
 * half-closed client can never send. */
static int session_busy(void *session)
{
	struct imap_session *s = session;

	return s->in_cmd && !s->idling && s->line_fn == NULL;
}

void imap_session_protocol(const struct imap_session_settings *set, struct conn_protocol *p)
{
	imap_conn_protocol(set, p);
	p->input = session_input;
	p->busy = session_busy;
	p->closed = conn_closed;
	p->drain = conn_drain;
}

struct imap_session *imap_session_new(struct node *node, struct conn *c,
				      const struct imap_session_settings *set,
				      imap_session_closed_cb *closed, void *closed_ctx)
{
	struct imap_session *s = xcalloc(1, sizeof *s);
	struct imap_parser_limits lim = { .max_line = IMAP_PREAUTH_LINE, .max_literal = IMAP_PREAUTH_LITERAL,
					  .max_args = 100, .max_depth = 4, .max_nonsync = IMAP_LITERAL_MINUS };
	struct buf caps = BUF_INIT;

	s->refs = 1;    /* the connection's: dropped in its closed callback */
	s->node = node;
	s->base = conn_base(c);
	s->conn = c;
	s->set = *set;
	if (s->set.preauth_timeout_s == 0)
		s->set.preauth_timeout_s = 60;
	if (s->set.idle_timeout_s == 0)
		s->set.idle_timeout_s = 1800;
	if (s->set.max_literal == 0)
		s->set.max_literal = 50u * 1024 * 1024;
	s->closed = closed;
	s->closed_ctx = closed_ctx;
	snprintf(s->peer_ip, sizeof s->peer_ip, "%s", conn_peer_ip(c));
	snprintf(s->id, sizeof s->id, "%s", conn_id(c));
	snprintf(s->actor, sizeof s->actor, "imap:%s", s->id);
	s->tls = conn_is_tls(c);
	s->state = IMAP_S_NOAUTH;
	s->hooks = imap_hooks_table();
	s->parser = imap_parser_new(&lim);
	imap_set_timeouts(s);
	log_info("imap[%s]: connect from [%s]%s", s->id, s->peer_ip, s->tls ? " (TLS)" : "");
	/* RFC 9051 7.1.5: BYE as the greeting refuses the connection. */
	if (set->draining || conn_draining(c)) {
		s->draining = 1;
		drain_now(s);
		return s;
	}
	imap_capability_string(s, &caps);
	imap_line(s, "* OK [CAPABILITY %s] evmail ready", caps.data);
	buf_free(&caps);
	return s;
}

struct imap_attach {
	struct node *node;
	const struct imap_session_settings *set;
	imap_session_closed_cb *closed;
	void *closed_ctx;
};

static void *open_attached(void *ctx, struct conn *c)
{
	struct imap_attach *a = ctx;

	return imap_session_new(a->node, c, a->set, a->closed, a->closed_ctx);
}

struct imap_session *imap_session_start(struct node *node, struct bufferevent *bev,
					const char *peer_ip, int tls,
					const struct imap_session_settings *set,
					imap_session_closed_cb *closed, void *closed_ctx)
{
	struct imap_attach a = { node, set, closed, closed_ctx };
	struct conn_protocol p;
	struct conn *c;

	imap_session_protocol(set, &p);
	p.open = open_attached;
	c = conn_attach(bufferevent_get_base(bev), bev, peer_ip, tls, set->tls, &p, &a);
	return c != NULL ? conn_session(c) : NULL;
}

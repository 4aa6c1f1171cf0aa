/* imap_cmd_idle - IDLE (RFC 9051 6.3.13, RFC 2177): "+ idling", then
 * untagged EXISTS / EXPUNGE / FETCH FLAGS as the projector reports changes
 * of the account (imap_session.c on_change), "* OK Still here" every two
 * minutes, until the client sends DONE. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_commands.h"

#include <event2/event.h>
#include <strings.h>

static void keepalive(evutil_socket_t fd, short what, void *ctx)
{
	struct imap_session *s = ctx;

	if (s->idling && s->conn != NULL)
		imap_line(s, "* OK Still here");
}

static void idle_line(struct imap_session *s, const char *line, size_t len)
{
	s->idling = 0;
	event_del(s->idle_timer);
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0)
		imap_ok(s, "IDLE terminated");
	else
		imap_bad(s, "Expected DONE");
}

void imap_cmd_idle(struct imap_session *s, const struct imap_command *cmd)
{
	struct timeval tv = { IMAP_IDLE_KEEPALIVE_S, 0 };

	if (cmd->nargs != 0) {
		imap_bad(s, "IDLE takes no arguments");
		return;
	}
	if (s->idle_timer == NULL)
		s->idle_timer = event_new(s->base, -1, EV_PERSIST, keepalive, s);
	imap_line(s, "+ idling");
	s->idling = 1;
	s->line_fn = idle_line;
	event_add(s->idle_timer, &tv);
	/* What happened before IDLE is told at once. */
	if (s->mbox != NULL)
		imap_mbox_report(s, 1);
}

/* imap_login - the session logs in (state, parser limits, the account's
 * change subscription) and out again (RFC 8437 UNAUTHENTICATE). */
#include "gateway/imap/imap_login.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_notify.h"
#include "gateway/imap/imap_session_private.h"
#include "common/log.h"
#include "gateway/node.h"
#include "projector/projector.h"

#include <stdio.h>

/* The projector changed the account: NOTIFY events, IDLE's updates. */
static void on_change(void *ctx, const char *account)
{
	struct imap_session *s = ctx;

	s->changed = 1;
	imap_notify_changed(s);   /* RFC 5465 (imap_notify_session.c) */
	if (s->idling && s->mbox != NULL && s->conn != NULL && !s->closing)
		imap_mbox_report(s, 1);
}

/* Authentication succeeded: state, limits, push subscription. */
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
	if (s->conn != NULL)
		imap_set_timeouts(s);
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
	s->rev2 = s->utf8 = s->condstore = s->qresync = s->uidonly = 0;
	s->changed = 0;
	imap_parser_set_limits(s->parser, &lim);
	if (s->conn != NULL)
		imap_set_timeouts(s);
}

/* imap_cmd_close - CLOSE (RFC 9051 6.4.1): expunges the \Deleted messages
 * silently (unless read-only), then leaves the selected state. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_acl.h"
#include "projector/mail.h"

static void close_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	imap_deselect(s);
	if (imap_outcome_ok(s, status, outcome, error, "CLOSE"))
		imap_ok(s, "CLOSE completed");
}

/* RFC 9051 6.4.1: expunge silently, then deselect. */
void imap_cmd_close(struct imap_session *s, const struct imap_command *cmd)
{
	json_t *pieces = NULL;
	int bad;

	/* RFC 4314 4: without e, CLOSE expunges nothing (and says nothing). */
	if (!s->mbox->readonly && imap_acl_may(s, MAIL_R_EXPUNGE))
		pieces = imap_mbox_deleted_pieces(s, NULL, &bad);
	if (pieces == NULL) {
		imap_deselect(s);
		imap_ok(s, "CLOSE completed");
		return;
	}
	imap_expunge_run(s, pieces, close_done);
}

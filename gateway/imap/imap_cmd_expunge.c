/* imap_cmd_expunge - EXPUNGE and UID EXPUNGE (RFC 9051 6.4.3, RFC 4315 2.1):
 * one message.expunge event for the \Deleted messages; the EXPUNGE (or
 * VANISHED) responses come from the mailbox report before the tagged OK. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_acl.h"
#include "common/log.h"
#include "projector/mail.h"

static void expunge_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	const char *err = NULL;

	if (!imap_outcome_ok(s, status, outcome, error, "EXPUNGE"))
		return;
	if (!s->condstore) {
		imap_ok(s, "EXPUNGE completed");
		return;
	}
	/* RFC 7162 3.2.7: the new HIGHESTMODSEQ in the tagged OK. */
	if (imap_mbox_sync(s, s->mbox, &err) < 0)
		log_warn("imap[%s]: sync: %s", s->id, err);
	s->changed = 0;
	imap_ok(s, "[HIGHESTMODSEQ %lld] EXPUNGE completed", (long long)s->mbox->highestmodseq);
}

void imap_cmd_expunge(struct imap_session *s, const struct imap_command *cmd)
{
	const char *set = NULL;
	json_t *ranges;
	int bad;

	if ((cmd->uid && (cmd->nargs != 1 || (set = imap_arg_str(&cmd->args[0])) == NULL)) ||
	    (!cmd->uid && cmd->nargs != 0)) {
		imap_bad(s, cmd->uid ? "UID EXPUNGE needs a UID set" : "EXPUNGE takes no arguments");
		return;
	}
	if (s->mbox->readonly) {
		imap_no(s, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (!imap_acl_may(s, MAIL_R_EXPUNGE)) {
		imap_no(s, "[NOPERM] You may not expunge in this mailbox");   /* RFC 4314 4 */
		return;
	}
	ranges = imap_mbox_deleted_ranges(s, set, &bad);
	if (bad) {
		imap_bad(s, "Invalid UID set");
		return;
	}
	if (ranges == NULL) {
		imap_ok(s, "EXPUNGE completed");
		return;
	}
	imap_submit(s, "message.expunge", json_pack("{s:s, s:o}", "mailbox_id", s->mbox->id, "uids", ranges),
		    expunge_done);
}

/* imap_cmd_expunge - EXPUNGE and UID EXPUNGE (RFC 9051 6.4.3, RFC 4315 2.1):
 * message.expunge events for the \Deleted messages, one per piece of at
 * most IMAP_EXPUNGE_PIECE, each submitted when the one before is applied;
 * the EXPUNGE (or VANISHED) responses come from the mailbox report before
 * the tagged OK. A failure part way answers NO after the pieces already
 * expunged (their EXPUNGE responses tell the client which). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_acl.h"
#include "common/log.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>

/* Pieces still to submit, and the command's own completion. */
struct expunge_run {
	json_t *pieces;
	size_t next;
	imap_write_cb *done;
};

static void run_free(void *op)
{
	struct expunge_run *r = op;

	json_decref(r->pieces);
	free(r);
}

/* Submits the next piece; its outcome comes back here. */
static void expunge_step(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	struct expunge_run *r = s->op;
	imap_write_cb *done = r->done;
	const char *st = json_string_value(json_object_get(outcome, "status"));
	/* outcome NULL: the first call, nothing submitted yet */
	int ok = status == 0 && (outcome == NULL || (st != NULL && strcmp(st, "accepted") == 0));

	if (ok && r->next < json_array_size(r->pieces)) {
		json_t *piece = json_array_get(r->pieces, r->next++);

		imap_submit(s, "message.expunge",
			    json_pack("{s:s, s:O}", "mailbox_id", s->mbox->id, "uids", piece), expunge_step);
		return;
	}
	run_free(r);
	s->op = NULL;
	s->op_free = NULL;
	done(s, status, outcome, error);
}

void imap_expunge_run(struct imap_session *s, json_t *pieces, imap_write_cb *done)
{
	struct expunge_run *r = xcalloc(1, sizeof *r);

	r->pieces = pieces;
	r->done = done;
	s->op = r;
	s->op_free = run_free;
	expunge_step(s, 0, NULL, NULL);
}

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
	json_t *pieces;
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
	pieces = imap_mbox_deleted_pieces(s, set, &bad);
	if (bad) {
		imap_bad(s, "Invalid UID set");
		return;
	}
	if (pieces == NULL) {
		imap_ok(s, "EXPUNGE completed");
		return;
	}
	imap_expunge_run(s, pieces, expunge_done);
}

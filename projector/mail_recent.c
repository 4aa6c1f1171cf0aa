/* mail_recent - the applier of mailbox.claim_recent (projector/mail.h):
 * IMAP4rev1 \Recent (RFC 3501 2.3.2), decided by the log. */
#include "projector/mail_internal.h"

/* mailbox.claim_recent {mailbox_id}: recent_uid := uidnext - 1; the result
 * carries the previous value (claimed_from) and the new one (recent_uid).
 * The submitter's \Recent messages: claimed_from < uid <= recent_uid. */
enum apply_status mail_apply_claim_recent(struct apply_ctx *ctx, const char **error_r)
{
	const char *id;
	struct mail_acct a;
	enum apply_status st;
	json_t *mbox = NULL, *v;
	int64_t uidnext, from = 0;
	int r;

	if ((id = mail_field_id(ctx, "mailbox_id")) == NULL)
		return APPLY_REJECTED;
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	if ((r = mail_mbox_get(&a, id, &mbox, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no mailbox %s", id);
		goto out;
	}
	if (mail_rec_int(mbox, "uidnext", &uidnext, error_r) < 0)
		goto out;
	if ((v = json_object_get(mbox, "recent_uid")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			*error_r = MAIL_CORRUPT;
			goto out;
		}
		from = json_integer_value(v);
	}
	if (uidnext - 1 > from) {
		/* Only a claim that takes something writes (a re-claim of
		 * nothing leaves the view as it was). */
		mail_acct_begin_write(&a);
		json_object_set_new(mbox, "recent_uid", json_integer(uidnext - 1));
		mail_mbox_write(&a, mbox);
	}
	mail_result(ctx, "mailbox_id", json_string(id));
	mail_result(ctx, "claimed_from", json_integer(from));
	mail_result(ctx, "recent_uid", json_integer(uidnext - 1 > from ? uidnext - 1 : from));
	st = APPLY_ACCEPTED;
out:
	json_decref(mbox);
	mail_acct_close(&a);
	return st;
}

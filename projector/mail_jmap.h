/* mail_jmap - what JMAP (RFC 8620, RFC 8621) needs from an account's mail
 * store beyond what IMAP reads: per-type change tracking for /changes and
 * state strings, the mailboxes holding each email, and threads.
 *
 * Types: MAIL_J_MAILBOX ("mailbox"), MAIL_J_EMAIL ("email": one email id,
 * i.e. one content, whatever the number of copies), MAIL_J_THREAD
 * ("thread"). Every write of an object of a type by an applier "touches"
 * it at the event's modseq (offset + 1, projector/mail.h): the type's
 * state becomes that modseq, and the object's entry in the change index
 * moves to it. The state of a type is thus a log position, and two nodes
 * that applied the same log give the same state and the same changes.
 *
 * Threads (RFC 8621 3): an email joins the thread of the first email found
 * by the Message-IDs of its In-Reply-To, then its References from the last
 * (nearest parent) to the first; otherwise it starts a thread whose id is
 * its own email id. Decided once, when the email id first appears; an
 * email that arrived before its parent stays in its own thread.
 *
 * Keys: mail_keys.h (jobj/, jseq/, jst/, eloc/, ethr/, thr/). Reads below
 * return 1 found, 0 not found, -1 error, like projector/mail.h. */
#ifndef EVM_MAIL_JMAP_H
#define EVM_MAIL_JMAP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "projector/view.h"

enum mail_jtype {
	MAIL_J_MAILBOX,
	MAIL_J_EMAIL,
	MAIL_J_THREAD,
	MAIL_J_VACATION,   /* the one VacationResponse, id "singleton" */
	MAIL_J_SUBMISSION, /* EmailSubmission (projector/mail_submission.h) */
	MAIL_J_IDENTITY,   /* stored Identities (projector/mail_identity.c) */
};
#define MAIL_J_TYPES 6

/* "mailbox", "email", "thread", "vacation", "submission", "identity". */
const char *mail_jtype_name(enum mail_jtype t);

/* The type's state: the modseq of its last change, 0 when nothing of the
 * type ever changed. 0 or -1. */
int mail_jmap_state(struct view *view, const char *account, enum mail_jtype t, int64_t *state_r,
		    const char **error_r);

/* One changed object, as /changes reports it (RFC 8620 5.2). */
struct mail_jchange {
	const char *id;
	int64_t modseq;   /* of its last change */
	int created;      /* created after the asked position */
	int destroyed;    /* destroyed now */
};
typedef int mail_jchange_cb(void *ctx, const struct mail_jchange *c);

/* Objects of type t changed after the position (since_modseq, since_id):
 * every change with modseq > since_modseq, and those at since_modseq whose
 * id sorts after since_id (since_id "" = none of them), in (modseq, id)
 * order; an object created and destroyed after the position is skipped.
 * Calls cb for at most max of them (cb returns 0 to go on); *more_r is 1
 * when more followed. 0 or -1. */
int mail_jmap_changes(struct view *view, const char *account, enum mail_jtype t, int64_t since_modseq,
		      const char *since_id, size_t max, mail_jchange_cb *cb, void *ctx, int *more_r,
		      const char **error_r);

/* The lowest position /changes can start from (RFC 8620 5.2: older ones
 * get cannotCalculateChanges): the highest modseq of a destroyed object
 * of type t pruned after mail.tombstone_days (mail_keys.h jprn/), 0 when
 * none. 0 or -1. */
int mail_jmap_horizon(struct view *view, const char *account, enum mail_jtype t, int64_t *horizon_r,
		      const char **error_r);

/* Where the copies of an email are: appends [mailbox id, uid] pairs to
 * locs, by mailbox id then uid. 1 (at least one), 0 none, -1 error. */
int mail_jmap_email_locations(struct view *view, const char *account, const char *email_id,
			      json_t *locs, const char **error_r);

/* The thread of an email and the time it was received (ms, the
 * internal date of its first copy). tid holds 32 hex digits + NUL. */
int mail_jmap_email_thread(struct view *view, const char *account, const char *email_id,
			   char tid[33], int64_t *received_r, const char **error_r);

/* One email by received time (arcv/, mrcv/). */
struct mail_jrcv {
	int64_t received;
	char id[33];
};
/* The emails of the account (mailbox_id NULL) or with a copy in one
 * mailbox by received time, oldest first or (newest_first) newest first,
 * ties by email id ascending either way: *v_r (malloc'ed, or NULL when
 * none) with *n_r entries. max > 0 reads only from the start of that
 * order until max entries and the rest of the last one's received time
 * (so the first max are exact); 0 reads all. An index read, no record
 * parsed. 0 or -1. */
int mail_jmap_received(struct view *view, const char *account, const char *mailbox_id, int newest_first,
		       size_t max, struct mail_jrcv **v_r, size_t *n_r, const char **error_r);
/* The same, resumed: only the emails received strictly past *past in
 * that order (newest first: before it; oldest first: after it); past
 * NULL: from the start. A read with max ends with a whole received time,
 * so the next read resumes past the last entry's. */
int mail_jmap_received_past(struct view *view, const char *account, const char *mailbox_id, int newest_first,
			    const int64_t *past, size_t max, struct mail_jrcv **v_r, size_t *n_r,
			    const char **error_r);

/* The email ids of a thread, oldest received first, appended to ids. */
int mail_jmap_thread_emails(struct view *view, const char *account, const char *thread_id,
			    json_t *ids, const char **error_r);

#endif

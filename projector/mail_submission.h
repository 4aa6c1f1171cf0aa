/* mail_submission - the record of what an account sent through JMAP
 * (RFC 8621 7, EmailSubmission): events on the account's mail partition,
 * their appliers (projector/mail_submission.c) and the read API.
 *
 *   submission.record {id (32 hex, writer-chosen), identity_id (a JMAP Id),
 *                  email_id (32 hex), thread_id (32 hex), envelope
 *                  ({mailFrom: {email, parameters}, rcptTo: [{email,
 *                  parameters}...]}, RFC 8621 7 Envelope as sent), send_at
 *                  (ms), queue_id ("" or the 32 hex outbound queue item of
 *                  the remote recipients), local: [address...] (the
 *                  recipients delivered on this installation)}
 *                  Written only after the message was sent (stored for
 *                  the local recipients, queued for the remote ones).
 *                  Rejected "exists" when the id is recorded already,
 *                  "invalid" for a field out of its bounds.
 *                  result: {id}
 *   submission.destroy {id}
 *                  forgets the record (RFC 8621 7.5: destroying an
 *                  EmailSubmission does not unsend it). Rejected
 *                  "not-found" when there is no such record.
 *
 * Both touch the JMAP type MAIL_J_SUBMISSION (projector/mail_jmap.h). A
 * delivery attempt changes the queue item (projector/queue.h, another
 * topic), never this record: the EmailSubmission state moves only with
 * these two events.
 *
 * Key: mail/<acct>/esub/<id> = the record (the data above, sorted keys).
 * Reads return 1 found, 0 not found, -1 error, like projector/mail.h. */
#ifndef EVM_MAIL_SUBMISSION_H
#define EVM_MAIL_SUBMISSION_H

#include <jansson.h>

#include "projector/view.h"

#define MAIL_SUBMISSION_RCPTS_MAX 1000
#define MAIL_SUBMISSION_IDENTITY_MAX 255

/* One record: 1 with *sub_r (free it), 0 none (or id not 32 hex), -1. */
int mail_submission_get(struct view *view, const char *account, const char *id, json_t **sub_r,
			const char **error_r);
/* Every record of the account in id order (a new array, always set). 0
 * or -1. */
int mail_submissions(struct view *view, const char *account, json_t **list_r, const char **error_r);

#endif

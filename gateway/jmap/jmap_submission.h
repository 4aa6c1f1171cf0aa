/* jmap_submission - Identity (RFC 8621 6) and EmailSubmission (RFC 8621
 * 7), shared inside gateway/jmap by their files:
 *   jmap_identity.c            Identity/get, /changes and the lookup
 *                              EmailSubmission/set checks identities with
 *   jmap_identity_set.c        Identity/set over identity.set/destroy
 *   jmap_submission_get.c      EmailSubmission/get, /changes (records:
 *                              projector/mail_submission.h)
 *   jmap_submission_query.c    EmailSubmission/query, /queryChanges
 *   jmap_submission_set.c      EmailSubmission/set and the implicit Email/set
 *                              of onSuccessUpdateEmail / onSuccessDestroyEmail
 *   jmap_submission_send.c     one creation: its checks, the message sent
 *                              through gateway/submit (as SMTP submission
 *                              sends it), then its submission.record
 *
 * Identities: the DEFAULT ones follow the directory (the account's own
 * address, and each alias whose targets include the account; mayDelete
 * false), with the user's stored override of their name, replyTo, bcc and
 * signatures; then the ones the user CREATED (projector/mail_identity.c,
 * ids "c" + 24 hex digits), whose email is the account's address, one of
 * its aliases, or "*@domain" for a domain whose catch-all alias delivers
 * to the account. The state (jmap_identity_state) joins the Identity
 * change type's modseq (projector/mail_jmap.h: the stored identities)
 * with a digest of the default identities derived from the directory, so
 * a directory change (an alias added or removed, the display name) moves
 * it too, on every node alike; Identity/changes answers
 * cannotCalculateChanges across such a change (RFC 8620 5.2: the client
 * fetches the identities again) and the stored changes otherwise. */
#ifndef EVM_JMAP_SUBMISSION_H
#define EVM_JMAP_SUBMISSION_H

#include <jansson.h>
#include <stdint.h>

#include "gateway/deliver.h"
#include "gateway/jmap/jmap_mail.h"

/* The id of the identity sending as address: "i" + 24 hex digits of
 * SHA-256(address) (the account's own is its account id with "i"). */
void jmap_identity_id(const char *address, char out[JMAP_ACCOUNT_ID_LEN + 1]);
/* The account's identities (RFC 8621 6 objects), its own first, then its
 * aliases by address: 0 with *list_r (a new array), or -1 with *error_r. */
int jmap_identities(struct jmap_mail_req *req, json_t **list_r, const char **error_r);
/* The identity id: 1 with *identity_r (a new reference), 0 when the
 * account has none such, -1 with *error_r. */
int jmap_identity_find(struct jmap_mail_req *req, const char *id, json_t **identity_r, const char **error_r);
/* 1 when the account may create an identity with email (normalised or
 * "*@domain" lower-cased into norm), 0 when not (forbiddenFrom), -1 with
 * *error_r. */
int jmap_identity_email_allowed(struct jmap_mail_req *req, const char *email, char norm[EVM_ADDRESS_MAX + 1],
				const char **error_r);
/* Bits of an identity state holding the digest of the default
 * identities: state = modseq << JMAP_IDENTITY_DIGEST_BITS | digest (a
 * decimal state string like the others; modseqs stay below 2^43). */
#define JMAP_IDENTITY_DIGEST_BITS 20
#define JMAP_IDENTITY_DIGEST_MASK ((INT64_C(1) << JMAP_IDENTITY_DIGEST_BITS) - 1)
/* The Identity state of the account at address, read from the view only
 * (deterministic: the same on every node that applied the same logs). 0,
 * or -1 with *error_r. */
int jmap_identity_state(struct view *view, const char *address, int64_t *state_r, const char **error_r);
/* Registers Identity/get, /changes, /set. */
void jmap_identity_register(struct jmap_api *api);
/* Identity/set (jmap_identity_set.c). */
void jmap_identity_set(struct jmap_call *call, json_t *args, void *ctx);

/* ---- EmailSubmission ---- */

void jmap_submission_get(struct jmap_call *call, json_t *args, void *ctx);
void jmap_submission_changes(struct jmap_call *call, json_t *args, void *ctx);
void jmap_submission_query(struct jmap_call *call, json_t *args, void *ctx);
void jmap_submission_query_changes(struct jmap_call *call, json_t *args, void *ctx);
void jmap_submission_set(struct jmap_call *call, json_t *args, void *ctx);

/* One creation, checked (jmap_submission_check.c): what will be sent. */
struct jmap_subm_plan {
	char identity_id[JMAP_ACCOUNT_ID_LEN + 1];
	char email_id[33], thread_id[33];
	char *data;                        /* the raw message (malloc'ed) */
	size_t len, hlen;                  /* ... and its header block's length */
	char *from_domain;                 /* the From: address's domain (malloc'ed) */
	json_t *envelope;                  /* the RFC 8621 7 Envelope sent */
	char mail_from[EVM_ADDRESS_MAX + 1];
	struct deliver_target *targets;    /* local accounts, one each (malloc'ed) */
	size_t ntargets;
	json_t *local;                     /* the recipients that resolved locally */
	json_t *remote;                    /* the others */
	int smtputf8;
};

/* Checks creation obj (RFC 8621 7.5) against the view and the
 * directory: 0 with p filled, 1 with the SetError *err_r (invalidProperties,
 * invalidEmail, tooManyRecipients, noRecipients, invalidRecipients,
 * forbiddenMailFrom, forbiddenFrom, forbiddenToSend, tooLarge), -1 on a
 * view or lookup error (*error_r). Free p with jmap_subm_plan_free either
 * way. */
int jmap_subm_plan(struct jmap_call *call, json_t *obj, struct jmap_subm_plan *p, json_t **err_r,
		   const char **error_r);
void jmap_subm_plan_free(struct jmap_subm_plan *p);

/* The end of one creation: status 0 with the new EmailSubmission's
 * record {id, identity_id, email_id, thread_id, send_at} (borrowed); 1
 * with a SetError (err stolen; nothing was sent); -1 when sending failed
 * before anything went out, -2 when some of it went out but the sending
 * or the record then failed (error says why). */
typedef void jmap_submission_sent_cb(struct jmap_call *call, void *ctx, int status, json_t *record,
				     json_t *err, const char *error);
/* Checks and sends one creation obj (borrowed until cb): identityId,
 * emailId ("#cid" resolved), envelope (RFC 8621 7.5). cb runs exactly
 * once, later, on the loop, never inside this call. */
void jmap_submission_send(struct jmap_call *call, json_t *obj, jmap_submission_sent_cb *cb, void *ctx);

#endif

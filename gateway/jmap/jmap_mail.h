/* jmap_mail - JMAP Mail (RFC 8621) on a node: what every Mail method
 * shares. The request context, account ids, state strings as log
 * positions (projector/mail_jmap.h), the generic /changes, and the write
 * path (an event in the account's partition, answered after the local
 * projector applied it, like IMAP's).
 *
 * Capabilities are advertised only once their methods exist.
 *
 * Ids: an account's Id is "a" + the first 24 hex digits of SHA-256 of its
 * address, the same on every node; mailbox, email and thread ids are the
 * view's 32 hex digits as they are. A state string is the decimal modseq
 * of the type's last change; inside one modseq, /changes pages with
 * "<modseq>.<id>". */
#ifndef EVM_JMAP_MAIL_H
#define EVM_JMAP_MAIL_H

#include <jansson.h>
#include <stdint.h>

#include "common/address.h"
#include "gateway/jmap/jmap_api.h"
#include "gateway/node.h"
#include "projector/mail_jmap.h"

#define JMAP_CAP_MAIL "urn:ietf:params:jmap:mail"
#define JMAP_CAP_SUBMISSION "urn:ietf:params:jmap:submission"
#define JMAP_CAP_VACATION "urn:ietf:params:jmap:vacationresponse"
#define JMAP_CAP_QUOTA "urn:ietf:params:jmap:quota"
#define JMAP_CAP_BLOB "urn:ietf:params:jmap:blob"

#define JMAP_ACCOUNT_ID_LEN 25
#define JMAP_STATE_MAX 64
#define JMAP_WRITE_TIMEOUT_MS 30000

/* What one API request runs with (jmap_run_params.request_ctx). Counted:
 * the transport holds one reference for the run, and every write in
 * flight holds one, so a handler finishing after the client went away
 * (a cancelled run) still finds it. */
struct jmap_mail_req {
	int refs;
	struct node *node;
	char address[EVM_ADDRESS_MAX + 1];        /* the authenticated account */
	char tenant[EVM_ADDRESS_MAX + 1];
	char account_id[JMAP_ACCOUNT_ID_LEN + 1];
	char actor[64];                           /* "jmap:<connection id>" */
};

/* A request context for an authenticated account (refs 1). */
struct jmap_mail_req *jmap_mail_req_new(struct node *node, const char *address, const char *tenant,
					const char *actor);
void jmap_mail_req_ref(struct jmap_mail_req *req);
/* Drops a reference; the last frees it. Sets *req to NULL. */
void jmap_mail_req_unref(struct jmap_mail_req **req);

/* "a" + 24 hex digits of SHA-256(address). */
void jmap_account_id(const char *address, char out[JMAP_ACCOUNT_ID_LEN + 1]);
/* Fills the account list entry of req's own account (capabilities:
 * Mail, Submission, VacationResponse, Quota, Blob). */
void jmap_mail_account(const struct jmap_mail_req *req, struct jmap_account *acct);

/* The request context of a call. */
struct jmap_mail_req *jmap_mail_req(const struct jmap_call *call);
/* The address behind the call's validated account: the user's own, or in
 * an account shared by ACL (jmap_shared.h) its owner's. */
const char *jmap_mail_address(const struct jmap_call *call);

/* The state of type t for the call's account, as a string. 0, or -1
 * after finishing the call with serverFail. */
int jmap_mail_state(struct jmap_call *call, enum mail_jtype t, char out[JMAP_STATE_MAX]);
/* 1 when changes of type t since modseq since may have been pruned after
 * mail.tombstone_days (mail_jmap.h mail_jmap_horizon): the caller answers
 * cannotCalculateChanges (RFC 8620 5.2, 5.6). 0 when not; -1 when the view
 * cannot be read (serverFail answered). */
int jmap_changes_pruned(struct jmap_call *call, enum mail_jtype t, int64_t since);
/* Parses a state string: 0 with the position, -1 when it is none of ours. */
int jmap_state_parse(const char *s, int64_t *modseq_r, char id[33]);

/* Foo/changes (RFC 8620 5.2) for Mailbox, Email or Thread, whole:
 * arguments, cannotCalculateChanges for a state that is not ours or is
 * ahead of the view or older than the horizon, maxChanges paging,
 * "updatedProperties": null for Mailbox (RFC 8621 2.2). */
void jmap_mail_changes(struct jmap_call *call, json_t *args, enum mail_jtype t);

/* A write's end: status 0 with the projector's outcome (borrowed;
 * "status" accepted or rejected), or -1 with error (not logged, or fate
 * unknown). */
typedef void jmap_mail_write_cb(struct jmap_call *call, void *ctx, int status, json_t *outcome,
				const char *error);
/* Appends a mail event of the call's account (data stolen) and calls cb
 * once the local projector applied it (never inside this call). */
void jmap_mail_submit(struct jmap_call *call, const char *type, json_t *data, jmap_mail_write_cb *cb,
		      void *ctx);

/* RFC 8620 1.4 UTCDate "YYYY-MM-DDTHH:MM:SSZ" of ms since the epoch
 * (out: at least 32 octets). */
void jmap_utcdate_format(int64_t ms, char *out, size_t size);
/* Parses a UTCDate (fractional seconds allowed, "Z" required): 0 with
 * *ms_r, -1 when it is none. */
int jmap_utcdate_parse(const char *s, int64_t *ms_r);

/* Registers every Mail method and capability this node serves on api. */
void jmap_mail_register(struct jmap_api *api);

/* ---- the method modules, each registering its methods ---- */
/* Mailbox/get, Mailbox/changes, Thread/get, Thread/changes, Email/changes
 * (jmap_mailbox_get.c). */
void jmap_mailbox_register(struct jmap_api *api);
/* VacationResponse/get, /set (jmap_vacation.c). */
void jmap_vacation_register(struct jmap_api *api);
/* Blob/upload, Blob/get, Blob/lookup, Email/import, Email/parse, the Quota
 * methods, and the Blob and Quota capabilities (jmap_blob_methods.c). */
void jmap_blob_register(struct jmap_api *api);
/* Email/get, Email/query, Email/queryChanges, SearchSnippet/get
 * (jmap_email_query.c). */
void jmap_email_register(struct jmap_api *api);
/* Mailbox/set, Mailbox/query, Mailbox/queryChanges, Email/set, Email/copy
 * (jmap_email_set.c). */
void jmap_mail_set_register(struct jmap_api *api);
/* PushSubscription/get, /set (RFC 8620 7.2; jmap_pushsub.c). */
void jmap_pushsub_register(struct jmap_api *api);
/* Identity/get, /changes, /set, EmailSubmission/get, /changes, /query,
 * /queryChanges, /set and the Submission capability
 * (jmap_submission_set.c). */
void jmap_submission_register(struct jmap_api *api);
/* Marks the methods that serve accounts shared by ACL
 * (jmap_method_serves_shared; jmap_shared.c): called after the others. */
void jmap_shared_register(struct jmap_api *api);

#endif

/* mail - an account's mail store: events, appliers and the read API.
 *
 * EVENTS on the mail topic: key = the account address, so partition =
 * fnv1a32(account) mod P and all of one account's events are totally
 * ordered. Envelope: tenant = the account's tenant, account = the address,
 * actor = "smtp", "lmtp", "imap:<session>", "admin" ...
 *
 * PARTITION-LOCAL STATE. Mail appliers read and write only the account's
 * mail state (keys under mail/<acct>/), never directory or blob keys: the
 * mail partition is replayed independently of the directory and blob
 * partitions, so an outcome that read their state would depend on how far
 * each had been replayed, and two replays could disagree. What the mail
 * store needs from the directory is carried into the mail partition by
 * events the admin API appends: mailbox.provision {quota} after
 * account.create and account.quota {quota} after an account.update.
 *
 * Every applier first PROVISIONS the account if it has no mailboxes yet
 * (quota 0 = unlimited until told otherwise): INBOX, Drafts (\Drafts),
 * Sent (\Sent), Junk (\Junk), Trash (\Trash), Archive (\Archive), with
 * mailbox ids = first 32 hex digits of SHA-256("<event id>/<name>") and
 * UIDVALIDITY as for mailbox.create. Provisioning is deterministic: it
 * depends only on the log.
 *
 *   mailbox.provision {quota}                  provisions (once) and sets the quota
 *   account.quota   {quota}                    sets the quota (bytes, 0 = unlimited)
 *   mailbox.create  {mailbox_id (32 hex, writer-chosen), name, special_use}
 *                   name: UTF-8, hierarchy separator '/', no empty
 *                   component, <= 512 octets, "INBOX" is case-insensitive
 *                   and reserved; special_use "" or one of \Drafts \Sent
 *                   \Junk \Trash \Archive \All \Flagged.
 *                   Rejected "exists" when the name is taken.
 *   mailbox.rename  {mailbox_id, name}        children move with it (RFC 9051 6.3.6)
 *   mailbox.delete  {mailbox_id}              not INBOX; rejected "not-empty"
 *                                             while it has children
 *   mailbox.subscribe {name, subscribed: bool}
 *   message.append  {mailbox_id | mailbox: "INBOX", blob_id, blob_size,
 *                    prefix (string prepended to the blob, e.g. a
 *                    Delivered-To line; "" if none), flags: ["\\Seen"...],
 *                    keywords: ["$Junk"...], internal_date (ms),
 *                    summary (the mime.h summary of the BLOB; its offsets are
 *                    relative to the blob, readers add strlen(prefix)),
 *                    dsn (object, optional)}
 *                   size = strlen(prefix) + blob_size. Rejected "quota"
 *                   when the mail state's quota > 0 and used + size > quota,
 *                   unless over_quota_ok: true (the writer already promised
 *                   the message: one SMTP reply for several recipients; the
 *                   size still counts).
 *                   result: {mailbox_id, uid, uidvalidity, modseq, email_id}
 *   message.store   {mailbox_id, uids: [[lo,hi]...], action: "add"|"remove"|"set",
 *                    flags: [...], unchanged_since: modseq (optional)}
 *                   result: {modseq, modified: [[lo,hi]...] (failed the
 *                   unchanged-since test, RFC 7162 3.1.3)}
 *   message.copy    {mailbox_id, uids, to_mailbox_id}
 *                   result: {uidvalidity, src: [[..]], dst: [[..]]} (COPYUID)
 *   message.move    {mailbox_id, uids, to_mailbox_id}   copy + expunge
 *   message.expunge {mailbox_id, uids}
 *   mailbox.claim_recent {mailbox_id}
 *                   IMAP4rev1 \Recent (RFC 3501 2.3.2; RFC 9051 has none):
 *                   a message is recent in exactly one session, the first
 *                   to claim the mailbox after it arrived (a rev1 SELECT, or
 *                   a session with it selected learning of arrivals).
 *                   The applier sets
 *                   the mailbox's recent_uid (absent = 0) to uidnext - 1
 *                   (it never goes down) and writes nothing else; nothing
 *                   at all when no UID is newly claimed.
 *                   result: {mailbox_id, claimed_from (the previous
 *                   recent_uid), recent_uid}: the submitter's \Recent
 *                   messages are claimed_from < uid <= recent_uid (none
 *                   when equal). Unclaimed (STATUS RECENT): uid > recent_uid.
 *   mailbox.metadata {mailbox_id (32 hex, or "" for the server), entries:
 *                    {"/private/x" | "/shared/x": base64 value | null}}
 *                   RFC 5464 METADATA: sets the values and removes the
 *                   null ones, all or none (RFC 5464 4.3). Entry names are
 *                   lower-case (the writer folds them, 3.2), printable
 *                   ASCII without '*', '%', "//" or a trailing '/', at
 *                   most MAIL_META_NAME_MAX octets; 1..MAIL_META_SET_MAX
 *                   per event. Rejected "not-found" without the mailbox,
 *                   "invalid" for a value over MAIL_META_VALUE_MAX octets
 *                   (MAXSIZE), "quota" when the mailbox (or the server)
 *                   would hold more than MAIL_META_ENTRIES_MAX entries
 *                   (TOOMANY). Entries are keyed by the mailbox id: they
 *                   move with RENAME and go with DELETE (RFC 5464 3.2).
 *                   result: {mailbox_id, entries (the count after)}
 *   mailbox.update  {mailbox_id, special_use?: "" | "\\Sent"..., sort_order?: 0..2^32-1}
 *                   at least one of the two (projector/mail_mailbox_update.c):
 *                   the special use (RFC 6154; JMAP role) and JMAP
 *                   sortOrder of an existing mailbox. Rejected "not-found"
 *                   without the mailbox, "invalid" for a special use not
 *                   listed at mailbox.create or one given to INBOX,
 *                   "exists" when another mailbox of the account has that
 *                   special use (RFC 8621 2: one mailbox per role). The
 *                   record's sort_order is absent when 0 (old records
 *                   need no migration). A JMAP Mailbox change.
 *                   result: {mailbox_id, special_use, sort_order}
 *   mailbox.retention {mailbox_id | name, max_age_ms?}
 *                   the mailbox's own retention rule (projector/retention.h);
 *                   result: {mailbox_id, max_age_ms (null: cleared)}
 *   mailbox.urlauth_key {mailbox_id (32 hex, or ""), key (64 hex)}
 *                   RFC 4467 3 mailbox access key, made by the writer with
 *                   RAND_bytes: THE LOG HOLDS THIS SECRET, like the
 *                   password hashes on the directory topic. With a mailbox
 *                   id it is that mailbox's key (RESETKEY mailbox); with ""
 *                   it is the account's base key and every mailbox's own
 *                   key is dropped (RESETKEY). A mailbox without its own
 *                   key uses one derived from the base key (the gateway
 *                   derives it). The mailbox's key goes with DELETE.
 *                   result: {mailbox_id}
 *
 *   vacation.set, vacation.reply    the vacation response and the one
 *                   automatic reply per sender per period: see
 *                   projector/mail_vacation.c
 *
 *   submission.record, submission.destroy   what the account sent through
 *                   JMAP (EmailSubmission): projector/mail_submission.h
 *
 *   identity.set    {identity_id (a JMAP Id, <= MAIL_IDENTITY_ID_MAX octets,
 *                    writer-chosen), create: bool, default: bool (optional),
 *                    email (an address or "*@domain"), name, reply_to, bcc
 *                    (null or [{name, email}]), text_signature, html_signature}
 *                   A JMAP Identity (RFC 8621 6) stored for the account:
 *                   one it created, or (default: true) its override of a
 *                   default identity the gateway derives from the directory.
 *                   create: rejected "exists" when the id is taken, "limit"
 *                   past MAIL_IDENTITY_MAX records; else an update,
 *                   rejected "not-found" without the record (unless
 *                   default) and "immutable" when email or default differ.
 *                   Limits: name MAIL_IDENTITY_NAME_MAX octets, signatures
 *                   MAIL_IDENTITY_SIG_MAX. Whether the account may use the
 *                   email is the writer's check. result: {identity_id}
 *   identity.destroy {identity_id}  rejected "not-found". result: {identity_id}
 *
 *   blob.upload     {blob_id (64 hex), size (octets), type (media type as
 *                    the client gave it, printable ASCII, <= MAIL_UPLOAD_TYPE_MAX
 *                    octets, "" = unknown), ttl_s (optional, 3600 s to ten
 *                    years, default 86400: how long the upload keeps its blob
 *                    from the collector, projector/blob_gc.h)}
 *                   JMAP upload (RFC 8620 6.1, RFC 9404 Blob/upload): the
 *                   account may read that blob (its bytes go to the blob
 *                   topic first; the applier does not look at them). An
 *                   upload of bytes already stored is recorded again, "at"
 *                   = the event's ts. The record stays; the blob may be
 *                   collected after ttl_s. result: {blob_id}
 *
 *   pushsub.set     {create: bool, id (32 hex, writer-chosen), device_client_id
 *                    (1..MAIL_PUSHSUB_DEVICE_MAX octets), url ("https://" or
 *                    "http://", printable ASCII, <= MAIL_PUSHSUB_URL_MAX; the
 *                    writer allows http only when jmap.push_allow_http),
 *                    keys ({p256dh, auth} as the client gave them, or null),
 *                    verification_code (printable ASCII, made by the writer
 *                    with RAND_bytes: THE LOG HOLDS IT), verified (bool),
 *                    expires (ms or null), types ([name...] or null)}
 *                   A JMAP PushSubscription (RFC 8620 7.2) of the user whose
 *                   address is the account. create: rejected "exists" when
 *                   the id is taken, "invalid" when verified, "limit" past
 *                   MAIL_PUSHSUB_MAX live ones; an update replaces the
 *                   record, rejected "not-found" without it and
 *                   "immutable" when device_client_id, url, keys or
 *                   verification_code differ; verified never goes back to
 *                   false. Either is rejected "expired" when expires <= the
 *                   event's ts. A subscription whose expires <= an event's
 *                   ts is lapsed for that event: not found, not counted,
 *                   and deleted by any accepted pushsub event.
 *                   result: {id, verified, expires}
 *   pushsub.destroy {id}            rejected "not-found" (absent or lapsed).
 *                   result: {id}
 *
 *   mailbox.acl     {mailbox_id, identifier, action, rights}  RFC 4314 ACLs;
 *                   any event may carry "as": <sharee> (a write to a
 *                   shared mailbox, checked against the owner's ACL): see
 *                   projector/mail_acl.h
 *
 *   account.purge   {}  the account was removed from the directory (the
 *                   admin API appends it after account.remove): every key
 *                   under mail/<acct>/ goes except shared/ (written by the
 *                   owners' partitions), with the sharee index entries of
 *                   its grants and its node-local text index; its body
 *                   references drop to 0 as a last expunge would. Rejected
 *                   "invalid" with any data or with "as". Idempotent.
 *                   projector/mail_purge.c. result: {keys, messages, shares}
 *
 * IDENTIFIERS come from the log (ARCHITECTURE.md, Projection):
 * UID = the mailbox's uidnext at apply time; MODSEQ = offset + 1 of the
 * event; UIDVALIDITY = (offset + 1) of the creating event mod 2^32 (0 is
 * mapped to 1); email_id = first 32 hex of SHA-256(blob_id + prefix)
 * (the same content delivered twice has one email id, RFC 8474 EMAILID).
 *
 * BLOBS on the blob topic: key "<blob id>/<upload>/<chunk index>" ("<blob
 * id>/<chunk index>" in older logs), partition = fnv1a32(blob id) mod P,
 * one event per chunk:
 *   blob.chunk {blob_id, upload (16 hex, optional), index, count, size,
 *               data (base64 of <= 512 KiB)}
 * blob_id = SHA-256 hex of the whole body: identical content is one blob.
 * The applier stores the chunk bytes; a blob is complete when all count
 * chunks are present. Chunks are idempotent (the same bytes again change
 * no content). blob.gc and the uploads: projector/blob_gc.h.
 *
 * READ API: committed state, thread-safe. Mailbox and message objects:
 *   mailbox {id, name, special_use, uidvalidity, uidnext, highestmodseq,
 *            messages, unseen, size, subscribed, recent_uid (once claimed),
 *            sort_order (once set)}
 *   message {uid, modseq, flags, keywords, internal_date, size, blob_id,
 *            prefix, email_id, savedate, dsn (when the append carried one)}
 *   (the summary is read separately: it is shared by copies)
 * Lookups return 1 found, 0 not found, -1 error. */
#ifndef EVM_MAIL_H
#define EVM_MAIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "projector/view.h"

#define MAIL_BLOB_CHUNK_MAX (512 * 1024)
#define MAIL_MAILBOX_NAME_MAX 512
/* RFC 5464 limits, checked by the applier (the log decides). */
#define MAIL_META_NAME_MAX 255
#define MAIL_META_VALUE_MAX (64 * 1024)
#define MAIL_META_ENTRIES_MAX 100
#define MAIL_META_SET_MAX 100
#define MAIL_META_SERVER "server"
/* pushsub.set limits (projector/mail_pushsub.c). */
#define MAIL_PUSHSUB_MAX 50
#define MAIL_PUSHSUB_URL_MAX 2048
#define MAIL_PUSHSUB_DEVICE_MAX 255
#define MAIL_PUSHSUB_KEY_MAX 256
#define MAIL_PUSHSUB_CODE_MAX 128
#define MAIL_PUSHSUB_TYPES_MAX 32
/* identity.set limits (projector/mail_identity.c). */
#define MAIL_IDENTITY_MAX 100
#define MAIL_IDENTITY_ID_MAX 64
#define MAIL_IDENTITY_NAME_MAX 256
#define MAIL_IDENTITY_SIG_MAX (64 * 1024)
#define MAIL_IDENTITY_ADDRS_MAX 50
/* blob.upload: the longest media type kept. */
#define MAIL_UPLOAD_TYPE_MAX 255

/* IMAP system flags (RFC 9051 2.3.2), bit order = stored order. */
enum {
	MAIL_F_ANSWERED = 1 << 0,
	MAIL_F_DELETED = 1 << 1,
	MAIL_F_DRAFT = 1 << 2,
	MAIL_F_FLAGGED = 1 << 3,
	MAIL_F_SEEN = 1 << 4,
};

/* RFC 3834 4: the period within which one sender gets one automatic
 * reply (7 days, the Sieve vacation default of RFC 5230 4.1). */
#define MAIL_VACATION_PERIOD_MS (7LL * 24 * 3600 * 1000)
/* The vacation response (projector/mail_vacation.c): 1 with *vac_r, 0 none. */
int mail_vacation_get(struct view *view, const char *account, json_t **vac_r, const char **error_r);

/* The user's push subscriptions (mail_pushsub.c), lapsed ones included
 * until an event prunes them (the caller compares expires with its own
 * clock): 0 with *list_r (records as in mail_keys.h psub/, by id; free
 * it), or -1. */
int mail_pushsub_list(struct view *view, const char *account, json_t **list_r, const char **error_r);
/* One of them: 1 with *rec_r (free it), 0 none, -1 error. */
int mail_pushsub_get(struct view *view, const char *account, const char *id, json_t **rec_r,
		     const char **error_r);

int mail_mailboxes(struct view *view, const char *account, json_t **list_r, const char **error_r);
int mail_mailbox_get(struct view *view, const char *account, const char *mailbox_id,
		     json_t **mailbox_r, const char **error_r);
/* The mailbox record as stored, without mail_mailbox_get's "subscribed"
 * (a second lookup, in the subscription keys): for readers that only want
 * its counters and modseqs, such as an IMAP session's sync. */
int mail_mailbox_record(struct view *view, const char *account, const char *mailbox_id,
			json_t **mailbox_r, const char **error_r);
int mail_mailbox_by_name(struct view *view, const char *account, const char *name,
			 json_t **mailbox_r, const char **error_r);
/* Messages of a mailbox in UID order, from uid_min on (0: all). */
int mail_messages(struct view *view, const char *account, const char *mailbox_id,
		  uint32_t uid_min, json_t **list_r, const char **error_r);
int mail_message_get(struct view *view, const char *account, const char *mailbox_id,
		     uint32_t uid, json_t **message_r, const char **error_r);
int mail_summary_get(struct view *view, const char *account, const char *email_id,
		     json_t **summary_r, const char **error_r);
/* {"messages": n, "quota_used": bytes} for the whole account. */
int mail_account_usage(struct view *view, const char *account, json_t **usage_r, const char **error_r);
/* 1 when the account's mail state has a quota and quota_used + size would
 * exceed it (for refusing early at RCPT time; the projector's check on
 * message.append stays the one that counts). 0 when not, -1 on error. */
int mail_over_quota(struct view *view, const char *account, uint64_t size, const char **error_r);
/* The subscribed mailbox names (existing or not) as a JSON array of
 * strings (always set; free it). 0, or -1 on error. */
int mail_subscriptions(struct view *view, const char *account, json_t **names_r, const char **error_r);
/* The account's quota in bytes (0 = unlimited) into *quota_r: 1 when the
 * mail state has one, 0 when not (*quota_r = 0), -1 on error. */
int mail_account_quota(struct view *view, const char *account, uint64_t *quota_r, const char **error_r);
/* Expunged UIDs with modseq > since (for QRESYNC VANISHED), as [[lo,hi]...].
 * Exact only when since >= the mailbox's pruned modseq (below). */
int mail_vanished(struct view *view, const char *account, const char *mailbox_id,
		  uint64_t since, json_t **ranges_r, const char **error_r);
/* The highest modseq of an expunge tombstone pruned after
 * mail.tombstone_days (projector/mail_prune.c), 0 when none: from a
 * position before it, the expunges are not all known. 1, 0 (no such
 * mailbox), -1 error. */
int mail_mailbox_pruned(struct view *view, const char *account, const char *mailbox_id, uint64_t *pruned_r,
			const char **error_r);
/* Messages of a mailbox with lo <= uid <= hi, in UID order (one range
 * read). 0 (*list_r set, maybe empty) or -1. */
int mail_messages_range(struct view *view, const char *account, const char *mailbox_id, uint32_t lo,
			uint32_t hi, json_t **list_r, const char **error_r);
/* One entry of the modseq index (mail_keys.h mseq/, mexp/). */
struct mail_change {
	uint32_t uid;
	int64_t modseq;         /* the message's modseq, or the expunge's */
	int expunged;
	unsigned flags;         /* MAIL_F_* (live entries) */
	const char *keywords;   /* space-separated, sorted; kwlen octets, not NUL-terminated */
	size_t kwlen;
};
/* Return 0 to go on, -1 to stop (mail_changes then fails). */
typedef int mail_change_fn(void *ctx, const struct mail_change *c);
/* The changes of a mailbox after modseq since, from the modseq index: every
 * live message whose modseq > since (appended, copied or moved in, flags
 * stored), in modseq order; then, with_expunged, every message expunged
 * after since, in modseq order. since = 0 lists every live message, so a
 * SELECT reads UIDs, modseqs and flags without parsing a record each. One
 * consistent snapshot per index. 0 (also for an unknown mailbox) or -1. */
int mail_changes(struct view *view, const char *account, const char *mailbox_id, int64_t since,
		 int with_expunged, mail_change_fn *fn, void *ctx, const char **error_r);
/* The whole body: prefix + blob. 1 and *data_r (malloc'ed) when every chunk
 * is here, 0 when the blob is not (yet) complete on this node, -1 error. */
int mail_message_body(struct view *view, const char *account, const char *mailbox_id,
		      uint32_t uid, char **data_r, size_t *len_r, const char **error_r);
/* The same for a message record already read (mail_message_get,
 * mail_messages_range): no second read and parse of the record. */
int mail_message_body_rec(struct view *view, json_t *msg, char **data_r, size_t *len_r, const char **error_r);
/* A blob alone (0 when incomplete). */
int mail_blob_read(struct view *view, const char *blob_id, char **data_r, size_t *len_r,
		   const char **error_r);

/* An upload the account recorded with blob.upload (mail_upload.c): 1 with
 * *upload_r {"at", "size", "type"} (free it), 0 when the account has no
 * such upload (or the id is not 64 hex digits), -1 on error. */
int mail_upload_get(struct view *view, const char *account, const char *blob_id, json_t **upload_r,
		    const char **error_r);

/* The account's stored identities (mail_identity.c), by id: 0 with
 * *list_r (records as in mail_keys.h ident/; free it), or -1. */
int mail_identities(struct view *view, const char *account, json_t **list_r, const char **error_r);

/* ---- METADATA and URLAUTH keys (mail_meta.c) ---- */
/* 1 when name[len] is a valid (lower-case) entry name (mailbox.metadata). */
int mail_meta_entry_valid(const char *name, size_t len);
/* An entry's value (mailbox_id "" = the server): 1 and *val_r (malloc'ed,
 * NUL-terminated, may hold NULs: *len_r), 0 when not set, -1 error. */
int mail_metadata_get(struct view *view, const char *account, const char *mailbox_id,
		      const char *entry, char **val_r, size_t *len_r, const char **error_r);
/* The entry names set on a mailbox ("" = the server), sorted (always
 * set; free it). 0 or -1. */
int mail_metadata_names(struct view *view, const char *account, const char *mailbox_id,
			json_t **names_r, const char **error_r);
/* The access key of a mailbox, or with "" the account's base key, as 64
 * hex digits: 1 found, 0 none, -1 error. */
int mail_urlauth_key(struct view *view, const char *account, const char *mailbox_id,
		     char hex_r[65], const char **error_r);

#endif

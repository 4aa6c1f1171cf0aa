/* mail_internal - helpers shared by the mail appliers and the read API.
 * Not for use outside projector/mail_*.c and projector/blob_*.c.
 *
 * Every applier follows one shape, so that a rejected command writes
 * nothing (applier.h): validate every data field, open the account
 * (mail_acct_open), check every precondition, and only then write. An
 * account without mailboxes is provisioned VIRTUALLY by mail_acct_open (its
 * six mailboxes live in memory and lookups see them); mail_acct_begin_write
 * writes them for real just before the first write of an accepted command.
 *
 * Helpers named mail_field_* read one data field of ctx->ev, validate it
 * completely and, when it is malformed, record an "invalid" rejection and
 * return NULL or -1. */
#ifndef EVM_MAIL_INTERNAL_H
#define EVM_MAIL_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "common/address.h"
#include "common/buf.h"
#include "projector/applier.h"
#include "projector/mail.h"
#include "projector/mail_keys.h"

#define MAIL_JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)
#define MAIL_ID_LEN 32
#define MAIL_BLOB_ID_LEN 64
#define MAIL_UID_MAX UINT32_MAX
#define MAIL_RANGES_MAX 10000
#define MAIL_KEYWORDS_MAX 100
#define MAIL_KEYWORD_LEN_MAX 255
/* Entries in a flag list of message.store: every system flag and keyword,
 * with room for duplicates. */
#define MAIL_FLAG_LIST_MAX 256
#define MAIL_PREFIX_MAX (64 * 1024)
#define MAIL_BLOB_COUNT_MAX 1000000
#define MAIL_BLOB_SIZE_MAX ((int64_t)MAIL_BLOB_COUNT_MAX * MAIL_BLOB_CHUNK_MAX)
/* 9999-12-31T23:59:59.999Z */
#define MAIL_DATE_MAX INT64_C(253402300799999)
/* Message-IDs indexed per summary, and their length. */
#define MAIL_MSGID_INDEX_MAX 16
#define MAIL_MSGID_LEN_MAX 512
#define MAIL_CORRUPT "corrupt mail record in the view"
/* Tombstones pruned per mailbox, and destroyed JMAP objects per type, by
 * one event; JMAP change entries looked at per type (mail_prune.c). */
#define MAIL_PRUNE_MAX 64
#define MAIL_PRUNE_SCAN_MAX 256

/* A set of UIDs: sorted, merged, non-empty ranges. */
struct mail_uidset {
	uint32_t (*r)[2];
	size_t n;
};

/* One account, opened by an applier. */
struct mail_acct {
	struct apply_ctx *ctx;
	const char *address;     /* ctx->ev->account */
	int64_t quota;           /* from the mail state; 0 = unlimited */
	int64_t modseq;          /* offset + 1 of the event */
	int provisioned;         /* mail/<acct>/usage exists in the view */
	json_t *usage;           /* {"messages","quota_used"} */
	json_t *virt;            /* virtual mailboxes while not provisioned */
	struct buf key;          /* scratch */
	unsigned jpruned;        /* JMAP types pruned by this event (bit 1 << type) */
};

/* ---- account (mail_account.c) ---- */

/* Checks the envelope account (an address in normal form) and loads its
 * quota and usage from its mail state. APPLY_ACCEPTED means go on. */
enum apply_status mail_acct_open(struct apply_ctx *ctx, struct mail_acct *a, const char **error_r);
void mail_acct_close(struct mail_acct *a);
/* Before the first write: provisions the account if needed and notes the
 * change for push. */
void mail_acct_begin_write(struct mail_acct *a);
/* Stores the quota (0 = unlimited: no record). After begin_write. */
void mail_acct_set_quota(struct mail_acct *a, int64_t quota);
/* Writes the usage record (after changing a->usage). */
void mail_acct_put_usage(struct mail_acct *a);
/* Adds to the usage counters. */
void mail_acct_usage_add(struct mail_acct *a, int64_t messages, int64_t bytes);

/* Mailbox by id / by (canonical) name: 1 found (a new reference / the id
 * copied into id_out), 0 not found, -1 error. */
int mail_mbox_get(struct mail_acct *a, const char *id, json_t **mbox_r, const char **error_r);
int mail_mbox_by_name(struct mail_acct *a, const char *name, char id_out[MAIL_ID_LEN + 1],
		      const char **error_r);
/* Writes a mailbox record and notes the JMAP Mailbox change. 0 or -1. */
int mail_mbox_put(struct mail_acct *a, json_t *mbox, const char **error_r);
/* Writes a mailbox record without a JMAP change: for state JMAP does not
 * show (recent_uid) and for provisioning (which notes its own). */
void mail_mbox_write(struct mail_acct *a, json_t *mbox);
/* A new mailbox record (counters zero, uidnext 1). */
json_t *mail_mbox_new(const char *id, const char *name, const char *special_use,
		      uint32_t uidvalidity, int64_t modseq);
/* UIDVALIDITY of a mailbox created by the event at offset. */
uint32_t mail_uidvalidity(int64_t offset);

/* Summary reference counting: delta > 0 adds references (summary is
 * stored with its Message-ID index when the email id is new; summary may
 * be NULL only when the email id is known; a new email id joins a thread,
 * received in ms); delta < 0 drops them and the last one removes the
 * summary. Notes the JMAP Email change. 0 or -1 (view error or corrupt). */
int mail_email_ref(struct mail_acct *a, const char *email_id, const char *mailbox_id, json_t *summary,
		   int64_t received, int64_t delta, const char **error_r);

/* ---- messages (mail_msgs.c) ---- */

/* The messages of a mailbox whose UIDs are in set (NULL: all), in UID
 * order, appended to list. count is the mailbox's message count (chooses
 * point lookups or one scan). */
int mail_msgs_collect(struct mail_acct *a, const char *mailbox_id, const struct mail_uidset *set,
		      int64_t count, json_t *list, const char **error_r);
/* Writes a message record and its modseq index entry (mail_keys.h),
 * deleting the entry of its previous modseq (old_modseq > 0: the message
 * was there before); a new one enters the email's locations (eloc/) and
 * counts one more reference to its body (blob_gc.h). Notes the JMAP Email
 * change. 0 or -1. */
int mail_msg_put(struct mail_acct *a, const char *mailbox_id, json_t *msg, int64_t old_modseq,
		 const char **error_r);
/* Deletes a message record, its index entry (modseq: the record's) and
 * its location entry. */
void mail_msg_delete(struct mail_acct *a, const char *mailbox_id, const char *email_id, uint32_t uid,
		     int64_t modseq);
/* The expunge tombstone (gone/) and the expunge index entry (mexp/,
 * holding the event's time: mail_prune.c). */
void mail_tombstone_put(struct mail_acct *a, const char *mailbox_id, uint32_t uid, int64_t modseq);
/* Removes messages (records already collected) from a mailbox record and
 * the account: counters, summaries, body references (blob_gc.h), and
 * (tombstones set) expunge tombstones. Does not write mbox. */
int mail_msgs_remove(struct mail_acct *a, const char *mailbox_id, json_t *mbox, json_t *msgs,
		     int tombstones, const char **error_r);

/* ---- records and fields (mail_util.c) ---- */

int mail_batch_get_json(struct view_batch *b, const struct buf *key, json_t **obj_r,
			const char **error_r);
/* A decimal value: 1 found, 0 not, -1 error or not a number. */
int mail_batch_get_int(struct view_batch *b, const struct buf *key, int64_t *val_r,
		       const char **error_r);
void mail_batch_put_json(struct view_batch *b, const struct buf *key, json_t *obj);
void mail_batch_put_int(struct view_batch *b, const struct buf *key, int64_t val);
void mail_batch_put_str(struct view_batch *b, const struct buf *key, const char *s);
void mail_batch_delete(struct view_batch *b, const struct buf *key);
/* Keys under prefix (after the prefix) appended to names. */
int mail_batch_names(struct view_batch *b, const struct buf *prefix, json_t *names,
		     const char **error_r);

/* Integer member of a stored record; -1 with MAIL_CORRUPT when missing. */
int mail_rec_int(json_t *obj, const char *member, int64_t *val_r, const char **error_r);
const char *mail_rec_str(json_t *obj, const char *member, const char **error_r);
/* Adds delta to an integer member (must exist). */
void mail_rec_add(json_t *obj, const char *member, int64_t delta);
void mail_rec_set(json_t *obj, const char *member, int64_t val);

int mail_hex_valid(const char *s, size_t len);
/* The first len bytes of s are lower-case hex digits (s may go on). */
int mail_hex_prefix(const char *s, size_t len);
/* Parses a key suffix "<20 digits>/<10 digits>" (a modseq or a time, then
 * a UID: mseq/, mexp/, sdat/) of exactly len octets, not NUL-terminated.
 * 0, or -1 when malformed (also a UID of 0 or over 2^32-1, or a number
 * that overflows int64). */
int mail_key_num_uid(const char *p, size_t len, int64_t *num_r, uint32_t *uid_r);
/* first 32 hex digits of SHA-256(a + b) */
void mail_hash_id(const char *a, const char *b, char out[MAIL_ID_LEN + 1]);

/* Canonical mailbox name: validated (mail.h) with a leading INBOX component
 * in upper case. 0, or -1 with *error_r. */
int mail_name_canonical(const char *in, char out[MAIL_MAILBOX_NAME_MAX + 1], const char **error_r);
int mail_name_is_inbox(const char *name);

const char *mail_field_id(struct apply_ctx *ctx, const char *field);
int mail_field_name(struct apply_ctx *ctx, const char *field, char out[MAIL_MAILBOX_NAME_MAX + 1]);
int mail_field_uids(struct apply_ctx *ctx, const char *field, struct mail_uidset *set);
void mail_uidset_free(struct mail_uidset *set);
int mail_uidset_has(const struct mail_uidset *set, uint32_t uid);
/* Sorted UIDs -> [[lo,hi]...]. */
json_t *mail_ranges(const uint32_t *uids, size_t n);

/* A list of flags. sys_ok: system flags allowed; kw_ok: keywords allowed.
 * *sys_r gets the bits, *kw_r a new array of distinct keywords (sorted).
 * An absent field is an empty list when optional. 0 or -1 (rejected). */
int mail_field_flags(struct apply_ctx *ctx, const char *field, int optional, int sys_ok,
		     int kw_ok, unsigned *sys_r, json_t **kw_r);
json_t *mail_flags_json(unsigned sys);
unsigned mail_flags_bits(json_t *arr);
/* Keyword lists: union / difference (case-insensitive), sorted. New refs. */
json_t *mail_kw_union(json_t *a, json_t *b);
json_t *mail_kw_minus(json_t *a, json_t *b);

/* Sets a result member (stolen value). */
void mail_result(struct apply_ctx *ctx, const char *name, json_t *value);

/* The appliers (tables in mail_appliers.c). */
applier_fn mail_apply_provision;
applier_fn mail_apply_quota;
applier_fn mail_apply_mailbox_create;
applier_fn mail_apply_mailbox_rename;
applier_fn mail_apply_mailbox_delete;
applier_fn mail_apply_subscribe;
applier_fn mail_apply_append;
applier_fn mail_apply_store;
applier_fn mail_apply_copy;
applier_fn mail_apply_move;
applier_fn mail_apply_expunge;
applier_fn mail_apply_claim_recent;
applier_fn mail_apply_metadata;
applier_fn mail_apply_urlauth_key;
applier_fn mail_apply_vacation_set;    /* mail_vacation.c */
applier_fn mail_apply_vacation_reply;
applier_fn mail_apply_upload;
applier_fn mail_apply_pushsub_set;     /* mail_pushsub.c */
applier_fn mail_apply_pushsub_destroy;
applier_fn mail_apply_submission_record;   /* mail_submission.c */
applier_fn mail_apply_submission_destroy;
applier_fn mail_apply_mailbox_update;      /* mail_mailbox_update.c */
applier_fn mail_apply_identity_set;        /* mail_identity.c */
applier_fn mail_apply_identity_destroy;
applier_fn mail_apply_purge;               /* mail_purge.c */
applier_fn mail_apply_mailbox_retention;   /* mail_retention.c */
/* 1 when su is "" or a special use the store keeps (mail.h mailbox.create). */
int mail_special_use_valid(const char *su);

/* ---- pruning after the horizon (mail_prune.c) ---- */
enum mail_jtype;
/* Before a mailbox record is written: removes its oldest expunge
 * tombstones older than the horizon and sets "pruned_modseq" in mbox, and
 * "prune_next", the expunge time of the first tombstone left after it
 * (MAIL_PRUNE_NONE: none is left; absent or 0: not known), so that an
 * event finding that time inside the horizon skips the scan, which would
 * stop at that first entry. 0 or -1. */
#define MAIL_PRUNE_NONE (-1)
int mail_prune_mailbox(struct mail_acct *a, json_t *mbox, const char **error_r);
/* Once per event and type: removes destroyed objects of type t older than
 * the horizon from the change index (jseq/, jobj/, jprn/). 0 or -1. */
int mail_prune_jmap(struct mail_acct *a, enum mail_jtype t, int destroy, const char **error_r);
/* The pruned position of a jprn/ record. 0, or -1 when malformed. */
int mail_jprn_pruned(const char *val, size_t vlen, int64_t *pruned_r);

/* ---- metadata and access keys (mail_meta.c) ---- */
/* Removes a deleted mailbox's METADATA entries and access key (after
 * begin_write). 0 or -1. */
int mail_meta_drop_mailbox(struct mail_acct *a, const char *mailbox_id, const char **error_r);

/* ---- JMAP change tracking (mail_jmap.c, projector/mail_jmap.h) ---- */
enum mail_jtype;
/* An object of type t changed at a->modseq (destroy: it is gone now). 0 or
 * -1 (view error, corrupt record). */
int mail_jmap_touch(struct mail_acct *a, enum mail_jtype t, const char *id, int destroy,
		    const char **error_r);
/* An update of an object that existed before the index knew it (a
 * default Identity's first override): not reported as created. */
int mail_jmap_touch_existing(struct mail_acct *a, enum mail_jtype t, const char *id, const char **error_r);
/* An object known to be new (provisioning): written without a lookup. */
void mail_jmap_created(struct mail_acct *a, enum mail_jtype t, const char *id);
/* Adds (put) or removes a copy of an email in the eloc/ index. */
void mail_jmap_loc(struct mail_acct *a, const char *email_id, const char *mailbox_id, uint32_t uid,
		   int put);
/* A new email id: its thread (from the summary's In-Reply-To and
 * References) and its received time. 0 or -1. */
int mail_jmap_email_new(struct mail_acct *a, const char *email_id, json_t *summary, int64_t received,
			const char **error_r);
/* A copy of an email entered (added) or left a mailbox: the mailbox's
 * received-time index (mrcv/) follows; the email's thread record must
 * exist. 0 or -1. */
int mail_jmap_email_placed(struct mail_acct *a, const char *email_id, const char *mailbox_id, int added,
			   const char **error_r);
/* The last copy of an email is gone: it leaves its thread. 0 or -1. */
int mail_jmap_email_gone(struct mail_acct *a, const char *email_id, const char **error_r);
/* An ethr/ record "<thread id> <received>": 0, or -1 when malformed. */
int mail_ethr_parse(const char *val, size_t vlen, char tid[MAIL_ID_LEN + 1], int64_t *received_r);
/* A jobj/ record: "<created> <updated>[ d]". 0 or -1 when malformed. */
int mail_jobj_parse(const char *val, size_t vlen, int64_t *created_r, int64_t *updated_r,
		    int *destroyed_r);

/* ---- ACL (mail_acl.c, projector/mail_acl.h) ---- */
applier_fn mail_apply_acl;
/* From mail_acct_open when the event's data has "as": the sharee's rights
 * on the owner's mailboxes. APPLY_ACCEPTED means go on. */
enum apply_status mail_acl_check(struct mail_acct *a, const char **error_r);
/* who's effective rights on the account's mailbox from the batch
 * (mail_acl.h): every right for the account itself. 0 or -1. */
int mail_acl_batch_rights(struct mail_acct *a, const char *mailbox_id, const char *who, unsigned *bits_r,
			  const char **error_r);
/* Writes (bits != 0) or removes who's entry on the mailbox and its index
 * entry (sharee index for an address, the tenant's for anyone). */
void mail_acl_grant(struct mail_acct *a, const char *mailbox_id, const char *who, unsigned bits);
/* Sets k to mailany/<tenant>/<owner>/<mailbox id> (projector/keys.h). */
void mail_acl_anyone_key(struct buf *k, const char *tenant, const char *owner, const char *mailbox_id);
/* Removes every grant on a mailbox and its sharee index entries (with
 * mailbox.delete). 0 or -1. */
int mail_acl_drop(struct mail_acct *a, const char *mailbox_id, const char **error_r);

#endif

/* mail_keys - the sub-layout of the mail store and the blob store under
 * KEY_MAIL, KEY_BLOB and KEY_BLOBMETA (projector/keys.h). Internal to
 * projector/mail_*.c and projector/blob_*.c.
 *
 * <acct> is the account address with '%' escaped as %25 and '/' as %2F, so
 * it is exactly one key component. <uid> is 10 decimal digits and <index> 6,
 * so byte order is numeric order. Names of mailboxes hold '/' and are always
 * the last component. Every JSON value is JSON_COMPACT|JSON_SORT_KEYS.
 *
 *   mail/<acct>/usage                       {"messages":n,"quota_used":bytes};
 *                                           present iff the account is provisioned
 *   mail/<acct>/quota                       bytes (decimal) from mailbox.provision /
 *                                           account.quota; absent = 0 = unlimited
 *   mail/<acct>/mbox/<mailbox id>           mailbox record {id, name, special_use,
 *                                           uidvalidity, uidnext, highestmodseq,
 *                                           messages, unseen, size, sort_order
 *                                           (mailbox.update; absent = 0),
 *                                           pruned_modseq (the highest modseq of a
 *                                           pruned tombstone, mail_prune.c; absent = 0),
 *                                           prune_next (the expunge time of the first
 *                                           tombstone after it; -1 none, absent = 0 =
 *                                           not known), expunged_modseq (the newest
 *                                           tombstone's modseq; absent = not known),
 *                                           retention_ms (the mailbox's retention rule,
 *                                           projector/retention.h; absent = none)}
 *   mail/<acct>/name/<name>                 the mailbox id (name index)
 *   mail/<acct>/sub/<name>                  "" (subscribed names; a name need not
 *                                           exist, RFC 9051 6.3.7)
 *   mail/<acct>/msg/<mailbox id>/<uid>      message record {uid, modseq, flags,
 *                                           keywords, internal_date, size, blob_id,
 *                                           prefix, email_id, savedate}
 *   mail/<acct>/gone/<mailbox id>/<uid>     modseq of the expunge (decimal), for
 *                                           QRESYNC VANISHED; removed with the mailbox,
 *                                           or with its mexp/ entry after the horizon
 *   mail/<acct>/mseq/<mailbox id>/<modseq>/<uid>
 *                                           the modseq index: one entry per live
 *                                           message, at its current modseq (20
 *                                           digits); value "<flag bits>[ kw...]"
 *                                           (bits as MAIL_F_* in mail.h, keywords
 *                                           sorted as in the record). Written in
 *                                           the batch that writes the record, the
 *                                           entry of its previous modseq deleted
 *   mail/<acct>/mexp/<mailbox id>/<modseq>/<uid>
 *                                           the expunge event's time (ms, decimal; ""
 *                                           in older views = 0): expunged at modseq
 *                                           (the same events as gone/, ordered by
 *                                           modseq); removed with the mailbox, or by
 *                                           an event of the mailbox at least
 *                                           mail.tombstone_days later (mail_prune.c)
 *   mail/<acct>/sdat/<mailbox id>/<save date>/<uid>
 *                                           "": the save-date index (projector/
 *                                           retention.h), one entry per live message
 *                                           at its record's "savedate" (ms, 20 digits;
 *                                           "internal_date" when it has none), written
 *                                           and deleted with the record
 *   mail/<acct>/email/<email id>            the MIME summary (common/mime.h), one per
 *                                           email id, shared by every copy
 *   mail/<acct>/eref/<email id>             how many messages carry the email id
 *                                           (decimal); the last expunge removes the
 *                                           summary and its mid/ entries
 *   mail/<acct>/mid/<message-id>/<email id> "" (threading: Message-ID -> email ids;
 *                                           <message-id> without <>, escaped as <acct>)
 *   mail/<acct>/meta/<mailbox id>/<entry>   RFC 5464 METADATA: the raw value of a
 *                                           lower-case entry name ("/private/..." or
 *                                           "/shared/..."); <mailbox id> "server" for
 *                                           the server's entries (mailbox ""); removed
 *                                           with the mailbox, kept on RENAME (the id)
 *   mail/<acct>/ukey/<mailbox id>           RFC 4467 mailbox access key (64 hex);
 *                                           "server": the account's base key, from
 *                                           which a mailbox without its own key derives
 *                                           one (gateway/imap/imap_urlauth.c)
 *   mail/<acct>/acl/<mailbox id>/<who>      the rights of <who> (an address escaped as
 *                                           <acct>) on the mailbox, canonical letters
 *                                           (projector/mail_acl.h); removed with it
 *   mail/<sharee>/shared/<owner>/<mailbox id>  {"rights","tenant"}: what <owner> shares
 *                                           with <sharee>; written ONLY by the owner's
 *                                           partition (mailbox.acl, mailbox.delete)
 *   mail/<acct>/jobj/<type>/<id>            JMAP change record of an object
 *                                           (projector/mail_jmap.h; <type> mailbox,
 *                                           email or thread): "<created modseq>
 *                                           <last modseq>[ d]" (d: destroyed)
 *   mail/<acct>/jseq/<type>/<modseq>/<id>   the change index, one entry per object at
 *                                           its last modseq (20 digits): "" for a live
 *                                           object, the time (ms) of the destroying
 *                                           event for a destroyed one; with its jobj/
 *                                           record pruned after the horizon
 *   mail/<acct>/jprn/<type>                 "<pruned> <next>[ <cursor>]": every destroyed
 *                                           object pruned had a modseq <= pruned
 *                                           (/changes from before it cannot be
 *                                           calculated); cursor "<modseq>/<id>" is the
 *                                           last jseq/ entry looked at; next the time
 *                                           of the destroyed entry the last scan met
 *                                           too new (0: unknown) (mail_prune.c)
 *   mail/<acct>/jst/<type>                  the type's state: modseq of its last change
 *   mail/<acct>/eloc/<email id>/<mailbox id>/<uid>
 *                                           "" : the copies of an email
 *   mail/<acct>/ethr/<email id>             "<thread id> <received ms>"
 *   mail/<acct>/thr/<thread id>/<received>/<email id>
 *                                           "" : a thread's emails, oldest first
 *                                           (received: 20 digits)
 *   mail/<acct>/arcv/<received>/<email id>  "" : every email by received time (20 digits)
 *   mail/<acct>/mrcv/<mailbox id>/<received>/<email id>
 *                                           "" : the emails with a copy in a mailbox by
 *                                           received time (the email's, as in ethr/)
 *   mail/<acct>/vac                         the vacation response (projector/mail_vacation.c)
 *                                           {enabled, from_date, to_date, subject,
 *                                           text_body, html_body}
 *   mail/<acct>/vacr/<sender>               time (ms, the event's) of the last
 *                                           automatic reply to <sender> (escaped as <acct>)
 *   mail/<acct>/upl/<blob id>               {"at": ms (the event's ts), "size": octets,
 *                                           "type": media type as given}: a blob the
 *                                           account uploaded (blob.upload, JMAP);
 *                                           it may read it, no other account may
 *   mail/<acct>/psub/<id>                   a JMAP PushSubscription of the user
 *                                           (projector/mail_pushsub.c): {id,
 *                                           device_client_id, url, keys, verification_code,
 *                                           verified, expires, types}
 *   mail/<acct>/esub/<id>                   an EmailSubmission record (JMAP,
 *                                           projector/mail_submission.h)
 *   mail/<acct>/ident/<identity id>         a stored JMAP Identity (projector/mail_identity.c):
 *                                           {id, email, name, reply_to, bcc,
 *                                           text_signature, html_signature, default}
 *   blob/<blob id>/<index>                  the chunk's decoded bytes
 *   blobmeta/<blob id>                      {"count":n,"present":n,"size":bytes}
 */
#ifndef EVM_MAIL_KEYS_H
#define EVM_MAIL_KEYS_H

#include <stdint.h>

#include "common/buf.h"
#include "projector/keys.h"

#define MAIL_K_USAGE "usage"
#define MAIL_K_QUOTA "quota"
#define MAIL_K_MBOX "mbox/"
#define MAIL_K_NAME "name/"
#define MAIL_K_SUB "sub/"
#define MAIL_K_MSG "msg/"
#define MAIL_K_GONE "gone/"
#define MAIL_K_MSEQ "mseq/"
#define MAIL_K_MEXP "mexp/"
#define MAIL_K_SDAT "sdat/"
#define MAIL_K_EMAIL "email/"
#define MAIL_K_EREF "eref/"
#define MAIL_K_MID "mid/"
#define MAIL_K_META "meta/"
#define MAIL_K_UKEY "ukey/"
#define MAIL_K_ACL "acl/"
#define MAIL_K_SHARED "shared/"
#define MAIL_K_JOBJ "jobj/"
#define MAIL_K_JSEQ "jseq/"
#define MAIL_K_JST "jst/"
#define MAIL_K_JPRN "jprn/"
#define MAIL_K_ELOC "eloc/"
#define MAIL_K_ETHR "ethr/"
#define MAIL_K_THR "thr/"
#define MAIL_K_ARCV "arcv/"
#define MAIL_K_MRCV "mrcv/"
#define MAIL_K_VAC "vac"
#define MAIL_K_VACR "vacr/"
#define MAIL_K_UPL "upl/"
#define MAIL_K_PSUB "psub/"
#define MAIL_K_ESUB "esub/"
#define MAIL_K_IDENT "ident/"

/* Appends s with '%' -> %25 and '/' -> %2F. */
void mail_key_escape(struct buf *k, const char *s);
/* Sets k to "mail/<acct>/". */
void mail_key_account(struct buf *k, const char *account);
/* Sets k to "mail/<acct>/" + kind + a (a may be NULL). */
void mail_key(struct buf *k, const char *account, const char *kind, const char *a);
/* Sets k to "mail/<acct>/" + kind + mailbox + "/" (+ uid when uid > 0). */
void mail_key_uid(struct buf *k, const char *account, const char *kind, const char *mailbox,
		  uint32_t uid);
/* Sets k to "blob/<blob id>/" (+ index when index >= 0). */
void blob_key(struct buf *k, const char *blob_id, int64_t index);
void blob_meta_key(struct buf *k, const char *blob_id);

#endif

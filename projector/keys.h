/* keys - the view's key layout, in one place.
 *
 * Text keys, '/'-separated, chosen so prefix scans list what a reader
 * needs. Names used inside keys are validated not to contain '/' except the
 * last component (an address's local part may hold '/', so addresses are
 * only ever last).
 *
 *   off/<topic suffix>/<partition, 10 digits>  next offset to apply (decimal)
 *   ev/<event id>                              outcome JSON of a command
 *   dir/tenant/<tenant>                        tenant JSON
 *   dir/domain/<domain>                        domain JSON
 *   dir/tenant-domain/<tenant>/<domain>        "" (domains of a tenant)
 *   dir/account/<address>                      account JSON (incl. password hash)
 *   dir/domain-account/<domain>/<address>      "" (accounts of a domain)
 *   dir/alias/<alias address>                  alias JSON (sorted targets)
 *   dir/domain-alias/<domain>/<alias address>  "" (aliases of a domain)
 *   dir/dkim/<domain>/<selector>               DKIM key JSON (incl. private key)
 *   akey/<kid>                                 a data key, wrapped (projector/keyring.h)
 *   akeycur/<address>                          the account's current kid
 *   akeyx/<kid>                                an erased key (the address as value)
 *   akeyxa/<address>                           the account was erased once (the
 *                                              account.erase's event id)
 *   akeyacct/<acct>/<kid>                      "" (the keys of an account; <acct>
 *                                              escaped as under mail/)
 *   stat/<name>                                deterministic counters (decimal)
 *   mail/<acct>/...                            an account's mail store; <acct> is
 *                                              the address with '%' and '/' escaped
 *                                              as %25 and %2F (see projector/mail_*.c)
 *   mailany/<tenant>/<acct>/<mailbox id>       {"rights"}: what <acct> grants to
 *                                              "anyone" of its tenant (RFC 4314 2;
 *                                              projector/mail_acl.h), written only
 *                                              by <acct>'s partition; escaped as mail/
 *   blob/<blob id>/<index %06u>                chunk bytes
 *   blobmeta/<blob id>                         {size, count, present}
 *   blobref/, blobzero/, blobup/, blobupt/     who references a body, and its uploads
 *                                              (body garbage collection, projector/blob_gc.h)
 *   q/item|due|stat/...                        the outbound queue (projector/queue.h)
 *   local/...                                  node-local, not in the digest
 *   local/fts/<acct>/...                       the text index (gateway/fts/fts.h)
 *   local/view-format                          VIEW_FORMAT of the build that made the
 *                                              view (projector_format.c)
 *   local/view-horizon                         mail.tombstone_days (in ms) the view was
 *                                              made with: an input of the appliers
 *                                              (projector/mail_prune.c), so a view made
 *                                              with another is rebuilt */
#ifndef EVM_KEYS_H
#define EVM_KEYS_H

#define KEY_OFFSET "off/"
#define KEY_EVENT "ev/"
#define KEY_TENANT "dir/tenant/"
#define KEY_DOMAIN "dir/domain/"
#define KEY_TENANT_DOMAIN "dir/tenant-domain/"
#define KEY_ACCOUNT "dir/account/"
#define KEY_DOMAIN_ACCOUNT "dir/domain-account/"
#define KEY_ALIAS "dir/alias/"
#define KEY_DOMAIN_ALIAS "dir/domain-alias/"
#define KEY_DKIM "dir/dkim/"
#define KEY_AKEY "akey/"
#define KEY_AKEYCUR "akeycur/"
#define KEY_AKEYX "akeyx/"
#define KEY_AKEYACCT "akeyacct/"
#define KEY_AKEYXA "akeyxa/"
#define KEY_STAT "stat/"
#define KEY_MAIL "mail/"
#define KEY_ACL_ANYONE "mailany/"
#define KEY_BLOB "blob/"
#define KEY_BLOBMETA "blobmeta/"
#define KEY_LOCAL "local/"
/* local/fts/<acct>/...: the node-local text index (gateway/fts/fts.h),
 * dropped with the account's mail by account.purge (mail_purge.c). */
#define KEY_LOCAL_FTS "local/fts/"
#define KEY_VIEW_FORMAT "local/view-format"
#define KEY_VIEW_HORIZON "local/view-horizon"
/* "view" or "log": the blob.store the view was made with (absent: view). */
#define KEY_VIEW_BLOBSTORE "local/view-blob-store"
/* blob.store = log: blobloc/<blob id>/<upload>/<index> = "<partition> <offset>"
 * of the chunk's record in the blob topic (projector/blob_store.h). */
#define KEY_BLOBLOC "blobloc/"

/* 2: the mail modseq index (mail_keys.h mseq/, mexp/). 3: JMAP change
 * tracking, email locations and threads (jobj/, jseq/, jst/, eloc/, ethr/,
 * thr/). 4: emails by received time (arcv/, mrcv/). 5: expunge and destroy
 * times in mexp/ and jseq/, pruning after the horizon (pruned_modseq,
 * jprn/). 6: body references and uploads (blob_gc.h; a view without the
 * counts would let the collector take bodies still referenced). 7: the
 * save-date index (mail_keys.h sdat/, projector/retention.h; without it
 * retention would never see the older messages). A view of another
 * format is rebuilt from the log at start. 8: sealed events and the
 * data keys (akey/, akeycur/, akeyx/, akeyacct/, projector/keyring.h): a
 * view made before would have rejected account.key and sealed events. */
#define VIEW_FORMAT 8

#endif

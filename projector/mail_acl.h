/* mail_acl - access control lists on mailboxes (RFC 4314) and mailboxes
 * shared between accounts of one tenant: rights, the read API.
 *
 * The OWNER's mail partition takes every change to a shared mailbox:
 *
 *   mailbox.acl {mailbox_id, identifier, action: "set"|"add"|"remove"|"delete",
 *                rights (canonical, "" allowed; absent for delete)}
 *               identifier (RFC 4314 2): an address in normal form (not
 *               the owner: the owner always has every right), "anyone"
 *               (every account of the owner's tenant, never of another),
 *               or either with a leading "-": a NEGATIVE entry, whose
 *               rights are taken away. Rights are RFC 4314 2.1
 *               lrswipkxtea; the obsolete c and d are mapped per RFC 4314
 *               2.1.1 (c = k, d = x t e) by the writer and by
 *               mail_rights_parse. An entry whose rights become empty is
 *               removed. The writer (the gateway) checks that an address
 *               is an account of the owner's tenant (the directory is not
 *               partition-local state); the applier records the
 *               envelope's tenant with the grant, and readers ignore
 *               grants whose tenant is not theirs.
 *               result: {mailbox_id, identifier, rights}
 *
 * EFFECTIVE RIGHTS of an account other than the owner (RFC 4314 2,
 * mail_rights_effective): (own entry | "anyone") & ~("-own" | "-anyone").
 * The applier's checks and every reader (IMAP, JMAP myRights) use them.
 *
 * ACTING AS A SHAREE: any mail event may carry "as": <sharee address> in
 * its data; it is then submitted to the owner's partition (envelope
 * account = the owner) and the applier checks the sharee's effective
 * rights from the owner's state before anything else (mail_acct_open),
 * rejecting with "forbidden" (nothing written):
 *   message.append   i on the target; \Seen needs s, \Deleted t, any
 *                    other flag or keyword w
 *   message.store    s / t / w by the flags named; "set" needs s, t and w
 *   message.copy     r on the source, i on the target
 *   message.move     r, t and e on the source, i on the target
 *   message.expunge  e
 *   mailbox.claim_recent  r
 *   mailbox.acl      a
 *   mailbox.create   k on the parent (the name up to its last '/'); a
 *                    top-level name has no parent and is refused (RFC
 *                    4314 4 CREATE). The mailbox is the owner's. Its ACL
 *                    starts with ONE entry: the creator gets every right
 *                    (lrswipkxtea), as Cyrus and Dovecot give the creator
 *                    of a mailbox in another user's tree, so the sharee
 *                    can use and administer what it made, while the
 *                    owner keeps every right as always. Nothing is
 *                    inherited from the parent (no surprise grants to
 *                    "anyone" copied down; the creator holds a and can
 *                    grant).
 *   mailbox.delete   x on the mailbox (RFC 4314 4 DELETE)
 *   mailbox.rename   x on the mailbox and k on the new name's parent
 *                    (RFC 4314 4 RENAME); a top-level new name is refused
 *   anything else    refused (the owner's alone)
 * \Seen is shared (RFC 4314 allows it): one \Seen per message for everyone.
 *
 * SHAREE INDEX: with each positive grant to an address the owner's applier
 * writes
 *   mail/<sharee>/shared/<owner>/<mailbox id>  {"rights":..,"tenant":..}
 * (mail_keys.h). Only the owner's partition ever writes those keys, so a
 * replay is deterministic. The entry goes with the grant and with the
 * mailbox (mailbox.delete); a rename changes nothing (the entry holds the
 * mailbox id; the name is read from the owner's record).
 *
 * TENANT ("anyone") INDEX: a grant to "anyone" cannot be written under
 * every account of the tenant (they are not partition-local state, and
 * accounts created later must see it). The owner's applier writes instead
 *   mailany/<tenant>/<owner>/<mailbox id>  {"rights":..}
 * (projector/keys.h KEY_ACL_ANYONE; <tenant> and <owner> escaped as in
 * mail_keys.h), the envelope's tenant being the owner's. Only the owner's
 * partition writes it (mailbox.acl, mailbox.delete, account.purge), so
 * the view stays deterministic. mail_shared_list reads both indexes.
 * A change of a grant to anyone is reported to the projector's
 * subscribers (apply_changed) under mail_acl_anyone_channel(tenant), a
 * name that is never an address: a NOTIFY session or a JMAP push
 * subscribes to it to learn of mailboxes newly shared with anyone.
 * Negative entries are in no index: they only take rights away from an
 * entry found through one. */
#ifndef EVM_MAIL_ACL_H
#define EVM_MAIL_ACL_H

#include <jansson.h>

#include "common/address.h"
#include "common/buf.h"
#include "projector/view.h"

/* RFC 4314 2.1 rights, bit i = MAIL_RIGHTS_ALL[i]. */
#define MAIL_RIGHTS_ALL "lrswipkxtea"
#define MAIL_RIGHTS_LEN 16   /* a rights string with c and d, plus NUL */
enum {
	MAIL_R_LOOKUP = 1 << 0,   /* l */
	MAIL_R_READ = 1 << 1,     /* r */
	MAIL_R_SEEN = 1 << 2,     /* s */
	MAIL_R_WRITE = 1 << 3,    /* w */
	MAIL_R_INSERT = 1 << 4,   /* i */
	MAIL_R_POST = 1 << 5,     /* p */
	MAIL_R_CREATE = 1 << 6,   /* k */
	MAIL_R_DELMBOX = 1 << 7,  /* x */
	MAIL_R_DELMSG = 1 << 8,   /* t */
	MAIL_R_EXPUNGE = 1 << 9,  /* e */
	MAIL_R_ADMIN = 1 << 10,   /* a */
};
#define MAIL_R_EVERY 0x7ffu

/* RFC 4314 2: the identifier of every account (of the owner's tenant). */
#define MAIL_ACL_ANYONE "anyone"
/* The longest identifier: "-" and an address. */
#define MAIL_ACL_ID_MAX (1 + EVM_ADDRESS_MAX)
enum mail_acl_id_kind {
	MAIL_ID_USER,        /* an address in normal form */
	MAIL_ID_ANYONE,      /* "anyone" */
	MAIL_ID_NEG_USER,    /* "-" address */
	MAIL_ID_NEG_ANYONE,  /* "-anyone" */
};
/* The kind of an identifier (enum mail_acl_id_kind), or -1 when it is
 * none of them (an address not in normal form included). */
int mail_acl_identifier_kind(const char *who);
/* "-" + who into out (the negative entry of an address or of anyone). */
void mail_acl_negative(const char *who, char out[MAIL_ACL_ID_MAX + 1]);
/* Sets out to "anyone <tenant>": the name under which the projector
 * reports a change of the tenant's grants to anyone (a space: never an
 * address in normal form). */
void mail_acl_anyone_channel(struct buf *out, const char *tenant);
/* RFC 4314 2: (own | anyone) & ~(neg_own | neg_anyone). */
unsigned mail_rights_effective(unsigned own, unsigned anyone, unsigned neg_own, unsigned neg_anyone);

/* Rights letters to bits, c -> k and d -> x t e (RFC 4314 2.1.1). 0, or
 * -1 for any other character. */
int mail_rights_parse(const char *s, unsigned *bits_r);
/* The rights storing a flag list needs (RFC 4314 4): \Seen s, \Deleted t,
 * anything else w. */
unsigned mail_acl_flag_rights(json_t *flags);
/* Canonical letters in MAIL_RIGHTS_ALL order; with_obsolete adds c when k
 * is set and d when any of x t e is (RFC 4314 2.1.1, for MYRIGHTS and ACL
 * responses). */
void mail_rights_string(unsigned bits, int with_obsolete, char out[MAIL_RIGHTS_LEN]);

/* The ACL of the owner's mailbox: {identifier: rights} (new ref, without
 * the owner; "anyone" and negative entries included). 0, or -1 on error. */
int mail_acl_list(struct view *view, const char *owner, const char *mailbox_id, json_t **acl_r,
		  const char **error_r);
/* who's effective rights on the owner's mailbox into *bits_r: every right
 * for the owner, mail_rights_effective otherwise (0 when none). The
 * caller has checked that who is of the owner's tenant. 0, or -1. */
int mail_acl_rights(struct view *view, const char *owner, const char *mailbox_id, const char *who,
		    unsigned *bits_r, const char **error_r);
/* What is shared with sharee by accounts of tenant: the sharee index and
 * the tenant's "anyone" index (NULL tenant: the sharee index only, of any
 * tenant), [{owner, mailbox_id, rights, direct}] sorted by owner then
 * mailbox id (new ref); rights are the effective ones (maybe ""), direct
 * is true when sharee has an entry of its own. 0, or -1 on error. */
int mail_shared_list(struct view *view, const char *sharee, const char *tenant, json_t **list_r,
		     const char **error_r);

#endif

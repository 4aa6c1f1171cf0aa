/* mail_acl - access control lists on mailboxes (RFC 4314) and mailboxes
 * shared between accounts of one tenant: rights, the read API.
 *
 * The OWNER's mail partition takes every change to a shared mailbox:
 *
 *   mailbox.acl {mailbox_id, identifier, action: "set"|"add"|"remove"|"delete",
 *                rights (canonical, "" allowed; absent for delete)}
 *               identifier: an address in normal form, not the owner (the
 *               owner always has every right). Rights are RFC 4314 2.1
 *               lrswipkxtea; the obsolete c and d are mapped per RFC 4314
 *               2.1.1 (c = k, d = x t e) by the writer and by
 *               mail_rights_parse. An entry whose rights become empty is
 *               removed. The writer (the gateway) checks that the
 *               identifier is an account of the owner's tenant (the
 *               directory is not partition-local state); the applier
 *               records the envelope's tenant with the grant, and readers
 *               ignore grants whose tenant is not theirs.
 *               result: {mailbox_id, identifier, rights}
 *
 * ACTING AS A SHAREE: any mail event may carry "as": <sharee address> in
 * its data; it is then submitted to the owner's partition (envelope
 * account = the owner) and the applier checks the sharee's rights from the
 * owner's state before anything else (mail_acct_open), rejecting with
 * "forbidden" (nothing written):
 *   message.append   i on the target; \Seen needs s, \Deleted t, any
 *                    other flag or keyword w
 *   message.store    s / t / w by the flags named; "set" needs s, t and w
 *   message.copy     r on the source, i on the target
 *   message.move     r, t and e on the source, i on the target
 *   message.expunge  e
 *   mailbox.claim_recent  r
 *   mailbox.acl      a
 *   anything else    refused (creating, renaming or deleting the owner's
 *                    mailboxes is the owner's)
 * \Seen is shared (RFC 4314 allows it): one \Seen per message for everyone.
 *
 * SHAREE INDEX: with each grant the owner's applier writes
 *   mail/<sharee>/shared/<owner>/<mailbox id>  {"rights":..,"tenant":..}
 * (mail_keys.h). Only the owner's partition ever writes those keys, so a
 * replay is deterministic. The entry goes with the grant and with the
 * mailbox (mailbox.delete); a rename changes nothing (the entry holds the
 * mailbox id; the name is read from the owner's record). */
#ifndef EVM_MAIL_ACL_H
#define EVM_MAIL_ACL_H

#include <jansson.h>

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
 * the owner). 0, or -1 on error. */
int mail_acl_list(struct view *view, const char *owner, const char *mailbox_id, json_t **acl_r,
		  const char **error_r);
/* who's rights on the owner's mailbox into *bits_r: every right for the
 * owner, the entry's otherwise (0 when none). 0, or -1 on error. */
int mail_acl_rights(struct view *view, const char *owner, const char *mailbox_id, const char *who,
		    unsigned *bits_r, const char **error_r);
/* What is shared with sharee by accounts of tenant (NULL: of any tenant):
 * [{owner, mailbox_id, rights}] sorted by owner then mailbox id (new ref).
 * 0, or -1 on error. */
int mail_shared_list(struct view *view, const char *sharee, const char *tenant, json_t **list_r,
		     const char **error_r);

#endif

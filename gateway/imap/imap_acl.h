/* imap_acl - mailboxes shared with the session's account (RFC 4314 ACL,
 * RFC 2342 "Other Users" namespace): name lookup, rights, listing, and
 * the routing of writes to the owner's partition (projector/mail_acl.h).
 *
 * Another account's mailbox appears as "Other Users/<owner>/<name>". It
 * exists for the session only when the owner is an account of the same
 * tenant and has granted it at least one right; otherwise it is exactly
 * like a mailbox that does not exist (RFC 4314 6: NO [NONEXISTENT], absent
 * from LIST, STATUS, GETACL, MYRIGHTS). The session reads the owner's
 * records from the local view; writes go to the owner's partition with
 * "as" = the session's account, checked again by the owner's applier.
 * Rights are the effective ones (the session's entry and "anyone" less
 * the negative entries, projector/mail_acl.h). With k on a parent the
 * session may CREATE a child in the owner's tree, with x DELETE, with x
 * and k on the new parent RENAME (RFC 4314 4, imap_acl_mbox.c). */
#ifndef EVM_IMAP_ACL_H
#define EVM_IMAP_ACL_H

#include <jansson.h>

#include "gateway/imap/imap_session_private.h"
#include "projector/mail_acl.h"

#define IMAP_OTHER_USERS "Other Users"

/* 1 when name lies in the Other Users namespace (or is its root). */
int imap_acl_is_other(const char *name);
/* A mailbox name for the session: its own, or a shared one. 1 found:
 * *box_r is the record with "name" = name as the session sees it,
 * "owner" and "myrights" (bits) added; 0 no such mailbox for this
 * session; -1 error. */
int imap_acl_lookup(struct imap_session *s, const char *name, json_t **box_r, const char **error_r);
/* imap_acl_lookup that answers NO itself: [SERVERBUG], [<nocode>] when
 * not found, [NOPERM] when a right of need is missing. 1, or 0 answered. */
int imap_acl_find(struct imap_session *s, const char *name, unsigned need, const char *nocode,
		  json_t **box_r);
/* The rights and owner of a record from imap_acl_lookup (or of a plain
 * mail.h record of the session's account: every right, the account). */
unsigned imap_acl_box_rights(json_t *box);
const char *imap_acl_box_owner(struct imap_session *s, json_t *box);
/* Appends the mailboxes shared with the session (with the l right) to
 * boxes, named as the session sees them (LIST). 0, or -1. */
int imap_acl_list_shared(struct imap_session *s, json_t *boxes, const char **error_r);
/* The rights a flag list needs (RFC 4314 4: \Seen s, \Deleted t, others w). */
unsigned imap_acl_flag_rights(json_t *flags);
/* Drops from flags / keywords what rights do not allow (APPEND). */
void imap_acl_filter_flags(unsigned rights, json_t *flags, json_t *keywords);
/* 1 when the selected mailbox grants every right of need. */
int imap_acl_may(struct imap_session *s, unsigned need);
/* imap_submit: 1 when the event's mailbox_id is a mailbox shared with the
 * session by another account (its address into owner), else 0. */
int imap_acl_route(struct imap_session *s, json_t *data, char owner[EVM_ADDRESS_MAX + 1]);
/* imap_submit for another account's partition, with "as" set. */
void imap_acl_submit(struct imap_session *s, const char *owner, const char *type, json_t *data,
		     imap_write_cb *cb);
/* Splits "Other Users/<owner>/<rest>": 1 with owner and *rest_r (in
 * name), 0 when name is not of that form. */
int imap_acl_split(const char *name, char owner[EVM_ADDRESS_MAX + 1], const char **rest_r);
/* The parent of name in owner's tree, with the k right (RFC 4314 4):
 * 1 with *parent_r (a new ref, imap_acl_lookup's record), or 0 answered
 * NO [NOPERM] (top-level, no parent, no k). */
int imap_acl_parent(struct imap_session *s, const char *name, const char *owner, json_t **parent_r);
/* RENAME of box (found with x) to to: the new name in the owner's tree
 * into *name_r (points into to). 1, or 0 answered (another account, a
 * missing k on the new parent, an own mailbox to "Other Users"). */
int imap_acl_rename_target(struct imap_session *s, json_t *box, const char *to, const char **name_r);
/* An RFC 4314 2 identifier argument: an address (normalized), "anyone"
 * in any case, either after "-". The identifier as stored into out, the
 * address or "anyone" without the "-" into base. 0, or -1 when it is none
 * of those. */
int imap_acl_identifier_parse(const char *arg, char out[MAIL_ACL_ID_MAX + 1], char base[EVM_ADDRESS_MAX + 1],
			      const char **error_r);
/* A shared mailbox was selected: the session also learns of the owner's
 * changes (IDLE). Unsubscribed by imap_mbox_free. */
void imap_acl_watch(struct imap_session *s, struct imap_mbox *mb);

#endif

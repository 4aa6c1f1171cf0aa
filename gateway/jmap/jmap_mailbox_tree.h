/* jmap_mailbox_tree - an account's mailboxes as JMAP sees them (RFC 8621
 * 2), for Mailbox/set and Mailbox/query: IMAP names are paths with '/';
 * a mailbox's JMAP name is the part of its path below its nearest existing
 * ancestor and its parentId that ancestor's id (as Mailbox/get shows
 * them); its role comes from its special use (INBOX is "inbox").
 *
 * A tree is a snapshot read from the view; it owns its strings. */
#ifndef EVM_JMAP_MAILBOX_TREE_H
#define EVM_JMAP_MAILBOX_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "projector/view.h"

#define JMAP_ROLE_MAX 16

struct jmap_mbox {
	char id[33];
	char *path;                 /* the IMAP name */
	const char *name;           /* the JMAP name: inside path */
	char parent_id[33];         /* "" at the top */
	int parent;                 /* index of the parent in the tree, -1 at the top */
	char role[JMAP_ROLE_MAX];   /* "" for none */
	int subscribed;
	int64_t messages;
	int64_t sort_order;         /* JMAP sortOrder (mailbox.update; 0 when unset) */
};

struct jmap_mbox_tree {
	struct jmap_mbox *m;        /* sorted by path */
	size_t n;
};

/* Reads the account's mailboxes and subscriptions. 0, or -1 with *error_r. */
int jmap_mbox_tree_load(struct view *view, const char *account, struct jmap_mbox_tree *t,
			const char **error_r);
void jmap_mbox_tree_free(struct jmap_mbox_tree *t);
/* The mailbox with that id / IMAP path / role, or NULL. */
const struct jmap_mbox *jmap_mbox_by_id(const struct jmap_mbox_tree *t, const char *id);
const struct jmap_mbox *jmap_mbox_by_path(const struct jmap_mbox_tree *t, const char *path);
const struct jmap_mbox *jmap_mbox_by_role(const struct jmap_mbox_tree *t, const char *role);
/* 1 when mailbox a is an ancestor of b (by parentId), else 0. */
int jmap_mbox_is_ancestor(const struct jmap_mbox_tree *t, const struct jmap_mbox *a,
			  const struct jmap_mbox *b);
/* 1 when any mailbox has b as its parent. */
int jmap_mbox_has_child(const struct jmap_mbox_tree *t, const struct jmap_mbox *b);

/* The special use (projector/mail.h mailbox.create) of a role we can
 * store, or NULL: "drafts" -> "\\Drafts", ... "flagged" -> "\\Flagged"
 * (RFC 8621 2, RFC 8457 / RFC 6154 names). "inbox" is INBOX's alone. */
const char *jmap_role_special_use(const char *role);

#endif

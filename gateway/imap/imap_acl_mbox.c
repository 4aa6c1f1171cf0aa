/* imap_acl_mbox - CREATE, DELETE and RENAME in another account's tree
 * (RFC 4314 4): the gateway's check of k and x, then one event in the
 * owner's partition with "as", checked again by the owner's applier
 * (projector/mail_acl.h "ACTING AS A SHAREE"). */
#include "gateway/imap/imap_acl.h"
#include "gateway/imap/imap_session_write.h"
#include "projector/mail.h"

#include <string.h>

int imap_acl_split(const char *name, char owner[EVM_ADDRESS_MAX + 1], const char **rest_r)
{
	const char *rest, *slash;

	if (!imap_acl_is_other(name) || name[strlen(IMAP_OTHER_USERS)] == '\0')
		return 0;
	rest = name + strlen(IMAP_OTHER_USERS) + 1;
	if ((slash = strchr(rest, '/')) == NULL || (size_t)(slash - rest) > EVM_ADDRESS_MAX ||
	    slash[1] == '\0')
		return 0;
	memcpy(owner, rest, (size_t)(slash - rest));
	owner[slash - rest] = '\0';
	*rest_r = slash + 1;
	return 1;
}

int imap_acl_parent(struct imap_session *s, const char *name, const char *owner, json_t **parent_r)
{
	char parent[MAIL_MAILBOX_NAME_MAX + 1];
	const char *slash = strrchr(name, '/');
	size_t n;

	*parent_r = NULL;
	/* "Other Users/<owner>/<top>": a top-level name has no parent there,
	 * so no k right can allow it (RFC 4314 4 CREATE). */
	if (slash == NULL || (n = (size_t)(slash - name)) <= strlen(IMAP_OTHER_USERS) + 1 + strlen(owner) ||
	    n > MAIL_MAILBOX_NAME_MAX) {
		imap_no(s, "[NOPERM] Only the owner creates top-level mailboxes");
		return 0;
	}
	memcpy(parent, name, n);
	parent[n] = '\0';
	return imap_acl_find(s, parent, MAIL_R_CREATE, "NOPERM", parent_r);
}

/* The outcome of a sharee's mailbox.create: OK [MAILBOXID] (RFC 8474 4.1). */
static void create_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	const char *id;

	if (!imap_outcome_ok(s, status, outcome, error, "CREATE"))
		return;
	id = json_string_value(json_object_get(outcome, "mailbox_id"));
	if (id != NULL)
		imap_ok(s, "[MAILBOXID (%s)] CREATE completed", id);
	else
		imap_ok(s, "CREATE completed");
}

void imap_acl_create(struct imap_session *s, const char *name, const char *id, const char *use)
{
	char owner[EVM_ADDRESS_MAX + 1];
	const char *rest;
	json_t *parent = NULL;

	if (!imap_acl_split(name, owner, &rest)) {
		imap_no(s, "[NOPERM] Mailboxes under \"" IMAP_OTHER_USERS "\" belong to their owners");
		return;
	}
	if (!imap_acl_parent(s, name, owner, &parent))
		return;
	/* The parent's record names the owner in normal form. */
	imap_acl_submit(s, imap_acl_box_owner(s, parent), "mailbox.create",
			json_pack("{s:s, s:s, s:s}", "mailbox_id", id, "name", rest, "special_use", use),
			create_done);
	json_decref(parent);
}

int imap_acl_rename_target(struct imap_session *s, json_t *box, const char *to, const char **name_r)
{
	const char *owner = imap_acl_box_owner(s, box), *rest;
	char to_owner[EVM_ADDRESS_MAX + 1];
	json_t *parent = NULL;

	if (strcmp(owner, s->account) == 0) {
		*name_r = to;
		if (!imap_acl_is_other(to))
			return 1;
		imap_no(s, "[NOPERM] Mailboxes under \"" IMAP_OTHER_USERS "\" belong to their owners");
		return 0;
	}
	/* RFC 4314 4 RENAME: x on the source (the caller's lookup) and k on
	 * the new parent, in the same owner's tree. */
	if (!imap_acl_split(to, to_owner, &rest) || strcmp(to_owner, owner) != 0) {
		imap_no(s, "[CANNOT] A mailbox cannot move to another account");
		return 0;
	}
	if (!imap_acl_parent(s, to, owner, &parent))
		return 0;
	json_decref(parent);
	*name_r = rest;
	return 1;
}

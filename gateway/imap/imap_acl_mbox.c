/* imap_acl_mbox - names and identifiers for shared mailboxes (RFC 4314):
 * splitting "Other Users/<owner>/<rest>", the k check on a parent for
 * CREATE and RENAME in another account's tree, the target of such a
 * RENAME, and the identifier argument of the ACL commands ("anyone",
 * "-identifier"). The commands submit one event in the owner's partition
 * with "as", checked again by the owner's applier (projector/mail_acl.h
 * "ACTING AS A SHAREE"). */
#include "gateway/imap/imap_acl.h"
#include "projector/mail.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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

int imap_acl_identifier_parse(const char *arg, char out[MAIL_ACL_ID_MAX + 1], char base[EVM_ADDRESS_MAX + 1],
			      const char **error_r)
{
	int neg = arg[0] == '-';
	const char *b = arg + neg;

	/* RFC 4314 2: "anyone" is case-sensitive in the RFC's examples;
	 * Cyrus and Dovecot take it in any case, so do we. */
	if (strcasecmp(b, MAIL_ACL_ANYONE) == 0) {
		snprintf(base, EVM_ADDRESS_MAX + 1, "%s", MAIL_ACL_ANYONE);
	} else if (evm_address_normalize(b, base, error_r) < 0) {
		return -1;
	}
	snprintf(out, MAIL_ACL_ID_MAX + 1, "%s%s", neg ? "-" : "", base);
	return mail_acl_identifier_kind(out) < 0 ? -1 : 0;
}

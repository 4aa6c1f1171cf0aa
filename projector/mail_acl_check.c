/* mail_acl_check - the rights check of events submitted as a sharee
 * ("as"), from the owner's state (projector/mail_acl.h "ACTING AS A
 * SHAREE"). */
#include "projector/mail_internal.h"
#include "projector/mail_acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What an event needs: rights on the mailbox it acts on (id) and, for
 * copy, move, create and rename, on a second one (to). */
struct need {
	char id[MAIL_ID_LEN + 1], to[MAIL_ID_LEN + 1];
	unsigned rights, to_rights;
};

/* The id of the parent of name (the name up to its last '/') into id;
 * "" when name is top-level or the parent does not exist (no right can
 * be held there). 0, or -1 on error. */
static int parent_id(struct mail_acct *a, const char *raw, char id[MAIL_ID_LEN + 1], const char **error_r)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1], parent[MAIL_MAILBOX_NAME_MAX + 1];
	const char *slash;
	int r;

	id[0] = '\0';
	/* Validated by the applier before it opened the account. */
	if (mail_name_canonical(raw, name, error_r) < 0)
		return -1;
	if ((slash = strrchr(name, '/')) == NULL)
		return 0;
	memcpy(parent, name, (size_t)(slash - name));
	parent[slash - name] = '\0';
	if ((r = mail_mbox_by_name(a, parent, id, error_r)) < 0)
		return -1;
	if (r == 0)
		id[0] = '\0';
	return 0;
}

/* The rights a mailbox event needs (RFC 4314 4): create k on the parent,
 * delete x, rename x and k on the new parent. 1 it is one, 0 not, -1. */
static int mailbox_needs(struct mail_acct *a, struct need *n, const char **error_r)
{
	json_t *data = a->ctx->ev->data;
	const char *type = a->ctx->ev->type;

	if (strcmp(type, "mailbox.create") == 0) {
		/* The new mailbox's id is not a right holder yet. */
		n->to_rights = MAIL_R_CREATE;
		return parent_id(a, json_string_value(json_object_get(data, "name")), n->to, error_r) < 0 ? -1 : 1;
	}
	if (strcmp(type, "mailbox.delete") == 0) {
		n->rights = MAIL_R_DELMBOX;
		return 1;
	}
	if (strcmp(type, "mailbox.rename") == 0) {
		n->rights = MAIL_R_DELMBOX;
		n->to_rights = MAIL_R_CREATE;
		return parent_id(a, json_string_value(json_object_get(data, "name")), n->to, error_r) < 0 ? -1 : 1;
	}
	return 0;
}

/* The rights an event needs into n. 0, -1 when a sharee may not submit
 * this type at all, -2 on error. */
static int needed_rights(struct mail_acct *a, struct need *n, const char **error_r)
{
	const struct evm_event *ev = a->ctx->ev;
	json_t *data = ev->data;
	const char *type = ev->type, *v;
	int r;

	memset(n, 0, sizeof *n);
	if ((v = json_string_value(json_object_get(data, "mailbox_id"))) != NULL)
		snprintf(n->id, sizeof n->id, "%s", v);
	if ((r = mailbox_needs(a, n, error_r)) != 0)
		return r < 0 ? -2 : 0;
	if (strcmp(type, "message.append") == 0) {
		n->rights = MAIL_R_INSERT | mail_acl_flag_rights(json_object_get(data, "flags"));
		if (json_array_size(json_object_get(data, "keywords")) > 0)
			n->rights |= MAIL_R_WRITE;
		if (n->id[0] == '\0') {
			char name[MAIL_MAILBOX_NAME_MAX + 1];

			/* Validated by the applier before it opened the account. */
			if (mail_name_canonical(json_string_value(json_object_get(data, "mailbox")), name,
						error_r) < 0 ||
			    mail_mbox_by_name(a, name, n->id, error_r) < 0)
				return -2;
		}
	} else if (strcmp(type, "message.store") == 0) {
		const char *action = json_string_value(json_object_get(data, "action"));

		if (action != NULL && strcmp(action, "set") == 0)
			n->rights = MAIL_R_SEEN | MAIL_R_DELMSG | MAIL_R_WRITE;
		else
			n->rights = mail_acl_flag_rights(json_object_get(data, "flags"));
	} else if (strcmp(type, "message.copy") == 0 || strcmp(type, "message.move") == 0) {
		n->rights = MAIL_R_READ;
		if (strcmp(type, "message.move") == 0)
			n->rights |= MAIL_R_DELMSG | MAIL_R_EXPUNGE;
		n->to_rights = MAIL_R_INSERT;
		if ((v = json_string_value(json_object_get(data, "to_mailbox_id"))) != NULL)
			snprintf(n->to, sizeof n->to, "%s", v);
	} else if (strcmp(type, "message.expunge") == 0) {
		n->rights = MAIL_R_EXPUNGE;
	} else if (strcmp(type, "mailbox.claim_recent") == 0) {
		n->rights = MAIL_R_READ;
	} else if (strcmp(type, "mailbox.acl") == 0) {
		n->rights = MAIL_R_ADMIN;
	} else {
		return -1;
	}
	return 0;
}

/* 1 when who has every right of need on the mailbox (none needed: 1), 0
 * not (no mailbox: not), -1 error. */
static int has_rights(struct mail_acct *a, const char *mailbox_id, const char *who, unsigned need,
		      const char **error_r)
{
	unsigned have;

	if (need == 0)
		return 1;
	if (mailbox_id[0] == '\0')
		return 0;
	if (mail_acl_batch_rights(a, mailbox_id, who, &have, error_r) < 0)
		return -1;
	return (have & need) == need;
}

enum apply_status mail_acl_check(struct mail_acct *a, const char **error_r)
{
	struct apply_ctx *ctx = a->ctx;
	char norm[EVM_ADDRESS_MAX + 1];
	const char *as, *error = NULL;
	struct need n;
	int r;

	if ((as = evm_data_str(ctx->ev, "as", EVM_ADDRESS_MAX, &error)) == NULL)
		return apply_reject(ctx, "invalid", "as: %s", error);
	if (evm_address_normalize(as, norm, &error) < 0 || strcmp(norm, as) != 0)
		return apply_reject(ctx, "invalid", "as: not an address in normal form");
	if (strcmp(as, a->address) == 0)
		return APPLY_ACCEPTED;   /* the owner: every right */
	if ((r = needed_rights(a, &n, error_r)) == -2)
		return APPLY_FAILED;
	if (r < 0)
		return apply_reject(ctx, "forbidden", "%s is the owner's alone", ctx->ev->type);
	if ((r = has_rights(a, n.id, as, n.rights, error_r)) == 1)
		r = has_rights(a, n.to, as, n.to_rights, error_r);
	if (r < 0)
		return APPLY_FAILED;
	if (r == 0)
		return apply_reject(ctx, "forbidden", "%s lacks the rights for %s", as, ctx->ev->type);
	return APPLY_ACCEPTED;
}

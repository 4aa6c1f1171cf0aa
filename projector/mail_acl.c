/* mail_acl - the mailbox.acl applier, grants and their indexes (sharee and
 * "anyone", projector/mail_acl.h). */
#include "projector/mail_internal.h"
#include "projector/mail_acl.h"
#include "projector/keys.h"

#include <stdlib.h>
#include <string.h>

/* Sets k to mail/<owner>/acl/<mailbox id>/<identifier>. */
static void acl_key(struct buf *k, const char *owner, const char *mailbox_id, const char *who)
{
	mail_key_uid(k, owner, MAIL_K_ACL, mailbox_id, 0);
	mail_key_escape(k, who);
}

/* Sets k to mail/<sharee>/shared/<owner>/<mailbox id>. */
static void shared_key(struct buf *k, const char *sharee, const char *owner, const char *mailbox_id)
{
	mail_key(k, sharee, MAIL_K_SHARED, NULL);
	mail_key_escape(k, owner);
	buf_printf(k, "/%s", mailbox_id);
}

void mail_acl_anyone_key(struct buf *k, const char *tenant, const char *owner, const char *mailbox_id)
{
	buf_truncate(k, 0);
	buf_puts(k, KEY_ACL_ANYONE);
	mail_key_escape(k, tenant);
	buf_puts(k, "/");
	mail_key_escape(k, owner);
	buf_printf(k, "/%s", mailbox_id);
}

/* who's own entry on the mailbox (0 when none). 0 or -1. */
static int stored_rights(struct mail_acct *a, const char *mailbox_id, const char *who, unsigned *bits_r,
			 const char **error_r)
{
	char *val = NULL;
	int r;

	*bits_r = 0;
	acl_key(&a->key, a->address, mailbox_id, who);
	if ((r = view_batch_get(a->ctx->batch, a->key.data, a->key.len, &val, NULL, error_r)) <= 0)
		return r;
	r = mail_rights_parse(val, bits_r);
	free(val);
	if (r < 0)
		*error_r = MAIL_CORRUPT;
	return r;
}

int mail_acl_batch_rights(struct mail_acct *a, const char *mailbox_id, const char *who, unsigned *bits_r,
			  const char **error_r)
{
	char neg[MAIL_ACL_ID_MAX + 1];
	unsigned own, any, nown, nany;

	*bits_r = 0;
	if (strcmp(who, a->address) == 0) {
		*bits_r = MAIL_R_EVERY;
		return 0;
	}
	mail_acl_negative(who, neg);
	if (stored_rights(a, mailbox_id, who, &own, error_r) < 0 ||
	    stored_rights(a, mailbox_id, MAIL_ACL_ANYONE, &any, error_r) < 0 ||
	    stored_rights(a, mailbox_id, neg, &nown, error_r) < 0 ||
	    stored_rights(a, mailbox_id, "-" MAIL_ACL_ANYONE, &nany, error_r) < 0)
		return -1;
	/* "anyone" is every account of the owner's tenant: its grant counts
	 * only for an event of the tenant it was made in (its index key). */
	if (any != 0) {
		char *val = NULL;
		int r;

		mail_acl_anyone_key(&a->key, a->ctx->ev->tenant != NULL ? a->ctx->ev->tenant : "", a->address,
				    mailbox_id);
		if ((r = view_batch_get(a->ctx->batch, a->key.data, a->key.len, &val, NULL, error_r)) < 0)
			return -1;
		free(val);
		if (r == 0)
			any = 0;
	}
	*bits_r = mail_rights_effective(own, any, nown, nany);
	return 0;
}

void mail_acl_grant(struct mail_acct *a, const char *mailbox_id, const char *who, unsigned bits)
{
	const char *tenant = a->ctx->ev->tenant != NULL ? a->ctx->ev->tenant : "";
	char rights[MAIL_RIGHTS_LEN];
	int kind = mail_acl_identifier_kind(who);
	json_t *idx;

	mail_rights_string(bits, 0, rights);
	acl_key(&a->key, a->address, mailbox_id, who);
	if (bits == 0)
		mail_batch_delete(a->ctx->batch, &a->key);
	else
		mail_batch_put_str(a->ctx->batch, &a->key, rights);
	if (kind == MAIL_ID_USER) {
		shared_key(&a->key, who, a->address, mailbox_id);
		idx = json_pack("{s:s, s:s}", "rights", rights, "tenant", tenant);
	} else if (kind == MAIL_ID_ANYONE) {
		mail_acl_anyone_key(&a->key, tenant, a->address, mailbox_id);
		idx = json_pack("{s:s}", "rights", rights);
	} else {
		/* A negative entry is in no index (mail_acl.h); its sharee's
		 * sessions learn of it. */
		if (kind == MAIL_ID_NEG_USER)
			apply_changed(a->ctx, who + 1);
		return;
	}
	if (bits == 0)
		mail_batch_delete(a->ctx->batch, &a->key);
	else
		mail_batch_put_json(a->ctx->batch, &a->key, idx);
	json_decref(idx);
	if (kind == MAIL_ID_USER) {
		apply_changed(a->ctx, who);
	} else {
		mail_acl_anyone_channel(&a->key, tenant);
		apply_changed(a->ctx, a->key.data);
	}
}

/* The identifier field: an RFC 4314 identifier (mail_acl.h). NULL after
 * rejecting. */
static const char *field_identifier(struct apply_ctx *ctx)
{
	const char *who, *error = NULL;

	if ((who = evm_data_str(ctx->ev, "identifier", MAIL_ACL_ID_MAX, &error)) == NULL) {
		apply_reject(ctx, "invalid", "identifier: %s", error);
		return NULL;
	}
	if (mail_acl_identifier_kind(who) < 0) {
		apply_reject(ctx, "invalid", "identifier: not an address in normal form, anyone, or -either");
		return NULL;
	}
	return who;
}

/* mailbox.acl {mailbox_id, identifier, action, rights} (mail_acl.h). */
enum apply_status mail_apply_acl(struct apply_ctx *ctx, const char **error_r)
{
	const char *id, *who, *action, *rights = "", *error = NULL;
	char out[MAIL_RIGHTS_LEN];
	unsigned bits = 0, have;
	struct mail_acct a;
	enum apply_status st = APPLY_REJECTED;
	json_t *mbox = NULL;
	int r;

	memset(&a, 0, sizeof a);
	if ((id = mail_field_id(ctx, "mailbox_id")) == NULL || (who = field_identifier(ctx)) == NULL)
		goto out;
	if ((action = evm_data_str(ctx->ev, "action", 8, &error)) == NULL ||
	    (strcmp(action, "set") != 0 && strcmp(action, "add") != 0 && strcmp(action, "remove") != 0 &&
	     strcmp(action, "delete") != 0)) {
		apply_reject(ctx, "invalid", "action: not \"set\", \"add\", \"remove\" or \"delete\"");
		goto out;
	}
	if (strcmp(action, "delete") != 0 &&
	    ((rights = evm_data_str(ctx->ev, "rights", MAIL_RIGHTS_LEN, &error)) == NULL ||
	     mail_rights_parse(rights, &bits) < 0)) {
		apply_reject(ctx, "invalid", "rights: not RFC 4314 rights");
		goto out;
	}
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	if (strcmp(who + (who[0] == '-'), a.address) == 0) {
		st = apply_reject(ctx, "forbidden", "the owner's rights are fixed");
		goto out;
	}
	st = APPLY_FAILED;
	if ((r = mail_mbox_get(&a, id, &mbox, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no mailbox %s", id);
		goto out;
	}
	if (stored_rights(&a, id, who, &have, error_r) < 0)
		goto out;
	if (strcmp(action, "add") == 0)
		bits |= have;
	else if (strcmp(action, "remove") == 0)
		bits = have & ~bits;
	else if (strcmp(action, "delete") == 0)
		bits = 0;
	mail_acct_begin_write(&a);
	if (bits != have)
		mail_acl_grant(&a, id, who, bits);
	mail_rights_string(bits, 0, out);
	mail_result(ctx, "mailbox_id", json_string(id));
	mail_result(ctx, "identifier", json_string(who));
	mail_result(ctx, "rights", json_string(out));
	st = APPLY_ACCEPTED;
out:
	json_decref(mbox);
	mail_acct_close(&a);
	return st;
}

/* Undoes mail_key_escape (%25, %2F). */
static void unescape(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in != '\0' && n + 1 < size; n++) {
		if (strncmp(in, "%25", 3) == 0) {
			out[n] = '%';
			in += 3;
		} else if (strncmp(in, "%2F", 3) == 0) {
			out[n] = '/';
			in += 3;
		} else {
			out[n] = *in++;
		}
	}
	out[n] = '\0';
}

int mail_acl_drop(struct mail_acct *a, const char *mailbox_id, const char **error_r)
{
	char who[MAIL_ACL_ID_MAX + 1];
	json_t *names = json_array(), *v;
	size_t i;
	int ret = -1;

	mail_key_uid(&a->key, a->address, MAIL_K_ACL, mailbox_id, 0);
	if (mail_batch_names(a->ctx->batch, &a->key, names, error_r) < 0)
		goto out;
	json_array_foreach(names, i, v) {
		unescape(json_string_value(v), who, sizeof who);
		mail_acl_grant(a, mailbox_id, who, 0);
	}
	ret = 0;
out:
	json_decref(names);
	return ret;
}

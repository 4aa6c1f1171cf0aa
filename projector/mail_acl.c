/* mail_acl - the mailbox.acl applier, the rights check of events submitted
 * as a sharee ("as"), and the sharee index (projector/mail_acl.h). */
#include "projector/mail_internal.h"
#include "projector/mail_acl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int mail_rights_parse(const char *s, unsigned *bits_r)
{
	unsigned bits = 0;
	const char *p;

	for (; *s != '\0'; s++) {
		if (*s == 'c')
			bits |= MAIL_R_CREATE;
		else if (*s == 'd')
			bits |= MAIL_R_DELMBOX | MAIL_R_DELMSG | MAIL_R_EXPUNGE;
		else if ((p = strchr(MAIL_RIGHTS_ALL, *s)) != NULL)
			bits |= 1u << (p - MAIL_RIGHTS_ALL);
		else
			return -1;
	}
	*bits_r = bits;
	return 0;
}

void mail_rights_string(unsigned bits, int with_obsolete, char out[MAIL_RIGHTS_LEN])
{
	size_t n = 0;

	for (size_t i = 0; MAIL_RIGHTS_ALL[i] != '\0'; i++) {
		if (bits & (1u << i))
			out[n++] = MAIL_RIGHTS_ALL[i];
	}
	if (with_obsolete && (bits & MAIL_R_CREATE))
		out[n++] = 'c';
	if (with_obsolete && (bits & (MAIL_R_DELMBOX | MAIL_R_DELMSG | MAIL_R_EXPUNGE)))
		out[n++] = 'd';
	out[n] = '\0';
}

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

/* who's stored rights on the mailbox (0 when no entry). 0 or -1. */
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

unsigned mail_acl_flag_rights(json_t *flags)
{
	unsigned need = 0;
	size_t i;
	json_t *f;

	json_array_foreach(flags, i, f) {
		const char *v = json_string_value(f);

		if (v != NULL && strcasecmp(v, "\\Seen") == 0)
			need |= MAIL_R_SEEN;
		else if (v != NULL && strcasecmp(v, "\\Deleted") == 0)
			need |= MAIL_R_DELMSG;
		else
			need |= MAIL_R_WRITE;
	}
	return need;
}

/* The mailbox an event acts on and the rights it needs there; for copy and
 * move also the target (*to_r) and the rights needed there. 0, or -1 when
 * a sharee may not submit this type at all. */
static int needed_rights(struct mail_acct *a, char id[MAIL_ID_LEN + 1], unsigned *need_r,
			 const char **to_r, const char **error_r)
{
	const struct evm_event *ev = a->ctx->ev;
	json_t *data = ev->data;
	const char *type = ev->type, *v;

	*to_r = NULL;
	id[0] = '\0';
	if ((v = json_string_value(json_object_get(data, "mailbox_id"))) != NULL)
		snprintf(id, MAIL_ID_LEN + 1, "%s", v);
	if (strcmp(type, "message.append") == 0) {
		*need_r = MAIL_R_INSERT | mail_acl_flag_rights(json_object_get(data, "flags"));
		if (json_array_size(json_object_get(data, "keywords")) > 0)
			*need_r |= MAIL_R_WRITE;
		if (id[0] == '\0') {
			char name[MAIL_MAILBOX_NAME_MAX + 1];

			/* Validated by the applier before it opened the account. */
			if (mail_name_canonical(json_string_value(json_object_get(data, "mailbox")), name,
						error_r) < 0 ||
			    mail_mbox_by_name(a, name, id, error_r) < 0)
				return -2;
		}
	} else if (strcmp(type, "message.store") == 0) {
		const char *action = json_string_value(json_object_get(data, "action"));

		if (action != NULL && strcmp(action, "set") == 0)
			*need_r = MAIL_R_SEEN | MAIL_R_DELMSG | MAIL_R_WRITE;
		else
			*need_r = mail_acl_flag_rights(json_object_get(data, "flags"));
	} else if (strcmp(type, "message.copy") == 0 || strcmp(type, "message.move") == 0) {
		*need_r = MAIL_R_READ;
		if (strcmp(type, "message.move") == 0)
			*need_r |= MAIL_R_DELMSG | MAIL_R_EXPUNGE;
		*to_r = json_string_value(json_object_get(data, "to_mailbox_id"));
	} else if (strcmp(type, "message.expunge") == 0) {
		*need_r = MAIL_R_EXPUNGE;
	} else if (strcmp(type, "mailbox.claim_recent") == 0) {
		*need_r = MAIL_R_READ;
	} else if (strcmp(type, "mailbox.acl") == 0) {
		*need_r = MAIL_R_ADMIN;
	} else {
		return -1;
	}
	return 0;
}

/* 1 when who has every right of need on the mailbox, 0 not, -1 error. */
static int has_rights(struct mail_acct *a, const char *mailbox_id, const char *who, unsigned need,
		      const char **error_r)
{
	unsigned have;

	if (mailbox_id == NULL || mailbox_id[0] == '\0')
		return 0;
	if (stored_rights(a, mailbox_id, who, &have, error_r) < 0)
		return -1;
	return (have & need) == need;
}

enum apply_status mail_acl_check(struct mail_acct *a, const char **error_r)
{
	struct apply_ctx *ctx = a->ctx;
	char norm[EVM_ADDRESS_MAX + 1], id[MAIL_ID_LEN + 1];
	const char *as, *to, *error = NULL;
	unsigned need;
	int r;

	if ((as = evm_data_str(ctx->ev, "as", EVM_ADDRESS_MAX, &error)) == NULL)
		return apply_reject(ctx, "invalid", "as: %s", error);
	if (evm_address_normalize(as, norm, &error) < 0 || strcmp(norm, as) != 0)
		return apply_reject(ctx, "invalid", "as: not an address in normal form");
	if (strcmp(as, a->address) == 0)
		return APPLY_ACCEPTED;   /* the owner: every right */
	if ((r = needed_rights(a, id, &need, &to, error_r)) == -2)
		return APPLY_FAILED;
	if (r < 0)
		return apply_reject(ctx, "forbidden", "%s is the owner's alone", ctx->ev->type);
	if ((r = has_rights(a, id, as, need, error_r)) < 0)
		return APPLY_FAILED;
	if (r == 1 && to != NULL && (r = has_rights(a, to, as, MAIL_R_INSERT, error_r)) < 0)
		return APPLY_FAILED;
	if (r == 0)
		return apply_reject(ctx, "forbidden", "%s lacks the rights for %s", as, ctx->ev->type);
	return APPLY_ACCEPTED;
}

/* Writes (bits != 0) or removes one grant and its sharee index entry. */
static void put_grant(struct mail_acct *a, const char *mailbox_id, const char *who, unsigned bits)
{
	char rights[MAIL_RIGHTS_LEN];
	json_t *idx;

	mail_rights_string(bits, 0, rights);
	acl_key(&a->key, a->address, mailbox_id, who);
	if (bits == 0)
		mail_batch_delete(a->ctx->batch, &a->key);
	else
		mail_batch_put_str(a->ctx->batch, &a->key, rights);
	shared_key(&a->key, who, a->address, mailbox_id);
	if (bits == 0) {
		mail_batch_delete(a->ctx->batch, &a->key);
	} else {
		idx = json_pack("{s:s, s:s}", "rights", rights, "tenant",
				a->ctx->ev->tenant != NULL ? a->ctx->ev->tenant : "");
		mail_batch_put_json(a->ctx->batch, &a->key, idx);
		json_decref(idx);
	}
	apply_changed(a->ctx, who);
}

/* The identifier field: an address in normal form. NULL after rejecting. */
static const char *field_identifier(struct apply_ctx *ctx)
{
	char norm[EVM_ADDRESS_MAX + 1];
	const char *who, *error = NULL;

	if ((who = evm_data_str(ctx->ev, "identifier", EVM_ADDRESS_MAX, &error)) == NULL) {
		apply_reject(ctx, "invalid", "identifier: %s", error);
		return NULL;
	}
	if (evm_address_normalize(who, norm, &error) < 0 || strcmp(norm, who) != 0) {
		apply_reject(ctx, "invalid", "identifier: not an address in normal form");
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
	if (strcmp(who, a.address) == 0) {
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
		put_grant(&a, id, who, bits);
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
	char who[EVM_ADDRESS_MAX + 1];
	json_t *names = json_array(), *v;
	size_t i;
	int ret = -1;

	mail_key_uid(&a->key, a->address, MAIL_K_ACL, mailbox_id, 0);
	if (mail_batch_names(a->ctx->batch, &a->key, names, error_r) < 0)
		goto out;
	json_array_foreach(names, i, v) {
		unescape(json_string_value(v), who, sizeof who);
		put_grant(a, mailbox_id, who, 0);
	}
	ret = 0;
out:
	json_decref(names);
	return ret;
}

/* mail_identity - an account's stored JMAP Identities (RFC 8621 6): the
 * appliers of identity.set and identity.destroy (projector/mail.h) and
 * the read API. The account's default identities (its address and the
 * aliases that deliver to it) come from the directory and are derived by
 * the gateway; what is stored here is either an identity the user created
 * or the user's override of a default one ("default": true, same id).
 *
 * The applier checks the shape and the limits only; whether the account
 * may use an email is the writer's decision (the directory is not in this
 * partition, projector/mail.h). Keys: mail_keys.h ident/. */
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <stdlib.h>
#include <string.h>

/* RFC 8620 1.2 Id: 1..255 octets of A-Za-z0-9, '-' and '_' (ours: up to
 * MAIL_IDENTITY_ID_MAX). */
static int id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAIL_IDENTITY_ID_MAX)
		return 0;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_'))
			return 0;
	}
	return 1;
}

/* A string without NUL or control characters of at most max octets (0:
 * may be empty). */
static int text_valid(json_t *v, size_t max, int nonempty)
{
	const char *s = json_string_value(v);
	size_t n;

	if (s == NULL || (n = json_string_length(v)) != strlen(s) || n > max || (nonempty && n == 0))
		return 0;
	return 1;
}

/* An email field: an address or "*@domain", printable ASCII or UTF-8
 * without controls or spaces, 3..EVM_ADDRESS_MAX octets, one '@'. */
static int email_valid(json_t *v)
{
	const char *s = json_string_value(v), *at;

	if (!text_valid(v, EVM_ADDRESS_MAX, 1) || (at = strchr(s, '@')) == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* replyTo / bcc: null, or [{name: str|null, email}] (RFC 8621 4.1.2.3
 * EmailAddress). 0 with *out_r (a new reference), or -1 after rejecting. */
static int field_addrs(struct apply_ctx *ctx, const char *field, json_t **out_r)
{
	json_t *v = json_object_get(ctx->ev->data, field), *e, *name;
	size_t i;

	*out_r = NULL;
	if (v == NULL || json_is_null(v)) {
		*out_r = json_null();
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) > MAIL_IDENTITY_ADDRS_MAX)
		goto bad;
	json_array_foreach(v, i, e) {
		name = json_object_get(e, "name");
		if (!json_is_object(e) || !email_valid(json_object_get(e, "email")) ||
		    json_object_size(e) != (name != NULL ? 2u : 1u) ||
		    (name != NULL && !json_is_null(name) && !text_valid(name, MAIL_IDENTITY_NAME_MAX, 0)))
			goto bad;
	}
	*out_r = json_deep_copy(v);
	return 0;
bad:
	apply_reject(ctx, "invalid", "%s: null or at most %d {name, email} expected", field,
		     MAIL_IDENTITY_ADDRS_MAX);
	return -1;
}

/* The record an identity.set event describes, or NULL after rejecting. */
static json_t *record_of(struct apply_ctx *ctx, const char *id)
{
	json_t *d = ctx->ev->data, *reply = NULL, *bcc = NULL;
	json_t *email = json_object_get(d, "email"), *name = json_object_get(d, "name");
	json_t *text = json_object_get(d, "text_signature"), *html = json_object_get(d, "html_signature");

	if (!email_valid(email)) {
		apply_reject(ctx, "invalid", "email: an address or *@domain expected");
		return NULL;
	}
	if ((name != NULL && !text_valid(name, MAIL_IDENTITY_NAME_MAX, 0)) ||
	    (text != NULL && !text_valid(text, MAIL_IDENTITY_SIG_MAX, 0)) ||
	    (html != NULL && !text_valid(html, MAIL_IDENTITY_SIG_MAX, 0))) {
		apply_reject(ctx, "invalid", "name (<= %d octets) or a signature (<= %d octets) is malformed",
			     MAIL_IDENTITY_NAME_MAX, MAIL_IDENTITY_SIG_MAX);
		return NULL;
	}
	if (field_addrs(ctx, "reply_to", &reply) < 0)
		return NULL;
	if (field_addrs(ctx, "bcc", &bcc) < 0) {
		json_decref(reply);
		return NULL;
	}
	return json_pack("{s:s, s:O, s:s, s:o, s:o, s:s, s:s, s:b}", "id", id, "email", email, "name",
			 name != NULL ? json_string_value(name) : "", "reply_to", reply, "bcc", bcc,
			 "text_signature", text != NULL ? json_string_value(text) : "", "html_signature",
			 html != NULL ? json_string_value(html) : "", "default",
			 json_is_true(json_object_get(d, "default")));
}

/* identity.set {identity_id, create, default, email, name, reply_to, bcc,
 * text_signature, html_signature}: create: rejected "exists" when the id
 * is taken, "limit" past MAIL_IDENTITY_MAX stored records. Otherwise an
 * update: rejected "not-found" without the record, unless default (the
 * first override of a default identity), and "immutable" when the email
 * differs from the stored one (RFC 8621 6: email is immutable). */
enum apply_status mail_apply_identity_set(struct apply_ctx *ctx, const char **error_r)
{
	json_t *create = json_object_get(ctx->ev->data, "create"), *dflt = json_object_get(ctx->ev->data, "default");
	json_t *rec, *old = NULL, *names = json_array();
	const char *id, *error = NULL;
	struct mail_acct a;
	enum apply_status st;
	int r;

	if ((id = evm_data_str(ctx->ev, "identity_id", MAIL_IDENTITY_ID_MAX, &error)) == NULL || !id_valid(id))
		st = apply_reject(ctx, "invalid", "identity_id: %s", error != NULL ? error : "not a JMAP Id");
	else if (!json_is_boolean(create) || (dflt != NULL && !json_is_boolean(dflt)) ||
		 (json_is_true(create) && json_is_true(dflt)))
		st = apply_reject(ctx, "invalid", "create and default: booleans, not both true");
	else
		st = APPLY_ACCEPTED;
	if (st != APPLY_ACCEPTED || (rec = record_of(ctx, id)) == NULL) {
		json_decref(names);
		return APPLY_REJECTED;
	}
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	mail_key(&a.key, a.address, MAIL_K_IDENT, id);
	if ((r = mail_batch_get_json(ctx->batch, &a.key, &old, error_r)) < 0)
		goto out;
	if (json_is_true(create) && r > 0) {
		st = apply_reject(ctx, "exists", "identity %s exists", id);
		goto out;
	}
	if (!json_is_true(create) && r == 0 && !json_is_true(dflt)) {
		st = apply_reject(ctx, "not-found", "no identity %s", id);
		goto out;
	}
	if (r > 0 && (!json_equal(json_object_get(old, "email"), json_object_get(rec, "email")) ||
		      !json_equal(json_object_get(old, "default"), json_object_get(rec, "default")))) {
		st = apply_reject(ctx, "immutable", "the email of identity %s cannot change", id);
		goto out;
	}
	if (r == 0) {
		mail_key(&a.key, a.address, MAIL_K_IDENT, NULL);
		if (mail_batch_names(ctx->batch, &a.key, names, error_r) < 0)
			goto out;
		if (json_array_size(names) >= MAIL_IDENTITY_MAX) {
			st = apply_reject(ctx, "limit", "at most %d identities", MAIL_IDENTITY_MAX);
			goto out;
		}
	}
	mail_acct_begin_write(&a);
	mail_key(&a.key, a.address, MAIL_K_IDENT, id);
	mail_batch_put_json(ctx->batch, &a.key, rec);
	if ((json_is_true(dflt) ? mail_jmap_touch_existing(&a, MAIL_J_IDENTITY, id, error_r) :
				  mail_jmap_touch(&a, MAIL_J_IDENTITY, id, 0, error_r)) < 0)
		goto out;
	mail_result(ctx, "identity_id", json_string(id));
	st = APPLY_ACCEPTED;
out:
	json_decref(rec);
	json_decref(old);
	json_decref(names);
	mail_acct_close(&a);
	return st;
}

/* identity.destroy {identity_id}: rejected "not-found" without the record. */
enum apply_status mail_apply_identity_destroy(struct apply_ctx *ctx, const char **error_r)
{
	const char *id, *error = NULL;
	struct mail_acct a;
	enum apply_status st;
	json_t *old = NULL;
	int r;

	if ((id = evm_data_str(ctx->ev, "identity_id", MAIL_IDENTITY_ID_MAX, &error)) == NULL || !id_valid(id))
		return apply_reject(ctx, "invalid", "identity_id: %s", error != NULL ? error : "not a JMAP Id");
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	mail_key(&a.key, a.address, MAIL_K_IDENT, id);
	if ((r = mail_batch_get_json(ctx->batch, &a.key, &old, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no identity %s", id);
		goto out;
	}
	mail_acct_begin_write(&a);
	mail_key(&a.key, a.address, MAIL_K_IDENT, id);
	mail_batch_delete(ctx->batch, &a.key);
	if (mail_jmap_touch(&a, MAIL_J_IDENTITY, id, 1, error_r) < 0)
		goto out;
	mail_result(ctx, "identity_id", json_string(id));
	st = APPLY_ACCEPTED;
out:
	json_decref(old);
	mail_acct_close(&a);
	return st;
}

struct ident_scan {
	json_t *list;
	int corrupt;
};

static int scan_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct ident_scan *s = vctx;
	json_t *rec = evm_json_loadb(val, vlen, 0, NULL);

	(void)key;
	(void)klen;
	if (!json_is_object(rec) || !json_is_string(json_object_get(rec, "id")) ||
	    !json_is_string(json_object_get(rec, "email"))) {
		json_decref(rec);
		s->corrupt = 1;
		return 1;
	}
	json_array_append_new(s->list, rec);
	return 0;
}

int mail_identities(struct view *view, const char *account, json_t **list_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct ident_scan s = { json_array(), 0 };
	struct buf key = BUF_INIT;
	const char *ignored;
	int r;

	*list_r = NULL;
	if (account == NULL || evm_address_normalize(account, acct, &ignored) < 0) {
		*list_r = s.list;
		return 0;
	}
	mail_key(&key, acct, MAIL_K_IDENT, NULL);
	r = view_scan(view, key.data, key.len, scan_cb, &s, error_r);
	buf_free(&key);
	if (r == 0 && s.corrupt) {
		log_error("mail: an identity of %s is corrupt", acct);
		*error_r = MAIL_CORRUPT;
		r = -1;
	}
	if (r < 0) {
		json_decref(s.list);
		return -1;
	}
	*list_r = s.list;
	return 0;
}

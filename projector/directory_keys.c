/* directory_keys - appliers of account.key and account.erase, the view
 * records of crypto-shredding (projector/keyring.h): akey/, akeycur/,
 * akeyx/, akeyxa/ and the index akeyacct/. Deterministic: the data key comes in the
 * event, wrapped; nothing here unwraps it. */
#include "projector/directory_internal.h"
#include "projector/keyring_internal.h"
#include "projector/mail_keys.h"

#include <string.h>

/* akeyacct/<acct>/ (+ kid when not NULL), the account escaped as under
 * mail/ so an address is never followed by a '/' of its own. */
static void acct_key(struct buf *k, const char *address, const char *kid)
{
	buf_truncate(k, 0);
	buf_puts(k, KEY_AKEYACCT);
	mail_key_escape(k, address);
	buf_puts(k, "/");
	if (kid != NULL)
		buf_puts(k, kid);
}

/* 1 when s is SEAL_KEK_ID_LEN lower-case hex digits. */
static int kek_id_valid(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == SEAL_KEK_ID_LEN && s[n] == '\0';
}

/* A string field checked by valid(); NULL (rejected "invalid") otherwise. */
static const char *key_field(struct apply_ctx *ctx, const char *field, int (*valid)(const char *))
{
	const char *error = NULL;
	const char *s = evm_data_str(ctx->ev, field, 256, &error);

	if (s == NULL) {
		apply_reject(ctx, "invalid", "%s: %s", field, error);
		return NULL;
	}
	if (!valid(s)) {
		apply_reject(ctx, "invalid", "%s: malformed", field);
		return NULL;
	}
	return s;
}

/* account.key {address, kid, kek, wrapped}: the account must exist and the
 * kid be new (never seen, not erased); it becomes the current key. */
enum apply_status dir_apply_account_key(struct apply_ctx *ctx, const char **error_r)
{
	struct buf key = BUF_INIT;
	enum apply_status st = APPLY_FAILED;
	const char *address, *kid, *kek, *wrapped, *tenant;
	json_t *acct = NULL, *rec;
	int r;

	if ((address = dir_field_address(ctx, "address")) == NULL ||
	    (kid = key_field(ctx, "kid", keyring_kid_valid)) == NULL ||
	    (kek = key_field(ctx, "kek", kek_id_valid)) == NULL ||
	    (wrapped = key_field(ctx, "wrapped", keyring_wrapped_valid)) == NULL)
		return APPLY_REJECTED;
	dir_key(&key, KEY_ACCOUNT, address, NULL);
	if ((r = dir_batch_get_json(ctx->batch, &key, &acct, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no account %s", address);
		goto out;
	}
	if ((tenant = dir_json_str(acct, "tenant", error_r)) == NULL)
		goto out;
	if (!dir_tenant_allowed(ctx, tenant)) {
		st = APPLY_REJECTED;
		goto out;
	}
	dir_key(&key, KEY_AKEY, kid, NULL);
	if ((r = dir_batch_exists(ctx->batch, &key, error_r)) == 0) {
		dir_key(&key, KEY_AKEYX, kid, NULL);
		r = dir_batch_exists(ctx->batch, &key, error_r);
	}
	if (r != 0) {
		if (r > 0)
			st = apply_reject(ctx, "exists", "key %s exists", kid);
		goto out;
	}
	rec = json_pack("{s:s, s:s, s:s, s:s}", "account", address, "kek", kek, "wrapped", wrapped,
			"event", ctx->ev->id);
	dir_key(&key, KEY_AKEY, kid, NULL);
	dir_batch_put_json(ctx->batch, &key, rec);
	json_decref(rec);
	dir_key(&key, KEY_AKEYCUR, address, NULL);
	view_batch_put(ctx->batch, key.data, key.len, kid, strlen(kid));
	acct_key(&key, address, kid);
	dir_batch_put_empty(ctx->batch, &key);
	dir_result(ctx, "tenant", tenant, "address", address, "kid", kid, (char *)NULL);
	st = APPLY_ACCEPTED;
out:
	json_decref(acct);
	buf_free(&key);
	return st;
}

/* Collects the kids under akeyacct/<acct>/ (in byte order; each key
 * ends with a validated kid). */
static int collect_kid(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	if (klen > KEYRING_KID_LEN)
		json_array_append_new(ctx, json_stringn(key + klen - KEYRING_KID_LEN, KEYRING_KID_LEN));
	return 0;
}

/* Drops every key of address and marks each erased; appends the event ids
 * of their account.key records to tombstones. 0 or -1. */
static int erase_keys(struct apply_ctx *ctx, const char *address, json_t *tombstones,
		      const char **error_r)
{
	struct buf key = BUF_INIT;
	json_t *kids = json_array(), *rec = NULL, *v;
	const char *event;
	size_t i;
	int ret = -1;

	acct_key(&key, address, NULL);
	if (view_batch_scan(ctx->batch, key.data, key.len, collect_kid, kids, error_r) < 0)
		goto out;
	json_array_foreach(kids, i, v) {
		const char *kid = json_string_value(v);

		dir_key(&key, KEY_AKEY, kid, NULL);
		if (dir_batch_get_json(ctx->batch, &key, &rec, error_r) <= 0) {
			*error_r = "the view indexes a data key it does not hold";
			goto out;
		}
		if ((event = dir_json_str(rec, "event", error_r)) == NULL)
			goto out;
		json_array_append_new(tombstones, json_string(event));
		json_decref(rec);
		rec = NULL;
		dir_batch_delete(ctx->batch, &key);
		dir_key(&key, KEY_AKEYX, kid, NULL);
		view_batch_put(ctx->batch, key.data, key.len, address, strlen(address));
		acct_key(&key, address, kid);
		dir_batch_delete(ctx->batch, &key);
	}
	dir_key(&key, KEY_AKEYCUR, address, NULL);
	dir_batch_delete(ctx->batch, &key);
	dir_key(&key, KEY_AKEYXA, address, NULL);
	view_batch_put(ctx->batch, key.data, key.len, ctx->ev->id, strlen(ctx->ev->id));
	ret = 0;
out:
	json_decref(rec);
	json_decref(kids);
	buf_free(&key);
	return ret;
}

/* The optional "kids" of account.erase: an array of at most
 * KEYRING_ERASE_KIDS_MAX valid kids, none a live key of another account.
 * 0 with *kids_r (borrowed, NULL when absent), -1 (rejected) or -2. */
static int erase_kids(struct apply_ctx *ctx, const char *address, json_t **kids_r, const char **error_r)
{
	json_t *kids = json_object_get(ctx->ev->data, "kids"), *v, *rec = NULL;
	struct buf key = BUF_INIT;
	const char *owner;
	size_t i;
	int r, ret = 0;

	*kids_r = kids;
	if (kids == NULL)
		return 0;
	if (!json_is_array(kids) || json_array_size(kids) > KEYRING_ERASE_KIDS_MAX) {
		apply_reject(ctx, "invalid", "kids: not an array of at most %d key ids", KEYRING_ERASE_KIDS_MAX);
		return -1;
	}
	json_array_foreach(kids, i, v) {
		if (!json_is_string(v) || !keyring_kid_valid(json_string_value(v))) {
			apply_reject(ctx, "invalid", "kids: a key id is malformed");
			return -1;
		}
		dir_key(&key, KEY_AKEY, json_string_value(v), NULL);
		if ((r = dir_batch_get_json(ctx->batch, &key, &rec, error_r)) < 0 ||
		    (r > 0 && (owner = dir_json_str(rec, "account", error_r)) == NULL)) {
			ret = -2;
			break;
		}
		if (r > 0 && strcmp(owner, address) != 0) {
			apply_reject(ctx, "invalid", "kids: key %s is %s's", json_string_value(v), owner);
			ret = -1;
			break;
		}
		json_decref(rec);
		rec = NULL;
	}
	json_decref(rec);
	buf_free(&key);
	return ret;
}

/* Marks the kids an account.erase names erased (those it found in the
 * index are already): after compaction removed their account.key records,
 * a replay knows them only from here. */
static void erase_named(struct apply_ctx *ctx, const char *address, json_t *kids)
{
	struct buf key = BUF_INIT;
	json_t *v;
	size_t i;

	json_array_foreach(kids, i, v) {
		dir_key(&key, KEY_AKEYX, json_string_value(v), NULL);
		view_batch_put(ctx->batch, key.data, key.len, address, strlen(address));
	}
	buf_free(&key);
}

/* account.erase {address, kids?}: account.remove, then every key of the
 * account dropped and marked erased, and the named kids marked too; the
 * outcome lists the account.key events to tombstone in the directory
 * topic. */
enum apply_status dir_apply_account_erase(struct apply_ctx *ctx, const char **error_r)
{
	enum apply_status st;
	const char *address;
	json_t *tombstones, *kids;
	int r;

	if ((address = dir_field_address(ctx, "address")) == NULL)
		return APPLY_REJECTED;
	if ((r = erase_kids(ctx, address, &kids, error_r)) < 0)
		return r == -1 ? APPLY_REJECTED : APPLY_FAILED;
	st = dir_account_remove(ctx, address, error_r);
	if (st != APPLY_ACCEPTED)
		return st;
	tombstones = json_array();
	if (erase_keys(ctx, address, tombstones, error_r) < 0) {
		json_decref(tombstones);
		return APPLY_FAILED;
	}
	if (kids != NULL)
		erase_named(ctx, address, kids);
	if (ctx->result != NULL)
		json_object_set_new(ctx->result, "tombstones", tombstones);
	else
		json_decref(tombstones);
	return APPLY_ACCEPTED;
}

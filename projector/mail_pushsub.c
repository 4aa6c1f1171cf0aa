/* mail_pushsub - a user's JMAP PushSubscriptions (RFC 8620 7.2): the
 * appliers of pushsub.set and pushsub.destroy (projector/mail.h) and the
 * read API. A subscription belongs to the user, not to an account, so it
 * lives in the user's own mail partition (its address is the account).
 *
 * Deterministic: the id and the verification code are chosen by the
 * writer (RAND_bytes) and carried in the event; whether a subscription has
 * lapsed is decided by comparing its expiry with the event's time, never
 * a clock. Every accepted pushsub event first drops the user's
 * subscriptions that lapsed by its time (RFC 8620 7.2 "expires": the
 * server MAY destroy it at or after that time).
 * Keys: mail_keys.h psub/. */
#include "projector/mail_internal.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <stdlib.h>
#include <string.h>

/* Printable ASCII, 1..max octets. */
static int printable(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* A stored or proposed record lapsed at time ts (ms). */
static int lapsed(json_t *rec, int64_t ts)
{
	json_t *e = json_object_get(rec, "expires");

	return json_is_integer(e) && json_integer_value(e) <= ts;
}

/* keys: null, or {p256dh, auth} (RFC 8620 7.2, base64url strings). 0 with
 * *keys_r (a new reference, null when none), or -1 after rejecting. */
static int field_keys(struct apply_ctx *ctx, json_t **keys_r)
{
	json_t *k = json_object_get(ctx->ev->data, "keys"), *p, *a;

	*keys_r = NULL;
	if (k == NULL || json_is_null(k)) {
		*keys_r = json_null();
		return 0;
	}
	p = json_object_get(k, "p256dh");
	a = json_object_get(k, "auth");
	if (!json_is_object(k) || json_object_size(k) != 2 || !json_is_string(p) || !json_is_string(a) ||
	    !printable(json_string_value(p), MAIL_PUSHSUB_KEY_MAX) ||
	    !printable(json_string_value(a), MAIL_PUSHSUB_KEY_MAX)) {
		apply_reject(ctx, "invalid", "keys: null or {p256dh, auth} of printable ASCII expected");
		return -1;
	}
	*keys_r = json_pack("{s:O, s:O}", "p256dh", p, "auth", a);
	return 0;
}

/* types: null, or at most MAIL_PUSHSUB_TYPES_MAX type names. */
static int field_types(struct apply_ctx *ctx, json_t **types_r)
{
	json_t *t = json_object_get(ctx->ev->data, "types"), *v;
	size_t i;

	*types_r = NULL;
	if (t == NULL || json_is_null(t)) {
		*types_r = json_null();
		return 0;
	}
	if (!json_is_array(t) || json_array_size(t) > MAIL_PUSHSUB_TYPES_MAX)
		goto bad;
	json_array_foreach(t, i, v)
		if (!json_is_string(v) || !printable(json_string_value(v), 64))
			goto bad;
	*types_r = json_deep_copy(t);
	return 0;
bad:
	apply_reject(ctx, "invalid", "types: null or at most %d type names expected", MAIL_PUSHSUB_TYPES_MAX);
	return -1;
}

/* The record the event describes (every field validated), or NULL after
 * rejecting. */
static json_t *record_of(struct apply_ctx *ctx)
{
	const struct evm_event *ev = ctx->ev;
	json_t *verified = json_object_get(ev->data, "verified"), *exp = json_object_get(ev->data, "expires");
	json_t *keys = NULL, *types = NULL;
	const char *id, *dcid, *url, *code, *error = NULL;

	if ((id = mail_field_id(ctx, "id")) == NULL)
		return NULL;
	if ((dcid = evm_data_str(ev, "device_client_id", MAIL_PUSHSUB_DEVICE_MAX, &error)) == NULL ||
	    dcid[0] == '\0' || strlen(dcid) != json_string_length(json_object_get(ev->data, "device_client_id"))) {
		apply_reject(ctx, "invalid", "device_client_id: a string of 1..%d octets expected",
			     MAIL_PUSHSUB_DEVICE_MAX);
		return NULL;
	}
	/* The writer allows http:// only when configured to (tests). */
	if ((url = evm_data_str(ev, "url", MAIL_PUSHSUB_URL_MAX, &error)) == NULL ||
	    !printable(url, MAIL_PUSHSUB_URL_MAX) ||
	    (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)) {
		apply_reject(ctx, "invalid", "url: an absolute https:// or http:// URL expected");
		return NULL;
	}
	if ((code = evm_data_str(ev, "verification_code", MAIL_PUSHSUB_CODE_MAX, &error)) == NULL ||
	    !printable(code, MAIL_PUSHSUB_CODE_MAX)) {
		apply_reject(ctx, "invalid", "verification_code: printable ASCII expected");
		return NULL;
	}
	if (!json_is_boolean(verified)) {
		apply_reject(ctx, "invalid", "verified: a boolean expected");
		return NULL;
	}
	if (exp != NULL && !json_is_null(exp) &&
	    (!json_is_integer(exp) || json_integer_value(exp) < 0 || json_integer_value(exp) > MAIL_DATE_MAX)) {
		apply_reject(ctx, "invalid", "expires: milliseconds since the epoch or null expected");
		return NULL;
	}
	if (field_keys(ctx, &keys) < 0)
		return NULL;
	if (field_types(ctx, &types) < 0) {
		json_decref(keys);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:O, s:o, s:o}", "id", id, "device_client_id", dcid,
			 "url", url, "keys", keys, "verification_code", code, "verified", verified, "expires",
			 exp != NULL && json_is_integer(exp) ? json_integer(json_integer_value(exp)) : json_null(),
			 "types", types);
}

struct psub_scan {
	json_t *ids;        /* [id, record] pairs */
	size_t plen;
	int corrupt;
};

static int scan_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct psub_scan *s = vctx;
	json_t *rec = evm_json_loadb(val, vlen, 0, NULL);

	if (!json_is_object(rec)) {
		json_decref(rec);
		s->corrupt = 1;
		return 1;
	}
	json_array_append_new(s->ids, json_pack("[s%, o]", key + s->plen, klen - s->plen, rec));
	return 0;
}

/* The account's subscriptions as [id, record] pairs (in id order). */
static int list_batch(struct mail_acct *a, json_t **pairs_r, const char **error_r)
{
	struct psub_scan s = { json_array(), 0, 0 };

	mail_key(&a->key, a->address, MAIL_K_PSUB, NULL);
	s.plen = a->key.len;
	if (view_batch_scan(a->ctx->batch, a->key.data, a->key.len, scan_cb, &s, error_r) < 0 || s.corrupt) {
		if (s.corrupt) {
			log_error("mail: a push subscription of %s is corrupt", a->address);
			*error_r = MAIL_CORRUPT;
		}
		json_decref(s.ids);
		return -1;
	}
	*pairs_r = s.ids;
	return 0;
}

/* The live subscription id among pairs (NULL when absent or lapsed), and
 * how many are live. */
static json_t *find_live(json_t *pairs, const char *id, int64_t ts, size_t *live_r)
{
	json_t *pair, *found = NULL;
	size_t i;

	*live_r = 0;
	json_array_foreach(pairs, i, pair) {
		json_t *rec = json_array_get(pair, 1);

		if (lapsed(rec, ts))
			continue;
		(*live_r)++;
		if (strcmp(json_string_value(json_array_get(pair, 0)), id) == 0)
			found = rec;
	}
	return found;
}

/* Deletes the subscriptions lapsed at ts (after begin_write). */
static void prune(struct mail_acct *a, json_t *pairs, int64_t ts)
{
	json_t *pair;
	size_t i;

	json_array_foreach(pairs, i, pair) {
		if (!lapsed(json_array_get(pair, 1), ts))
			continue;
		mail_key(&a->key, a->address, MAIL_K_PSUB, json_string_value(json_array_get(pair, 0)));
		mail_batch_delete(a->ctx->batch, &a->key);
	}
}

/* A field of rec and old that must not change (RFC 8620 7.2: immutable). */
static int same(json_t *rec, json_t *old, const char *field)
{
	return json_equal(json_object_get(rec, field), json_object_get(old, field));
}

/* The checks of a create or an update against the stored state: NULL, or
 * the rejection (code, reason). */
static const char *check(json_t *rec, json_t *old, int create, size_t live, int64_t ts, const char **reason_r)
{
	if (lapsed(rec, ts))
		return *reason_r = "expires is not after the event's time", "expired";
	if (create) {
		if (old != NULL)
			return *reason_r = "the subscription exists", "exists";
		if (json_is_true(json_object_get(rec, "verified")))
			return *reason_r = "a new subscription is not verified", "invalid";
		if (live >= MAIL_PUSHSUB_MAX)
			return *reason_r = "too many push subscriptions", "limit";
		return NULL;
	}
	if (old == NULL)
		return *reason_r = "no such push subscription", "not-found";
	if (!same(rec, old, "device_client_id") || !same(rec, old, "url") || !same(rec, old, "keys") ||
	    !same(rec, old, "verification_code"))
		return *reason_r = "device_client_id, url, keys and verification_code are immutable", "immutable";
	return NULL;
}

enum apply_status mail_apply_pushsub_set(struct apply_ctx *ctx, const char **error_r)
{
	json_t *create = json_object_get(ctx->ev->data, "create"), *rec, *pairs = NULL, *old;
	const char *code, *reason = NULL, *id;
	struct mail_acct a;
	enum apply_status st;
	size_t live;

	if (!json_is_boolean(create))
		return apply_reject(ctx, "invalid", "create: a boolean expected");
	if ((rec = record_of(ctx)) == NULL)
		return APPLY_REJECTED;
	id = json_string_value(json_object_get(rec, "id"));
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED) {
		json_decref(rec);
		mail_acct_close(&a);
		return st;
	}
	if (list_batch(&a, &pairs, error_r) < 0) {
		st = APPLY_FAILED;
		goto out;
	}
	old = find_live(pairs, id, ctx->ev->ts, &live);
	if ((code = check(rec, old, json_is_true(create), live, ctx->ev->ts, &reason)) != NULL) {
		st = apply_reject(ctx, code, "%s", reason);
		goto out;
	}
	/* Verified once, verified for good (a new code needs a new one). */
	if (old != NULL && json_is_true(json_object_get(old, "verified")))
		json_object_set_new(rec, "verified", json_true());
	mail_acct_begin_write(&a);
	prune(&a, pairs, ctx->ev->ts);
	mail_key(&a.key, a.address, MAIL_K_PSUB, id);
	mail_batch_put_json(ctx->batch, &a.key, rec);
	mail_result(ctx, "id", json_string(id));
	mail_result(ctx, "verified", json_incref(json_object_get(rec, "verified")));
	mail_result(ctx, "expires", json_incref(json_object_get(rec, "expires")));
	st = APPLY_ACCEPTED;
out:
	json_decref(pairs);
	json_decref(rec);
	mail_acct_close(&a);
	return st;
}

enum apply_status mail_apply_pushsub_destroy(struct apply_ctx *ctx, const char **error_r)
{
	const char *id;
	json_t *pairs = NULL;
	struct mail_acct a;
	enum apply_status st;
	size_t live;

	if ((id = mail_field_id(ctx, "id")) == NULL)
		return APPLY_REJECTED;
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED) {
		mail_acct_close(&a);
		return st;
	}
	if (list_batch(&a, &pairs, error_r) < 0) {
		st = APPLY_FAILED;
	} else if (find_live(pairs, id, ctx->ev->ts, &live) == NULL) {
		st = apply_reject(ctx, "not-found", "no such push subscription");
	} else {
		mail_acct_begin_write(&a);
		prune(&a, pairs, ctx->ev->ts);
		mail_key(&a.key, a.address, MAIL_K_PSUB, id);
		mail_batch_delete(ctx->batch, &a.key);
		mail_result(ctx, "id", json_string(id));
		st = APPLY_ACCEPTED;
	}
	json_decref(pairs);
	mail_acct_close(&a);
	return st;
}

int mail_pushsub_list(struct view *view, const char *account, json_t **list_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct psub_scan s = { NULL, 0, 0 };
	struct buf key = BUF_INIT;
	const char *ignored;
	json_t *pair;
	size_t i;
	int r;

	*list_r = json_array();
	if (account == NULL || evm_address_normalize(account, acct, &ignored) < 0)
		return 0;
	s.ids = json_array();
	mail_key(&key, acct, MAIL_K_PSUB, NULL);
	s.plen = key.len;
	r = view_scan(view, key.data, key.len, scan_cb, &s, error_r);
	buf_free(&key);
	if (r == 0 && s.corrupt) {
		log_error("mail: a push subscription of %s is corrupt", acct);
		*error_r = MAIL_CORRUPT;
		r = -1;
	}
	json_array_foreach(s.ids, i, pair)
		json_array_append(*list_r, json_array_get(pair, 1));
	json_decref(s.ids);
	if (r < 0) {
		json_decref(*list_r);
		*list_r = NULL;
	}
	return r;
}

int mail_pushsub_get(struct view *view, const char *account, const char *id, json_t **rec_r,
		     const char **error_r)
{
	json_t *list = NULL, *rec;
	size_t i;

	*rec_r = NULL;
	if (mail_pushsub_list(view, account, &list, error_r) < 0)
		return -1;
	json_array_foreach(list, i, rec) {
		const char *rid = json_string_value(json_object_get(rec, "id"));

		if (rid != NULL && strcmp(rid, id) == 0) {
			*rec_r = json_incref(rec);
			break;
		}
	}
	json_decref(list);
	return *rec_r != NULL;
}

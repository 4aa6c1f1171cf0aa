/* jmap_pushsub_set - PushSubscription/set (RFC 8620 7.2.2): the standard
 * /set without accountId, ifInState, oldState and newState. Creates, then
 * updates, then destroys, one object at a time, each a pushsub.* event of
 * the user's mail partition answered once the local projector applied it.
 *
 * Create: deviceClientId and url (https://, RFC 8620 7.2; see
 * pushsub_url_check) are required, verificationCode must be null, keys
 * are null or {p256dh, auth} (a P-256 point and a 16-octet secret, in
 * base64url: then every push is encrypted, RFC 8291; see
 * pushsub_sender.h), expires is clamped to JMAP_PUSHSUB_LIFE_MAX_MS from
 * now (also when none is given). Once the log has the subscription, its
 * PushVerification is queued to the url.
 * Update: verificationCode (equal to the code sent: the subscription is
 * verified; else invalidProperties, 7.2.2), expires, types; the other
 * properties are immutable. */
#include "gateway/jmap/jmap_pushsub_private.h"
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_std.h"
#include "gateway/pushsub_sender.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/mail.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One /set in flight. */
struct pset {
	struct jmap_set_result r;
	json_t *work;            /* [[op "c"|"u"|"d", key, value]...] */
	json_t *destroy;         /* the ids to destroy (for willDestroy) */
	size_t next;
	int wrote;               /* an event was accepted */
	json_t *resp;            /* the current object's created / updated answer */
	char op;
	char key[256];           /* creation id, or id */
	char id[33];
	char *url;               /* a creation's, for its verification */
	char code[33];
	int has_keys;            /* a creation's keys, for its verification */
	struct webpush_keys keys;
};

static void step(struct jmap_call *call, struct pset *ps);

/* 32 lower-case hex digits of RAND_bytes. 0 or -1. */
static int random_hex(char out[33])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof b) != 1)
		return -1;
	for (size_t i = 0; i < sizeof b; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* expires as asked (absent/null, or a UTCDate) clamped to the server's
 * maximum: 0 with *ms_r (*clamped_r when it differs from the asked), -1
 * when it is no date or not in the future. */
static int expires_of(json_t *v, int64_t now, int64_t *ms_r, int *clamped_r)
{
	int64_t ms;

	*clamped_r = 0;
	if (v == NULL || json_is_null(v)) {
		*ms_r = now + JMAP_PUSHSUB_LIFE_MAX_MS;
		*clamped_r = 1;
		return 0;
	}
	if (!json_is_string(v) || jmap_utcdate_parse(json_string_value(v), &ms) < 0 || ms <= now)
		return -1;
	*clamped_r = ms > now + JMAP_PUSHSUB_LIFE_MAX_MS;
	*ms_r = *clamped_r ? now + JMAP_PUSHSUB_LIFE_MAX_MS : ms;
	return 0;
}

/* types: null, or a list of type names (unknown ones are kept: a client
 * may name types this server does not push). */
static int types_valid(json_t *v)
{
	json_t *t;
	size_t i;

	if (json_is_null(v))
		return 1;
	if (!json_is_array(v) || json_array_size(v) > MAIL_PUSHSUB_TYPES_MAX)
		return 0;
	json_array_foreach(v, i, t)
		if (!json_is_string(t) || json_string_length(t) == 0 || json_string_length(t) > 64 ||
		    strspn(json_string_value(t), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-:/.") !=
			    json_string_length(t))
			return 0;
	return 1;
}

/* keys (RFC 8620 7.2): null (0, *keys_r NULL), or {p256dh, auth} that
 * common/webpush.h accepts (1, *keys_r the object to store, ps->keys
 * set); -1 with *why_r otherwise.
 *
 * They go into the event, and so the log, as the client gave them: p256dh
 * is the user agent's PUBLIC key, and auth is a secret it shares with
 * whoever sends it pushes (RFC 8291 3.2), to authenticate them to the
 * user agent; it is no credential of ours and opens nothing here. Whoever
 * reads the log could forge pushes to the device, not read mail; the push
 * service, which carries every message, never sees either. */
static int keys_of(struct pset *ps, json_t *v, json_t **keys_r, const char **why_r)
{
	json_t *p = json_object_get(v, "p256dh"), *a = json_object_get(v, "auth");

	*keys_r = NULL;
	ps->has_keys = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_string(p) || !json_is_string(a)) {
		*why_r = "keys: null or {p256dh, auth} expected (RFC 8620 7.2)";
		return -1;
	}
	if (webpush_keys_parse(json_string_value(p), json_string_value(a), &ps->keys, why_r) < 0)
		return -1;
	ps->has_keys = 1;
	*keys_r = json_pack("{s:O, s:O}", "p256dh", p, "auth", a);
	return 1;
}

static void add_date(json_t *obj, const char *name, int64_t ms)
{
	char date[32];

	jmap_utcdate_format(ms, date, sizeof date);
	json_object_set_new(obj, name, json_string(date));
}

/* A creation: 0 with the event data, or -1 with the SetError. */
static int plan_create(struct jmap_call *call, struct pset *ps, json_t *obj, json_t **data_r, json_t **err_r)
{
	const struct evm_config *cfg = jmap_mail_req(call)->node->cfg;
	json_t *bad = json_array(), *v, *dcid = json_object_get(obj, "deviceClientId");
	json_t *url = json_object_get(obj, "url"), *types = json_object_get(obj, "types"), *keys = NULL;
	const char *k, *why = NULL;
	int64_t exp = 0;
	int clamped = 0;

	json_object_foreach(obj, k, v) {
		if (strcmp(k, "deviceClientId") == 0 || strcmp(k, "url") == 0 || strcmp(k, "types") == 0 ||
		    strcmp(k, "expires") == 0 || strcmp(k, "keys") == 0)
			continue;
		/* 7.2: verificationCode MUST be null on create; id is the
		 * server's. */
		if (strcmp(k, "verificationCode") == 0 && json_is_null(v))
			continue;
		json_array_append_new(bad, json_string(k));
	}
	if (keys_of(ps, json_object_get(obj, "keys"), &keys, &why) < 0)
		json_array_append_new(bad, json_string("keys"));
	if (!json_is_string(dcid) || json_string_length(dcid) == 0 ||
	    json_string_length(dcid) > MAIL_PUSHSUB_DEVICE_MAX ||
	    strlen(json_string_value(dcid)) != json_string_length(dcid))
		json_array_append_new(bad, json_string("deviceClientId"));
	if (!json_is_string(url) || pushsub_url_check(cfg, json_string_value(url), &why) < 0) {
		if (json_is_string(url) == 0)
			why = "url: required";
		json_array_append_new(bad, json_string("url"));
	}
	if (types != NULL && !types_valid(types))
		json_array_append_new(bad, json_string("types"));
	if (expires_of(json_object_get(obj, "expires"), evm_now_ms(), &exp, &clamped) < 0)
		json_array_append_new(bad, json_string("expires"));
	if (json_array_size(bad) > 0) {
		json_decref(keys);
		*err_r = jmap_set_error("invalidProperties", why, bad);
		return -1;
	}
	json_decref(bad);
	if (random_hex(ps->id) < 0 || random_hex(ps->code) < 0) {
		json_decref(keys);
		*err_r = jmap_set_error("forbidden", "no random numbers", NULL);
		return -1;
	}
	free(ps->url);
	ps->url = xstrdup(json_string_value(url));
	*data_r = json_pack("{s:b, s:s, s:O, s:O, s:o, s:s, s:b, s:I, s:O}", "create", 1, "id", ps->id,
			    "device_client_id", dcid, "url", url, "keys", keys != NULL ? keys : json_null(),
			    "verification_code", ps->code,
			    "verified", 0, "expires", (json_int_t)exp, "types",
			    types != NULL ? types : json_null());
	/* 5.3: the server-set properties: the id and the expiry. */
	ps->resp = json_pack("{s:s}", "id", ps->id);
	add_date(ps->resp, "expires", exp);
	return 0;
}

/* An update of rec: 0 with the event data, or -1 with the SetError. */
static int plan_update(struct pset *ps, json_t *rec, json_t *patch, json_t **data_r, json_t **err_r)
{
	json_t *bad = json_array(), *data = json_deep_copy(rec), *v;
	const char *k;
	int64_t exp;
	int clamped;

	ps->resp = NULL;
	json_object_foreach(patch, k, v) {
		if (strcmp(k, "verificationCode") == 0) {
			/* 7.2.2: the code sent, or invalidProperties. */
			if (json_is_string(v) &&
			    json_equal(v, json_object_get(rec, "verification_code")))
				json_object_set_new(data, "verified", json_true());
			else
				json_array_append_new(bad, json_string(k));
		} else if (strcmp(k, "expires") == 0) {
			if (expires_of(v, evm_now_ms(), &exp, &clamped) < 0) {
				json_array_append_new(bad, json_string(k));
				continue;
			}
			json_object_set_new(data, "expires", json_integer(exp));
			if (clamped) {
				if (ps->resp == NULL)
					ps->resp = json_object();
				add_date(ps->resp, "expires", exp);
			}
		} else if (strcmp(k, "types") == 0 && types_valid(v)) {
			json_object_set(data, "types", v);
		} else if (!(strcmp(k, "id") == 0 && json_equal(v, json_object_get(rec, "id")))) {
			/* deviceClientId, url and keys are immutable (7.2). */
			json_array_append_new(bad, json_string(k));
		}
	}
	if (json_array_size(bad) > 0) {
		json_decref(data);
		json_decref(ps->resp);
		ps->resp = NULL;
		*err_r = jmap_set_error("invalidProperties", NULL, bad);
		return -1;
	}
	json_decref(bad);
	json_object_set_new(data, "create", json_false());
	*data_r = data;
	return 0;
}

/* The SetError of a rejected pushsub event. */
static json_t *rejected_error(json_t *outcome)
{
	const char *code = json_string_value(json_object_get(outcome, "code"));

	if (code != NULL && strcmp(code, "not-found") == 0)
		return jmap_set_error("notFound", NULL, NULL);
	if (code != NULL && strcmp(code, "limit") == 0)
		return jmap_set_error("overQuota", "too many push subscriptions", NULL);
	return jmap_set_error("invalidProperties", json_string_value(json_object_get(outcome, "reason")), NULL);
}

static void pset_free(struct pset *ps)
{
	jmap_set_result_free(&ps->r);
	json_decref(ps->work);
	json_decref(ps->destroy);
	json_decref(ps->resp);
	free(ps->url);
	free(ps);
}

static void finish(struct jmap_call *call, struct pset *ps)
{
	json_t *resp = jmap_set_response(&ps->r, "", "", "");

	/* 7.2.2: no accountId, oldState or newState. */
	json_object_del(resp, "accountId");
	json_object_del(resp, "oldState");
	json_object_del(resp, "newState");
	jmap_call_reply(call, resp);
	pset_free(ps);
}

static void written(struct jmap_call *call, void *ctx, int status, json_t *outcome, const char *error)
{
	struct pset *ps = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));
	struct jmap_mail_req *req = jmap_mail_req(call);

	if (status < 0) {
		/* 3.6.2: the client must know whether anything was written. */
		log_warn("jmap: push subscription of %s not written: %s", req->address, error);
		jmap_call_error(call, ps->wrote ? "serverPartialFail" : "serverUnavailable", NULL);
		pset_free(ps);
		return;
	}
	if (st == NULL || strcmp(st, "accepted") != 0) {
		json_t *err = rejected_error(outcome);

		if (ps->op == 'c')
			jmap_set_not_created(&ps->r, ps->key, err);
		else if (ps->op == 'u')
			jmap_set_not_updated(&ps->r, ps->key, err);
		else
			jmap_set_not_destroyed(&ps->r, ps->key, err);
	} else {
		ps->wrote = 1;
		if (ps->op == 'c') {
			if (req->node->pushsub == NULL ||
			    pushsub_sender_verify(req->node->pushsub, ps->id, ps->url,
						  ps->has_keys ? &ps->keys : NULL, ps->code) < 0)
				log_warn("jmap: the PushVerification of %s could not be queued", ps->id);
			jmap_set_created(&ps->r, call, ps->key, ps->resp);
			ps->resp = NULL;
		} else if (ps->op == 'u') {
			jmap_set_updated(&ps->r, ps->key, ps->resp);
			ps->resp = NULL;
		} else {
			jmap_set_destroyed(&ps->r, ps->key);
		}
	}
	json_decref(ps->resp);
	ps->resp = NULL;
	step(call, ps);
}

/* Plans the next object and writes it, or answers when none is left. */
static void step(struct jmap_call *call, struct pset *ps)
{
	while (ps->next < json_array_size(ps->work)) {
		json_t *item = json_array_get(ps->work, ps->next++), *value = json_array_get(item, 2);
		json_t *rec = NULL, *data = NULL, *err = NULL, *d;
		const char *id = NULL;
		int r, will_destroy = 0;
		size_t i;

		ps->op = json_string_value(json_array_get(item, 0))[0];
		snprintf(ps->key, sizeof ps->key, "%s", json_string_value(json_array_get(item, 1)));
		if (ps->op == 'c') {
			if (plan_create(call, ps, value, &data, &err) < 0) {
				jmap_set_not_created(&ps->r, ps->key, err);
				continue;
			}
			jmap_mail_submit(call, "pushsub.set", data, written, ps);
			return;
		}
		/* "#cid" of a creation of this request (5.3). */
		if (!jmap_call_resolve_id(call, ps->key, &id) ||
		    (r = jmap_pushsub_load(call, id, &rec)) == 0) {
			err = jmap_set_error("notFound", NULL, NULL);
			if (ps->op == 'u')
				jmap_set_not_updated(&ps->r, ps->key, err);
			else
				jmap_set_not_destroyed(&ps->r, ps->key, err);
			continue;
		}
		if (r < 0) {   /* answered serverFail */
			pset_free(ps);
			return;
		}
		if (id != ps->key)   /* a resolved "#cid": answered by its id */
			snprintf(ps->key, sizeof ps->key, "%s", id);
		if (ps->op == 'd') {
			json_decref(rec);
			jmap_mail_submit(call, "pushsub.destroy", json_pack("{s:s}", "id", id), written, ps);
			return;
		}
		/* 5.3: an update of an object this /set destroys. */
		json_array_foreach(ps->destroy, i, d) {
			const char *did = NULL;

			if (jmap_call_resolve_id(call, json_string_value(d), &did) && strcmp(did, id) == 0)
				will_destroy = 1;
		}
		if (will_destroy) {
			json_decref(rec);
			jmap_set_not_updated(&ps->r, ps->key, jmap_set_error("willDestroy", NULL, NULL));
			continue;
		}
				r = plan_update(ps, rec, value, &data, &err);
		json_decref(rec);
		if (r < 0) {
			jmap_set_not_updated(&ps->r, ps->key, err);
			continue;
		}
		jmap_mail_submit(call, "pushsub.set", data, written, ps);
		return;
	}
	finish(call, ps);
}

/* A map of ids (or "#cid" when refs) to objects, absent or null: NULL. */
static int id_map(struct jmap_call *call, const json_t *args, const char *name, int refs, json_t **map_r)
{
	json_t *v = json_object_get(args, name), *obj;
	const char *k;

	*map_r = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return jmap_arg_invalid(call, name, "is not a map of ids to objects");
	json_object_foreach(v, k, obj)
		if (!jmap_is_id(refs && k[0] == '#' ? k + 1 : k) || !json_is_object(obj))
			return jmap_arg_invalid(call, name, "is not a map of ids to objects");
	*map_r = v;
	return 0;
}

void jmap_pushsub_set(struct jmap_call *call, json_t *args, void *ctx)
{
	json_t *create, *update, *destroy = NULL, *v, *work;
	struct pset *ps;
	const char *k;
	size_t i;

	(void)ctx;
	if (id_map(call, args, "create", 0, &create) < 0 || id_map(call, args, "update", 1, &update) < 0 ||
	    jmap_arg_ids(call, args, "destroy", (size_t)-1, &destroy) < 0)
		return;
	/* 5.3: maxObjectsInSet counts create, update and destroy. */
	if (json_object_size(create) + json_object_size(update) + json_array_size(destroy) >
	    jmap_call_settings(call)->max_objects_in_set) {
		json_decref(destroy);
		jmap_call_error(call, "requestTooLarge", "more objects than maxObjectsInSet");
		return;
	}
	work = json_array();
	json_object_foreach(create, k, v)
		json_array_append_new(work, json_pack("[s, s, O]", "c", k, v));
	json_object_foreach(update, k, v)
		json_array_append_new(work, json_pack("[s, s, O]", "u", k, v));
	json_array_foreach(destroy, i, v)
		json_array_append_new(work, json_pack("[s, O, n]", "d", v));
	ps = xcalloc(1, sizeof *ps);
	jmap_set_result_init(&ps->r);
	ps->work = work;
	ps->destroy = destroy;
	step(call, ps);
}

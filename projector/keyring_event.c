/* keyring_event - sealing an event's data before it is logged and opening
 * it when it is read back (the "sealed" object of keyring.h). */
#include "projector/keyring_internal.h"
#include "projector/keys.h"
#include "common/base64.h"
#include "common/record_json.h"
#include "common/json_fast.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Where keys are read: the committed view, or an open batch. */
struct key_src {
	struct view *view;
	struct view_batch *batch;
};

/* What looking up a kid found. */
enum key_found { KEY_FOUND, KEY_ERASED, KEY_ABSENT, KEY_BAD };

/* view_get or view_batch_get, whichever src holds. */
static int src_get(const struct key_src *src, const struct buf *key, char **val_r,
		   const char **error_r)
{
	size_t vlen = 0;

	if (src->batch != NULL)
		return view_batch_get(src->batch, key->data, key->len, val_r, &vlen, error_r);
	return view_get(src->view, key->data, key->len, val_r, &vlen, error_r);
}

/* The DEK of kid from akey/<kid>; else whether akeyx/<kid> marks it
 * erased. 0 with *found_r, or -1 (view error, corrupt record, a KEK this
 * node does not have). */
static int key_lookup(struct keyring *kr, const struct key_src *src, const char *kid,
		      unsigned char dek[SEAL_KEY_LEN], enum key_found *found_r, const char **error_r)
{
	struct buf key = BUF_INIT;
	const char *kek, *wrapped;
	char *val = NULL;
	json_t *rec;
	int r;

	buf_puts(&key, KEY_AKEY);
	buf_puts(&key, kid);
	r = src_get(src, &key, &val, error_r);
	if (r == 0) {
		buf_truncate(&key, 0);
		buf_puts(&key, KEY_AKEYX);
		buf_puts(&key, kid);
		r = src_get(src, &key, &val, error_r);
		free(val);
		buf_free(&key);
		if (r < 0)
			return -1;
		*found_r = r > 0 ? KEY_ERASED : KEY_ABSENT;
		if (r > 0)
			keyring_forget(kr, kid);
		return 0;
	}
	buf_free(&key);
	if (r < 0)
		return -1;
	rec = json_loads(val, 0, NULL);
	free(val);
	kek = json_string_value(json_object_get(rec, "kek"));
	wrapped = json_string_value(json_object_get(rec, "wrapped"));
	if (kek == NULL || wrapped == NULL) {
		json_decref(rec);
		*error_r = "corrupt data key record in the view";
		return -1;
	}
	r = keyring_dek(kr, kid, kek, wrapped, dek, error_r);
	json_decref(rec);
	if (r < 0)
		return -1;
	*found_r = r == 0 ? KEY_FOUND : KEY_BAD;
	return 0;
}

/* "evmail-event\0" id "\0" type "\0" account: what a sealed event's
 * envelope contributes to its authentication. */
static void event_aad(struct buf *aad, const struct evm_event *ev)
{
	buf_append(aad, "evmail-event", sizeof "evmail-event");
	buf_append(aad, ev->id, strlen(ev->id) + 1);
	buf_append(aad, ev->type, strlen(ev->type) + 1);
	buf_puts(aad, ev->account);
}

/* Replaces ev->data by {"sealed": {"kid", "ct"}} under the current key. */
int keyring_seal_event(struct keyring *kr, struct view *view, struct evm_event *ev,
		       const char **error_r)
{
	struct key_src src = { .view = view };
	unsigned char dek[SEAL_KEY_LEN];
	char kid[KEYRING_KID_LEN + 1];
	struct buf aad = BUF_INIT, ct = BUF_INIT, pt = BUF_INIT;
	enum key_found found;
	char *b64;
	int r;

	if (kr == NULL || ev->account[0] == '\0' || json_object_get(ev->data, "sealed") != NULL)
		return 0;
	if ((r = keyring_current_kid(view, ev->account, kid, error_r)) <= 0)
		return r;
	if (key_lookup(kr, &src, kid, dek, &found, error_r) < 0)
		return -1;
	if (found != KEY_FOUND) {
		*error_r = "the account's current data key is not usable";
		return -1;
	}
	/* json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS)'s bytes */
	record_json_append(&pt, ev->data);
	event_aad(&aad, ev);
	r = seal_close(dek, aad.data, aad.len, pt.data, pt.len, &ct, error_r);
	OPENSSL_cleanse(dek, sizeof dek);
	OPENSSL_cleanse(pt.data, pt.len);
	buf_free(&pt);
	buf_free(&aad);
	if (r < 0)
		return -1;
	b64 = evm_b64_encode((const unsigned char *)ct.data, ct.len);
	buf_free(&ct);
	json_decref(ev->data);
	ev->data = json_pack("{s:{s:s, s:s}}", "sealed", "kid", kid, "ct", b64);
	free(b64);
	if (ev->data == NULL)
		abort();
	return 1;
}

/* A bad sealed event: -1 with KEYRING_INVALID. */
static int invalid(enum keyring_open_result *res_r, const char **error_r, const char *why)
{
	*res_r = KEYRING_INVALID;
	*error_r = why;
	return -1;
}

/* Opens ct under dek into a data object. 0, or -1 (invalid). */
static int open_ct(const unsigned char dek[SEAL_KEY_LEN], const struct evm_event *ev,
		   const char *ct, json_t **data_r, const char **error_r)
{
	struct buf aad = BUF_INIT, pt = BUF_INIT;
	size_t len = strlen(ct), n = 0;
	unsigned char *raw = xmalloc(len / 4 * 3 + 1);
	int ret = -1;

	*data_r = NULL;
	if (evm_b64_decode(ct, len, raw, &n) < 0) {
		*error_r = "sealed: ct is not base64";
		goto out;
	}
	event_aad(&aad, ev);
	if (seal_open(dek, aad.data, aad.len, raw, n, &pt, error_r) < 0)
		goto out;
	*data_r = evm_json_loadb(pt.data, pt.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(*data_r)) {
		json_decref(*data_r);
		*data_r = NULL;
		*error_r = "sealed: the content is not a JSON object";
		goto out;
	}
	ret = 0;
out:
	if (pt.data != NULL)
		OPENSSL_cleanse(pt.data, pt.len);
	buf_free(&pt);
	buf_free(&aad);
	free(raw);
	return ret;
}

/* Opens a sealed ev->data with keys read from src. */
static int open_event(struct keyring *kr, const struct key_src *src, struct evm_event *ev,
		      enum keyring_open_result *res_r, const char **error_r)
{
	json_t *sealed = json_object_get(ev->data, "sealed"), *data;
	unsigned char dek[SEAL_KEY_LEN];
	enum key_found found;
	const char *kid, *ct;
	int r;

	*res_r = KEYRING_PLAIN;
	if (sealed == NULL)
		return 0;
	if (kr == NULL) {
		*error_r = "sealed events need crypto.master_key_file";
		return -1;
	}
	kid = json_string_value(json_object_get(sealed, "kid"));
	ct = json_string_value(json_object_get(sealed, "ct"));
	if (json_object_size(ev->data) != 1 || !json_is_object(sealed) || json_object_size(sealed) != 2 ||
	    kid == NULL || ct == NULL || !keyring_kid_valid(kid))
		return invalid(res_r, error_r, "malformed sealed object");
	if (key_lookup(kr, src, kid, dek, &found, error_r) < 0)
		return -1;
	switch (found) {
	case KEY_ERASED:
		*res_r = KEYRING_ERASED;
		return 0;
	case KEY_ABSENT:
		*res_r = KEYRING_UNKNOWN;
		return 0;
	case KEY_BAD:
		return invalid(res_r, error_r, *error_r);
	case KEY_FOUND:
		break;
	}
	r = open_ct(dek, ev, ct, &data, error_r);
	OPENSSL_cleanse(dek, sizeof dek);
	if (r < 0)
		return invalid(res_r, error_r, *error_r);
	json_decref(ev->data);
	ev->data = data;
	*res_r = KEYRING_OPENED;
	return 0;
}

/* Opens with the committed view's keys. */
int keyring_open_event(struct keyring *kr, struct view *view, struct evm_event *ev,
		       enum keyring_open_result *res_r, const char **error_r)
{
	struct key_src src = { .view = view };

	return open_event(kr, &src, ev, res_r, error_r);
}

/* Opens with the keys as the open batch sees them. */
int keyring_open_event_batch(struct keyring *kr, struct view_batch *b, struct evm_event *ev,
			     enum keyring_open_result *res_r, const char **error_r)
{
	struct key_src src = { .batch = b };

	return open_event(kr, &src, ev, res_r, error_r);
}

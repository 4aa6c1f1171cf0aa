/* keyring - master keys, the cache of data keys, new keys, and the view
 * records of a key (see keyring.h; events are sealed and opened in
 * keyring_event.c). */
#include "projector/keyring_internal.h"
#include "common/ids.h"
#include "projector/keys.h"
#include "common/base64.h"
#include "common/log.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slots of the data key cache: a kid occupies one until the keyring
 * closes; an erased kid's slot keeps only the kid. */
enum { SLOT_FREE = 0, SLOT_KEY = 1, SLOT_ERASED = 2 };

/* A message with a detail, in thread-local storage. */
static const char *errorf(const char *fmt, const char *a, const char *b)
{
	static __thread char msg[512];

	snprintf(msg, sizeof msg, fmt, a, b);
	return msg;
}

/* Adds the KEK of path unless a key with its id is already there. */
static int add_kek(struct keyring *kr, const char *path, const char **error_r)
{
	unsigned char key[SEAL_KEY_LEN];
	char id[SEAL_KEK_ID_LEN + 1];
	const char *error = NULL;

	if (seal_kek_load(path, key, id, &error) < 0) {
		*error_r = errorf("%s: %s", path, error);
		return -1;
	}
	for (size_t i = 0; i < kr->nkeks; i++) {
		if (strcmp(kr->keks[i].id, id) == 0) {
			OPENSSL_cleanse(key, sizeof key);
			return 0;
		}
	}
	kr->keks = xrealloc(kr->keks, (kr->nkeks + 1) * sizeof *kr->keks);
	memcpy(kr->keks[kr->nkeks].key, key, SEAL_KEY_LEN);
	memcpy(kr->keks[kr->nkeks].id, id, sizeof id);
	kr->nkeks++;
	OPENSSL_cleanse(key, sizeof key);
	return 0;
}

/* The current KEK, then every file of the comma list of old ones. */
int keyring_open(const struct evm_config *cfg, struct keyring **kr_r, const char **error_r)
{
	const char *list = cfg->crypto_old_master_key_files;
	struct keyring *kr;

	*kr_r = NULL;
	if (cfg->crypto_master_key_file[0] == '\0') {
		if (list[0] != '\0') {
			*error_r = "crypto.old_master_key_files needs crypto.master_key_file";
			return -1;
		}
		return 0;
	}
	kr = xcalloc(1, sizeof *kr);
	pthread_mutex_init(&kr->mu, NULL);
	if (add_kek(kr, cfg->crypto_master_key_file, error_r) < 0)
		goto fail;
	while (*list != '\0') {
		size_t n = strcspn(list, ",");
		char *path = xstrndup(list, n);
		char *s = path, *e = path + n;
		int ret = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*s != '\0')
			ret = add_kek(kr, s, error_r);
		free(path);
		if (ret < 0)
			goto fail;
		list += n + (list[n] == ',');
	}
	*kr_r = kr;
	return 0;
fail:
	keyring_close(&kr);
	return -1;
}

/* Wipes every key and frees the keyring. */
void keyring_close(struct keyring **krp)
{
	struct keyring *kr = *krp;

	if (kr == NULL)
		return;
	if (kr->keks != NULL)
		OPENSSL_cleanse(kr->keks, kr->nkeks * sizeof *kr->keks);
	if (kr->slots != NULL)
		OPENSSL_cleanse(kr->slots, kr->cap * sizeof *kr->slots);
	free(kr->keks);
	free(kr->slots);
	pthread_mutex_destroy(&kr->mu);
	free(kr);
	*krp = NULL;
}

/* FNV-1a of a kid, for the cache's open addressing. */
static size_t kid_hash(const char *kid)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *kid != '\0'; kid++)
		h = (h ^ (unsigned char)*kid) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot of kid, or the free slot where it would go. Holds mu; the
 * table always has a free slot. */
static struct keyring_slot *slot_find(struct keyring *kr, const char *kid)
{
	size_t mask = kr->cap - 1;

	for (size_t i = kid_hash(kid) & mask;; i = (i + 1) & mask) {
		struct keyring_slot *s = &kr->slots[i];
		if (s->state == SLOT_FREE || strcmp(s->kid, kid) == 0)
			return s;
	}
}

/* Doubles the table (kept at most half full). Holds mu. */
static void slots_grow(struct keyring *kr)
{
	struct keyring_slot *old = kr->slots;
	size_t old_cap = kr->cap;

	kr->cap = old_cap ? old_cap * 2 : 64;
	kr->slots = xcalloc(kr->cap, sizeof *kr->slots);
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].state != SLOT_FREE)
			*slot_find(kr, old[i].kid) = old[i];
	}
	if (old != NULL)
		OPENSSL_cleanse(old, old_cap * sizeof *old);
	free(old);
}

/* Stores kid's DEK (state SLOT_KEY) or forgets it (SLOT_ERASED). */
static void cache_put(struct keyring *kr, const char *kid, const unsigned char *dek, int state)
{
	struct keyring_slot *s;

	pthread_mutex_lock(&kr->mu);
	if ((kr->used + 1) * 2 > kr->cap)
		slots_grow(kr);
	s = slot_find(kr, kid);
	if (s->state == SLOT_FREE)
		kr->used++;
	snprintf(s->kid, sizeof s->kid, "%s", kid);
	s->state = state;
	if (dek != NULL)
		memcpy(s->dek, dek, SEAL_KEY_LEN);
	else
		OPENSSL_cleanse(s->dek, sizeof s->dek);
	pthread_mutex_unlock(&kr->mu);
}

/* 1 with the cached DEK of kid, 0 when not cached. */
static int cache_get(struct keyring *kr, const char *kid, unsigned char dek[SEAL_KEY_LEN])
{
	struct keyring_slot *s;
	int found = 0;

	pthread_mutex_lock(&kr->mu);
	if (kr->cap > 0) {
		s = slot_find(kr, kid);
		if (s->state == SLOT_KEY) {
			memcpy(dek, s->dek, SEAL_KEY_LEN);
			found = 1;
		}
	}
	pthread_mutex_unlock(&kr->mu);
	return found;
}

/* Keeps kid in the cache as erased, its DEK wiped. */
void keyring_forget(struct keyring *kr, const char *kid)
{
	cache_put(kr, kid, NULL, SLOT_ERASED);
}

/* "evmail-dek\0" kid: the associated data of a wrapped key. */
static void dek_aad(struct buf *aad, const char *kid)
{
	buf_truncate(aad, 0);
	buf_append(aad, "evmail-dek", sizeof "evmail-dek");
	buf_puts(aad, kid);
}

/* 32 lower-case hex digits. */
int keyring_kid_valid(const char *kid)
{
	size_t n = 0;

	for (; kid[n] != '\0'; n++) {
		if (!((kid[n] >= '0' && kid[n] <= '9') || (kid[n] >= 'a' && kid[n] <= 'f')))
			return 0;
	}
	return n == KEYRING_KID_LEN;
}

/* Strict base64 of exactly a sealed key. */
int keyring_wrapped_valid(const char *wrapped)
{
	unsigned char tmp[(SEAL_KEY_LEN + SEAL_OVERHEAD) / 3 * 3 + 6];
	size_t len = strlen(wrapped), n = 0;

	return len == 4 * ((SEAL_KEY_LEN + SEAL_OVERHEAD + 2) / 3) &&
	       evm_b64_decode(wrapped, len, tmp, &n) == 0 && n == SEAL_KEY_LEN + SEAL_OVERHEAD;
}

/* The DEK of an akey/<kid> record: from the cache, else unwrapped under
 * the KEK it names. 0, 1 (the wrapped key does not authenticate: the
 * record is bad, the same on every node), or -1 (that KEK is not
 * configured here). */
int keyring_dek(struct keyring *kr, const char *kid, const char *kek_id, const char *wrapped,
		unsigned char dek[SEAL_KEY_LEN], const char **error_r)
{
	unsigned char raw[(SEAL_KEY_LEN + SEAL_OVERHEAD) / 3 * 3 + 6];
	struct buf aad = BUF_INIT, out = BUF_INIT;
	const struct keyring_kek *kek = NULL;
	const char *error = NULL;
	size_t n = 0;
	int ret = 1;

	if (cache_get(kr, kid, dek))
		return 0;
	for (size_t i = 0; i < kr->nkeks && kek == NULL; i++) {
		if (strcmp(kr->keks[i].id, kek_id) == 0)
			kek = &kr->keks[i];
	}
	if (kek == NULL) {
		*error_r = errorf("data key %s is wrapped under master key %s, which this node does "
				  "not have (crypto.old_master_key_files)", kid, kek_id);
		return -1;
	}
	if (!keyring_wrapped_valid(wrapped) ||
	    evm_b64_decode(wrapped, strlen(wrapped), raw, &n) < 0) {
		*error_r = "wrapped data key is not base64 of a sealed key";
		return 1;
	}
	dek_aad(&aad, kid);
	if (seal_open(kek->key, aad.data, aad.len, raw, n, &out, &error) < 0) {
		*error_r = errorf("data key %s: %s", kid, error);
	} else if (out.len != SEAL_KEY_LEN) {
		*error_r = "wrapped data key has the wrong length";
	} else {
		memcpy(dek, out.data, SEAL_KEY_LEN);
		cache_put(kr, kid, dek, SLOT_KEY);
		ret = 0;
	}
	if (out.data != NULL)
		OPENSSL_cleanse(out.data, out.len);
	buf_free(&out);
	buf_free(&aad);
	return ret;
}

/* A fresh kid and DEK, the DEK wrapped under the current KEK. */
int keyring_new_key(struct keyring *kr, const char *address, json_t **data_r, const char **error_r)
{
	unsigned char rnd[KEYRING_KID_LEN / 2], dek[SEAL_KEY_LEN];
	char kid[KEYRING_KID_LEN + 1];
	struct buf aad = BUF_INIT, wrapped = BUF_INIT;
	char *b64;

	if (kr == NULL) {
		*error_r = "no crypto.master_key_file: no data keys";
		return -1;
	}
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		*error_r = "no random octets for a key id (RAND_bytes)";
		return -1;
	}
	if (seal_random_key(dek, error_r) < 0)
		return -1;
	evm_hex_encode(rnd, sizeof rnd, kid);
	dek_aad(&aad, kid);
	if (seal_close(kr->keks[0].key, aad.data, aad.len, dek, sizeof dek, &wrapped, error_r) < 0) {
		OPENSSL_cleanse(dek, sizeof dek);
		buf_free(&aad);
		return -1;
	}
	cache_put(kr, kid, dek, SLOT_KEY);
	OPENSSL_cleanse(dek, sizeof dek);
	b64 = evm_b64_encode((const unsigned char *)wrapped.data, wrapped.len);
	*data_r = json_pack("{s:s, s:s, s:s, s:s}", "address", address, "kid", kid,
			    "kek", kr->keks[0].id, "wrapped", b64);
	free(b64);
	buf_free(&aad);
	buf_free(&wrapped);
	if (*data_r == NULL) {
		*error_r = "cannot build account.key data (address not UTF-8?)";
		return -1;
	}
	return 0;
}

/* The account's current kid from akeycur/<address>. */
int keyring_current_kid(struct view *view, const char *address, char kid_r[KEYRING_KID_LEN + 1],
			const char **error_r)
{
	struct buf key = BUF_INIT;
	char *val = NULL;
	size_t vlen = 0;
	int r;

	buf_puts(&key, KEY_AKEYCUR);
	buf_puts(&key, address);
	r = view_get(view, key.data, key.len, &val, &vlen, error_r);
	buf_free(&key);
	if (r <= 0)
		return r;
	if (!keyring_kid_valid(val)) {
		free(val);
		*error_r = "corrupt current key record in the view";
		return -1;
	}
	memcpy(kid_r, val, KEYRING_KID_LEN + 1);
	free(val);
	return 1;
}

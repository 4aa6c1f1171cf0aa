/* auth_cache - see auth_cache.h. A chained hash table by account (grown
 * by doubling) plus a least-recently-used list for eviction. */
#include "gateway/auth_cache.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define MAC_LEN 32
#define KEY_LEN 32
#define BUCKETS_MIN 64u

struct entry {
	struct entry *hnext;            /* bucket chain */
	struct entry *prev, *next;      /* LRU list: head most recent */
	int64_t expires_ms;
	uint32_t hash;
	unsigned char mac[MAC_LEN];
	size_t account_len;
	char account[];
};

struct auth_cache {
	EVP_MAC *mac;
	EVP_MAC_CTX *keyed;             /* initialised with the key; dup'ed per MAC */
	auth_cache_clock *clock;
	int64_t ttl_ms;
	unsigned size, count;
	uint32_t seed;
	struct entry **buckets;
	unsigned nbuckets;              /* a power of two */
	struct entry *lru_head, *lru_tail;
};

/* The bucket hash: FNV-1a from a per-process random seed. */
static uint32_t account_hash(const struct auth_cache *c, const char *account, size_t len)
{
	uint32_t h = c->seed ^ 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)account[i];
		h *= 16777619u;
	}
	return h;
}

/* Feeds one length-prefixed field to the MAC (unambiguous framing). */
static int mac_field(EVP_MAC_CTX *ctx, const char *s)
{
	uint64_t len = strlen(s);
	unsigned char be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (unsigned char)(len >> (56 - 8 * i));
	return EVP_MAC_update(ctx, be, sizeof be) == 1 &&
	       EVP_MAC_update(ctx, (const unsigned char *)s, len) == 1 ? 0 : -1;
}

/* HMAC-SHA256(key, account | password | hash) into out; -1 on failure. */
static int compute_mac(struct auth_cache *c, const char *account, const char *password, const char *hash,
		       unsigned char out[MAC_LEN])
{
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(c->keyed);
	size_t n = 0;
	int ok;

	if (ctx == NULL)
		return -1;
	ok = mac_field(ctx, account) == 0 && mac_field(ctx, password) == 0 && mac_field(ctx, hash) == 0 &&
	     EVP_MAC_final(ctx, out, &n, MAC_LEN) == 1 && n == MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -1;
}

int auth_cache_new(unsigned ttl_s, unsigned size, auth_cache_clock *clock, struct auth_cache **cache_r,
		   const char **error_r)
{
	unsigned char key[KEY_LEN];
	OSSL_PARAM params[2];
	struct auth_cache *c;

	*cache_r = NULL;
	if (ttl_s == 0 || size == 0 || size > AUTH_CACHE_SIZE_MAX) {
		*error_r = "auth cache: ttl and size must be positive, size at most 10000000";
		return -1;
	}
	c = xcalloc(1, sizeof *c);
	c->clock = clock != NULL ? clock : evm_mono_ms;
	c->ttl_ms = (int64_t)ttl_s * 1000;
	c->size = size;
	c->nbuckets = BUCKETS_MIN;
	c->buckets = xcalloc(c->nbuckets, sizeof *c->buckets);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (RAND_bytes(key, sizeof key) != 1 ||
	    RAND_bytes((unsigned char *)&c->seed, sizeof c->seed) != 1 ||
	    (c->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (c->keyed = EVP_MAC_CTX_new(c->mac)) == NULL ||
	    EVP_MAC_init(c->keyed, key, sizeof key, params) != 1) {
		OPENSSL_cleanse(key, sizeof key);
		auth_cache_free(&c);
		*error_r = "auth cache: OpenSSL cannot set up HMAC-SHA256";
		return -1;
	}
	OPENSSL_cleanse(key, sizeof key);
	*cache_r = c;
	return 0;
}

/* Wipes and frees one entry (already unlinked). */
static void entry_free(struct entry *e)
{
	OPENSSL_cleanse(e, sizeof *e + e->account_len + 1);
	free(e);
}

/* Takes e out of the LRU list. */
static void lru_unlink(struct auth_cache *c, struct entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->lru_head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

/* Puts e at the LRU list's head (most recently used). */
static void lru_push(struct auth_cache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->prev = e;
	c->lru_head = e;
	if (c->lru_tail == NULL)
		c->lru_tail = e;
}

/* Unlinks e from its bucket and the LRU list, then wipes it. */
static void entry_remove(struct auth_cache *c, struct entry *e)
{
	struct entry **p = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	lru_unlink(c, e);
	c->count--;
	entry_free(e);
}

/* account's entry, or NULL. */
static struct entry *entry_find(struct auth_cache *c, const char *account, size_t len, uint32_t h)
{
	for (struct entry *e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext) {
		if (e->hash == h && e->account_len == len && memcmp(e->account, account, len) == 0)
			return e;
	}
	return NULL;
}

/* Doubles the bucket array (keeps chains short as the cache fills). */
static void grow(struct auth_cache *c)
{
	unsigned n = c->nbuckets * 2;
	struct entry **b = xcalloc(n, sizeof *b);

	for (unsigned i = 0; i < c->nbuckets; i++) {
		struct entry *e = c->buckets[i], *next;
		for (; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

int auth_cache_lookup(struct auth_cache *c, const char *account, const char *password, const char *hash)
{
	size_t len = strlen(account);
	unsigned char mac[MAC_LEN];
	struct entry *e = entry_find(c, account, len, account_hash(c, account, len));
	int hit;

	if (e == NULL)
		return 0;
	if (c->clock() >= e->expires_ms) {
		entry_remove(c, e);
		return 0;
	}
	if (compute_mac(c, account, password, hash, mac) < 0) {
		log_warn("auth cache: HMAC failed; checking the password in full");
		return 0;
	}
	hit = CRYPTO_memcmp(mac, e->mac, MAC_LEN) == 0;
	OPENSSL_cleanse(mac, sizeof mac);
	if (hit) {
		lru_unlink(c, e);
		lru_push(c, e);
	}
	return hit;
}

void auth_cache_store(struct auth_cache *c, const char *account, const char *password, const char *hash)
{
	size_t len = strlen(account);
	uint32_t h = account_hash(c, account, len);
	struct entry *e = entry_find(c, account, len, h);
	unsigned char mac[MAC_LEN];

	if (compute_mac(c, account, password, hash, mac) < 0) {
		log_warn("auth cache: HMAC failed; not caching the login");
		if (e != NULL)
			entry_remove(c, e);
		return;
	}
	if (e != NULL) {
		entry_remove(c, e);
	} else if (c->count >= c->size) {
		entry_remove(c, c->lru_tail);
	}
	if (c->count >= c->nbuckets && c->nbuckets < AUTH_CACHE_SIZE_MAX)
		grow(c);
	e = xcalloc(1, sizeof *e + len + 1);
	memcpy(e->account, account, len + 1);
	e->account_len = len;
	e->hash = h;
	e->expires_ms = c->clock() + c->ttl_ms;
	memcpy(e->mac, mac, MAC_LEN);
	OPENSSL_cleanse(mac, sizeof mac);
	e->hnext = c->buckets[h & (c->nbuckets - 1)];
	c->buckets[h & (c->nbuckets - 1)] = e;
	lru_push(c, e);
	c->count++;
}

unsigned auth_cache_count(const struct auth_cache *c)
{
	return c->count;
}

void auth_cache_free(struct auth_cache **cache)
{
	struct auth_cache *c = *cache;

	if (c == NULL)
		return;
	while (c->lru_head != NULL)
		entry_remove(c, c->lru_head);
	free(c->buckets);
	EVP_MAC_CTX_free(c->keyed);
	EVP_MAC_free(c->mac);
	OPENSSL_cleanse(c, sizeof *c);
	free(c);
	*cache = NULL;
}

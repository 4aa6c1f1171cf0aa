/* auth_cache - remembers recent successful password checks, so a login
 * with the same credentials skips yescrypt (auth.cache_ttl_s,
 * auth.cache_size; Dovecot's auth_cache_ttl / auth_cache_size).
 *
 * Positive results only: a failure is never stored, so every wrong
 * password costs a full check and reaches login throttling (issue #11).
 * Keyed by normalised account; an entry holds HMAC-SHA256, under a key
 * drawn from RAND_bytes when the cache is created (never stored, never
 * shared), over the account, the password and the stored hash it was
 * verified against, each length-prefixed. So a changed password (a new
 * stored hash) never matches an old entry, and the cache never holds a
 * password or anything a password can be tested against offline without
 * the key. Compared with CRYPTO_memcmp; wiped (OPENSSL_cleanse) when
 * evicted, replaced, expired or freed.
 *
 * Per process and so per node: another node verifies on its own, and a
 * password change applied on this node's view takes effect at once (the
 * hash is part of the MAC). Bounded: when full, the least recently used
 * entry is evicted. Not thread-safe: the loop thread only. */
#ifndef EVM_AUTH_CACHE_H
#define EVM_AUTH_CACHE_H

#include <stdint.h>

#define AUTH_CACHE_SIZE_MAX 10000000u

struct auth_cache;

/* Milliseconds on a monotonic clock (injectable for tests). */
typedef int64_t auth_cache_clock(void);

/* A cache of at most size entries (1..AUTH_CACHE_SIZE_MAX), each valid
 * ttl_s seconds (> 0) after it was stored. clock NULL: evm_mono_ms. -1 with
 * *error_r when the arguments are out of range or OpenSSL fails. */
int auth_cache_new(unsigned ttl_s, unsigned size, auth_cache_clock *clock, struct auth_cache **cache_r,
		   const char **error_r);
/* Wipes every entry and the key; NULL is fine; sets *cache to NULL. */
void auth_cache_free(struct auth_cache **cache);

/* 1 when account's entry is unexpired and was stored for exactly this
 * password and hash, else 0 (an expired entry is dropped; a mismatch
 * leaves the entry, so a wrong guess does not evict the right one). */
int auth_cache_lookup(struct auth_cache *cache, const char *account, const char *password,
		      const char *hash);
/* Remembers that password matched hash for account (call only after a
 * successful check); replaces account's previous entry. */
void auth_cache_store(struct auth_cache *cache, const char *account, const char *password,
		      const char *hash);
/* Entries held now (expired ones not yet dropped included). */
unsigned auth_cache_count(const struct auth_cache *cache);

#endif

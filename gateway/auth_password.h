/* auth_password - checks an account's password without blocking the loop,
 * for every protocol (IMAP LOGIN/AUTHENTICATE, SMTP AUTH).
 *
 * yescrypt takes ~50-100 ms and ~16 MiB, so each check runs on a
 * short-lived worker thread and comes back to the loop through
 * event_active (libevent is set up for threads by main:
 * evthread_use_pthreads). At most AUTH_PASSWORD_CONCURRENT checks run at
 * once; the rest wait in a FIFO (loop thread only, no locks): a burst of
 * logins, wrong passwords included, must not become gigabytes of memory and
 * hundreds of threads (bench/README.md, IMAP findings).
 *
 * An unknown, disabled or malformed account is checked against a dummy
 * hash, so the answer takes as long and says the same (no user
 * enumeration). The password copy is wiped (explicit_bzero) when done.
 *
 * With auth.cache_ttl_s > 0 (auth_password_cache_setup), a password that
 * matched the account's current stored hash within the TTL is accepted
 * without a worker (gateway/auth_cache.h: positive results only, per node);
 * the account must still exist and be active in the view at each login. */
#ifndef EVM_AUTH_PASSWORD_H
#define EVM_AUTH_PASSWORD_H

#include <event2/event.h>
#include <stdint.h>

#include "projector/view.h"

#define AUTH_PASSWORD_CONCURRENT 4

/* ok 1: the password matches an active account; account is its normalised
 * address and tenant its tenant. ok 0: refused (account is the normalised
 * name or "" when the name is not an address; tenant ""). */
typedef void auth_password_cb(void *ctx, int ok, const char *account, const char *tenant);

/* Looks user up in view (NULL view: every user is unknown), verifies
 * password on a worker thread; cb runs exactly once, later, on base's
 * loop, never inside this call. user and password are copied. The caller
 * keeps ctx alive until cb.
 *
 * Throttled (gateway/auth_gate.h) by peer_ip, the client's address: a
 * refused client or account is answered ok 0 without any check, and every
 * ok 0 comes after auth.failure_delay_ms (a timer; the worker is free by
 * then); a success is answered at once. */
void auth_password_verify(struct event_base *base, struct view *view, const char *peer_ip,
			  const char *user, const char *password, auth_password_cb *cb, void *ctx);

/* Counters since the process started (loop thread; /metrics). */
struct auth_password_stats {
	uint64_t cache_hits;       /* answered from the cache */
	uint64_t cache_misses;     /* cache on, active account, not cached */
	uint64_t checks;           /* full checks queued for a worker */
};

/* Turns the cache of successful checks on (ttl_s > 0, at most size
 * accounts) or off (ttl_s 0); replaces any previous cache. Loop thread,
 * before listeners accept. -1 with *error_r when it cannot be set up. */
int auth_password_cache_setup(unsigned ttl_s, unsigned size, const char **error_r);
/* Frees the cache, wiping it (node stop). */
void auth_password_cache_teardown(void);
/* The counters into *stats_r. */
void auth_password_get_stats(struct auth_password_stats *stats_r);

#endif

/* auth_gate - the node's login throttling, used by every protocol that
 * checks a secret (IMAP, POP3, submission AUTH incl. SCRAM, HTTP Basic for
 * JMAP, the management API's admin token): one gateway/auth_throttle.h
 * table per node, on the monotonic clock, configured from auth.* keys,
 * and the failure delay as a libevent timer, so a failed attempt holds
 * neither the loop nor a password worker while it waits.
 *
 * How a protocol uses it (gateway/auth_password.c does it for every
 * password check, so the protocols calling auth_password_verify need
 * nothing more):
 *   1. auth_gate_allowed(ip, account) before checking; when 0, do not
 *      check the secret and answer as a failure after auth_gate_delay();
 *   2. after a failed check auth_gate_failed() (counted, then delayed);
 *   3. after a success auth_gate_success(): no delay;
 *   4. an exchange too malformed to name an account: auth_gate_malformed().
 * The answer to a refusal is the same as to a wrong password, after the
 * same delay (RFC 9051 7.1 AUTHENTICATIONFAILED; no hint that a lockout
 * exists).
 *
 * Before auth_gate_setup (unit tests of protocols) nothing is throttled
 * and the delay is 0, but the callback still runs later, never inside the
 * call. Loop thread only. */
#ifndef EVM_AUTH_GATE_H
#define EVM_AUTH_GATE_H

#include <event2/event.h>
#include <stdint.h>

struct evm_config;

/* Runs once, on the loop, when the failure may be answered. */
typedef void auth_gate_cb(void *ctx);

/* Counters since setup (/metrics). */
struct auth_gate_stats {
	uint64_t failures;          /* failed checks counted */
	uint64_t delayed;           /* failure answers delayed (refusals included) */
	uint64_t refused_ip;        /* attempts refused: the client was locked out */
	uint64_t refused_account;   /* attempts refused: the account was locked for the client */
	unsigned clients, accounts; /* entries held */
};

/* Sets the node's throttle up from cfg (auth.failure_delay_ms,
 * auth.max_failures_ip, auth.max_failures_account, auth.window_s,
 * auth.lockout_s, auth.throttle_size, auth.throttle_exempt); replaces a
 * previous one. -1 with *error_r on a bad exempt list. */
int auth_gate_setup(const struct evm_config *cfg, const char **error_r);
/* Answers every failure still waiting for its delay now (node stop, after
 * the servers stopped, before the event base is freed), then frees the
 * throttle. */
void auth_gate_teardown(void);

/* 1 when ip may try account's secret now; 0 when refused (counted).
 * account: the normalised name, "" for none (the admin token, a name that
 * is not an address). */
int auth_gate_allowed(const char *ip, const char *account);
/* A check from ip for account succeeded. */
void auth_gate_success(const char *ip, const char *account);
/* A check failed: counted, and cb(ctx) runs on base's loop after the
 * failure delay (never inside this call). ctx must stay valid until then. */
void auth_gate_failed(struct event_base *base, const char *ip, const char *account,
		      auth_gate_cb *cb, void *ctx);
/* A refused attempt's answer: cb(ctx) after the failure delay, nothing
 * counted (auth_gate_allowed counted the refusal). */
void auth_gate_delay(struct event_base *base, auth_gate_cb *cb, void *ctx);

/* A malformed authentication exchange (undecodable base64, a PLAIN
 * response without its NULs, an unparsable SCRAM message): a failure of
 * the client (no account is known), counted and delayed like a wrong
 * password, so a client cannot probe at full speed with garbage; only
 * delayed when the client is already refused. cb(ctx) as auth_gate_failed. */
void auth_gate_malformed(struct event_base *base, const char *ip, auth_gate_cb *cb, void *ctx);

void auth_gate_get_stats(struct auth_gate_stats *stats_r);

#endif

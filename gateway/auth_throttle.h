/* auth_throttle - who may try a password now: failures counted per client
 * address and per account in a window, and lockouts after too many (issue
 * #11; Dovecot's auth_failure_delay and Stalwart's fail2ban-like blocking).
 * The decisions only: no clock (every call takes now_ms), no timers, no
 * I/O, so it is tested alone; gateway/auth_gate.h is the node's glue (the
 * failure delay, the configuration, /metrics).
 *
 * Rules:
 * - A client is its IPv4 address, or its IPv6 /64 (one customer usually
 *   holds a whole /64); an IPv4-mapped IPv6 address is its IPv4 address.
 * - Client: after max_failures_ip failures within window_s of its first
 *   counted failure, the client is refused for lockout_s, whatever the
 *   account (no password is checked while refused).
 * - Account: after max_failures_account failures within window_s, the
 *   account is refused for lockout_s to every client that has NOT logged
 *   in to it successfully within window_s, so an attack on an account
 *   from many addresses does not lock its owner out.
 * - Windows are fixed: they start at the first failure counted after the
 *   previous window ended (simple, bounded, and never more lenient than
 *   the limit over any window_s span by more than a factor of two).
 * - A refusal is not a failure: it is not counted again (the caller still
 *   delays its answer), so a locked-out client cannot push an account over
 *   its limit by hammering it.
 * - Addresses in the exempt list (CIDRs) are never counted nor refused.
 *
 * Memory is bounded: at most max_entries clients and max_entries accounts
 * (two tables, so a flood of invented account names cannot evict the
 * record of the flooding client); when full, the least recently used
 * entry of that table is dropped. Loop thread only (not thread-safe). */
#ifndef EVM_AUTH_THROTTLE_H
#define EVM_AUTH_THROTTLE_H

#include <stdint.h>

#define AUTH_THROTTLE_ENTRIES_MAX 10000000u
/* Clients remembered per account as having logged in within the window. */
#define AUTH_THROTTLE_GOOD_CLIENTS 8

struct auth_throttle;

struct auth_throttle_settings {
	unsigned max_failures_ip;       /* 0: no per-client limit */
	unsigned max_failures_account;  /* 0: no per-account limit */
	unsigned window_s;              /* > 0 */
	unsigned lockout_s;             /* > 0 */
	unsigned max_entries;           /* per table, 1..AUTH_THROTTLE_ENTRIES_MAX */
	const char *exempt;             /* "10.0.0.0/8,2001:db8::/32", "" for none; copied */
};

/* auth_throttle_check's verdicts. */
enum auth_throttle_verdict {
	AUTH_THROTTLE_ALLOW = 0,
	AUTH_THROTTLE_REFUSE_IP = 1,       /* the client is locked out */
	AUTH_THROTTLE_REFUSE_ACCOUNT = 2,  /* the account is locked for this client */
};

/* A throttle with the settings; -1 with *error_r when one is out of range
 * or the exempt list does not parse. */
int auth_throttle_new(const struct auth_throttle_settings *set, struct auth_throttle **t_r,
		      const char **error_r);
/* Frees it; NULL is fine; sets *t to NULL. */
void auth_throttle_free(struct auth_throttle **t);

/* May client ip try a password for account now? account is the
 * normalised name, or "" when the name is not an address (then only the
 * client counts). ip is the peer address as text. */
enum auth_throttle_verdict auth_throttle_check(struct auth_throttle *t, const char *ip,
					       const char *account, int64_t now_ms);
/* A password check of account from ip failed at now_ms: counts it for
 * both, starting a lockout when a limit is reached. */
void auth_throttle_failure(struct auth_throttle *t, const char *ip, const char *account,
			   int64_t now_ms);
/* ip logged in to account at now_ms: it stays allowed to that account
 * while the account is locked, for window_s. */
void auth_throttle_success(struct auth_throttle *t, const char *ip, const char *account,
			   int64_t now_ms);
/* 1 when ip is in the exempt list. */
int auth_throttle_exempt(const struct auth_throttle *t, const char *ip);
/* The key a client is counted under (the rules above: an IPv4 address,
 * an IPv6 /64): also the SMTP per-client limits' (gateway/smtp/smtp_rate.h). */
#define AUTH_THROTTLE_CLIENT_KEY_MAX 48
void auth_throttle_client_key(const char *ip, char key[AUTH_THROTTLE_CLIENT_KEY_MAX]);
/* Entries held now: clients and accounts (tests, /metrics). */
void auth_throttle_entries(const struct auth_throttle *t, unsigned *clients_r, unsigned *accounts_r);

#endif

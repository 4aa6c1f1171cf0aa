/* smtp_rate - events per key in a sliding window, in memory: messages per
 * account in an hour (one node's view of limits.submission_per_hour), and
 * messages or recipients per client in a minute
 * (limits.smtp_msgs_per_min_ip, limits.smtp_rcpts_per_min_ip).
 *
 * The window is 60 buckets per key (one-minute buckets for the hour,
 * one-second buckets for the minute), so it slides by a bucket; a key
 * whose buckets are all older than the window is dropped when its hash
 * chain is next walked. A client is keyed as the login throttle keys it
 * (gateway/auth_throttle.h: its IPv4 address or its IPv6 /64), so a host
 * cannot escape the limit by rotating addresses within its /64.
 *
 * Memory is bounded: at most max_keys keys (SMTP_RATE_KEYS_DEFAULT unless
 * set); when full, the least recently used key is dropped (its counts are
 * forgotten: a flood of clients can only make the limit more lenient for
 * the clients it evicts, never cost unbounded memory). Loop thread only. */
#ifndef EVM_SMTP_RATE_H
#define EVM_SMTP_RATE_H

#include <stdint.h>

#define SMTP_RATE_KEYS_DEFAULT 100000u

struct smtp_rate;

/* max_per_hour 0: every check passes. */
struct smtp_rate *smtp_rate_new(unsigned max_per_hour);
/* At most max per minute per client address (sliding by the second),
 * keyed by auth_throttle_client_key; 0: every check passes. */
struct smtp_rate *smtp_rate_new_per_minute(unsigned max);
/* The bound on keys held (>= 1); evicts at once down to it. */
void smtp_rate_set_max_keys(struct smtp_rate *r, unsigned max_keys);
/* Keys held now (tests, the bound). */
unsigned smtp_rate_keys(const struct smtp_rate *r);
void smtp_rate_free(struct smtp_rate **r);
/* 1 when key (an account, or a client's address for a per-minute rate)
 * counted fewer than the limit in the window before now_ms. NULL r: 1. */
int smtp_rate_allowed(struct smtp_rate *r, const char *key, int64_t now_ms);
/* Counts one message (or recipient) of key at now_ms. */
void smtp_rate_record(struct smtp_rate *r, const char *key, int64_t now_ms);

#endif

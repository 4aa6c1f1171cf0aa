/* smtp_rate - events per key in a sliding window, in memory: messages per
 * account in an hour (one node's view of limits.submission_per_hour), and
 * messages or recipients per client IP in a minute
 * (limits.smtp_msgs_per_min_ip, limits.smtp_rcpts_per_min_ip).
 *
 * The window is 60 buckets per key (one-minute buckets for the hour,
 * one-second buckets for the minute), so it slides by a bucket; a key
 * whose buckets are all older than the window is dropped when its hash
 * chain is next walked. Loop thread only. */
#ifndef EVM_SMTP_RATE_H
#define EVM_SMTP_RATE_H

#include <stdint.h>

struct smtp_rate;

/* max_per_hour 0: every check passes. */
struct smtp_rate *smtp_rate_new(unsigned max_per_hour);
/* At most max per minute (sliding by the second); 0: every check passes. */
struct smtp_rate *smtp_rate_new_per_minute(unsigned max);
void smtp_rate_free(struct smtp_rate **r);
/* 1 when account (or any key) counted fewer than the limit in the window
 * before now_ms. NULL r: 1. */
int smtp_rate_allowed(struct smtp_rate *r, const char *account, int64_t now_ms);
/* Counts one message (or recipient) of account at now_ms. */
void smtp_rate_record(struct smtp_rate *r, const char *account, int64_t now_ms);

#endif

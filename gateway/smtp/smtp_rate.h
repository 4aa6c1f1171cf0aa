/* smtp_rate - messages per account in a sliding hour, in memory (one node's
 * view of limits.submission_per_hour).
 *
 * The hour is 60 one-minute buckets per account, so the window slides by
 * the minute; an account whose buckets are all older than the hour is
 * dropped when its hash chain is next walked. Loop thread only. */
#ifndef EVM_SMTP_RATE_H
#define EVM_SMTP_RATE_H

#include <stdint.h>

struct smtp_rate;

/* max_per_hour 0: every check passes. */
struct smtp_rate *smtp_rate_new(unsigned max_per_hour);
void smtp_rate_free(struct smtp_rate **r);
/* 1 when account has sent fewer than the limit in the hour before now_ms. */
int smtp_rate_allowed(struct smtp_rate *r, const char *account, int64_t now_ms);
/* Counts one message of account at now_ms. */
void smtp_rate_record(struct smtp_rate *r, const char *account, int64_t now_ms);

#endif

/* retention - the retention enforcer (issue #13 item 4; the policies and
 * the save-date index are projector/retention.h).
 *
 * Every retention.interval_s, on ONE node (gateway/decider.h: the holder
 * of queue partition 0; on the embedded log the only node), and only while
 * its projector has applied the mail and directory topics to their ends,
 * a round walks the directory's accounts in address order from where the
 * last round stopped, finds each mailbox's rule (retention_max_age) and
 * the messages saved before now - max age (retention_expired), and
 * submits an ordinary message.expunge {mailbox_id, uids} per such mailbox,
 * actor "retention", at most RETENTION_EVENT_UIDS UIDs each. The decision
 * is the event: every projector applies it alike, none reads a clock.
 *
 * Bounded work: at most RETENTION_ACCOUNTS_PER_ROUND accounts and
 * RETENTION_EVENTS_PER_ROUND events per round; when a round stops short, the
 * next one starts as soon as its expunges are applied here (so it never
 * decides the same UIDs twice), else at the next interval. The same
 * expunge decided twice (two deciders during a rebalance) is harmless: a
 * UID already gone changes nothing, and UIDs are never reused in a mailbox.
 *
 * Thread: the node's loop thread. */
#ifndef EVM_GATEWAY_RETENTION_H
#define EVM_GATEWAY_RETENTION_H

#include "common/buf.h"
#include "gateway/node.h"

#define RETENTION_EVENT_UIDS 1000
#define RETENTION_ACCOUNTS_PER_ROUND 200
#define RETENTION_EVENTS_PER_ROUND 64

struct retention;
struct http_request;

/* Starts the timer; *rt_r is NULL when retention.interval_s is 0. 0 or -1. */
int retention_start(struct node *node, struct retention **rt_r, const char **error_r);
/* Stops the timer; expunges in flight finish into nothing. NULL-safe; sets
 * *rt NULL. Call before the log closes. */
void retention_stop(struct retention **rt);
/* Prometheus lines: rounds, expunge events, messages expunged, failures,
 * the time of the last complete pass (rt may be NULL: nothing). */
void retention_metrics(struct retention *rt, struct buf *out);

/* /admin/retention/... (gateway/admin_api.c; retention_admin.c):
 *   GET  /admin/retention/ADDRESS   the account's mailboxes with the rule
 *                                   that applies to each and its source
 *   POST /admin/retention/mailbox   {account, name, max_age_ms | null}:
 *                                   mailbox.retention, answered with its
 *                                   outcome once applied here
 * Tenant rules are the directory command tenant.retention (POST
 * /admin/commands) and show in GET /admin/tenants/NAME. Loop thread. */
void retention_admin_handle(struct node *node, struct http_request *req, const char *path);

#endif

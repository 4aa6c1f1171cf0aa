/* queue_plan - what the delivery worker does next with one due queue item
 * (pure: item JSON + now + settings in, a plan out; no clock, no I/O).
 *
 * One action per scan, in this order (the next scan sees the item again,
 * since every action ends in an event that makes it due or final):
 *   1. DSN: recipients with a dsn_due (projector/queue.h) -> one report of
 *      the first such kind (failure, success or relayed) for every
 *      recipient of that kind, then queue.notified {kind:"dsn"}. An item
 *      that must never be reported on (null sender, itself a DSN) gets the
 *      queue.notified without a report.
 *   2. EXPIRE: now > expire -> every pending recipient failed, 4.4.7
 *      "message expired after N days", in ONE queue.attempt (ready-made).
 *   3. DELAY: delay_warn passed, not yet notified, some pending recipient
 *      asked DELAY (or nothing: the default is FAILURE,DELAY, RFC 3461
 *      4.1) -> a delay report for those, then queue.notified {kind:"delay"}.
 *   4. SEND: pending recipients grouped by destination domain (lower case,
 *      A-label; groups in the order of their first recipient); recipients
 *      whose domain cannot be converted are failed at once (5.1.2).
 * Nothing when held or nothing is pending. */
#ifndef EVM_QUEUE_PLAN_H
#define EVM_QUEUE_PLAN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/outbound/dsn.h"

#define QUEUE_REPLY_MAX 512

struct queue_plan_cfg {
	int64_t retry_min_s;         /* delivery.retry_min_s */
	int64_t retry_max_s;         /* delivery.retry_max_s */
};

enum queue_plan_kind { QPLAN_NONE, QPLAN_DSN, QPLAN_EXPIRE, QPLAN_DELAY, QPLAN_SEND };

struct queue_plan_group {
	char domain[256];            /* A-label, lower case */
	size_t *rcpts;               /* indices into the item's rcpts */
	size_t n;
};

struct queue_plan {
	enum queue_plan_kind kind;
	enum dsn_kind dsn_kind;      /* QPLAN_DSN: which report; QPLAN_DELAY: DSN_DELAY */
	int dsn_silent;              /* QPLAN_DSN: only append queue.notified */
	size_t *rcpts;               /* QPLAN_DSN, QPLAN_DELAY: indices into the item's rcpts */
	size_t nrcpts;
	struct queue_plan_group *groups;   /* QPLAN_SEND */
	size_t ngroups;
	size_t *invalid;             /* QPLAN_SEND: recipients failed for their domain */
	size_t ninvalid;
	json_t *attempt;             /* QPLAN_EXPIRE: the queue.attempt data (owned) */
};

/* Plans item at now_ms; node_id goes into a ready-made attempt. 0 or -1
 * (a malformed item). */
int queue_plan_make(json_t *item, int64_t now_ms, const struct queue_plan_cfg *cfg,
		    const char *node_id, struct queue_plan *plan_r, const char **error_r);
void queue_plan_free(struct queue_plan *plan);

/* retry_min_s * 2^attempts, at most retry_max_s, in ms (attempts: the
 * item's count before this attempt). */
int64_t queue_backoff_ms(const struct queue_plan_cfg *cfg, int64_t attempts);

/* The destination domain of addr in A-label form, lower case (RFC 5890;
 * IDNA2008 with the UTS 46 mapping). out holds 256. 0 or -1. */
int queue_domain_alabel(const char *addr, char out[256], const char **error_r);

/* One recipient's result for queue.attempt (reply cut to 512 octets). */
json_t *queue_rcpt_result(const char *addr, const char *status, const char *reply,
			  const char *enhanced, const char *remote, int dsn_passed);
/* queue.attempt data; rcpts (consumed) is an array of queue_rcpt_result. */
json_t *queue_attempt_data(const char *id, const char *node, int64_t ts, json_t *rcpts,
			   int64_t next_try, const char *error);
/* queue.notified data for the plan's recipients (QPLAN_DSN or QPLAN_DELAY). */
json_t *queue_notified_data(json_t *item, const struct queue_plan *plan);

/* The report for a QPLAN_DSN or QPLAN_DELAY plan: *req_r points into item
 * and rcpts_r (plan->nrcpts entries, caller-allocated); the original and
 * hostname are the caller's to set. 0 or -1. */
int queue_plan_dsn_request(json_t *item, const struct queue_plan *plan, int64_t now_ms,
			   struct dsn_request *req_r, struct dsn_rcpt *rcpts_r, const char **error_r);

#endif

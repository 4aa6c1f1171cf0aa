/* queue_internal - what the queue appliers and the queue read API share.
 * Not for use outside projector/queue_*.c (and its unit test).
 *
 * The item record is the JSON of projector/queue.h plus one member,
 * "retry_at" (ms): when the item's pending recipients are next due (the
 * last attempt's or retry's next_try). "next_try" is when the item is due:
 * retry_at, or earlier while a DSN is due (the event's ts), so the owner
 * sends the DSN at once without forgetting the retry time.
 *
 * Helpers named queue_field_* validate one data field of ctx->ev (or one
 * member of a nested object) completely; on a malformed value they record
 * an "invalid" rejection on ctx and return NULL or -1. */
#ifndef EVM_QUEUE_INTERNAL_H
#define EVM_QUEUE_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "common/buf.h"
#include "projector/applier.h"
#include "projector/queue.h"

#define KEY_QUEUE_ITEM "q/item/"
#define KEY_QUEUE_DUE "q/due/"
#define KEY_QUEUE_STAT "q/stat/"

#define QUEUE_JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)
#define QUEUE_CORRUPT "corrupt queue record in the view"
/* Times are ms since the epoch, at most 9999-12-31T23:59:59.999Z. */
#define QUEUE_TIME_MAX INT64_C(253402300799999)
#define QUEUE_BLOB_ID_LEN 64
#define QUEUE_BLOB_SIZE_MAX (INT64_C(1) << 39)
#define QUEUE_REPLY_MAX 512
#define QUEUE_REMOTE_MAX 512
#define QUEUE_ORCPT_MAX 500
#define QUEUE_ENVID_MAX 100
#define QUEUE_NODE_MAX 200
#define QUEUE_ADDR_MAX 320

/* The q/stat/ counters. */
enum queue_stat { QS_ENQUEUED, QS_DELIVERED, QS_DEFERRED, QS_FAILED, QS_REMOVED, QS_COUNT };
extern const char *const queue_stat_names[QS_COUNT];

/* An item loaded for change: the record, and its due key as it was. */
struct queue_tx {
	struct apply_ctx *ctx;
	json_t *item;                /* owned */
	struct buf old_due;          /* empty when it had none (held) */
	int dsn_was_pending;
	int64_t stats[QS_COUNT];     /* deltas written by queue_tx_commit */
};

/* The appliers (table in queue_appliers.c). */
applier_fn queue_apply_enqueue;
applier_fn queue_apply_attempt;
applier_fn queue_apply_notified;
applier_fn queue_apply_hold;
applier_fn queue_apply_release;
applier_fn queue_apply_retry;
applier_fn queue_apply_delete;

/* Keys. */
void queue_key_item(struct buf *k, const char *id);
void queue_key_due(struct buf *k, int32_t partition, int64_t next_try, const char *id);

/* Loads the item named by the event's "id" (validated): APPLY_ACCEPTED
 * with tx filled, APPLY_REJECTED ("invalid", "not-found", "forbidden"), or
 * APPLY_FAILED. */
enum apply_status queue_tx_begin(struct apply_ctx *ctx, struct queue_tx *tx, const char **error_r);
/* Recomputes dsn_pending and next_try, then writes the item and moves its
 * due key, or removes both when every recipient is final and no DSN is
 * due; adds the stat deltas; names the account as changed; sets the result
 * {id, removed}. Frees tx. Returns APPLY_ACCEPTED or APPLY_FAILED. */
enum apply_status queue_tx_commit(struct queue_tx *tx, const char **error_r);
void queue_tx_free(struct queue_tx *tx);

/* Record accessors (the record was written by us: missing members read as
 * 0 / ""). */
int64_t queue_jint(json_t *o, const char *member);
const char *queue_jstr(json_t *o, const char *member);
/* 1 when a recipient's status is delivered or failed. */
int queue_rcpt_final(json_t *rcpt);
/* The recipient with this address, or NULL. */
json_t *queue_rcpt_find(json_t *item, const char *addr);
/* Makes a recipient final (status "delivered" or "failed") and sets its
 * dsn_due by the rules of queue.h; dsn_passed matters for delivered. */
void queue_rcpt_finish(json_t *item, json_t *rcpt, const char *status, int dsn_passed);

/* Field validation (queue_fields.c). */
const char *queue_field_id(struct apply_ctx *ctx);
const char *queue_field_str(struct apply_ctx *ctx, json_t *obj, const char *where,
			    const char *member, size_t max);
int queue_field_bool(struct apply_ctx *ctx, json_t *obj, const char *where, const char *member,
		     int *val_r);
int queue_field_time(struct apply_ctx *ctx, json_t *obj, const char *where, const char *member,
		     int64_t *val_r);
/* A JSON array member of 0..max (min_one: 1..max) elements, or NULL. */
json_t *queue_field_array(struct apply_ctx *ctx, const char *member, size_t max, int min_one);
/* A recipient or sender address (RFC 5321 4.1.2 Mailbox, RFC 6531 for
 * UTF-8 when utf8_ok); empty_ok admits the null reverse path. */
const char *queue_field_addr(struct apply_ctx *ctx, json_t *obj, const char *where,
			     const char *member, int empty_ok, int utf8_ok);
/* "" or a list of SUCCESS, FAILURE, DELAY, or NEVER alone (RFC 3461 4.1). */
int queue_notify_valid(const char *s);
/* "" or "x.y.z" with x 2, 4 or 5 (RFC 3463 2). */
int queue_enhanced_valid(const char *s);
/* 1 when a notify list names word (notify is valid). */
int queue_notify_has(const char *notify, const char *word);

#endif

/* queue_apply_admin - the appliers of queue.hold, queue.release,
 * queue.retry and queue.delete (projector/queue.h): what an operator (or
 * the worker) decides about a whole item. */
#include "projector/queue_internal.h"

#include <string.h>

/* Sets held; the due key follows in queue_tx_commit (none while held). */
static enum apply_status set_held(struct apply_ctx *ctx, int held, const char **error_r)
{
	struct queue_tx tx;
	enum apply_status st;

	if ((st = queue_tx_begin(ctx, &tx, error_r)) != APPLY_ACCEPTED)
		return st;
	json_object_set_new(tx.item, "held", json_boolean(held));
	return queue_tx_commit(&tx, error_r);
}

/* queue.hold {id}: no attempt until released (idempotent). */
enum apply_status queue_apply_hold(struct apply_ctx *ctx, const char **error_r)
{
	return set_held(ctx, 1, error_r);
}

/* queue.release {id}: due again at its next_try (idempotent). */
enum apply_status queue_apply_release(struct apply_ctx *ctx, const char **error_r)
{
	return set_held(ctx, 0, error_r);
}

/* queue.retry {id, next_try}: the pending recipients are due at next_try
 * (the admin's "now"); a held item stays held. */
enum apply_status queue_apply_retry(struct apply_ctx *ctx, const char **error_r)
{
	struct queue_tx tx;
	enum apply_status st;
	int64_t next_try;

	if ((st = queue_tx_begin(ctx, &tx, error_r)) != APPLY_ACCEPTED)
		return st;
	if (queue_field_time(ctx, ctx->ev->data, NULL, "next_try", &next_try) < 0) {
		queue_tx_free(&tx);
		return APPLY_REJECTED;
	}
	json_object_set_new(tx.item, "retry_at", json_integer(next_try));
	return queue_tx_commit(&tx, error_r);
}

/* queue.delete {id, reason, bounce}: every pending recipient fails with
 * reason (5.0.0); with bounce its DSN is due by the usual rules (notify,
 * never to the null sender or for a DSN), else none is. Clears held. */
enum apply_status queue_apply_delete(struct apply_ctx *ctx, const char **error_r)
{
	struct queue_tx tx;
	enum apply_status st;
	const char *reason;
	json_t *rcpt;
	size_t i;
	int bounce;

	if ((st = queue_tx_begin(ctx, &tx, error_r)) != APPLY_ACCEPTED)
		return st;
	if ((reason = queue_field_str(ctx, ctx->ev->data, NULL, "reason", QUEUE_REPLY_MAX)) == NULL ||
	    queue_field_bool(ctx, ctx->ev->data, NULL, "bounce", &bounce) < 0)
		goto rejected;
	for (const unsigned char *p = (const unsigned char *)reason; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			apply_reject(ctx, "invalid", "reason: control characters");
			goto rejected;
		}
	}
	if (reason[0] == '\0') {
		apply_reject(ctx, "invalid", "reason: empty");
		goto rejected;
	}
	json_array_foreach(json_object_get(tx.item, "rcpts"), i, rcpt) {
		if (queue_rcpt_final(rcpt))
			continue;
		json_object_set_new(rcpt, "reply", json_string(reason));
		json_object_set_new(rcpt, "enhanced", json_string("5.0.0"));
		json_object_set_new(rcpt, "remote", json_string(""));
		queue_rcpt_finish(tx.item, rcpt, "failed", 0);
		if (!bounce)
			json_object_set_new(rcpt, "dsn_due", json_string(""));
		tx.stats[QS_FAILED]++;
	}
	json_object_set_new(tx.item, "held", json_false());
	return queue_tx_commit(&tx, error_r);
rejected:
	queue_tx_free(&tx);
	return APPLY_REJECTED;
}

/* queue_apply_attempt - the appliers of queue.attempt and queue.notified
 * (projector/queue.h): results of a delivery attempt, and DSNs sent. */
#include "projector/queue_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One validated result of queue.attempt. */
struct attempt_result {
	const char *addr, *status, *reply, *enhanced, *remote;
	int dsn_passed;
};

/* No control characters but tab (a reply is one line of text for humans;
 * multi-line replies are joined by the writer). */
static int text_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	}
	return 1;
}

/* Validates rcpts[index] of queue.attempt; -1 when rejected. */
static int result_field(struct apply_ctx *ctx, json_t *item, json_t *in, size_t index,
			struct attempt_result *r)
{
	char where[32];

	snprintf(where, sizeof where, "rcpts[%zu]", index);
	if (!json_is_object(in)) {
		apply_reject(ctx, "invalid", "%s: not an object", where);
		return -1;
	}
	if ((r->addr = queue_field_str(ctx, in, where, "addr", QUEUE_ADDR_MAX)) == NULL ||
	    (r->status = queue_field_str(ctx, in, where, "status", 16)) == NULL ||
	    (r->reply = queue_field_str(ctx, in, where, "reply", QUEUE_REPLY_MAX)) == NULL ||
	    (r->enhanced = queue_field_str(ctx, in, where, "enhanced", 16)) == NULL ||
	    (r->remote = queue_field_str(ctx, in, where, "remote", QUEUE_REMOTE_MAX)) == NULL ||
	    queue_field_bool(ctx, in, where, "dsn_passed", &r->dsn_passed) < 0)
		return -1;
	if (strcmp(r->status, "delivered") != 0 && strcmp(r->status, "deferred") != 0 &&
	    strcmp(r->status, "failed") != 0) {
		apply_reject(ctx, "invalid", "%s.status: not delivered, deferred or failed", where);
		return -1;
	}
	if (!queue_enhanced_valid(r->enhanced)) {
		apply_reject(ctx, "invalid", "%s.enhanced: not \"\" or class.subject.detail", where);
		return -1;
	}
	if (!text_ok(r->reply) || !text_ok(r->remote)) {
		apply_reject(ctx, "invalid", "%s: reply or remote holds control characters", where);
		return -1;
	}
	if (queue_rcpt_find(item, r->addr) == NULL) {
		apply_reject(ctx, "invalid", "%s: %s is not a recipient of this item", where, r->addr);
		return -1;
	}
	return 0;
}

/* Records one result on a recipient that is not final yet; 1 when it
 * did, 0 when the recipient was final already. */
static int apply_result(struct queue_tx *tx, const struct attempt_result *r)
{
	json_t *rcpt = queue_rcpt_find(tx->item, r->addr);

	if (queue_rcpt_final(rcpt))
		return 0;  /* a late or duplicate attempt cannot undo a final state */
	json_object_set_new(rcpt, "reply", json_string(r->reply));
	json_object_set_new(rcpt, "enhanced", json_string(r->enhanced));
	json_object_set_new(rcpt, "remote", json_string(r->remote));
	json_object_set_new(rcpt, "attempts", json_integer(queue_jint(rcpt, "attempts") + 1));
	if (strcmp(r->status, "deferred") == 0) {
		json_object_set_new(rcpt, "status", json_string("deferred"));
		tx->stats[QS_DEFERRED]++;
	} else {
		queue_rcpt_finish(tx->item, rcpt, r->status, r->dsn_passed);
		tx->stats[strcmp(r->status, "delivered") == 0 ? QS_DELIVERED : QS_FAILED]++;
	}
	return 1;
}

/* queue.attempt {id, node, ts, rcpts, next_try, error}. */
enum apply_status queue_apply_attempt(struct apply_ctx *ctx, const char **error_r)
{
	struct attempt_result *res = NULL;
	struct queue_tx tx;
	enum apply_status st;
	json_t *rcpts, *v, *d = ctx->ev->data;
	const char *node, *error;
	int64_t ts, next_try;
	size_t i, n;
	int changed;

	if ((st = queue_tx_begin(ctx, &tx, error_r)) != APPLY_ACCEPTED)
		return st;
	st = APPLY_REJECTED;
	if ((node = queue_field_str(ctx, d, NULL, "node", QUEUE_NODE_MAX)) == NULL ||
	    queue_field_time(ctx, d, NULL, "ts", &ts) < 0 ||
	    queue_field_time(ctx, d, NULL, "next_try", &next_try) < 0 ||
	    (error = queue_field_str(ctx, d, NULL, "error", QUEUE_REPLY_MAX)) == NULL ||
	    (rcpts = queue_field_array(ctx, "rcpts", QUEUE_MAX_RCPTS, 1)) == NULL)
		goto out;
	if (node[0] == '\0' || !text_ok(node) || !text_ok(error)) {
		apply_reject(ctx, "invalid", "node or error: empty node or control characters");
		goto out;
	}
	n = json_array_size(rcpts);
	res = xcalloc(n, sizeof *res);
	json_array_foreach(rcpts, i, v) {
		if (result_field(ctx, tx.item, v, i, &res[i]) < 0)
			goto out;
		for (size_t k = 0; k < i; k++) {
			if (strcmp(res[k].addr, res[i].addr) == 0) {
				apply_reject(ctx, "invalid", "rcpts[%zu]: %s is listed twice", i, res[i].addr);
				goto out;
			}
		}
	}
	for (i = 0, changed = 0; i < n; i++)
		changed += apply_result(&tx, &res[i]);
	free(res);
	/* An attempt that found every recipient final already (a duplicate,
	 * or one that lost a race) changes nothing else either. */
	if (changed == 0)
		return queue_tx_commit(&tx, error_r);
	json_object_set_new(tx.item, "attempts", json_integer(queue_jint(tx.item, "attempts") + 1));
	json_object_set_new(tx.item, "last_attempt", json_integer(ts));
	json_object_set_new(tx.item, "last_error", json_string(error));
	json_object_set_new(tx.item, "retry_at", json_integer(next_try));
	return queue_tx_commit(&tx, error_r);
out:
	free(res);
	queue_tx_free(&tx);
	return st;
}

/* queue.notified {id, kind: "delay"|"dsn", rcpts: [addr...]}. */
enum apply_status queue_apply_notified(struct apply_ctx *ctx, const char **error_r)
{
	struct queue_tx tx;
	enum apply_status st;
	const char *kind;
	json_t *rcpts, *v;
	size_t i;

	if ((st = queue_tx_begin(ctx, &tx, error_r)) != APPLY_ACCEPTED)
		return st;
	if ((kind = queue_field_str(ctx, ctx->ev->data, NULL, "kind", 8)) == NULL)
		goto rejected;
	if (strcmp(kind, "delay") != 0 && strcmp(kind, "dsn") != 0) {
		apply_reject(ctx, "invalid", "kind: not delay or dsn");
		goto rejected;
	}
	if ((rcpts = queue_field_array(ctx, "rcpts", QUEUE_MAX_RCPTS, strcmp(kind, "dsn") == 0)) == NULL)
		goto rejected;
	json_array_foreach(rcpts, i, v) {
		const char *addr = json_string_value(v);
		if (addr == NULL || strlen(addr) != json_string_length(v) ||
		    queue_rcpt_find(tx.item, addr) == NULL) {
			apply_reject(ctx, "invalid", "rcpts[%zu]: not a recipient of this item", i);
			goto rejected;
		}
	}
	if (strcmp(kind, "delay") == 0) {
		json_object_set_new(tx.item, "delay_notified", json_true());
	} else {
		json_array_foreach(rcpts, i, v)
			json_object_set_new(queue_rcpt_find(tx.item, json_string_value(v)), "dsn_due",
					    json_string(""));
	}
	return queue_tx_commit(&tx, error_r);
rejected:
	queue_tx_free(&tx);
	return APPLY_REJECTED;
}

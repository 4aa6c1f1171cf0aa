/* queue_util - keys, the item's load/change/store cycle with its due
 * index and counters, and the recipient rules shared by the queue appliers
 * (see queue_internal.h). */
#include "projector/blob_internal.h"
#include "projector/queue_internal.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const queue_stat_names[QS_COUNT] = {
	[QS_ENQUEUED] = "enqueued", [QS_DELIVERED] = "delivered", [QS_DEFERRED] = "deferred",
	[QS_FAILED] = "failed", [QS_REMOVED] = "removed",
};

void queue_key_item(struct buf *k, const char *id)
{
	buf_truncate(k, 0);
	buf_puts(k, KEY_QUEUE_ITEM);
	buf_puts(k, id);
}

void queue_key_due(struct buf *k, int32_t partition, int64_t next_try, const char *id)
{
	buf_truncate(k, 0);
	buf_printf(k, "%s%05d/%016" PRIx64 "/%s", KEY_QUEUE_DUE, (int)partition, (uint64_t)next_try, id);
}

int64_t queue_jint(json_t *o, const char *member)
{
	return json_integer_value(json_object_get(o, member));
}

const char *queue_jstr(json_t *o, const char *member)
{
	const char *s = json_string_value(json_object_get(o, member));

	return s ? s : "";
}

int queue_rcpt_final(json_t *rcpt)
{
	const char *st = queue_jstr(rcpt, "status");

	return strcmp(st, "delivered") == 0 || strcmp(st, "failed") == 0;
}

json_t *queue_rcpt_find(json_t *item, const char *addr)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(item, "rcpts"), i, r) {
		if (strcmp(queue_jstr(r, "addr"), addr) == 0)
			return r;
	}
	return NULL;
}

/* dsn_due of a recipient that became final (queue.h "DSNs"; RFC 3461
 * 5.2.2 for "relayed"). Never for the null sender or a DSN. */
static const char *dsn_due_for(json_t *item, json_t *rcpt, const char *status, int dsn_passed)
{
	const char *notify = queue_jstr(rcpt, "notify");

	if (queue_jstr(item, "from")[0] == '\0' || json_is_true(json_object_get(item, "dsn")))
		return "";
	if (strcmp(status, "failed") == 0)
		return notify[0] == '\0' || queue_notify_has(notify, "FAILURE") ? "failure" : "";
	if (queue_notify_has(notify, "SUCCESS"))
		return dsn_passed ? "success" : "relayed";
	return "";
}

void queue_rcpt_finish(json_t *item, json_t *rcpt, const char *status, int dsn_passed)
{
	json_object_set_new(rcpt, "status", json_string(status));
	json_object_set_new(rcpt, "dsn_due", json_string(dsn_due_for(item, rcpt, status, dsn_passed)));
}

/* The item's due key as stored: none while held. */
static void due_key_of(struct buf *k, json_t *item)
{
	buf_truncate(k, 0);
	if (json_is_true(json_object_get(item, "held")))
		return;
	queue_key_due(k, (int32_t)queue_jint(item, "partition"), queue_jint(item, "next_try"),
		      queue_jstr(item, "id"));
}

static int any_dsn_due(json_t *item)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(item, "rcpts"), i, r) {
		if (queue_jstr(r, "dsn_due")[0] != '\0')
			return 1;
	}
	return 0;
}

static int all_final(json_t *item)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(item, "rcpts"), i, r) {
		if (!queue_rcpt_final(r))
			return 0;
	}
	return 1;
}

/* Loads and parses the item; 1, 0 (none) or -1. */
static int load_item(struct view_batch *b, const char *id, json_t **item_r, const char **error_r)
{
	struct buf key = BUF_INIT;
	char *val = NULL;
	size_t vlen = 0;
	int r;

	*item_r = NULL;
	queue_key_item(&key, id);
	r = view_batch_get(b, key.data, key.len, &val, &vlen, error_r);
	buf_free(&key);
	if (r <= 0)
		return r;
	*item_r = evm_json_loadb(val, vlen, 0, NULL);
	free(val);
	if (!json_is_object(*item_r) || !json_is_array(json_object_get(*item_r, "rcpts"))) {
		json_decref(*item_r);
		*item_r = NULL;
		log_error("queue: item %s in the view is not a queue record", id);
		*error_r = QUEUE_CORRUPT;
		return -1;
	}
	return 1;
}

enum apply_status queue_tx_begin(struct apply_ctx *ctx, struct queue_tx *tx, const char **error_r)
{
	const char *id, *tenant;
	int r;

	memset(tx, 0, sizeof *tx);
	tx->ctx = ctx;
	if ((id = queue_field_id(ctx)) == NULL)
		return APPLY_REJECTED;
	if ((r = load_item(ctx->batch, id, &tx->item, error_r)) <= 0)
		return r < 0 ? APPLY_FAILED : apply_reject(ctx, "not-found", "no queue item %s", id);
	tenant = queue_jstr(tx->item, "tenant");
	if (ctx->ev->tenant[0] != '\0' && strcmp(ctx->ev->tenant, tenant) != 0) {
		queue_tx_free(tx);
		return apply_reject(ctx, "forbidden", "event tenant %s may not change queue item %s",
				    ctx->ev->tenant, id);
	}
	due_key_of(&tx->old_due, tx->item);
	tx->dsn_was_pending = json_is_true(json_object_get(tx->item, "dsn_pending"));
	return APPLY_ACCEPTED;
}

void queue_tx_free(struct queue_tx *tx)
{
	json_decref(tx->item);
	tx->item = NULL;
	buf_free(&tx->old_due);
}

/* Adds the deltas to the q/stat/ counters. */
static int add_stats(struct view_batch *b, const int64_t *deltas, const char **error_r)
{
	struct buf key = BUF_INIT;
	int ret = 0;

	for (int s = 0; s < QS_COUNT && ret == 0; s++) {
		char *val = NULL, num[32];
		int64_t n = 0;
		int r;

		if (deltas[s] == 0)
			continue;
		buf_truncate(&key, 0);
		buf_printf(&key, "%s%s", KEY_QUEUE_STAT, queue_stat_names[s]);
		if ((r = view_batch_get(b, key.data, key.len, &val, NULL, error_r)) < 0) {
			ret = -1;
			break;
		}
		if (r > 0) {
			char *end;
			n = strtoll(val, &end, 10);
			if (*end != '\0' || end == val || n < 0) {
				*error_r = QUEUE_CORRUPT;
				ret = -1;
			}
		}
		free(val);
		snprintf(num, sizeof num, "%" PRId64, n + deltas[s]);
		view_batch_put(b, key.data, key.len, num, strlen(num));
	}
	buf_free(&key);
	return ret;
}

/* next_try: retry_at, or earlier while a DSN is due ("due at once": the
 * ts of the event that made it due, kept until it is sent). */
static void reschedule(struct queue_tx *tx)
{
	json_t *item = tx->item;
	int pending = any_dsn_due(item);
	int64_t next = queue_jint(item, "retry_at");

	if (pending) {
		int64_t since = tx->dsn_was_pending ? queue_jint(item, "next_try") : tx->ctx->ev->ts;
		if (since < next)
			next = since;
	}
	json_object_set_new(item, "dsn_pending", json_boolean(pending));
	json_object_set_new(item, "next_try", json_integer(next));
}

enum apply_status queue_tx_commit(struct queue_tx *tx, const char **error_r)
{
	struct apply_ctx *ctx = tx->ctx;
	struct buf key = BUF_INIT, due = BUF_INIT;
	const char *id = queue_jstr(tx->item, "id");
	int removed;
	char *s;

	reschedule(tx);
	removed = all_final(tx->item) && !json_is_true(json_object_get(tx->item, "dsn_pending"));
	queue_key_item(&key, id);
	if (removed) {
		view_batch_delete(ctx->batch, key.data, key.len);
		tx->stats[QS_REMOVED]++;
		/* Its reference to the body goes with it (blob_gc.h). */
		if (blob_ref_queue(ctx, queue_jstr(tx->item, "blob_id"), id, -1, error_r) < 0) {
			buf_free(&key);
			queue_tx_free(tx);
			return APPLY_FAILED;
		}
	} else {
		due_key_of(&due, tx->item);
		if ((s = json_dumps(tx->item, QUEUE_JSON_FLAGS)) == NULL)
			log_panic("queue: cannot serialise item %s", id);
		view_batch_put(ctx->batch, key.data, key.len, s, strlen(s));
		free(s);
	}
	if (tx->old_due.len > 0 && (removed || due.len != tx->old_due.len ||
				    memcmp(due.data, tx->old_due.data, due.len) != 0))
		view_batch_delete(ctx->batch, tx->old_due.data, tx->old_due.len);
	if (!removed && due.len > 0)
		view_batch_put(ctx->batch, due.data, due.len, "", 0);
	buf_free(&key);
	buf_free(&due);
	if (add_stats(ctx->batch, tx->stats, error_r) < 0) {
		queue_tx_free(tx);
		return APPLY_FAILED;
	}
	if (ctx->result != NULL) {
		json_object_set_new(ctx->result, "id", json_string(id));
		json_object_set_new(ctx->result, "removed", json_boolean(removed));
	}
	apply_changed(ctx, queue_jstr(tx->item, "account"));
	queue_tx_free(tx);
	return APPLY_ACCEPTED;
}

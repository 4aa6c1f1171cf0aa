/* queue_apply_enqueue - the applier of queue.enqueue (projector/queue.h):
 * a new item with every recipient queued, due at next_try. */
#include "projector/blob_internal.h"
#include "projector/queue_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One recipient {addr, orcpt, notify} of the event, as a stored record;
 * NULL when rejected. */
static json_t *rcpt_record(struct apply_ctx *ctx, json_t *in, size_t index, int utf8_ok)
{
	char where[32];
	const char *addr, *orcpt, *notify;

	snprintf(where, sizeof where, "rcpts[%zu]", index);
	if (!json_is_object(in)) {
		apply_reject(ctx, "invalid", "%s: not an object", where);
		return NULL;
	}
	if ((addr = queue_field_addr(ctx, in, where, "addr", 0, utf8_ok)) == NULL ||
	    (orcpt = queue_field_str(ctx, in, where, "orcpt", QUEUE_ORCPT_MAX)) == NULL ||
	    (notify = queue_field_str(ctx, in, where, "notify", 64)) == NULL)
		return NULL;
	/* RFC 3461 4.2: addr-type ";" xtext (utf-8-addr-unitext with RFC 6533). */
	for (const unsigned char *p = (const unsigned char *)orcpt; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			apply_reject(ctx, "invalid", "%s.orcpt: control characters", where);
			return NULL;
		}
	}
	if (orcpt[0] != '\0' && (strchr(orcpt, ';') == NULL || orcpt[0] == ';')) {
		apply_reject(ctx, "invalid", "%s.orcpt: not addr-type;address", where);
		return NULL;
	}
	if (!queue_notify_valid(notify)) {
		apply_reject(ctx, "invalid", "%s.notify: not \"\", NEVER or a list of SUCCESS, FAILURE, DELAY",
			     where);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "addr", addr, "orcpt", orcpt,
			 "notify", notify, "status", "queued", "reply", "", "enhanced", "", "remote", "",
			 "attempts", 0, "dsn_due", "");
}

/* The recipients, validated, as stored records; NULL when rejected. */
static json_t *rcpt_records(struct apply_ctx *ctx, int utf8_ok)
{
	json_t *in = queue_field_array(ctx, "rcpts", QUEUE_MAX_RCPTS, 1), *out, *v, *r;
	size_t i;

	if (in == NULL)
		return NULL;
	out = json_array();
	json_array_foreach(in, i, v) {
		if ((r = rcpt_record(ctx, v, i, utf8_ok)) == NULL)
			goto fail;
		/* Results name recipients by address: each only once. The list
		 * is small (QUEUE_MAX_RCPTS), a linear check is enough. */
		for (size_t k = 0; k < i; k++) {
			if (strcmp(queue_jstr(json_array_get(out, k), "addr"), queue_jstr(r, "addr")) == 0) {
				apply_reject(ctx, "invalid", "rcpts[%zu]: %s is listed twice", i,
					     queue_jstr(r, "addr"));
				json_decref(r);
				goto fail;
			}
		}
		json_array_append_new(out, r);
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* 1 when s is 64 lower-case hex digits. */
static int blob_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n != QUEUE_BLOB_ID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/* envid: xtext as given in MAIL FROM (RFC 3461 4.4: at most 100). */
static int envid_valid(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	}
	return 1;
}

/* Everything but the recipients, validated: the item record; NULL when
 * rejected. */
static json_t *item_record(struct apply_ctx *ctx, const char *id)
{
	json_t *d = ctx->ev->data;
	const char *from, *blob_id, *ret, *envid;
	int smtputf8, body8bit, requiretls, dsn;
	int64_t arrival, next_try, expire, delay_warn, size;

	if (queue_field_bool(ctx, d, NULL, "smtputf8", &smtputf8) < 0 ||
	    (from = queue_field_addr(ctx, d, NULL, "from", 1, smtputf8)) == NULL ||
	    (blob_id = queue_field_str(ctx, d, NULL, "blob_id", QUEUE_BLOB_ID_LEN)) == NULL ||
	    (ret = queue_field_str(ctx, d, NULL, "ret", 4)) == NULL ||
	    (envid = queue_field_str(ctx, d, NULL, "envid", QUEUE_ENVID_MAX)) == NULL ||
	    queue_field_bool(ctx, d, NULL, "body8bit", &body8bit) < 0 ||
	    queue_field_bool(ctx, d, NULL, "requiretls", &requiretls) < 0 ||
	    queue_field_bool(ctx, d, NULL, "dsn", &dsn) < 0 ||
	    queue_field_time(ctx, d, NULL, "arrival", &arrival) < 0 ||
	    queue_field_time(ctx, d, NULL, "next_try", &next_try) < 0 ||
	    queue_field_time(ctx, d, NULL, "expire", &expire) < 0 ||
	    queue_field_time(ctx, d, NULL, "delay_warn", &delay_warn) < 0)
		return NULL;
	if (!blob_id_valid(blob_id)) {
		apply_reject(ctx, "invalid", "blob_id: not 64 lower-case hex digits");
		return NULL;
	}
	if (evm_data_int(ctx->ev, "blob_size", 1, QUEUE_BLOB_SIZE_MAX, &size, &(const char *){ NULL }) < 0) {
		apply_reject(ctx, "invalid", "blob_size: missing or not 1 to 2^39");
		return NULL;
	}
	if (strcmp(ret, "FULL") != 0 && strcmp(ret, "HDRS") != 0 && ret[0] != '\0') {
		apply_reject(ctx, "invalid", "ret: not FULL, HDRS or \"\"");
		return NULL;
	}
	if (!envid_valid(envid)) {
		apply_reject(ctx, "invalid", "envid: not printable ASCII");
		return NULL;
	}
	if (expire < arrival || (delay_warn != 0 && delay_warn < arrival)) {
		apply_reject(ctx, "invalid", "expire and delay_warn must not be before arrival");
		return NULL;
	}
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:b, s:b, s:b, s:b,"
			 " s:I, s:I, s:I, s:b, s:I, s:I, s:b, s:i, s:s, s:I, s:b}",
			 "id", id, "partition", (int)ctx->partition, "tenant", ctx->ev->tenant,
			 "account", ctx->ev->account, "from", from, "blob_id", blob_id,
			 "blob_size", (json_int_t)size, "ret", ret, "envid", envid,
			 "smtputf8", smtputf8, "body8bit", body8bit, "requiretls", requiretls, "dsn", dsn,
			 "arrival", (json_int_t)arrival, "expire", (json_int_t)expire,
			 "delay_warn", (json_int_t)delay_warn, "delay_notified", 0,
			 "next_try", (json_int_t)next_try, "retry_at", (json_int_t)next_try,
			 "held", 0, "attempts", 0, "last_error", "", "last_attempt", (json_int_t)0,
			 "dsn_pending", 0);
}

/* queue.enqueue: a new item; "exists" when the id is queued already. */
enum apply_status queue_apply_enqueue(struct apply_ctx *ctx, const char **error_r)
{
	struct queue_tx tx;
	struct buf key = BUF_INIT;
	const char *id;
	json_t *item, *rcpts;
	char *val = NULL;
	int r;

	if ((id = queue_field_id(ctx)) == NULL || (item = item_record(ctx, id)) == NULL)
		return APPLY_REJECTED;
	if ((rcpts = rcpt_records(ctx, json_is_true(json_object_get(item, "smtputf8")))) == NULL) {
		json_decref(item);
		return APPLY_REJECTED;
	}
	json_object_set_new(item, "rcpts", rcpts);
	queue_key_item(&key, id);
	r = view_batch_get(ctx->batch, key.data, key.len, &val, NULL, error_r);
	free(val);
	buf_free(&key);
	if (r != 0) {
		json_decref(item);
		return r < 0 ? APPLY_FAILED : apply_reject(ctx, "exists", "queue item %s exists", id);
	}
	/* The item references its body until its removal (blob_gc.h). */
	if (blob_ref_queue(ctx, queue_jstr(item, "blob_id"), id, 1, error_r) < 0) {
		json_decref(item);
		return APPLY_FAILED;
	}
	memset(&tx, 0, sizeof tx);
	tx.ctx = ctx;
	tx.item = item;
	tx.stats[QS_ENQUEUED] = 1;
	return queue_tx_commit(&tx, error_r);
}

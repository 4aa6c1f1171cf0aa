/* mail_upload - the applier of blob.upload (projector/mail.h): an account
 * records a blob it uploaded (JMAP, RFC 8620 6.1 and RFC 9404 4.1), so the
 * blob is readable by that account and no other; and the record's read
 * API. The applier never reads the blob topic's keys (partition-local
 * state, mail.h): it records the id, size and type the writer gives, and
 * the reader checks the bytes are complete on its node.
 *
 * The record is kept; the upload references its blob (blob_gc.h) for
 * "ttl_s" seconds after the event's ts (the writer's blob.upload_ttl_s,
 * BLOB_UPLOAD_TTL_DEFAULT_S when absent; RFC 8620 6.1 asks for at least an
 * hour), after which an unreferenced blob may be collected. */
#include "projector/blob_internal.h"
#include "projector/mail_internal.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <stdlib.h>
#include <string.h>

/* The longest reference an upload may ask for: ten years. */
#define MAIL_UPLOAD_TTL_MAX_S (INT64_C(10) * 366 * 86400)

/* A media type as a client gave it: printable ASCII, at most
 * MAIL_UPLOAD_TYPE_MAX octets ("" = unknown). */
static int type_valid(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t < 0x20 || (unsigned char)*t > 0x7e)
			return 0;
	return 1;
}

/* blob.upload {blob_id, size, type, ttl_s (optional)}: mail/<acct>/upl/<blob
 * id> = {at (the event's ts), size, type}. A repeated upload of the same
 * bytes records it again with the new time. */
enum apply_status mail_apply_upload(struct apply_ctx *ctx, const char **error_r)
{
	const struct evm_event *ev = ctx->ev;
	const char *blob_id, *type, *error = NULL;
	struct mail_acct a;
	enum apply_status st;
	int64_t size, ttl = BLOB_UPLOAD_TTL_DEFAULT_S;
	json_t *rec;

	if ((blob_id = evm_data_str(ev, "blob_id", MAIL_BLOB_ID_LEN, &error)) == NULL ||
	    strlen(blob_id) != MAIL_BLOB_ID_LEN || !mail_hex_valid(blob_id, MAIL_BLOB_ID_LEN))
		return apply_reject(ctx, "invalid", "blob_id: not 64 lower-case hex digits");
	if (evm_data_int(ev, "size", 0, MAIL_BLOB_SIZE_MAX, &size, &error) < 0)
		return apply_reject(ctx, "invalid", "size: %s", error);
	if ((type = evm_data_str(ev, "type", MAIL_UPLOAD_TYPE_MAX, &error)) == NULL || !type_valid(type))
		return apply_reject(ctx, "invalid", "type: printable ASCII of at most %d octets expected",
				    MAIL_UPLOAD_TYPE_MAX);
	if (json_object_get(ev->data, "ttl_s") != NULL &&
	    evm_data_int(ev, "ttl_s", 3600, MAIL_UPLOAD_TTL_MAX_S, &ttl, &error) < 0)
		return apply_reject(ctx, "invalid", "ttl_s: %s", error);
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED) {
		mail_acct_close(&a);
		return st;
	}
	mail_acct_begin_write(&a);
	mail_key(&a.key, a.address, MAIL_K_UPL, blob_id);
	rec = json_pack("{s:I, s:I, s:s}", "at", (json_int_t)ev->ts, "size", (json_int_t)size, "type", type);
	mail_batch_put_json(ctx->batch, &a.key, rec);
	json_decref(rec);
	if (blob_ref_upload(ctx, blob_id, a.address, ev->ts + ttl * 1000, error_r) < 0) {
		mail_acct_close(&a);
		return APPLY_FAILED;
	}
	mail_result(ctx, "blob_id", json_string(blob_id));
	mail_acct_close(&a);
	return APPLY_ACCEPTED;
}

int mail_upload_get(struct view *view, const char *account, const char *blob_id, json_t **upload_r,
		    const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1], *val = NULL;
	struct buf key = BUF_INIT;
	json_int_t at, size;
	const char *type, *ignored;
	size_t vlen = 0;
	json_t *rec;
	int r;

	*upload_r = NULL;
	if (account == NULL || evm_address_normalize(account, acct, &ignored) < 0 || blob_id == NULL ||
	    strlen(blob_id) != MAIL_BLOB_ID_LEN || !mail_hex_valid(blob_id, MAIL_BLOB_ID_LEN))
		return 0;
	mail_key(&key, acct, MAIL_K_UPL, blob_id);
	r = view_get(view, key.data, key.len, &val, &vlen, error_r);
	if (r <= 0) {
		buf_free(&key);
		return r;
	}
	rec = evm_json_loadb(val, vlen, 0, NULL);
	free(val);
	if (json_unpack(rec, "{s:I, s:I, s:s}", "at", &at, "size", &size, "type", &type) < 0 || size < 0) {
		log_error("mail: %s in the view is not an upload record", key.data);
		json_decref(rec);
		buf_free(&key);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	buf_free(&key);
	*upload_r = rec;
	return 1;
}

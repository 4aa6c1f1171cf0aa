/* blob_gc_apply - the applier of blob.gc (projector/blob_gc.h): forgets the
 * listed uploads of a blob, and its content once no upload is left.
 *
 * Deterministic from the blob's partition alone: it reads only blobup/,
 * blob/ and blobmeta/ of this blob, never blobref/ (written by other
 * partitions, so another node may have applied more or less of them). An
 * upload that is not (or no longer) recorded is skipped, so a duplicate
 * decision, or one whose chunks compaction already removed, changes
 * nothing. blob.store = log: forgetting an upload deletes its chunk
 * locations (blobloc/<id>/<upload>/), so a reader uses another upload's;
 * the content's removal deletes every location left. */
#include "projector/blob_internal.h"
#include "projector/blob_store.h"
#include "projector/mail_internal.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

/* Collects the keys under a prefix (to delete them after the scan). */
static int keys_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	json_array_append_new(vctx, json_stringn(key, klen));
	return 0;
}

/* Any key under prefix: 1, none 0, -1 error. */
static int stop_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	*(int *)vctx = 1;
	return 1;
}

/* Deletes every key under the prefix in k: how many, or -1. */
static long delete_prefix(struct apply_ctx *ctx, const struct buf *k, const char **error_r)
{
	json_t *keys = json_array(), *key;
	size_t i;
	long n;

	if (view_batch_scan(ctx->batch, k->data, k->len, keys_cb, keys, error_r) < 0) {
		json_decref(keys);
		return -1;
	}
	json_array_foreach(keys, i, key)
		view_batch_delete(ctx->batch, json_string_value(key), json_string_length(key));
	n = (long)json_array_size(keys);
	json_decref(keys);
	return n;
}

/* Forgets one upload: 1 it was recorded, 0 not, -1 view error. */
static int forget_upload(struct apply_ctx *ctx, const char *blob_id, const char *upload,
			 const char **error_r)
{
	struct buf key = BUF_INIT;
	json_t *rec = NULL;
	int64_t ts;
	int r;

	blob_up_key(&key, blob_id, upload);
	if ((r = mail_batch_get_json(ctx->batch, &key, &rec, error_r)) <= 0) {
		buf_free(&key);
		return r;
	}
	if (mail_rec_int(rec, "ts", &ts, error_r) < 0) {
		json_decref(rec);
		buf_free(&key);
		return -1;
	}
	json_decref(rec);
	mail_batch_delete(ctx->batch, &key);
	blob_upt_key(&key, ts, blob_id, upload);
	mail_batch_delete(ctx->batch, &key);
	blob_loc_key(&key, blob_id, upload, -1);
	r = delete_prefix(ctx, &key, error_r) < 0 ? -1 : 1;
	buf_free(&key);
	return r;
}

/* Deletes the chunks blob/<id>/..., their locations blobloc/<id>/... and
 * blobmeta/<id>: how many chunks, or -1. */
static long drop_content(struct apply_ctx *ctx, const char *blob_id, const char **error_r)
{
	struct buf key = BUF_INIT;
	long n;

	blob_key(&key, blob_id, -1);
	if ((n = delete_prefix(ctx, &key, error_r)) < 0)
		goto out;
	blob_loc_key(&key, blob_id, NULL, -1);
	if (delete_prefix(ctx, &key, error_r) < 0) {
		n = -1;
		goto out;
	}
	blob_meta_key(&key, blob_id);
	mail_batch_delete(ctx->batch, &key);
out:
	buf_free(&key);
	return n;
}

/* blob.gc {blob_id, uploads}: result {blob_id, forgotten, chunks_removed,
 * content_removed}. */
enum apply_status blob_apply_gc(struct apply_ctx *ctx, const char **error_r)
{
	const struct evm_event *ev = ctx->ev;
	const char *blob_id, *error = NULL;
	json_t *uploads = json_object_get(ev->data, "uploads"), *u;
	struct buf key = BUF_INIT;
	long forgotten = 0, chunks = 0;
	int left = 0, r;
	size_t i;

	if ((blob_id = evm_data_str(ev, "blob_id", MAIL_BLOB_ID_LEN, &error)) == NULL ||
	    !mail_hex_valid(blob_id, MAIL_BLOB_ID_LEN))
		return apply_reject(ctx, "invalid", "blob_id: not 64 lower-case hex digits");
	if (!json_is_array(uploads) || json_array_size(uploads) == 0 ||
	    json_array_size(uploads) > BLOB_GC_UPLOADS_MAX)
		return apply_reject(ctx, "invalid", "uploads: an array of 1 to %d upload ids expected",
				    BLOB_GC_UPLOADS_MAX);
	json_array_foreach(uploads, i, u) {
		if (!json_is_string(u) || strlen(json_string_value(u)) != json_string_length(u) ||
		    !blob_upload_id_valid(json_string_value(u)))
			return apply_reject(ctx, "invalid", "uploads: \"\" or %d lower-case hex digits "
					    "expected", BLOB_UPLOAD_ID_LEN);
	}
	json_array_foreach(uploads, i, u) {
		if ((r = forget_upload(ctx, blob_id, json_string_value(u), error_r)) < 0)
			return APPLY_FAILED;
		forgotten += r;
	}
	blob_up_key(&key, blob_id, "");
	r = view_batch_scan(ctx->batch, key.data, key.len, stop_cb, &left, error_r);
	buf_free(&key);
	if (r < 0)
		return APPLY_FAILED;
	/* No upload left: nobody is storing this content any more. */
	if (!left && (chunks = drop_content(ctx, blob_id, error_r)) < 0)
		return APPLY_FAILED;
	/* blob.store = log: the node's cached copy goes now, not when it is
	 * next asked for (an erased account's bodies must not stay on disk).
	 * A node-local side effect, harmless if this batch is dropped: the
	 * cache is only a cache. */
	if (!left) {
		struct blob_store *store = view_blob_store(view_batch_view(ctx->batch));

		if (store != NULL)
			blob_cache_drop(blob_store_cache(store), blob_id);
	}
	mail_result(ctx, "blob_id", json_string(blob_id));
	mail_result(ctx, "forgotten", json_integer(forgotten));
	mail_result(ctx, "chunks_removed", json_integer(chunks));
	mail_result(ctx, "content_removed", json_boolean(!left));
	return APPLY_ACCEPTED;
}

/* blob_ref - the reference counts of bodies (blobref/, blobzero/) and the
 * upload records (blobup/, blobupt/); see blob_internal.h and blob_gc.h.
 *
 * Counts are commutative per owner: n adds up, drop and until only grow
 * (max, not last), so the outcome does not depend on how the owner's
 * events interleave with other partitions. */
#include "projector/blob_internal.h"
#include "projector/mail_internal.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void blob_ref_key(struct buf *k, const char *blob_id, const char *owner)
{
	buf_truncate(k, 0);
	buf_printf(k, "%s%s/%s", KEY_BLOBREF, blob_id, owner);
}

void blob_zero_key(struct buf *k, int64_t ts, const char *blob_id, const char *owner)
{
	buf_truncate(k, 0);
	buf_printf(k, "%s%020" PRId64 "/%s/%s", KEY_BLOBZERO, ts, blob_id, owner);
}

void blob_up_key(struct buf *k, const char *blob_id, const char *upload)
{
	buf_truncate(k, 0);
	buf_printf(k, "%s%s/%s", KEY_BLOBUP, blob_id, upload);
}

void blob_loc_key(struct buf *k, const char *blob_id, const char *upload, int64_t index)
{
	buf_truncate(k, 0);
	buf_printf(k, "%s%s/", KEY_BLOBLOC, blob_id);
	if (upload == NULL)
		return;
	buf_printf(k, "%s/", upload);
	if (index >= 0)
		buf_printf(k, "%06" PRId64, index);
}

void blob_upt_key(struct buf *k, int64_t ts, const char *blob_id, const char *upload)
{
	buf_truncate(k, 0);
	buf_printf(k, "%s%020" PRId64 "/%s/%s", KEY_BLOBUPT, ts, blob_id, upload);
}

int blob_upload_id_valid(const char *upload)
{
	return upload[0] == '\0' ||
	       (strlen(upload) == BLOB_UPLOAD_ID_LEN && mail_hex_valid(upload, BLOB_UPLOAD_ID_LEN));
}

/* A stored time member: absent or negative reads as 0 (never). */
static int64_t rec_time(json_t *rec, const char *member)
{
	json_int_t v = json_integer_value(json_object_get(rec, member));

	return v > 0 ? (int64_t)v : 0;
}

/* When a released entry last let go: its blobzero/ time. */
static int64_t zero_time(int64_t drop, int64_t until)
{
	return drop > until ? drop : until;
}

/* Changes one owner's entry: n += delta (never below 0), drop and until
 * raised to at least the given values; moves its blobzero/ entry. */
static int ref_update(struct apply_ctx *ctx, const char *blob_id, const char *owner, int64_t delta,
		      int64_t drop_min, int64_t until_min, const char **error_r)
{
	struct buf key = BUF_INIT;
	json_t *rec = NULL;
	int64_t n = 0, drop = 0, until = 0, n2, drop2, until2;
	int r;

	blob_ref_key(&key, blob_id, owner);
	if ((r = mail_batch_get_json(ctx->batch, &key, &rec, error_r)) < 0) {
		buf_free(&key);
		return -1;
	}
	if (r == 1) {
		n = json_integer_value(json_object_get(rec, "n"));
		drop = rec_time(rec, "drop");
		until = rec_time(rec, "until");
		json_decref(rec);
	}
	n2 = n + delta;
	if (n2 < 0) {
		/* Only a view made before the counts existed can get here: it is
		 * rebuilt at start (VIEW_FORMAT), so this is not reached. */
		log_warn("blob: references of %s by %s would go below 0", blob_id, owner);
		n2 = 0;
	}
	drop2 = drop > drop_min ? drop : drop_min;
	until2 = until > until_min ? until : until_min;
	if (r == 1 && n == 0 && (n2 != 0 || zero_time(drop2, until2) != zero_time(drop, until))) {
		blob_zero_key(&key, zero_time(drop, until), blob_id, owner);
		mail_batch_delete(ctx->batch, &key);
	}
	if (n2 == 0 && (r == 0 || n != 0 || zero_time(drop2, until2) != zero_time(drop, until))) {
		blob_zero_key(&key, zero_time(drop2, until2), blob_id, owner);
		mail_batch_put_str(ctx->batch, &key, "");
	}
	rec = json_pack("{s:I, s:I, s:I}", "n", (json_int_t)n2, "drop", (json_int_t)drop2, "until",
			(json_int_t)until2);
	blob_ref_key(&key, blob_id, owner);
	mail_batch_put_json(ctx->batch, &key, rec);
	json_decref(rec);
	buf_free(&key);
	return 0;
}

int blob_ref_account(struct apply_ctx *ctx, const char *blob_id, const char *account, int64_t delta,
		     const char **error_r)
{
	struct buf owner = BUF_INIT;
	int ret;

	mail_key_escape(&owner, account);
	ret = ref_update(ctx, blob_id, owner.data, delta, delta < 0 ? ctx->ev->ts : 0, 0, error_r);
	buf_free(&owner);
	return ret;
}

int blob_ref_queue(struct apply_ctx *ctx, const char *blob_id, const char *item_id, int64_t delta,
		   const char **error_r)
{
	struct buf owner = BUF_INIT;
	int ret;

	buf_puts(&owner, "q/");
	mail_key_escape(&owner, item_id);
	ret = ref_update(ctx, blob_id, owner.data, delta, delta < 0 ? ctx->ev->ts : 0, 0, error_r);
	buf_free(&owner);
	return ret;
}

int blob_ref_upload(struct apply_ctx *ctx, const char *blob_id, const char *account, int64_t until,
		    const char **error_r)
{
	struct buf owner = BUF_INIT;
	int ret;

	mail_key_escape(&owner, account);
	ret = ref_update(ctx, blob_id, owner.data, 0, 0, until, error_r);
	buf_free(&owner);
	return ret;
}

int blob_ref_upload_release(struct apply_ctx *ctx, const char *blob_id, const char *account,
			    const char **error_r)
{
	struct buf owner = BUF_INIT, key = BUF_INIT;
	int64_t ts = ctx->ev->ts, n, drop, until;
	json_t *rec = NULL;
	int r;

	mail_key_escape(&owner, account);
	blob_ref_key(&key, blob_id, owner.data);
	if ((r = mail_batch_get_json(ctx->batch, &key, &rec, error_r)) <= 0)
		goto out;
	n = json_integer_value(json_object_get(rec, "n"));
	drop = rec_time(rec, "drop");
	until = rec_time(rec, "until");
	json_decref(rec);
	r = 0;
	if (until <= ts)
		goto out;
	if (n == 0) {
		/* its blobzero/ entry moves to the earlier time */
		blob_zero_key(&key, zero_time(drop, until), blob_id, owner.data);
		mail_batch_delete(ctx->batch, &key);
		blob_zero_key(&key, zero_time(drop, ts), blob_id, owner.data);
		mail_batch_put_str(ctx->batch, &key, "");
	}
	rec = json_pack("{s:I, s:I, s:I}", "n", (json_int_t)n, "drop", (json_int_t)drop, "until", (json_int_t)ts);
	blob_ref_key(&key, blob_id, owner.data);
	mail_batch_put_json(ctx->batch, &key, rec);
	json_decref(rec);
out:
	buf_free(&owner);
	buf_free(&key);
	return r < 0 ? -1 : 0;
}

int blob_upload_note(struct apply_ctx *ctx, const char *blob_id, const char *upload,
		     const char **error_r)
{
	struct buf key = BUF_INIT;
	char *val = NULL;
	json_t *rec;
	int r;

	blob_up_key(&key, blob_id, upload);
	if ((r = view_batch_get(ctx->batch, key.data, key.len, &val, NULL, error_r)) < 0) {
		buf_free(&key);
		return -1;
	}
	free(val);
	if (r == 0) {
		rec = json_pack("{s:I}", "ts", (json_int_t)ctx->ev->ts);
		mail_batch_put_json(ctx->batch, &key, rec);
		json_decref(rec);
		blob_upt_key(&key, ctx->ev->ts, blob_id, upload);
		mail_batch_put_str(ctx->batch, &key, "");
	}
	buf_free(&key);
	return 0;
}

/* blob_chunk - the applier of blob.chunk (projector/mail.h) and the blob
 * aggregate's applier table.
 *
 * A chunk is stored decoded under blob/<id>/<index>; blobmeta/<id> counts
 * the chunks present. The same chunk again (a producer retry, or the same
 * content uploaded twice) changes nothing; a chunk that contradicts what
 * is stored (other bytes at the same index, another size or count) is
 * rejected "conflict". The chunk that completes a blob is accepted only if
 * all chunks together have the announced size and SHA-256 = the blob id, so
 * a complete blob is always the right body.
 *
 * Each accepted chunk notes its upload (blob_gc.h: "upload", "" in an old
 * log) under blobup/, the first chunk of an upload with its time.
 *
 * blob.store = log (ctx->blob_log): every accepted chunk also records where
 * its record is, blobloc/<id>/<upload>/<index> = "<partition> <offset>"
 * (the latest record of that key, the one Kafka's compaction keeps). The
 * bytes stay under blob/ only until the blob completes, for the SHA-256
 * check; then they go, leaving blobmeta/ and the locations. A chunk of a
 * complete blob cannot be compared with bytes any more: its location is
 * recorded, and the reader (blob_fetch.c) checks the SHA-256 of what it
 * assembles, trying another upload when it is wrong. */
#include "projector/blob_internal.h"
#include "common/ids.h"
#include "common/base64.h"
#include "projector/mail_internal.h"
#include "common/log.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hashes every chunk in order (this one from memory) and checks the total
 * size and the id: 1 right, 0 wrong, -1 view error. */
static int blob_verify(struct view_batch *b, const char *blob_id, int64_t count, int64_t size,
		       int64_t index, const unsigned char *data, size_t dlen, const char **error_r)
{
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct buf key = BUF_INIT;
	char got[2 * 32 + 1];
	int64_t total = 0;
	int ret = -1;

	if (sha == NULL || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1)
		log_panic("blob: SHA-256 failed");
	for (int64_t i = 0; i < count; i++) {
		char *val = NULL;
		size_t vlen = 0;
		int r;

		if (i == index) {
			EVP_DigestUpdate(sha, data, dlen);
			total += (int64_t)dlen;
			continue;
		}
		blob_key(&key, blob_id, i);
		if ((r = view_batch_get(b, key.data, key.len, &val, &vlen, error_r)) <= 0) {
			if (r == 0) {
				log_error("blob: %s counts a chunk %lld that is missing", blob_id, (long long)i);
				*error_r = MAIL_CORRUPT;
			}
			goto out;
		}
		EVP_DigestUpdate(sha, val, vlen);
		total += (int64_t)vlen;
		free(val);
	}
	if (EVP_DigestFinal_ex(sha, md, &mdlen) != 1 || mdlen != 32)
		log_panic("blob: SHA-256 failed");
	evm_hex_encode(md, 32, got);
	ret = total == size && strcmp(got, blob_id) == 0;
out:
	EVP_MD_CTX_free(sha);
	buf_free(&key);
	return ret;
}

/* Records where this chunk's record is. */
static void blob_loc_put(struct apply_ctx *ctx, const char *blob_id, const char *upload, int64_t index)
{
	struct buf key = BUF_INIT;
	char val[64];

	blob_loc_key(&key, blob_id, upload, index);
	snprintf(val, sizeof val, "%" PRId32 " %" PRId64, ctx->partition, ctx->offset);
	view_batch_put(ctx->batch, key.data, key.len, val, strlen(val));
	buf_free(&key);
}

/* Deletes the bytes of a complete blob's chunks (blob.store = log). */
static void blob_drop_bytes(struct apply_ctx *ctx, const char *blob_id, int64_t count)
{
	struct buf key = BUF_INIT;

	for (int64_t i = 0; i < count; i++) {
		blob_key(&key, blob_id, i);
		view_batch_delete(ctx->batch, key.data, key.len);
	}
	buf_free(&key);
}

/* blob.chunk {blob_id, upload (optional), index, count, size, data}. */
static enum apply_status blob_apply_chunk(struct apply_ctx *ctx, const char **error_r)
{
	const struct evm_event *ev = ctx->ev;
	const char *blob_id, *data, *upload = "", *error = NULL;
	int64_t count, index, size, present = 0, v;
	unsigned char *bytes = NULL;
	struct buf key = BUF_INIT;
	json_t *meta = NULL;
	enum apply_status st = APPLY_FAILED;
	char *old = NULL;
	size_t oldlen = 0;
	size_t dn = 0;
	long dlen;
	int r;

	if ((blob_id = evm_data_str(ev, "blob_id", MAIL_BLOB_ID_LEN, &error)) == NULL ||
	    !mail_hex_valid(blob_id, MAIL_BLOB_ID_LEN))
		return apply_reject(ctx, "invalid", "blob_id: not 64 lower-case hex digits");
	if (json_object_get(ev->data, "upload") != NULL &&
	    ((upload = evm_data_str(ev, "upload", BLOB_UPLOAD_ID_LEN, &error)) == NULL ||
	     upload[0] == '\0' || !blob_upload_id_valid(upload)))
		return apply_reject(ctx, "invalid", "upload: not %d lower-case hex digits",
				    BLOB_UPLOAD_ID_LEN);
	if (evm_data_int(ev, "count", 1, MAIL_BLOB_COUNT_MAX, &count, &error) < 0)
		return apply_reject(ctx, "invalid", "count: %s", error);
	if (evm_data_int(ev, "index", 0, count - 1, &index, &error) < 0)
		return apply_reject(ctx, "invalid", "index: %s", error);
	if (evm_data_int(ev, "size", 0, count * MAIL_BLOB_CHUNK_MAX, &size, &error) < 0)
		return apply_reject(ctx, "invalid", "size: %s", error);
	if ((data = evm_data_str(ev, "data", (MAIL_BLOB_CHUNK_MAX + 2) / 3 * 4, &error)) == NULL)
		return apply_reject(ctx, "invalid", "data: %s", error);
	bytes = xmalloc(strlen(data) / 4 * 3 + 1);
	if (evm_b64_decode(data, strlen(data), bytes, &dn) < 0 || dn > MAIL_BLOB_CHUNK_MAX ||
	    (int64_t)dn > size) {
		free(bytes);
		return apply_reject(ctx, "invalid", "data: not canonical base64 of at most %d octets "
				    "within the blob's size", MAIL_BLOB_CHUNK_MAX);
	}
	dlen = (long)dn;
	blob_meta_key(&key, blob_id);
	if ((r = mail_batch_get_json(ctx->batch, &key, &meta, error_r)) < 0)
		goto out;
	if (r == 1) {
		if (mail_rec_int(meta, "count", &v, error_r) < 0)
			goto out;
		if (v != count) {
			st = apply_reject(ctx, "conflict", "blob %s has %lld chunks, not %lld", blob_id,
					  (long long)v, (long long)count);
			goto out;
		}
		if (mail_rec_int(meta, "size", &v, error_r) < 0 ||
		    mail_rec_int(meta, "present", &present, error_r) < 0)
			goto out;
		if (v != size) {
			st = apply_reject(ctx, "conflict", "blob %s has %lld octets, not %lld", blob_id,
					  (long long)v, (long long)size);
			goto out;
		}
	}
	blob_key(&key, blob_id, index);
	if (ctx->blob_log && present == count) {
		/* Complete, its bytes dropped: only the location is new. */
	} else if ((r = view_batch_get(ctx->batch, key.data, key.len, &old, &oldlen, error_r)) < 0) {
		goto out;
	} else if (r == 1) {
		if (oldlen != (size_t)dlen || memcmp(old, bytes, oldlen) != 0) {
			st = apply_reject(ctx, "conflict", "chunk %lld of blob %s differs from the stored one",
					  (long long)index, blob_id);
			goto out;
		}
	} else {
		if (present + 1 == count) {
			if ((r = blob_verify(ctx->batch, blob_id, count, size, index, bytes, (size_t)dlen,
					     error_r)) < 0)
				goto out;
			if (r == 0) {
				st = apply_reject(ctx, "invalid", "the chunks of blob %s do not hash to its id "
						  "or add up to its size", blob_id);
				goto out;
			}
		}
		present++;
		if (ctx->blob_log && present == count)
			blob_drop_bytes(ctx, blob_id, count);
		else
			view_batch_put(ctx->batch, key.data, key.len, bytes, (size_t)dlen);
		json_decref(meta);
		meta = json_pack("{s:I, s:I, s:I}", "count", (json_int_t)count, "present",
				 (json_int_t)present, "size", (json_int_t)size);
		blob_meta_key(&key, blob_id);
		mail_batch_put_json(ctx->batch, &key, meta);
	}
	if (blob_upload_note(ctx, blob_id, upload, error_r) < 0)
		goto out;
	if (ctx->blob_log)
		blob_loc_put(ctx, blob_id, upload, index);
	mail_result(ctx, "blob_id", json_string(blob_id));
	mail_result(ctx, "index", json_integer(index));
	mail_result(ctx, "present", json_integer(present));
	mail_result(ctx, "complete", json_boolean(present == count));
	st = APPLY_ACCEPTED;
out:
	free(bytes);
	free(old);
	json_decref(meta);
	buf_free(&key);
	return st;
}

const struct applier blob_appliers[] = {
	{ "blob.chunk", EVM_TOPIC_BLOB, blob_apply_chunk },
	{ "blob.gc", EVM_TOPIC_BLOB, blob_apply_gc },
	{ NULL, EVM_TOPIC_BLOB, NULL },
};

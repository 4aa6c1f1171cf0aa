/* blob_read - mail_blob_read (projector/mail.h): a blob's bytes from the
 * committed view, once every chunk is here; with blob.store = log (a store
 * attached to the view), from the store's cache or the log
 * (projector/blob_store.h). */
#include "projector/mail_internal.h"
#include "projector/blob_store.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <stdlib.h>
#include <string.h>

struct gather {
	struct buf data;
	int64_t chunks;
};

static int gather_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct gather *g = vctx;

	buf_append(&g->data, val, vlen);
	g->chunks++;
	return 0;
}

int mail_blob_read(struct view *view, const char *blob_id, char **data_r, size_t *len_r,
		   const char **error_r)
{
	struct gather g = { BUF_INIT, 0 };
	struct buf key = BUF_INIT;
	char *val = NULL;
	size_t vlen = 0;
	json_t *meta;
	json_int_t count, present, size;
	int r;

	*data_r = NULL;
	*len_r = 0;
	if (blob_id == NULL || !mail_hex_valid(blob_id, MAIL_BLOB_ID_LEN))
		return 0;
	blob_meta_key(&key, blob_id);
	r = view_get(view, key.data, key.len, &val, &vlen, error_r);
	if (r <= 0) {
		/* Collected (or never here): a cached copy goes too. */
		if (r == 0 && view_blob_store(view) != NULL)
			blob_cache_drop(blob_store_cache(view_blob_store(view)), blob_id);
		buf_free(&key);
		return r;
	}
	meta = evm_json_loadb(val, vlen, 0, NULL);
	free(val);
	if (json_unpack(meta, "{s:I, s:I, s:I}", "count", &count, "present", &present, "size", &size) < 0) {
		json_decref(meta);
		log_error("mail: %s in the view is not a blob record", key.data);
		buf_free(&key);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	json_decref(meta);
	if (present < count) {
		buf_free(&key);
		return 0;
	}
	if (view_blob_store(view) != NULL) {
		buf_free(&key);
		return blob_store_read(view_blob_store(view), view, blob_id, count, size, data_r, len_r, error_r);
	}
	if (count == 1) {
		/* Most bodies are one chunk: one point read, which the bloom
		 * filters serve, instead of an iterator's seek through every
		 * sorted run (a third of a FETCH of BODY[] under load). */
		blob_key(&key, blob_id, 0);
		r = view_get(view, key.data, key.len, &val, &vlen, error_r);
		if (r == 1) {
			gather_cb(&g, key.data, key.len, val, vlen);
			free(val);
		}
	} else {
		blob_key(&key, blob_id, -1);
		r = view_scan(view, key.data, key.len, gather_cb, &g, error_r);
	}
	buf_free(&key);
	if (r < 0) {
		buf_free(&g.data);
		return -1;
	}
	if (g.chunks != count || (json_int_t)g.data.len != size) {
		log_error("mail: blob %s has %lld chunks / %zu octets, its record says %lld / %lld",
			  blob_id, (long long)g.chunks, g.data.len, (long long)count, (long long)size);
		buf_free(&g.data);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	*len_r = g.data.len;
	*data_r = g.data.len == 0 ? xstrdup("") : buf_steal(&g.data);
	buf_free(&g.data);
	return 1;
}

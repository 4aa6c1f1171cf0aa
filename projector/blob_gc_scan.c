/* blob_gc_scan - the scanner's read API (projector/blob_gc.h): which blobs
 * may be collected, from the committed view.
 *
 * Every way a blob becomes collectable leaves an entry in a time index at
 * or after the moment it happens: the last reference let go (blobzero/, at
 * the drop or the end of a JMAP upload's reference), or an upload that was
 * never referenced ages (blobupt/). So reading both indexes once in time
 * order, up to now - grace, meets every candidate when it can first go. */
#include "projector/blob_internal.h"
#include "projector/mail_internal.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <stdlib.h>
#include <string.h>

/* Reading one time index. */
struct window {
	size_t plen;           /* length of the index prefix */
	int64_t cutoff;
	json_t *cands;         /* array of blob ids, in index order */
	size_t seen;           /* entries read */
	int full;              /* stopped at BLOB_GC_SCAN_MAX */
	int corrupt;
	char next[BLOB_GC_KEY_MAX];
	size_t next_len;
};

/* "<ts 20>/<blob id 64>/..." after the prefix: one index entry. */
static int window_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct window *w = vctx;
	const char *p = key + w->plen;
	char digits[21];

	(void)val;
	(void)vlen;
	if (klen < w->plen + 20 + 1 + MAIL_BLOB_ID_LEN + 1 || klen + 1 > BLOB_GC_KEY_MAX ||
	    p[20] != '/' || p[21 + MAIL_BLOB_ID_LEN] != '/') {
		w->corrupt = 1;
		return 1;
	}
	memcpy(digits, p, 20);
	digits[20] = '\0';
	if (strtoll(digits, NULL, 10) > w->cutoff)
		return 1;
	if (w->seen == BLOB_GC_SCAN_MAX) {
		w->full = 1;
		return 1;
	}
	w->seen++;
	json_array_append_new(w->cands, json_stringn(p + 21, MAIL_BLOB_ID_LEN));
	/* The next key in byte order: this one with a NUL octet appended. */
	memcpy(w->next, key, klen);
	w->next[klen] = '\0';
	w->next_len = klen + 1;
	return 0;
}

/* Reads one index from (start, slen) on; next_r/next_len_r advance. */
static int window_read(struct view *view, const char *prefix, const char *start, size_t slen,
		       int64_t cutoff, json_t *cands, char *next_r, size_t *next_len_r, int *full_r,
		       const char **error_r)
{
	struct window w = { .plen = strlen(prefix), .cutoff = cutoff, .cands = cands };
	int r;

	memcpy(w.next, start, slen);
	w.next_len = slen;
	if (slen == 0)
		r = view_scan(view, prefix, w.plen, window_cb, &w, error_r);
	else
		r = view_scan_from(view, prefix, w.plen, start, slen, window_cb, &w, error_r);
	if (r < 0)
		return -1;
	if (w.corrupt) {
		log_error("blob gc: a malformed %s entry in the view", prefix);
		*error_r = "corrupt blob gc index in the view";
		return -1;
	}
	memcpy(next_r, w.next, w.next_len);
	*next_len_r = w.next_len;
	*full_r = w.full;
	return 0;
}

/* What the blobref/ entries of a blob say. */
struct refs {
	int64_t cutoff;
	int held;              /* some owner holds it, or let go after cutoff */
	int corrupt;
};

static int refs_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct refs *rf = vctx;
	json_t *rec = evm_json_loadb(val, vlen, 0, NULL);
	json_int_t n, drop, until;

	(void)key;
	(void)klen;
	if (!json_is_object(rec)) {
		json_decref(rec);
		rf->corrupt = 1;
		return 1;
	}
	n = json_integer_value(json_object_get(rec, "n"));
	drop = json_integer_value(json_object_get(rec, "drop"));
	until = json_integer_value(json_object_get(rec, "until"));
	json_decref(rec);
	if (n != 0 || drop > rf->cutoff || until > rf->cutoff) {
		rf->held = 1;
		return 1;
	}
	return 0;
}

/* The uploads of a blob. */
struct ups {
	size_t plen;
	int64_t cutoff;
	json_t *old;           /* uploads at or before cutoff */
	size_t total;
	int corrupt;
};

static int ups_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct ups *u = vctx;
	json_t *rec = evm_json_loadb(val, vlen, 0, NULL);
	json_t *ts = json_object_get(rec, "ts");

	if (!json_is_integer(ts)) {
		json_decref(rec);
		u->corrupt = 1;
		return 1;
	}
	u->total++;
	if (json_integer_value(ts) <= u->cutoff)
		json_array_append_new(u->old, json_stringn(key + u->plen, klen - u->plen));
	json_decref(rec);
	return 0;
}

/* Decides one blob: appends its decision when it may go. 0 or -1. */
static int blob_decide(struct view *view, const char *blob_id, int64_t cutoff, json_t *decisions,
		       const char **error_r)
{
	struct refs rf = { .cutoff = cutoff };
	struct ups u = { .cutoff = cutoff };
	struct buf key = BUF_INIT;
	json_int_t count = 0, size = 0;
	char *val = NULL;
	int r, ret = -1;

	blob_ref_key(&key, blob_id, "");
	if (view_scan(view, key.data, key.len, refs_cb, &rf, error_r) < 0)
		goto out;
	if (rf.corrupt)
		goto corrupt;
	if (rf.held) {
		ret = 0;
		goto out;
	}
	blob_up_key(&key, blob_id, "");
	u.plen = key.len;
	u.old = json_array();
	if (view_scan(view, key.data, key.len, ups_cb, &u, error_r) < 0)
		goto out;
	if (u.corrupt)
		goto corrupt;
	if (json_array_size(u.old) == 0) {
		ret = 0;
		goto out;
	}
	blob_meta_key(&key, blob_id);
	if ((r = view_get(view, key.data, key.len, &val, NULL, error_r)) < 0)
		goto out;
	if (r == 1) {
		json_t *meta = json_loads(val, 0, NULL);

		count = json_integer_value(json_object_get(meta, "count"));
		size = json_integer_value(json_object_get(meta, "size"));
		json_decref(meta);
	}
	json_array_append_new(decisions, json_pack("{s:s, s:O, s:I, s:I, s:b}", "blob_id", blob_id,
						   "uploads", u.old, "count", count, "size", size,
						   "whole", json_array_size(u.old) == u.total));
	ret = 0;
	goto out;
corrupt:
	log_error("blob gc: a malformed record of blob %s in the view", blob_id);
	*error_r = "corrupt blob gc record in the view";
out:
	json_decref(u.old);
	free(val);
	buf_free(&key);
	return ret;
}

int blob_gc_scan(struct view *view, const struct blob_gc_cursor *from, int64_t cutoff,
		 json_t *decisions, struct blob_gc_cursor *next_r, const char **error_r)
{
	json_t *cands = json_array(), *done = json_object(), *id;
	int full_zero = 0, full_upt = 0, ret = -1;
	size_t i;

	if (window_read(view, KEY_BLOBZERO, from->zero, from->zero_len, cutoff, cands, next_r->zero,
			&next_r->zero_len, &full_zero, error_r) < 0 ||
	    window_read(view, KEY_BLOBUPT, from->upt, from->upt_len, cutoff, cands, next_r->upt,
			&next_r->upt_len, &full_upt, error_r) < 0)
		goto out;
	json_array_foreach(cands, i, id) {
		const char *blob_id = json_string_value(id);

		if (json_object_get(done, blob_id) != NULL)
			continue;
		json_object_set_new(done, blob_id, json_true());
		if (blob_decide(view, blob_id, cutoff, decisions, error_r) < 0)
			goto out;
	}
	ret = !full_zero && !full_upt;
out:
	json_decref(cands);
	json_decref(done);
	return ret;
}

/* Collects "<name after the prefix>": value (JSON) into an object. */
struct named {
	size_t plen;
	json_t *obj;
	size_t n;
};

static int named_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct named *nm = vctx;
	char *name = strndup(key + nm->plen, klen - nm->plen);
	json_t *v = evm_json_loadb(val, vlen, 0, NULL);

	json_object_set_new(nm->obj, name, v != NULL ? v : json_stringn(val, vlen));
	free(name);
	nm->n++;
	return 0;
}

int blob_gc_describe(struct view *view, const char *blob_id, json_t **info_r, const char **error_r)
{
	struct named ups = { .obj = json_object() }, refs = { .obj = json_object() },
		     chunks = { .obj = json_object() }, locs = { .obj = json_object() };
	struct buf key = BUF_INIT;
	json_t *meta;
	char *val = NULL;
	int r, ret = -1;

	*info_r = NULL;
	if (blob_id == NULL || strlen(blob_id) != MAIL_BLOB_ID_LEN || !mail_hex_valid(blob_id, MAIL_BLOB_ID_LEN)) {
		ret = 0;
		goto out;
	}
	blob_up_key(&key, blob_id, "");
	ups.plen = key.len;
	if (view_scan(view, key.data, key.len, named_cb, &ups, error_r) < 0)
		goto out;
	blob_ref_key(&key, blob_id, "");
	refs.plen = key.len;
	if (view_scan(view, key.data, key.len, named_cb, &refs, error_r) < 0)
		goto out;
	blob_key(&key, blob_id, -1);
	chunks.plen = key.len;
	if (view_scan(view, key.data, key.len, named_cb, &chunks, error_r) < 0)
		goto out;
	blob_loc_key(&key, blob_id, NULL, -1);
	locs.plen = key.len;
	if (view_scan(view, key.data, key.len, named_cb, &locs, error_r) < 0)
		goto out;
	blob_meta_key(&key, blob_id);
	if ((r = view_get(view, key.data, key.len, &val, NULL, error_r)) < 0)
		goto out;
	meta = r == 1 ? json_loads(val, 0, NULL) : NULL;
	*info_r = json_pack("{s:s, s:I, s:o, s:O, s:O, s:O}", "blob_id", blob_id, "chunks", (json_int_t)chunks.n,
			    "meta", meta != NULL ? meta : json_null(), "uploads", ups.obj, "refs", refs.obj,
			    "locations", locs.obj);
	ret = 1;
out:
	free(val);
	json_decref(ups.obj);
	json_decref(refs.obj);
	json_decref(chunks.obj);
	json_decref(locs.obj);
	buf_free(&key);
	return ret;
}

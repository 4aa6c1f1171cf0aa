/* view_maint - the view's upkeep beside its reads and writes: the
 * bulk-apply marker (view_bulk_*), checkpoints, the digest and a forced
 * compaction. See view.h. */
#include "projector/view.h"
#include "common/ids.h"
#include "projector/view_private.h"
#include "projector/projector_view.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Puts (val != NULL) or deletes the bulk marker with a synced write. */
static int bulk_marker_write(struct view *view, const char *val, const char **error_r)
{
	const size_t klen = sizeof VIEW_BULK_MARKER - 1;
	char *err = NULL;

	if (view_lock_open(view, error_r) < 0)
		return -1;
	if (val != NULL)
		rocksdb_put(view->db, view->wopts_sync, VIEW_BULK_MARKER, klen, val, strlen(val), &err);
	else
		rocksdb_delete(view->db, view->wopts_sync, VIEW_BULK_MARKER, klen, &err);
	pthread_rwlock_unlock(&view->lock);
	if (err != NULL) {
		*error_r = view_rocks_error("view bulk marker", err);
		return -1;
	}
	return 0;
}

/* The memtable size of bulk apply: RocksDB's default. A small memtable
 * makes interactive commits cheaper (bench/README.md, "A smaller
 * memtable"), but a rebuild writes gigabytes: each flush makes table and
 * blob files, so bulk apply flushes in large pieces. */
#define VIEW_BULK_WRITE_BUFFER_BYTES ((size_t)64 << 20)

/* Sets the memtable size of the open database (RocksDB's SetOptions; it
 * applies from the next memtable on). */
static int set_write_buffer(struct view *view, size_t bytes, const char **error_r)
{
	static const char *const keys[] = { "write_buffer_size" };
	char num[32], *err = NULL;
	const char *vals[] = { num };

	snprintf(num, sizeof num, "%zu", bytes);
	if (view_lock_open(view, error_r) < 0)
		return -1;
	rocksdb_set_options(view->db, 1, keys, vals, &err);
	pthread_rwlock_unlock(&view->lock);
	if (err != NULL) {
		*error_r = view_rocks_error("view write_buffer_size", err);
		return -1;
	}
	return 0;
}

/* Whether bulk apply uses another memtable size than the configured one. */
static int bulk_resizes(const struct view *view)
{
	return view->write_buffer_bytes > 0 && view->write_buffer_bytes < VIEW_BULK_WRITE_BUFFER_BYTES;
}

/* The marker first (synced), then commits without the WAL. */
int view_bulk_begin(struct view *view, const char **error_r)
{
	if (bulk_marker_write(view, "1", error_r) < 0)
		return -1;
	if (bulk_resizes(view) && set_write_buffer(view, VIEW_BULK_WRITE_BUFFER_BYTES, error_r) < 0)
		return -1;
	__atomic_store_n(&view->bulk, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Back to WAL commits, every memtable flushed, then the marker removed. */
int view_bulk_end(struct view *view, const char **error_r)
{
	rocksdb_flushoptions_t *fo;
	char *err = NULL;

	__atomic_store_n(&view->bulk, 0, __ATOMIC_RELEASE);
	if (bulk_resizes(view) && set_write_buffer(view, view->write_buffer_bytes, error_r) < 0)
		return -1;
	if (view_lock_open(view, error_r) < 0)
		return -1;
	fo = rocksdb_flushoptions_create();
	rocksdb_flushoptions_set_wait(fo, 1);
	rocksdb_flush(view->db, fo, &err);
	rocksdb_flushoptions_destroy(fo);
	pthread_rwlock_unlock(&view->lock);
	if (err != NULL) {
		*error_r = view_rocks_error("view flush", err);
		return -1;
	}
	return bulk_marker_write(view, NULL, error_r);
}

/* Whether a bulk apply was left unfinished. */
int view_bulk_marked(struct view *view, const char **error_r)
{
	char *val = NULL;
	int r = view_get(view, VIEW_BULK_MARKER, sizeof VIEW_BULK_MARKER - 1, &val, NULL, error_r);

	free(val);
	return r;
}

/* Checkpoint under the shared lock, so a wipe cannot close the database
 * meanwhile. log_size_for_flush 0: always flush the memtable first, so
 * the checkpoint needs no WAL replay. Refused during a bulk apply: the
 * copy would carry its marker, and a replica would only rebuild it. */
int view_checkpoint(struct view *view, const char *dir, const char **error_r)
{
	rocksdb_checkpoint_t *cp;
	char *err = NULL;

	if (__atomic_load_n(&view->bulk, __ATOMIC_ACQUIRE)) {
		*error_r = "the view is being rebuilt (bulk apply); try again once it is ready";
		return -1;
	}
	if (view_lock_open(view, error_r) < 0)
		return -1;
	cp = rocksdb_checkpoint_object_create(view->db, &err);
	if (err == NULL) {
		rocksdb_checkpoint_create(cp, dir, 0, &err);
		rocksdb_checkpoint_object_destroy(cp);
	}
	pthread_rwlock_unlock(&view->lock);
	if (err != NULL) {
		*error_r = view_rocks_error("view checkpoint", err);
		return -1;
	}
	return 0;
}

/* Sets the blob GC options (mutable RocksDB options) to cutoff and force
 * threshold given as text. */
static void blob_gc_set(struct view *view, const char *cutoff, const char *force, char **err)
{
	const char *keys[] = { "blob_garbage_collection_age_cutoff", "blob_garbage_collection_force_threshold" };
	const char *values[] = { cutoff, force };

	rocksdb_set_options(view->db, 2, keys, values, err);
}

/* Under the shared lock: flush, then compact every level to the bottom
 * with the blob GC relocating every live blob (age cutoff 1.0), so no
 * deleted value stays in any table or blob file; then the options of
 * view_tune again. */
int view_compact(struct view *view, const char **error_r)
{
	rocksdb_flushoptions_t *fo;
	rocksdb_compactoptions_t *co;
	char *err = NULL, *err2 = NULL;

	if (view_lock_open(view, error_r) < 0)
		return -1;
	fo = rocksdb_flushoptions_create();
	rocksdb_flushoptions_set_wait(fo, 1);
	rocksdb_flush(view->db, fo, &err);
	rocksdb_flushoptions_destroy(fo);
	if (err == NULL)
		blob_gc_set(view, "1.0", "0.0", &err);
	if (err == NULL) {
		co = rocksdb_compactoptions_create();
		rocksdb_compactoptions_set_exclusive_manual_compaction(co, 1);
		/* 2: kForce, the bottommost level is rewritten too */
		rocksdb_compactoptions_set_bottommost_level_compaction(co, 2);
		rocksdb_compact_range_opt(view->db, co, NULL, 0, NULL, 0);
		rocksdb_compactoptions_destroy(co);
		blob_gc_set(view, "0.5", "0.5", &err2);
	}
	pthread_rwlock_unlock(&view->lock);
	if (err == NULL && err2 != NULL)
		err = err2;
	else
		free(err2);
	if (err != NULL) {
		*error_r = view_rocks_error("view compaction", err);
		return -1;
	}
	return 0;
}

/* Feeds a 4-byte big-endian length to the digest. */
static void digest_len(EVP_MD_CTX *md, size_t len)
{
	unsigned char be[4] = {
		(unsigned char)(len >> 24), (unsigned char)(len >> 16),
		(unsigned char)(len >> 8), (unsigned char)len,
	};

	EVP_DigestUpdate(md, be, sizeof be);
}

/* SHA-256 of every non-local entry of one snapshot, in key order. */
int view_digest(struct view *view, char out[65], uint64_t *keys_r, const char **error_r)
{
	const size_t llen = sizeof VIEW_LOCAL_PREFIX - 1;
	rocksdb_readoptions_t *ro;
	const rocksdb_snapshot_t *snap;
	rocksdb_iterator_t *it;
	EVP_MD_CTX *md;
	unsigned char sum[32];
	unsigned int sumlen = 0;
	uint64_t keys = 0;
	char *err = NULL;

	if (view_lock_open(view, error_r) < 0)
		return -1;
	snap = rocksdb_create_snapshot(view->db);
	ro = rocksdb_readoptions_create();
	rocksdb_readoptions_set_snapshot(ro, snap);
	rocksdb_readoptions_set_fill_cache(ro, 0);
	it = rocksdb_create_iterator(view->db, ro);
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		abort();
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v;

		if (klen >= llen && memcmp(k, VIEW_LOCAL_PREFIX, llen) == 0)
			continue;
		v = rocksdb_iter_value(it, &vlen);
		digest_len(md, klen);
		EVP_DigestUpdate(md, k, klen);
		digest_len(md, vlen);
		EVP_DigestUpdate(md, v, vlen);
		keys++;
	}
	rocksdb_iter_get_error(it, &err);
	rocksdb_iter_destroy(it);
	rocksdb_readoptions_destroy(ro);
	rocksdb_release_snapshot(view->db, snap);
	pthread_rwlock_unlock(&view->lock);
	EVP_DigestFinal_ex(md, sum, &sumlen);
	EVP_MD_CTX_free(md);
	if (err != NULL) {
		*error_r = view_rocks_error("view digest", err);
		return -1;
	}
	evm_hex_encode(sum, sizeof sum, out);
	if (keys_r != NULL)
		*keys_r = keys;
	return 0;
}

void view_set_blob_store(struct view *view, struct blob_store *store)
{
	__atomic_store_n(&view->blob_store, store, __ATOMIC_RELEASE);
}

struct blob_store *view_blob_store(struct view *view)
{
	return __atomic_load_n(&view->blob_store, __ATOMIC_ACQUIRE);
}

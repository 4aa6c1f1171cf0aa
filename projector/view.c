/* view - see view.h. RocksDB through its C API. */
#include "projector/view.h"
#include "projector/view_wbwi.h"
#include "projector/projector_view.h"
#include "projector/view_private.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#define VIEW_SPACE_RESERVE (64ull * 1024 * 1024)

struct view_batch {
	struct view *view;
	rocksdb_writebatch_wi_t *wb;
};

const char *view_rocks_error(const char *what, char *err)
{
	static __thread char msg[512];

	snprintf(msg, sizeof msg, "%s: %s", what, err ? err : "unknown error");
	rocksdb_free(err);
	return msg;
}

int view_lock_open(struct view *view, const char **error_r)
{
	pthread_rwlock_rdlock(&view->lock);
	if (view->db == NULL) {
		pthread_rwlock_unlock(&view->lock);
		*error_r = "view is not open";
		return -1;
	}
	return 0;
}

/* Opens (creating if missing) the database at view->path. */
#define WIPE_SUFFIX ".wiping"

/* Moves the database at path aside (one rename, made durable) and deletes
 * it there. 0 or -1. */
static int wipe_aside(const char *path, const char **error_r)
{
	static __thread char err[600];
	char aside[4096];

	snprintf(aside, sizeof aside, "%s" WIPE_SUFFIX, path);
	if (evm_rm_rf(aside, error_r) < 0)
		return -1;
	if (rename(path, aside) < 0 && errno != ENOENT) {
		snprintf(err, sizeof err, "view wipe: cannot rename %s: %s", path, strerror(errno));
		*error_r = err;
		return -1;
	}
	if (evm_fsync_parent(path, error_r) < 0)
		return -1;
	return evm_rm_rf(aside, error_r);
}

static int view_open_db(struct view *view, const char **error_r)
{
	char *err = NULL;

	view->db = rocksdb_open(view->opts, view->path, &err);
	if (err != NULL) {
		view->db = NULL;
		*error_r = view_rocks_error("view open", err);
		return -1;
	}
	return 0;
}

/* Read options for the apply path: most of its lookups are misses (is
 * this event id, address or alias taken?), which bloom filters answer
 * without a search, in the memtable (a whole-key filter) as well as in
 * the table files. Pure performance: what is stored is unchanged. */
static void view_tune(struct view *view)
{
	view->tbl = rocksdb_block_based_options_create();
	rocksdb_block_based_options_set_filter_policy(view->tbl, rocksdb_filterpolicy_create_bloom_full(10));
	rocksdb_block_based_options_set_whole_key_filtering(view->tbl, 1);
	/* Index and filter blocks stay in the table readers (RocksDB's
	 * default), not in the block cache: there a large view evicts them,
	 * and every lookup reads and decompresses them again. */
	rocksdb_options_set_block_based_table_factory(view->opts, view->tbl);
	rocksdb_options_set_memtable_prefix_bloom_size_ratio(view->opts, 0.1);
	rocksdb_options_set_memtable_whole_key_filtering(view->opts, 1);
	/* Deleted mail must leave the disk (issue #13). A body is a value in
	 * a blob file, which RocksDB drops only once compactions have removed
	 * every key pointing into it; with nothing else written, the
	 * tombstones of a body GC or an account purge sat in their table files
	 * and the blob files never shrank (bench/run-storage-bench.sh). So:
	 * a table file with many deletions is compacted soon (at least 64 in
	 * any window of 128 entries), and the oldest quarter of the blob
	 * files is rewritten during compactions, forced once half of them is
	 * garbage. */
	rocksdb_options_add_compact_on_deletion_collector_factory(view->opts, 128, 64);
	rocksdb_options_set_blob_file_size(view->opts, 16 << 20);
	rocksdb_options_set_enable_blob_gc(view->opts, 1);
	rocksdb_options_set_blob_gc_age_cutoff(view->opts, 0.5);
	rocksdb_options_set_blob_gc_force_threshold(view->opts, 0.5);
}

/* Opens (creating if missing) the RocksDB database at path. */
int view_open(const char *path, struct view **view_r, const char **error_r)
{
	return view_open_sized(path, 0, view_r, error_r);
}

int view_open_sized(const char *path, size_t write_buffer_bytes, struct view **view_r,
		    const char **error_r)
{
	struct view *view;
	char aside[4096];

	/* What a wipe killed part way left under its other name. */
	snprintf(aside, sizeof aside, "%s" WIPE_SUFFIX, path);
	if (evm_rm_rf(aside, error_r) < 0)
		return -1;
	view = xcalloc(1, sizeof *view);

	view->path = xstrdup(path);
	view->opts = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(view->opts, 1);
	/* Message bodies live in the view too: large values go to blob files
	 * so compactions do not rewrite them (ARCHITECTURE.md, "Bodies"). */
	rocksdb_options_set_enable_blob_files(view->opts, 1);
	rocksdb_options_set_min_blob_size(view->opts, 4096);
	view_tune(view);
	if (write_buffer_bytes > 0)
		rocksdb_options_set_write_buffer_size(view->opts, write_buffer_bytes);
	view->write_buffer_bytes = write_buffer_bytes;
	view->ropts = rocksdb_readoptions_create();
	view->wopts = rocksdb_writeoptions_create();
	/* No fsync per commit: the view is derived from the log. A batch lost
	 * to a power cut carried its offsets with it, so replay redoes it. */
	rocksdb_writeoptions_set_sync(view->wopts, 0);
	view->wopts_bulk = rocksdb_writeoptions_create();
	rocksdb_writeoptions_disable_WAL(view->wopts_bulk, 1);
	view->wopts_sync = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(view->wopts_sync, 1);
	pthread_rwlock_init(&view->lock, NULL);
	if (view_open_db(view, error_r) < 0) {
		view_close(&view);
		return -1;
	}
	*view_r = view;
	return 0;
}

/* Closes the database and frees the handle; *viewp = NULL. */
/* 1 when a write failed or RocksDB counted a background error. */
static int view_had_io_error(struct view *view)
{
	char *bg;
	int had = __atomic_load_n(&view->write_failed, __ATOMIC_RELAXED);

	bg = rocksdb_property_value(view->db, "rocksdb.background-errors");
	if (bg != NULL) {
		had |= strtoull(bg, NULL, 10) > 0;
		rocksdb_free(bg);
	}
	return had;
}

void view_close(struct view **viewp)
{
	struct view *view = *viewp;

	if (view == NULL)
		return;
	log_debug("view %s: closing", view->path);
	if (view->db != NULL && view_had_io_error(view)) {
		/* RocksDB 7.8 asserts (aborts) when it syncs a file that failed
		 * before, e.g. a WAL that met a full disk (RocksDB PR 12448). The
		 * process is exiting: leave the database as a crash would, which
		 * it is built to survive (the WAL replays, and the projector
		 * resumes from the offsets stored with the last committed batch).
		 * The handle is leaked on purpose. */
		log_warn("view %s: closing without a final flush after a storage error "
			 "(it reopens like after a crash)", view->path);
		view->db = NULL;
	}
	if (view->db != NULL)
		rocksdb_close(view->db);
	rocksdb_readoptions_destroy(view->ropts);
	rocksdb_writeoptions_destroy(view->wopts);
	rocksdb_writeoptions_destroy(view->wopts_bulk);
	rocksdb_writeoptions_destroy(view->wopts_sync);
	rocksdb_options_destroy(view->opts);
	if (view->tbl != NULL)
		rocksdb_block_based_options_destroy(view->tbl);
	pthread_rwlock_destroy(&view->lock);
	free(view->path);
	free(view);
	*viewp = NULL;
}

/* Closes, destroys and reopens the database empty. */
int view_wipe(struct view *view, const char **error_r)
{
	const char *reopen_error = NULL;
	int ret = 0;

	pthread_rwlock_wrlock(&view->lock);
	__atomic_store_n(&view->bulk, 0, __ATOMIC_RELEASE);   /* the marker goes too */
	if (view->db != NULL) {
		rocksdb_close(view->db);
		view->db = NULL;
	}
	/* Crash-safe: the database leaves its path in one rename, then is
	 * deleted under its other name. A kill -9 while RocksDB deleted the
	 * files in place left a MANIFEST naming files already gone, a view
	 * that no longer opened. A kill now leaves either the whole old view
	 * (the rebuild starts again) or none (a fresh start replays the log),
	 * and view_open removes the leftover. */
	if (wipe_aside(view->path, error_r) < 0)
		ret = -1;
	/* Reopen even after a failed destroy, so the view stays usable. */
	if (view_open_db(view, &reopen_error) < 0) {
		if (ret == 0)
			*error_r = reopen_error;
		ret = -1;
	}
	pthread_rwlock_unlock(&view->lock);
	return ret;
}

/* Copies a RocksDB value into a NUL-terminated malloc'ed string. */
static void take_value(char *raw, size_t len, char **val_r, size_t *vlen_r)
{
	char *v = xmalloc(len + 1);

	memcpy(v, raw, len);
	v[len] = '\0';
	rocksdb_free(raw);
	*val_r = v;
	if (vlen_r != NULL)
		*vlen_r = len;
}

/* Reads one committed key: 1 found, 0 missing, -1 error. */
int view_get(struct view *view, const void *key, size_t klen,
	     char **val_r, size_t *vlen_r, const char **error_r)
{
	char *err = NULL, *raw;
	size_t len = 0;

	if (view_lock_open(view, error_r) < 0)
		return -1;
	raw = rocksdb_get(view->db, view->ropts, key, klen, &len, &err);
	pthread_rwlock_unlock(&view->lock);
	if (err != NULL) {
		*error_r = view_rocks_error("view get", err);
		return -1;
	}
	if (raw == NULL)
		return 0;
	take_value(raw, len, val_r, vlen_r);
	return 1;
}

/* Read options of one scan, bounded to the keys under its prefix. RocksDB
 * keeps a pointer to the bound (it does not copy it), so both live as long
 * as the iterator. */
struct scan_opts {
	rocksdb_readoptions_t *ro;
	char *bound;
	size_t bound_len;
	void *wbwi_bound;    /* view_wbwi_iterator's copy, for a batch scan */
};

/* Bounds a scan to the keys starting with prefix: forward scans stop at the
 * prefix's successor and reverse scans at the prefix, inside RocksDB. Without
 * a bound, the step past the last key of the prefix walks over every deleted
 * key that follows it (tombstones stay in the memtable and the table files
 * until a compaction), e.g. the mid/ entries of expunged messages after a
 * mailbox's mexp/ index. Pure performance: the keys visited are the same. */
static rocksdb_readoptions_t *scan_opts_init(struct scan_opts *so, const void *prefix, size_t plen, int reverse)
{
	size_t n = plen;

	so->ro = rocksdb_readoptions_create();
	so->bound = NULL;
	so->bound_len = 0;
	so->wbwi_bound = NULL;
	if (reverse) {
		if (plen > 0) {
			so->bound = xmalloc(plen);
			memcpy(so->bound, prefix, plen);
			rocksdb_readoptions_set_iterate_lower_bound(so->ro, so->bound, plen);
		}
		return so->ro;
	}
	/* The successor: drop trailing 0xff octets, add one to the last. */
	while (n > 0 && ((const unsigned char *)prefix)[n - 1] == 0xff)
		n--;
	if (n > 0) {
		so->bound = xmalloc(n);
		memcpy(so->bound, prefix, n);
		so->bound[n - 1] = (char)((unsigned char)so->bound[n - 1] + 1);
		so->bound_len = n;
		rocksdb_readoptions_set_iterate_upper_bound(so->ro, so->bound, n);
	}
	return so->ro;
}

/* Frees what scan_opts_init made (after the iterator is destroyed). */
static void scan_opts_free(struct scan_opts *so)
{
	rocksdb_readoptions_destroy(so->ro);
	free(so->bound);
	view_wbwi_bound_free(so->wbwi_bound);
}

/* The batch's writes over the view, both bounded by so's upper bound
 * (view_wbwi.h: without it, scans in a batch of many deletions cost
 * O(batch)). */
static rocksdb_iterator_t *batch_iter(struct view_batch *b, struct scan_opts *so)
{
	rocksdb_iterator_t *base = rocksdb_create_iterator(b->view->db, so->ro);

	return view_wbwi_iterator(b->view->db, b->wb, base, so->bound, so->bound_len, &so->wbwi_bound);
}

/* Iterates from the iterator's position while keys start with prefix;
 * destroys the iterator. */
static int scan_iter_from(rocksdb_iterator_t *it, const void *prefix, size_t plen,
			  view_scan_cb *cb, void *ctx, const char **error_r)
{
	char *err = NULL;

	for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen), *v;

		/* Checked before the value: a batch iterator may stand on a
		 * deletion at its bound (test_view_wbwi.c). */
		if (klen < plen || memcmp(k, prefix, plen) != 0)
			break;
		v = rocksdb_iter_value(it, &vlen);
		if (cb(ctx, k, klen, v, vlen) != 0)
			break;
	}
	rocksdb_iter_get_error(it, &err);
	rocksdb_iter_destroy(it);
	if (err != NULL) {
		*error_r = view_rocks_error("view scan", err);
		return -1;
	}
	return 0;
}

static int scan_iter(rocksdb_iterator_t *it, const void *prefix, size_t plen,
		     view_scan_cb *cb, void *ctx, const char **error_r)
{
	rocksdb_iter_seek(it, prefix, plen);
	return scan_iter_from(it, prefix, plen, cb, ctx, error_r);
}

/* Calls cb for every committed key under prefix, in byte order. */
int view_scan(struct view *view, const void *prefix, size_t plen,
	      view_scan_cb *cb, void *ctx, const char **error_r)
{
	struct scan_opts so;
	int ret;

	if (view_lock_open(view, error_r) < 0)
		return -1;
	ret = scan_iter(rocksdb_create_iterator(view->db, scan_opts_init(&so, prefix, plen, 0)), prefix, plen,
			cb, ctx, error_r);
	pthread_rwlock_unlock(&view->lock);
	scan_opts_free(&so);
	return ret;
}

/* Calls cb for every committed key under prefix from start on (start
 * begins with prefix), in byte order. */
int view_scan_from(struct view *view, const void *prefix, size_t plen, const void *start, size_t slen,
		   view_scan_cb *cb, void *ctx, const char **error_r)
{
	struct scan_opts so;
	rocksdb_iterator_t *it;
	int ret;

	if (view_lock_open(view, error_r) < 0)
		return -1;
	it = rocksdb_create_iterator(view->db, scan_opts_init(&so, prefix, plen, 0));
	rocksdb_iter_seek(it, start, slen);
	ret = scan_iter_from(it, prefix, plen, cb, ctx, error_r);
	pthread_rwlock_unlock(&view->lock);
	scan_opts_free(&so);
	return ret;
}

/* Every committed key starting with prefix, last first: seeks before the
 * first key past the prefix (the prefix followed by 0xff octets sorts
 * after every key of it: keys here are text) and walks back. */
int view_scan_reverse(struct view *view, const void *prefix, size_t plen, view_scan_cb *cb, void *ctx,
		      const char **error_r)
{
	char *end = xmalloc(plen + 8);
	int ret;

	memcpy(end, prefix, plen);
	memset(end + plen, 0xff, 8);
	ret = view_scan_reverse_from(view, prefix, plen, end, plen + 8, cb, ctx, error_r);
	free(end);
	return ret;
}

/* Every committed key starting with prefix, from the last one at or
 * before start back to the first. */
int view_scan_reverse_from(struct view *view, const void *prefix, size_t plen, const void *start, size_t slen,
			   view_scan_cb *cb, void *ctx, const char **error_r)
{
	struct scan_opts so;
	rocksdb_iterator_t *it;
	char *err = NULL;
	int ret = 0;

	if (view_lock_open(view, error_r) < 0)
		return -1;
	it = rocksdb_create_iterator(view->db, scan_opts_init(&so, prefix, plen, 1));
	for (rocksdb_iter_seek_for_prev(it, start, slen); rocksdb_iter_valid(it); rocksdb_iter_prev(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen), *v;

		/* Checked before the value: a batch iterator may stand on a
		 * deletion at its bound (test_view_wbwi.c). */
		if (klen < plen || memcmp(k, prefix, plen) != 0)
			break;
		v = rocksdb_iter_value(it, &vlen);
		if (cb(ctx, k, klen, v, vlen) != 0)
			break;
	}
	rocksdb_iter_get_error(it, &err);
	rocksdb_iter_destroy(it);
	pthread_rwlock_unlock(&view->lock);
	scan_opts_free(&so);
	if (err != NULL) {
		*error_r = view_rocks_error("view scan", err);
		ret = -1;
	}
	return ret;
}

/* Starts an indexed write batch over the view. */
struct view *view_batch_view(struct view_batch *b)
{
	return b->view;
}

struct view_batch *view_batch_begin(struct view *view)
{
	struct view_batch *b = xcalloc(1, sizeof *b);

	b->view = view;
	/* overwrite_keys: the index keeps only the latest write of a key, which
	 * is what reads through the batch and the merged iterator expect. */
	b->wb = rocksdb_writebatch_wi_create(0, 1);
	return b;
}

/* Reads a key through the batch's own writes, then the committed view. */
int view_batch_get(struct view_batch *b, const void *key, size_t klen,
		   char **val_r, size_t *vlen_r, const char **error_r)
{
	struct view *view = b->view;
	char *err = NULL, *raw;
	size_t len = 0;

	if (view_lock_open(view, error_r) < 0)
		return -1;
	raw = rocksdb_writebatch_wi_get_from_batch_and_db(b->wb, view->db, view->ropts,
							  key, klen, &len, &err);
	pthread_rwlock_unlock(&view->lock);
	if (err != NULL) {
		*error_r = view_rocks_error("view batch get", err);
		return -1;
	}
	if (raw == NULL)
		return 0;
	take_value(raw, len, val_r, vlen_r);
	return 1;
}

/* Adds a put to the batch. */
void view_batch_put(struct view_batch *b, const void *key, size_t klen,
		    const void *val, size_t vlen)
{
	rocksdb_writebatch_wi_put(b->wb, key, klen, val, vlen);
}

/* Adds a delete to the batch. */
void view_batch_delete(struct view_batch *b, const void *key, size_t klen)
{
	rocksdb_writebatch_wi_delete(b->wb, key, klen);
}

/* Scans committed state merged with the batch's writes. */
int view_batch_scan(struct view_batch *b, const void *prefix, size_t plen,
		    view_scan_cb *cb, void *ctx, const char **error_r)
{
	struct view *view = b->view;
	struct scan_opts so;
	rocksdb_iterator_t *it;
	int ret;

	if (view_lock_open(view, error_r) < 0)
		return -1;
	scan_opts_init(&so, prefix, plen, 0);
	it = batch_iter(b, &so);
	ret = scan_iter(it, prefix, plen, cb, ctx, error_r);
	pthread_rwlock_unlock(&view->lock);
	scan_opts_free(&so);
	return ret;
}

/* The same from start on (start begins with prefix). */
int view_batch_scan_from(struct view_batch *b, const void *prefix, size_t plen, const void *start, size_t slen,
			 view_scan_cb *cb, void *ctx, const char **error_r)
{
	struct view *view = b->view;
	struct scan_opts so;
	rocksdb_iterator_t *it;
	int ret;

	if (view_lock_open(view, error_r) < 0)
		return -1;
	scan_opts_init(&so, prefix, plen, 0);
	it = batch_iter(b, &so);
	rocksdb_iter_seek(it, start, slen);
	ret = scan_iter_from(it, prefix, plen, cb, ctx, error_r);
	pthread_rwlock_unlock(&view->lock);
	scan_opts_free(&so);
	return ret;
}

/* Number of writes in the batch. */
size_t view_batch_count(struct view_batch *b)
{
	return (size_t)rocksdb_writebatch_wi_count(b->wb);
}

/* Marks the batch for a later view_batch_rollback. */
void view_batch_savepoint(struct view_batch *b)
{
	rocksdb_writebatch_wi_set_save_point(b->wb);
}

/* Undoes the batch's writes since its latest mark. */
int view_batch_rollback(struct view_batch *b, const char **error_r)
{
	char *err = NULL;

	rocksdb_writebatch_wi_rollback_to_save_point(b->wb, &err);
	if (err != NULL) {
		*error_r = view_rocks_error("view batch rollback", err);
		return -1;
	}
	return 0;
}

/* Refuses a commit while the view's file system is (nearly) full. RocksDB
 * (7.x) must not meet ENOSPC in its WAL: after a failed WAL write it asserts
 * on the next use of that file (RocksDB PR 12448) instead of returning the
 * error. Keeping a reserve lets the projector stop and retry with a clear
 * error instead; the reserve is 64 MiB (a memtable's worth, for its flush)
 * or an eighth of a small file system. */
static int view_space_check(struct view *view, const char **error_r)
{
	static __thread char msg[300];
	struct statvfs st;
	uint64_t total, avail, reserve;

	if (statvfs(view->path, &st) < 0)
		return 0;    /* no answer: let RocksDB try */
	total = (uint64_t)st.f_blocks * st.f_frsize;
	avail = (uint64_t)st.f_bavail * st.f_frsize;
	reserve = total / 8 < VIEW_SPACE_RESERVE ? total / 8 : VIEW_SPACE_RESERVE;
	if (avail >= reserve)
		return 0;
	/* Near full: RocksDB's own background files (memtable flushes, the
	 * MANIFEST) may have met ENOSPC already; view_close must not sync them. */
	__atomic_store_n(&view->write_failed, 1, __ATOMIC_RELAXED);
	snprintf(msg, sizeof msg, "view storage full: %llu bytes free in %s, %llu kept in reserve",
		 (unsigned long long)avail, view->path, (unsigned long long)reserve);
	*error_r = msg;
	return -1;
}

/* Writes the batch atomically (unsynced, see view_open) and frees it;
 * its writes go in key order (view_sorted.c). */
int view_batch_commit(struct view_batch **bp, const char **error_r)
{
	struct view_batch *b = *bp;
	struct view *view = b->view;
	rocksdb_writebatch_t *sorted;
	rocksdb_writeoptions_t *wopts;
	char *err = NULL;

	if (view_space_check(view, error_r) < 0 || view_lock_open(view, error_r) < 0) {
		view_batch_abort(bp);
		return -1;
	}
	wopts = __atomic_load_n(&view->bulk, __ATOMIC_ACQUIRE) ? view->wopts_bulk : view->wopts;
	if ((sorted = view_sorted_batch(b->wb)) != NULL) {
		rocksdb_write(view->db, wopts, sorted, &err);
		rocksdb_writebatch_destroy(sorted);
	} else {
		rocksdb_write_writebatch_wi(view->db, wopts, b->wb, &err);
	}
	if (err != NULL)
		__atomic_store_n(&view->write_failed, 1, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&view->lock);
	view_batch_abort(bp);
	if (err != NULL) {
		*error_r = view_rocks_error("view commit", err);
		return -1;
	}
	return 0;
}

/* Drops the batch unwritten. */
void view_batch_abort(struct view_batch **bp)
{
	if (*bp == NULL)
		return;
	rocksdb_writebatch_wi_destroy((*bp)->wb);
	free(*bp);
	*bp = NULL;
}

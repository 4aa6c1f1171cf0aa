/* view - the node's materialised view: a RocksDB database.
 *
 * Keys are byte strings laid out in projector/keys.h. Committed state is
 * read with view_get/view_scan from any thread. Writes happen only through a
 * batch (one RocksDB WriteBatchWithIndex), which also reads through its own
 * uncommitted writes, so an applier sees the effects of the events before
 * it in the same batch. A batch holds the view changes of a run of events
 * AND the new applied offsets, committed atomically: a crash loses either
 * the whole batch or nothing, and replay resumes at the stored offsets.
 *
 * Commits are not fsync'ed: the view is derived from the log, and a batch
 * lost to a power cut is replayed from it. Return convention for lookups:
 * 1 found, 0 not found, -1 error. */
#ifndef EVM_VIEW_H
#define EVM_VIEW_H

#include <stddef.h>
#include <stdint.h>

struct view;
struct view_batch;

/* Keys starting with this prefix are node-local and excluded from the
 * digest (node id, local caches). */
#define VIEW_LOCAL_PREFIX "local/"

int view_open(const char *path, struct view **view_r, const char **error_r);
/* view_open with RocksDB's memtable size (write_buffer_size) set to
 * write_buffer_bytes (0: RocksDB's default, 64 MiB). RocksDB reserves about
 * 1.1 times this for each write-ahead log file. A few MiB make interactive
 * apply cheaper (a small skip list stays in the CPU's caches); bulk apply
 * (view_bulk_begin) raises a smaller size to 64 MiB until view_bulk_end. */
int view_open_sized(const char *path, size_t write_buffer_bytes, struct view **view_r,
		    const char **error_r);
void view_close(struct view **view);

struct blob_store;
/* blob.store = log: the store mail_blob_read reads bodies through
 * (projector/blob_store.h), borrowed; NULL (the default): bodies are in the
 * view. Set before any reader runs, cleared before the store closes. */
void view_set_blob_store(struct view *view, struct blob_store *store);
struct blob_store *view_blob_store(struct view *view);
/* Closes, deletes every file of the database, and opens it empty again.
 * No batch may be open and no other thread may use the view meanwhile. */
int view_wipe(struct view *view, const char **error_r);

/* *val_r is malloc'ed and NUL-terminated (not counted in *vlen_r). */
int view_get(struct view *view, const void *key, size_t klen,
	     char **val_r, size_t *vlen_r, const char **error_r);

/* Called per key in byte order; return 0 to go on, 1 to stop early. */
typedef int view_scan_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen);
/* Every committed key starting with prefix. Returns 0 or -1. */
int view_scan(struct view *view, const void *prefix, size_t plen,
	      view_scan_cb *cb, void *ctx, const char **error_r);

/* Every committed key starting with prefix, from start on (start begins
 * with prefix). Returns 0 or -1. */
int view_scan_from(struct view *view, const void *prefix, size_t plen, const void *start, size_t slen,
		   view_scan_cb *cb, void *ctx, const char **error_r);

/* Every committed key starting with prefix, in reverse byte order (keys
 * must not contain 0xff octets right after the prefix). 0 or -1. */
int view_scan_reverse(struct view *view, const void *prefix, size_t plen, view_scan_cb *cb, void *ctx,
		      const char **error_r);
/* The same from the last key at or before start on (start begins with
 * prefix). 0 or -1. */
int view_scan_reverse_from(struct view *view, const void *prefix, size_t plen, const void *start, size_t slen,
			   view_scan_cb *cb, void *ctx, const char **error_r);

struct view_batch *view_batch_begin(struct view *view);
/* The view a batch writes to. */
struct view *view_batch_view(struct view_batch *b);
int view_batch_get(struct view_batch *b, const void *key, size_t klen,
		   char **val_r, size_t *vlen_r, const char **error_r);
void view_batch_put(struct view_batch *b, const void *key, size_t klen,
		    const void *val, size_t vlen);
void view_batch_delete(struct view_batch *b, const void *key, size_t klen);
/* Scan committed state overlaid with the batch's own writes. */
int view_batch_scan(struct view_batch *b, const void *prefix, size_t plen,
		    view_scan_cb *cb, void *ctx, const char **error_r);
/* The same from start on (start begins with prefix). */
int view_batch_scan_from(struct view_batch *b, const void *prefix, size_t plen, const void *start, size_t slen,
			 view_scan_cb *cb, void *ctx, const char **error_r);
/* Number of puts and deletes so far. */
size_t view_batch_count(struct view_batch *b);
/* Commits atomically and frees the batch (also on failure); *b = NULL. */
int view_batch_commit(struct view_batch **b, const char **error_r);
void view_batch_abort(struct view_batch **b);

/* Bulk apply (a rebuild, or the first replay of a long log into an empty
 * view): until view_bulk_end, commits skip the write-ahead log, so a crash
 * loses whatever the memtables held. That is the only thing relaxed, and
 * it is made safe by a marker: view_bulk_begin first stores
 * VIEW_BULK_MARKER with a synced write; view_bulk_end flushes the memtables
 * to table files and only then removes the marker (synced). A view opened
 * with the marker present holds an unknown part of a bulk apply and must
 * be wiped and replayed (view_bulk_marked says so; the projector does it).
 * The marker is node-local (not in the digest). Called by the one writer. */
#define VIEW_BULK_MARKER VIEW_LOCAL_PREFIX "bulk-apply"
int view_bulk_begin(struct view *view, const char **error_r);
int view_bulk_end(struct view *view, const char **error_r);
/* 1 when a bulk apply began and did not end (a crash in between), 0 when
 * not, -1 on error. */
int view_bulk_marked(struct view *view, const char **error_r);

/* SHA-256 over (klen, key, vlen, value) of every key in order, except keys
 * under VIEW_LOCAL_PREFIX; out is 64 hex digits + NUL. Reads one consistent
 * snapshot, so it may run while the projector writes. */
int view_digest(struct view *view, char out[65], uint64_t *keys_r, const char **error_r);

/* A RocksDB checkpoint of the view in dir (which must not exist): hard
 * links to its table files plus the rest copied, after a flush. Every
 * commit is one atomic write carrying its offsets, so the copy is a view
 * as of one commit, with the offsets it holds. 0 or -1. */
int view_checkpoint(struct view *view, const char *dir, const char **error_r);

/* Flushes the memtables and compacts the whole view, blob files included,
 * so deleted values (an erased account's mail, collected bodies) leave the
 * disk now rather than at RocksDB's pace. Blocks for as long as it takes:
 * call it off the loop. May run while the projector writes. 0 or -1. */
int view_compact(struct view *view, const char **error_r);

#endif

/* blob_store - blob.store = log: bodies read from the blob topic by offset,
 * through a bounded local cache, instead of kept in every node's view.
 *
 * In this mode the view keeps, per chunk record, only where it is
 * (blobloc/<blob id>/<upload>/<index> = "<partition> <offset>", written
 * by blob.chunk, blob_chunk.c) and blobmeta/<id>. mail_blob_read
 * (projector/mail.h, the one path for bodies) finds the store attached to
 * the view (view_set_blob_store) and calls blob_store_read:
 *   - cache hit: the file's bytes, if their SHA-256 is the blob id (a bad
 *     file is deleted and read as a miss);
 *   - miss: the chunks of the first upload whose every location is
 *     recorded, each read by (partition, offset) with a reader of the
 *     store's own; the record's key must be "<id>/<upload>/<index>" and
 *     the event a blob.chunk of this blob and index. The assembled bytes
 *     must have the blob's size and SHA-256; then they are cached. A chunk
 *     gone from the log (compacted after a body GC) or a wrong assembly
 *     moves on to the next upload; when none reads right, 0 ("not here").
 *
 * The cache is files <dir>/<2 hex>/<blob id>, each written to a temporary
 * file then renamed (no fsync: a torn file fails the SHA-256 check), their
 * total kept under a bound by evicting the least recently read (an
 * in-memory list rebuilt from the directory's mtimes at open, where
 * temporary files left by a crash are removed). A kill -9 at any moment
 * leaves a usable cache.
 *
 * Threads: every function may be called from any thread. One mutex
 * serialises the store's log reader (a miss waits for another thread's
 * miss to finish its chunk reads); another guards the cache's index, not
 * its file reads and writes. A miss blocks the calling thread for as long
 * as the log takes to deliver the chunks. */
#ifndef EVM_BLOB_STORE_H
#define EVM_BLOB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/event.h"
#include "ingest/evlog.h"
#include "projector/view.h"

#define BLOB_STORE_ID_LEN 64
/* How long one chunk's read may wait for the log. */
#define BLOB_STORE_READ_TIMEOUT_MS 10000

struct blob_cache;

/* Opens (creating) the cache in dir, bounded to max_bytes (0: caches
 * nothing). Removes temporary files, indexes the others by mtime and
 * evicts down to the bound. 0 or -1. */
int blob_cache_open(const char *dir, uint64_t max_bytes, struct blob_cache **cache_r, const char **error_r);
/* Closes; *cache = NULL; NULL is fine. Files stay. */
void blob_cache_close(struct blob_cache **cache);
/* 1 and the bytes (*data_r malloc'ed, NUL-terminated, caller frees) when
 * blob_id is cached with bytes of that SHA-256; 0 when not (a file with
 * wrong bytes is deleted). Marks it recently used. */
int blob_cache_get(struct blob_cache *c, const char *blob_id, char **data_r, size_t *len_r);
/* Stores the bytes of blob_id (the caller checked their SHA-256), evicting
 * the least recently used past the bound. A blob larger than the bound is
 * not stored (0). 0 or -1 (file-system error, nothing cached). */
int blob_cache_put(struct blob_cache *c, const char *blob_id, const void *data, size_t len,
		   const char **error_r);
/* Forgets blob_id and deletes its file, if cached (a body collected or
 * erased must not stay readable here). */
void blob_cache_drop(struct blob_cache *c, const char *blob_id);
/* 1 when blob_id has a file in the cache (not read, not checked). */
int blob_cache_has(struct blob_cache *c, const char *blob_id);
/* Octets and files in the cache. */
void blob_cache_usage(struct blob_cache *c, uint64_t *bytes_r, uint64_t *files_r);

/* Opens a sealed event in place (projector/keyring.h), or leaves a plain
 * one as it is: 0, or -1 with *error_r. Set by the node; NULL: none. */
typedef int blob_open_event_fn(void *ctx, struct evm_event *ev, const char **error_r);

struct blob_store;

/* Opens a store reading from log (borrowed: it must outlive the store)
 * with a cache in cache_dir of cache_size octets. 0 or -1. */
int blob_store_open(struct evlog *log, const char *cache_dir, uint64_t cache_size,
		    struct blob_store **store_r, const char **error_r);
/* Sets the hook that opens sealed chunk events (before the first read). */
void blob_store_set_opener(struct blob_store *s, blob_open_event_fn *fn, void *ctx);
/* Closes; *s = NULL; NULL is fine. No read may be running. */
void blob_store_close(struct blob_store **s);

/* The bytes of a complete blob (blobmeta/ says count chunks, size octets):
 * 1 and *data_r (malloc'ed, NUL-terminated), *len_r; 0 when no upload's
 * chunks can be read right from the log; -1 when the log or the view
 * failed (*error_r). */
int blob_store_read(struct blob_store *s, struct view *view, const char *blob_id, int64_t count,
		    int64_t size, char **data_r, size_t *len_r, const char **error_r);
/* The cache (borrowed, lives as long as the store). */
struct blob_cache *blob_store_cache(struct blob_store *s);

struct blob_store_stats {
	uint64_t hits;            /* reads answered by the cache */
	uint64_t misses;          /* reads that went to the log */
	uint64_t chunks_read;     /* chunk records read from the log */
	uint64_t failures;        /* misses that found no readable upload, or failed */
	uint64_t miss_us;         /* microseconds the misses took in all */
};
void blob_store_stats(struct blob_store *s, struct blob_store_stats *st_r);

#endif

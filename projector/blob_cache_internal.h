/* blob_cache_internal - the body cache's in-memory index (the cache's API
 * is in projector/blob_store.h): a hash table of the cached blobs and
 * their LRU list, shared by blob_cache_index.c (the index) and
 * blob_cache.c (the files). Every function here wants c->mu held unless
 * it says otherwise. */
#ifndef EVM_BLOB_CACHE_INTERNAL_H
#define EVM_BLOB_CACHE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "common/buf.h"
#include "projector/blob_store.h"

struct centry {
	char id[BLOB_STORE_ID_LEN + 1];
	uint64_t size;
	int64_t touched;                /* monotonic s of the last mtime set here; 0 never */
	struct centry *newer, *older;   /* LRU list: head is the newest */
	struct centry *hnext;           /* hash chain */
};

struct blob_cache {
	char *dir;
	uint64_t max, total, files;
	struct centry **table;
	size_t nbuckets;
	struct centry *newest, *oldest;
	uint64_t tmp_seq;
	pthread_mutex_t mu;
};

/* 1 when name is 64 lower-case hex digits (no lock needed). */
int bcache_id_valid(const char *name);
/* The entry of id, or NULL. */
struct centry *bcache_find(struct blob_cache *c, const char *id);
/* Adds an entry as the newest. */
void bcache_insert(struct blob_cache *c, const char *id, uint64_t size);
/* Moves an entry to the head of the list. */
void bcache_make_newest(struct blob_cache *c, struct centry *e);
/* Forgets an entry and deletes its file. */
void bcache_remove(struct blob_cache *c, struct centry *e);
/* Evicts the least recently used until the total is within the bound. */
void bcache_evict(struct blob_cache *c);
/* <dir>/<2 hex>/<id> into path (no lock needed). */
void bcache_file_path(const struct blob_cache *c, const char *id, struct buf *path);

#endif

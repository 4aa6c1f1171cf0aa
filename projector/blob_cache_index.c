/* blob_cache_index - the body cache's in-memory index
 * (blob_cache_internal.h): hash chains keyed by the blob id's first
 * digits, and the least-recently-used list. */
#include "projector/blob_cache_internal.h"
#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 when name is 64 lower-case hex digits. */
int bcache_id_valid(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return i == BLOB_STORE_ID_LEN;
}

/* The bucket of an id (a SHA-256: its first digits are uniform). */
static size_t bucket(const struct blob_cache *c, const char *id)
{
	uint64_t h = 0;

	for (int i = 0; i < 16; i++)
		h = h << 4 | (uint64_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
	return (size_t)h & (c->nbuckets - 1);
}

/* The entry of id, or NULL; mutex held. */
struct centry *bcache_find(struct blob_cache *c, const char *id)
{
	for (struct centry *e = c->table[bucket(c, id)]; e != NULL; e = e->hnext)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

/* Takes e out of the list. */
static void lru_unlink(struct blob_cache *c, struct centry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	e->newer = e->older = NULL;
}

/* Puts e at the head of the list. */
static void lru_push_newest(struct blob_cache *c, struct centry *e)
{
	e->older = c->newest;
	e->newer = NULL;
	if (c->newest != NULL)
		c->newest->newer = e;
	c->newest = e;
	if (c->oldest == NULL)
		c->oldest = e;
}

/* Doubles the hash table when it is fuller than one entry per bucket. */
static void maybe_grow(struct blob_cache *c)
{
	struct centry **old = c->table;
	size_t n = c->nbuckets;

	if (c->files < n)
		return;
	c->nbuckets = n * 2;
	c->table = xcalloc(c->nbuckets, sizeof *c->table);
	for (size_t i = 0; i < n; i++) {
		for (struct centry *e = old[i], *next; e != NULL; e = next) {
			size_t b = bucket(c, e->id);

			next = e->hnext;
			e->hnext = c->table[b];
			c->table[b] = e;
		}
	}
	free(old);
}

/* Adds an entry as the newest; mutex held. */
void bcache_insert(struct blob_cache *c, const char *id, uint64_t size)
{
	struct centry *e = xcalloc(1, sizeof *e);
	size_t b;

	memcpy(e->id, id, BLOB_STORE_ID_LEN + 1);
	e->size = size;
	c->files++;
	maybe_grow(c);
	b = bucket(c, id);
	e->hnext = c->table[b];
	c->table[b] = e;
	lru_push_newest(c, e);
	c->total += size;
}

/* <dir>/<2 hex>/<id> into path. */
void bcache_file_path(const struct blob_cache *c, const char *id, struct buf *path)
{
	buf_truncate(path, 0);
	buf_printf(path, "%s/%.2s/%s", c->dir, id, id);
}

/* Forgets an entry and deletes its file; mutex held. */
void bcache_remove(struct blob_cache *c, struct centry *e)
{
	struct centry **pp = &c->table[bucket(c, e->id)];
	struct buf path = BUF_INIT;

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(c, e);
	c->total -= e->size;
	c->files--;
	bcache_file_path(c, e->id, &path);
	if (unlink(path.data) < 0 && errno != ENOENT)
		log_warn("blob cache: cannot delete %s: %s", path.data, strerror(errno));
	buf_free(&path);
	free(e);
}

/* Evicts the least recently used until the total is within the bound. */
void bcache_evict(struct blob_cache *c)
{
	while (c->total > c->max && c->oldest != NULL)
		bcache_remove(c, c->oldest);
}

void bcache_make_newest(struct blob_cache *c, struct centry *e)
{
	lru_unlink(c, e);
	lru_push_newest(c, e);
}

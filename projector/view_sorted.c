/* view_sorted - the writes of an indexed batch as a plain write batch in
 * key order, the latest write of each key only, for view_batch_commit.
 *
 * RocksDB inserts a batch into its memtable (a skip list) in the batch's
 * order. In an apply batch that order is the events' (ev/<id>, account
 * and mailbox records, ... interleaved), so every insert searches the
 * memtable from its top level. In key order, each insert starts from the
 * splice the previous one left (RocksDB's sequential-insert hint), and a
 * record written several times in one batch (a mailbox's counters, an
 * account's usage) is inserted once. The view after the commit is the
 * same: for every key the last write of the batch wins either way, and
 * the batch is written atomically either way. */
#include "projector/view_private.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

/* One write of the batch: value NULL for a delete. */
struct write {
	const char *key, *value;
	size_t klen, vlen;
	size_t seq;                /* position in the batch */
};

struct writes {
	struct write *w;
	size_t n, cap;
};

/* Notes one write, in batch order. */
static void add(struct writes *ws, const char *k, size_t klen, const char *v, size_t vlen)
{
	if (ws->n == ws->cap) {
		ws->cap = ws->cap ? ws->cap * 2 : 256;
		ws->w = xrealloc(ws->w, ws->cap * sizeof *ws->w);
	}
	ws->w[ws->n] = (struct write){ k, v, klen, vlen, ws->n };
	ws->n++;
}

/* rocksdb_writebatch_wi_iterate's callbacks. */
static void on_put(void *ctx, const char *k, size_t klen, const char *v, size_t vlen)
{
	add(ctx, k, klen, v != NULL ? v : "", vlen);
}

static void on_delete(void *ctx, const char *k, size_t klen)
{
	add(ctx, k, klen, NULL, 0);
}

/* RocksDB's default order (bytewise), then the batch's. */
static int write_cmp(const void *a, const void *b)
{
	const struct write *x = a, *y = b;
	int r = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);

	if (r != 0)
		return r;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

rocksdb_writebatch_t *view_sorted_batch(rocksdb_writebatch_wi_t *wb)
{
	struct writes ws = { 0 };
	rocksdb_writebatch_t *out;

	/* The keys and values point into wb, which outlives out's building.
	 * The view writes puts and deletes only; RocksDB's iteration stops at
	 * any other kind of write, and then the batch goes unsorted. */
	rocksdb_writebatch_wi_iterate(wb, &ws, on_put, on_delete);
	if (ws.n != (size_t)rocksdb_writebatch_wi_count(wb)) {
		free(ws.w);
		return NULL;
	}
	out = rocksdb_writebatch_create();
	if (ws.n > 1)
		qsort(ws.w, ws.n, sizeof *ws.w, write_cmp);
	for (size_t i = 0; i < ws.n; i++) {
		const struct write *w = &ws.w[i];
		const struct write *next = i + 1 < ws.n ? &ws.w[i + 1] : NULL;

		if (next != NULL && next->klen == w->klen && memcmp(next->key, w->key, w->klen) == 0)
			continue;  /* a later write of the same key follows */
		if (w->value != NULL)
			rocksdb_writebatch_put(out, w->key, w->klen, w->value, w->vlen);
		else
			rocksdb_writebatch_delete(out, w->key, w->klen);
	}
	free(ws.w);
	return out;
}

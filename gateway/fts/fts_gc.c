/* fts_gc - the documents of email ids no longer in the account (every
 * message carrying them expunged): once they are more than a quarter of
 * the index (and at least FTS_GC_MIN), each is marked dead ('x') in its
 * segment's document list and its stored text is deleted, in one batch
 * (fts.h, THE INDEX). A dead document is not indexed for a reader; its
 * postings stay until account.purge (they are only read through the
 * document list). Without this the stored texts of deleted mail would
 * stay on disk for the life of the account. */
#include "gateway/fts/fts.h"

#include <string.h>

#define FTS_GC_MIN 64   /* dead documents worth a batch */

struct gc {
	json_t *live;              /* the email ids of the account's messages */
	const struct buf *acct;    /* local/fts/<acct>/ */
	struct view_batch *b;      /* NULL: count only */
	size_t total, dead;
	struct buf k, v;
};

/* One local/fts/<acct>/seg/<segno>: counts (and with a batch, marks) the
 * documents whose email id is not live. */
static int seg_gc(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct gc *g = ctx;
	size_t nd = vlen / 33;
	int changed = 0;

	buf_truncate(&g->v, 0);
	buf_append(&g->v, val, nd * 33);
	for (size_t d = 0; d < nd; d++) {
		char id[33], st = val[d * 33 + 32];

		if (st == 'x')
			continue;
		g->total++;
		memcpy(id, val + d * 33, 32);
		id[32] = '\0';
		if (json_object_get(g->live, id) != NULL)
			continue;
		g->dead++;
		if (g->b == NULL)
			continue;
		g->v.data[d * 33 + 32] = 'x';
		changed = 1;
		if (st == 't' || st == 'u') {   /* both stored a text */
			evm_fts_key_text(&g->k, g->acct, id);
			view_batch_delete(g->b, g->k.data, g->k.len);
			evm_fts_key_body(&g->k, g->acct, id);
			view_batch_delete(g->b, g->k.data, g->k.len);
		}
	}
	if (changed)
		view_batch_put(g->b, key, klen, g->v.data, g->v.len);
	return 0;
}

/* Counts the dead documents and drops them when they are many enough. */
int evm_fts_gc(struct view *view, const struct buf *acct, json_t *live, const char **error_r)
{
	struct gc g = { live, acct, NULL, 0, 0, BUF_INIT, BUF_INIT };
	struct buf prefix = BUF_INIT;
	int ret;

	buf_append(&prefix, acct->data, acct->len);
	buf_puts(&prefix, "seg/");
	ret = view_scan(view, prefix.data, prefix.len, seg_gc, &g, error_r);
	if (ret == 0 && g.dead >= FTS_GC_MIN && g.dead * 4 > g.total) {
		g.b = view_batch_begin(view);
		g.total = g.dead = 0;
		ret = view_scan(view, prefix.data, prefix.len, seg_gc, &g, error_r);
		if (ret < 0)
			view_batch_abort(&g.b);
		else
			ret = view_batch_commit(&g.b, error_r);
	}
	buf_free(&prefix);
	buf_free(&g.k);
	buf_free(&g.v);
	return ret;
}

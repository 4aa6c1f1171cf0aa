/* fts_query - the read side of the text index: which email ids are
 * indexed, and the candidates of a substring query as the intersection
 * over the needle's trigrams of the union of their postings over the
 * fields asked (fts.h, THE INDEX). */
#include "gateway/fts/fts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FTS_QUERY_TRIGRAMS 24   /* trigrams of a needle looked up (any subset narrows correctly) */

struct fts_ent {
	char id[32];
	uint32_t seg;        /* index into segno[] */
	uint16_t doc;
	char state;          /* 'u', 't', '1' or 'p' (fts.h, THE INDEX) */
	uint8_t used;
};

struct evm_fts {
	struct view *view;
	struct buf prefix;          /* local/fts/<acct>/ */
	uint32_t *segno;            /* ascending */
	uint16_t *ndocs;
	size_t nseg;
	struct fts_ent *tab;        /* open addressing on the email id */
	size_t cap, n;
	size_t npartial;            /* documents indexed partially */
};

struct evm_fts_cand {
	uint64_t **bits;            /* per segment, a bit per document */
	size_t nseg;
};

/* A hash of 32 hex digits: an email id is SHA-256 output (mail.h), so
 * mixing its octets eight at a time spreads it as well as a byte-wise
 * hash, at a fraction of the cost (a search looks up every message). */
static size_t id_hash(const char *id)
{
	uint64_t w[4], h;

	memcpy(w, id, sizeof w);
	h = (w[0] ^ w[1] * 0x9e3779b97f4a7c15ull) * 0xff51afd7ed558ccdull;
	h = (h ^ w[2] ^ w[3] * 0xc4ceb9fe1a85ec53ull) * 0x9e3779b97f4a7c15ull;
	return (size_t)(h ^ h >> 29);
}

/* The entry of an email id, or NULL. */
static const struct fts_ent *lookup(const struct evm_fts *f, const char *id)
{
	if (f->cap == 0 || id == NULL || strlen(id) != 32)
		return NULL;
	for (size_t i = id_hash(id) & (f->cap - 1);; i = (i + 1) & (f->cap - 1)) {
		if (!f->tab[i].used)
			return NULL;
		if (memcmp(f->tab[i].id, id, 32) == 0)
			return &f->tab[i];
	}
}

/* Adds a document: the first segment that has an email id wins, but a
 * document of this version ('u') wins over an older one ('t', '1'). */
static void insert(struct evm_fts *f, const char *id, uint32_t seg, uint16_t doc, char state)
{
	if ((f->n + 1) * 2 > f->cap) {
		struct fts_ent *old = f->tab;
		size_t ocap = f->cap;

		f->cap = f->cap ? f->cap * 2 : 256;
		f->tab = xcalloc(f->cap, sizeof *f->tab);
		f->n = 0;
		for (size_t i = 0; i < ocap; i++) {
			if (old[i].used)
				insert(f, old[i].id, old[i].seg, old[i].doc, old[i].state);
		}
		free(old);
	}
	for (size_t i = id_hash(id) & (f->cap - 1);; i = (i + 1) & (f->cap - 1)) {
		struct fts_ent *e = &f->tab[i];

		if (e->used && memcmp(e->id, id, 32) == 0) {
			if ((e->state == '1' || e->state == 't') && state == 'u') {
				e->seg = seg;
				e->doc = doc;
				e->state = state;
			}
			return;
		}
		if (!e->used) {
			memcpy(e->id, id, 32);
			e->seg = seg;
			e->doc = doc;
			e->state = state == 'u' || state == 't' || state == '1' ? state : 'p';
			e->used = 1;
			f->n++;
			return;
		}
	}
}

/* One local/fts/<acct>/seg/<segno> key: its documents. */
static int seg_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct evm_fts *f = ctx;
	size_t pl = f->prefix.len + 4, nd = vlen / 33;
	char num[11];

	if (klen != pl + 10 || nd > 65535)
		return 0;
	memcpy(num, key + pl, 10);
	num[10] = '\0';
	f->segno = xrealloc(f->segno, (f->nseg + 1) * sizeof *f->segno);
	f->ndocs = xrealloc(f->ndocs, (f->nseg + 1) * sizeof *f->ndocs);
	f->segno[f->nseg] = (uint32_t)strtoul(num, NULL, 10);
	f->ndocs[f->nseg] = (uint16_t)nd;
	for (size_t d = 0; d < nd; d++) {
		char st = val[d * 33 + 32];

		if (st == 'x')
			continue;   /* dead (fts_gc.c): not indexed */
		insert(f, val + d * 33, (uint32_t)f->nseg, (uint16_t)d, st);
		f->npartial += st != '1' && st != 't' && st != 'u';
	}
	f->nseg++;
	return 0;
}

/* Loads the segment lists of the account. */
int evm_fts_open(struct view *view, const char *account, struct evm_fts **f_r, const char **error_r)
{
	struct evm_fts *f = xcalloc(1, sizeof *f);
	struct buf k = BUF_INIT;
	int r;

	f->view = view;
	evm_fts_key_account(&f->prefix, account);
	buf_append(&k, f->prefix.data, f->prefix.len);
	buf_puts(&k, "seg/");
	r = view_scan(view, k.data, k.len, seg_cb, f, error_r);
	buf_free(&k);
	if (r < 0) {
		evm_fts_close(&f);
		return -1;
	}
	*f_r = f;
	return 0;
}

void evm_fts_close(struct evm_fts **fp)
{
	struct evm_fts *f = *fp;

	if (f == NULL)
		return;
	buf_free(&f->prefix);
	free(f->segno);
	free(f->ndocs);
	free(f->tab);
	free(f);
	*fp = NULL;
}

size_t evm_fts_docs(const struct evm_fts *f)
{
	return f->n;
}

/* The segment number after the last one (for the writer). */
uint32_t evm_fts_next_seg(const struct evm_fts *f)
{
	return f->nseg ? f->segno[f->nseg - 1] + 1 : 0;
}

int evm_fts_indexed(const struct evm_fts *f, const char *email_id)
{
	return lookup(f, email_id) != NULL;
}

int evm_fts_doc_state(const struct evm_fts *f, const char *email_id)
{
	const struct fts_ent *e = lookup(f, email_id);

	return e != NULL ? e->state : 0;
}

/* The d/ (body 0) or b/ (body 1) value of a 'u' document: 1 read (*val_r
 * to free), 0 none, -1 error. */
static int stored_value(struct evm_fts *f, const char *email_id, int body, char **val_r, size_t *vlen_r,
			const char **error_r)
{
	const struct fts_ent *e = lookup(f, email_id);
	struct buf k = BUF_INIT;
	int r;

	*val_r = NULL;
	*vlen_r = 0;
	if (e == NULL || e->state != 'u')
		return 0;
	if (body)
		evm_fts_key_body(&k, &f->prefix, email_id);
	else
		evm_fts_key_text(&k, &f->prefix, email_id);
	r = view_get(f->view, k.data, k.len, val_r, vlen_r, error_r);
	buf_free(&k);
	return r;
}

/* The d/<email id> value of a 'u' document, parsed. */
int evm_fts_text_get(struct evm_fts *f, const char *email_id, struct evm_fts_text *t, const char **error_r)
{
	char *val;
	size_t vlen;
	int r;

	memset(t, 0, sizeof *t);
	if ((r = stored_value(f, email_id, 0, &val, &vlen, error_r)) <= 0)
		return r;
	return evm_fts_text_parse(val, vlen, t) == 0;   /* malformed: none, the message is scanned */
}

/* The b/<email id> value of a 'u' document as t's body. */
int evm_fts_text_get_body(struct evm_fts *f, const char *email_id, struct evm_fts_text *t, const char **error_r)
{
	char *val;
	size_t vlen;
	int r;

	memset(t, 0, sizeof *t);
	if ((r = stored_value(f, email_id, 1, &val, &vlen, error_r)) <= 0)
		return r;
	t->bval = val;
	t->body = val;
	t->blen = vlen;
	return 1;
}

struct each_ctx {
	const struct evm_fts *f;
	uint32_t *first;           /* per table slot: its first id asked for + 1 */
	uint32_t *next;            /* per id asked for: the next of its slot + 1 */
	size_t left;               /* ids asked for not answered yet */
	size_t plen;               /* of local/fts/<acct>/d/ */
	evm_fts_text_cb *cb;
	void *ctx;
};

/* One d/<email id> key of the scan: the ids asked for that are it.
 * Stops once every one is answered. */
static int each_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct each_ctx *x = ctx;
	const struct fts_ent *e;
	struct evm_fts_text t;
	char id[33];
	size_t sl;

	if (klen != x->plen + 32)
		return 0;
	memcpy(id, key + x->plen, 32);
	id[32] = '\0';
	if ((e = lookup(x->f, id)) == NULL || x->first[sl = (size_t)(e - x->f->tab)] == 0)
		return 0;
	if (evm_fts_text_view(val, vlen, &t) == 0) {   /* malformed: none, as evm_fts_text_get */
		for (uint32_t k = x->first[sl]; k != 0; k = x->next[k - 1])
			x->cb(x->ctx, k - 1, &t);
	}
	for (uint32_t k = x->first[sl]; k != 0; k = x->next[k - 1])
		x->left--;
	x->first[sl] = 0;
	return x->left == 0;
}

static int ent_may_match(const struct evm_fts_cand *c, const struct fts_ent *e);

/* The stored fields of the 'u' documents among ids[n] that c leaves:
 * one scan of the d/ keys when they are at least 1/FTS_EACH_SCAN_SHARE
 * of the documents (a step of the iterator costs a fraction of a point
 * read; each key's document is found in the table, so the ids need no
 * sorting), else a point read each. */
#define FTS_EACH_SCAN_SHARE 4
int evm_fts_text_each(struct evm_fts *f, const struct evm_fts_cand *c, const char (*ids)[33], size_t n,
		      evm_fts_text_cb *cb, void *ctx, const char **error_r)
{
	struct each_ctx x = { f, NULL, NULL, 0, 0, cb, ctx };
	size_t *want = xmalloc((n + 1) * sizeof *want), *slot = xmalloc((n + 1) * sizeof *slot);
	struct buf k = BUF_INIT;
	int r = 0;

	if (n >= UINT32_MAX) {
		free(want);
		free(slot);
		*error_r = "text index: too many ids at once";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct fts_ent *d = lookup(f, ids[i]);

		if (d == NULL || d->state != 'u')
			continue;
		if (ent_may_match(c, d)) {
			slot[x.left] = (size_t)(d - f->tab);
			want[x.left++] = i;
		} else {
			cb(ctx, i, NULL);
		}
	}
	if (x.left > 0 && x.left * FTS_EACH_SCAN_SHARE >= f->n) {
		x.first = xcalloc(f->cap, sizeof *x.first);
		x.next = xcalloc(n, sizeof *x.next);
		for (size_t j = x.left; j-- > 0;) {   /* each slot's ids in the order asked */
			x.next[want[j]] = x.first[slot[j]];
			x.first[slot[j]] = (uint32_t)want[j] + 1;
		}
		evm_fts_key_text(&k, &f->prefix, "");   /* the d/ prefix */
		x.plen = k.len;
		r = view_scan(f->view, k.data, k.len, each_cb, &x, error_r);
		free(x.first);
		free(x.next);
	} else {
		for (size_t j = 0; j < x.left && r >= 0; j++) {
			struct evm_fts_text t;

			if ((r = evm_fts_text_get(f, ids[want[j]], &t, error_r)) > 0)
				cb(ctx, want[j], &t);
			evm_fts_text_clear(&t);
		}
	}
	buf_free(&k);
	free(want);
	free(slot);
	return r < 0 ? -1 : 0;
}

static struct evm_fts_cand *cand_new(const struct evm_fts *f)
{
	struct evm_fts_cand *c = xcalloc(1, sizeof *c);

	c->nseg = f->nseg;
	c->bits = xcalloc(f->nseg + 1, sizeof *c->bits);
	for (size_t s = 0; s < f->nseg; s++)
		c->bits[s] = xcalloc((f->ndocs[s] + 63u) / 64u + 1, sizeof **c->bits);
	return c;
}

void evm_fts_cand_free(struct evm_fts_cand **cp)
{
	struct evm_fts_cand *c = *cp;

	if (c == NULL)
		return;
	for (size_t s = 0; s < c->nseg; s++)
		free(c->bits[s]);
	free(c->bits);
	free(c);
	*cp = NULL;
}

struct post_ctx {
	const struct evm_fts *f;
	struct evm_fts_cand *c;
	size_t plen;
};

/* One posting key ".../<segno>": sets the bits of its documents. */
static int post_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct post_ctx *p = ctx;
	const struct evm_fts *f = p->f;
	size_t lo = 0, hi = f->nseg;
	uint32_t segno;
	char num[11];

	if (klen != p->plen + 10)
		return 0;
	memcpy(num, key + p->plen, 10);
	num[10] = '\0';
	segno = (uint32_t)strtoul(num, NULL, 10);
	while (lo < hi) {   /* segments written after evm_fts_open are not known: skipped */
		size_t mid = (lo + hi) / 2;

		if (f->segno[mid] < segno)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= f->nseg || f->segno[lo] != segno)
		return 0;
	for (size_t i = 0; i + 1 < vlen; i += 2) {
		unsigned d = (unsigned char)val[i] | (unsigned)(unsigned char)val[i + 1] << 8;

		if (d < f->ndocs[lo])
			p->c->bits[lo][d / 64] |= 1ull << (d % 64);
	}
	return 0;
}

/* The candidates of one trigram over fields into c. */
static int trigram(struct evm_fts *f, const char *fields, const unsigned char *t, struct evm_fts_cand *c,
		   const char **error_r)
{
	struct buf k = BUF_INIT;
	int r = 0;

	for (const char *fl = fields; *fl && r == 0; fl++) {
		struct post_ctx p = { f, c, 0 };

		buf_truncate(&k, 0);
		buf_append(&k, f->prefix.data, f->prefix.len);
		buf_printf(&k, "p/%c%02x%02x%02x/", *fl, t[0], t[1], t[2]);
		p.plen = k.len;
		r = view_scan(f->view, k.data, k.len, post_cb, &p, error_r);
	}
	buf_free(&k);
	return r;
}

/* Candidates of a casemapped needle (RFC 9051 6.4.4 substring). */
int evm_fts_query(struct evm_fts *f, const char *fields, const char *mapped, struct evm_fts_cand **c_r,
		   const char **error_r)
{
	size_t len = strlen(mapped), used = 0;
	const unsigned char *m = (const unsigned char *)mapped;
	struct evm_fts_cand *acc = NULL, *one = NULL;
	uint32_t seen[FTS_QUERY_TRIGRAMS];

	*c_r = NULL;
	if (len < EVM_FTS_MIN_NEEDLE)
		return 0;
	for (size_t i = 0; i + 3 <= len && used < FTS_QUERY_TRIGRAMS; i++) {
		uint32_t t = (uint32_t)m[i] << 16 | (uint32_t)m[i + 1] << 8 | m[i + 2];
		size_t j, any = 0;

		for (j = 0; j < used && seen[j] != t; j++)
			;
		if (j < used)
			continue;
		seen[used++] = t;
		one = cand_new(f);
		if (trigram(f, fields, m + i, one, error_r) < 0) {
			evm_fts_cand_free(&one);
			evm_fts_cand_free(&acc);
			return -1;
		}
		if (acc == NULL) {
			acc = one;
			one = NULL;
		} else {
			for (size_t s = 0; s < f->nseg; s++) {
				for (size_t w = 0; w < (f->ndocs[s] + 63u) / 64u; w++)
					acc->bits[s][w] &= one->bits[s][w];
			}
			evm_fts_cand_free(&one);
		}
		for (size_t s = 0; s < f->nseg && !any; s++) {
			for (size_t w = 0; w < (f->ndocs[s] + 63u) / 64u && !any; w++)
				any = acc->bits[s][w] != 0;
		}
		if (!any)
			break;   /* nothing indexed can match */
	}
	*c_r = acc;
	return 1;
}

/* Set bits of every segment plus the partial documents (an upper bound:
 * a document of two segments counts twice). */
size_t evm_fts_cand_count(const struct evm_fts *f, const struct evm_fts_cand *c)
{
	size_t n = f->npartial;

	for (size_t s = 0; s < c->nseg; s++) {
		for (size_t w = 0; w < (f->ndocs[s] + 63u) / 64u; w++)
			n += (size_t)__builtin_popcountll(c->bits[s][w]);
	}
	return n;
}

/* 0 when the document of e (NULL: not indexed) cannot match, else 1. */
static int ent_may_match(const struct evm_fts_cand *c, const struct fts_ent *e)
{
	if (c == NULL || e == NULL || e->state == 'p' || e->seg >= c->nseg)
		return 1;
	return (c->bits[e->seg][e->doc / 64] >> (e->doc % 64)) & 1;
}

/* 0 when the message cannot match, else 1. */
int evm_fts_may_match(const struct evm_fts *f, const struct evm_fts_cand *c, const char *email_id)
{
	return ent_may_match(c, lookup(f, email_id));
}

/* imap_thread - THREAD=ORDEREDSUBJECT (RFC 5256 3.1) and THREAD=REFERENCES
 * (RFC 5256 3.2, steps 1-6 as written there) over plain message data, and
 * the thread list syntax (RFC 5256 4). Ties on the sent date keep mailbox
 * order (the order of the input). */
#include "gateway/imap/imap_thread.h"

#include <stdlib.h>
#include <string.h>

struct ct {                       /* a container: a message or a dummy */
	long msg;                     /* index into the input, -1 for a dummy */
	struct ct *parent;
	struct ct **kids;
	size_t nk, ck;
};

struct strmap {                   /* open addressing, string keys (borrowed) */
	const char **keys;
	struct ct **vals;
	size_t cap, n;
};

struct forest {
	const struct imap_thread_msg *m;
	struct ct **all;
	size_t n, cap;
	struct ct root;
};

/* FNV-1a. */
static size_t str_hash(const char *s)
{
	size_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of key: where it is, or the empty one where it would go. */
static size_t map_slot(const struct strmap *mp, const char *key)
{
	size_t i = str_hash(key) & (mp->cap - 1);

	while (mp->keys[i] != NULL && strcmp(mp->keys[i], key) != 0)
		i = (i + 1) & (mp->cap - 1);
	return i;
}

/* The container stored under key, or NULL. */
static struct ct *map_get(const struct strmap *mp, const char *key)
{
	return mp->cap ? mp->vals[map_slot(mp, key)] : NULL;
}

/* Stores v under key (growing the table at half load). */
static void map_put(struct strmap *mp, const char *key, struct ct *v)
{
	size_t i;

	if ((mp->n + 1) * 2 > mp->cap) {
		struct strmap big = { NULL, NULL, mp->cap ? mp->cap * 2 : 64, 0 };

		big.keys = xcalloc(big.cap, sizeof *big.keys);
		big.vals = xcalloc(big.cap, sizeof *big.vals);
		for (size_t j = 0; j < mp->cap; j++) {
			if (mp->keys[j] != NULL)
				map_put(&big, mp->keys[j], mp->vals[j]);
		}
		free(mp->keys);
		free(mp->vals);
		*mp = big;
	}
	i = map_slot(mp, key);
	if (mp->keys[i] == NULL)
		mp->n++;
	mp->keys[i] = key;
	mp->vals[i] = v;
}

/* Frees the table (not the keys or containers). */
static void map_free(struct strmap *mp)
{
	free(mp->keys);
	free(mp->vals);
}

/* A new container, owned by the forest. */
static struct ct *ct_new(struct forest *f, long msg)
{
	struct ct *c = xcalloc(1, sizeof *c);

	c->msg = msg;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->all = xrealloc(f->all, f->cap * sizeof *f->all);
	}
	f->all[f->n++] = c;
	return c;
}

/* Breaks c's link to its parent. */
static void unlink_ct(struct ct *c)
{
	struct ct *p = c->parent;

	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nk; i++) {
		if (p->kids[i] == c) {
			memmove(&p->kids[i], &p->kids[i + 1], (p->nk - i - 1) * sizeof *p->kids);
			p->nk--;
			break;
		}
	}
	c->parent = NULL;
}

/* Makes c the last child of p (breaking c's old link). */
static void link_ct(struct ct *c, struct ct *p)
{
	unlink_ct(c);
	if (p->nk == p->ck) {
		p->ck = p->ck ? p->ck * 2 : 4;
		p->kids = xrealloc(p->kids, p->ck * sizeof *p->kids);
	}
	p->kids[p->nk++] = c;
	c->parent = p;
}

/* true when a is c or one of c's ancestors (linking a under c would loop). */
static bool ancestor_or_self(const struct ct *a, const struct ct *c)
{
	for (; c != NULL; c = c->parent) {
		if (c == a)
			return true;
	}
	return false;
}

/* Frees every container. */
static void forest_free(struct forest *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->all[i]->kids);
		free(f->all[i]);
	}
	free(f->all);
	free(f->root.kids);
}

/* The message a container sorts by: its own, or a dummy's first child's. */
static const struct ct *first_msg(const struct ct *c)
{
	while (c->msg < 0 && c->nk > 0)
		c = c->kids[0];
	return c;
}

static const struct imap_thread_msg *cmp_m;

/* By sent date, then mailbox order (RFC 5256 3.2 steps 4 and 6). */
static int ct_cmp(const void *pa, const void *pb)
{
	const struct ct *a = first_msg(*(struct ct *const *)pa), *b = first_msg(*(struct ct *const *)pb);

	if (a->msg >= 0 && b->msg >= 0 && cmp_m[a->msg].date != cmp_m[b->msg].date)
		return cmp_m[a->msg].date < cmp_m[b->msg].date ? -1 : 1;
	return a->msg < b->msg ? -1 : a->msg > b->msg;
}

/* Sorts every set of siblings under c, the youngest first (step 6). */
static void sort_tree(struct ct *c, const struct imap_thread_msg *m)
{
	for (size_t i = 0; i < c->nk; i++)
		sort_tree(c->kids[i], m);
	cmp_m = m;
	if (c->nk > 1)
		qsort(c->kids, c->nk, sizeof *c->kids, ct_cmp);
}

/* Step 3: dummies without children go; a dummy's children replace it,
 * except at the top level when it has several. */
static void prune(struct ct *p, bool top)
{
	size_t i = 0;

	while (i < p->nk) {
		struct ct *c = p->kids[i];

		prune(c, false);
		if (c->msg >= 0 || (top && c->nk > 1)) {
			i++;
			continue;
		}
		/* splice c's children in at c's place */
		memmove(&p->kids[i], &p->kids[i + 1], (p->nk - i - 1) * sizeof *p->kids);
		p->nk--;
		c->parent = NULL;
		for (size_t k = 0; k < c->nk; k++) {
			if (p->nk == p->ck) {
				p->ck = p->ck ? p->ck * 2 : 4;
				p->kids = xrealloc(p->kids, p->ck * sizeof *p->kids);
			}
			memmove(&p->kids[i + k + 1], &p->kids[i + k], (p->nk - i - k) * sizeof *p->kids);
			p->kids[i + k] = c->kids[k];
			c->kids[k]->parent = p;
			p->nk++;
		}
		i += c->nk;
		c->nk = 0;
	}
}

/* Appends one thread's members (RFC 5256 4 thread-members / thread-nested). */
static void render(const struct ct *c, const struct imap_thread_msg *m, struct buf *out)
{
	if (c->msg >= 0)
		buf_printf(out, "%u", m[c->msg].num);
	if (c->nk == 0)
		return;
	if (c->msg >= 0)
		buf_puts(out, " ");
	if (c->nk == 1 && c->msg >= 0) {
		render(c->kids[0], m, out);
		return;
	}
	for (size_t i = 0; i < c->nk; i++) {
		buf_puts(out, "(");
		render(c->kids[i], m, out);
		buf_puts(out, ")");
	}
}

/* The whole thread list: one parenthesised thread per root. */
static void render_roots(const struct forest *f, struct buf *out)
{
	for (size_t i = 0; i < f->root.nk; i++) {
		buf_puts(out, "(");
		render(f->root.kids[i], f->m, out);
		buf_puts(out, ")");
	}
}

/* By base subject, then as ct_cmp (RFC 5256 3.1). */
static int subject_cmp(const void *pa, const void *pb)
{
	const struct ct *a = *(struct ct *const *)pa, *b = *(struct ct *const *)pb;
	int r = strcmp(cmp_m[a->msg].subject, cmp_m[b->msg].subject);

	return r != 0 ? r : ct_cmp(pa, pb);
}

/* RFC 5256 3.1: by base subject then sent date; one thread per base
 * subject, the first message the parent of all the others; threads by
 * the sent date of their first message. */
void imap_thread_orderedsubject(const struct imap_thread_msg *m, size_t n, struct buf *out)
{
	struct forest f;
	struct ct **v = xcalloc(n + 1, sizeof *v);

	memset(&f, 0, sizeof f);
	f.m = m;
	f.root.msg = -1;
	for (size_t i = 0; i < n; i++)
		v[i] = ct_new(&f, (long)i);
	cmp_m = m;
	qsort(v, n, sizeof *v, subject_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		link_ct(v[i], &f.root);
		while (j < n && strcmp(m[v[j]->msg].subject, m[v[i]->msg].subject) == 0)
			link_ct(v[j++], v[i]);
		i = j;
	}
	if (f.root.nk > 1)
		qsort(f.root.kids, f.root.nk, sizeof *f.root.kids, ct_cmp);
	render_roots(&f, out);
	free(v);
	forest_free(&f);
}

/* Step 1: the containers and their links from Message-ID and References. */
static void build(struct forest *f, struct strmap *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct imap_thread_msg *mi = &f->m[i];
		struct ct *prev = NULL, *me = NULL;

		/* (A) link the references in order, parent before child */
		for (size_t r = 0; r < mi->nrefs; r++) {
			struct ct *c;

			if (mi->refs[r] == NULL || mi->refs[r][0] == '\0')
				continue;
			if ((c = map_get(ids, mi->refs[r])) == NULL) {
				c = ct_new(f, -1);
				map_put(ids, mi->refs[r], c);
			}
			if (prev != NULL && c->parent == NULL && !ancestor_or_self(c, prev))
				link_ct(c, prev);
			prev = c;
		}
		/* a duplicate Message-ID, or none, gets a container of its own */
		if (mi->msgid != NULL && mi->msgid[0] != '\0') {
			me = map_get(ids, mi->msgid);
			if (me != NULL && me->msg >= 0)
				me = NULL;
		}
		if (me == NULL) {
			me = ct_new(f, (long)i);
			if (mi->msgid != NULL && mi->msgid[0] != '\0' && map_get(ids, mi->msgid) == NULL)
				map_put(ids, mi->msgid, me);
		}
		me->msg = (long)i;
		/* (B) the last reference becomes the parent (no loops) */
		unlink_ct(me);
		if (prev != NULL && !ancestor_or_self(me, prev))
			link_ct(me, prev);
	}
}

/* Step 5.B.i: a root's subject, a dummy's from its first child. */
static const char *root_subject(const struct forest *f, const struct ct *c)
{
	const struct ct *x = c->msg >= 0 ? c : c->nk > 0 ? c->kids[0] : NULL;

	return x != NULL && x->msg >= 0 ? f->m[x->msg].subject : "";
}

/* Step 5: threads whose roots share a base subject are gathered. */
static void gather(struct forest *f)
{
	struct strmap subj = { NULL, NULL, 0, 0 };
	size_t nroots = f->root.nk;
	struct ct **snap = xcalloc(nroots + 1, sizeof *snap);

	/* (B) one root per subject: a dummy, else one that is not a reply */
	for (size_t i = 0; i < nroots; i++) {
		struct ct *c = f->root.kids[i], *e;
		const char *s = root_subject(f, c);

		snap[i] = c;
		if (s[0] == '\0')
			continue;
		e = map_get(&subj, s);
		if (e == NULL ||
		    (e->msg >= 0 && (c->msg < 0 || (f->m[e->msg].refwd && !f->m[c->msg].refwd))))
			map_put(&subj, s, c);
	}
	/* (C) merge each other root with the one in the table */
	for (size_t i = 0; i < nroots; i++) {
		struct ct *c = snap[i], *e, *d;
		const char *s = root_subject(f, c);

		if (c->parent != &f->root || s[0] == '\0' || (e = map_get(&subj, s)) == NULL || e == c)
			continue;
		if (e->msg < 0 && c->msg < 0) {
			while (c->nk > 0)
				link_ct(c->kids[0], e);
			unlink_ct(c);
		} else if (e->msg < 0) {
			link_ct(c, e);
		} else if (c->msg >= 0 && f->m[c->msg].refwd && !f->m[e->msg].refwd) {
			link_ct(c, e);
		} else {
			/* a new dummy takes e's place, with e and c under it */
			d = ct_new(f, -1);
			for (size_t k = 0; k < f->root.nk; k++) {
				if (f->root.kids[k] == e) {
					f->root.kids[k] = d;
					d->parent = &f->root;
					e->parent = NULL;
					break;
				}
			}
			link_ct(e, d);
			link_ct(c, d);
			map_put(&subj, s, d);
		}
	}
	free(snap);
	map_free(&subj);
}

/* RFC 5256 3.2 REFERENCES. */
void imap_thread_references(const struct imap_thread_msg *m, size_t n, struct buf *out)
{
	struct forest f;
	struct strmap ids = { NULL, NULL, 0, 0 };

	memset(&f, 0, sizeof f);
	f.m = m;
	f.root.msg = -1;
	build(&f, &ids, n);
	map_free(&ids);
	/* (2) the containers without a parent are the roots */
	for (size_t i = 0; i < f.n; i++) {
		if (f.all[i]->parent == NULL && (f.all[i]->msg >= 0 || f.all[i]->nk > 0))
			link_ct(f.all[i], &f.root);
	}
	prune(&f.root, true);                 /* (3) */
	for (size_t i = 0; i < f.root.nk; i++) /* (4) dummies by their first child */
		sort_tree(f.root.kids[i], m);
	cmp_m = m;
	if (f.root.nk > 1)
		qsort(f.root.kids, f.root.nk, sizeof *f.root.kids, ct_cmp);
	gather(&f);                           /* (5) */
	sort_tree(&f.root, m);                /* (6) */
	render_roots(&f, out);
	forest_free(&f);
}

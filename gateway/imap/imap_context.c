/* imap_context - RFC 5267 4.3 update contexts: a SEARCH or SORT (or
 * their UID forms) with RETURN (UPDATE) keeps its criteria (a deep copy
 * of the arguments) and its result as UIDs with the selected mailbox;
 * whenever the mailbox changed, imap_mbox_report() calls
 * imap_context_report(), which runs the criteria again over the messages
 * the client knows and sends "* ESEARCH (TAG ..) [UID] REMOVEFROM (..)
 * ADDTO (..)" in the numbers of the command (UIDs or sequence numbers):
 * once before any EXPUNGE, so a removal is told while its sequence number
 * is still valid (4.3.4), and again after EXISTS for additions (4.3.3).
 * Contexts end with CANCELUPDATE (4.3.5) or when the mailbox is closed. */
#include "gateway/imap/imap_context.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_snapshot.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_esearch.h"
#include "gateway/imap/imap_sort.h"

#include <stdlib.h>
#include <string.h>

#define IMAP_CONTEXTS_MAX 8

struct imap_uctx {
	struct imap_uctx *next;
	char tag[IMAP_TAG_MAX + 1];
	bool uid;                    /* UID SEARCH / UID SORT: numbers are UIDs */
	struct imap_arg *crit;       /* SORT criteria (copy), NULL for SEARCH */
	struct imap_arg *keys;       /* search keys (copy) */
	size_t nkeys;
	uint32_t *uids;              /* the result as the client knows it, in result order */
	size_t n;
	uint64_t sig;                /* mailbox signature of that result */
};

/* Deep copy of n arguments (strings may hold NULs: len is kept). */
static struct imap_arg *args_dup(const struct imap_arg *a, size_t n)
{
	struct imap_arg *c = xcalloc(n + 1, sizeof *c);

	for (size_t i = 0; i < n; i++) {
		c[i] = a[i];
		if (a[i].str != NULL) {
			char *s = xmalloc(a[i].len + 1);

			memcpy(s, a[i].str, a[i].len);
			s[a[i].len] = '\0';
			c[i].str = s;
		}
		c[i].list = a[i].type == IMAP_ARG_LIST ? args_dup(a[i].list, a[i].count) : NULL;
	}
	return c;
}

/* Frees a copy made by args_dup. */
static void args_free(struct imap_arg *a, size_t n)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free((char *)a[i].str);
		if (a[i].list != NULL)
			args_free(a[i].list, a[i].count);
	}
	free(a);
}

static void uctx_free(struct imap_uctx *c)
{
	args_free(c->crit, 1);
	args_free(c->keys, c->nkeys);
	free(c->uids);
	free(c);
}

void imap_context_free_all(struct imap_mbox *mb)
{
	while (mb->uctx != NULL) {
		struct imap_uctx *c = mb->uctx;

		mb->uctx = c->next;
		uctx_free(c);
	}
}

bool imap_context_tag_used(struct imap_mbox *mb, const char *tag)
{
	for (struct imap_uctx *c = mb->uctx; c != NULL; c = c->next) {
		if (strcmp(c->tag, tag) == 0)
			return true;
	}
	return false;
}

void imap_context_cancel(struct imap_mbox *mb, const char *tag)
{
	for (struct imap_uctx **p = &mb->uctx; *p != NULL; p = &(*p)->next) {
		if (strcmp((*p)->tag, tag) == 0) {
			struct imap_uctx *c = *p;

			*p = c->next;
			uctx_free(c);
			return;
		}
	}
}

/* FNV-1a over every message's UID, MODSEQ and expunged mark, and the
 * count the client knows: any change that can change a result changes it. */
static uint64_t mbox_sig(const struct imap_mbox *mb)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < mb->n; i++) {
		uint64_t v[3] = { mb->msgs[i].uid, (uint64_t)mb->msgs[i].modseq,
				  (uint64_t)mb->msgs[i].expunged };

		for (size_t k = 0; k < sizeof v; k++)
			h = (h ^ ((const unsigned char *)v)[k]) * 1099511628211ull;
	}
	return h ^ mb->n ^ ((uint64_t)mb->exists_sent << 32);
}

void imap_context_add(struct imap_session *s, const struct imap_arg *crit, const struct imap_arg *keys,
		      size_t nkeys, const size_t *idx, size_t n)
{
	struct imap_mbox *mb = s->mbox;
	struct imap_uctx *c;
	size_t count = 0;

	for (c = mb->uctx; c != NULL; c = c->next)
		count++;
	if (count >= IMAP_CONTEXTS_MAX) {
		struct buf t = BUF_INIT;

		imap_quote(&t, s->tag);
		imap_line(s, "* NO [NOUPDATE %s] Too many contexts", t.data);
		buf_free(&t);
		return;
	}
	c = xcalloc(1, sizeof *c);
	snprintf(c->tag, sizeof c->tag, "%s", s->tag);
	c->uid = s->cur_uid;
	c->crit = crit != NULL ? args_dup(crit, 1) : NULL;
	c->keys = args_dup(keys, nkeys);
	c->nkeys = nkeys;
	c->uids = xcalloc(n + 1, sizeof *c->uids);
	for (size_t i = 0; i < n; i++)
		c->uids[i] = mb->msgs[idx[i]].uid;
	c->n = n;
	c->sig = mbox_sig(mb);
	c->next = mb->uctx;
	mb->uctx = c;
}

/* The number the client knows uid by in context c: the UID, or its
 * sequence number (0 when it is not in the snapshot). */
static uint32_t ctx_num(const struct imap_mbox *mb, const struct imap_uctx *c, uint32_t uid)
{
	size_t lo = 0, hi = mb->n;

	if (c->uid)
		return uid;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mb->msgs[mid].uid == uid)
			return (uint32_t)(mid + 1);
		if (mb->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* v[n] in order, ascending runs as ranges. */
static void put_uids(struct buf *out, const uint32_t *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j + 1 < n && v[j + 1] == v[j] + 1)
			j++;
		buf_printf(out, "%s%u", i ? "," : "", v[i]);
		if (j > i)
			buf_printf(out, ":%u", v[j]);
		i = j + 1;
	}
}

/* qsort order of UIDs. */
static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* An ascending copy of v[n], for has_uid. */
static uint32_t *sorted_copy(const uint32_t *v, size_t n)
{
	uint32_t *c = xcalloc(n + 1, sizeof *c);

	memcpy(c, v, n * sizeof *c);
	qsort(c, n, sizeof *c, u32_cmp);
	return c;
}

/* true when uid is in the ascending list v[n]. */
static bool has_uid(const uint32_t *v, size_t n, uint32_t uid)
{
	return n > 0 && bsearch(&uid, v, n, sizeof *v, u32_cmp) != NULL;
}

/* RFC 5267 4.3.3 / 4.3.4: the changes from c->uids to nu[nn]. SEARCH
 * contexts use position 0 (mailbox order); SORT contexts remove from the
 * end backwards, then insert runs at their new positions front to back
 * (sort keys never change, so kept results keep their relative order). */
static void send_diff(struct imap_session *s, struct imap_uctx *c, const uint32_t *nu, size_t nn)
{
	struct imap_mbox *mb = s->mbox;
	struct buf out = BUF_INIT, rm = BUF_INIT, add = BUF_INIT;
	uint32_t *run = xcalloc(nn + c->n + 1, sizeof *run);
	uint32_t *so = sorted_copy(c->uids, c->n), *sn = sorted_copy(nu, nn);
	size_t k = 0;

	if (c->crit == NULL) {
		/* UIDs and sequence numbers ascend together */
		for (size_t i = 0; i < c->n; i++) {
			if (!has_uid(sn, nn, c->uids[i]) && ctx_num(mb, c, c->uids[i]) != 0)
				run[k++] = ctx_num(mb, c, c->uids[i]);
		}
		if (k > 0) {
			buf_puts(&rm, "0 ");
			put_uids(&rm, run, k);
		}
		k = 0;
		for (size_t i = 0; i < nn; i++) {
			if (!has_uid(so, c->n, nu[i]))
				run[k++] = ctx_num(mb, c, nu[i]);
		}
		if (k > 0) {
			buf_puts(&add, "0 ");
			put_uids(&add, run, k);
		}
	} else {
		for (size_t i = c->n; i-- > 0;) {
			if (!has_uid(sn, nn, c->uids[i]) && ctx_num(mb, c, c->uids[i]) != 0)
				buf_printf(&rm, "%s%zu %u", rm.len ? " " : "", i + 1, ctx_num(mb, c, c->uids[i]));
		}
		for (size_t i = 0; i < nn;) {
			size_t j = i;

			if (has_uid(so, c->n, nu[i])) {
				i++;
				continue;
			}
			while (j < nn && !has_uid(so, c->n, nu[j]))
				j++;
			buf_printf(&add, "%s%zu ", add.len ? " " : "", i + 1);
			for (size_t q = i; q < j; q++)
				run[q - i] = ctx_num(mb, c, nu[q]);
			put_uids(&add, run, j - i);
			i = j;
		}
	}
	if (rm.len > 0 || add.len > 0) {
		buf_puts(&out, "* ESEARCH (TAG ");
		imap_quote(&out, c->tag);
		buf_puts(&out, c->uid ? ") UID" : ")");
		if (rm.len > 0)
			buf_printf(&out, " REMOVEFROM (%s)", rm.data);
		if (add.len > 0)
			buf_printf(&out, " ADDTO (%s)", add.data);
		imap_line(s, "%s", out.data);
	}
	free(run);
	free(so);
	free(sn);
	buf_free(&out);
	buf_free(&rm);
	buf_free(&add);
}

void imap_context_report(struct imap_session *s)
{
	struct imap_mbox *mb = s->mbox;
	uint64_t sig;

	if (mb == NULL || mb->uctx == NULL)
		return;
	sig = mbox_sig(mb);
	for (struct imap_uctx *c = mb->uctx; c != NULL; c = c->next) {
		size_t *idx = NULL, n = 0;
		const char *error = NULL;
		uint32_t *nu;

		if (c->sig == sig)
			continue;
		c->sig = sig;
		if (imap_search_run(s, c->keys, c->nkeys, &idx, &n, &error) < 0)
			continue;   /* valid when the context was made; "$" may have changed */
		if (c->crit != NULL)
			(void)imap_sort_idx(s, c->crit, idx, n);
		nu = xcalloc(n + 1, sizeof *nu);
		for (size_t i = 0; i < n; i++)
			nu[i] = mb->msgs[idx[i]].uid;
		send_diff(s, c, nu, n);
		free(c->uids);
		c->uids = nu;
		c->n = n;
		free(idx);
	}
}

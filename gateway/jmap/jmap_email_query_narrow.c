/* jmap_email_query_narrow - Email/query without loading the account: the
 * emails a filter can match are first narrowed from indexes, then only
 * they are loaded and given to the exact engine (jmap_email_query_run).
 *
 * The narrowing only removes emails that cannot match, so the answer is
 * the engine's over the whole account:
 *   - the scope: inMailbox in a top-level AND (or the condition itself)
 *     limits the emails to that mailbox's received-time index (mrcv/);
 *     otherwise the account's (arcv/), an index read, no record parsed;
 *   - receivedAt: before / after are checked on the time in that index
 *     (the same time the engine compares, projector/mail_jmap.h ethr/);
 *   - text, body, subject, from, to, cc, bcc of 3 octets or more: the
 *     search index (gateway/fts/fts.h) removes the emails it has indexed
 *     fully that hold no trigram of the needle in the fields the
 *     condition reads (RFC 8621 4.4.1: text reads From, To, Cc, Bcc,
 *     Subject and the body). An email not indexed yet stays: the engine
 *     checks it against the message (exactness before speed).
 * The operators combine this: AND removes what any operand removes, OR
 * what all operands remove, NOT removes nothing. Filters or sorts that
 * read whole threads (allInThreadHaveKeyword...) count over the account,
 * so they are not narrowed.
 *
 * jmap_email_query_first stops early: sorted by receivedAt alone, the
 * received-time index is the answer's order (ties by email id ascending
 * both ways, as the engine's), so the emails the indexes leave are
 * checked in that order and the walk stops at the want-th match. */
#include "gateway/jmap/jmap_email_query.h"
#include "gateway/jmap/jmap_email_query_private.h"
#include "gateway/fts/fts.h"
#include "projector/mail_jmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The index fields each text condition reads (fts.h, THE TEXT). */
static const char *const text_fields[T_COUNT] = {
	[T_TEXT] = "sftcbx", [T_FROM] = "f", [T_TO] = "t", [T_CC] = "c",
	[T_BCC] = "b", [T_SUBJECT] = "s", [T_BODY] = "x",
};

/* A filter node with the index candidates of its text conditions. */
struct nnode {
	const struct jmap_efilter *f;
	struct evm_fts_cand *cand[T_COUNT];   /* NULL: not narrowed */
	struct nnode *kids;
	size_t nkids;
};

/* The mailbox every match is in: a top-level condition's inMailbox,
 * through nested ANDs; NULL when none. */
static const char *scope_of(const struct jmap_efilter *f)
{
	const char *s;

	if (f == NULL)
		return NULL;
	if (f->op == F_COND)
		return f->in_mailbox;
	if (f->op != F_AND)
		return NULL;
	for (size_t i = 0; i < f->nkids; i++)
		if ((s = scope_of(f->kids[i])) != NULL)
			return s;
	return NULL;
}

/* 1 when the filter can remove emails by received time, or (text) by
 * text. */
static int narrows(const struct jmap_efilter *f, int text)
{
	size_t i, all = 1;

	if (f == NULL || f->op == F_NOT)
		return 0;
	if (f->op == F_COND) {
		for (int k = 0; k < T_COUNT && text; k++)
			if (f->text[k] != NULL && strlen(f->text[k]) >= EVM_FTS_MIN_NEEDLE)
				return 1;
		return (f->has & (H_BEFORE | H_AFTER)) != 0;
	}
	for (i = 0; i < f->nkids; i++) {
		int n = narrows(f->kids[i], text);

		if (f->op == F_AND && n)
			return 1;
		all &= (size_t)n;
	}
	return f->op == F_OR && all;
}

/* 1 when the filter has a text condition the index can narrow. */
static int has_text(const struct jmap_efilter *f)
{
	if (f == NULL)
		return 0;
	for (int k = 0; k < T_COUNT; k++)
		if (f->text[k] != NULL && strlen(f->text[k]) >= EVM_FTS_MIN_NEEDLE)
			return 1;
	for (size_t i = 0; i < f->nkids; i++)
		if (has_text(f->kids[i]))
			return 1;
	return 0;
}

static void nnode_free(struct nnode *n)
{
	for (int k = 0; k < T_COUNT; k++)
		evm_fts_cand_free(&n->cand[k]);
	for (size_t i = 0; i < n->nkids; i++)
		nnode_free(&n->kids[i]);
	free(n->kids);
}

/* The candidates of every text condition under f (fts NULL: none). */
static int nnode_build(struct nnode *n, const struct jmap_efilter *f, struct evm_fts *fts, const char **error_r)
{
	memset(n, 0, sizeof *n);
	n->f = f;
	if (f->nkids > 0) {
		n->kids = xcalloc(f->nkids, sizeof *n->kids);
		n->nkids = f->nkids;
	}
	for (size_t i = 0; i < f->nkids; i++)
		if (nnode_build(&n->kids[i], f->kids[i], fts, error_r) < 0)
			return -1;
	for (int k = 0; k < T_COUNT && fts != NULL; k++)
		if (f->text[k] != NULL && evm_fts_query(fts, text_fields[k], f->text[k], &n->cand[k], error_r) < 0)
			return -1;
	return 0;
}

/* 0 when the email (id, received) cannot match n's filter, else 1. */
static int may_match(const struct nnode *n, const struct evm_fts *fts, const char *id, int64_t received)
{
	const struct jmap_efilter *f = n->f;
	size_t i;

	switch (f->op) {
	case F_COND:
		if (((f->has & H_BEFORE) && received >= f->before) || ((f->has & H_AFTER) && received < f->after))
			return 0;
		for (int k = 0; k < T_COUNT; k++)
			if (n->cand[k] != NULL && !evm_fts_may_match(fts, n->cand[k], id))
				return 0;
		return 1;
	case F_AND:
		for (i = 0; i < n->nkids; i++)
			if (!may_match(&n->kids[i], fts, id, received))
				return 0;
		return 1;
	case F_OR:
		for (i = 0; i < n->nkids; i++)
			if (may_match(&n->kids[i], fts, id, received))
				return 1;
		return 0;
	default:   /* NOT: an email absent from an index may still match */
		return 1;
	}
}

/* 1 when sort is receivedAt alone or none (the engine's default, newest
 * first), with *newest_r; else 0. */
static int by_received(const json_t *sort, int *newest_r)
{
	const json_t *c = json_array_get(sort, 0);
	const char *prop = json_string_value(json_object_get(c, "property"));

	if (json_array_size(sort) > 1 || (c != NULL && (prop == NULL || strcmp(prop, "receivedAt") != 0)))
		return 0;
	/* RFC 8620 5.5: isAscending defaults to true */
	*newest_r = c == NULL || json_is_false(json_object_get(c, "isAscending"));
	return 1;
}

/* Checks one email of the index exactly: 1 it matches, 0 not (or gone),
 * 2 its message is not complete here, -1 error. */
static int check_one(struct view *view, const char *account, const struct jmap_efilter *f, const char *id,
		     const char **error_r)
{
	struct jmap_email e;
	struct jmap_email_set one = { &e, 1 };
	struct jmap_email_content c = { .view = view, .account = account };
	struct jmap_eq_threads t = { .set = &one };   /* unused: no thread-wide filter here */
	int r = jmap_email_load(view, account, id, &e, error_r);

	if (r <= 0)
		return r;
	r = jmap_efilter_match(f, &c, &t, &e, error_r);
	jmap_email_content_drop(&c);
	jmap_eq_threads_free(&t);
	jmap_email_clear(&e);
	return r;
}

/* At most how many indexed emails n's filter leaves (SIZE_MAX: no
 * bound): AND the least of its operands, OR their sum. */
static size_t cand_bound(const struct nnode *n, const struct evm_fts *fts)
{
	size_t b = SIZE_MAX, x;

	switch (n->f->op) {
	case F_COND:
		for (int k = 0; k < T_COUNT; k++)
			if (n->cand[k] != NULL && (x = evm_fts_cand_count(fts, n->cand[k])) < b)
				b = x;
		return b;
	case F_AND:
		for (size_t i = 0; i < n->nkids; i++)
			if ((x = cand_bound(&n->kids[i], fts)) < b)
				b = x;
		return b;
	case F_OR:
		b = 0;
		for (size_t i = 0; i < n->nkids; i++) {
			if ((x = cand_bound(&n->kids[i], fts)) == SIZE_MAX)
				return SIZE_MAX;
			b += x;
		}
		return b;
	default:
		return SIZE_MAX;
	}
}

/* The piece of the index past which the rest is read at once: a whole
 * read newest first is a forward scan turned around, several times
 * cheaper per entry than the pieces' backward steps (mail_jmap.h). */
#define WALK_PIECE_MAX 4096

/* Walks the scope's received-time index in the answer's order, read in
 * growing pieces, each resumed past the last received time of the one
 * before (a piece ends with a whole received time), until want matches. */
static int walk(struct view *view, const char *account, const char *scope, int newest, const struct nnode *root,
		const struct evm_fts *fts, size_t want, struct jmap_eq_narrowed *out, json_t *ids,
		const char **error_r)
{
	size_t max = want * 2 + 32, n, i;
	struct mail_jrcv *v = NULL;
	int64_t past = 0;
	int r;

	/* Fewer indexed candidates than wanted (a rare word): the walk will
	 * likely reach the end, read at once. */
	if (fts != NULL && cand_bound(root, fts) < want)
		max = 0;

	for (;;) {
		if (mail_jmap_received_past(view, account, scope, newest, out->scanned ? &past : NULL, max, &v, &n,
					    error_r) < 0)
			return -1;
		for (i = 0; i < n && json_array_size(ids) < want; i++) {
			out->scanned++;
			if (!may_match(root, fts, v[i].id, v[i].received))
				continue;
			if (fts != NULL && !evm_fts_indexed(fts, v[i].id))
				out->unindexed++;
			out->loaded++;
			if ((r = check_one(view, account, root->f, v[i].id, error_r)) < 0 || r == 2) {
				free(v);
				return r < 0 ? -1 : 1;
			}
			if (r == 1)
				json_array_append_new(ids, json_string(v[i].id));
		}
		if (n > 0)
			past = v[n - 1].received;
		free(v);
		v = NULL;
		if (json_array_size(ids) >= want || max == 0 || n < max)
			return 0;
		max = max * 4 > WALK_PIECE_MAX ? 0 : max * 4;
	}
}

int jmap_email_query_first(struct view *view, const char *account, const json_t *filter, const json_t *sort,
			   size_t want, struct jmap_eq_narrowed *out, json_t **ids_r, const char **error_r)
{
	struct jmap_efilter *f = jmap_efilter_compile(filter);
	struct evm_fts *fts = NULL;
	struct nnode root = { 0 };
	const char *scope = scope_of(f);
	int ret = 2, newest = 1, text = has_text(f);

	memset(out, 0, sizeof *out);
	*ids_r = NULL;
	/* With nothing the indexes narrow (a keyword alone), loading the
	 * account at once is cheaper than email by email when matches are
	 * rare: only scope, dates or text take this path. */
	if (want == 0 || !by_received(sort, &newest) || jmap_efilter_thread_wide(f) ||
	    (scope == NULL && !text && !narrows(f, 0)))
		goto out;
	out->text = text;   /* the caller activates the indexer on it */
	ret = -1;
	/* f is not NULL here: a filter with no scope, date or text left above */
	if ((text && evm_fts_open(view, account, &fts, error_r) < 0) ||
	    nnode_build(&root, f, fts, error_r) < 0)
		goto out;
	*ids_r = json_array();
	ret = walk(view, account, scope, newest, &root, fts, want, out, *ids_r, error_r);
	if (ret != 0) {
		json_decref(*ids_r);
		*ids_r = NULL;
	}
out:
	nnode_free(&root);
	evm_fts_close(&fts);
	jmap_efilter_free(&f);
	return ret;
}

int jmap_email_query_narrow(struct view *view, const char *account, const json_t *filter, const json_t *sort,
			    int collapse, struct jmap_eq_narrowed *out, json_t **ids_r, const char **error_r)
{
	struct jmap_efilter *f = jmap_efilter_compile(filter);
	struct evm_fts *fts = NULL;
	struct nnode root = { 0 };
	struct mail_jrcv *v = NULL;
	struct jmap_email_set set = { NULL, 0 };
	const char *scope = scope_of(f), **ids = NULL;
	size_t n = 0, keep = 0;
	int ret = 2, text;

	memset(out, 0, sizeof *out);
	*ids_r = NULL;
	if (jmap_efilter_thread_wide(f) || jmap_esort_thread_wide(sort) || (scope == NULL && !narrows(f, 1)))
		goto out;
	text = has_text(f);
	if (text && evm_fts_open(view, account, &fts, error_r) < 0) {
		ret = -1;
		goto out;
	}
	/* set before the early return below: the caller activates the
	 * indexer on it, and an account not indexed yet must be activated */
	out->text = text;
	/* Text alone narrows nothing in an account not indexed yet: loading
	 * it whole is cheaper than email by email. */
	if (scope == NULL && text && evm_fts_docs(fts) == 0 && !narrows(f, 0))
		goto out;
	ret = -1;
	if (nnode_build(&root, f, fts, error_r) < 0 ||
	    mail_jmap_received(view, account, scope, 1, 0, &v, &n, error_r) < 0)
		goto out;
	ids = xcalloc(n ? n : 1, sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		if (!may_match(&root, fts, v[i].id, v[i].received))
			continue;
		if (fts != NULL && !evm_fts_indexed(fts, v[i].id))
			out->unindexed++;
		ids[keep++] = v[i].id;
	}
	out->scanned = n;
	out->loaded = keep;
	if (jmap_email_set_load_ids(view, account, ids, keep, &set, error_r) < 0)
		goto out;
	ret = jmap_email_query_run(view, account, &set, filter, sort, collapse, ids_r, error_r);
out:
	jmap_email_set_free(&set);
	free(ids);
	free(v);
	nnode_free(&root);
	evm_fts_close(&fts);
	jmap_efilter_free(&f);
	return ret;
}

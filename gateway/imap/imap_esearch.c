/* imap_esearch - what SEARCH and SORT share: the RETURN options (RFC 4731
 * 3.1 MIN MAX COUNT ALL, RFC 5182 SAVE, RFC 9394 PARTIAL), running
 * the criteria over the selected mailbox, and the "* ESEARCH" answer
 * (RFC 4731 3.1, RFC 9051 7.3.4; RFC 5267 3.1 for ESORT: ALL in sort
 * order, MIN / MAX the first / last sorted message). */
#include "gateway/imap/imap_esearch.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_snapshot.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_search.h"
#include "gateway/imap/imap_condstore.h"
#include "gateway/imap/imap_searchres.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 4731 3.1 search-return-opts (+ SAVE, RFC 5182; PARTIAL, RFC 9394 3.1). */
int imap_return_parse(const struct imap_arg *args, size_t n, struct imap_ret *ret, const char **error_r)
{
	static const struct { const char *name; unsigned bit; } opts[] = {
		{ "MIN", IMAP_RET_MIN }, { "MAX", IMAP_RET_MAX }, { "COUNT", IMAP_RET_COUNT },
		{ "ALL", IMAP_RET_ALL }, { "SAVE", IMAP_RET_SAVE },
		{ "UPDATE", IMAP_RET_UPDATE }, { "CONTEXT", IMAP_RET_CONTEXT },   /* RFC 5267 4.2, 4.3 */
	};
	const struct imap_arg *l;
	unsigned seen = 0;

	memset(ret, 0, sizeof *ret);
	if (n < 1 || args[0].type != IMAP_ARG_ATOM || strcasecmp(args[0].str, "RETURN") != 0)
		return 0;
	if (n < 2 || args[1].type != IMAP_ARG_LIST) {
		*error_r = "RETURN needs a list of options";
		return -1;
	}
	l = args[1].list;
	for (size_t i = 0; i < args[1].count; i++) {   /* RFC 5182 2.1: a failed SAVE empties "$" */
		const char *o = imap_arg_str(&l[i]);

		if (o != NULL && strcasecmp(o, "SAVE") == 0)
			ret->opts |= IMAP_RET_SAVE;
	}
	for (size_t i = 0; i < args[1].count; i++) {
		const char *o = imap_arg_str(&l[i]);
		size_t k;

		if (o != NULL && strcasecmp(o, "PARTIAL") == 0 && l[i].type == IMAP_ARG_ATOM) {
			/* RFC 9394 3.1: one PARTIAL at most */
			if ((seen & IMAP_RET_PARTIAL) || i + 1 >= args[1].count ||
			    imap_partial_parse(&l[i + 1], &ret->partial) < 0) {
				*error_r = seen & IMAP_RET_PARTIAL ? "Only one PARTIAL is allowed" :
					   "Invalid PARTIAL range";
				return -1;
			}
			ret->opts |= IMAP_RET_PARTIAL;
			seen |= IMAP_RET_PARTIAL;
			i++;
			continue;
		}
		for (k = 0; k < sizeof opts / sizeof opts[0]; k++) {
			if (o != NULL && l[i].type == IMAP_ARG_ATOM && strcasecmp(o, opts[k].name) == 0)
				break;
		}
		if (k == sizeof opts / sizeof opts[0]) {
			*error_r = "Unknown RETURN option";
			return -1;
		}
		if (seen & opts[k].bit) {
			*error_r = "RETURN option given twice";
			return -1;
		}
		seen |= opts[k].bit;
		ret->opts |= opts[k].bit;
	}
	/* RFC 9394 3.1 (RFC 5267 4.4): PARTIAL and ALL are mutually exclusive. */
	if ((ret->opts & IMAP_RET_PARTIAL) && (ret->opts & IMAP_RET_ALL)) {
		*error_r = "PARTIAL and ALL cannot be combined";
		return -1;
	}
	return 1;
}

/* RFC 9051 6.4.4: UTF-8 and US-ASCII are the charsets searched. */
bool imap_charset_ok(const char *cs)
{
	return cs != NULL && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "US-ASCII") == 0);
}

/* The messages matching the criteria, in mailbox order. */
int imap_search_run(struct imap_session *s, const struct imap_arg *args, size_t n, size_t **idx_r,
		    size_t *n_r, const char **error_r)
{
	struct imap_search *sr = NULL;
	struct imap_mbox *mb = s->mbox;
	size_t *idx, k = 0;

	*idx_r = NULL;
	*n_r = 0;
	if (imap_search_parse(args, n, mb, &sr, error_r) < 0)
		return -1;
	idx = xcalloc(mb->n + 1, sizeof *idx);
	/* only messages the client knows exist (RFC 9051 7.4.1) */
	for (size_t i = 0; i < mb->n && i < mb->exists_sent; i++) {
		if (!mb->msgs[i].expunged && imap_search_match(s, sr, i) > 0)
			idx[k++] = i;
	}
	imap_search_free(&sr);
	*idx_r = idx;
	*n_r = k;
	return 0;
}

/* The number the client sees for message index i. */
static unsigned num(struct imap_session *s, size_t i)
{
	return s->cur_uid ? s->mbox->msgs[i].uid : (unsigned)(i + 1);
}

/* v[n] as a sequence set keeping its order: only ascending runs of
 * consecutive numbers become ranges (RFC 5267 3: ALL in sort order). */
static void put_set(struct buf *out, const unsigned *v, size_t n)
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

/* Orders a[n] ascending (message indexes). */
static int cmp_idx(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	return a < b ? -1 : a > b;
}

/* What "$" becomes. RFC 5182 2.4: with SAVE and only MIN and/or MAX, just
 * those. RFC 9394 3.2: with PARTIAL and without COUNT, the messages
 * PARTIAL returns plus the MIN / MAX ones; with COUNT, all found. */
static void save(struct imap_session *s, const size_t *idx, size_t n, const struct imap_ret *ret, unsigned o,
		 size_t imin, size_t imax)
{
	size_t from = 0, cnt = 0, k = 0, *pick;

	if ((o & (IMAP_RET_ALL | IMAP_RET_COUNT)) ||
	    !(o & (IMAP_RET_PARTIAL | IMAP_RET_MIN | IMAP_RET_MAX))) {
		imap_searchres_save(s->mbox, idx, n);
		return;
	}
	if (o & IMAP_RET_PARTIAL)
		imap_partial_window(&ret->partial, n, &from, &cnt);
	pick = xcalloc(cnt + 3, sizeof *pick);
	for (size_t i = 0; i < cnt; i++)
		pick[k++] = idx[from + i];
	if (n > 0 && (o & IMAP_RET_MIN))
		pick[k++] = imin;
	if (n > 0 && (o & IMAP_RET_MAX))
		pick[k++] = imax;
	qsort(pick, k, sizeof *pick, cmp_idx);
	{
		size_t u = 0;

		for (size_t i = 0; i < k; i++) {
			if (u == 0 || pick[u - 1] != pick[i])
				pick[u++] = pick[i];
		}
		k = u;
	}
	imap_searchres_save(s->mbox, pick, k);
	free(pick);
}

/* SAVE, then the ESEARCH response (RFC 4731 3.1; RFC 5267 3.1 when sorted). */
void imap_esearch_result(struct imap_session *s, const size_t *idx, size_t n, const struct imap_ret *ret,
			 bool sorted)
{
	/* RFC 4731 3.1: no result option (RETURN (), or only hints) means ALL */
	unsigned res = ret->opts & (IMAP_RET_MIN | IMAP_RET_MAX | IMAP_RET_COUNT | IMAP_RET_ALL | IMAP_RET_PARTIAL);
	unsigned o = ret->opts | (res == 0 && !(ret->opts & IMAP_RET_SAVE) ? IMAP_RET_ALL : 0);
	unsigned *v = xcalloc(n + 1, sizeof *v);
	size_t imin = 0, imax = 0;
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		v[i] = num(s, idx[i]);
		if (v[i] < v[imin])
			imin = i;
		if (v[i] > v[imax])
			imax = i;
	}
	if (sorted && n > 0) {   /* RFC 5267 3.1: MIN / MAX are the first / last sorted */
		imin = 0;
		imax = n - 1;
	}
	if (o & IMAP_RET_SAVE)
		save(s, idx, n, ret, o, n ? idx[imin] : 0, n ? idx[imax] : 0);
	if (res == 0 && (o & IMAP_RET_SAVE)) {   /* RFC 5182 2.1: no ESEARCH for SAVE alone */
		free(v);
		return;
	}
	buf_puts(&out, "* ESEARCH (TAG ");
	imap_quote(&out, s->tag);
	buf_puts(&out, ")");
	if (s->cur_uid)
		buf_puts(&out, " UID");
	if ((o & IMAP_RET_MIN) && n > 0)
		buf_printf(&out, " MIN %u", v[imin]);
	if ((o & IMAP_RET_MAX) && n > 0)
		buf_printf(&out, " MAX %u", v[imax]);
	if (o & IMAP_RET_COUNT)
		buf_printf(&out, " COUNT %zu", n);
	if ((o & IMAP_RET_ALL) && n > 0) {
		buf_puts(&out, " ALL ");
		put_set(&out, v, n);
	}
	if (o & IMAP_RET_PARTIAL) {
		/* RFC 9394 3.1: the results at the range's positions (from
		 * the last one for -m:-n), NIL when none */
		size_t from, cnt;

		imap_partial_window(&ret->partial, n, &from, &cnt);
		buf_puts(&out, " PARTIAL (");
		imap_partial_string(&ret->partial, &out);
		buf_puts(&out, " ");
		if (cnt == 0)
			buf_puts(&out, "NIL");
		else
			put_set(&out, v + from, cnt);
		buf_puts(&out, ")");
	}
	if (ret->modseq && n > 0)
		buf_printf(&out, " MODSEQ %lld", (long long)imap_result_modseq(s, idx, n, o, idx[imin], idx[imax]));
	imap_line(s, "%s", out.data);
	buf_free(&out);
	free(v);
}

/* RFC 7162 3.1.5: the highest modseq of the messages a SEARCH returns;
 * with only MIN and/or MAX, of the ones returned. imin/imax are indexes. */
int64_t imap_result_modseq(struct imap_session *s, const size_t *idx, size_t n, unsigned opts, size_t imin,
			   size_t imax)
{
	int64_t best = 0, v;

	if (!(opts & (IMAP_RET_ALL | IMAP_RET_COUNT | IMAP_RET_PARTIAL)) && (opts & (IMAP_RET_MIN | IMAP_RET_MAX))) {
		if (opts & IMAP_RET_MIN)
			best = s->mbox->msgs[imin].modseq;
		if ((opts & IMAP_RET_MAX) && (v = s->mbox->msgs[imax].modseq) > best)
			best = v;
		return best;
	}
	for (size_t i = 0; i < n; i++) {
		if ((v = s->mbox->msgs[idx[i]].modseq) > best)
			best = v;
	}
	return best;
}

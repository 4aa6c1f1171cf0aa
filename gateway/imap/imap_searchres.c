/* imap_searchres - RFC 5182 SEARCHRES: the result saved by SEARCH / SORT
 * RETURN (SAVE) is kept with the selected mailbox as UIDs (so expunges
 * drop out of it by themselves, RFC 5182 2.1) and "$" stands for it
 * wherever FETCH, STORE, COPY, MOVE, UID EXPUNGE and SEARCH take a
 * sequence set. It is empty after SELECT / EXAMINE (a new imap_mbox). */
#include "gateway/imap/imap_searchres.h"
#include "gateway/imap/imap_snapshot.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

/* Index of uid among the messages (UID order), or mb->n. */
static size_t find_uid(const struct imap_mbox *mb, uint32_t uid)
{
	size_t lo = 0, hi = mb->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mb->msgs[mid].uid < uid)
			lo = mid + 1;
		else if (mb->msgs[mid].uid > uid)
			hi = mid;
		else
			return mid;
	}
	return mb->n;
}

/* Ascending numbers v[n] as merged ranges. */
static void to_ranges(const unsigned *v, size_t n, struct imap_range **r_r, size_t *n_r)
{
	struct imap_range *r = n ? xcalloc(n, sizeof *r) : NULL;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (k > 0 && v[i] <= r[k - 1].hi + 1) {
			if (v[i] > r[k - 1].hi)
				r[k - 1].hi = v[i];
			continue;
		}
		r[k].lo = r[k].hi = v[i];
		k++;
	}
	*r_r = r;
	*n_r = k;
}

/* RFC 5182 4: seq-last-command "$" is a whole sequence set of its own. */
int imap_set_resolve(struct imap_mbox *mb, const char *set, bool uid, struct imap_range **r_r, size_t *n_r)
{
	unsigned *v;
	size_t k = 0;

	*r_r = NULL;
	*n_r = 0;
	if (set == NULL)
		return -1;
	if (strcmp(set, "$") != 0) {
		/* '*' is the last message the client was told exists */
		size_t known = mb->exists_sent < mb->n ? mb->exists_sent : mb->n;
		unsigned star = uid ? (known ? mb->msgs[known - 1].uid : 0) : (unsigned)known;

		return imap_seqset_parse(set, star, r_r, n_r);
	}
	v = xcalloc(mb->nsaved + 1, sizeof *v);
	for (size_t i = 0; i < mb->nsaved; i++) {
		size_t at = find_uid(mb, mb->saved[i]);

		if (at >= mb->exists_sent || at == mb->n || mb->msgs[at].expunged)
			continue;
		v[k++] = uid ? mb->saved[i] : (unsigned)(at + 1);
	}
	to_ranges(v, k, r_r, n_r);
	free(v);
	return 0;
}

/* qsort order of UIDs. */
static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* RFC 5182 2.1: the new saved result replaces the old one (kept as UIDs). */
void imap_searchres_save(struct imap_mbox *mb, const size_t *idx, size_t n)
{
	free(mb->saved);
	mb->saved = xcalloc(n + 1, sizeof *mb->saved);
	for (size_t i = 0; i < n; i++)
		mb->saved[i] = mb->msgs[idx[i]].uid;
	qsort(mb->saved, n, sizeof *mb->saved, uid_cmp);
	mb->nsaved = n;
}

/* imap_seqset - IMAP sequence sets (RFC 9051 9: sequence-set, seq-range,
 * seq-number) parsed into sorted, merged ranges. "$" (SEARCHRES, RFC 5182)
 * is not a sequence set here: handlers check for it first. */
#include "gateway/imap/imap_parser.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdlib.h>

#define SEQ_MAX 4294967295u   /* nz-number: at most 2^32-1 (RFC 9051 9) */

/* seq-number = nz-number / "*"; advances *sp. Returns 0 or -1. */
static int seq_number(const char **sp, unsigned star, unsigned *v_r)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (*s == '*') {
		*v_r = star;
		*sp = s + 1;
		return 0;
	}
	if (*s < '1' || *s > '9')    /* no 0, no leading zeros */
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > SEQ_MAX)
			return -1;
	}
	*v_r = (unsigned)v;
	*sp = s;
	return 0;
}

/* qsort order: by lower bound. */
static int range_cmp(const void *a, const void *b)
{
	const struct imap_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Parses a sequence set; '*' stands for star (a seq-range is unordered:
 * 5:2 = 2:5, RFC 9051 9). The result is sorted and merged, overlapping and
 * adjacent ranges joined. */
int imap_seqset_parse(const char *s, unsigned star, struct imap_range **ranges_r, size_t *n_r)
{
	struct imap_range *r;
	size_t n = 0, max = 1, out = 0;

	*ranges_r = NULL;
	*n_r = 0;
	if (s == NULL || *s == '\0')
		return -1;
	for (const char *c = s; *c != '\0'; c++)
		max += *c == ',';
	r = xmalloc(max * sizeof *r);
	for (;;) {
		unsigned a, b;

		if (seq_number(&s, star, &a) < 0)
			goto fail;
		b = a;
		if (*s == ':') {
			s++;
			if (seq_number(&s, star, &b) < 0)
				goto fail;
		}
		r[n].lo = a < b ? a : b;
		r[n].hi = a < b ? b : a;
		n++;
		if (*s == '\0')
			break;
		if (*s++ != ',')
			goto fail;
	}
	qsort(r, n, sizeof *r, range_cmp);
	for (size_t i = 1; i < n; i++) {
		if (r[i].lo <= r[out].hi || r[i].lo - 1 == r[out].hi) {
			if (r[i].hi > r[out].hi)
				r[out].hi = r[i].hi;
		} else {
			r[++out] = r[i];
		}
	}
	*n_r = out + 1;
	*ranges_r = xrealloc(r, *n_r * sizeof *r);
	return 0;
fail:
	free(r);
	return -1;
}

/* Binary search in normalised ranges. */
bool imap_seqset_contains(const struct imap_range *r, size_t n, unsigned v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v < r[mid].lo)
			hi = mid;
		else if (v > r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* imap_partial - RFC 9394 PARTIAL ranges (section 4 syntax, section 3.1
 * windows over a result list, section 3.3 the FETCH modifier). */
#include "gateway/imap/imap_partial.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One nz-number (RFC 9051 9: 1 .. 2^32-1) at *p, at most end; advances *p.
 * 0 or -1. */
static int nz_number(const char **p, const char *end, uint32_t *v_r)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s >= end || *s < '1' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
		s++;
	}
	*v_r = (uint32_t)v;
	*p = s;
	return 0;
}

int imap_partial_parse_text(const char *v, size_t len, struct imap_partial *p_r)
{
	const char *p = v, *end = v + len;
	uint32_t a, b;
	bool last = false;

	if (p < end && *p == '-') {
		last = true;
		p++;
	}
	if (nz_number(&p, end, &a) < 0 || p >= end || *p++ != ':')
		return -1;
	if (last && (p >= end || *p++ != '-'))
		return -1;   /* RFC 9394 4: both ends carry the sign, or neither */
	if (nz_number(&p, end, &b) < 0 || p != end)
		return -1;
	p_r->lo = a < b ? a : b;
	p_r->hi = a < b ? b : a;
	p_r->last = last;
	return 0;
}

int imap_partial_parse(const struct imap_arg *a, struct imap_partial *p_r)
{
	if (a == NULL || a->type != IMAP_ARG_ATOM || a->str == NULL)
		return -1;
	return imap_partial_parse_text(a->str, a->len, p_r);
}

void imap_partial_string(const struct imap_partial *p, struct buf *out)
{
	if (p->last)
		buf_printf(out, "-%u:-%u", p->lo, p->hi);
	else
		buf_printf(out, "%u:%u", p->lo, p->hi);
}

void imap_partial_window(const struct imap_partial *p, size_t n, size_t *from_r, size_t *count_r)
{
	size_t lo = p->lo, hi = p->hi;

	*from_r = 0;
	*count_r = 0;
	if (lo > n)
		return;
	if (hi > n)
		hi = n;
	/* first: positions lo..hi are indexes lo-1..hi-1; last: -1 is the
	 * last result, so -lo..-hi are indexes n-hi..n-lo */
	*from_r = p->last ? n - hi : lo - 1;
	*count_r = hi - lo + 1;
}

int imap_partial_modifier(const struct imap_arg *a, struct imap_arg *rest, struct imap_partial *p_r,
			  bool *has_r, const char **error_r)
{
	*has_r = false;
	memset(rest, 0, sizeof *rest);
	rest->type = IMAP_ARG_LIST;
	*error_r = "Invalid FETCH modifier";
	if (a->type != IMAP_ARG_LIST || a->count == 0)
		return -1;
	rest->list = xcalloc(a->count, sizeof *rest->list);
	for (size_t i = 0; i < a->count; i++) {
		const struct imap_arg *m = &a->list[i];

		if (m->type == IMAP_ARG_ATOM && strcasecmp(m->str, "PARTIAL") == 0) {
			if (*has_r || i + 1 >= a->count || imap_partial_parse(&a->list[i + 1], p_r) < 0) {
				*error_r = *has_r ? "Only one PARTIAL modifier is allowed" : "Invalid PARTIAL range";
				free(rest->list);
				rest->list = NULL;
				return -1;
			}
			*has_r = true;
			i++;
			continue;
		}
		rest->list[rest->count++] = *m;
	}
	return 0;
}

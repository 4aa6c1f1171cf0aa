/* imap_partial - RFC 9394 PARTIAL ranges: the argument of the PARTIAL
 * search return option (SEARCH, UID SEARCH, SORT, UID SORT) and of the
 * PARTIAL fetch modifier (FETCH, UID FETCH), and the window of a result
 * list they select. */
#ifndef EVM_IMAP_PARTIAL_H
#define EVM_IMAP_PARTIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "gateway/imap/imap_parser.h"

struct imap_partial {
	uint32_t lo, hi;    /* 1 <= lo <= hi: positions counted from the first (or the last) result */
	bool last;          /* partial-range-last: "-lo:-hi", counted from the last result */
};

/* RFC 9394 4: partial-range-first = nz-number ":" nz-number,
 * partial-range-last = "-" nz-number ":" "-" nz-number; the ends in any
 * order (500:400 = 400:500), 32-bit, no "*", no 0, no mixed signs. The
 * argument must be an atom. 0, or -1 when invalid. */
int imap_partial_parse(const struct imap_arg *a, struct imap_partial *p_r);
/* The same for the text of a range (len octets). */
int imap_partial_parse_text(const char *v, size_t len, struct imap_partial *p_r);
/* The range as it goes back in "PARTIAL (range ...)": "lo:hi" or "-lo:-hi". */
void imap_partial_string(const struct imap_partial *p, struct buf *out);
/* The window [*from_r, *from_r + *count_r) of a list of n results the
 * range selects (RFC 9394 3.1: results outside the list are left out;
 * count 0 when none). */
void imap_partial_window(const struct imap_partial *p, size_t n, size_t *from_r, size_t *count_r);
/* The FETCH modifier list a (RFC 9394 3.3, RFC 4466 fetch-modifiers):
 * takes "PARTIAL range" out (at most one) into *p_r / *has_r and leaves
 * the other modifiers in rest (rest->list is malloc'ed, free it; its
 * elements are borrowed from a). 0, or -1 with *error_r (BAD). */
int imap_partial_modifier(const struct imap_arg *a, struct imap_arg *rest, struct imap_partial *p_r,
			  bool *has_r, const char **error_r);

#endif

/* imap_esearch - RETURN options and ESEARCH (RFC 4731, 5182, 5267)
 * (imap_esearch.c) */
#ifndef EVM_IMAP_ESEARCH_H
#define EVM_IMAP_ESEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/imap/imap_partial.h"
#include "gateway/imap/imap_parser.h"

struct imap_session;
enum { IMAP_RET_MIN = 1, IMAP_RET_MAX = 2, IMAP_RET_COUNT = 4, IMAP_RET_ALL = 8,
       IMAP_RET_SAVE = 16, IMAP_RET_PARTIAL = 32, IMAP_RET_UPDATE = 64, IMAP_RET_CONTEXT = 128 };
struct imap_ret {
	unsigned opts;           /* IMAP_RET_*; 0 after "RETURN ()" means ALL */
	struct imap_partial partial;   /* PARTIAL range (RFC 9394 4) */
	bool modseq;             /* the criteria used MODSEQ: add "MODSEQ n" (RFC 7162 3.1.5) */
};
/* "RETURN (...)" at args[0]: 1 (two arguments used), 0 absent, -1 invalid
 * (*error_r for BAD). */
int imap_return_parse(const struct imap_arg *args, size_t n, struct imap_ret *ret, const char **error_r);
/* true for the charsets searched (UTF-8, US-ASCII). */
bool imap_charset_ok(const char *cs);
/* Indexes (ascending, malloc'ed) of the messages matching the criteria,
 * expunged ones left out. 0, or -1 with *error_r (BAD). */
int imap_search_run(struct imap_session *s, const struct imap_arg *args, size_t n, size_t **idx_r,
		    size_t *n_r, const char **error_r);
/* SAVE, then "* ESEARCH ..." unless SAVE is the only option, for the
 * result idx[n] in result order (sorted: SORT's order, else ascending). */
void imap_esearch_result(struct imap_session *s, const size_t *idx, size_t n, const struct imap_ret *ret,
			 bool sorted);
/* The MODSEQ of a SEARCH result (idx[n]; opts IMAP_RET_*; imin/imax: the
 * MIN and MAX messages' indexes) (RFC 7162 3.1.5). */
int64_t imap_result_modseq(struct imap_session *s, const size_t *idx, size_t n, unsigned opts, size_t imin,
			   size_t imax);

#endif

/* imap_search - SEARCH criteria: parsed once, matched against the selected
 * mailbox's messages (imap_search.c) */
#ifndef EVM_IMAP_SEARCH_H
#define EVM_IMAP_SEARCH_H

#include <stddef.h>

#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_snapshot.h"

struct imap_session;
struct imap_search;
/* Parses SEARCH criteria (args from the first key on). 0, or -1 with
 * *error_r (BAD). */
int imap_search_parse(const struct imap_arg *args, size_t n, struct imap_mbox *mb,
		      struct imap_search **sr, const char **error_r);
/* 1 matches, 0 not, -1 error reading the view. */
int imap_search_match(struct imap_session *s, struct imap_search *sr, size_t idx);
void imap_search_free(struct imap_search **sr);
/* 1 when the criteria use MODSEQ (RFC 7162 3.1.5). */
int imap_search_uses_modseq(const struct imap_search *sr);

#endif

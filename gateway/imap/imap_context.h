/* imap_context - RFC 5267 4.3 UPDATE contexts of SEARCH and SORT
 * (imap_context.c) */
#ifndef EVM_IMAP_CONTEXT_H
#define EVM_IMAP_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_snapshot.h"

struct imap_session;
struct imap_uctx;
/* After SEARCH / SORT with RETURN (UPDATE): keeps the criteria (crit: the
 * SORT criteria list, NULL for SEARCH) and the result idx[n] in result
 * order (UIDs or sequence numbers, as the command used); sends "* NO
 * [NOUPDATE ..]" instead past the limit. */
void imap_context_add(struct imap_session *s, const struct imap_arg *crit, const struct imap_arg *keys,
		      size_t nkeys, const size_t *idx, size_t n);
/* true when tag names a live context (UPDATE with that tag is BAD). */
bool imap_context_tag_used(struct imap_mbox *mb, const char *tag);
/* CANCELUPDATE: ends the context of tag (RFC 5267 4.3.1); none: nothing. */
void imap_context_cancel(struct imap_mbox *mb, const char *tag);
/* Sends ADDTO / REMOVEFROM for every context whose result changed, over
 * the messages the client knows (called before EXPUNGE and after EXISTS). */
void imap_context_report(struct imap_session *s);
void imap_context_free_all(struct imap_mbox *mb);

#endif

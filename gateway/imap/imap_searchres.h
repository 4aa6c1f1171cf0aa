/* imap_searchres - RFC 5182 SEARCHRES: the saved result "$"
 * (imap_searchres.c) */
#ifndef EVM_IMAP_SEARCHRES_H
#define EVM_IMAP_SEARCHRES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_snapshot.h"

/* A sequence set (uid: a UID set) that may be "$", the saved result, as
 * ranges like imap_seqset_parse's (malloc'ed; none for an empty "$").
 * 0, or -1 on a syntax error. */
int imap_set_resolve(struct imap_mbox *mb, const char *set, bool uid, struct imap_range **r_r, size_t *n_r);
/* Replaces the saved result by the UIDs of the messages idx[n]. */
void imap_searchres_save(struct imap_mbox *mb, const size_t *idx, size_t n);

#endif

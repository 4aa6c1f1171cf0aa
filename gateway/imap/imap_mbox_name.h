/* imap_mbox_name - mailbox names on the wire: modified UTF-7 for IMAP4rev1,
 * UTF-8 otherwise (imap_mbox_name.c) */
#ifndef EVM_IMAP_MBOX_NAME_H
#define EVM_IMAP_MBOX_NAME_H

#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"
#include "gateway/imap/imap_parser.h"

struct imap_session;
int imap_names_mutf7(const struct imap_session *s);
/* A name or pattern from the client as UTF-8 (v, or decoded into tmp);
 * NULL when invalid for the session's encoding. */
const char *imap_name_in(struct imap_session *s, const char *v, struct buf *tmp);
/* imap_mailbox_arg after decoding modified UTF-7 when the session uses it. */
int imap_mailbox_arg_s(struct imap_session *s, const struct imap_arg *a, char *out, size_t size);
/* imap_quote of a mailbox name, modified UTF-7 when the session uses it. */
void imap_quote_mailbox(struct imap_session *s, struct buf *out, const char *name);
/* imap_list_pattern of a reference and pattern in the session's encoding. */
char *imap_list_pattern_s(struct imap_session *s, const char *ref, const char *pat);
/* The mailbox record of name: 1, or 0 after answering NO [nocode] (or
 * [SERVERBUG] on a view error). */
int imap_mailbox_find(struct imap_session *s, const char *name, json_t **box_r, const char *nocode);

#endif

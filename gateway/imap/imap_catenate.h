/* imap_catenate - the message a CATENATE parts list builds (RFC 4469)
 * (imap_catenate.c) */
#ifndef EVM_IMAP_CATENATE_H
#define EVM_IMAP_CATENATE_H

#include "common/buf.h"
#include "gateway/imap/imap_parser.h"

struct imap_session;
/* imap_catenate.c: appends the message the CATENATE parts list (RFC 4469)
 * builds to out: 0, or -1 after answering NO [BADURL]/[TOOBIG] or BAD. */
int imap_catenate(struct imap_session *s, const struct imap_arg *parts, struct buf *out);

#endif

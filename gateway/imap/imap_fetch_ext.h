/* imap_fetch_ext - FETCH EMAILID, THREADID, SAVEDATE and PREVIEW
 * (imap_fetch_ext.c) */
#ifndef EVM_IMAP_FETCH_EXT_H
#define EVM_IMAP_FETCH_EXT_H

#include <jansson.h>

#include "common/buf.h"

/* imap_fetch_ext.c: FETCH EMAILID, THREADID (RFC 8474), SAVEDATE (RFC 8514),
 * PREVIEW (RFC 8970) of a message record and its summary. */
enum imap_fetch_ext { IMAP_FX_EMAILID, IMAP_FX_THREADID, IMAP_FX_SAVEDATE, IMAP_FX_PREVIEW };
void imap_fetch_ext_render(struct buf *out, enum imap_fetch_ext which, json_t *rec, json_t *summary);

#endif

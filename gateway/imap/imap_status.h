/* imap_status - STATUS items of a mailbox record (RFC 9051 7.3.2)
 * (imap_status.c) */
#ifndef EVM_IMAP_STATUS_H
#define EVM_IMAP_STATUS_H

#include <jansson.h>
#include <stddef.h>

#include "gateway/imap/imap_parser.h"

struct imap_session;
/* imap_status.c: 0 when every STATUS item is known, else -1 (BAD). */
int imap_status_check(const struct imap_arg *items, size_t n);
/* "* STATUS name (item value ...)" of a mailbox record (RFC 9051 7.3.2). */
void imap_status_line(struct imap_session *s, json_t *box, const struct imap_arg *items, size_t n);

#endif

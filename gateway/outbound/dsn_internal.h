/* dsn_internal - helpers shared by dsn_compose.c, dsn_send.c and their
 * tests (gateway/outbound only). */
#ifndef EVM_DSN_INTERNAL_H
#define EVM_DSN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/outbound/dsn.h"

/* RFC 5322 3.3 date-time in UTC: "Sun, 06 Dec 2026 21:55:39 +0000". */
void dsn_format_date(int64_t ms, char out[40]);
/* 1 when s has an octet >= 0x80. */
int dsn_has_8bit(const char *s, size_t len);
/* Length of msg's header block including the CRLF that ends its last
 * field (not the empty line); len when msg has no body. */
size_t dsn_header_len(const char *msg, size_t len);
/* 1 when the report carries the whole original (failure, RET not HDRS). */
int dsn_wants_full(const struct dsn_request *req);
/* 1 when an address of the report is UTF-8 (RFC 6533 global types). */
int dsn_needs_utf8(const struct dsn_request *req);

#endif

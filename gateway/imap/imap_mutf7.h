/* imap_mutf7 - modified UTF-7 mailbox names (RFC 3501 5.1.3), for
 * IMAP4rev1 clients that have not enabled UTF8=ACCEPT (RFC 6855 3): the
 * view keeps names in UTF-8; names are converted where they cross the
 * wire (imap_mbox_name.c).
 *
 * Printable US-ASCII except '&' stands for itself, '&' is "&-", any other
 * run of characters is "&" + modified base64 (',' for '/', no padding) of
 * its UTF-16BE form + "-". Decoding is strict: 8-bit or control octets,
 * an unterminated or empty run, a run that encodes printable ASCII, bad
 * surrogates or non-zero leftover bits are errors. */
#ifndef EVM_IMAP_MUTF7_H
#define EVM_IMAP_MUTF7_H

#include "common/buf.h"

/* UTF-8 to modified UTF-7, appended to out. 0, or -1 when utf8 is not
 * valid UTF-8 (out then holds a partial result). */
int imap_mutf7_encode(const char *utf8, struct buf *out);
/* Modified UTF-7 to UTF-8, appended to out. 0 or -1. */
int imap_mutf7_decode(const char *mutf7, struct buf *out);
/* 1 when s has an octet >= 0x80. */
int imap_has_8bit(const char *s);

#endif

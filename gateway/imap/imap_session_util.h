/* imap_session_util - small helpers of the command handlers: argument
 * values, mailbox names, quoting, flag lists, mod-sequences and UID ranges
 * (imap_session_util.c) */
#ifndef EVM_IMAP_SESSION_UTIL_H
#define EVM_IMAP_SESSION_UTIL_H

#include <jansson.h>
#include <stdint.h>

#include "common/buf.h"
#include "gateway/imap/imap_parser.h"

struct imap_session;

/* Argument helpers: the string value of an atom, quoted string or
 * literal (NULL for NIL and lists). */
const char *imap_arg_str(const struct imap_arg *a);
/* An astring that names a mailbox, canonical ("inbox" -> "INBOX", a
 * trailing '/' removed) into out. 0, or -1 (invalid name). */
int imap_mailbox_arg(const struct imap_arg *a, char *out, size_t size);
/* Appends the flags of a flag or a flag list (STORE, APPEND) to arr, system
 * flags in canonical case, \Recent dropped. 0, or -1 for an invalid flag. */
int imap_flag_list(const struct imap_arg *a, json_t *arr);
/* A mod-sequence-value (1*DIGIT <= 2^63-1; zero only when allow_zero). 0 or -1. */
int imap_modseq_arg(const struct imap_arg *a, int allow_zero, uint64_t *v_r);
/* The mailbox's IMAP name quoted for a response. */
void imap_quote(struct buf *out, const char *s);
/* "1:3,7" of a [[lo,hi]...] array. */
void imap_ranges_string(json_t *ranges, struct buf *out);

/* Opens an untagged FETCH response for message seq (1-based) with this
 * UID: "* seq FETCH (", or "* uid UIDFETCH (" once UIDONLY is on (RFC 9586 3). */
void imap_fetch_open(const struct imap_session *s, struct buf *out, size_t seq, uint32_t uid);

#endif

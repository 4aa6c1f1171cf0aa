/* mime - a streaming MIME parser (RFC 5322, 2045-2047, 2231) that turns a
 * message into the summary the view keeps, so no later read re-parses it.
 *
 * Push interface: feed the raw message in pieces of any size (a byte at a
 * time gives the same result as all at once), then finish. Mail is never
 * refused for bad MIME: whatever cannot be parsed is described as well as
 * it can be (e.g. a multipart without its closing boundary ends at the end
 * of the message; an unparseable Content-Type is text/plain). Limits cap
 * nesting depth, part count and header size; past a limit the rest is
 * treated as an opaque body and "truncated" is set.
 *
 * THE SUMMARY (JSON, keys sorted when encoded; offsets are byte offsets
 * into the message as fed; "raw" strings are the header value as it was,
 * unfolded (CRLF+WSP -> WSP) but not decoded, as IMAP ENVELOPE wants;
 * "decoded" strings are RFC 2047-decoded and converted to UTF-8):
 * {
 *   "size": octets, "lines": number of lines,
 *   "truncated": bool,
 *   "envelope": {                                  RFC 9051 7.5.2 ENVELOPE
 *     "date": raw|null, "subject": raw|null,
 *     "from": [addr], "sender": [addr], "reply_to": [addr],
 *     "to": [addr], "cc": [addr], "bcc": [addr],
 *     "in_reply_to": raw|null, "message_id": raw|null },
 *       addr = {"name": raw|null, "adl": null, "mailbox": raw|null, "host": raw|null}
 *       (a group is {"mailbox":"name","host":null,...} ... {"mailbox":null,"host":null})
 *       sender / reply_to default to from when absent (as IMAP requires).
 *   "headers": {                                    for JMAP and search
 *     "subject": decoded|null, "date": ms since epoch|null (RFC 5322 3.3),
 *     "from"|"sender"|"reply_to"|"to"|"cc"|"bcc": [{"name": decoded|null, "email": "l@d"}],
 *     "message_id": ["id"...], "in_reply_to": ["id"...], "references": ["id"...]
 *       (ids without angle brackets) },
 *   "thread": {"base_subject": RFC 5256 2.1 base subject (decoded, UTF-8)},
 *   "preview": first 256 characters of the first text/plain part (else
 *              text/html with tags stripped), decoded, whitespace folded,
 *   "has_attachment": bool (a part with disposition attachment, or a
 *              non-text leaf that is not inline),
 *   "part": part
 * }
 * part = {
 *   "type": "text", "subtype": "plain" (lower case; default text/plain,
 *           message/rfc822 inside multipart/digest),
 *   "params": {"charset": "utf-8", ...} (names lower case; RFC 2231
 *           continuations joined and charset-decoded to UTF-8),
 *   "id": raw|null, "description": raw|null, "encoding": "7bit" (lower case),
 *   "md5": raw|null, "language": [..]|null, "location": raw|null,
 *   "disposition": {"type": "attachment", "params": {...}}|null,
 *   "header": [start, end]   the part's header block incl. the blank line,
 *   "body": [start, end]     the part's body (for multipart: between the
 *                            header and the end of the part),
 *   "size": body octets, "lines": body lines,
 *   "parts": [part...]       multipart only (children in order),
 *   "message": {"envelope": {...}, "part": part}   message/rfc822 only
 * }
 */
#ifndef EVM_MIME_H
#define EVM_MIME_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct mime_limits {
	unsigned max_depth;        /* nesting of multiparts/messages; default 32 */
	unsigned max_parts;        /* default 1000 */
	size_t max_header_bytes;   /* one part's header block; default 256 KiB */
};

struct mime_parser;

/* limits NULL: defaults. */
struct mime_parser *mime_parser_new(const struct mime_limits *limits);
void mime_parser_feed(struct mime_parser *p, const void *data, size_t len);
/* Ends the input and returns the summary (new reference). Never NULL. */
json_t *mime_parser_finish(struct mime_parser *p);
void mime_parser_free(struct mime_parser **p);

/* One-shot convenience. */
json_t *mime_parse(const void *data, size_t len, const struct mime_limits *limits);

/* RFC 2047 decoding of an unfolded header value into malloc'ed UTF-8.
 * Unknown charsets and bad encodings are kept as the raw text. */
char *mime_decode_header(const char *raw, size_t len);
/* Converts text in charset to malloc'ed UTF-8 (iconv); invalid sequences
 * become U+FFFD. Returns 0, or -1 for an unknown charset. */
int mime_to_utf8(const char *charset, const void *in, size_t len, char **out_r, size_t *len_r);
/* Appends the UTF-8 text of a part's body in[len] to out: the transfer
 * encoding ("base64", "quoted-printable", else none) undone, then the
 * charset converted (NULL or unknown: UTF-8 kept, else Windows-1252). */
/* Days since 1970-01-01 of a civil date (proleptic Gregorian; m 1-12). */
int64_t mime_days_from_civil(int64_t y, int m, int d);

struct buf;
/* Appends in[len] to out with the transfer encoding ("base64",
 * "quoted-printable") undone, leniently; any other encoding as it is. */
void mime_transfer_decode(const char *encoding, const char *in, size_t len, struct buf *out);
void mime_body_text(const char *encoding, const char *charset, const char *in, size_t len, struct buf *out);
/* RFC 5256 section 2.1 base subject of a decoded subject; malloc'ed. */
char *mime_base_subject(const char *subject);

#endif

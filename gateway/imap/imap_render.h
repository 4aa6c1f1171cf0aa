/* imap_render - FETCH data from what the view stores: ENVELOPE,
 * BODYSTRUCTURE / BODY, BODY[section]<partial>, BINARY[section] and
 * BINARY.SIZE (RFC 9051 6.4.5, 7.5.2; RFC 3516), rendered as IMAP syntax.
 *
 * Inputs: the MIME summary of the message's BLOB (common/mime.h: offsets
 * are relative to the blob) and the stored message bytes = prefix + blob
 * (projector/mail.h). prefix_len shifts every offset, except that the top
 * level header starts at 0 (the prefix is header lines of the message).
 * Strings are rendered as quoted strings when safe, else as literals; NIL
 * for null. A multipart with no children (see mime.h) is presented as
 * text/plain, a message/rfc822 part without "message" as a plain leaf. */
#ifndef EVM_IMAP_RENDER_H
#define EVM_IMAP_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* An IMAP string: quoted if it can be, else a literal; NULL -> NIL.
 * A literal is used for more than 1024 octets, for CR, LF or NUL, and for
 * any 8-bit octet: IMAP4rev1 quoted strings are 7-bit only, and a literal
 * is valid for rev1 and rev2 clients alike (whether or not they enabled
 * UTF8=ACCEPT). '"' and '\\' are escaped in quoted strings. */
void imap_render_string(struct buf *out, const char *s, size_t len);
void imap_render_nstring(struct buf *out, const char *s);   /* NULL -> NIL */

/* v in decimal, without printf (imap_render_num.c). */
void imap_render_uint(struct buf *out, uint64_t v);

void imap_render_envelope(struct buf *out, json_t *envelope);
/* extensible: BODYSTRUCTURE (with extension data) vs BODY. Values as the
 * summary stores them (type, subtype, encoding in lower case); parameters
 * sorted by name, so a stored summary renders like a fresh one; empty
 * parameter lists are NIL. prefix_len changes nothing (sizes are bodies). */
void imap_render_bodystructure(struct buf *out, json_t *summary, size_t prefix_len, bool extensible);

enum imap_section_kind {
	IMAP_SECTION_ALL,            /* BODY[] or BODY[1.2] */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_HEADER_FIELDS,
	IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME,
};

#define IMAP_SECTION_DEPTH_MAX 32
#define IMAP_SECTION_FIELDS_MAX 64

struct imap_section {
	unsigned part[IMAP_SECTION_DEPTH_MAX];   /* "1.2" -> {1,2}, depth 2 */
	unsigned depth;
	enum imap_section_kind kind;
	char *fields[IMAP_SECTION_FIELDS_MAX];   /* upper-cased header names */
	size_t nfields;
	bool partial;                            /* <offset.length> given */
	uint64_t offset, length;                 /* number64 (RFC 9051 9) */
};

/* Parses the text between '[' and ']' (e.g. "1.2.HEADER.FIELDS (From To)";
 * keywords case-insensitive; field names atoms or quoted strings) and an
 * optional partial: NULL or "" for none, else the NUL-terminated text
 * including the angle brackets, e.g. "<0.100>" (length must be non-zero;
 * values up to 2^63-1: IMAP4rev1's 32-bit limit is the caller's). Returns 0, or -1 (BAD; nothing to
 * free). On 0, call imap_section_free(). */
int imap_section_parse(const char *spec, size_t len, const char *partial, struct imap_section *sec_r);
void imap_section_free(struct imap_section *sec);
/* Appends the section's octets to out. The <partial> range is NOT applied:
 * the session cuts [offset, offset+length) from the result and answers
 * BODY[...]<offset> (RFC 9051 6.4.5). BODY[] and BODY[HEADER] include the
 * prefix; BODY[n] / n.MIME / n.TEXT never do, except part 1 of a
 * non-multipart message, whose MIME header is the message header.
 * HEADER.FIELDS[.NOT] return the matching fields as stored (folded), in
 * message order, then the header's blank line (if it has one).
 * Returns 0; 1 when the part does not exist, or when HEADER / TEXT /
 * HEADER.FIELDS follow a part that is not a parsed message/rfc822 (the
 * answer is an empty string); -1 when the summary does not fit the message
 * (a broken view: log it). out is untouched unless 0 is returned. */
int imap_section_fetch(const char *msg, size_t msg_len, size_t prefix_len, json_t *summary,
		       const struct imap_section *sec, struct buf *out);
/* BINARY[section]: the part's body with its Content-Transfer-Encoding
 * decoded (base64, quoted-printable; 7bit, 8bit, binary as they are);
 * BINARY[] is the whole message. BINARY.SIZE is out->len. Returns 0, 1 for
 * no such part, -2 for an unknown encoding (the server answers NO
 * [UNKNOWN-CTE]), -1 for a section that is not part numbers only (BAD) or
 * a summary that does not fit the message. <partial> is the caller's. */
int imap_binary_fetch(const char *msg, size_t msg_len, size_t prefix_len, json_t *summary,
		      const struct imap_section *sec, struct buf *out);

#endif

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

/* An IMAP string: quoted if it can be, else a literal; NULL -> NIL. */
void imap_render_string(struct buf *out, const char *s, size_t len);
void imap_render_nstring(struct buf *out, const char *s);   /* NULL -> NIL */

void imap_render_envelope(struct buf *out, json_t *envelope);
/* extensible: BODYSTRUCTURE (with extension data) vs BODY. */
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
	uint32_t offset, length;
};

/* Parses the text between '[' and ']' (e.g. "1.2.HEADER.FIELDS (From To)")
 * and an optional "<o.l>" suffix. Returns 0, or -1 (BAD). */
int imap_section_parse(const char *spec, size_t len, const char *partial, struct imap_section *sec_r);
void imap_section_free(struct imap_section *sec);
/* Appends the section's octets (before <partial> is applied) to out.
 * Returns 0; 1 when the part does not exist (RFC: the result is an empty
 * string); -1 for a section that cannot apply (e.g. HEADER of a leaf that
 * is not message/rfc822 is still valid per RFC 9051 6.4.5 — follow it). */
int imap_section_fetch(const char *msg, size_t msg_len, size_t prefix_len, json_t *summary,
		       const struct imap_section *sec, struct buf *out);
/* BINARY[section]: the part's body with its Content-Transfer-Encoding
 * decoded. Returns 0, 1 for no such part, -2 for an unknown encoding
 * (the server answers NO [UNKNOWN-CTE]). */
int imap_binary_fetch(const char *msg, size_t msg_len, size_t prefix_len, json_t *summary,
		      const struct imap_section *sec, struct buf *out);

#endif

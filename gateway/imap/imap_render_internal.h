/* imap_render_internal - helpers shared by the imap_render*.c and
 * imap_section*.c files (not for other modules). */
#ifndef EVM_IMAP_RENDER_INTERNAL_H
#define EVM_IMAP_RENDER_INTERNAL_H

#include "gateway/imap/imap_render.h"

/* Deeper part trees are not recursed into (mime.h caps nesting at 32 by
 * default; this guards summaries from elsewhere). */
#define IMAP_RENDER_DEPTH_MAX 64

/* A JSON string as an IMAP string; anything else (null, missing) -> NIL. */
void imap_render_json_nstring(struct buf *out, json_t *v);

/* Whether the part is a multipart with at least one child (a multipart
 * without children is presented as text/plain, see imap_render.h). */
bool imap_part_has_children(json_t *part);
/* The encapsulated message's top part of a message/rfc822 (or global) part
 * that has one, else NULL. */
json_t *imap_part_message(json_t *part);

/* A part found by its section numbers (RFC 9051 6.4.5). */
struct imap_part_ref {
	json_t *part;
	bool top;     /* the message's own top-level part (header starts at 0) */
};

/* Walks part numbers from the summary's top part. Returns 0 and the part,
 * 1 when no such part exists. depth 0 gives the top part. */
int imap_section_find(json_t *summary, const unsigned *nums, unsigned depth, struct imap_part_ref *ref_r);

/* The absolute byte range [*a_r, *b_r) of a part's "header" or "body" in
 * the stored message (prefix + blob): blob offsets are shifted by
 * prefix_len, except that the top part's header starts at 0. Returns 0, or
 * -1 when the summary's range is missing or outside the message. */
int imap_part_range(json_t *part, bool top, const char *key, size_t msg_len, size_t prefix_len,
		    size_t *a_r, size_t *b_r);

#endif

/* jmap_mime_fold - one header field built from tokens, folded at 78
 * octets between tokens and never over 998 (RFC 5322 2.1.1, 2.2.3), and
 * RFC 2047 encoded-words; shared only by the jmap_mime_* writers. A field
 * that went wrong leaves the output as it was (jmap_fold_end). */
#ifndef EVM_JMAP_MIME_FOLD_H
#define EVM_JMAP_MIME_FOLD_H

#include <stddef.h>

#include "common/buf.h"

struct jmap_fold {
	struct buf *out;
	size_t start, col;
	size_t ntok;           /* tokens written so far */
	const char *error;
};

/* Starts "Name:"; an invalid name fails the field. */
void jmap_fold_begin(struct jmap_fold *f, struct buf *out, const char *name);
/* Adds " token", folding before it when the line would pass 78 octets
 * (never before the first token: that would leave an empty first line). */
void jmap_fold_tok(struct jmap_fold *f, const char *t, size_t len);
/* Appends s to the last token (a separator that must not be folded off). */
void jmap_fold_stick(struct jmap_fold *f, const char *s);
/* RFC 2047 encoded-words ("B", utf-8) for s[len], as tokens; chunks end
 * on UTF-8 character boundaries. */
void jmap_fold_encoded(struct jmap_fold *f, const char *s, size_t len);
/* Ends the field with CRLF: 0, or -1 with *error_r (out as it was). */
int jmap_fold_end(struct jmap_fold *f, const char **error_r);

#endif

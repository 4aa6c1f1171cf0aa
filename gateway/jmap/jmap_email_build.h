/* jmap_email_build - an Email creation object (RFC 8621 4.6) written as
 * a MIME message (jmap_mime_write.h): the header fields from the
 * convenience properties (messageId, inReplyTo, references, sender, from,
 * to, cc, bcc, replyTo, subject, sentAt) and header:* properties, the
 * body from bodyStructure or from textBody / htmlBody / attachments with
 * bodyValues; Date and Message-ID added when absent, MIME-Version always.
 *
 * textBody and htmlBody become multipart/alternative when both are
 * given; attachments that are inline with a cid go with the HTML in
 * multipart/related; the rest make a multipart/mixed.
 *
 * Pure: no view, no clock, no randomness (the caller gives the date, the
 * Message-ID and how to read blobs), so it is fuzzed whole
 * (fuzz_jmap_mime_write.c). mailboxIds, keywords and receivedAt are the
 * caller's (they are not part of the message) and are skipped here. */
#ifndef EVM_JMAP_EMAIL_BUILD_H
#define EVM_JMAP_EMAIL_BUILD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* The bytes behind a part's blobId: 1 with *data_r (malloc'ed), 0 when
 * there is no such blob (for this account), -1 on a read error. */
typedef int jmap_blob_fetch_fn(void *ctx, const char *blob_id, char **data_r, size_t *len_r,
			       const char **error_r);

struct jmap_email_build_params {
	jmap_blob_fetch_fn *fetch;
	void *fetch_ctx;
	int64_t now_ms;            /* the Date when the object gives none */
	const char *message_id;    /* the Message-ID (no brackets) when it gives none */
	size_t max_size;           /* of the whole message; 0: no limit */
	unsigned max_parts;        /* body parts; 0: 100 */
	unsigned max_depth;        /* subParts nesting; 0: 10 */
};

/* Writes email as a message appended to out: 0, or -1 with *err_r a
 * SetError (new reference): invalidProperties with the offending
 * properties, blobNotFound with notFound (RFC 8621 4.6), tooLarge, or
 * serverFail when a blob cannot be read. */
int jmap_email_build(const json_t *email, const struct jmap_email_build_params *p, struct buf *out,
		     json_t **err_r);

#endif

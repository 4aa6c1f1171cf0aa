/* smtp_data - the message content state machine: DATA (RFC 5321 4.1.1.4,
 * 4.5.2) and BDAT chunks (RFC 3030).
 *
 * DATA mode ends ONLY at <CRLF>.<CRLF> (the CRLF of the DATA command line
 * counts as the first one), so none of the SMTP smuggling variants (<LF>.<LF>,
 * <CR>.<CR>, <LF>.<CRLF>, <CRLF>.<LF>, <CR>.<LF>, ...) ends it. A leading dot
 * of a line is removed (4.5.2). A CR not followed by LF or an LF not preceded
 * by CR anywhere sets bare_crlf: the caller rejects the message at its end
 * (RFC 5321 2.3.8). RAW mode (BDAT) does no dot processing and never ends by
 * itself; the same checks apply across chunks.
 *
 * The content goes to the caller's buffer while it fits in max_size; past
 * that, the buffer is emptied, too_big is set and the rest is only counted.
 * Never touches a socket, the log or the view. */
#ifndef EVM_SMTP_DATA_H
#define EVM_SMTP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum smtp_data_mode { SMTP_DATA_DOT, SMTP_DATA_RAW };

struct smtp_data {
	enum smtp_data_mode mode;
	int state;
	struct buf *out;            /* borrowed: receives the unstuffed content */
	size_t max_size;
	size_t max_line;            /* longest line including CRLF */
	size_t line_len;
	uint64_t size;              /* content octets seen (also past the limit) */
	int bare_crlf;              /* a bare CR or LF was seen */
	int too_big;                /* size > max_size: out was emptied */
	int line_too_long;
};

void smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode, struct buf *out,
		    size_t max_size, size_t max_line);
/* Consumes bytes of in (*consumed_r); returns 1 when DATA's end line was
 * consumed (the bytes after it are not), else 0 (all of in consumed).
 * RAW mode always consumes everything and returns 0. */
int smtp_data_feed(struct smtp_data *d, const unsigned char *in, size_t len, size_t *consumed_r);
/* RAW mode, after the LAST chunk: a trailing CR counts as bare. */
void smtp_data_finish(struct smtp_data *d);

#endif

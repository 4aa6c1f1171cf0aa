/* mime_bodytext - a text part's body as UTF-8: its transfer encoding
 * (RFC 2045 6.7, 6.8) undone, then its charset converted (for search). */
#include "common/mime_internal.h"

#include <strings.h>

/* Appends the decoded UTF-8 text of a part's body in[len] to out. */
void mime_transfer_decode(const char *encoding, const char *in, size_t len, struct buf *out)
{
	if (encoding != NULL && strcasecmp(encoding, "base64") == 0)
		mime_base64_decode(in, len, out);
	else if (encoding != NULL && strcasecmp(encoding, "quoted-printable") == 0)
		mime_qp_decode(in, len, out);
	else
		buf_append(out, in, len);
}

void mime_body_text(const char *encoding, const char *charset, const char *in, size_t len, struct buf *out)
{
	struct buf dec = BUF_INIT;

	mime_transfer_decode(encoding, in, len, &dec);
	if (dec.len > 0) {
		if (charset != NULL && charset[0] != '\0')
			mime_charset_append(out, charset, dec.data, dec.len);
		else
			mime_text_append(out, dec.data, dec.len);
	}
	buf_free(&dec);
}

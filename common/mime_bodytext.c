/* mime_bodytext - a text part's body as UTF-8: its transfer encoding
 * (RFC 2045 6.7, 6.8) undone, then its charset converted (for search). */
#include "common/mime_internal.h"

#include <strings.h>

/* Appends the decoded UTF-8 text of a part's body in[len] to out. */
void mime_body_text(const char *encoding, const char *charset, const char *in, size_t len, struct buf *out)
{
	struct buf dec = BUF_INIT;
	const char *t = in;
	size_t tl = len;

	if (encoding != NULL && strcasecmp(encoding, "base64") == 0) {
		mime_base64_decode(in, len, &dec);
		t = dec.data;
		tl = dec.len;
	} else if (encoding != NULL && strcasecmp(encoding, "quoted-printable") == 0) {
		mime_qp_decode(in, len, &dec);
		t = dec.data;
		tl = dec.len;
	}
	if (tl > 0) {
		if (charset != NULL && charset[0] != '\0')
			mime_charset_append(out, charset, t, tl);
		else
			mime_text_append(out, t, tl);
	}
	buf_free(&dec);
}

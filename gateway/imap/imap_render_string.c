/* imap_render_string - IMAP strings (RFC 9051 4.3): quoted when the bytes
 * allow it, else a literal.
 *
 * A literal is used for strings longer than IMAP_RENDER_QUOTED_MAX, for
 * CR, LF and NUL (no quoted string can hold them) and for any 8-bit byte:
 * IMAP4rev1 (RFC 3501) quoted strings are 7-bit only, and a rev2 client or
 * a rev1 client that did not ENABLE UTF8=ACCEPT still reads a literal, so a
 * literal is correct for every client without knowing which it is. */
#include "gateway/imap/imap_render_internal.h"

#include <string.h>

#define IMAP_RENDER_QUOTED_MAX 1024

/* Whether s[0..len) can be a quoted string. */
static bool quotable(const char *s, size_t len)
{
	if (len > IMAP_RENDER_QUOTED_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0' || c == '\r' || c == '\n' || c >= 0x80)
			return false;
	}
	return true;
}

/* An IMAP string: quoted (with " and \ escaped) or a literal; NULL -> NIL. */
void imap_render_string(struct buf *out, const char *s, size_t len)
{
	size_t run = 0;

	if (s == NULL) {
		buf_puts(out, "NIL");
		return;
	}
	if (!quotable(s, len)) {
		buf_printf(out, "{%zu}\r\n", len);
		buf_append(out, s, len);
		return;
	}
	buf_reserve(out, len + 2);
	buf_append(out, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			buf_append(out, s + run, i - run);
			buf_append(out, "\\", 1);
			run = i;
		}
	}
	buf_append(out, s + run, len - run);
	buf_append(out, "\"", 1);
}

/* A C string, or NIL for NULL. */
void imap_render_nstring(struct buf *out, const char *s)
{
	imap_render_string(out, s, s != NULL ? strlen(s) : 0);
}

/* A JSON string (which may hold NULs: its length is used), else NIL. */
void imap_render_json_nstring(struct buf *out, json_t *v)
{
	if (!json_is_string(v)) {
		buf_puts(out, "NIL");
		return;
	}
	imap_render_string(out, json_string_value(v), json_string_length(v));
}

/* mime_encoded - RFC 2047 encoded words in header text. */
#include "common/mime_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ew {
	const char *charset;
	size_t charset_len;
	size_t end;            /* index just past "?=" */
};

/* Whether c may appear in an encoded word's charset (RFC 2047 2 token). */
static bool charset_char(int c)
{
	return c > 0x20 && c < 0x7F && strchr("()<>@,;:\"/[]?=", c) == NULL;
}

/* Parses "=?charset?X?text?=" at s[i] and decodes its bytes into out. */
static bool ew_parse(const char *s, size_t len, size_t i, struct ew *ew, struct buf *out)
{
	size_t j = i + 2, cs, te;
	int enc;
	int r;

	cs = j;
	while (j < len && j - cs < 64 && charset_char((unsigned char)s[j]))
		j++;
	if (j == cs || j + 3 >= len || s[j] != '?')
		return false;
	ew->charset = s + cs;
	ew->charset_len = j - cs;
	enc = mime_lower((unsigned char)s[j + 1]);
	if ((enc != 'b' && enc != 'q') || s[j + 2] != '?')
		return false;
	j += 3;
	te = j;
	while (j < len && s[j] != '?' && (unsigned char)s[j] > 0x20 && (unsigned char)s[j] < 0x7F)
		j++;
	if (j + 1 >= len || s[j] != '?' || s[j + 1] != '=')
		return false;
	r = enc == 'b' ? mime_base64_decode_strict(s + te, j - te, out) :
			 mime_q_decode(s + te, j - te, out);
	ew->end = j + 2;
	return r == 0;
}

/* Converts the pending decoded bytes of same-charset words to UTF-8. */
static void flush_words(struct buf *out, struct buf *pending, char *charset)
{
	if (charset[0] != '\0')
		mime_charset_append(out, charset, pending->data == NULL ? "" : pending->data,
				    pending->len);
	buf_truncate(pending, 0);
	charset[0] = '\0';
}

/* Whether the charset of an encoded word is one iconv knows. */
static bool charset_known(const char *cs)
{
	char *o;
	size_t n;

	if (mime_to_utf8(cs, "", 0, &o, &n) < 0)
		return false;
	free(o);
	return true;
}

/* RFC 2047 6.2: decodes encoded words, drops whitespace between adjacent
 * ones, and joins adjacent words of one charset before converting them (a
 * character may be split across words). Unknown charsets and bad encodings
 * stay as raw text; everything else becomes UTF-8. */
char *mime_decode_header(const char *raw, size_t len)
{
	struct buf out = BUF_INIT, pending = BUF_INIT, word = BUF_INIT;
	char charset[65] = "", wcs[65];
	size_t i = 0, lit = 0, hold = SIZE_MAX;
	bool last_ew = false;

	while (i < len) {
		struct ew ew;

		if (raw[i] == '=' && i + 1 < len && raw[i + 1] == '?') {
			buf_truncate(&word, 0);
			if (ew_parse(raw, len, i, &ew, &word)) {
				memcpy(wcs, ew.charset, ew.charset_len);
				wcs[ew.charset_len] = '\0';
				if (strcasecmp(wcs, charset) != 0 && !charset_known(wcs))
					goto literal;
				if (!last_ew) {
					mime_text_append(&out, raw + lit, i - lit);
				}
				if (strcasecmp(wcs, charset) != 0) {
					flush_words(&out, &pending, charset);
					memcpy(charset, wcs, ew.charset_len + 1);
				}
				buf_append(&pending, word.data, word.len);
				i = lit = ew.end;
				hold = SIZE_MAX;
				last_ew = true;
				continue;
			}
		}
literal:
		if (last_ew && mime_is_wsp(raw[i])) {
			if (hold == SIZE_MAX)
				hold = i;
			i++;
			continue;
		}
		if (last_ew) {
			flush_words(&out, &pending, charset);
			lit = hold != SIZE_MAX ? hold : i;
			hold = SIZE_MAX;
			last_ew = false;
		}
		i++;
	}
	flush_words(&out, &pending, charset);
	mime_text_append(&out, raw + lit, len - lit);
	buf_free(&pending);
	buf_free(&word);
	buf_append(&out, "", 0);   /* NUL-terminated even when empty */
	return buf_steal(&out);
}

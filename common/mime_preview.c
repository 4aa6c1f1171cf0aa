/* mime_preview - the short plain-text preview of a message body. */
#include "common/mime_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Whether the tag name at s (after '<' or '</') is one of names. */
static bool tag_is(const char *s, size_t len, const char *const *names)
{
	for (; *names != NULL; names++) {
		size_t n = strlen(*names);
		char c;

		if (len < n || strncasecmp(s, *names, n) != 0)
			continue;
		c = len > n ? (char)(s[n] | 0x20) : ' ';
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return true;
	}
	return false;
}

/* Decodes an HTML character reference at s[i] == '&'; returns bytes used
 * (0 if it is none). */
static size_t html_entity(const char *s, size_t len, size_t i, struct buf *out)
{
	static const struct { const char *name; uint32_t cp; } ents[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' },
		{ "apos;", '\'' }, { "nbsp;", ' ' }, { "copy;", 0xA9 }, { "reg;", 0xAE },
		{ "hellip;", 0x2026 }, { "mdash;", 0x2014 }, { "ndash;", 0x2013 },
		{ "rsquo;", 0x2019 }, { "lsquo;", 0x2018 }, { "rdquo;", 0x201D },
		{ "ldquo;", 0x201C }, { "euro;", 0x20AC }, { "zwnj;", 0x200C },
	};
	size_t j = i + 1;

	if (j < len && s[j] == '#') {
		bool hex = j + 1 < len && (s[j + 1] | 0x20) == 'x';
		uint32_t cp = 0;
		size_t st;

		j += hex ? 2 : 1;
		for (st = j; j < len && j - st < 8; j++) {
			int d = hex ? mime_hex((unsigned char)s[j]) :
				(s[j] >= '0' && s[j] <= '9' ? s[j] - '0' : -1);

			if (d < 0)
				break;
			cp = cp * (hex ? 16 : 10) + (uint32_t)d;
		}
		if (j == st)
			return 0;
		if (j < len && s[j] == ';')
			j++;
		if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			cp = 0xFFFD;
		mime_utf8_put(out, cp);
		return j - i;
	}
	for (size_t k = 0; k < sizeof ents / sizeof ents[0]; k++) {
		size_t n = strlen(ents[k].name);

		if (len - j >= n && strncmp(s + j, ents[k].name, n) == 0) {
			mime_utf8_put(out, ents[k].cp);
			return n + 1;
		}
	}
	return 0;
}

/* Strips tags, comments, <script>/<style> contents and entities. */
static void html_to_text(const char *s, size_t len, struct buf *out)
{
	static const char *const skip[] = { "script", "style", "head", "title", NULL };
	static const char *const block[] = { "br", "p", "div", "tr", "td", "th", "li", "h1",
		"h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr", "ul", "ol", NULL };
	size_t i = 0;

	while (i < len) {
		const char *e;
		size_t n;

		if (s[i] == '&' && (n = html_entity(s, len, i, out)) > 0) {
			i += n;
		} else if (s[i] != '<') {
			buf_append(out, s + i++, 1);
		} else if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			e = memmem(s + i + 4, len - i - 4, "-->", 3);
			i = e == NULL ? len : (size_t)(e - s) + 3;
		} else {
			bool closing = i + 1 < len && s[i + 1] == '/';
			const char *name = s + i + 1 + closing;
			size_t rest = len - i - 1 - closing;

			if (!closing && tag_is(name, rest, skip)) {   /* skip to </name */
				size_t nl = strcspn(name, " \t\r\n>/");
				char endtag[16];

				snprintf(endtag, sizeof endtag, "</%.*s", (int)(nl < 10 ? nl : 10), name);
				e = strcasestr(name, endtag);   /* the text is NUL-terminated */
				if (e == NULL) {
					i = len;
					continue;
				}
				i = (size_t)(e - s);
			}
			if (tag_is(name, rest, block))
				buf_append(out, " ", 1);
			e = memchr(s + i, '>', len - i);
			i = e == NULL ? len : (size_t)(e - s) + 1;
		}
	}
}

/* Folds whitespace runs (incl. NBSP) to one space, trims, and keeps the
 * first MIME_PREVIEW_CHARS characters. */
static char *fold(const char *s, size_t len)
{
	struct buf out = BUF_INIT;
	size_t chars = 0, i = 0;
	bool space = false;

	while (i < len && chars < MIME_PREVIEW_CHARS) {
		unsigned char c = (unsigned char)s[i];
		size_t n = 1;

		if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] == 0xA0)
			n = 2, c = ' ';
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
			space = out.len > 0;
			i += n;
			continue;
		}
		if (space) {
			buf_append(&out, " ", 1);
			chars++;
			space = false;
			if (chars >= MIME_PREVIEW_CHARS)
				break;
		}
		for (n = 1; i + n < len && ((unsigned char)s[i + n] & 0xC0) == 0x80; n++)
			;
		buf_append(&out, s + i, n);
		chars++;
		i += n;
	}
	buf_append(&out, "", 0);   /* NUL-terminated even when empty */
	return buf_steal(&out);
}

/* Builds the preview from the start of a body in its transfer encoding. */
char *mime_preview_make(const char *body, size_t len, const char *encoding,
			const char *charset, bool html)
{
	struct buf dec = BUF_INIT, utf = BUF_INIT, text = BUF_INIT;
	char *out;

	if (strcmp(encoding, "base64") == 0)
		mime_base64_decode(body, len, &dec);
	else if (strcmp(encoding, "quoted-printable") == 0)
		mime_qp_decode(body, len, &dec);
	else
		buf_append(&dec, body, len);
	mime_charset_append(&utf, charset != NULL ? charset : "us-ascii",
			    dec.data == NULL ? "" : dec.data, dec.len);
	if (html)
		html_to_text(utf.data == NULL ? "" : utf.data, utf.len, &text);
	out = html ? fold(text.data == NULL ? "" : text.data, text.len) :
		     fold(utf.data == NULL ? "" : utf.data, utf.len);
	buf_free(&dec);
	buf_free(&utf);
	buf_free(&text);
	return out;
}

/* mime_charset - charset conversion to UTF-8 (iconv) and UTF-8 hygiene. */
#include "common/mime_internal.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

/* Windows-1252 0x80-0x9F; 0 where the code page leaves a hole. */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* Whether s is well-formed UTF-8 (RFC 3629). */
bool mime_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_seq(u + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

/* Appends one code point as UTF-8. */
void mime_utf8_put(struct buf *b, uint32_t cp)
{
	char t[4];

	if (cp < 0x80) {
		t[0] = (char)cp;
		buf_append(b, t, 1);
	} else if (cp < 0x800) {
		t[0] = (char)(0xC0 | (cp >> 6));
		t[1] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, t, 2);
	} else if (cp < 0x10000) {
		t[0] = (char)(0xE0 | (cp >> 12));
		t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[2] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, t, 3);
	} else {
		t[0] = (char)(0xF0 | (cp >> 18));
		t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[3] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, t, 4);
	}
}

/* Appends UTF-8 text, each invalid byte replaced by U+FFFD, NUL too. */
static void utf8_append_repaired(struct buf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0, n;

	while (i < len) {
		n = u[i] == 0 ? 0 : utf8_seq(u + i, len - i);
		if (n > 0) {
			i += n;
			continue;
		}
		buf_append(b, s + start, i - start);
		mime_utf8_put(b, 0xFFFD);
		start = ++i;
	}
	buf_append(b, s + start, i - start);
}

/* Header text to UTF-8: 8-bit headers that are not UTF-8 (RFC 6532) are
 * in practice Latin-1/Windows-1252, so they are read that way. */
void mime_text_append(struct buf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (mime_utf8_valid(s, len)) {
		utf8_append_repaired(b, s, len);   /* only NULs change */
		return;
	}
	for (size_t i = 0; i < len; i++) {
		uint32_t cp = u[i];

		if (cp >= 0x80 && cp < 0xA0)
			cp = cp1252_high[cp - 0x80] ? cp1252_high[cp - 0x80] : 0xFFFD;
		if (cp == 0)
			cp = 0xFFFD;
		mime_utf8_put(b, cp);
	}
}

/* Normalises a charset label for iconv; returns false if unusable. */
static bool charset_name(const char *in, char *out, size_t outsz)
{
	static const char *const alias[][2] = {
		{ "iso-8859-1", "WINDOWS-1252" }, { "latin1", "WINDOWS-1252" },
		{ "iso_8859-1", "WINDOWS-1252" }, { "l1", "WINDOWS-1252" },
		{ "us-ascii", "UTF-8" }, { "ascii", "UTF-8" }, { "utf8", "UTF-8" },
		{ "unicode-1-1-utf-8", "UTF-8" }, { "x-unknown", "UTF-8" },
		{ "unknown-8bit", "UTF-8" }, { "gb2312", "GB18030" }, { "gbk", "GB18030" },
		{ "ks_c_5601-1987", "CP949" }, { "euc-kr", "CP949" },
		{ "x-sjis", "SHIFT_JIS" }, { "shift-jis", "SHIFT_JIS" },
		{ "iso-2022-jp", "ISO-2022-JP-2" },
	};
	size_t n = 0;

	for (; *in != '\0' && *in != '*'; in++) {   /* RFC 2231 5: charset*lang */
		int c = mime_lower((unsigned char)*in);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.' || c == ':' || c == '+'))
			return false;
		if (n + 1 >= outsz)
			return false;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++) {
		if (strcmp(out, alias[i][0]) == 0) {
			snprintf(out, outsz, "%s", alias[i][1]);
			break;
		}
	}
	return n > 0;
}

/* Runs iconv over all of in, U+FFFD for each invalid or truncated input. */
static void iconv_all(iconv_t cd, const char *in, size_t len, struct buf *b)
{
	char *inp = (char *)in;
	size_t inleft = len;

	for (;;) {
		char *outp;
		size_t outleft, r;

		buf_reserve(b, inleft * 4 + 16);
		outp = b->data + b->len;
		outleft = b->cap - b->len - 1;
		r = iconv(cd, inleft > 0 ? &inp : NULL, inleft > 0 ? &inleft : NULL, &outp, &outleft);
		b->len = (size_t)(outp - b->data);
		b->data[b->len] = '\0';
		if (r != (size_t)-1) {
			if (inleft == 0 && inp != NULL)
				inp = NULL;   /* one more round flushes shift state */
			else
				break;
			continue;
		}
		if (errno == E2BIG)
			continue;
		mime_utf8_put(b, 0xFFFD);
		if (errno == EINVAL || inleft == 0)
			break;
		inp++, inleft--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
}

/* A converter from name to UTF-8, reset to its initial state; (iconv_t)-1
 * if iconv does not know name. iconv_open() costs far more than a short
 * conversion, so each thread keeps a few (never closed: they live as long
 * as the thread, like iconv's own module cache). */
static iconv_t converter(const char *name)
{
	static _Thread_local struct { char name[64]; iconv_t cd; } cache[8];
	static _Thread_local unsigned next;
	unsigned slot;

	for (unsigned i = 0; i < 8; i++) {
		if (cache[i].name[0] != '\0' && strcmp(cache[i].name, name) == 0) {
			if (cache[i].cd != (iconv_t)-1)
				iconv(cache[i].cd, NULL, NULL, NULL, NULL);
			return cache[i].cd;
		}
	}
	slot = next++ % 8;
	if (cache[slot].name[0] != '\0' && cache[slot].cd != (iconv_t)-1)
		iconv_close(cache[slot].cd);
	snprintf(cache[slot].name, sizeof cache[slot].name, "%s", name);
	cache[slot].cd = iconv_open("UTF-8", name);
	return cache[slot].cd;
}

/* Converts text in charset to malloc'ed UTF-8 (see mime.h). */
int mime_to_utf8(const char *charset, const void *in, size_t len, char **out_r, size_t *len_r)
{
	struct buf b = BUF_INIT;
	char name[64];
	iconv_t cd;

	if (charset == NULL || !charset_name(charset, name, sizeof name))
		return -1;
	if (strcmp(name, "UTF-8") == 0 || strcmp(name, "utf-8") == 0) {
		utf8_append_repaired(&b, in, len);
	} else {
		if ((cd = converter(name)) == (iconv_t)-1)
			return -1;
		iconv_all(cd, in, len, &b);
		if (memchr(b.data == NULL ? "" : b.data, 0, b.len) != NULL) {
			struct buf c = BUF_INIT;

			utf8_append_repaired(&c, b.data, b.len);
			buf_free(&b);
			b = c;
		}
	}
	buf_append(&b, "", 0);   /* NUL-terminated even when empty */
	*len_r = b.len;
	*out_r = buf_steal(&b);
	return 0;
}

/* Appends text in charset as UTF-8 (unknown charset: as header text). */
void mime_charset_append(struct buf *b, const char *charset, const char *s, size_t len)
{
	char *out;
	size_t n;

	if (mime_to_utf8(charset, s, len, &out, &n) < 0) {
		mime_text_append(b, s, len);
		return;
	}
	buf_append(b, out, n);
	free(out);
}

/* A JSON string of header bytes, always valid UTF-8. */
json_t *mime_json_text(const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	json_t *j;

	mime_text_append(&b, s, len);
	j = json_stringn(b.data == NULL ? "" : b.data, b.len);
	buf_free(&b);
	return j != NULL ? j : json_string("");
}

/* JSON string of a C string, or null. */
json_t *mime_json_str_or_null(const char *s)
{
	return s == NULL ? json_null() : mime_json_text(s, strlen(s));
}

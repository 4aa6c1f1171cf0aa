/* imap_mutf7 - modified UTF-7 encode/decode (RFC 3501 5.1.3; see
 * imap_mutf7.h). */
#include "gateway/imap/imap_mutf7.h"

#include <stdint.h>
#include <string.h>

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* One code point from UTF-8 (RFC 3629 4: no overlongs, no surrogates,
 * at most U+10FFFF): its length, or 0 when invalid. */
static size_t utf8_next(const unsigned char *p, uint32_t *cp_r)
{
	uint32_t cp;
	size_t n;

	if (p[0] < 0x80) {
		*cp_r = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

/* Appends cp as UTF-8. */
static void utf8_put(struct buf *out, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(out, b, n);
}

/* imap_has_8bit - any octet >= 0x80. */
int imap_has_8bit(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			return 1;
	}
	return 0;
}

/* Base64 state of a run: pending bits. */
struct b64run {
	uint32_t bits;
	unsigned nbits;
	int open;
};

/* Adds one UTF-16 unit to the run. */
static void run_unit(struct buf *out, struct b64run *r, uint32_t unit)
{
	r->bits = (r->bits << 16) | unit;
	r->nbits += 16;
	while (r->nbits >= 6) {
		r->nbits -= 6;
		buf_append(out, &B64[(r->bits >> r->nbits) & 0x3f], 1);
	}
	r->bits &= (1u << r->nbits) - 1;
}

/* Ends a run: the last bits zero-padded, then '-'. */
static void run_close(struct buf *out, struct b64run *r)
{
	if (!r->open)
		return;
	if (r->nbits > 0)
		buf_append(out, &B64[(r->bits << (6 - r->nbits)) & 0x3f], 1);
	buf_puts(out, "-");
	memset(r, 0, sizeof *r);
}

/* imap_mutf7_encode - UTF-8 to modified UTF-7. */
int imap_mutf7_encode(const char *utf8, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)utf8;
	struct b64run r = { 0, 0, 0 };

	buf_puts(out, "");
	while (*p != '\0') {
		uint32_t cp;
		size_t n = utf8_next(p, &cp);

		if (n == 0)
			return -1;
		p += n;
		if (cp >= 0x20 && cp <= 0x7e) {
			run_close(out, &r);
			buf_puts(out, cp == '&' ? "&-" : (char[]){ (char)cp, '\0' });
			continue;
		}
		if (!r.open) {
			buf_puts(out, "&");
			r.open = 1;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			run_unit(out, &r, 0xd800 | (cp >> 10));
			run_unit(out, &r, 0xdc00 | (cp & 0x3ff));
		} else {
			run_unit(out, &r, cp);
		}
	}
	run_close(out, &r);
	return 0;
}

/* The value of a modified base64 character, or -1. */
static int b64_value(char c)
{
	const char *p = c != '\0' ? strchr(B64, c) : NULL;

	return p != NULL ? (int)(p - B64) : -1;
}

/* Decodes one run after '&' up to its '-': the octets used, or 0. */
static size_t decode_run(const char *s, struct buf *out)
{
	uint32_t bits = 0, high = 0;
	unsigned nbits = 0, units = 0;
	size_t i = 0;

	for (;; i++) {
		int v;

		if (s[i] == '-')
			break;
		if ((v = b64_value(s[i])) < 0)
			return 0;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t u = (bits >> nbits) & 0xffff;
		bits &= (1u << nbits) - 1;
		units++;
		if (high != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return 0;
			utf8_put(out, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
			high = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			high = u;
		} else if ((u >= 0xdc00 && u <= 0xdfff) || (u >= 0x20 && u <= 0x7e) || u == 0) {
			return 0;   /* lone low surrogate; printable ASCII must be direct; NUL */
		} else {
			utf8_put(out, u);
		}
	}
	if (units == 0 || high != 0 || nbits >= 6 || bits != 0)
		return 0;
	return i + 1;
}

/* imap_mutf7_decode - modified UTF-7 to UTF-8, strictly. */
int imap_mutf7_decode(const char *mutf7, struct buf *out)
{
	const char *p = mutf7;
	int after_run = 0;

	buf_puts(out, "");
	while (*p != '\0') {
		unsigned char c = (unsigned char)*p;
		size_t n;

		if (c < 0x20 || c > 0x7e)
			return -1;
		if (c != '&') {
			buf_append(out, p, 1);
			p++;
			after_run = 0;
			continue;
		}
		if (p[1] == '-') {
			buf_puts(out, "&");
			p += 2;
			after_run = 0;
			continue;
		}
		/* RFC 3501 5.1.3: null shifts ("-&" while in BASE64) are not
		 * permitted: two runs in a row are one run. */
		if (after_run || (n = decode_run(p + 1, out)) == 0)
			return -1;
		p += 1 + n;
		after_run = 1;
	}
	return 0;
}

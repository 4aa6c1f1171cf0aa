/* mime_transfer - base64 and quoted-printable decoding (RFC 2045 6.7, 6.8;
 * RFC 2047 4.1, 4.2). */
#include "common/mime_internal.h"

/* Value of a hex digit (either case), or -1. */
int mime_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Value of a base64 alphabet byte, or -1. */
static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes base64 (RFC 2045 6.8: bytes outside the alphabet are ignored). */
void mime_base64_decode(const char *in, size_t len, struct buf *out)
{
	uint32_t acc = 0;
	int bits = 0;

	buf_reserve(out, len / 4 * 3 + 3);
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)in[i]);

		if (in[i] == '=')
			break;
		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out->data[out->len++] = (char)((acc >> bits) & 0xFF);
		}
	}
	out->data[out->len] = '\0';
}

/* Decodes the text of a "B" encoded word (RFC 2047 4.1); padding optional. */
int mime_base64_decode_strict(const char *in, size_t len, struct buf *out)
{
	size_t n = len;

	while (n > 0 && in[n - 1] == '=')
		n--;
	if (len - n > 2 || n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (b64_value((unsigned char)in[i]) < 0)
			return -1;
	}
	mime_base64_decode(in, n, out);
	return 0;
}

/* Decodes quoted-printable; soft line breaks ("=" + optional WSP + EOL)
 * are removed, an "=" not followed by two hex digits is kept literally. */
void mime_qp_decode(const char *in, size_t len, struct buf *out)
{
	size_t i = 0, start = 0;

	buf_reserve(out, len);
	while (i < len) {
		int h, l;
		size_t j;

		if (in[i] != '=') {
			i++;
			continue;
		}
		buf_append(out, in + start, i - start);
		if (i + 2 < len && (h = mime_hex((unsigned char)in[i + 1])) >= 0 &&
		    (l = mime_hex((unsigned char)in[i + 2])) >= 0) {
			char c = (char)(h * 16 + l);

			buf_append(out, &c, 1);
			i += 3;
		} else {
			for (j = i + 1; j < len && (mime_is_wsp(in[j]) || in[j] == '\r'); j++)
				;
			if (j < len && in[j] == '\n') {
				i = j + 1;          /* soft line break */
			} else if (j == len) {
				i = len;            /* "=" at the end of the data */
			} else {
				buf_append(out, "=", 1);
				i++;
			}
		}
		start = i;
	}
	buf_append(out, in + start, i - start);
}

/* Decodes the text of a "Q" encoded word (RFC 2047 4.2). */
int mime_q_decode(const char *in, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '_') {
			c = ' ';
		} else if (c == '=') {
			int h, l;

			if (i + 2 >= len || (h = mime_hex((unsigned char)in[i + 1])) < 0 ||
			    (l = mime_hex((unsigned char)in[i + 2])) < 0)
				return -1;
			c = (char)(h * 16 + l);
			i += 2;
		}
		buf_append(out, &c, 1);
	}
	return 0;
}

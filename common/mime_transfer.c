/* mime_transfer - base64 and quoted-printable decoding (RFC 2045 6.7, 6.8;
 * RFC 2047 4.1, 4.2). */
#include "common/mime_internal.h"
#include "common/base64.h"

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

/* Decodes base64 (RFC 2045 6.8: bytes outside the alphabet are ignored). */
void mime_base64_decode(const char *in, size_t len, struct buf *out)
{
	uint32_t acc = 0;
	int bits = 0;

	buf_reserve(out, len / 4 * 3 + 3);
	for (size_t i = 0; i < len; i++) {
		int v = evm_b64_value((unsigned char)in[i], 0);

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
		if (evm_b64_value((unsigned char)in[i], 0) < 0)
			return -1;
	}
	mime_base64_decode(in, n, out);
	return 0;
}

/* Length of the line break at in[i] (CRLF or LF), or 0. */
static size_t line_break(const char *in, size_t len, size_t i)
{
	if (i < len && in[i] == '\n')
		return 1;
	return i + 1 < len && in[i] == '\r' && in[i + 1] == '\n' ? 2 : 0;
}

/* Quoted-printable, leniently as RFC 2045 6.7 asks of receivers: =XX
 * octets (either case), '=' + optional whitespace + line break is a soft
 * break, whitespace before a line break (or the end) is dropped (rule 3),
 * and an '=' that starts neither is kept as it is. */
void mime_qp_decode(const char *in, size_t len, struct buf *out)
{
	size_t i = 0, run = 0;

	buf_reserve(out, len);
	while (i < len) {
		unsigned char c = (unsigned char)in[i];
		size_t j = c == '=' ? i + 1 : i, br;
		int h, l;

		if (c != ' ' && c != '\t' && c != '=') {
			i++;
			continue;
		}
		while (j < len && mime_is_wsp(in[j]))
			j++;
		br = line_break(in, len, j);
		if (br > 0 || j == len) {
			/* whitespace before a break: dropped; '=' there: a soft break */
			buf_append(out, in + run, i - run);
			run = i = c == '=' ? j + br : j;
		} else if (c != '=') {
			i = j;   /* inner whitespace is kept */
		} else if (i + 2 < len && (h = mime_hex((unsigned char)in[i + 1])) >= 0 &&
			   (l = mime_hex((unsigned char)in[i + 2])) >= 0) {
			char o = (char)(h * 16 + l);

			buf_append(out, in + run, i - run);
			buf_append(out, &o, 1);
			run = i = i + 3;
		} else {
			i++;     /* a stray '=' is kept */
		}
	}
	buf_append(out, in + run, len - run);
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

/* imap_section_binary - BINARY[section] (RFC 3516 4.2): a part's body with
 * its Content-Transfer-Encoding removed. base64 and quoted-printable are
 * decoded leniently as RFC 2045 6.7/6.8 ask of receivers; 7bit, 8bit and
 * binary pass through; any other encoding is unknown (-2, the server
 * answers NO [UNKNOWN-CTE]). BINARY[] is the whole message as stored. */
#include "gateway/imap/imap_render_internal.h"

#include <string.h>
#include <strings.h>

/* Value of a base64 alphabet byte, or -1. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* RFC 2045 6.8: bytes outside the alphabet are ignored; '=' ends the data. */
static void base64_decode(const char *in, size_t len, struct buf *out)
{
	uint32_t acc = 0;
	int bits = 0;

	buf_reserve(out, len / 4 * 3 + 3);
	for (size_t i = 0; i < len && in[i] != '='; i++) {
		int v = b64_value((unsigned char)in[i]);

		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			char c = (char)((acc >> (bits - 8)) & 0xff);

			bits -= 8;
			buf_append(out, &c, 1);
		}
	}
}

/* Value of a hex digit, or -1. */
static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Length of the line break at in[i] (CRLF or LF), or 0. */
static size_t line_break(const char *in, size_t len, size_t i)
{
	if (i < len && in[i] == '\n')
		return 1;
	return i + 1 < len && in[i] == '\r' && in[i + 1] == '\n' ? 2 : 0;
}

/* RFC 2045 6.7: =XX octets, '=' + optional whitespace + line break is a
 * soft break, whitespace before a line break (or the end) is dropped, and
 * an '=' that starts neither is kept as it is. */
static void qp_decode(const char *in, size_t len, struct buf *out)
{
	size_t i = 0, run = 0;

	buf_reserve(out, len);
	while (i < len) {
		unsigned char c = (unsigned char)in[i];
		size_t j = c == '=' ? i + 1 : i, br;

		if (c != ' ' && c != '\t' && c != '=') {
			i++;
			continue;
		}
		while (j < len && (in[j] == ' ' || in[j] == '\t'))
			j++;
		br = line_break(in, len, j);
		if (br > 0 || j == len) {
			/* whitespace before a break: dropped; '=' there: a soft break */
			buf_append(out, in + run, i - run);
			run = i = c == '=' ? j + br : j;
		} else if (c != '=') {
			i = j;   /* inner whitespace is kept */
		} else if (i + 2 < len && hex_value((unsigned char)in[i + 1]) >= 0 &&
			   hex_value((unsigned char)in[i + 2]) >= 0) {
			char o = (char)(hex_value((unsigned char)in[i + 1]) * 16 +
					hex_value((unsigned char)in[i + 2]));

			buf_append(out, in + run, i - run);
			buf_append(out, &o, 1);
			run = i = i + 3;
		} else {
			i++;     /* a stray '=' is kept */
		}
	}
	buf_append(out, in + run, len - run);
}

/* BINARY[section]: 0, 1 (no such part), -2 (unknown encoding), -1 (a
 * section other than part numbers, or a summary that does not fit). */
int imap_binary_fetch(const char *msg, size_t msg_len, size_t prefix_len, json_t *summary,
		      const struct imap_section *sec, struct buf *out)
{
	struct imap_part_ref ref;
	json_t *enc;
	const char *e;
	size_t a, b;

	if (sec->kind != IMAP_SECTION_ALL)
		return -1;
	if (sec->depth == 0) {
		buf_append(out, msg, msg_len);
		return 0;
	}
	if (imap_section_find(summary, sec->part, sec->depth, &ref) != 0)
		return 1;
	if (imap_part_range(ref.part, ref.top, "body", msg_len, prefix_len, &a, &b) < 0)
		return -1;
	enc = json_object_get(ref.part, "encoding");
	e = json_is_string(enc) ? json_string_value(enc) : "7bit";
	if (strcasecmp(e, "7bit") == 0 || strcasecmp(e, "8bit") == 0 || strcasecmp(e, "binary") == 0)
		buf_append(out, msg + a, b - a);
	else if (strcasecmp(e, "base64") == 0)
		base64_decode(msg + a, b - a, out);
	else if (strcasecmp(e, "quoted-printable") == 0)
		qp_decode(msg + a, b - a, out);
	else
		return -2;
	return 0;
}

/* base64 - see base64.h. One decoder for both alphabets. */
#include "common/base64.h"

#include <openssl/evp.h>
#include <stdlib.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int evm_b64_value(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* Each character's value plus one, 0 for a character outside the
 * alphabet (the same answers as evm_b64_value). */
static const unsigned char val1_std[256] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 63,  0,  0,  0, 64,
	53, 54, 55, 56, 57, 58, 59, 60, 61, 62,  0,  0,  0,  0,  0,  0,
	 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,  0,  0,  0,  0,  0,
	 0, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
	42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};
static const unsigned char val1_url[256] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 63,  0,  0,
	53, 54, 55, 56, 57, 58, 59, 60, 61, 62,  0,  0,  0,  0,  0,  0,
	 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,  0,  0,  0,  0, 64,
	 0, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
	42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};

/* The strict decoder: pad_required says whether the text must be padded
 * to a multiple of 4 (else padding is optional but must be right). */
static int decode(const char *in, size_t len, int url, int pad_required, unsigned char *out,
		  size_t max, size_t *n_r)
{
	const unsigned char *t = url ? val1_url : val1_std;
	unsigned acc = 0;
	size_t n = 0, bits = 0, pad = 0, i = 0;

	while (pad < len && pad < 2 && in[len - 1 - pad] == '=')
		pad++;
	if ((pad_required || pad > 0) && len % 4 != 0)
		return -1;
	len -= pad;
	if (len % 4 == 1)
		return -1;
	/* Whole quanta first, four characters to three bytes; what is left
	 * (a last partial quantum, or the quanta that would pass max) goes
	 * through the loop below, which starts with no bits pending either
	 * way. */
	for (; i + 4 <= len && n + 3 <= max; i += 4) {
		unsigned a = t[(unsigned char)in[i]], b = t[(unsigned char)in[i + 1]];
		unsigned c = t[(unsigned char)in[i + 2]], d = t[(unsigned char)in[i + 3]];
		unsigned q;

		if (a == 0 || b == 0 || c == 0 || d == 0)
			return -1;
		q = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
		out[n] = (unsigned char)(q >> 16);
		out[n + 1] = (unsigned char)(q >> 8);
		out[n + 2] = (unsigned char)q;
		n += 3;
	}
	for (; i < len; i++) {
		int v = evm_b64_value((unsigned char)in[i], url);

		if (v < 0)
			return -1;
		acc = (acc << 6 | (unsigned)v) & 0xffffu;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= max)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* Canonical: the bits left over are zero (RFC 4648 3.5). */
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	/* Padding completes the last quantum, no more (RFC 4648 3.2, 4). */
	if (pad > 0 && (len % 4) + pad != 4)
		return -1;
	*n_r = n;
	return 0;
}

char *evm_b64_encode(const unsigned char *in, size_t len)
{
	char *out = xmalloc((len + 2) / 3 * 4 + 1);

	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

int evm_b64_decode(const char *in, size_t len, unsigned char *out, size_t *out_len_r)
{
	size_t n = 0;

	if (len > (size_t)1 << 30 || decode(in, len, 0, 1, out, len / 4 * 3, &n) < 0)
		return -1;
	out[n] = '\0';
	*out_len_r = n;
	return 0;
}

void evm_b64url_encode(const unsigned char *in, size_t len, struct buf *out)
{
	unsigned acc = 0;
	size_t bits = 0;

	buf_reserve(out, len / 3 * 4 + 4);
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8 | in[i]) & 0xffffu;
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			buf_append(out, &b64url[(acc >> bits) & 63], 1);
		}
	}
	if (bits > 0)
		buf_append(out, &b64url[(acc << (6 - bits)) & 63], 1);
}

int evm_b64url_decode(const char *in, size_t len, unsigned char *out, size_t max, size_t *n_r)
{
	return decode(in, len, 1, 0, out, max, n_r);
}

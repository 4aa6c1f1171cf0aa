/* base64 - see base64.h. One decoder for both alphabets. */
#include "common/base64.h"

#include <openssl/evp.h>
#include <pthread.h>
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
 * alphabet: evm_b64_value's answers, tabled once ([0] standard, [1] URL). */
static unsigned char val1[2][256];
static pthread_once_t val1_once = PTHREAD_ONCE_INIT;

static void val1_build(void)
{
	for (int url = 0; url < 2; url++) {
		for (int c = 0; c < 256; c++)
			val1[url][c] = (unsigned char)(evm_b64_value((unsigned char)c, url) + 1);
	}
}

/* The strict decoder: pad_required says whether the text must be padded
 * to a multiple of 4 (else padding is optional but must be right). */
static int decode(const char *in, size_t len, int url, int pad_required, unsigned char *out,
		  size_t max, size_t *n_r)
{
	const unsigned char *t;
	unsigned acc = 0;
	size_t n = 0, bits = 0, pad = 0, i = 0;

	pthread_once(&val1_once, val1_build);
	t = val1[url != 0];
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

/* test_base64 - the strict RFC 4648 decoders (common/base64.h): the
 * alphabet, padding, canonical trailing bits, the output bound. */
#include "common/base64.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

/* Decodes with evm_b64_decode; the octets as a string (NUL-terminated by
 * the decoder), or NULL. */
static char *dec(const char *in)
{
	unsigned char *out = malloc(strlen(in) / 4 * 3 + 1);
	size_t n = 0;

	if (evm_b64_decode(in, strlen(in), out, &n) < 0 || out[n] != '\0') {
		free(out);
		return NULL;
	}
	return (char *)out;
}

static void test_padded(void)
{
	static const char *const good[][2] = {
		{ "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" },
		{ "Zm9vYg==", "foob" }, { "Zm9vYmE=", "fooba" }, { "Zm9vYmFy", "foobar" },
		{ "+/+/", "\xfb\xff\xbf" },
	};
	static const char *const bad[] = {
		"Zg", "Zg=", "Zm9", "Zh==", "Zm9=", "Z===", "====", "Zg==Zg==", "Zm 9v", "Zm9v\n",
		"-_-_", "Zm9v=", "Zg=a",
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char *got = dec(good[i][0]);

		CHECK(got != NULL);
		if (got != NULL)
			CHECK_EQ_STR(got, good[i][1]);
		free(got);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *got = dec(bad[i]);

		CHECK(got == NULL);
		free(got);
	}
}

static void test_url(void)
{
	unsigned char out[8];
	size_t n = 0;
	struct buf b = BUF_INIT;

	CHECK_EQ_INT(evm_b64url_decode("-_-_", 4, out, sizeof out, &n), 0);
	CHECK_EQ_INT((int)n, 3);
	CHECK(memcmp(out, "\xfb\xff\xbf", 3) == 0);
	CHECK_EQ_INT(evm_b64url_decode("Zg", 2, out, sizeof out, &n), 0);   /* padding optional */
	CHECK_EQ_INT((int)n, 1);
	CHECK_EQ_INT(evm_b64url_decode("Zg==", 4, out, sizeof out, &n), 0);
	CHECK_EQ_INT(evm_b64url_decode("Zg=", 3, out, sizeof out, &n), -1);  /* partial padding */
	CHECK_EQ_INT(evm_b64url_decode("Zh", 2, out, sizeof out, &n), -1);   /* trailing bits */
	CHECK_EQ_INT(evm_b64url_decode("+/+/", 4, out, sizeof out, &n), -1); /* other alphabet */
	CHECK_EQ_INT(evm_b64url_decode("Z", 1, out, sizeof out, &n), -1);
	CHECK_EQ_INT(evm_b64url_decode("Zm9vYmFyYmF6", 12, out, 8, &n), -1); /* 9 > max 8 */
	CHECK_EQ_INT(evm_b64url_decode("Zm9vYmFyYg", 10, out, 8, &n), 0);     /* 7 <= 8 */
	CHECK_EQ_INT((int)n, 7);
	evm_b64url_encode((const unsigned char *)"\xfb\xff\xbf\x66", 4, &b);
	buf_append(&b, "", 1);
	CHECK_EQ_STR(b.data, "-_-_Zg");
	buf_free(&b);
}

/* Every octet string of up to 3 octets survives encode then decode, and
 * the encoder's text is the only one accepted (canonical). */
static void test_round_trip(void)
{
	unsigned char in[3], out[4];

	for (unsigned v = 0; v < (1u << 16); v += 7) {
		for (size_t len = 1; len <= 3; len++) {
			char *txt;
			size_t n = 0;

			in[0] = (unsigned char)v;
			in[1] = (unsigned char)(v >> 8);
			in[2] = (unsigned char)(v * 31);
			txt = evm_b64_encode(in, len);
			CHECK_EQ_INT(evm_b64_decode(txt, strlen(txt), out, &n), 0);
			CHECK_EQ_INT((int)n, (int)len);
			CHECK(memcmp(in, out, len) == 0);
			free(txt);
		}
	}
}

/* The decoder one character at a time, as base64.c was before its
 * four-character loop: the reference for test_same_as_bitwise. */
static int ref_decode(const char *in, size_t len, int url, int pad_required, unsigned char *out,
		      size_t max, size_t *n_r)
{
	unsigned acc = 0;
	size_t n = 0, bits = 0, pad = 0;

	while (pad < len && pad < 2 && in[len - 1 - pad] == '=')
		pad++;
	if ((pad_required || pad > 0) && len % 4 != 0)
		return -1;
	len -= pad;
	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
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
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	if (pad > 0 && (len % 4) + pad != 4)
		return -1;
	*n_r = n;
	return 0;
}

/* Random texts over both alphabets, '=', and a few outsiders (mostly
 * valid ones, so long texts get decoded), every output bound from 0 up:
 * the same verdict and the same octets as the reference. */
static void test_same_as_bitwise(void)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= \n\x80.";
	unsigned char got[64], want[64];
	char in[48];
	unsigned seed = 12345;
	int decoded = 0;

	for (int iter = 0; iter < 200000; iter++) {
		size_t len, max, ng = 0, nw = 0;
		int url, rg, rw;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % 41;
		url = (seed >> 8) & 1;
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			/* 1 in 64 an outsider or '=', else the text's alphabet */
			if (((seed >> 16) & 63) == 0)
				in[i] = chars[64 + (seed >> 22) % (sizeof chars - 65)];
			else
				in[i] = chars[(seed >> 22) % 62];
			if (((seed >> 16) & 63) == 1)
				in[i] = url ? "-_"[(seed >> 23) & 1] : "+/"[(seed >> 23) & 1];
		}
		if (len > 0 && ((seed >> 12) & 3) == 0)
			in[len - 1] = '=';
		if (len > 1 && ((seed >> 12) & 7) == 1)
			in[len - 1] = in[len - 2] = '=';
		seed = seed * 1103515245u + 12345u;
		max = (seed >> 16) % 34;
		memset(got, 0xaa, sizeof got);
		memset(want, 0xaa, sizeof want);
		rg = url ? evm_b64url_decode(in, len, got, max, &ng)
			 : (max = len / 4 * 3, evm_b64_decode(in, len, got, &ng));
		rw = ref_decode(in, len, url, !url, want, max, &nw);
		CHECK_EQ_INT(rg, rw);
		if (rg == 0) {
			CHECK_EQ_INT(ng, nw);
			CHECK(memcmp(got, want, nw) == 0);
			decoded += nw > 6;
		}
	}
	CHECK(decoded > 1000);   /* the four-character loop ran */
}

int main(void)
{
	test_run("base64: padded, strict", test_padded);
	test_run("base64url: padding optional, strict", test_url);
	test_run("base64: round trip", test_round_trip);
	test_run("base64: the same answers as the decoder a character at a time", test_same_as_bitwise);
	return test_done();
}

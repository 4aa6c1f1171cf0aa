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

int main(void)
{
	test_run("base64: padded, strict", test_padded);
	test_run("base64url: padding optional, strict", test_url);
	test_run("base64: round trip", test_round_trip);
	return test_done();
}

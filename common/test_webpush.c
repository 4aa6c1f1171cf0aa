/* test_webpush - RFC 8291 message encryption: Appendix A reproduced byte
 * for byte, decrypted back by the user agent's side, fresh keys and salt
 * for every message, the keys a client gives checked, base64url, and
 * malformed bodies refused (every truncation, every flipped octet). */
#include "common/webpush.h"
#include "common/base64.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

/* RFC 8291 Appendix A. */
static const char plaintext[] = "When I grow up, I want to be a watermelon";
static const char as_private[] = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
static const char as_public[] =
	"BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
static const char ua_private[] = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
static const char ua_public[] =
	"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
static const char salt_b64[] = "DGv6ra1nlYgDCS1FRnbzlw";
static const char auth_b64[] = "BTBZMqHH6r4Tts7J_aSIgg";
static const char body_b64[] =
	"DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8w"
	"EqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

/* Decodes s into out (exactly n octets expected); 0 or -1. */
static int unb64(const char *s, unsigned char *out, size_t n)
{
	size_t got = 0;

	return evm_b64url_decode(s, strlen(s), out, n, &got) == 0 && got == n ? 0 : -1;
}

static void test_rfc8291_appendix_a(void)
{
	struct webpush_keys k;
	struct webpush_ephemeral eph;
	unsigned char salt[WEBPUSH_SALT_LEN], uapriv[WEBPUSH_PRIV_LEN];
	struct buf body = BUF_INIT, enc = BUF_INIT, plain = BUF_INIT;
	const char *error = NULL;

	CHECK(webpush_keys_parse(ua_public, auth_b64, &k, &error) == 0);
	CHECK(unb64(as_private, eph.priv, sizeof eph.priv) == 0);
	CHECK(unb64(as_public, eph.pub, sizeof eph.pub) == 0);
	CHECK(unb64(salt_b64, salt, sizeof salt) == 0);
	CHECK(webpush_encrypt(&k, &eph, salt, plaintext, strlen(plaintext), &body, &error) == 0);
	CHECK_EQ_INT(body.len, WEBPUSH_HEADER_LEN + strlen(plaintext) + 1 + WEBPUSH_TAG_LEN);
	evm_b64url_encode((const unsigned char *)body.data, body.len, &enc);
	CHECK_EQ_STR(enc.data, body_b64);
	/* The user agent reads it back. */
	CHECK(unb64(ua_private, uapriv, sizeof uapriv) == 0);
	CHECK(webpush_decrypt(uapriv, &k, body.data, body.len, &plain, &error) == 0);
	CHECK_EQ_INT(plain.len, strlen(plaintext));
	CHECK(memcmp(plain.data, plaintext, plain.len) == 0);
	buf_free(&body);
	buf_free(&enc);
	buf_free(&plain);
}

/* Without injected values: a new key and salt each time, same plaintext. */
static void test_fresh_each_message(void)
{
	struct webpush_keys k;
	unsigned char uapriv[WEBPUSH_PRIV_LEN];
	struct buf a = BUF_INIT, b = BUF_INIT, pa = BUF_INIT, pb = BUF_INIT;
	const char *error = NULL;
	static char big[WEBPUSH_PLAIN_MAX + 1];

	CHECK(webpush_keys_parse(ua_public, auth_b64, &k, &error) == 0);
	CHECK(unb64(ua_private, uapriv, sizeof uapriv) == 0);
	CHECK(webpush_encrypt(&k, NULL, NULL, plaintext, strlen(plaintext), &a, &error) == 0);
	CHECK(webpush_encrypt(&k, NULL, NULL, plaintext, strlen(plaintext), &b, &error) == 0);
	CHECK_EQ_INT(a.len, b.len);
	CHECK(memcmp(a.data, b.data, WEBPUSH_SALT_LEN) != 0);                 /* salt */
	CHECK(memcmp(a.data + 21, b.data + 21, WEBPUSH_P256_LEN) != 0);       /* keyid */
	CHECK_EQ_INT((unsigned char)a.data[20], WEBPUSH_P256_LEN);
	CHECK_EQ_INT((unsigned char)a.data[18], 0x10);                        /* rs 4096 */
	CHECK(webpush_decrypt(uapriv, &k, a.data, a.len, &pa, &error) == 0);
	CHECK(webpush_decrypt(uapriv, &k, b.data, b.len, &pb, &error) == 0);
	CHECK(pa.len == strlen(plaintext) && memcmp(pa.data, plaintext, pa.len) == 0);
	CHECK(pb.len == pa.len && memcmp(pa.data, pb.data, pa.len) == 0);
	/* The empty message and the longest one; one more is refused. */
	buf_truncate(&a, 0);
	buf_truncate(&pa, 0);
	CHECK(webpush_encrypt(&k, NULL, NULL, "", 0, &a, &error) == 0);
	CHECK(webpush_decrypt(uapriv, &k, a.data, a.len, &pa, &error) == 0 && pa.len == 0);
	memset(big, 'x', sizeof big);
	buf_truncate(&a, 0);
	buf_truncate(&pa, 0);
	CHECK(webpush_encrypt(&k, NULL, NULL, big, WEBPUSH_PLAIN_MAX, &a, &error) == 0);
	CHECK_EQ_INT(a.len, 4096);
	CHECK(webpush_decrypt(uapriv, &k, a.data, a.len, &pa, &error) == 0 && pa.len == WEBPUSH_PLAIN_MAX);
	buf_truncate(&b, 0);
	CHECK(webpush_encrypt(&k, NULL, NULL, big, WEBPUSH_PLAIN_MAX + 1, &b, &error) == -1);
	CHECK(b.len == 0 && error != NULL);
	buf_free(&a);
	buf_free(&b);
	buf_free(&pa);
	buf_free(&pb);
}

static void test_keys_parse(void)
{
	struct webpush_keys k;
	const char *error = NULL;
	char bad[128];
	struct buf t = BUF_INIT;
	unsigned char pt[WEBPUSH_P256_LEN];

	CHECK(webpush_keys_parse(ua_public, auth_b64, &k, &error) == 0);
	CHECK(unb64(ua_public, pt, sizeof pt) == 0 && memcmp(k.p256dh, pt, sizeof pt) == 0);
	/* Padding is accepted (22 characters of auth: "=="). */
	CHECK(webpush_keys_parse(ua_public, "BTBZMqHH6r4Tts7J_aSIgg==", &k, &error) == 0);
	/* auth: 15 and 17 octets, a bad character, standard base64. */
	CHECK(webpush_keys_parse(ua_public, "BTBZMqHH6r4Tts7J_aSI", &k, &error) == -1);
	CHECK(strstr(error, "keys/auth") != NULL);
	CHECK(webpush_keys_parse(ua_public, "BTBZMqHH6r4Tts7J_aSIggAA", &k, &error) == -1);
	CHECK(webpush_keys_parse(ua_public, "BTBZMqHH6r4Tts7J/aSIgg", &k, &error) == -1);
	CHECK(webpush_keys_parse(ua_public, "", &k, &error) == -1);
	/* p256dh: short, compressed form, off the curve, not base64url. */
	CHECK(webpush_keys_parse(auth_b64, auth_b64, &k, &error) == -1);
	CHECK(strstr(error, "keys/p256dh") != NULL);
	pt[0] = 0x02;
	evm_b64url_encode(pt, 33, &t);
	CHECK(webpush_keys_parse(t.data, auth_b64, &k, &error) == -1);
	CHECK(unb64(ua_public, pt, sizeof pt) == 0);
	pt[64] ^= 1;
	buf_truncate(&t, 0);
	evm_b64url_encode(pt, sizeof pt, &t);
	CHECK(webpush_keys_parse(t.data, auth_b64, &k, &error) == -1);
	CHECK_EQ_STR(error, "keys/p256dh: not a point on P-256");
	memset(pt, 0, sizeof pt);
	pt[0] = 0x04;
	buf_truncate(&t, 0);
	evm_b64url_encode(pt, sizeof pt, &t);
	CHECK(webpush_keys_parse(t.data, auth_b64, &k, &error) == -1);
	snprintf(bad, sizeof bad, "%s!", ua_public);
	CHECK(webpush_keys_parse(bad, auth_b64, &k, &error) == -1);
	buf_free(&t);
}

static void test_b64url(void)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg" },
		{ "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" }, { "\xfb\xff", "-_8" },
	};
	unsigned char out[16];
	size_t n = 0;

	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		struct buf b = BUF_INIT;

		evm_b64url_encode((const unsigned char *)vec[i][0], strlen(vec[i][0]), &b);
		CHECK_EQ_STR(b.len > 0 ? b.data : "", vec[i][1]);
		buf_free(&b);
		CHECK(evm_b64url_decode(vec[i][1], strlen(vec[i][1]), out, sizeof out, &n) == 0);
		CHECK(n == strlen(vec[i][0]) && memcmp(out, vec[i][0], n) == 0);
	}
	CHECK(evm_b64url_decode("Zg==", 4, out, sizeof out, &n) == 0 && n == 1);
	CHECK(evm_b64url_decode("Zm8=", 4, out, sizeof out, &n) == 0 && n == 2);
	CHECK(evm_b64url_decode("Zg=", 3, out, sizeof out, &n) == -1);     /* padding short */
	CHECK(evm_b64url_decode("Zm8==", 5, out, sizeof out, &n) == -1);
	CHECK(evm_b64url_decode("Zh", 2, out, sizeof out, &n) == -1);      /* bits left over */
	CHECK(evm_b64url_decode("Zm9vY", 5, out, sizeof out, &n) == -1);   /* 4n+1 characters */
	CHECK(evm_b64url_decode("Zm+v", 4, out, sizeof out, &n) == -1);
	CHECK(evm_b64url_decode("Zm9v", 4, out, 2, &n) == -1);             /* too long for out */
}

/* Every truncation and every flipped octet of the Appendix A body is
 * refused with an error; nothing is appended. */
static void test_malformed(void)
{
	unsigned char body[256], uapriv[WEBPUSH_PRIV_LEN];
	struct webpush_keys k;
	struct buf plain = BUF_INIT;
	const char *error = NULL;
	size_t len = 0;

	CHECK(webpush_keys_parse(ua_public, auth_b64, &k, &error) == 0);
	CHECK(unb64(ua_private, uapriv, sizeof uapriv) == 0);
	CHECK(evm_b64url_decode(body_b64, strlen(body_b64), body, sizeof body, &len) == 0);
	for (size_t i = 0; i < len; i++) {
		error = NULL;
		CHECK(webpush_decrypt(uapriv, &k, body, i, &plain, &error) == -1);
		CHECK(error != NULL && plain.len == 0);
	}
	for (size_t i = 0; i < len; i++) {
		body[i] ^= 0x40;
		error = NULL;
		/* rs grows harmlessly when its high octets change. */
		if (i < 16 || i > 19)
			CHECK(webpush_decrypt(uapriv, &k, body, len, &plain, &error) == -1);
		body[i] ^= 0x40;
		CHECK(plain.len == 0);
	}
	/* Longer than WEBPUSH_BODY_MAX: refused before anything is read. */
	CHECK(webpush_decrypt(uapriv, &k, body, (size_t)WEBPUSH_BODY_MAX + 1, &plain, &error) == -1);
	CHECK_EQ_STR(error, "aes128gcm: too long");
	/* A record longer than rs (two records) is refused. */
	body[18] = 0;
	body[19] = 40;
	CHECK(webpush_decrypt(uapriv, &k, body, len, &plain, &error) == -1);
	CHECK(strstr(error, "record") != NULL);
	buf_free(&plain);
}

int main(void)
{
	test_run("webpush: RFC 8291 Appendix A byte for byte, and decrypted", test_rfc8291_appendix_a);
	test_run("webpush: a fresh key and salt per message; limits", test_fresh_each_message);
	test_run("webpush: the keys a client gives", test_keys_parse);
	test_run("webpush: base64url", test_b64url);
	test_run("webpush: malformed bodies refused", test_malformed);
	return test_done();
}

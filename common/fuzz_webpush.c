/* fuzz_webpush - libFuzzer target for what common/webpush.h reads from
 * outside: the keys a client gives (base64url p256dh and auth, split at
 * the first newline of the input) and, when the input starts with 0x00,
 * an aes128gcm body decrypted with the user agent key of RFC 8291
 * Appendix A.
 *
 * Besides not crashing, checks that accepted keys round-trip through
 * base64url, that an accepted body yields no more plaintext than it
 * carried, and that a refusal always says why and appends nothing. */
#include "common/webpush.h"
#include "common/base64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Decodes the RFC 8291 Appendix A user agent's keys. */
static void rfc_user_agent(unsigned char priv[WEBPUSH_PRIV_LEN], struct webpush_keys *k)
{
	const char *error = NULL;
	size_t n = 0;

	check(webpush_keys_parse("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
				 "BTBZMqHH6r4Tts7J_aSIgg", k, &error) == 0);
	check(evm_b64url_decode("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94", 43, priv, WEBPUSH_PRIV_LEN, &n) == 0 &&
	      n == WEBPUSH_PRIV_LEN);
}

/* The body path: decrypt data[size]. */
static void body(const uint8_t *data, size_t size)
{
	unsigned char priv[WEBPUSH_PRIV_LEN];
	struct webpush_keys k;
	struct buf out = BUF_INIT;
	const char *error = NULL;

	rfc_user_agent(priv, &k);
	if (webpush_decrypt(priv, &k, data, size, &out, &error) == 0)
		check(size >= WEBPUSH_HEADER_LEN + 1 + WEBPUSH_TAG_LEN &&
		      out.len <= size - WEBPUSH_HEADER_LEN - 1 - WEBPUSH_TAG_LEN);
	else
		check(error != NULL && out.len == 0);
	buf_free(&out);
}

/* The keys path: "p256dh\nauth". */
static void keys(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *nl;
	struct webpush_keys k;
	const char *error = NULL;

	if (in == NULL)
		return;
	memcpy(in, data, size);
	in[size] = '\0';
	nl = strchr(in, '\n');
	if (nl != NULL) {
		*nl = '\0';
		if (webpush_keys_parse(in, nl + 1, &k, &error) == 0) {
			struct buf p = BUF_INIT, a = BUF_INIT;
			struct webpush_keys again;

			check(k.p256dh[0] == 0x04);
			evm_b64url_encode(k.p256dh, sizeof k.p256dh, &p);
			evm_b64url_encode(k.auth, sizeof k.auth, &a);
			check(webpush_keys_parse(p.data, a.data, &again, &error) == 0);
			check(memcmp(&k, &again, sizeof k) == 0);
			buf_free(&p);
			buf_free(&a);
		} else {
			check(error != NULL);
		}
	}
	free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == 0x00)
		body(data + 1, size - 1);
	else
		keys(data, size);
	return 0;
}

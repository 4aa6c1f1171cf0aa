/* fuzz_dkim - libFuzzer target for the DKIM signer's header split and
 * relaxed canonicalisation (common/dkim.c) over arbitrary messages (built
 * with -DEVMAIL_FUZZ=ON, or by hand):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       common/fuzz_dkim.c common/dkim.c common/scram.c common/buf.c \
 *       common/log.c -lcrypto -ljansson -o /tmp/fuzz_dkim
 *   /tmp/fuzz_dkim -max_total_time=30 -max_len=4000
 *
 * Besides not crashing: every line of the field fits the folding width,
 * and the relaxed body is idempotent. */
#include "common/dkim.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key;
	static const unsigned char seed[32] = { 1, 2, 3 };
	struct buf once = BUF_INIT, twice = BUF_INIT;
	char *field = NULL;
	const char *error = NULL;

	if (key == NULL)
		key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof seed);
	buf_puts(&once, "");
	buf_puts(&twice, "");
	dkim_canon_body((const char *)data, size, &once);
	dkim_canon_body(once.data, once.len, &twice);
	check(once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0);
	check(dkim_sign((const char *)data, size, "x.test", "s", key, 1, &field, &error) == 0);
	for (const char *p = field, *e; (e = strstr(p, "\r\n")) != NULL; p = e + 2)
		check((size_t)(e - p) <= DKIM_FOLD_WIDTH);
	free(field);
	buf_free(&once);
	buf_free(&twice);
	return 0;
}

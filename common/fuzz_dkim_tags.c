/* fuzz_dkim_tags - libFuzzer target for the DKIM tag-list push parser
 * (common/dkim_tags.c) and what is built on it: the DKIM-Signature and
 * ARC-Message-Signature checks and the key record parser
 * (common/dkim_verify.c).
 *
 * Besides not crashing: the input fed whole, one byte at a time and in
 * 7-byte pieces gives the same tags (or the same error). */
#include "common/dkim_tags.h"
#include "common/dkim_verify.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Parses in pieces of step octets. */
static int parse_split(struct dkim_tags *t, const char *p, size_t len, size_t step, const char **error_r)
{
	dkim_tags_init(t);
	for (size_t i = 0; i < len; i += step)
		dkim_tags_feed(t, p + i, i + step <= len ? step : len - i);
	return dkim_tags_finish(t, error_r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *e1 = NULL, *e2 = NULL;
	struct dkim_tags whole, split;
	struct dkim_sig sig;
	EVP_PKEY *key = NULL;
	int r1, r2;

	if (size > 20000)
		return 0;
	r1 = parse_split(&whole, p, size, size > 0 ? size : 1, &e1);
	for (size_t step = 1; step <= 7; step += 6) {
		r2 = parse_split(&split, p, size, step, &e2);
		check(r1 == r2);
		if (r1 == 0) {
			check(whole.n == split.n);
			for (size_t i = 0; i < whole.n; i++)
				check(strcmp(whole.tag[i].name, split.tag[i].name) == 0 &&
				      strcmp(whole.tag[i].value, split.tag[i].value) == 0);
		} else {
			check(strcmp(e1, e2) == 0);
		}
		dkim_tags_free(&split);
	}
	dkim_tags_free(&whole);
	if (dkim_sig_parse(p, size, 0, &sig, &e1) == 0)
		dkim_sig_free(&sig);
	if (dkim_sig_parse(p, size, 1, &sig, &e1) == 0)
		dkim_sig_free(&sig);
	if (dkim_key_parse(p, size, DKIM_ALG_RSA_SHA256, &key, &e1) == 0)
		EVP_PKEY_free(key);
	key = NULL;
	if (dkim_key_parse(p, size, DKIM_ALG_ED25519_SHA256, &key, &e1) == 0)
		EVP_PKEY_free(key);
	return 0;
}

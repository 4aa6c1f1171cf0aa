/* fuzz_fts_text - libFuzzer target for the search text normaliser
 * (fts_text.c; built with -DEVMAIL_FUZZ=ON).
 *
 * Input: a message. Its summary is parsed, its pieces and trigram set
 * built; then the invariant the index rests on is checked: every trigram
 * of a slice of the casemapped BODY text is in the document's set (no
 * message may be ruled out that contains a needle). Aborts otherwise. */
#include "gateway/fts/fts.h"
#include "gateway/fts/fts_casemap.h"
#include "common/mime.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* 1 when the set holds (f, t[0..2]). */
static int has(const struct evm_fts_doc *d, int f, const unsigned char *t)
{
	uint32_t key = (((uint32_t)f << 24) | ((uint32_t)t[0] << 16) | ((uint32_t)t[1] << 8) | t[2]) + 1;

	for (size_t i = 0; i < d->cap; i++) {
		if (d->slot[i] == key)
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *msg = (const char *)data;
	struct evm_fts_doc d = { 0 };
	struct buf body = BUF_INIT;
	size_t plen = size > 0 ? data[0] % 8 : 0;   /* a stored prefix of up to 7 octets */
	json_t *s2 = plen < size ? mime_parse(data + plen, size - plen, NULL) : json_object();
	int cut;

	cut = evm_fts_doc_message(&d, msg, size, plen, s2, NULL);
	evm_fts_body_text(msg, size, plen, s2, &body);
	if (!cut && body.len > 0) {
		char *m = fts_casemap(body.data, body.len);
		size_t ml = strlen(m), at = ml / 2, n = ml - at < 9 ? ml - at : 9;

		for (size_t i = at; n >= 3 && i + 3 <= at + n; i++) {
			if (!has(&d, EVM_FTS_F_BODY, (const unsigned char *)m + i))
				abort();
		}
		free(m);
	}
	buf_free(&body);
	evm_fts_doc_free(&d);
	json_decref(s2);
	return 0;
}

/* fuzz_mime - libFuzzer target for the MIME parser (built with
 * -DEVMAIL_FUZZ=ON, or by hand:
 *
 *   clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -I. \
 *       common/fuzz_mime.c common/mime_*.c common/buf.c common/log.c \
 *       -ljansson -o /tmp/fuzz_mime
 *
 * Parses the input whole and in pieces whose sizes come from the input
 * itself, and aborts if the summaries differ or cannot be encoded as JSON
 * (every string must be valid UTF-8). Also runs the header decoders. */
#include "common/mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Parses in pieces of 1..64 bytes, sizes taken from the data. */
static json_t *parse_pieces(const unsigned char *data, size_t size, const struct mime_limits *lim)
{
	struct mime_parser *p = mime_parser_new(lim);
	json_t *j;
	size_t i = 0, k = 0;

	while (i < size) {
		size_t n = 1 + (size_t)(data[k % size] ^ (unsigned char)(k * 31)) % 64;

		k++;

		if (n > size - i)
			n = size - i;
		mime_parser_feed(p, data + i, n);
		i += n;
	}
	j = mime_parser_finish(p);
	mime_parser_free(&p);
	return j;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	/* small limits too, so the limit paths are reached by small inputs */
	static const struct mime_limits small = { 3, 8, 200 };
	const struct mime_limits *lims[2] = { NULL, &small };

	for (int l = 0; l < 2; l++) {
		json_t *whole = mime_parse(data, size, lims[l]);
		json_t *pieces = parse_pieces(data, size, lims[l]);
		char *text = json_dumps(whole, JSON_SORT_KEYS);

		if (whole == NULL || !json_equal(whole, pieces) || text == NULL)
			abort();
		free(text);
		json_decref(whole);
		json_decref(pieces);
	}
	if (size < 4096) {
		char *s = malloc(size + 1), *d, *b;

		if (s == NULL)
			return 0;
		memcpy(s, data, size);
		s[size] = '\0';
		d = mime_decode_header(s, size);
		b = mime_base_subject(d);
		free(d);
		free(b);
		free(s);
	}
	return 0;
}

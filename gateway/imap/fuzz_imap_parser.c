/* fuzz_imap_parser - libFuzzer target for the IMAP command parser and
 * sequence sets.
 *
 * The first octet picks the limits (default, small, tiny, LITERAL- with
 * non-synchronising literals of at most 8 octets), the rest is a
 * client's byte stream. Besides not crashing: the stream fed whole, one
 * octet at a time and in chunks chosen by the input gives the same
 * sequence of results (commands with their argument trees, CONTINUEs,
 * errors with tag and text), every call keeps the feed contract (progress,
 * NEED_MORE consumes everything) and every argument is well-formed
 * (imap_parser_transcript.h writes "\x01!" otherwise). The stream is also
 * parsed as a sequence set, whose result must be sorted, merged and agree
 * with imap_seqset_contains. */
#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_parser_transcript.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

struct input_chunks {
	const uint8_t *data;
	size_t size, next;
};

/* Chunk sizes 1..23 read from the input itself. */
static size_t input_chunk(void *ctx)
{
	struct input_chunks *ic = ctx;
	size_t n = ic->size == 0 ? 1 : (size_t)(ic->data[ic->next % ic->size] % 23) + 1;

	ic->next += 7;
	return n;
}

/* The sequence-set parser on the same bytes: its invariants. */
static void fuzz_seqset(const uint8_t *data, size_t size)
{
	size_t len = size < 256 ? size : 256;
	char *s = malloc(len + 1);
	struct imap_range *r;
	size_t n;

	check(s != NULL);
	memcpy(s, data, len);
	s[len] = '\0';
	if (imap_seqset_parse(s, 77, &r, &n) == 0) {
		check(n > 0 && r != NULL);
		for (size_t i = 0; i < n; i++) {
			check(r[i].lo <= r[i].hi);
			check(i == 0 || r[i].lo > r[i - 1].hi + 1);
			check(imap_seqset_contains(r, n, r[i].lo) && imap_seqset_contains(r, n, r[i].hi));
			check(r[i].lo == 0 || !imap_seqset_contains(r, n, r[i].lo - 1));
			check(r[i].hi == 4294967295u || !imap_seqset_contains(r, n, r[i].hi + 1));
		}
		free(r);
	} else {
		check(r == NULL && n == 0);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct imap_parser_limits limits[] = {
		{ .max_line = 0 },
		{ .max_line = 200, .max_literal = 64, .max_args = 16, .max_depth = 4 },
		{ .max_line = 20, .max_literal = 3, .max_args = 2, .max_depth = 1 },
		{ .max_line = 200, .max_literal = 64, .max_args = 16, .max_depth = 4, .max_nonsync = 8 },
	};
	const struct imap_parser_limits *lim;
	struct input_chunks ic = { data, size, 0 };
	char *whole, *bytewise, *chunked;
	const char *in;

	if (size == 0)
		return 0;
	lim = &limits[data[0] % 4];
	in = (const char *)data + 1;
	size--;
	whole = transcript(in, size, NULL, NULL, lim);
	bytewise = transcript(in, size, transcript_one_octet, NULL, lim);
	chunked = transcript(in, size, input_chunk, &ic, lim);
	check(strchr(whole, '\x01') == NULL && strchr(bytewise, '\x01') == NULL && strchr(chunked, '\x01') == NULL);
	check(strcmp(whole, bytewise) == 0);
	check(strcmp(whole, chunked) == 0);
	free(whole);
	free(bytewise);
	free(chunked);
	fuzz_seqset(data + 1, size);
	return 0;
}

/* test_imap_parser_literal_minus - LITERAL- (RFC 7888 4): with max_nonsync
 * 4096, a non-synchronising literal of 4096 octets parses, one of 4097 (on
 * a valid or an erroneous line, literal or literal8) is a fatal BAD
 * [TOOBIG] whose octets are never taken for commands, a synchronising
 * literal of any size up to max_literal still gets its continuation.
 * Every case is fed whole, one octet, seven octets at a time and in random
 * splits, with identical transcripts. */
#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_parser_transcript.h"
#include "tests/unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>

#define TOOBIG_TEXT "[TOOBIG] Non-synchronizing literal over 4096 octets (LITERAL-)"

static const struct imap_parser_limits minus = {
	.max_line = 1000, .max_literal = 100000, .max_args = 100, .max_depth = 4, .max_nonsync = 4096
};

/* Chunks of seven octets. */
static size_t seven(void *ctx)
{
	(void)ctx;
	return 7;
}

/* in fed in every way gives want; lim: the limits. */
static bool same_all_ways(size_t idx, const struct buf *in, const char *want, const struct imap_parser_limits *lim)
{
	char *whole = transcript(in->data, in->len, NULL, NULL, lim);
	char *bytewise = transcript(in->data, in->len, transcript_one_octet, NULL, lim);
	char *sevens = transcript(in->data, in->len, seven, NULL, lim);
	bool ok = transcript_same("whole", idx, whole, want) && transcript_same("bytewise", idx, bytewise, want) &&
		  transcript_same("sevens", idx, sevens, want);

	for (unsigned seed = 1; ok && seed <= 20; seed++) {
		struct rand_chunks rc = { seed * 7919u + (unsigned)idx, seed % 2 ? 13 : 900 };
		char *split = transcript(in->data, in->len, transcript_random_chunk, &rc, lim);

		ok = transcript_same("random", idx, split, want);
		free(split);
	}
	free(whole);
	free(bytewise);
	free(sevens);
	return ok;
}

/* Appends n octets 'x'. */
static void xs(struct buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_puts(b, "x");
}

/* The transcript's form of n octets 'x' as a literal. */
static void xs_literal(struct buf *b, size_t n, bool binary)
{
	buf_printf(b, "%s{%zu}\"", binary ? "~" : "", n);
	xs(b, n);
	buf_puts(b, "\"");
}

/* 4096 octets: accepted without a continuation, then the next command. */
static void test_at_limit(void)
{
	struct buf in = BUF_INIT, want = BUF_INIT;

	buf_puts(&in, "a LOGIN {4096+}\r\n");
	xs(&in, 4096);
	buf_puts(&in, " ~{4096+}\r\n");
	xs(&in, 4096);
	buf_puts(&in, "\r\nz NOOP\r\n");
	buf_puts(&want, "C a LOGIN ");
	xs_literal(&want, 4096, false);
	buf_puts(&want, " ");
	xs_literal(&want, 4096, true);
	buf_puts(&want, "\nC z NOOP\n");
	CHECK(same_all_ways(0, &in, want.data, &minus));
	buf_free(&in);
	buf_free(&want);
}

/* 4097 octets: BAD [TOOBIG] at the announcement's CRLF; the octets that
 * follow (here a would-be command) are never parsed. */
static void test_over_limit(void)
{
	static const char *const heads[] = {
		"a LOGIN {4097+}\r\n",
		"a LOGIN joe {4097+}\n",
		"a APPEND INBOX ~{4097+}\r\n",
		"a LOGIN {00004097+}\r\n",
		/* on a line already in error: still fatal, not skipped */
		"a LOGIN ) {4097+}\r\n",
		"a LOGIN \"x\ry\" {99999999999+}\r\n",
	};

	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
		struct buf in = BUF_INIT;

		buf_puts(&in, heads[i]);
		buf_puts(&in, "z NOOP\r\n");
		xs(&in, 4097);
		buf_puts(&in, "\r\ny NOOP\r\n");
		CHECK(same_all_ways(i + 1, &in, "F a " TOOBIG_TEXT "\n", &minus));
		buf_free(&in);
	}
}

/* After the fatal error every feed answers the same error and consumes
 * nothing, even after a reset. */
static void test_sticky(void)
{
	struct imap_parser *p = imap_parser_new(&minus);
	struct imap_command *cmd = NULL;
	const char *error = NULL, *in = "a LOGIN {5000+}\r\nb NOOP\r\n";
	size_t used = 0;

	CHECK_EQ_INT(imap_parser_feed(p, in, strlen(in), &used, &cmd, &error), IMAP_PARSE_ERROR);
	CHECK_EQ_INT((int)used, 17);
	CHECK(imap_parser_fatal(p));
	CHECK_EQ_STR(cmd->tag, "a");
	CHECK_EQ_STR(error, TOOBIG_TEXT);
	imap_parser_reset(p);
	CHECK_EQ_INT(imap_parser_feed(p, in + used, strlen(in + used), &used, &cmd, &error), IMAP_PARSE_ERROR);
	CHECK_EQ_INT((int)used, 0);
	CHECK(imap_parser_fatal(p));
	CHECK_EQ_STR(error, TOOBIG_TEXT);
	imap_parser_free(&p);
}

/* Synchronising literals above 4096 are fine (the client waited for "+");
 * without max_nonsync (LITERAL+) a large non-synchronising one is too. */
static void test_sync_and_plus(void)
{
	struct buf in = BUF_INIT, want = BUF_INIT;

	buf_puts(&in, "a APPEND INBOX {5000}\r\n");
	xs(&in, 5000);
	buf_puts(&in, "\r\nz NOOP\r\n");
	buf_puts(&want, "+ a\nC a APPEND INBOX ");
	xs_literal(&want, 5000, false);
	buf_puts(&want, "\nC z NOOP\n");
	CHECK(same_all_ways(10, &in, want.data, &minus));
	buf_free(&in);
	buf_free(&want);

	buf_puts(&in, "a APPEND INBOX {5000+}\r\n");
	xs(&in, 5000);
	buf_puts(&in, "\r\nz NOOP\r\n");
	buf_puts(&want, "C a APPEND INBOX ");
	xs_literal(&want, 5000, false);
	buf_puts(&want, "\nC z NOOP\n");
	CHECK(same_all_ways(11, &in, want.data, NULL));
	buf_free(&in);
	buf_free(&want);
}

/* A limit of its own: an over-max_literal non-synchronising literal under
 * LITERAL- is the fatal TOOBIG too (it is also over 4096). */
static void test_over_max_literal(void)
{
	struct buf in = BUF_INIT;

	buf_puts(&in, "a APPEND INBOX {200000+}\r\n");
	xs(&in, 300);
	CHECK(same_all_ways(12, &in, "F a " TOOBIG_TEXT "\n", &minus));
	buf_free(&in);
}

int main(void)
{
	test_run("LITERAL-: 4096 octets parse", test_at_limit);
	test_run("LITERAL-: 4097 octets are a fatal BAD [TOOBIG]", test_over_limit);
	test_run("LITERAL-: the fatal error sticks", test_sticky);
	test_run("LITERAL-: synchronising literals and LITERAL+", test_sync_and_plus);
	test_run("LITERAL-: over max_literal", test_over_max_literal);
	return test_done();
}

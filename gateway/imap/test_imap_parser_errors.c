/* test_imap_parser_errors - malformed commands and limits: each gives
 * IMAP_PARSE_ERROR with the right tag and text, the parser resynchronises
 * at the line end (skipping non-synchronising literals announced on it),
 * and the next command on the same stream parses. Every case is fed whole,
 * one octet at a time and in random splits. */
#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_parser_transcript.h"
#include "tests/unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>

enum lim { LIM_DEFAULT, LIM_SMALL };

struct error_case {
	const char *in;
	size_t len;          /* 0: strlen(in) */
	enum lim lim;
	const char *want;    /* "C z NOOP\n" is expected after it */
};

#define L(s) s, sizeof(s) - 1
#define S(s) s, 0

static const struct imap_parser_limits small = { .max_line = 100, .max_literal = 10, .max_args = 5, .max_depth = 3 };

static const struct error_case cases[] = {
	/* Lists */
	{ S("a FETCH 1 (FLAGS\r\n"), LIM_DEFAULT, "E a Missing ')'\n" },
	{ S("a FETCH 1 ((FLAGS)\n"), LIM_DEFAULT, "E a Missing ')'\n" },
	{ S("a FETCH 1 FLAGS)\r\n"), LIM_DEFAULT, "E a Unexpected ')'\n" },
	/* Quoted strings */
	{ S("a LOGIN \"x\\y\" p\r\n"), LIM_DEFAULT, "E a Invalid escape in quoted string\n" },
	{ S("a LOGIN \"x\ry\" p\r\n"), LIM_DEFAULT, "E a Invalid characters in quoted string\n" },
	{ S("a LOGIN \"unterminated\r\n"), LIM_DEFAULT, "E a Invalid characters in quoted string\n" },
	{ L("a LOGIN \"x\0y\" p\r\n"), LIM_DEFAULT, "E a Invalid characters in quoted string\n" },
	/* NUL outside literal8 */
	{ L("a LOGIN x\0y p\r\n"), LIM_DEFAULT, "E a Invalid characters in argument\n" },
	{ L("a LOGIN {3}\r\nx\0y\r\n"), LIM_DEFAULT, "+ a\nE a NUL in literal (use literal8)\n" },
	{ L("a LOGIN {3+}\r\nx\0y more \"stuff\r\n"), LIM_DEFAULT, "E a NUL in literal (use literal8)\n" },
	/* Tag and command name */
	{ S(" NOOP\r\n"), LIM_DEFAULT, "E * Missing tag\n" },
	{ S("\r\n"), LIM_DEFAULT, "E * Missing tag\n" },
	{ S("\n"), LIM_DEFAULT, "E * Missing tag\n" },
	{ S("a1\r\n"), LIM_DEFAULT, "E a1 Missing command\n" },
	{ S("a1 \r\n"), LIM_DEFAULT, "E a1 Missing command\n" },
	{ S("a1 UID\r\n"), LIM_DEFAULT, "E a1 Missing command after UID\n" },
	{ S("a1 UID \"FETCH\" 1\r\n"), LIM_DEFAULT, "E a1 Invalid command name\n" },
	{ S("a+1 NOOP\r\n"), LIM_DEFAULT, "E * Invalid tag\n" },
	{ S("* OK hi\r\n"), LIM_DEFAULT, "E * Invalid tag\n" },
	{ S("+ hello\r\n"), LIM_DEFAULT, "E * Invalid tag\n" },
	{ S("a\"b NOOP\r\n"), LIM_DEFAULT, "E * Invalid tag\n" },
	{ S("a (NOOP)\r\n"), LIM_DEFAULT, "E a Invalid command name\n" },
	{ S("a NO%OP\r\n"), LIM_DEFAULT, "E a Invalid command name\n" },
	{ S("a FETCH[ 1\r\n"), LIM_DEFAULT, "E a Invalid command name\n" },
	{ S("a ABCDEFGHIJABCDEFGHIJABCDEFGHIJABC\r\n"), LIM_DEFAULT, "E a Invalid command name\n" },
	/* Atoms and sections */
	/* An unclosed '[' is an ASTRING-CHAR (test_imap_parser.c); what
	 * follows it is read again as arguments, with their errors. */
	{ S("a FETCH 1 BODY[[]]\r\n"), LIM_DEFAULT, "E a Missing space between arguments\n" },
	{ S("a FETCH 1 BODY[HEADER \"x\r\n"), LIM_DEFAULT, "E a Invalid characters in quoted string\n" },
	{ S("a X a[b c\"d\r\n"), LIM_DEFAULT, "E a Invalid characters in quoted string\n" },
	{ S("a X a[b )\r\n"), LIM_DEFAULT, "E a Unexpected ')'\n" },
	{ S("a X a[b (c\r\n"), LIM_DEFAULT, "E a Missing ')'\n" },
	{ S("a X a[\x01\r\n"), LIM_DEFAULT, "E a Invalid characters in section\n" },
	{ S("a X a[b {3+}\r\nabc\r\n"), LIM_DEFAULT, "E a Invalid characters in section\n" },
	{ S("a FETCH 1 BODY[HEADER.FIELDS (\"X\\-\")]\r\n"), LIM_DEFAULT, "E a Invalid escape in quoted string\n" },
	{ S("a FOO \"a\"\"b\"\r\n"), LIM_DEFAULT, "E a Missing space between arguments\n" },
	{ S("a FOO x(y)\r\n"), LIM_DEFAULT, "E a Missing space between arguments\n" },
	{ S("a FOO (x)y\r\n"), LIM_DEFAULT, "E a Missing space between arguments\n" },
	{ S("a FOO x{3}\r\n"), LIM_DEFAULT, "E a Missing space between arguments\n" },
	{ S("a FOO bar\rbaz\r\n"), LIM_DEFAULT, "E a CR not followed by LF\n" },
	{ S("a FOO b\x80r\r\n"), LIM_DEFAULT, "E a Invalid characters in argument\n" },
	{ S("a FOO \x7f\r\n"), LIM_DEFAULT, "E a Invalid characters in argument\n" },
	{ S("a FOO \tx\r\n"), LIM_DEFAULT, "E a Invalid characters in argument\n" },
	/* Literal announcements */
	{ S("a FOO {3x}\r\n"), LIM_DEFAULT, "E a Invalid literal size\n" },
	{ S("a FOO {}\r\n"), LIM_DEFAULT, "E a Invalid literal size\n" },
	{ S("a FOO {+}\r\n"), LIM_DEFAULT, "E a Invalid literal size\n" },
	{ S("a FOO {3+x\r\n"), LIM_DEFAULT, "E a Invalid literal size\n" },
	{ S("a FOO {99999999999999999999}\r\n"), LIM_DEFAULT, "E a Invalid literal size\n" },
	{ S("a FOO {3}x\r\n"), LIM_DEFAULT, "E a Missing CRLF after literal size\n" },
	{ S("a FOO {3}\rx\r\n"), LIM_DEFAULT, "E a Missing CRLF after literal size\n" },
	/* Resynchronisation: literals announced on an erroneous line */
	{ S("a FOO ) {8+}\r\nc NOOP\r\n\r\n"), LIM_DEFAULT, "E a Unexpected ')'\n" },
	{ S("a FOO ) {3+}\r\nabc more\r\n"), LIM_DEFAULT, "E a Unexpected ')'\n" },
	{ S("a FOO ) {5}\r\n"), LIM_DEFAULT, "E a Unexpected ')'\n" },
	{ S("a FOO ) {0+}\n\r\n"), LIM_DEFAULT, "E a Unexpected ')'\n" },
	{ L("a FOO ) ~{3+}\r\n\0\n\0 {2+}\n\r\n\r\n"), LIM_DEFAULT, "E a Unexpected ')'\n" },
	{ S("a FOO ) {2+} x\r\n"), LIM_DEFAULT, "E a Unexpected ')'\n" },
	{ S("a LOGIN {3+}\r\nabc \"x\r\n"), LIM_DEFAULT, "E a Invalid characters in quoted string\n" },
	{ S("a LOGIN {1}\r\nx )\r\n"), LIM_DEFAULT, "+ a\nE a Unexpected ')'\n" },
	/* Garbage */
	{ L("\x16\x03\x01\x02\x00\x01\x00\r\n"), LIM_DEFAULT, "E * Invalid tag\n" },
	{ L("\0\0\0\n"), LIM_DEFAULT, "E * Invalid tag\n" },
	/* Limits: depth, arguments, literal size, line length */
	{ S("a X (((x)))\r\n"), LIM_SMALL, "C a X (((x)))\n" },
	{ S("a X ((((x))))\r\n"), LIM_SMALL, "E a Lists nested too deeply\n" },
	{ S("a X 1 2 3 4 5\r\n"), LIM_SMALL, "C a X 1 2 3 4 5\n" },
	{ S("a X 1 2 3 4 5 6\r\n"), LIM_SMALL, "E a Too many arguments\n" },
	{ S("a X (1 2 3 4 5)\r\n"), LIM_SMALL, "E a Too many arguments\n" },
	{ S("a APPEND x {10}\r\n0123456789\r\n"), LIM_SMALL, "+ a\nC a APPEND x {10}\"0123456789\"\n" },
	{ S("a APPEND x {11}\r\n"), LIM_SMALL, "E a TOOBIG Literal too big\n" },
	{ S("a APPEND x {999999999999}\r\n"), LIM_SMALL, "E a TOOBIG Literal too big\n" },
	{ S("a APPEND x {11+}\r\nc NOOP\r\nxyz\r\n"), LIM_SMALL, "E a TOOBIG Literal too big\n" },
	{ L("a APPEND x ~{11+}\r\nc NOOP\r\n\0yz rest of line\r\n"), LIM_SMALL, "E a TOOBIG Literal too big\n" },
	{ S("a APPEND x {11+}\r\nc NOOP\r\nxyz {2+}\r\n\r\n\r\n"), LIM_SMALL, "E a TOOBIG Literal too big\n" },
	{ S("a X ) {11+}\r\nc NOOP\r\nxyz\r\n"), LIM_SMALL, "E a Unexpected ')'\n" },
	{ S("a X xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"),
	  LIM_SMALL, "C a X xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" },
	{ S("a X xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"),
	  LIM_SMALL, "E a Command line too long\n" },
	{ S("a X xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx {3+}\r\n"
	    "abc\r\n"), LIM_SMALL, "E a Command line too long\n" },
	{ S("a X xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx {12+}\r\nc NOOP\r\nabcd\r\n"), LIM_SMALL, "E a Command line too long\n" },
	{ S("a X xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx {12+}\r\nc NOOP\r\nabcd\r\n"), LIM_SMALL, "E a Command line too long\n" },
	{ S("a X xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx {12+}\r\nc NOOP\r\nabcd\r\n"), LIM_SMALL, "E a Command line too long\n" },
	{ S("a X xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx {12+}\r\nc NOOP\r\nabcd\r\n"), LIM_SMALL, "E a Command line too long\n" },
	{ S("a X xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx {12+}\r\nc NOOP\r\nabcd\r\n"), LIM_SMALL, "E a TOOBIG Literal too big\n" },
	/* Literal octets do not count against max_line. */
	{ S("a X {10+}\r\n0123456789 {10+}\r\n0123456789 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"),
	  LIM_SMALL, "C a X {10}\"0123456789\" {10}\"0123456789\" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" },
	/* Two errors in a row, a too-big flag does not stick */
	{ S("a APPEND x {11}\r\nb FOO (\r\n"), LIM_SMALL, "E a TOOBIG Literal too big\nE b Missing ')'\n" },
};

static void test_error_cases(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct error_case *ec = &cases[i];
		const struct imap_parser_limits *lim = ec->lim == LIM_SMALL ? &small : NULL;
		struct buf in = BUF_INIT, want = BUF_INIT;
		char *whole, *bytewise;
		bool ok;

		buf_append(&in, ec->in, ec->len != 0 ? ec->len : strlen(ec->in));
		buf_puts(&in, "z NOOP\r\n");
		buf_printf(&want, "%sC z NOOP\n", ec->want);
		whole = transcript(in.data, in.len, NULL, NULL, lim);
		bytewise = transcript(in.data, in.len, transcript_one_octet, NULL, lim);
		ok = transcript_same("whole", i, whole, want.data) && transcript_same("bytewise", i, bytewise, want.data);
		for (unsigned seed = 1; ok && seed <= 30; seed++) {
			struct rand_chunks rc = { seed * 104729u + (unsigned)i, seed % 3 == 0 ? 50 : 5 };
			char *split = transcript(in.data, in.len, transcript_random_chunk, &rc, lim);

			ok = transcript_same("random", i, split, want.data);
			free(split);
		}
		free(whole);
		free(bytewise);
		buf_free(&in);
		buf_free(&want);
		CHECK(ok);
	}
}

/* A tag of IMAP_TAG_MAX octets is fine, one more is not. */
static void test_tag_length(void)
{
	struct buf in = BUF_INIT, want = BUF_INIT;
	char tag[IMAP_TAG_MAX + 2];
	char *got;
	bool ok;

	memset(tag, 't', sizeof tag - 1);
	tag[IMAP_TAG_MAX] = '\0';
	buf_printf(&in, "%s NOOP\r\n", tag);
	buf_printf(&want, "C %s NOOP\n", tag);
	tag[IMAP_TAG_MAX] = 't';
	tag[IMAP_TAG_MAX + 1] = '\0';
	buf_printf(&in, "%s NOOP\r\nz NOOP\r\n", tag);
	buf_puts(&want, "E * Tag too long\nC z NOOP\n");
	got = transcript(in.data, in.len, transcript_one_octet, NULL, NULL);
	ok = transcript_same("tag", 0, got, want.data);
	free(got);
	buf_free(&in);
	buf_free(&want);
	CHECK(ok);
}

/* Lists nest up to the default max_depth (16), not deeper. */
static void test_default_depth(void)
{
	struct buf in = BUF_INIT, want = BUF_INIT;
	char *got;
	bool ok;

	buf_puts(&in, "a X ");
	buf_puts(&want, "C a X ");
	for (int i = 0; i < 16; i++) {
		buf_puts(&in, "(");
		buf_puts(&want, "(");
	}
	for (int i = 0; i < 16; i++) {
		buf_puts(&in, ")");
		buf_puts(&want, ")");
	}
	buf_puts(&in, "\r\nb X (((((((((((((((((x)))))))))))))))))\r\nz NOOP\r\n");
	buf_puts(&want, "\nE b Lists nested too deeply\nC z NOOP\n");
	got = transcript(in.data, in.len, NULL, NULL, NULL);
	ok = transcript_same("depth", 0, got, want.data);
	free(got);
	buf_free(&in);
	buf_free(&want);
	CHECK(ok);
}

/* A huge line under the default limits: one error, then parsing goes on. */
static void test_huge_line(void)
{
	struct buf in = BUF_INIT;
	char *got;
	bool ok;

	buf_puts(&in, "h1 APPEND ");
	for (int i = 0; i < 70000; i++)
		buf_puts(&in, i % 50 == 49 ? " " : "x");
	buf_puts(&in, "\r\nz NOOP\r\n");
	got = transcript(in.data, in.len, NULL, NULL, NULL);
	ok = transcript_same("huge", 0, got, "E h1 Command line too long\nC z NOOP\n");
	free(got);
	buf_free(&in);
	CHECK(ok);
}

/* set_limits() applies from the next command on. */
static void test_set_limits(void)
{
	struct imap_parser_limits pre = { .max_literal = 4 }, post = { .max_literal = 100 };
	struct imap_parser *p = imap_parser_new(&pre);
	struct imap_command *cmd;
	const char *err;
	size_t used;

	CHECK_EQ_INT(imap_parser_feed(p, "a LOGIN {5}\r\n", 13, &used, &cmd, &err), IMAP_PARSE_ERROR);
	CHECK(imap_parser_literal_too_big(p));
	CHECK_EQ_STR(cmd->tag, "a");
	CHECK_EQ_STR(err, "Literal too big");
	CHECK_EQ_INT(imap_parser_feed(p, "b LOGIN {4+}\r\nabcd x", 20, &used, &cmd, &err), IMAP_PARSE_NEED_MORE);
	imap_parser_set_limits(p, &post);    /* mid-command: not yet */
	CHECK_EQ_INT(imap_parser_feed(p, " {5}\r\n", 6, &used, &cmd, &err), IMAP_PARSE_ERROR);
	CHECK(imap_parser_literal_too_big(p));
	CHECK_EQ_INT(imap_parser_feed(p, "c LOGIN {5}\r\n", 13, &used, &cmd, &err), IMAP_PARSE_CONTINUE);
	CHECK(!imap_parser_literal_too_big(p));
	CHECK_EQ_INT(imap_parser_feed(p, "abcde x\r\n", 9, &used, &cmd, &err), IMAP_PARSE_COMMAND);
	CHECK_EQ_STR(cmd->args[0].str, "abcde");
	imap_parser_free(&p);
}

/* Unlimited-looking input is consumed without growing: a line with no end. */
static void test_endless_line(void)
{
	struct imap_parser_limits lim = { .max_line = 1000 };
	struct imap_parser *p = imap_parser_new(&lim);
	struct imap_command *cmd;
	const char *err;
	char junk[4096];
	size_t used;

	memset(junk, 'x', sizeof junk);
	CHECK_EQ_INT(imap_parser_feed(p, "a APPEND ", 9, &used, &cmd, &err), IMAP_PARSE_NEED_MORE);
	for (int i = 0; i < 1000; i++) {
		CHECK_EQ_INT(imap_parser_feed(p, junk, sizeof junk, &used, &cmd, &err), IMAP_PARSE_NEED_MORE);
		CHECK_EQ_INT(used, sizeof junk);
	}
	CHECK_EQ_INT(imap_parser_feed(p, "\r\n", 2, &used, &cmd, &err), IMAP_PARSE_ERROR);
	CHECK_EQ_STR(err, "Command line too long");
	CHECK_EQ_STR(cmd->tag, "a");
	imap_parser_free(&p);
}

int main(void)
{
	test_run("malformed commands and limits, then the next command", test_error_cases);
	test_run("tag length", test_tag_length);
	test_run("default list depth", test_default_depth);
	test_run("huge line", test_huge_line);
	test_run("set_limits applies to the next command", test_set_limits);
	test_run("endless line", test_endless_line);
	return test_done();
}

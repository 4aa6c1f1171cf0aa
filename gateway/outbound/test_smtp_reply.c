/* test_smtp_reply - the SMTP reply push parser: whole input, 1 byte and 7
 * bytes at a time must give the same transcript; malformed input errors. */
#include "gateway/outbound/smtp_reply.h"
#include "common/buf.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

/* Feeds in[0..len) in steps of step (0 = whole) and returns a transcript:
 * "code|enhanced|text|nlines\n" per reply, "E:error\n" on error, then
 * "rest=N" = bytes left unconsumed by a pending partial reply (N>0 means
 * MORE at the end). */
static char *transcript(const char *in, size_t len, size_t step)
{
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	struct buf out = BUF_INIT;
	size_t off = 0, pending = 0;

	buf_puts(&out, "");
	while (off < len) {
		size_t n = step == 0 || len - off < step ? len - off : step, used = 0;
		const struct smtp_reply *r = NULL;
		const char *error = NULL;
		enum smtp_reply_status st = smtp_reply_feed(p, (const unsigned char *)in + off, n, &used, &r, &error);

		off += used;
		if (st == SMTP_REPLY_ERROR) {
			buf_printf(&out, "E:%s\n", error);
			pending = 0;
			break;
		}
		if (st == SMTP_REPLY_DONE) {
			buf_printf(&out, "%d|%s|%s|%zu\n", r->code, r->enhanced, r->text, r->nlines);
			pending = 0;
		} else {
			pending += used;
		}
	}
	buf_printf(&out, "rest=%zu", pending);
	smtp_reply_parser_free(&p);
	return buf_steal(&out);
}

/* The three feeding patterns agree; returns the transcript. */
static char *run(const char *in, size_t len)
{
	char *a = transcript(in, len, 0), *b = transcript(in, len, 1), *c = transcript(in, len, 7);
	int same = strcmp(a, b) == 0 && strcmp(a, c) == 0;

	if (!same)
		fprintf(stderr, "whole:\n%s\n1-byte:\n%s\n7-byte:\n%s\n", a, b, c);
	free(b);
	free(c);
	if (!same) {
		free(a);
		return xstrdup("MISMATCH");
	}
	return a;
}

#define EXPECT(in, want) do { char *g_ = run(in, sizeof(in) - 1); int ok_ = strcmp(g_, want) == 0; \
	if (!ok_) { fprintf(stderr, "got:  %s\nwant: %s\n", g_, want); } free(g_); CHECK(ok_); } while (0)

static void test_single_and_multi(void)
{
	EXPECT("220 mx.test ESMTP ready\r\n", "220||mx.test ESMTP ready|1\nrest=0");
	EXPECT("250 2.1.0 Ok\r\n", "250|2.1.0|Ok|1\nrest=0");
	EXPECT("250\r\n", "250|||1\nrest=0");
	EXPECT("550-5.1.1 first\r\n550-5.1.1 second\r\n550 5.1.1 third\r\n",
	       "550|5.1.1|first second third|3\nrest=0");
	/* pipelined replies come out one by one */
	EXPECT("250 2.1.0 a\r\n451 4.3.0 b\r\n354 go\r\n", "250|2.1.0|a|1\n451|4.3.0|b|1\n354||go|1\nrest=0");
	/* bare LF accepted; trailing partial reply left pending */
	EXPECT("250 ok\n250-x", "250||ok|1\nrest=5");
	/* enhanced code class must match the reply class (RFC 3463 / RFC 2034) */
	EXPECT("550 2.1.0 odd\r\n", "550||2.1.0 odd|1\nrest=0");
	EXPECT("250 2.1 short\r\n", "250||2.1 short|1\nrest=0");
	EXPECT("250 2.1234.0 long\r\n", "250||2.1234.0 long|1\nrest=0");
}

static void test_malformed(void)
{
	EXPECT("25O ok\r\n", "E:malformed reply line (no reply code)\nrest=0");
	EXPECT("650 no\r\n", "E:malformed reply line (no reply code)\nrest=0");
	EXPECT("260 no\r\n", "E:malformed reply line (no reply code)\nrest=0");
	EXPECT("25\r\n", "E:malformed reply line (no reply code)\nrest=0");
	EXPECT("250_ok\r\n", "E:malformed reply line (bad separator)\nrest=0");
	EXPECT("250-a\r\n550 b\r\n", "E:inconsistent reply codes 250 and 550 in one reply\nrest=0");
	EXPECT("250 a\rb\r\n", "E:bare CR in reply line\nrest=0");
	EXPECT("250 a\0b\r\n", "E:NUL in reply\nrest=0");
	EXPECT("HTTP/1.1 400 Bad\r\n", "E:malformed reply line (no reply code)\nrest=0");
	/* missing CRLF: never a reply */
	EXPECT("250 never ends", "rest=14");
}

static void test_limits(void)
{
	struct buf b = BUF_INIT;
	char *g;

	/* a line of exactly 2048 bytes with CRLF is accepted, 2049 is not */
	buf_puts(&b, "250 ");
	for (int i = 0; i < 2042; i++)
		buf_puts(&b, "x");
	buf_puts(&b, "\r\n");
	CHECK_EQ_INT(b.len, 2048);
	g = run(b.data, b.len);
	CHECK(strncmp(g, "250||xxx", 8) == 0);
	free(g);
	buf_truncate(&b, 4);
	for (int i = 0; i < 2043; i++)
		buf_puts(&b, "x");
	buf_puts(&b, "\r\n");
	g = run(b.data, b.len);
	CHECK_EQ_STR(g, "E:reply line longer than 2048 bytes\nrest=0");
	free(g);
	/* 200 lines fine, 201 not */
	buf_truncate(&b, 0);
	for (int i = 0; i < 199; i++)
		buf_puts(&b, "250-x\r\n");
	buf_puts(&b, "250 x\r\n");
	g = run(b.data, b.len);
	CHECK(strncmp(g, "250||x x", 8) == 0 && strstr(g, "|200\n") != NULL);
	free(g);
	buf_truncate(&b, 0);
	for (int i = 0; i < 201; i++)
		buf_puts(&b, "250-x\r\n");
	g = run(b.data, b.len);
	CHECK_EQ_STR(g, "E:reply has more than 200 lines\nrest=0");
	free(g);
	/* total size: 199 lines of 400 bytes exceed 65536 */
	buf_truncate(&b, 0);
	for (int i = 0; i < 199; i++) {
		buf_puts(&b, "250-");
		for (int j = 0; j < 396; j++)
			buf_puts(&b, "y");
		buf_puts(&b, "\r\n");
	}
	g = run(b.data, b.len);
	CHECK_EQ_STR(g, "E:reply longer than 65536 bytes\nrest=0");
	free(g);
	buf_free(&b);
}

/* An error is final; reset makes the parser usable again. */
static void test_error_sticky_and_reset(void)
{
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	const struct smtp_reply *r = NULL;
	const char *error = NULL;
	size_t used;

	CHECK(smtp_reply_feed(p, (const unsigned char *)"xx\r\n", 4, &used, &r, &error) == SMTP_REPLY_ERROR);
	CHECK(smtp_reply_feed(p, (const unsigned char *)"250 ok\r\n", 8, &used, &r, &error) == SMTP_REPLY_ERROR);
	CHECK_EQ_INT(used, 0);
	smtp_reply_parser_reset(p);
	CHECK(smtp_reply_feed(p, (const unsigned char *)"250 ok\r\n", 8, &used, &r, &error) == SMTP_REPLY_DONE);
	CHECK_EQ_INT(r->code, 250);
	smtp_reply_parser_free(&p);
	CHECK(p == NULL);
}

static void test_ehlo(void)
{
	const char *in = "250-mx.test Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8bitmime\r\n"
			 "250-STARTTLS\r\n250-AUTH LOGIN PLAIN CRAM-MD5\r\n250-DSN\r\n250-SMTPUTF8\r\n"
			 "250-CHUNKING\r\n250-REQUIRETLS\r\n250-X-FOO bar\r\n250 ENHANCEDSTATUSCODES\r\n";
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	const struct smtp_reply *r = NULL;
	const char *error = NULL;
	struct smtp_ext e;
	size_t used;
	char line[64];

	CHECK(smtp_reply_feed(p, (const unsigned char *)in, strlen(in), &used, &r, &error) == SMTP_REPLY_DONE);
	smtp_reply_ehlo(r, &e);
	CHECK(e.pipelining && e.size && e.eightbitmime && e.starttls && e.auth_login && e.auth_plain);
	CHECK(e.dsn && e.smtputf8 && e.chunking && e.requiretls && e.enhancedstatuscodes && !e.binarymime);
	CHECK(e.size_max == 10240000);
	smtp_reply_format(r, line, sizeof line);
	CHECK(strncmp(line, "250 mx.test Hello PIPELINING SIZE", 33) == 0);

	in = "250-mx\r\n250-SIZE\r\n250-AUTH=LOGIN\r\n250 SIZE 99999999999999999999999\r\n";
	CHECK(smtp_reply_feed(p, (const unsigned char *)in, strlen(in), &used, &r, &error) == SMTP_REPLY_DONE);
	smtp_reply_ehlo(r, &e);
	CHECK(e.size && e.size_max == 0 && e.auth_login && !e.auth_plain && !e.pipelining);
	/* the greeting line is not a keyword */
	in = "250 PIPELINING\r\n";
	CHECK(smtp_reply_feed(p, (const unsigned char *)in, strlen(in), &used, &r, &error) == SMTP_REPLY_DONE);
	smtp_reply_ehlo(r, &e);
	CHECK(!e.pipelining);
	smtp_reply_parser_free(&p);
}

static void test_format(void)
{
	const char *in = "550 5.1.1 bad\tthing\r\n";
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	const struct smtp_reply *r = NULL;
	const char *error = NULL;
	size_t used;
	char line[12];

	CHECK(smtp_reply_feed(p, (const unsigned char *)in, strlen(in), &used, &r, &error) == SMTP_REPLY_DONE);
	smtp_reply_format(r, line, sizeof line);
	CHECK_EQ_STR(line, "550 5.1.1 b");
	{
		char big[64];
		smtp_reply_format(r, big, sizeof big);
		CHECK_EQ_STR(big, "550 5.1.1 bad?thing");
	}
	smtp_reply_parser_free(&p);
}

int main(void)
{
	test_run("single and multiline replies", test_single_and_multi);
	test_run("malformed replies", test_malformed);
	test_run("limits", test_limits);
	test_run("error is final, reset", test_error_sticky_and_reset);
	test_run("EHLO keywords", test_ehlo);
	test_run("one-line format", test_format);
	return test_done();
}

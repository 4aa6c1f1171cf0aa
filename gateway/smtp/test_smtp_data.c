/* test_smtp_data - the DATA/BDAT content machine, fed all at once and one
 * byte at a time: end only at CRLF.CRLF, dot-unstuffing, bare CR/LF, size
 * and line limits, and the published SMTP smuggling variants. */
#include "gateway/smtp/smtp_data.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

struct outcome {
	int ended;
	size_t consumed;
	char content[4096];
	size_t clen;
	int bare, too_big, long_line;
	uint64_t size;
};

static void run(enum smtp_data_mode mode, const char *in, size_t len, size_t step, size_t max_size,
		size_t max_line, struct outcome *o)
{
	struct buf out = BUF_INIT;
	struct smtp_data d;
	size_t off = 0;

	memset(o, 0, sizeof *o);
	smtp_data_init(&d, mode, &out, max_size, max_line);
	while (off < len && !o->ended) {
		size_t n = step == 0 || len - off < step ? len - off : step, used;
		o->ended = smtp_data_feed(&d, (const unsigned char *)in + off, n, &used);
		if (used > n || (!o->ended && used != n))
			abort();
		off += used;
	}
	if (mode == SMTP_DATA_RAW)
		smtp_data_finish(&d);
	o->consumed = off;
	o->clen = out.len < sizeof o->content ? out.len : sizeof o->content;
	if (out.len > 0)
		memcpy(o->content, out.data, o->clen);
	o->bare = d.bare_crlf;
	o->too_big = d.too_big;
	o->long_line = d.line_too_long;
	o->size = d.size;
	buf_free(&out);
}

/* Runs with steps 0, 1, 2 and 5; all must agree. Returns the all-at-once outcome. */
static int run_all(enum smtp_data_mode mode, const char *in, size_t len, size_t max_size, size_t max_line,
		   struct outcome *o)
{
	static const size_t steps[] = { 1, 2, 5 };
	struct outcome other;

	run(mode, in, len, 0, max_size, max_line, o);
	for (size_t i = 0; i < 3; i++) {
		run(mode, in, len, steps[i], max_size, max_line, &other);
		if (memcmp(o, &other, sizeof other) != 0)
			return 0;
	}
	return 1;
}

#define RUN(mode, in, o) CHECK(run_all(mode, in, sizeof(in) - 1, 1 << 20, 1000, o))

static void test_simple_end(void)
{
	struct outcome o;

	RUN(SMTP_DATA_DOT, "Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n", &o);
	CHECK(o.ended);
	CHECK_EQ_INT(o.consumed, sizeof("Subject: hi\r\n\r\nbody\r\n.\r\n") - 1);
	CHECK_EQ_INT(o.clen, 21);
	CHECK(memcmp(o.content, "Subject: hi\r\n\r\nbody\r\n", 21) == 0);
	CHECK(!o.bare && !o.too_big && !o.long_line);
	/* An empty message: the DATA line's CRLF is the first CRLF. */
	RUN(SMTP_DATA_DOT, ".\r\n", &o);
	CHECK(o.ended && o.clen == 0 && o.consumed == 3);
}

static void test_dot_unstuffing(void)
{
	struct outcome o;

	RUN(SMTP_DATA_DOT, "..\r\n...x\r\n.y\r\nz.\r\n.\r\n", &o);
	CHECK(o.ended);
	CHECK_EQ_INT(o.clen, sizeof(".\r\n..x\r\ny\r\nz.\r\n") - 1);
	CHECK(memcmp(o.content, ".\r\n..x\r\ny\r\nz.\r\n", o.clen) == 0);
	CHECK(!o.bare);
}

/* None of these may end DATA (SMTP smuggling, RFC 5321 2.3.8/4.1.1.4);
 * each one must be flagged bare CR/LF except the NUL one. */
static void test_smuggling_variants(void)
{
	static const struct {
		const char *in;
		size_t len;
		int bare;
	} v[] = {
#define V(s, b) { s, sizeof(s) - 1, b }
		V("a\n.\nMAIL FROM:<x@y.example>\n", 1),
		V("a\r.\rMAIL FROM:<x@y.example>\r", 1),
		V("a\n.\r\nMAIL FROM:<x@y.example>\r\n", 1),
		V("a\r\n.\nMAIL FROM:<x@y.example>\r\n", 1),
		V("a\r\n.\rMAIL FROM:<x@y.example>\r\n", 1),
		V("a\r.\r\nMAIL FROM:<x@y.example>\r\n", 1),
		V("a\r.\nMAIL FROM:<x@y.example>\r\n", 1),
		V("a\n.\rMAIL FROM:<x@y.example>\r\n", 1),
		V("a\r\n\x00.\r\nMAIL FROM:<x@y.example>\r\n", 0),
		V("a\r\n .\r\nMAIL\r\n", 0),
		V("a\r\n.\r\r\nMAIL\r\n", 1),
		V("\n.\r\n", 1),
		V("\r.\r\n", 1),
#undef V
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct outcome o;
		if (!run_all(SMTP_DATA_DOT, v[i].in, v[i].len, 1 << 20, 1000, &o) || o.ended || o.bare != v[i].bare) {
			fprintf(stderr, "variant %zu: ended=%d bare=%d\n", i, o.ended, o.bare);
			CHECK(0);
		}
		CHECK_EQ_INT(o.consumed, v[i].len);
	}
}

/* After a bare-LF variant, the real end still ends DATA, flagged. */
static void test_real_end_after_smuggle(void)
{
	struct outcome o;

	RUN(SMTP_DATA_DOT, "a\n.\nb\r\n.\r\n", &o);
	CHECK(o.ended && o.bare);
	RUN(SMTP_DATA_DOT, "a\r\n.\r\r\n.\r\n", &o);
	CHECK(o.ended && o.bare);
	/* A bare CR before a genuine CRLF.CRLF: that is the end (flagged). */
	RUN(SMTP_DATA_DOT, "a\r\r\n.\r\nMAIL\r\n", &o);
	CHECK(o.ended && o.bare && o.consumed == 7);
}

static void test_size_limit(void)
{
	struct outcome o;
	const char *msg = "0123456789\r\n0123456789\r\n.\r\n";

	CHECK(run_all(SMTP_DATA_DOT, msg, strlen(msg), 24, 1000, &o));
	CHECK(o.ended && !o.too_big && o.size == 24 && o.clen == 24);
	CHECK(run_all(SMTP_DATA_DOT, msg, strlen(msg), 23, 1000, &o));
	CHECK(o.ended && o.too_big && o.size == 24 && o.clen == 0);
}

static void test_line_limit(void)
{
	struct outcome o;
	char line[1100];

	memset(line, 'x', sizeof line);
	memcpy(line + 998, "\r\n.\r\n", 5);   /* 1000 octets with CRLF: fine */
	CHECK(run_all(SMTP_DATA_DOT, line, 1003, 1 << 20, 1000, &o));
	CHECK(o.ended && !o.long_line);
	memset(line, 'x', sizeof line);
	memcpy(line + 999, "\r\n.\r\n", 5);
	CHECK(run_all(SMTP_DATA_DOT, line, 1004, 1 << 20, 1000, &o));
	CHECK(o.ended && o.long_line);
}

static void test_raw_mode(void)
{
	struct outcome o;

	/* BDAT: no dot processing, never ends by itself. */
	RUN(SMTP_DATA_RAW, "a\r\n.\r\n..b\r\n", &o);
	CHECK(!o.ended && o.clen == 11 && memcmp(o.content, "a\r\n.\r\n..b\r\n", 11) == 0 && !o.bare);
	RUN(SMTP_DATA_RAW, "a\nb\r\n", &o);
	CHECK(o.bare);
	RUN(SMTP_DATA_RAW, "a\r\nb\r", &o);   /* trailing CR at LAST */
	CHECK(o.bare);
}

int main(void)
{
	test_run("end at CRLF.CRLF only", test_simple_end);
	test_run("dot-unstuffing", test_dot_unstuffing);
	test_run("smuggling variants never end data", test_smuggling_variants);
	test_run("real end after a smuggling attempt", test_real_end_after_smuggle);
	test_run("size limit", test_size_limit);
	test_run("line length limit", test_line_limit);
	test_run("BDAT raw mode", test_raw_mode);
	return test_done();
}

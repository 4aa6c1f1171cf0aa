/* test_http_parser - requests fed whole, one byte and seven bytes at a time
 * must give identical transcripts: heads, bodies, pipelined requests and
 * every error with its status. */
#include "gateway/http/http_parser.h"
#include "common/buf.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

static struct http_parser_settings settings;

/* Describes a head on one line. */
static void describe_head(struct buf *out, const struct http_head *h)
{
	buf_printf(out, "HEAD %s %s path=%s query=%s 1.%d%s%s%s len=%llu", h->method, h->target, h->path,
		   h->query != NULL ? h->query : "-", h->minor, h->keep_alive ? " keep" : " close",
		   h->expect_continue ? " 100" : "", h->chunked ? " chunked" : "",
		   (unsigned long long)h->content_length);
	if (h->upgrade != NULL)
		buf_printf(out, " upgrade=%s", h->upgrade);
	for (size_t i = 0; i < h->nfields; i++)
		buf_printf(out, " [%s: %s]", h->fields[i].name, h->fields[i].value);
	buf_puts(out, "\n");
}

/* Parses in with chunks of `step` bytes (0 = all at once): the transcript;
 * *left_r is what was never consumed (after an error). */
static char *run(const char *in, size_t len, size_t step, size_t *left_r)
{
	struct http_parser *p = http_parser_new(&settings);
	struct buf out = BUF_INIT, body = BUF_INIT;
	size_t off = 0;
	int failed = 0;

	while (off < len && !failed) {
		size_t end = step == 0 || len - off < step ? len : off + step;

		while (!failed) {
			const unsigned char *b;
			size_t used, blen;
			enum http_parse_status st = http_parser_feed(p, (const unsigned char *)in + off,
								     end - off, &used, &b, &blen);
			const char *reason;

			if (used > end - off)
				abort();
			off += used;
			if (st == HTTP_PARSE_MORE)
				break;
			if (st == HTTP_PARSE_HEAD) {
				describe_head(&out, http_parser_head(p));
			} else if (st == HTTP_PARSE_BODY) {
				buf_append(&body, b, blen);
			} else if (st == HTTP_PARSE_DONE) {
				buf_printf(&out, "BODY %zu:%s\nDONE\n", body.len, body.len > 0 ? body.data : "");
				buf_truncate(&body, 0);
				http_parser_next(p);
			} else {
				int status = http_parser_error(p, &reason);

				buf_printf(&out, "ERR %d %s\n", status, reason);
				failed = 1;
			}
		}
	}
	*left_r = len - off;
	http_parser_free(&p);
	buf_free(&body);
	buf_puts(&out, "");
	return buf_steal(&out);
}

/* Checks the transcript and that all three splits agree. */
static void check_case(const char *in, size_t len, const char *expect)
{
	size_t l1, l2, l3;
	char *all = run(in, len, 0, &l1);
	char *one = run(in, len, 1, &l2);
	char *seven = run(in, len, 7, &l3);
	int ok = strcmp(all, expect) == 0 && strcmp(one, all) == 0 && strcmp(seven, all) == 0;

	if (!ok)
		fprintf(stderr, "input: %.*s\nexpected:\n%s\nall:\n%s\nbytewise:\n%s\nseven:\n%s\n", (int)len, in,
			expect, all, one, seven);
	free(all);
	free(one);
	free(seven);
	CHECK(ok);
}

#define CASE(in, expect) check_case(in, sizeof(in) - 1, expect)

static void test_simple_get(void)
{
	CASE("GET /jmap/session?x=1&y HTTP/1.1\r\nHost: example.com\r\nAccept:  */* \r\n\r\n",
	     "HEAD GET /jmap/session?x=1&y path=/jmap/session query=x=1&y 1.1 keep len=0 [Host: example.com]"
	     " [Accept: */*]\nBODY 0:\nDONE\n");
	CASE("\r\n\r\nGET / HTTP/1.0\r\n\r\n", "HEAD GET / path=/ query=- 1.0 close len=0\nBODY 0:\nDONE\n");
	CASE("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	     "HEAD GET / path=/ query=- 1.0 keep len=0 [Connection: Keep-Alive]\nBODY 0:\nDONE\n");
	CASE("GET /a HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n",
	     "HEAD GET /a path=/a query=- 1.1 close len=0 [Host: h] [Connection: foo, close]\nBODY 0:\nDONE\n");
	CASE("GET /a HTTP/1.2\r\nHost: h\r\n\r\n", "HEAD GET /a path=/a query=- 1.1 keep len=0 [Host: h]\nBODY 0:\nDONE\n");
	CASE("GET http://Example.com:80?q HTTP/1.1\r\nHost: x\r\n\r\n",
	     "HEAD GET http://Example.com:80?q path=/ query=q 1.1 keep len=0 [Host: x]\nBODY 0:\nDONE\n");
	CASE("GET https://h/p/q HTTP/1.1\r\nHost: x\r\n\r\n",
	     "HEAD GET https://h/p/q path=/p/q query=- 1.1 keep len=0 [Host: x]\nBODY 0:\nDONE\n");
	CASE("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "HEAD OPTIONS * path=* query=- 1.1 keep len=0 [Host: h]\nBODY 0:\nDONE\n");
	CASE("GET /x HTTP/1.1\r\nHost:\r\n\r\n", "HEAD GET /x path=/x query=- 1.1 keep len=0 [Host: ]\nBODY 0:\nDONE\n");
}

static void test_bodies(void)
{
	CASE("POST /api HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
	     "HEAD POST /api path=/api query=- 1.1 keep len=5 [Host: h] [Content-Length: 5]\nBODY 5:hello\nDONE\n");
	CASE("POST /api HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	     "5\r\nhello\r\n1A;name=val;q=\"a \\\"b\";flag\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Sum: 1\r\n\r\n",
	     "HEAD POST /api path=/api query=- 1.1 keep chunked len=0 [Host: h] [Transfer-Encoding: chunked]\n"
	     "BODY 31:helloabcdefghijklmnopqrstuvwxyz\nDONE\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n000\r\n\r\n",
	     "HEAD POST / path=/ query=- 1.1 keep chunked len=0 [Host: h] [Transfer-Encoding: Chunked]\nBODY 0:\nDONE\n");
	CASE("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
	     "HEAD PUT / path=/ query=- 1.1 keep 100 len=2 [Host: h] [Expect: 100-continue] [Content-Length: 2]\n"
	     "BODY 2:ok\nDONE\n");
	CASE("PUT / HTTP/1.0\r\nExpect: 100-Continue\r\nContent-Length: 0\r\n\r\n",
	     "HEAD PUT / path=/ query=- 1.0 close len=0 [Expect: 100-Continue] [Content-Length: 0]\nBODY 0:\nDONE\n");
}

static void test_pipelining(void)
{
	CASE("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
	     "GET /3 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	     "HEAD GET /1 path=/1 query=- 1.1 keep len=0 [Host: h]\nBODY 0:\nDONE\n"
	     "HEAD POST /2 path=/2 query=- 1.1 keep len=3 [Host: h] [Content-Length: 3]\nBODY 3:abc\nDONE\n"
	     "HEAD GET /3 path=/3 query=- 1.1 keep len=0 upgrade=websocket [Host: h] [Upgrade: websocket]"
	     " [Connection: Upgrade]\nBODY 0:\nDONE\n");
}

/* The parser stops after one request: the next stays unconsumed. */
static void test_stops_after_request(void)
{
	static const char in[] = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2";
	struct http_parser *p = http_parser_new(&settings);
	const unsigned char *b;
	size_t used, blen, off = 0;

	CHECK_EQ_INT(http_parser_feed(p, (const unsigned char *)in, sizeof in - 1, &used, &b, &blen), HTTP_PARSE_HEAD);
	off += used;
	CHECK_EQ_INT(http_parser_feed(p, (const unsigned char *)in + off, sizeof in - 1 - off, &used, &b, &blen),
		     HTTP_PARSE_DONE);
	CHECK_EQ_INT(used, 0);
	CHECK_EQ_STR(in + off, "GET /2");
	http_parser_next(p);
	CHECK_EQ_INT(http_parser_feed(p, (const unsigned char *)in + off, sizeof in - 1 - off, &used, &b, &blen),
		     HTTP_PARSE_MORE);
	CHECK_EQ_INT(used, 6);
	http_parser_free(&p);
	CHECK(p == NULL);
}

static void test_syntax_errors(void)
{
	CASE("GET / HTTP/1.1\nHost: h\r\n\r\n", "ERR 400 bare LF\n");
	CASE("GET / HTTP/1.1\r\nHost: h\rx\r\n\r\n", "ERR 400 bare CR\n");
	CASE("GET  / HTTP/1.1\r\n\r\n", "ERR 400 malformed HTTP version\n");
	CASE("GET  HTTP/1.1\r\n\r\n", "ERR 400 empty request-target\n");
	CASE("GET / HTTP/1.1 \r\n\r\n", "ERR 400 malformed HTTP version\n");
	CASE("GET / http/1.1\r\n\r\n", "ERR 400 malformed HTTP version\n");
	CASE("G@T / HTTP/1.1\r\n\r\n", "ERR 400 malformed method\n");
	CASE("GET /\x7f HTTP/1.1\r\n\r\n", "ERR 400 bad character in request-target\n");
	CASE("GET / HTTP/2.0\r\n\r\n", "ERR 505 HTTP version not supported\n");
	CASE("GET / HTTP/0.9\r\n\r\n", "ERR 505 HTTP version not supported\n");
	CASE("CONNECT h:443 HTTP/1.1\r\n\r\n", "ERR 501 CONNECT not supported\n");
	CASE("GET * HTTP/1.1\r\nHost: h\r\n\r\n", "ERR 400 '*' target outside OPTIONS\n");
	CASE("GET x HTTP/1.1\r\nHost: h\r\n\r\n", "ERR 400 bad request-target\n");
	CASE("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", "ERR 400 bad request-target\n");
	CASE("GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", "ERR 400 fragment in request-target\n");
	CASE("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", "ERR 400 obsolete line folding\n");
	CASE("GET / HTTP/1.1\r\nHost : h\r\n\r\n", "ERR 400 malformed field name\n");
	CASE("GET / HTTP/1.1\r\nNoColon\r\n\r\n", "ERR 400 malformed field name\n");
	CASE("GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", "ERR 400 bad character in field value\n");
	CASE("GET / HTTP/1.1\r\n\r\n", "ERR 400 no Host\n");
	CASE("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "ERR 400 more than one Host\n");
	CASE("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "ERR 400 malformed Host\n");
	CASE("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n", "ERR 400 empty lines\n");
	CASE("GET / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", "ERR 417 unsupported expectation\n");
	CASE("GET / HTTP/1.1\r\nHost: h\r\nConnection: a b\r\n\r\n",
	     "ERR 400 malformed Transfer-Encoding or Connection\n");
}

/* RFC 9112 6.1 and 6.3: ambiguous framing is refused (request smuggling). */
static void test_framing_errors(void)
{
	CASE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	     "ERR 400 both Transfer-Encoding and Content-Length\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
	     "ERR 400 more than one Content-Length\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\n", "ERR 400 malformed Content-Length\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\n", "ERR 400 malformed Content-Length\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", "ERR 400 malformed Content-Length\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	     "ERR 400 Content-Length overflows\n");
	CASE("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "ERR 400 Transfer-Encoding in HTTP/1.0\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	     "ERR 400 chunked is not the final transfer coding\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
	     "ERR 400 chunked is not the final transfer coding\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	     "ERR 501 unsupported transfer coding\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n",
	     "ERR 400 chunked is not the final transfer coding\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n",
	     "HEAD POST / path=/ query=- 1.1 keep chunked len=0 [Host: h] [Transfer-Encoding: chunked]\n"
	     "ERR 400 malformed chunk size line\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;\r\n",
	     "HEAD POST / path=/ query=- 1.1 keep chunked len=0 [Host: h] [Transfer-Encoding: chunked]\n"
	     "ERR 400 malformed chunk size line\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\"x\r\n",
	     "HEAD POST / path=/ query=- 1.1 keep chunked len=0 [Host: h] [Transfer-Encoding: chunked]\n"
	     "ERR 400 malformed chunk size line\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
	     "HEAD POST / path=/ query=- 1.1 keep chunked len=0 [Host: h] [Transfer-Encoding: chunked]\n"
	     "ERR 400 chunk data not followed by CRLF\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n folded\r\n\r\n",
	     "HEAD POST / path=/ query=- 1.1 keep chunked len=0 [Host: h] [Transfer-Encoding: chunked]\n"
	     "ERR 400 obsolete line folding\n");
}

static void test_limits(void)
{
	struct http_parser_settings saved = settings;
	struct buf big = BUF_INIT;

	settings.max_request_line = 20;
	settings.max_field_line = 28;
	settings.max_fields = 3;
	settings.max_header_bytes = 40;
	settings.max_body = 10;
	settings.max_chunk_line = 8;
	CASE("GET /12345 HTTP/1.1\r\nHost: h\r\n\r\n",
	     "HEAD GET /12345 path=/12345 query=- 1.1 keep len=0 [Host: h]\nBODY 0:\nDONE\n");
	CASE("GET /1234567 HTTP/1.1\r\nHost: h\r\n\r\n", "ERR 414 request line too long\n");
	CASE("GET / HTTP/1.1\r\nX-Long: 12345678901234567890123\r\n\r\n", "ERR 431 header field line too long\n");
	CASE("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", "ERR 431 too many header fields\n");
	CASE("GET / HTTP/1.1\r\nA: 123456789\r\nB: 123456789\r\nC: 123456789\r\n\r\n",
	     "ERR 431 header section too large\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", "ERR 413 body too large\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n6\r\n",
	     "HEAD POST / path=/ query=- 1.1 keep chunked len=0 [Host: h] [Transfer-Encoding: chunked]\n"
	     "ERR 413 body too large\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;abcdefgh\r\n",
	     "HEAD POST / path=/ query=- 1.1 keep chunked len=0 [Host: h] [Transfer-Encoding: chunked]\n"
	     "ERR 400 chunk size line too long\n");
	CASE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
	     "HEAD POST / path=/ query=- 1.1 keep chunked len=0 [Host: h] [Transfer-Encoding: chunked]\n"
	     "ERR 431 too many trailer fields\n");
	settings = saved;
	/* A request line without end is refused once over the limit, whatever
	 * follows. */
	buf_puts(&big, "GET /");
	for (int i = 0; i < 9000; i++)
		buf_puts(&big, "a");
	check_case(big.data, big.len, "ERR 414 request line too long\n");
	buf_free(&big);
}

int main(void)
{
	http_parser_settings_default(&settings);
	test_run("simple_get", test_simple_get);
	test_run("bodies", test_bodies);
	test_run("pipelining", test_pipelining);
	test_run("stops_after_request", test_stops_after_request);
	test_run("syntax_errors", test_syntax_errors);
	test_run("framing_errors", test_framing_errors);
	test_run("limits", test_limits);
	return test_done();
}

/* test_http_response - the response writer's framing (length, chunked,
 * HTTP/1.0, HEAD, 204, close, 100 Continue, 101) and the helpers:
 * Authorization parsing, percent-decoding, query parameters. */
#include "gateway/http/http_response.h"
#include "gateway/http/http_util.h"
#include "tests/unit/testlib.h"

#include <event2/buffer.h>
#include <stdlib.h>

/* The head written for r and f, with the Date line removed. */
static char *head_text(const struct http_response *r, const struct http_framing *f, int64_t length,
		       int *chunked_r, int *close_r)
{
	struct evbuffer *out = evbuffer_new();
	size_t n;
	char *text, *date, *eol;

	http_response_write_head(out, r, f, length, chunked_r, close_r);
	n = evbuffer_get_length(out);
	text = xmalloc(n + 1);
	evbuffer_remove(out, text, n);
	text[n] = '\0';
	evbuffer_free(out);
	if ((date = strstr(text, "Date: ")) != NULL && (eol = strstr(date, "\r\n")) != NULL)
		memmove(date, eol + 2, strlen(eol + 2) + 1);
	return text;
}

/* 1 when the head written is expect with those framing results. */
static int head_is(const struct http_response *r, const struct http_framing *f, int64_t length,
		   const char *expect, int chunked, int close)
{
	int c, k;
	char *t = head_text(r, f, length, &c, &k);
	int ok = strcmp(t, expect) == 0 && c == chunked && k == close;

	if (!ok)
		fprintf(stderr, "got: %s|%d %d\n", t, c, k);
	free(t);
	return ok;
}

#define HEAD_IS(r, f, len, expect, chunked, close) CHECK(head_is(r, f, len, expect, chunked, close))

static void test_framing(void)
{
	struct http_response r;
	struct http_framing keep11 = { .minor = 1 }, close11 = { .minor = 1, .close = 1 };
	struct http_framing keep10 = { .minor = 0 }, head11 = { .minor = 1, .head = 1 };
	const char *err;

	http_response_init(&r, 200);
	CHECK_EQ_INT(http_response_field(&r, "Content-Type", "application/json", &err), 0);
	HEAD_IS(&r, &keep11, 5, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n", 0, 0);
	HEAD_IS(&r, &close11, 5, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
		"Connection: close\r\n\r\n", 0, 1);
	HEAD_IS(&r, &keep11, -1, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Transfer-Encoding: chunked\r\n\r\n", 1, 0);
	HEAD_IS(&r, &keep10, 5, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
		"Connection: keep-alive\r\n\r\n", 0, 0);
	HEAD_IS(&r, &keep10, -1, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n", 0, 1);
	HEAD_IS(&r, &head11, 5, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n", 0, 0);
	HEAD_IS(&r, &head11, -1, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n", 0, 0);
	http_response_clear(&r);
	http_response_init(&r, 204);
	HEAD_IS(&r, &keep11, 0, "HTTP/1.1 204 No Content\r\n\r\n", 0, 0);
	http_response_clear(&r);
	http_response_init(&r, 101);
	CHECK_EQ_INT(http_response_field(&r, "Upgrade", "websocket", &err), 0);
	HEAD_IS(&r, &keep11, 0, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 0, 0);
	http_response_clear(&r);
	http_response_init(&r, 599);
	HEAD_IS(&r, &keep11, 0, "HTTP/1.1 599 Unknown\r\nContent-Length: 0\r\n\r\n", 0, 0);
	http_response_clear(&r);
}

static void test_fields_refused(void)
{
	struct http_response r;
	const char *err = NULL;

	http_response_init(&r, 200);
	CHECK_EQ_INT(http_response_field(&r, "X-Evil", "a\r\nSet-Cookie: b", &err), -1);
	CHECK_EQ_STR(err, "control character in field value");
	CHECK_EQ_INT(http_response_field(&r, "Bad Name", "a", &err), -1);
	CHECK_EQ_INT(http_response_field(&r, "content-length", "5", &err), -1);
	CHECK_EQ_STR(err, "field is set by the server");
	CHECK_EQ_INT(http_response_field(&r, "X-Tab", "a\tb", &err), 0);
	CHECK_EQ_INT(r.fields.len, strlen("X-Tab: a\tb\r\n"));
	http_response_clear(&r);
}

static void test_chunks(void)
{
	struct evbuffer *out = evbuffer_new();
	char text[128];
	size_t n;

	http_write_continue(out);
	http_write_chunk(out, "hello", 5);
	http_write_chunk(out, "", 0);
	http_write_chunk(out, "0123456789abcdefXYZ", 19);
	http_write_last_chunk(out);
	n = evbuffer_remove(out, text, sizeof text - 1);
	text[n] = '\0';
	CHECK_EQ_STR(text, "HTTP/1.1 100 Continue\r\n\r\n5\r\nhello\r\n13\r\n0123456789abcdefXYZ\r\n0\r\n\r\n");
	evbuffer_free(out);
}

static void test_date(void)
{
	char d[64];

	http_date(784111777, d, sizeof d);   /* RFC 9110 5.6.7's example */
	CHECK_EQ_STR(d, "Sun, 06 Nov 1994 08:49:37 GMT");
}

static void test_credentials(void)
{
	struct http_credentials cr;
	const char *err = NULL;

	/* RFC 7617 2's example: Aladdin / open sesame */
	CHECK_EQ_INT(http_credentials_parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &cr, &err), 0);
	CHECK_EQ_INT(cr.scheme, HTTP_AUTH_BASIC);
	CHECK_EQ_STR(cr.user, "Aladdin");
	CHECK_EQ_STR(cr.password, "open sesame");
	http_credentials_clear(&cr);
	CHECK(cr.user == NULL && cr.password == NULL);
	/* "u:p:q": the password keeps its colon; scheme case-insensitive */
	CHECK_EQ_INT(http_credentials_parse("bAsIc   dTpwOnE=", &cr, &err), 0);
	CHECK_EQ_STR(cr.user, "u");
	CHECK_EQ_STR(cr.password, "p:q");
	http_credentials_clear(&cr);
	CHECK_EQ_INT(http_credentials_parse("Bearer abc.DEF-_~+/==", &cr, &err), 0);
	CHECK_EQ_INT(cr.scheme, HTTP_AUTH_BEARER);
	CHECK_EQ_STR(cr.token, "abc.DEF-_~+/==");
	http_credentials_clear(&cr);
	CHECK_EQ_INT(http_credentials_parse("Digest username=x", &cr, &err), 0);
	CHECK_EQ_INT(cr.scheme, HTTP_AUTH_NONE);
	CHECK_EQ_INT(http_credentials_parse("", &cr, &err), 0);
	CHECK_EQ_INT(cr.scheme, HTTP_AUTH_NONE);
	CHECK_EQ_INT(http_credentials_parse("Basic !!!!", &cr, &err), -1);
	CHECK_EQ_STR(err, "Basic credentials are not base64");
	CHECK_EQ_INT(http_credentials_parse("Basic dXNlcg==", &cr, &err), -1);   /* "user" */
	CHECK_EQ_STR(err, "Basic credentials without ':'");
	CHECK_EQ_INT(http_credentials_parse("Basic dQBwOng=", &cr, &err), -1);   /* "u\0p:x" */
	CHECK_EQ_STR(err, "control character in Basic credentials");
	CHECK_EQ_INT(http_credentials_parse("Basic", &cr, &err), -1);
	CHECK_EQ_INT(http_credentials_parse("Bearer a b", &cr, &err), -1);
	CHECK_EQ_INT(http_credentials_parse("Bearer =abc", &cr, &err), -1);
}

static void test_percent(void)
{
	char *out;
	size_t len;
	const char *err = NULL;

	CHECK_EQ_INT(http_percent_decode("/a%20b/%C3%A9+x", 15, 0, &out, &len, &err), 0);
	CHECK_EQ_STR(out, "/a b/\xc3\xa9+x");
	CHECK_EQ_INT(len, 9);
	free(out);
	CHECK_EQ_INT(http_percent_decode("a+b%2b", 6, 1, &out, NULL, &err), 0);
	CHECK_EQ_STR(out, "a b+");
	free(out);
	CHECK_EQ_INT(http_percent_decode("%2", 2, 0, &out, NULL, &err), -1);
	CHECK_EQ_STR(err, "malformed percent-encoding");
	CHECK_EQ_INT(http_percent_decode("%zz", 3, 0, &out, NULL, &err), -1);
	CHECK_EQ_INT(http_percent_decode("a%00", 4, 0, &out, NULL, &err), -1);
	CHECK_EQ_STR(err, "%00 in URL");
}

static void test_query(void)
{
	char *v;
	const char *err = NULL;

	CHECK_EQ_INT(http_query_param("types=*&closeafter=state&ping=30", "ping", &v, &err), 1);
	CHECK_EQ_STR(v, "30");
	free(v);
	CHECK_EQ_INT(http_query_param("a=1&&b&c=x%20y+z", "b", &v, &err), 1);
	CHECK_EQ_STR(v, "");
	free(v);
	CHECK_EQ_INT(http_query_param("a=1&&b&c=x%20y+z", "c", &v, &err), 1);
	CHECK_EQ_STR(v, "x y z");
	free(v);
	CHECK_EQ_INT(http_query_param("a%3D=1", "a=", &v, &err), 1);
	CHECK_EQ_STR(v, "1");
	free(v);
	CHECK_EQ_INT(http_query_param("a=1", "b", &v, &err), 0);
	CHECK(v == NULL);
	CHECK_EQ_INT(http_query_param(NULL, "b", &v, &err), 0);
	CHECK_EQ_INT(http_query_param("a=%zz&b=1", "b", &v, &err), 1);   /* only names are decoded on the way */
	CHECK_EQ_STR(v, "1");
	free(v);
	CHECK_EQ_INT(http_query_param("%zz=1&b=1", "b", &v, &err), -1);
	CHECK_EQ_INT(http_query_param("b=%zz", "b", &v, &err), -1);
}

int main(void)
{
	test_run("framing", test_framing);
	test_run("fields_refused", test_fields_refused);
	test_run("chunks", test_chunks);
	test_run("date", test_date);
	test_run("credentials", test_credentials);
	test_run("percent", test_percent);
	test_run("query", test_query);
	return test_done();
}

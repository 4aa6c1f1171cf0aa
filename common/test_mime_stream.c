/* test_mime_stream - streaming properties of the MIME parser: any split of
 * the input gives the same summary, limits, and linear time on
 * adversarial input (20 MB bodies, huge headers, deep nesting). */
#include "common/buf.h"
#include "common/mime_testutil.h"
#include "tests/unit/testlib.h"

#include <time.h>

static uint32_t rng = 12345;

/* A small deterministic PRNG (xorshift32). */
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Parses in random pieces of 1..max bytes. */
static json_t *parse_random(const char *d, size_t len, size_t max, const struct mime_limits *lim)
{
	struct mime_parser *p = mime_parser_new(lim);
	json_t *j;

	for (size_t i = 0; i < len;) {
		size_t n = 1 + next_rand() % max;

		if (n > len - i)
			n = len - i;
		mime_parser_feed(p, d + i, n);
		i += n;
	}
	j = mime_parser_finish(p);
	mime_parser_free(&p);
	return j;
}

/* Seconds of CPU time. */
static double cpu_now(void)
{
	return (double)clock() / CLOCKS_PER_SEC;
}

static void test_random_splits_corpus(void)
{
	static const char *const names[] = { "nested.eml", "forward.eml", "alternative.eml",
		"subjects.eml", "rfc2231.eml", "no-close.eml", "bare-lf.eml", "digest.eml" };

	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		size_t len;
		char *d = mt_load(names[k], &len);
		json_t *whole;

		CHECK(d != NULL);
		whole = mime_parse(d, len, NULL);
		for (int round = 0; round < 50; round++) {
			json_t *r = parse_random(d, len, round < 25 ? 5 : 300, NULL);

			if (!json_equal(whole, r))
				test_fail(__FILE__, __LINE__, names[k]);
			json_decref(r);
		}
		json_decref(whole);
		free(d);
	}
}

/* Nested multiparts, each level with a text part before the next level. */
static char *nested_message(int levels, size_t *len_r)
{
	struct buf b = BUF_INIT;

	for (int i = 0; i < levels; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n"
			   "Content-Type: text/plain\r\n\r\nlevel %d\r\n--b%d\r\n", i, i, i, i);
	buf_puts(&b, "Content-Type: text/plain\r\n\r\ninnermost\r\n");
	for (int i = levels - 1; i >= 0; i--)
		buf_printf(&b, "--b%d--\r\n", i);
	buf_puts(&b, "Content-Type: text/plain\r\n\r\nafter\r\n");
	*len_r = b.len;
	return buf_steal(&b);
}

static void test_limits_depth(void)
{
	struct mime_limits lim = { .max_depth = 2 };
	size_t len;
	char *d = nested_message(5, &len);
	json_t *j = mime_parse(d, len, &lim), *r;

	CHECK(json_is_true(mt_get(j, "truncated")));
	CHECK_EQ_STR(mt_str(j, "part.parts.1.parts.1.type"), "multipart");
	CHECK_EQ_INT(json_array_size(mt_get(j, "part.parts.1.parts.1.parts")), 0);
	CHECK(mt_check_part(json_object_get(j, "part"), d, len) == NULL);
	r = mt_parse_split(d, len, 1, &lim);
	CHECK(json_equal(j, r));
	json_decref(r);
	json_decref(j);
	j = mime_parse(d, len, NULL);
	CHECK(json_is_false(mt_get(j, "truncated")));
	CHECK_EQ_STR(mt_str(j, "part.parts.1.parts.1.parts.1.parts.1.parts.1.type"), "text");
	json_decref(j);
	free(d);
}

static void test_limits_parts(void)
{
	struct mime_limits lim = { .max_parts = 3 };
	size_t len;
	char *d = mt_load("nested.eml", &len);
	json_t *j, *r;

	CHECK(d != NULL);
	j = mime_parse(d, len, &lim);
	CHECK(json_is_true(mt_get(j, "truncated")));
	CHECK_EQ_INT(json_array_size(mt_get(j, "part.parts")), 1);
	CHECK_EQ_INT(json_array_size(mt_get(j, "part.parts.0.parts")), 1);
	CHECK_EQ_INT(mt_int(j, "part.body.1"), (long long)len);
	CHECK_EQ_INT(mt_int(j, "part.parts.0.body.1"), (long long)len);
	CHECK(mt_check_part(json_object_get(j, "part"), d, len) == NULL);
	r = mt_parse_split(d, len, 1, &lim);
	CHECK(json_equal(j, r));
	json_decref(r);
	json_decref(j);
	free(d);
}

static void test_limits_header(void)
{
	struct mime_limits lim = { .max_header_bytes = 100 };
	size_t len;
	char *d = mt_load("simple.eml", &len);
	json_t *j, *r;

	CHECK(d != NULL);
	j = mime_parse(d, len, &lim);
	CHECK(json_is_true(mt_get(j, "truncated")));
	CHECK_EQ_INT(mt_int(j, "part.header.1"), 100);
	CHECK_EQ_INT(mt_int(j, "part.body.1"), (long long)len);
	CHECK(json_is_null(mt_get(j, "envelope.subject")));   /* beyond the limit */
	CHECK(mt_check_part(json_object_get(j, "part"), d, len) == NULL);
	r = mt_parse_split(d, len, 1, &lim);
	CHECK(json_equal(j, r));
	json_decref(r);
	json_decref(j);
	free(d);
}

/* Parses whole and in 4 KiB pieces; checks the time of each. */
static json_t *timed(const char *what, const char *d, size_t len)
{
	double t0 = cpu_now(), t1, t2;
	json_t *j = mime_parse(d, len, NULL), *r;

	t1 = cpu_now();
	r = mt_parse_split(d, len, 4096, NULL);
	t2 = cpu_now();
	fprintf(stderr, "# %s: %zu bytes, whole %.3fs, 4K pieces %.3fs\n", what, len, t1 - t0, t2 - t1);
	if (t1 - t0 > 1.0 || t2 - t1 > 1.0 || !json_equal(j, r))
		test_fail(__FILE__, __LINE__, what);
	json_decref(r);
	return j;
}

static void test_big_inputs(void)
{
	const size_t mb20 = 20 * 1024 * 1024;
	struct buf b = BUF_INIT;
	json_t *j;
	const char *hdr = "From: a@b.example\r\nSubject: big\r\nContent-Type: multipart/mixed; "
			  "boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\n";

	buf_puts(&b, hdr);   /* 20 MB without a newline */
	buf_reserve(&b, mb20);
	memset(b.data + b.len, 'a', mb20);
	b.len += mb20;
	buf_puts(&b, "\r\n--x--\r\n");
	j = timed("20 MB, no newline", b.data, b.len);
	CHECK_EQ_INT(mt_int(j, "part.parts.0.size"), (long long)mb20);
	CHECK_EQ_INT(mt_int(j, "part.parts.0.lines"), 1);
	CHECK_EQ_INT(strlen(mt_str(j, "preview")), 256);
	json_decref(j);

	buf_truncate(&b, 0);   /* 20 MB of base64 lines, with look-alike boundaries */
	buf_puts(&b, hdr);
	while (b.len < mb20) {
		buf_puts(&b, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5\r\n");
		buf_puts(&b, "--xy\r\n--x-\r\n-- x\r\n--");
		buf_reserve(&b, 300);
		memset(b.data + b.len, ' ', 300);
		b.len += 300;
		buf_puts(&b, "x\r\n");
	}
	buf_puts(&b, "--x--\r\n");
	j = timed("20 MB of short lines", b.data, b.len);
	CHECK_EQ_INT(json_array_size(mt_get(j, "part.parts")), 1);
	json_decref(j);

	buf_truncate(&b, 0);   /* a boundary line with 20 MB of trailing whitespace */
	buf_puts(&b, hdr);
	buf_puts(&b, "text\r\n--x");
	buf_reserve(&b, mb20);
	memset(b.data + b.len, ' ', mb20);
	b.len += mb20;
	buf_puts(&b, "\r\nContent-Type: text/html\r\n\r\nsecond\r\n--x--\r\n");
	j = timed("20 MB of boundary whitespace", b.data, b.len);
	CHECK_EQ_INT(json_array_size(mt_get(j, "part.parts")), 2);
	CHECK_EQ_STR(mt_str(j, "part.parts.1.subtype"), "html");
	json_decref(j);

	buf_truncate(&b, 0);   /* 100k header lines */
	for (int i = 0; i < 100000; i++)
		buf_printf(&b, "X-Header-%d: value\r\n", i);
	buf_puts(&b, "\r\nbody\r\n");
	j = timed("100k header lines", b.data, b.len);
	CHECK(json_is_true(mt_get(j, "truncated")));
	json_decref(j);

	buf_truncate(&b, 0);   /* 100k nested multiparts */
	for (int i = 0; i < 100000; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=%d\r\n\r\n--%d\r\n", i, i);
	j = timed("100k nested multiparts", b.data, b.len);
	CHECK(json_is_true(mt_get(j, "truncated")));
	json_decref(j);

	buf_truncate(&b, 0);   /* 1M sibling parts */
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (int i = 0; i < 1000000; i++)
		buf_puts(&b, "--b\r\n\r\n");
	j = timed("1M parts", b.data, b.len);
	CHECK(json_is_true(mt_get(j, "truncated")));
	CHECK_EQ_INT(json_array_size(mt_get(j, "part.parts")), 999);
	json_decref(j);

	buf_truncate(&b, 0);   /* header of 1M encoded words and a huge address list */
	buf_puts(&b, "Subject: ");
	for (int i = 0; i < 8000; i++)
		buf_puts(&b, "=?utf-8?q?a?= ");
	buf_puts(&b, "\r\nTo: ");
	for (int i = 0; i < 4000; i++)
		buf_puts(&b, "\"x\" <a@b>, <<(");
	buf_puts(&b, "\r\nReferences: ");
	for (int i = 0; i < 10000; i++)
		buf_puts(&b, "<<<<");
	buf_puts(&b, "\r\n\r\n");
	j = timed("heavy header fields", b.data, b.len);
	CHECK(json_is_false(mt_get(j, "truncated")));
	CHECK_EQ_INT(strlen(mt_str(j, "headers.subject")), 8000);
	CHECK_EQ_INT(json_array_size(mt_get(j, "headers.references")), 0);
	json_decref(j);
	buf_free(&b);
}

int main(void)
{
	test_run("random splits of the corpus", test_random_splits_corpus);
	test_run("depth limit", test_limits_depth);
	test_run("part limit", test_limits_parts);
	test_run("header limit", test_limits_header);
	test_run("big inputs in linear time", test_big_inputs);
	return test_done();
}

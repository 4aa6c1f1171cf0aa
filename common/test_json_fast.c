/* test_json_fast - evm_json_loadb against Jansson's json_loadb: both flags,
 * the same acceptance and the same tree (dump with order and 17 digits,
 * plus json_equal) for hand-picked cases of every rule, every prefix of
 * valid documents, generated trees dumped by Jansson and mutations of them.
 * With --bench it times both parsers on an event with a blob chunk, a
 * message record and a directory event instead (not run by ctest). */
#include "common/json_fast.h"
#include "tests/unit/testlib.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DUMP_FLAGS (JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17))

static unsigned long long compared, accepted;

/* Prints buf with the bytes outside printable ASCII escaped. */
static void print_bytes(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < 300; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "%s\n", i < len ? "..." : "");
}

/* 1 when both parsers agree on buf with flags: both NULL, or trees with
   the same dump and json_equal. */
static int agree_flags(const char *buf, size_t len, size_t flags)
{
	json_error_t e1, e2;
	json_t *a = json_loadb(buf, len, flags, &e1);
	json_t *b = evm_json_loadb(buf, len, flags, flags ? &e2 : NULL);
	char *da = a ? json_dumps(a, DUMP_FLAGS) : NULL, *db = b ? json_dumps(b, DUMP_FLAGS) : NULL;
	int ok;

	if (a == NULL || b == NULL)
		ok = a == b;
	else
		ok = da != NULL && db != NULL && strcmp(da, db) == 0 && json_equal(a, b);
	compared++;
	accepted += a != NULL;
	if (!ok) {
		fprintf(stderr, "  disagree (flags %zu) on: ", flags);
		print_bytes(buf, len);
		fprintf(stderr, "  jansson: %s\n  fast:    %s\n", a ? da : e1.text,
			b ? db : (flags ? e2.text : "(rejected)"));
	}
	free(da);
	free(db);
	json_decref(a);
	json_decref(b);
	return ok;
}

/* Agreement with both flags, on a copy of exactly len bytes (so a
   sanitizer build sees any read past the end). */
static int agree(const char *buf, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int ok;

	memcpy(copy, buf, len);
	ok = agree_flags(copy, len, 0) & agree_flags(copy, len, JSON_REJECT_DUPLICATES);
	free(copy);
	return ok;
}

/* Agreement plus the acceptance Jansson 2.14 is known to give (flags 0). */
static int expect(const char *buf, size_t len, int ok)
{
	json_t *t = evm_json_loadb(buf, len, 0, NULL);
	int got = t != NULL;

	json_decref(t);
	if (got != ok) {
		fprintf(stderr, "  expected %s: ", ok ? "accepted" : "rejected");
		print_bytes(buf, len);
	}
	return agree(buf, len) && got == ok;
}

#define YES(lit) CHECK(expect(lit, sizeof(lit) - 1, 1))
#define NO(lit) CHECK(expect(lit, sizeof(lit) - 1, 0))

static void test_structure(void)
{
	YES("{}");
	YES("[]");
	YES(" \t\r\n[ \t\r\n1 \t\r\n, 2 ] \t\r\n");
	YES("{\"a\":{\"b\":[{}, [], {\"c\":null}]}}");
	NO("");
	NO(" ");
	NO("1");
	NO("\"s\"");
	NO("true");
	NO("null");
	NO("[");
	NO("]");
	NO("{");
	NO("[1,]");
	NO("[,1]");
	NO("[1 2]");
	NO("{\"a\":1,}");
	NO("{\"a\" 1}");
	NO("{\"a\":}");
	NO("{a:1}");
	NO("{1:1}");
	NO("[]]");
	NO("[][]");
	NO("[] x");
	NO("[]\f");
	NO("[]\v");
	NO("\xef\xbb\xbf[]");
	NO("[\x01]");
	NO("[1]\0");
	NO("\0[]");
	NO("[\0 1]");
	NO("[1,\0 2]");
	NO("{}\0");
	NO("[1 \0]");
}

static void test_words_and_nul_quirk(void)
{
	YES("[true,false,null]");
	NO("[tru]");
	NO("[truex]");
	NO("[True]");
	NO("[nul]");
	NO("[nan]");
	NO("[Infinity]");
	/* Jansson skips one NUL right after a number or word. */
	YES("[1\0]");
	YES("[true\0]");
	YES("[null\0,false\0]");
	YES("{\"a\":1.5\0}");
	YES("[-0\0 ]");
	YES("[1e5\0]");
	NO("[1\0\0]");
	NO("[\"a\"\0]");
	NO("[[]\0]");
	NO("[1\0");
}

static void test_numbers(void)
{
	YES("[0,-0,1,-1,10,1234567890]");
	YES("[9223372036854775807,-9223372036854775808]");
	YES("[999999999999999999,-999999999999999999,1000000000000000000]");
	NO("[9223372036854775808]");
	NO("[-9223372036854775809]");
	NO("[100000000000000000000]");
	NO("[01]");
	NO("[-01]");
	NO("[00]");
	NO("[-]");
	NO("[+1]");
	NO("[.5]");
	NO("[1.]");
	NO("[1.e5]");
	NO("[1e]");
	NO("[1e+]");
	NO("[1E-]");
	NO("[0x10]");
	NO("[1_000]");
	NO("[- 1]");
	YES("[0.0,-0.0,1.5,-1.5,1e5,1E5,1e+5,1e-5,1.25e-3,0e0,-0e-0]");
	YES("[1e308,1.7976931348623157e308,-1.7976931348623157e308]");
	NO("[1e309]");
	NO("[-1e309]");
	NO("[1.8e308]");
	YES("[1e-400,-1e-400,4.9e-324,2.2250738585072014e-308,5e-324]");
	YES("[0.1,0.2,0.30000000000000004,3.141592653589793,2.718281828459045]");
	YES("[123456789012345678901234567890.5]");
	YES("[9223372036854775808.0,1e19]");
	YES("[0.00000000000000000000000000000000000000000000000000000000000000000000001]");
	YES("[1.00000000000000011102230246251565404236316680908203125]");
	YES("[1.00000000000000011102230246251565404236316680908203124]");
}

static void test_strings(void)
{
	YES("[\"\",\"abc\",\"a b\\tc\"]");
	YES("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]");
	YES("[\"\\u0041\\u00e9\\u00E9\\u20ac\\uffff\\uFFFE\"]");
	YES("[\"\\ud83d\\ude00\",\"\\uD83D\\uDE00\",\"\\udbff\\udfff\",\"\\ud800\\udc00\"]");
	YES("[\"\\u0001\\u001f\\u007f\"]");
	NO("[\"\\u0000\"]");
	NO("{\"a\\u0000\":1}");
	NO("[\"\\ud83d\"]");
	NO("[\"\\ud83dx\"]");
	NO("[\"\\ud83d\\n\"]");
	NO("[\"\\ud83d\\u0041\"]");
	NO("[\"\\ud83d\\ud83d\"]");
	NO("[\"\\ude00\"]");
	NO("[\"\\ude00\\ud83d\"]");
	NO("[\"\\u12\"]");
	NO("[\"\\u12g4\"]");
	NO("[\"\\U0041\"]");
	NO("[\"\\x41\"]");
	NO("[\"\\a\"]");
	NO("[\"\\'\"]");
	NO("[\"\\ud83d\\u");
	NO("[\"\\");
	NO("[\"abc");
	NO("[\"abc\\\"]");
	NO("['a']");
	NO("[\"a\x01\"]");
	NO("[\"a\x1f\"]");
	NO("[\"a\n\"]");
	NO("[\"a\t\"]");
	NO("[\"a\0b\"]");
	YES("[\"a\x7f\"]");
	YES("{\"key with \\\" and \\u00e9\":\"v\",\"\":\"\"}");
}

static void test_utf8(void)
{
	YES("[\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"]");
	YES("[\"\xc3\xa9t\xc3\xa9\",\"\xe2\x82\xac\",\"\xf0\x9f\x98\x80\"]");
	YES("{\"\xc3\xa9\":\"\xed\x9f\xbf\xee\x80\x80\"}");
	NO("[\"\x80\"]");
	NO("[\"\xbf\"]");
	NO("[\"\xc0\x80\"]");
	NO("[\"\xc1\xbf\"]");
	NO("[\"\xc2\"]");
	NO("[\"\xc2");
	NO("[\"\xc2\x41\"]");
	NO("[\"\xe0\x80\x80\"]");
	NO("[\"\xe0\x9f\xbf\"]");
	NO("[\"\xed\xa0\x80\"]");
	NO("[\"\xed\xbf\xbf\"]");
	NO("[\"\xef\xbf\"]");
	NO("[\"\xf0\x80\x80\x80\"]");
	NO("[\"\xf0\x8f\xbf\xbf\"]");
	NO("[\"\xf4\x90\x80\x80\"]");
	NO("[\"\xf5\x80\x80\x80\"]");
	NO("[\"\xf8\x88\x80\x80\x80\"]");
	NO("[\"\xfe\"]");
	NO("[\"\xff\"]");
	NO("[\xc3\xa9]");
	NO("[1\xc3\xa9]");
	NO("[]\xc3\xa9");
	NO("{\"\xc3\":1}");
	/* Long strings take the eight-byte path; specials at every offset. */
	for (int at = 0; at < 40; at++) {
		char doc[64];
		static const char *const bad[] = { "\x01", "\xc3", "\xed\xa0\x80", "\\u0000", "\0" };
		static const char *const good[] = { "\xc3\xa9", "\\n", "\\ud83d\\ude00", "\x7f", "\xf4\x8f\xbf\xbf" };

		for (size_t k = 0; k < 5; k++) {
			size_t n = 0, bl = k == 4 ? 1 : strlen(bad[k]);

			memcpy(doc, "[\"", 2);
			n = 2;
			memset(doc + n, 'x', (size_t)at);
			n += (size_t)at;
			memcpy(doc + n, bad[k], bl);
			n += bl;
			memcpy(doc + n, "yyyyyyyyy\"]", 11);
			CHECK(expect(doc, n + 11, 0));
			n = 2 + (size_t)at;
			memcpy(doc + n, good[k], strlen(good[k]));
			n += strlen(good[k]);
			memcpy(doc + n, "yyyyyyyyy\"]", 11);
			CHECK(expect(doc, n + 11, 1));
		}
	}
}

static void test_objects(void)
{
	const char *dup = "{\"a\":1,\"b\":2,\"a\":{\"x\":[3]},\"c\":4,\"b\":5}";
	json_t *t;

	YES("{\"b\":1,\"a\":2,\"c\":{\"z\":1,\"y\":2}}");
	CHECK(agree(dup, strlen(dup)));
	/* The repeated key keeps its first place and takes the last value. */
	t = evm_json_loadb(dup, strlen(dup), 0, NULL);
	CHECK(t != NULL);
	char *d = json_dumps(t, DUMP_FLAGS | JSON_COMPACT);
	json_decref(t);
	CHECK_EQ_STR(d, "{\"a\":{\"x\":[3]},\"b\":5,\"c\":4}");
	free(d);
	t = evm_json_loadb(dup, strlen(dup), JSON_REJECT_DUPLICATES, NULL);
	CHECK(t == NULL);
	CHECK(agree("{\"a\":1,\"\\u0061\":2}", strlen("{\"a\":1,\"\\u0061\":2}")));
	CHECK(agree("{\"a\":{\"a\":1},\"b\":{\"a\":2}}", strlen("{\"a\":{\"a\":1},\"b\":{\"a\":2}}")));
	CHECK(agree("{\"\":1,\"\":2}", strlen("{\"\":1,\"\":2}")));
	CHECK(agree("[{\"a\":1},{\"a\":1,\"a\":1}]", strlen("[{\"a\":1},{\"a\":1,\"a\":1}]")));
}

/* Nesting of depth levels ([ or {"k": ...), with a scalar inside or not. */
static int nest_agrees(int depth, int obj, int scalar)
{
	size_t cap = (size_t)depth * 6 + 16, n = 0;
	char *b = malloc(cap);
	int ok;

	for (int i = 0; i < depth; i++) {
		if (obj && i % 2) {
			memcpy(b + n, "{\"k\":", 5);
			n += 5;
		} else {
			b[n++] = '[';
		}
	}
	if (scalar)
		b[n++] = '7';
	for (int i = depth - 1; i >= 0; i--)
		b[n++] = obj && i % 2 ? '}' : ']';
	ok = agree(b, n);
	free(b);
	return ok;
}

static void test_depth(void)
{
	static const char deep_ok[] = "[[[]]]";
	json_t *t;

	for (int d = 2040; d <= 2052; d++) {
		CHECK(nest_agrees(d, 0, 0));
		CHECK(nest_agrees(d, 0, 1));
		CHECK(nest_agrees(d, 1, 0));
		CHECK(nest_agrees(d, 1, 1));
	}
	CHECK(nest_agrees(100000, 0, 0));
	CHECK(nest_agrees(63, 1, 1));
	CHECK(nest_agrees(64, 1, 1));
	CHECK(nest_agrees(65, 1, 1));
	CHECK(nest_agrees(129, 0, 1));
	t = evm_json_loadb(deep_ok, 6, 0, NULL);
	CHECK(t != NULL);
	json_decref(t);
}

static void test_arguments(void)
{
	json_error_t e;
	json_t *t;

	CHECK(evm_json_loadb(NULL, 0, 0, &e) == NULL);
	CHECK(json_loadb(NULL, 0, 0, &e) == NULL);
	CHECK(evm_json_loadb("[]", 2, JSON_DECODE_ANY, &e) == NULL);
	CHECK(strstr(e.text, "flags") != NULL);
	CHECK(evm_json_loadb("[]", 2, JSON_ALLOW_NUL, NULL) == NULL);
	CHECK(evm_json_loadb("[1,", 3, 0, &e) == NULL);
	CHECK(e.text[0] != '\0');
	CHECK_EQ_INT(e.position, 3);
	t = evm_json_loadb("[1]xyz", 3, 0, &e);
	CHECK(t != NULL);
	json_decref(t);
}

static const char *const valid_docs[] = {
	"{\"v\":1,\"type\":\"mail.append\",\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":1733616000000,"
	"\"data\":{\"flags\":[\"\\\\Seen\"],\"size\":-12,\"r\":1.5e-3,\"s\":\"\\u00e9\\ud83d\\ude00\xc3\xa9\","
	"\"n\":null,\"t\":true,\"f\":false}}",
	" [ {\"a\" : [ 1 , -0.0 , 2e+2 ] } , \"\xf0\x9f\x98\x80\\n\" , {} , [ ] ] ",
	"{\"a\":1,\"a\":2}",
	"[1\0]",
};

/* Every prefix of the valid documents, byte by byte. */
static void test_prefixes(void)
{
	for (size_t d = 0; d < sizeof valid_docs / sizeof valid_docs[0]; d++) {
		size_t n = d == 3 ? 4 : strlen(valid_docs[d]);

		for (size_t len = 0; len <= n; len++) {
			char *copy = malloc(len + 1);

			memcpy(copy, valid_docs[d], len);
			CHECK(agree(copy, len));
			free(copy);
		}
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned next(unsigned n)
{
	return (unsigned)(next64() % n);
}

/* A random string: ASCII, escapes, controls, BMP and non-BMP characters. */
static json_t *gen_string(void)
{
	static const char *const parts[] = { "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f",
					     "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xef\xbf\xbf", "\xed\x9f\xbf",
					     "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "abcdefghijklmnop",
					     "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=" };
	char s[512];
	size_t n = 0, count = next(6) == 0 ? 40 : next(8);

	for (size_t i = 0; i < count; i++) {
		const char *p = parts[next(sizeof parts / sizeof parts[0])];
		size_t l = strlen(p);

		if (n + l >= sizeof s)
			break;
		memcpy(s + n, p, l);
		n += l;
	}
	if (next(200) == 0)
		s[n++] = '\0';
	return json_stringn(s, n);
}

static json_t *gen_number(void)
{
	static const json_int_t ints[] = { 0, 1, -1, 9, 10, 255, -256, 999999999999999999LL,
					   1000000000000000000LL, INT64_MAX, INT64_MIN, INT64_MIN + 1 };
	static const double reals[] = { 0.0, -0.0, 0.5, -1.5, 1e300, -1e-300, 5e-324, 1.7976931348623157e308,
					0.1, 1e22, 123456.789 };
	uint64_t bits;
	double d;

	switch (next(6)) {
	case 0: return json_integer(ints[next(sizeof ints / sizeof ints[0])]);
	case 1: return json_integer((json_int_t)next64());
	case 2: return json_integer((json_int_t)(next64() % 100000) - 50000);
	case 3: return json_real(reals[next(sizeof reals / sizeof reals[0])]);
	case 4:
		do {
			bits = next64();
			memcpy(&d, &bits, sizeof d);
		} while (!isfinite(d));
		return json_real(d);
	default: return json_real((double)(int64_t)(next64() % 2000000) / 1000.0 - 1000.0);
	}
}

static json_t *gen_value(int depth)
{
	json_t *v;
	unsigned n;

	switch (depth > 0 ? next(8) : next(5)) {
	case 0: return gen_string();
	case 1: return gen_number();
	case 2: return gen_number();
	case 3: return next(2) ? json_true() : json_false();
	case 4: return next(2) ? json_null() : gen_string();
	case 5:
	case 6:
		v = json_object();
		n = next(7);
		for (unsigned i = 0; i < n; i++) {
			json_t *k = gen_string();

			json_object_setn_new(v, json_string_value(k), json_string_length(k), gen_value(depth - 1));
			json_decref(k);
		}
		return v;
	default:
		v = json_array();
		n = next(7);
		for (unsigned i = 0; i < n; i++)
			json_array_append_new(v, gen_value(depth - 1));
		return v;
	}
}

/* Byte mutations of doc, each compared. */
static int mutations_agree(const char *doc, size_t len)
{
	static const char interesting[] = { '"', '\\', '\0', ',', ':', ']', '}', '[', '{', '0', '9', '-', '.',
					    'e', 'u', 'D', ' ', '\n', '\x01', '\x80', '\xc3', '\xed', '\xf4', '\xff' };
	char *m = malloc(len + 16);
	int ok = 1;

	for (int round = 0; round < 6 && len > 0; round++) {
		size_t at = next((unsigned)len), n = len;
		char c = next(2) ? interesting[next(sizeof interesting)] : (char)next(256);

		memcpy(m, doc, len);
		switch (next(4)) {
		case 0: m[at] = c; break;
		case 1: memmove(m + at, m + at + 1, len - at - 1); n--; break;
		case 2: memmove(m + at + 1, m + at, len - at); m[at] = c; n++; break;
		default: {
			size_t span = 1 + next(12);

			if (at + span > len)
				span = len - at;
			memmove(m + at + span, m + at, len - at);
			n += span;
		}
		}
		ok &= agree(m, n);
	}
	free(m);
	return ok;
}

static void test_generated(void)
{
	static const size_t dump_flags[] = { JSON_COMPACT, JSON_COMPACT | JSON_ENSURE_ASCII, JSON_INDENT(2),
					     JSON_INDENT(1) | JSON_ENSURE_ASCII, 0 };

	for (int i = 0; i < 4000; i++) {
		json_t *root = next(2) ? json_object() : json_array(), *v;
		size_t flags = dump_flags[next(sizeof dump_flags / sizeof dump_flags[0])] | DUMP_FLAGS;
		char *doc;

		v = gen_value(1 + (int)next(5));
		if (json_is_object(root))
			json_object_set_new(root, "k", v);
		else
			json_array_append_new(root, v);
		doc = json_dumps(root, flags);
		CHECK(doc != NULL);
		CHECK(agree(doc, strlen(doc)));
		CHECK(mutations_agree(doc, strlen(doc)));
		free(doc);
		json_decref(root);
	}
}

/* Nanoseconds per parse of doc by one parser. */
static double time_parse(const char *doc, size_t len, int fast, int iters)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < iters; i++) {
		json_t *t = fast ? evm_json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL)
				 : json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL);

		if (t == NULL)
			abort();
		json_decref(t);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / iters;
}

static void bench_one(const char *name, json_t *doc_tree, size_t dump_flags)
{
	char *doc = json_dumps(doc_tree, dump_flags);
	size_t len = strlen(doc);
	double j = 1e30, f = 1e30;

	for (int round = 0; round < 5; round++) {
		double a = time_parse(doc, len, 0, 20000), b = time_parse(doc, len, 1, 20000);

		j = a < j ? a : j;
		f = b < f ? b : f;
	}
	printf("%-18s %6zu bytes  jansson %8.0f ns  evm_json_loadb %8.0f ns  ratio %.2fx\n", name, len, j, f,
	       j / f);
	free(doc);
	json_decref(doc_tree);
}

static int bench(void)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *id = "0123456789abcdef0123456789abcdef";
	char data[5633];

	for (size_t i = 0; i < sizeof data - 1; i++)
		data[i] = b64[next(64)];
	data[sizeof data - 1] = '\0';
	bench_one("blob.chunk event",
		  json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:{s:s, s:i, s:i, s:I, s:s}}", "v", 1, "type",
			    "blob.chunk", "id", id, "tenant", "t000001", "account", "user0000042@d000001.bench.test",
			    "actor", "user0000042@d000001.bench.test", "ts", (json_int_t)1733616000123LL, "data",
			    "blob_id", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "index", 3,
			    "count", 9, "size", (json_int_t)48213, "data", data),
		  JSON_COMPACT | JSON_ENSURE_ASCII);
	bench_one("message record",
		  json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:[s,s], s:[], s:s, s:s, s:s, s:s, s:s, s:I, s:s,"
			    " s:b, s:i, s:s, s:s, s:I}",
			    "id", "M3f2a9c1b7d", "blob_id", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			    "uid", 4711, "modseq", (json_int_t)982341, "internal_date", (json_int_t)1733616000000LL,
			    "size", (json_int_t)48213, "flags", "\\Seen", "\\Answered", "keywords", "mailbox",
			    "INBOX", "thread_id", "T8c1e2f", "subject", "Re: the quarterly numbers (draft 3)", "from",
			    "Alice Example <alice@example.org>", "to", "bob@example.net", "sent_at",
			    (json_int_t)1733615990000LL, "message_id", "<20241207.1234@example.org>", "has_attachment",
			    0, "email_id_seq", 17, "preview", "Hi Bob, attached are the numbers we talked about on Thu",
			    "snippet_lang", "en", "created", (json_int_t)1733616000456LL),
		  JSON_COMPACT | JSON_SORT_KEYS);
	bench_one("directory event",
		  json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:{s:s, s:s, s:s, s:I, s:[s,s], s:s}}", "v", 1,
			    "type", "directory.account.create", "id", id, "tenant", "t000001", "account",
			    "user0000042@d000001.bench.test", "actor", "admin@d000001.bench.test", "ts",
			    (json_int_t)1733616000123LL, "data", "name", "user0000042@d000001.bench.test", "display_name",
			    "User 42", "password_hash", "$6$rounds=5000$abcdefghijklmnop$0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
			    "quota", (json_int_t)10737418240LL, "aliases", "u42@d000001.bench.test",
			    "user.42@d000001.bench.test", "state", "active"),
		  JSON_COMPACT | JSON_ENSURE_ASCII);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--bench") == 0)
		return bench();
	test_run("structure", test_structure);
	test_run("words and the NUL quirk", test_words_and_nul_quirk);
	test_run("numbers", test_numbers);
	test_run("strings", test_strings);
	test_run("utf8", test_utf8);
	test_run("objects", test_objects);
	test_run("depth", test_depth);
	test_run("arguments", test_arguments);
	test_run("prefixes", test_prefixes);
	test_run("generated", test_generated);
	printf("%llu comparisons, %llu accepted by Jansson\n", compared, accepted);
	return test_done();
}

/* test_record_json - record_json writes exactly the bytes of
 * json_dumps(JSON_COMPACT | JSON_SORT_KEYS), so views stay byte-identical
 * (their digests) across builds, and with JSON_ENSURE_ASCII added, the
 * bytes of logged events: hand-picked values, then many generated trees
 * of every kind of value, both ways. */
#include "common/record_json.h"
#include "common/buf.h"
#include "tests/unit/testlib.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Encodes v with flags added (0 or JSON_ENSURE_ASCII) by Jansson and by
 * record_json; 1 when the bytes are the same. */
static int same_bytes_as(json_t *v, size_t flags)
{
	struct buf out = BUF_INIT;
	char *ref;
	int same;

	ref = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | flags);
	if (flags & JSON_ENSURE_ASCII)
		record_json_append_ascii(&out, v);
	else
		record_json_append(&out, v);
	buf_append(&out, "", 1);
	same = ref != NULL && strcmp(out.data, ref) == 0;
	if (!same)
		fprintf(stderr, "  record_json%s: %s\n  jansson:     %s\n", flags ? " (ascii)" : "", out.data,
			ref ? ref : "(null)");
	free(ref);
	buf_free(&out);
	return same;
}

/* Encodes v (stolen) both ways, with and without JSON_ENSURE_ASCII. */
static int same_bytes(json_t *v)
{
	int same;

	if (v == NULL)
		return 0;
	same = same_bytes_as(v, 0) && same_bytes_as(v, JSON_ENSURE_ASCII);
	json_decref(v);
	return same;
}

static void test_values(void)
{
	json_t *deep = json_integer(1), *wide;
	char key[16];

	CHECK(same_bytes(json_object()));
	CHECK(same_bytes(json_array()));
	CHECK(same_bytes(json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I}", "address",
				   "user0000002@d000000.bench.test", "tenant", "t000000", "domain",
				   "d000000.bench.test", "display_name", "Bench User", "quota",
				   (json_int_t)10737418240LL, "state", "active", "password_hash", "$y$j9T$x$y",
				   "created", (json_int_t)1796540400001LL, "updated", (json_int_t)0)));
	/* Every escape Jansson makes, and what it leaves alone; in ASCII mode
	 * the largest code point of each UTF-8 length, and one past the BMP. */
	CHECK(same_bytes(json_pack("{s:s, s:s}", "\xc2\x80\xdf\xbf", "\xe0\xa0\x80\xef\xbf\xbf",
				   "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf x\xc3\xa9")));
	/* Every escape Jansson makes, and what it leaves alone. */
	CHECK(same_bytes(json_pack("{s:s, s:s, s:s, s:s}", "q", "a\"b\\c/d", "c", "\x01\b\f\n\r\t\x1f\x7f",
				   "u", "\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80", "e", "")));
	CHECK(same_bytes(json_pack("{s:b, s:b, s:n, s:f, s:f, s:f}", "t", 1, "f", 0, "z", "r", 0.5, "g", 1e300,
				   "h", -3.0)));
	CHECK(same_bytes(json_pack("[I, I, I, i]", (json_int_t)INT64_MIN, (json_int_t)INT64_MAX,
				   (json_int_t)-1, 0)));
	/* A NUL inside a string and inside a key; keys that prefix others;
	 * keys with escapes and bytes above 0x7f. */
	CHECK(same_bytes(json_pack("{s:s%, s:i, s:i, s:i, s:i, s:i, s:i}", "nul", "a\0b", (size_t)3, "ab", 1,
				   "a", 2, "", 3, "a\"", 4, "\xc3\xa9", 5, "Z", 6)));
	wide = json_object();
	json_object_setn_new(wide, "k\0z", 3, json_integer(1));
	json_object_setn_new(wide, "k", 1, json_integer(2));
	CHECK(same_bytes(wide));
	/* More members than sorted on the stack. */
	wide = json_object();
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof key, "k%d", (i * 37) % 100);
		json_object_set_new(wide, key, json_integer(i));
	}
	CHECK(same_bytes(wide));
	/* Deeper than this writer recurses. */
	for (int i = 0; i < RECORD_JSON_DEPTH + 10; i++)
		deep = i % 2 ? json_pack("{s:o, s:i}", "x", deep, "a", i) : json_pack("[o, i]", deep, i);
	CHECK(same_bytes(deep));
	CHECK(same_bytes(json_string("top")));
	CHECK(same_bytes(json_integer(-42)));
}

static uint64_t rng = 0x243f6a8885a308d3ULL;

static unsigned next(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(rng >> 33) % n;
}

/* A short text from an alphabet of plain letters, escapes, controls and
 * multi-byte characters. */
static void gen_text(char *s, size_t *len_r)
{
	static const char *const parts[] = { "a", "b", "Z", "0", "\"", "\\", "/", "\n", "\x01", "\x1f",
					      "\x7f", " ", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
					      "ab", "\t" };
	size_t n = next(6), len = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p = parts[next(sizeof parts / sizeof parts[0])];
		memcpy(s + len, p, strlen(p));
		len += strlen(p);
	}
	s[len] = '\0';
	*len_r = len;
}

/* A random tree of at most depth levels. */
static json_t *gen_value(int depth)
{
	char text[64];
	size_t len;
	json_t *v;
	unsigned kind = next(depth > 0 ? 9 : 7), n;

	switch (kind) {
	case 0: return json_true();
	case 1: return json_false();
	case 2: return json_null();
	case 3: return json_integer((json_int_t)(rng >> next(64)) * (next(2) ? 1 : -1));
	case 4: return json_real((double)(int64_t)rng / (double)(1 + next(1000000)));
	case 5:
	case 6:
		gen_text(text, &len);
		return json_stringn(text, len);
	case 7:
		v = json_array();
		for (n = next(5); n > 0; n--)
			json_array_append_new(v, gen_value(depth - 1));
		return v;
	default:
		v = json_object();
		for (n = next(40); n > 0; n--) {
			gen_text(text, &len);
			json_object_setn_new(v, text, len, gen_value(depth - 1));
		}
		return v;
	}
}

static void test_generated(void)
{
	for (int i = 0; i < 3000; i++)
		CHECK(same_bytes(gen_value(1 + i % 5)));
}

/* Long runs that need no escape are skipped a word at a time: one byte
 * that needs one (or a multi-byte character), at every offset of strings
 * of every length up to 40, around the eight-byte boundaries. */
static void test_word_boundaries(void)
{
	static const char *const odd[] = { "\"", "\\", "\n", "\x01", "\x1f", "\x7f", "\xc3\xa9",
					   "\xe2\x82\xac", "\xf0\x9f\x98\x80", "+", "/" };
	char text[64];

	for (size_t len = 0; len <= 40; len++) {
		for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) {
			for (size_t at = 0; at <= len; at++) {
				size_t olen = strlen(odd[k]), n = 0;

				for (size_t i = 0; i < at; i++)
					text[n++] = (char)("AZaz09+/"[i % 8]);
				memcpy(text + n, odd[k], olen);
				n += olen;
				for (size_t i = at; i < len; i++)
					text[n++] = (char)("QWqw56=+"[i % 8]);
				CHECK(same_bytes(json_stringn(text, n)));
			}
		}
	}
}

int main(void)
{
	test_run("record_json writes Jansson's bytes (and with JSON_ENSURE_ASCII)", test_values);
	test_run("the same on generated trees", test_generated);
	test_run("escapes at every offset around the word-at-a-time skip", test_word_boundaries);
	return test_done();
}

/* record_json - see record_json.h */
#include "common/record_json.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SORT_ON_STACK 32

/* One member of an object, for sorting. */
struct member {
	const char *key;
	size_t len;
	json_t *value;
};

/* Appends one character: most of a record's fragments are one. */
static void put_char(struct buf *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
	} else {
		buf_append(b, &c, 1);
	}
}

/* The code point of the UTF-8 sequence at s[0..len) (valid UTF-8: the
 * bytes come from a json_t) and its length in *n. */
static uint32_t utf8_decode(const unsigned char *s, size_t len, size_t *n)
{
	if (s[0] < 0xe0 && len >= 2) {
		*n = 2;
		return ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
	}
	if (s[0] < 0xf0 && len >= 3) {
		*n = 3;
		return ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
	}
	if (len >= 4) {
		*n = 4;
		return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
		       ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
	}
	*n = 1;   /* not reached with valid UTF-8 */
	return s[0];
}

/* A string; with ascii, every code point above 0x7f as Jansson's
 * JSON_ENSURE_ASCII writes it: "\u" and four upper-case hex digits, a
 * UTF-16 surrogate pair beyond the BMP (RFC 8259 section 7). */
/* 1 when none of the eight bytes at s needs an escape: no control
 * character, '"' or '\\', and with ascii nothing above 0x7f. The
 * has-less-than and has-zero-byte tests of "Bit Twiddling Hacks" (exact
 * as a yes/no answer: a borrow only misplaces which byte). */
static int clean8(const char *s, int ascii)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t x, quote, bslash;

	memcpy(&x, s, 8);
	quote = x ^ (ones * '"');
	bslash = x ^ (ones * '\\');
	if ((((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) | ((bslash - ones) & ~bslash)) & highs)
		return 0;
	return !(ascii && (x & highs));
}

static void append_string(struct buf *b, const char *s, size_t len, int ascii)
{
	size_t run = 0;

	buf_reserve(b, len + 2);
	put_char(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c;
		const char *esc = NULL;
		char u[16];

		/* Long runs that need no escape (a chunk's base64) in words. */
		while (i + 8 <= len && clean8(s + i, ascii))
			i += 8;
		if (i == len)
			break;
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && (c < 0x80 || !ascii))
			continue;
		buf_append(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (c < 0x80) {
				snprintf(u, sizeof u, "\\u%04X", c);
			} else {
				size_t n;
				uint32_t cp = utf8_decode((const unsigned char *)s + i, len - i, &n);

				if (cp < 0x10000)
					snprintf(u, sizeof u, "\\u%04X", (unsigned)cp);
				else
					snprintf(u, sizeof u, "\\u%04X\\u%04X", (unsigned)(0xd800 + ((cp - 0x10000) >> 10)),
						 (unsigned)(0xdc00 + ((cp - 0x10000) & 0x3ff)));
				i += n - 1;
				run = i + 1;
			}
			esc = u;
		}
		buf_puts(b, esc);
	}
	buf_append(b, s + run, len - run);
	put_char(b, '"');
}

void record_json_string(struct buf *b, const char *s, size_t len)
{
	append_string(b, s, len, 0);
}

/* Jansson's key order: bytes, then the shorter first. */
static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int r = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	if (r != 0)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* A value Jansson writes itself (a real's digits, or a record too deep
 * for this writer's recursion). */
static void append_jansson(struct buf *b, json_t *v, int ascii)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | (ascii ? JSON_ENSURE_ASCII : 0));

	if (s == NULL)
		log_panic("record_json: cannot encode a JSON value");
	buf_puts(b, s);
	free(s);
}

/* An integer in decimal, as "%lld" writes it. */
static void append_int(struct buf *b, json_int_t n)
{
	char num[24], *p = num + sizeof num;
	unsigned long long u = n < 0 ? 0ull - (unsigned long long)n : (unsigned long long)n;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (n < 0)
		*--p = '-';
	buf_append(b, p, (size_t)(num + sizeof num - p));
}

void record_json_int(struct buf *out, json_int_t n)
{
	append_int(out, n);
}

static void append_value(struct buf *b, json_t *v, int depth, int ascii);

/* Sorts an object's members: insertion sort, as objects are small. */
static void sort_members(struct member *m, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct member x = m[i];
		size_t j = i;

		for (; j > 0 && member_cmp(&m[j - 1], &x) > 0; j--)
			m[j] = m[j - 1];
		m[j] = x;
	}
}

/* An object, its members in key order. */
static void append_object(struct buf *b, json_t *o, int depth, int ascii)
{
	struct member stack[SORT_ON_STACK], *m = stack;
	size_t n = json_object_size(o), i = 0;
	const char *key;
	size_t klen;
	json_t *v;

	if (n > SORT_ON_STACK)
		m = xmalloc(n * sizeof *m);
	json_object_keylen_foreach(o, key, klen, v)
		m[i++] = (struct member){ key, klen, v };
	if (i > SORT_ON_STACK)
		qsort(m, i, sizeof *m, member_cmp);
	else
		sort_members(m, i);
	put_char(b, '{');
	for (size_t j = 0; j < i; j++) {
		if (j > 0)
			put_char(b, ',');
		append_string(b, m[j].key, m[j].len, ascii);
		put_char(b, ':');
		append_value(b, m[j].value, depth + 1, ascii);
	}
	put_char(b, '}');
	if (m != stack)
		free(m);
}

/* Any value, depth levels down from the record. */
static void append_value(struct buf *b, json_t *v, int depth, int ascii)
{
	size_t i;
	json_t *e;

	if (depth > RECORD_JSON_DEPTH) {
		append_jansson(b, v, ascii);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		append_object(b, v, depth, ascii);
		return;
	case JSON_ARRAY:
		put_char(b, '[');
		json_array_foreach(v, i, e) {
			if (i > 0)
				put_char(b, ',');
			append_value(b, e, depth + 1, ascii);
		}
		put_char(b, ']');
		return;
	case JSON_STRING:
		append_string(b, json_string_value(v), json_string_length(v), ascii);
		return;
	case JSON_INTEGER:
		append_int(b, json_integer_value(v));
		return;
	case JSON_TRUE:
		buf_append(b, "true", 4);
		return;
	case JSON_FALSE:
		buf_append(b, "false", 5);
		return;
	case JSON_NULL:
		buf_append(b, "null", 4);
		return;
	default:
		append_jansson(b, v, ascii);
	}
}

void record_json_append(struct buf *out, json_t *v)
{
	append_value(out, v, 0, 0);
}

void record_json_append_ascii(struct buf *out, json_t *v)
{
	append_value(out, v, 0, 1);
}

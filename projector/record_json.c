/* record_json - see record_json.h */
#include "projector/record_json.h"
#include "common/buf.h"
#include "common/log.h"

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

void record_json_string(struct buf *b, const char *s, size_t len)
{
	size_t run = 0;

	buf_reserve(b, len + 2);
	put_char(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[8];

		if (c >= 0x20 && c != '"' && c != '\\')
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
			snprintf(u, sizeof u, "\\u%04X", c);
			esc = u;
		}
		buf_puts(b, esc);
	}
	buf_append(b, s + run, len - run);
	put_char(b, '"');
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
static void append_jansson(struct buf *b, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (s == NULL)
		log_panic("projector: cannot encode a view record");
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

static void append_value(struct buf *b, json_t *v, int depth);

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
static void append_object(struct buf *b, json_t *o, int depth)
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
		record_json_string(b, m[j].key, m[j].len);
		put_char(b, ':');
		append_value(b, m[j].value, depth + 1);
	}
	put_char(b, '}');
	if (m != stack)
		free(m);
}

/* Any value, depth levels down from the record. */
static void append_value(struct buf *b, json_t *v, int depth)
{
	size_t i;
	json_t *e;

	if (depth > RECORD_JSON_DEPTH) {
		append_jansson(b, v);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		append_object(b, v, depth);
		return;
	case JSON_ARRAY:
		put_char(b, '[');
		json_array_foreach(v, i, e) {
			if (i > 0)
				put_char(b, ',');
			append_value(b, e, depth + 1);
		}
		put_char(b, ']');
		return;
	case JSON_STRING:
		record_json_string(b, json_string_value(v), json_string_length(v));
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
		append_jansson(b, v);
	}
}

void record_json_append(struct buf *out, json_t *v)
{
	append_value(out, v, 0);
}

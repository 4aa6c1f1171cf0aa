/* projector_outcome - the stored bytes of an accepted event's outcome
 * (ev/<id>), written straight into a buffer.
 *
 * The bytes are exactly what json_dumps(JSON_COMPACT | JSON_SORT_KEYS)
 * gives for the object {result fields..., "status":"accepted", "topic",
 * "partition", "offset"} (the four overriding result fields of the same
 * name), so views written before and after stay byte-identical; the unit
 * test compares the two on every kind of value. This saves building,
 * hashing and sorting a second object per event on the apply path. */
#include "projector/projector_internal.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTCOME_FIXED 4
#define OUTCOME_KEYS_MAX 64

struct field {
	const char *key;
	json_t *value;             /* NULL: a fixed field, see put_fixed */
};

/* A JSON string as Jansson's dumper writes it without JSON_ENSURE_ASCII
 * or JSON_ESCAPE_SLASH: '"', '\\' and controls escaped, the rest as is
 * (s is valid UTF-8: it comes from a json_t). */
static void put_string(struct buf *b, const char *s, size_t len)
{
	size_t run = 0;

	buf_append(b, "\"", 1);
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
	buf_append(b, "\"", 1);
}

/* Any other value through Jansson itself. */
static void put_value(struct buf *b, json_t *v)
{
	char num[32];
	char *s;

	switch (json_typeof(v)) {
	case JSON_STRING:
		put_string(b, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		buf_puts(b, num);
		return;
	case JSON_TRUE:
		buf_puts(b, "true");
		return;
	case JSON_FALSE:
		buf_puts(b, "false");
		return;
	case JSON_NULL:
		buf_puts(b, "null");
		return;
	default:
		s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		if (s == NULL)
			log_panic("projector: cannot encode an outcome value");
		buf_puts(b, s);
		free(s);
	}
}

static int field_cmp(const void *a, const void *b)
{
	return strcmp(((const struct field *)a)->key, ((const struct field *)b)->key);
}

/* The value of a fixed field. */
static void put_fixed(struct buf *b, const struct apply_ctx *ctx, const char *key)
{
	char num[32];

	if (strcmp(key, "status") == 0) {
		buf_puts(b, "\"accepted\"");
	} else if (strcmp(key, "topic") == 0) {
		put_string(b, evm_topics[ctx->topic].suffix, strlen(evm_topics[ctx->topic].suffix));
	} else {
		snprintf(num, sizeof num, "%lld", strcmp(key, "partition") == 0 ?
			 (long long)ctx->partition : (long long)ctx->offset);
		buf_puts(b, num);
	}
}

/* 1 when key is one of the fixed fields. */
static int is_fixed(const char *key)
{
	return strcmp(key, "status") == 0 || strcmp(key, "topic") == 0 ||
	       strcmp(key, "partition") == 0 || strcmp(key, "offset") == 0;
}

/* Appends the outcome of an accepted event to out; -1 (out untouched)
 * when the result has more fields than this encoder sorts on the stack. */
int proj_outcome_accepted(const struct apply_ctx *ctx, struct buf *out)
{
	struct field f[OUTCOME_KEYS_MAX + OUTCOME_FIXED] = {
		{ "status", NULL }, { "topic", NULL }, { "partition", NULL }, { "offset", NULL },
	};
	size_t n = OUTCOME_FIXED;
	const char *key;
	json_t *v;

	if (json_object_size(ctx->result) > OUTCOME_KEYS_MAX)
		return -1;
	json_object_foreach(ctx->result, key, v) {
		if (!is_fixed(key))
			f[n++] = (struct field){ key, v };
	}
	qsort(f, n, sizeof f[0], field_cmp);
	buf_append(out, "{", 1);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_append(out, ",", 1);
		put_string(out, f[i].key, strlen(f[i].key));
		buf_append(out, ":", 1);
		if (f[i].value == NULL)
			put_fixed(out, ctx, f[i].key);
		else
			put_value(out, f[i].value);
	}
	buf_append(out, "}", 1);
	return 0;
}

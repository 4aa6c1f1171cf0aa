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
#include "common/record_json.h"
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
		record_json_string(b, evm_topics[ctx->topic].suffix, strlen(evm_topics[ctx->topic].suffix));
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
		record_json_string(out, f[i].key, strlen(f[i].key));
		buf_append(out, ":", 1);
		if (f[i].value == NULL)
			put_fixed(out, ctx, f[i].key);
		else
			record_json_append(out, f[i].value);
	}
	buf_append(out, "}", 1);
	return 0;
}

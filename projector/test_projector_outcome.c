/* test_projector_outcome - the direct outcome encoder writes exactly the
 * bytes of the Jansson path (json_dumps, compact, sorted keys), so views
 * stay byte-identical (their digests) across builds. */
#include "projector/projector_internal.h"
#include "common/buf.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

/* The reference: what put_outcome stored before the direct encoder. */
static char *reference(const struct apply_ctx *ctx)
{
	json_t *o = json_object();
	char *s;

	json_object_update(o, ctx->result);
	json_object_set_new(o, "status", json_string("accepted"));
	json_object_set_new(o, "topic", json_string(evm_topics[ctx->topic].suffix));
	json_object_set_new(o, "partition", json_integer(ctx->partition));
	json_object_set_new(o, "offset", json_integer(ctx->offset));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* Encodes result (stolen) both ways and compares. */
static void same_bytes(json_t *result, enum evm_topic_id topic, int32_t partition, int64_t offset)
{
	struct apply_ctx ctx = { .topic = topic, .partition = partition, .offset = offset,
				 .result = result };
	struct buf out = BUF_INIT;
	char *ref;

	CHECK(result != NULL);
	if (result == NULL)
		return;
	ref = reference(&ctx);
	CHECK_EQ_INT(proj_outcome_accepted(&ctx, &out), 0);
	buf_append(&out, "", 1);
	CHECK_EQ_STR(out.data, ref);
	free(ref);
	buf_free(&out);
	json_decref(result);
}

static void test_values(void)
{
	same_bytes(json_object(), EVM_TOPIC_DIRECTORY, 0, 0);
	same_bytes(json_pack("{s:s, s:s}", "tenant", "t1", "address", "u@d.test"), EVM_TOPIC_DIRECTORY,
		   0, 12345678901LL);
	same_bytes(json_pack("{s:s, s:I, s:I, s:I, s:s}", "mailbox_id", "0123456789abcdef0123456789abcdef",
			     "uid", (json_int_t)7, "uidvalidity", (json_int_t)4294967295LL, "modseq",
			     (json_int_t)-3, "email_id", "Mabc"), EVM_TOPIC_MAIL, 15, 99);
	/* Every escape Jansson makes, and what it leaves alone. */
	same_bytes(json_pack("{s:s, s:s, s:s, s:s}", "q", "a\"b\\c/d", "c", "\x01\b\f\n\r\t\x1f\x7f",
			     "u", "\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80", "e", ""),
		   EVM_TOPIC_QUEUE, 3, 1);
	same_bytes(json_pack("{s:b, s:b, s:n, s:f}", "t", 1, "f", 0, "z", "r", 0.5), EVM_TOPIC_BLOB, 1, 2);
	/* Nested values, keys out of order, and a NUL inside a string. */
	same_bytes(json_pack("{s:{s:i, s:[i, s, {s:s, s:s}]}, s:[], s:s%}", "src", "z", 1, "a", 2,
			     "x", "y", "b", "c", "d", "list", "nul", "a\0b", (size_t)3),
		   EVM_TOPIC_MAIL, 0, 5);
	/* Result fields named like the fixed ones are overridden; case sorts
	 * by bytes. */
	same_bytes(json_pack("{s:s, s:i, s:s, s:i, s:s, s:s}", "status", "x", "offset", 5, "topic",
			     "y", "partition", 9, "Zeta", "1", "alpha", "2"),
		   EVM_TOPIC_DIRECTORY, 0, 42);
}

static void test_too_many_fields(void)
{
	struct apply_ctx ctx = { .topic = EVM_TOPIC_MAIL, .result = json_object() };
	struct buf out = BUF_INIT;
	char key[16];

	for (int i = 0; i < 65; i++) {
		snprintf(key, sizeof key, "k%02d", i);
		json_object_set_new(ctx.result, key, json_integer(i));
	}
	CHECK_EQ_INT(proj_outcome_accepted(&ctx, &out), -1);
	CHECK_EQ_INT((int)out.len, 0);
	json_object_del(ctx.result, "k00");
	CHECK_EQ_INT(proj_outcome_accepted(&ctx, &out), 0);
	buf_free(&out);
	json_decref(ctx.result);
}

int main(void)
{
	test_run("the direct encoder writes Jansson's bytes", test_values);
	test_run("a result too large goes back to Jansson", test_too_many_fields);
	return test_done();
}

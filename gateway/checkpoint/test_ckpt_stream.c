/* test_ckpt_stream - the checkpoint stream parser: whole, 1 and 7 octets
 * at a time give the same files; every truncation is "truncated"; a
 * flipped octet, bad magic, a bad file name, a duplicate, data after the
 * end and a refusing callback fail with their message; and the manifest
 * check against the configuration (prefix, partitions, view format). */
#include "gateway/checkpoint/checkpoint.h"
#include "gateway/checkpoint/ckpt_stream.h"
#include "projector/keys.h"
#include "tests/unit/testlib.h"

#include <string.h>

#define SHA_A "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
struct collect {
	struct buf out;          /* transcript */
	int refuse_manifest;
};

static int c_manifest(void *ctx, json_t *m, const char **error_r)
{
	struct collect *c = ctx;

	if (c->refuse_manifest) {
		*error_r = "refused by the caller";
		return -1;
	}
	buf_printf(&c->out, "M%zu\n", json_array_size(json_object_get(m, "files")));
	return 0;
}

static int c_begin(void *ctx, const char *name, uint64_t size, const char **error_r)
{
	buf_printf(&((struct collect *)ctx)->out, "B%s:%llu:", name, (unsigned long long)size);
	return 0;
}

static int c_data(void *ctx, const void *data, size_t len, const char **error_r)
{
	buf_append(&((struct collect *)ctx)->out, data, len);
	return 0;
}

static int c_end(void *ctx, const char **error_r)
{
	buf_puts(&((struct collect *)ctx)->out, "E\n");
	return 0;
}

static const struct ckpt_parser_cbs cbs = { c_manifest, c_begin, c_data, c_end };

/* SHA-256 of "a", "" and "hello world". */
static const char *const sums[] = {
	SHA_A,
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
};

/* A stream of three files: "a", "" and "hello world". */
static void make_stream(struct buf *s, const char *name0, const char *name1)
{
	json_t *m = json_pack("{s:i,s:i,s:s,s:{s:i,s:i,s:i,s:i,s:i},s:{},s:s,s:i,s:s,s:[{s:s,s:i,s:s},{s:s,s:i,s:s},{s:s,s:i,s:s}]}",
			      "format", CKPT_FORMAT, "view_format", VIEW_FORMAT, "prefix", "evmail.",
			      "topics", "mail", 4, "blob", 4, "directory", 1, "queue", 4, "cluster", 1,
			      "offsets", "digest", sums[1], "keys", 3, "node", "n1",
			      "files", "name", name0, "size", 1, "sha256", sums[0],
			      "name", name1, "size", 0, "sha256", sums[1],
			      "name", "000009.sst", "size", 11, "sha256", sums[2]);

	ckpt_stream_head(m, s);
	buf_puts(s, "a");
	buf_puts(s, "hello world");
	buf_append(s, CKPT_TRAILER, 8);
	json_decref(m);
}

/* Feeds s in pieces of step octets (0: whole); returns the finish result
 * and the transcript in c->out. */
static int feed(const struct buf *s, size_t len, size_t step, struct collect *c, const char **error_r)
{
	struct ckpt_parser *p = ckpt_parser_new(&cbs, c);
	int ret = 0;

	for (size_t off = 0; off < len && ret == 0;) {
		size_t n = step == 0 || len - off < step ? len - off : step;
		ret = ckpt_parser_feed(p, s->data + off, n, error_r);
		off += n;
	}
	if (ret == 0)
		ret = ckpt_parser_finish(p, error_r);
	/* the message lives in the parser: copy what the tests look at */
	if (ret < 0) {
		static char copy[400];
		snprintf(copy, sizeof copy, "%s", *error_r);
		*error_r = copy;
	}
	ckpt_parser_free(&p);
	return ret;
}

static void test_pieces(void)
{
	struct buf s = BUF_INIT;
	static const size_t steps[] = { 0, 1, 7 };
	const char *want = "M3\nBfirst:1:aE\nBempty:0:E\nB000009.sst:11:hello worldE\n";

	make_stream(&s, "first", "empty");
	for (size_t i = 0; i < 3; i++) {
		struct collect c = { BUF_INIT, 0 };
		const char *error = NULL;

		CHECK_EQ_INT(feed(&s, s.len, steps[i], &c, &error), 0);
		CHECK_EQ_INT(c.out.len, strlen(want));
		CHECK(memcmp(c.out.data, want, c.out.len) == 0);
		buf_free(&c.out);
	}
	buf_free(&s);
}

static void test_truncated(void)
{
	struct buf s = BUF_INIT;

	make_stream(&s, "first", "empty");
	for (size_t len = 0; len < s.len; len++) {
		struct collect c = { BUF_INIT, 0 };
		const char *error = NULL;

		CHECK_EQ_INT(feed(&s, len, len % 7 + 1, &c, &error), -1);
		CHECK(strstr(error, "truncated") != NULL);
		buf_free(&c.out);
	}
	buf_free(&s);
}

/* Feeds s whole and expects a failure containing needle. */
static int fails_with(const struct buf *s, const char *needle, int refuse)
{
	struct collect c = { BUF_INIT, refuse };
	const char *error = NULL;
	int ok = feed(s, s->len, 7, &c, &error) == -1 && strstr(error, needle) != NULL;

	if (!ok)
		fprintf(stderr, "wanted '%s', got '%s'\n", needle, error ? error : "(success)");
	buf_free(&c.out);
	return ok;
}

static void test_refusals(void)
{
	struct buf s = BUF_INIT;

	make_stream(&s, "first", "empty");
	s.data[s.len - 10] ^= 1;            /* in "hello world" */
	CHECK(fails_with(&s, "000009.sst is corrupt", 0));
	s.data[s.len - 10] ^= 1;
	CHECK(fails_with(&s, "refused by the caller", 1));
	buf_puts(&s, "x");
	CHECK(fails_with(&s, "after the end marker", 0));
	s.data[0] = 'X';
	CHECK(fails_with(&s, "bad magic", 0));
	buf_free(&s);

	make_stream(&s, "../etc", "empty");
	CHECK(fails_with(&s, "not a valid", 0));
	buf_free(&s);
	make_stream(&s, "same", "same");
	CHECK(fails_with(&s, "duplicate", 0));
	buf_free(&s);

	buf_append(&s, CKPT_MAGIC "\xff\xff\xff\xff", 12);
	CHECK(fails_with(&s, "limit", 0));
	buf_free(&s);
	buf_append(&s, CKPT_MAGIC "\0\0\0\2{}", 14);
	CHECK(fails_with(&s, "format", 0));
	buf_free(&s);
}

static void test_manifest_check(void)
{
	struct evm_config cfg;
	const char *error = NULL;
	json_t *m = json_pack("{s:i,s:I,s:s,s:{s:i,s:i,s:i,s:i,s:i},s:{}}", "view_format", VIEW_FORMAT,
			      "tombstone_ms", (json_int_t)30 * 86400000, "prefix", "evmail.", "topics", "mail", 4,
			      "blob", 4, "directory", 1, "queue", 4, "cluster", 1, "offsets");

	CHECK_EQ_INT(config_load(NULL, &cfg, &error), 0);
	CHECK_EQ_INT(config_set(&cfg, "log.topic_prefix", "evmail.", &error), 0);
	CHECK_EQ_INT(config_set(&cfg, "log.partitions", "4", &error), 0);
	CHECK_EQ_INT(ckpt_manifest_check(&cfg, m, &error), 0);
	CHECK_EQ_INT(config_set(&cfg, "log.partitions", "8", &error), 0);
	CHECK_EQ_INT(ckpt_manifest_check(&cfg, m, &error), -1);
	CHECK(strstr(error, "topic evmail.mail has 4 partitions there, this node expects 8") != NULL);
	CHECK_EQ_INT(config_set(&cfg, "log.partitions", "4", &error), 0);
	CHECK_EQ_INT(config_set(&cfg, "log.topic_prefix", "b.", &error), 0);
	CHECK_EQ_INT(ckpt_manifest_check(&cfg, m, &error), -1);
	CHECK(strstr(error, "log.topic_prefix is 'b.'") != NULL);
	CHECK_EQ_INT(config_set(&cfg, "log.topic_prefix", "evmail.", &error), 0);
	json_object_set_new(m, "view_format", json_integer(VIEW_FORMAT + 1));
	CHECK_EQ_INT(ckpt_manifest_check(&cfg, m, &error), -1);
	CHECK(strstr(error, "view has format") != NULL);
	json_object_set_new(m, "view_format", json_integer(VIEW_FORMAT));
	/* mail.tombstone_days is an input of the appliers: the same or refused */
	CHECK_EQ_INT(config_set(&cfg, "mail.tombstone_days", "0.5", &error), 0);
	CHECK_EQ_INT(ckpt_manifest_check(&cfg, m, &error), -1);
	CHECK(strstr(error, "mail.tombstone_days = 30, this node has 0.5") != NULL);
	CHECK_EQ_INT(config_set(&cfg, "mail.tombstone_days", "30", &error), 0);
	CHECK_EQ_INT(ckpt_manifest_check(&cfg, m, &error), 0);
	/* so is blob.store; a manifest without it is a view-mode peer's */
	CHECK_EQ_INT(config_set(&cfg, "blob.store", "log", &error), 0);
	CHECK_EQ_INT(ckpt_manifest_check(&cfg, m, &error), -1);
	CHECK(strstr(error, "blob.store = view, this node has log") != NULL);
	json_object_set_new(m, "blob_store", json_string("log"));
	CHECK_EQ_INT(ckpt_manifest_check(&cfg, m, &error), 0);
	CHECK_EQ_INT(config_set(&cfg, "blob.store", "view", &error), 0);
	CHECK_EQ_INT(ckpt_manifest_check(&cfg, m, &error), -1);
	CHECK(strstr(error, "blob.store = log, this node has view") != NULL);
	json_object_set_new(m, "blob_store", json_string("view"));
	CHECK_EQ_INT(ckpt_manifest_check(&cfg, m, &error), 0);
	json_object_del(json_object_get(m, "topics"), "queue");
	CHECK_EQ_INT(ckpt_manifest_check(&cfg, m, &error), -1);
	CHECK(strstr(error, "topic set") != NULL);
	json_decref(m);
	config_free(&cfg);
}

int main(void)
{
	test_run("whole, 1 and 7 octets at a time", test_pieces);
	test_run("every truncation", test_truncated);
	test_run("refusals", test_refusals);
	test_run("manifest against the configuration", test_manifest_check);
	return test_done();
}

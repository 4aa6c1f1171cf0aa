/* test_blob_log - blob.store = log in the projector (blob_store.h):
 * blob.chunk records chunk locations and drops the bytes at completion, a
 * second upload of a complete blob records its own, blob.gc removes a
 * collected upload's; two interleavings give equal digests; bodies read
 * back from an embedded log through mail_blob_read (a miss, a hit, a bad
 * cache file, a wrong location skipped for another upload, none readable,
 * an opener hook that refuses). */
#include "projector/blob_internal.h"
#include "common/ids.h"
#include "projector/blob_store.h"
#include "projector/mail.h"
#include "common/config.h"
#include "tests/unit/testlib.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALICE "alice@acme.test"
#define U1 "1111111111111111"
#define U2 "2222222222222222"
#define U3 "3333333333333333"
#define T0 INT64_C(1700000000000)
#define CHUNK 1000

static char body_x[2 * CHUNK + 1], blob_x[65], blob_y[65];
static const char body_y[] = "Subject: y\r\n\r\na one-chunk body\r\n";

/* blob.chunk data: chunk index of body, CHUNK octets each. */
static json_t *chunk(const char *body, const char *blob_id, const char *upload, int index)
{
	size_t len = strlen(body), count = (len + CHUNK - 1) / CHUNK, off = (size_t)index * CHUNK;
	size_t n = len - off < CHUNK ? len - off : CHUNK;
	char b64[2 * CHUNK];
	int bn = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)body + off, (int)n);

	return json_pack("{s:s, s:s, s:i, s:i, s:I, s:s#}", "blob_id", blob_id, "upload", upload, "index", index,
			 "count", (int)count, "size", (json_int_t)len, "data", b64, (size_t)bn);
}

/* Applies one event (data stolen) in blob.store = log as the projector
 * would, with its own id; "accepted" or the rejection code. */
static const char *apply_ev(struct view *v, struct evm_event *ev, int32_t partition, int64_t offset)
{
	static char code[32];
	const struct applier *a = applier_find(ev->type);
	const char *error = NULL;
	struct view_batch *b = view_batch_begin(v);
	struct apply_ctx ctx = { .batch = b, .ev = ev, .topic = a->topic, .partition = partition,
				 .offset = offset, .result = json_object(), .changed = json_array(),
				 .blob_log = 1 };
	enum apply_status st;

	if ((st = a->apply(&ctx, &error)) == APPLY_FAILED) {
		fprintf(stderr, "%s failed: %s\n", ev->type, error);
		abort();
	}
	snprintf(code, sizeof code, "%s", st == APPLY_ACCEPTED ? "accepted" : ctx.reject_code);
	json_decref(ctx.result);
	json_decref(ctx.changed);
	if (view_batch_commit(&b, &error) < 0)
		abort();
	return code;
}

/* A new event of type (data stolen) with an id made of partition and offset. */
static void make_ev(struct evm_event *ev, const char *type, const char *account, int32_t partition,
		    int64_t offset, json_t *data)
{
	const char *error = NULL;

	if (evm_event_init(ev, type, "acme", account, "test", data, &error) < 0)
		abort();
	snprintf(ev->id, sizeof ev->id, "%08" PRIx32 "%024" PRIx64, (uint32_t)partition, (uint64_t)offset);
	ev->ts = T0 + offset;
}

static const char *apply_at(struct view *v, const char *type, const char *account, int32_t partition,
			    int64_t offset, json_t *data)
{
	struct evm_event ev;
	const char *code;

	make_ev(&ev, type, account, partition, offset, data);
	code = apply_ev(v, &ev, partition, offset);
	evm_event_clear(&ev);
	return code;
}

static struct view *open_at(const char *name)
{
	struct view *v = NULL;
	const char *error = NULL;

	if (view_open(test_tmpdir(name), &v, &error) < 0) {
		fprintf(stderr, "view: %s\n", error);
		exit(2);
	}
	return v;
}

/* The view's value at the key fmt(a, b), "(none)" when absent. */
static const char *get(struct view *v, const char *fmt, const char *a, const char *b)
{
	static char out[512];
	char key[512];
	const char *error = NULL;
	char *val = NULL;
	int r;

	snprintf(key, sizeof key, fmt, a, b);
	r = view_get(v, key, strlen(key), &val, NULL, &error);
	snprintf(out, sizeof out, "%s", r == 1 ? val : r == 0 ? "(none)" : "(error)");
	free(val);
	return out;
}

/* Locations written, bytes dropped at completion, a second upload's
 * locations, blob.gc removing the collected upload's, then all. */
static void test_apply(void)
{
	struct view *v = open_at("log-apply");

	CHECK_EQ_STR(apply_at(v, "blob.chunk", "", 3, 10, chunk(body_x, blob_x, U1, 0)), "accepted");
	CHECK_EQ_STR(get(v, "blobloc/%s/%s/000000", blob_x, U1), "3 10");
	CHECK(strcmp(get(v, "blob/%s/%s", blob_x, "000000"), "(none)") != 0);   /* kept for the hash */
	CHECK_EQ_STR(apply_at(v, "blob.chunk", "", 3, 11, chunk(body_x, blob_x, U1, 1)), "accepted");
	CHECK_EQ_STR(get(v, "blobloc/%s/%s/000001", blob_x, U1), "3 11");
	CHECK_EQ_STR(get(v, "blob/%s/%s", blob_x, "000000"), "(none)");
	CHECK_EQ_STR(get(v, "blob/%s/%s", blob_x, "000001"), "(none)");
	CHECK_EQ_STR(get(v, "blobmeta/%s%s", blob_x, ""), "{\"count\":2,\"present\":2,\"size\":2000}");
	/* A second upload of the complete blob: its locations, meta unchanged. */
	CHECK_EQ_STR(apply_at(v, "blob.chunk", "", 3, 12, chunk(body_x, blob_x, U2, 1)), "accepted");
	CHECK_EQ_STR(apply_at(v, "blob.chunk", "", 3, 13, chunk(body_x, blob_x, U2, 0)), "accepted");
	CHECK_EQ_STR(get(v, "blobloc/%s/%s/000000", blob_x, U2), "3 13");
	CHECK_EQ_STR(get(v, "blobloc/%s/%s/000001", blob_x, U2), "3 12");
	CHECK_EQ_STR(get(v, "blobmeta/%s%s", blob_x, ""), "{\"count\":2,\"present\":2,\"size\":2000}");
	/* A retried record of the same key: the latest (what compaction keeps). */
	CHECK_EQ_STR(apply_at(v, "blob.chunk", "", 3, 14, chunk(body_x, blob_x, U2, 1)), "accepted");
	CHECK_EQ_STR(get(v, "blobloc/%s/%s/000001", blob_x, U2), "3 14");
	/* Still checked against the blob's record. */
	CHECK_EQ_STR(apply_at(v, "blob.chunk", "", 3, 15, chunk(body_y, blob_x, U3, 0)), "conflict");
	/* blob.gc of U1: U1's locations go, U2's stay, the content stays. */
	CHECK_EQ_STR(apply_at(v, "blob.gc", "", 3, 16, json_pack("{s:s, s:[s]}", "blob_id", blob_x, "uploads", U1)),
		     "accepted");
	CHECK_EQ_STR(get(v, "blobloc/%s/%s/000000", blob_x, U1), "(none)");
	CHECK_EQ_STR(get(v, "blobloc/%s/%s/000001", blob_x, U1), "(none)");
	CHECK_EQ_STR(get(v, "blobloc/%s/%s/000000", blob_x, U2), "3 13");
	CHECK(strcmp(get(v, "blobmeta/%s%s", blob_x, ""), "(none)") != 0);
	/* blob.gc of U2: nothing left. */
	CHECK_EQ_STR(apply_at(v, "blob.gc", "", 3, 17, json_pack("{s:s, s:[s]}", "blob_id", blob_x, "uploads", U2)),
		     "accepted");
	CHECK_EQ_STR(get(v, "blobloc/%s/%s/000000", blob_x, U2), "(none)");
	CHECK_EQ_STR(get(v, "blobmeta/%s%s", blob_x, ""), "(none)");
	/* Delivered again: bytes kept until complete, as the first time. */
	CHECK_EQ_STR(apply_at(v, "blob.chunk", "", 3, 18, chunk(body_x, blob_x, U3, 0)), "accepted");
	CHECK_EQ_STR(get(v, "blobmeta/%s%s", blob_x, ""), "{\"count\":2,\"present\":1,\"size\":2000}");
	CHECK_EQ_STR(get(v, "blobloc/%s/%s/000000", blob_x, U3), "3 18");
	view_close(&v);
}

static json_t *append_x(void)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:I, s:{s:I}, s:[], s:[]}", "mailbox", "INBOX", "blob_id", blob_x,
			 "blob_size", (json_int_t)strlen(body_x), "prefix", "", "internal_date", (json_int_t)T0,
			 "summary", "size", (json_int_t)strlen(body_x), "flags", "keywords");
}

/* Two partitions of the blob topic and one of mail, in two orders. */
static void test_interleavings(void)
{
	struct view *a = open_at("log-il-a"), *b = open_at("log-il-b");
	char da[65], db[65];
	const char *error = NULL;
	uint64_t keys;

	/* a: blob x (partition 1), blob y (partition 2), then the mail. */
	CHECK_EQ_STR(apply_at(a, "blob.chunk", "", 1, 0, chunk(body_x, blob_x, U1, 0)), "accepted");
	CHECK_EQ_STR(apply_at(a, "blob.chunk", "", 1, 1, chunk(body_x, blob_x, U1, 1)), "accepted");
	CHECK_EQ_STR(apply_at(a, "blob.chunk", "", 1, 2, chunk(body_x, blob_x, U2, 0)), "accepted");
	CHECK_EQ_STR(apply_at(a, "blob.chunk", "", 2, 0, chunk(body_y, blob_y, U3, 0)), "accepted");
	CHECK_EQ_STR(apply_at(a, "message.append", ALICE, 0, 0, append_x()), "accepted");
	/* b: the mail first, then y, then x. */
	CHECK_EQ_STR(apply_at(b, "message.append", ALICE, 0, 0, append_x()), "accepted");
	CHECK_EQ_STR(apply_at(b, "blob.chunk", "", 2, 0, chunk(body_y, blob_y, U3, 0)), "accepted");
	CHECK_EQ_STR(apply_at(b, "blob.chunk", "", 1, 0, chunk(body_x, blob_x, U1, 0)), "accepted");
	CHECK_EQ_STR(apply_at(b, "blob.chunk", "", 1, 1, chunk(body_x, blob_x, U1, 1)), "accepted");
	CHECK_EQ_STR(apply_at(b, "blob.chunk", "", 1, 2, chunk(body_x, blob_x, U2, 0)), "accepted");
	CHECK_EQ_INT(view_digest(a, da, &keys, &error), 0);
	CHECK_EQ_INT(view_digest(b, db, &keys, &error), 0);
	CHECK_EQ_STR(da, db);
	view_close(&a);
	view_close(&b);
}

struct ack {
	int done, status;
	int64_t offset;
};

static void ack_cb(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct ack *a = ctx;

	a->done = 1;
	a->status = status;
	a->offset = offset;
}

static struct event_base *base;
static struct evlog *elog;

/* Appends a chunk to blob partition 0 under its record key, as
 * deliver_blob.c does, and applies it at its offset: the offset. */
static int64_t deliver_chunk(struct view *v, const char *body, const char *blob_id, const char *upload, int index)
{
	struct evm_event ev;
	struct ack a = { 0 };
	const char *error = NULL;
	char key[128], *val = NULL;
	size_t vlen = 0;

	make_ev(&ev, "blob.chunk", "", 0, 0, chunk(body, blob_id, upload, index));
	snprintf(key, sizeof key, "%s/%s/%d", blob_id, upload, index);
	if (evm_event_encode(&ev, &val, &vlen, &error) < 0 ||
	    evlog_append(elog, EVM_TOPIC_BLOB, 0, key, strlen(key), val, vlen, ack_cb, &a, &error) < 0) {
		fprintf(stderr, "append: %s\n", error);
		abort();
	}
	while (!a.done)
		event_base_loop(base, EVLOOP_ONCE);
	if (a.status != 0 || strcmp(apply_ev(v, &ev, 0, a.offset), "accepted") != 0)
		abort();
	free(val);
	evm_event_clear(&ev);
	return a.offset;
}

/* mail_blob_read: 1 and the bytes equal to body, or what it returned. */
static int reads(struct view *v, const char *blob_id, const char *body)
{
	const char *error = NULL;
	char *data = NULL;
	size_t len = 0;
	int r = mail_blob_read(v, blob_id, &data, &len, &error);

	if (r == 1 && (len != strlen(body) || memcmp(data, body, len) != 0))
		r = 9;
	if (r < 0)
		fprintf(stderr, "mail_blob_read: %s\n", error);
	free(data);
	return r;
}

/* Overwrites a view key. */
static void put_raw(struct view *v, const char *key, const char *val)
{
	struct view_batch *b = view_batch_begin(v);
	const char *error = NULL;

	view_batch_put(b, key, strlen(key), val, strlen(val));
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
}

/* Deletes a view key. */
static void del_raw(struct view *v, const char *key)
{
	struct view_batch *b = view_batch_begin(v);
	const char *error = NULL;

	view_batch_delete(b, key, strlen(key));
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
}

static int opened;

static int open_ok(void *ctx, struct evm_event *ev, const char **error_r)
{
	opened++;
	return 0;
}

static int open_refuse(void *ctx, struct evm_event *ev, const char **error_r)
{
	*error_r = "sealed with an erased key";
	return -1;
}

/* Bodies read from the log: miss, hit, bad cache file, wrong location,
 * none readable, the opener hook. */
static void test_fetch(void)
{
	struct view *v = open_at("log-fetch");
	struct blob_store *s = NULL, *s0 = NULL;
	struct blob_store_stats st;
	const char *cache = test_tmpdir("log-fetch-cache"), *error = NULL;
	char path[1024], key[256], loc[64], *val = NULL;
	int64_t off_y;
	FILE *f;

	deliver_chunk(v, body_x, blob_x, U1, 0);
	deliver_chunk(v, body_x, blob_x, U1, 1);
	off_y = deliver_chunk(v, body_y, blob_y, U3, 0);
	CHECK_EQ_INT(blob_store_open(elog, cache, 1 << 20, &s, &error), 0);
	view_set_blob_store(v, s);
	CHECK_EQ_INT(reads(v, blob_x, body_x), 1);
	blob_store_stats(s, &st);
	CHECK_EQ_INT(st.misses, 1);
	CHECK_EQ_INT(st.chunks_read, 2);
	CHECK_EQ_INT(st.hits, 0);
	CHECK_EQ_INT(blob_cache_has(blob_store_cache(s), blob_x), 1);
	CHECK_EQ_INT(reads(v, blob_x, body_x), 1);
	blob_store_stats(s, &st);
	CHECK_EQ_INT(st.hits, 1);
	CHECK_EQ_INT(st.chunks_read, 2);
	/* A bad cache file: deleted, read from the log again. */
	snprintf(path, sizeof path, "%s/%.2s/%s", cache, blob_x, blob_x);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("not the body", f);
	fclose(f);
	CHECK_EQ_INT(reads(v, blob_x, body_x), 1);
	blob_store_stats(s, &st);
	CHECK_EQ_INT(st.misses, 2);
	CHECK_EQ_INT(st.chunks_read, 4);
	/* A blob the view no longer has (collected) leaves the cache when asked for. */
	CHECK_EQ_INT(reads(v, blob_y, body_y), 1);
	CHECK_EQ_INT(blob_cache_has(blob_store_cache(s), blob_y), 1);
	snprintf(key, sizeof key, "blobmeta/%s", blob_y);
	CHECK(view_get(v, key, strlen(key), &val, NULL, &error) == 1);
	del_raw(v, key);
	CHECK_EQ_INT(reads(v, blob_y, body_y), 0);
	CHECK_EQ_INT(blob_cache_has(blob_store_cache(s), blob_y), 0);
	put_raw(v, key, val);
	free(val);
	view_set_blob_store(v, NULL);
	blob_store_close(&s);
	CHECK(s == NULL);

	/* No cache from here on: every read goes to the log. */
	CHECK_EQ_INT(blob_store_open(elog, test_tmpdir("log-fetch-nocache"), 0, &s0, &error), 0);
	view_set_blob_store(v, s0);
	/* U1's chunk 1 pointing at another record: U2 is read instead. */
	snprintf(key, sizeof key, "blobloc/%s/%s/000001", blob_x, U1);
	snprintf(loc, sizeof loc, "0 %" PRId64, off_y);
	put_raw(v, key, loc);
	CHECK_EQ_INT(reads(v, blob_x, body_x), 0);   /* only U1, and it is wrong */
	deliver_chunk(v, body_x, blob_x, U2, 0);
	deliver_chunk(v, body_x, blob_x, U2, 1);
	CHECK_EQ_INT(reads(v, blob_x, body_x), 1);
	/* Past the end of the partition's records of that key: U2 too. */
	snprintf(key, sizeof key, "blobloc/%s/%s/000000", blob_x, U2);
	put_raw(v, key, loc);
	CHECK_EQ_INT(reads(v, blob_x, body_x), 0);
	blob_store_stats(s0, &st);
	CHECK_EQ_INT(st.failures, 2);
	CHECK_EQ_INT(reads(v, blob_y, body_y), 1);
	/* The opener hook: a refusal is unreadable; an opener sees each chunk. */
	blob_store_set_opener(s0, open_refuse, NULL);
	CHECK_EQ_INT(reads(v, blob_y, body_y), 0);
	blob_store_set_opener(s0, open_ok, NULL);
	CHECK_EQ_INT(reads(v, blob_y, body_y), 1);
	CHECK_EQ_INT(opened, 1);
	view_set_blob_store(v, NULL);
	blob_store_close(&s0);
	view_close(&v);
}

int main(void)
{
	struct evm_config cfg;
	const char *error = NULL;

	memset(body_x, 'x', sizeof body_x - 1);
	memcpy(body_x, "Subject: x\r\n\r\n", 14);
	evm_sha256_hex(body_x, strlen(body_x), blob_x);
	evm_sha256_hex(body_y, strlen(body_y), blob_y);
	if (config_load(NULL, &cfg, &error) < 0 ||
	    config_set(&cfg, "node.data_dir", test_tmpdir("log-node"), &error) < 0 ||
	    config_set(&cfg, "log.backend", "embedded", &error) < 0 ||
	    config_set(&cfg, "log.partitions", "1", &error) < 0) {
		fprintf(stderr, "config: %s\n", error);
		return 2;
	}
	evthread_use_pthreads();   /* the log's writer thread wakes this loop */
	base = event_base_new();
	if (evlog_open(&cfg, base, &elog, &error) < 0) {
		fprintf(stderr, "log: %s\n", error);
		return 2;
	}
	test_run("blob log: locations, bytes dropped, uploads, blob.gc", test_apply);
	test_run("blob log: two interleavings, equal digests", test_interleavings);
	test_run("blob log: bodies read from the log", test_fetch);
	evlog_close(&elog);
	event_base_free(base);
	config_free(&cfg);
	return test_done();
}

/* test_blob_gc - body garbage collection in the projector (blob_gc.h):
 * reference counts per owner partition (message append, copy, expunge,
 * mailbox delete; a queue item; a JMAP upload), equal digests when the same
 * events of four partitions are applied in two different interleavings,
 * the scanner's decisions, and blob.gc (content gone with the last upload,
 * kept while another upload of the same bytes remains, duplicates
 * harmless, a redelivery after it readable). */
#include "projector/blob_internal.h"
#include "projector/mail.h"
#include "tests/unit/testlib.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALICE "alice@acme.test"
#define BOB "bob@acme.test"
#define WORK "0123456789abcdef0123456789abcdef"
#define QID "11111111111111111111111111111111"
#define U1 "1111111111111111"
#define U2 "2222222222222222"
#define U3 "3333333333333333"
#define U4 "4444444444444444"
#define T0 INT64_C(1700000000000)

static const char body_x[] = "Subject: x\r\n\r\nthe same body twice\r\n";
static const char body_y[] = "Subject: y\r\n\r\nanother body\r\n";
static char blob_x[65], blob_y[65], blob_z[65];

/* One event of one partition, at its own offset and time. */
struct tev {
	const char *type;
	const char *account;
	int32_t partition;
	int64_t offset;
	int64_t ts;
	json_t *(*data)(struct view *v);   /* built at apply time */
};

/* SHA-256 hex of s. */
static void sha_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* blob.chunk data: the whole body as chunk 0 of 1 (upload NULL: none). */
static json_t *chunk(const char *body, const char *blob_id, const char *upload)
{
	char b64[256];
	int n = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)body, (int)strlen(body));
	json_t *d = json_pack("{s:s, s:i, s:i, s:I, s:s#}", "blob_id", blob_id, "index", 0, "count", 1,
			      "size", (json_int_t)strlen(body), "data", b64, (size_t)n);

	if (upload != NULL)
		json_object_set_new(d, "upload", json_string(upload));
	return d;
}

/* The id of INBOX in v (the same on every view). */
static const char *inbox(struct view *v, const char *account)
{
	static char id[33];
	const char *error = NULL;
	json_t *mbox = NULL;

	snprintf(id, sizeof id, "%s", "no-inbox");
	if (mail_mailbox_by_name(v, account, "INBOX", &mbox, &error) == 1)
		snprintf(id, sizeof id, "%s", json_string_value(json_object_get(mbox, "id")));
	json_decref(mbox);
	return id;
}

static json_t *append_to(const char *mailbox, const char *blob_id, size_t size)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:I, s:{s:I}, s:[], s:[]}", "mailbox", mailbox, "blob_id",
			 blob_id, "blob_size", (json_int_t)size, "prefix", "", "internal_date",
			 (json_int_t)T0, "summary", "size", (json_int_t)size, "flags", "keywords");
}

static json_t *d_chunk_x1(struct view *v) { return chunk(body_x, blob_x, U1); }
static json_t *d_chunk_y2(struct view *v) { return chunk(body_y, blob_y, U2); }
static json_t *d_chunk_x3(struct view *v) { return chunk(body_x, blob_x, U3); }
static json_t *d_append_x(struct view *v) { return append_to("INBOX", blob_x, strlen(body_x)); }
static json_t *d_append_y(struct view *v) { return append_to("INBOX", blob_y, strlen(body_y)); }
static json_t *d_expunge_alice(struct view *v)
{
	return json_pack("{s:s, s:[[i,i]]}", "mailbox_id", inbox(v, ALICE), "uids", 1, 2);
}
static json_t *d_create_work(struct view *v)
{
	return json_pack("{s:s, s:s, s:s}", "mailbox_id", WORK, "name", "Work", "special_use", "");
}
static json_t *d_copy_bob(struct view *v)
{
	return json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", inbox(v, BOB), "uids", 1, 1, "to_mailbox_id", WORK);
}
static json_t *d_delete_work(struct view *v) { return json_pack("{s:s}", "mailbox_id", WORK); }
static json_t *d_enqueue(struct view *v)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:[{s:s, s:s, s:s}], s:s, s:s, s:b, s:b, s:b, s:b, s:I,"
			 " s:I, s:I, s:I}",
			 "id", QID, "from", BOB, "blob_id", blob_y, "blob_size", (json_int_t)strlen(body_y),
			 "rcpts", "addr", "x1@remote.example", "orcpt", "", "notify", "", "ret", "", "envid", "",
			 "smtputf8", 0, "body8bit", 0, "requiretls", 0, "dsn", 0, "arrival", (json_int_t)T0,
			 "next_try", (json_int_t)T0, "expire", (json_int_t)(T0 + 86400000),
			 "delay_warn", (json_int_t)0);
}
static json_t *d_qdelete(struct view *v)
{
	return json_pack("{s:s, s:s, s:b}", "id", QID, "reason", "removed by the test", "bounce", 0);
}
static json_t *d_upload_z(struct view *v)
{
	return json_pack("{s:s, s:I, s:s, s:I}", "blob_id", blob_z, "size", (json_int_t)10, "type", "",
			 "ttl_s", (json_int_t)3600);
}

/* Partitions: 0 alice's mail, 1 bob's mail, 2 the blob topic, 3 the queue. */
static const struct tev part_alice[] = {
	{ "message.append", ALICE, 0, 0, T0 + 2000, d_append_x },
	{ "message.append", ALICE, 0, 1, T0 + 2001, d_append_y },
	{ "message.expunge", ALICE, 0, 2, T0 + 3000, d_expunge_alice },
	{ "blob.upload", ALICE, 0, 3, T0 + 3001, d_upload_z },
};
static const struct tev part_bob[] = {
	{ "message.append", BOB, 1, 0, T0 + 2100, d_append_x },
	{ "mailbox.create", BOB, 1, 1, T0 + 2101, d_create_work },
	{ "message.copy", BOB, 1, 2, T0 + 2102, d_copy_bob },
	{ "mailbox.delete", BOB, 1, 3, T0 + 3100, d_delete_work },
};
static const struct tev part_blob[] = {
	{ "blob.chunk", "", 2, 0, T0 + 1000, d_chunk_x1 },
	{ "blob.chunk", "", 2, 1, T0 + 1001, d_chunk_y2 },
	{ "blob.chunk", "", 2, 2, T0 + 1002, d_chunk_x3 },
};
static const struct tev part_queue[] = {
	{ "queue.enqueue", BOB, 3, 0, T0 + 2200, d_enqueue },
	{ "queue.delete", BOB, 3, 1, T0 + 3200, d_qdelete },
};

/* Applies one event as the projector would (its own batch); returns
 * "accepted" or the rejection code. */
static const char *apply_at(struct view *v, const char *type, const char *account, int32_t partition,
			    int64_t offset, int64_t ts, json_t *data)
{
	static char code[32];
	const struct applier *a = applier_find(type);
	struct evm_event ev;
	struct apply_ctx ctx;
	struct view_batch *b;
	const char *error = NULL;
	enum apply_status st;

	if (a == NULL || evm_event_init(&ev, type, "acme", account, "test", data, &error) < 0) {
		fprintf(stderr, "cannot make event %s: %s\n", type, error ? error : "no applier");
		abort();
	}
	snprintf(ev.id, sizeof ev.id, "%08" PRIx32 "%024" PRIx64, (uint32_t)partition, (uint64_t)offset);
	ev.ts = ts;
	memset(&ctx, 0, sizeof ctx);
	b = view_batch_begin(v);
	ctx.batch = b;
	ctx.ev = &ev;
	ctx.topic = a->topic;
	ctx.partition = partition;
	ctx.offset = offset;
	ctx.result = json_object();
	ctx.changed = json_array();
	st = a->apply(&ctx, &error);
	if (st == APPLY_FAILED) {
		fprintf(stderr, "%s failed: %s\n", type, error);
		abort();
	}
	snprintf(code, sizeof code, "%s", st == APPLY_ACCEPTED ? "accepted" : ctx.reject_code);
	if (st == APPLY_REJECTED)
		fprintf(stderr, "(%s rejected: %s)\n", type, ctx.reject_reason);
	json_decref(ctx.result);
	json_decref(ctx.changed);
	if (view_batch_commit(&b, &error) < 0) {
		fprintf(stderr, "commit: %s\n", error);
		abort();
	}
	evm_event_clear(&ev);
	return code;
}

static const char *apply_tev(struct view *v, const struct tev *t)
{
	return apply_at(v, t->type, t->account, t->partition, t->offset, t->ts, t->data(v));
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

/* A raw view value, "(none)" when absent. */
static const char *get(struct view *v, const char *key)
{
	static char out[512];
	const char *error = NULL;
	char *val = NULL;
	int r = view_get(v, key, strlen(key), &val, NULL, &error);

	snprintf(out, sizeof out, "%s", r == 1 ? val : r == 0 ? "(none)" : "(error)");
	free(val);
	return out;
}

static const char *ref(struct view *v, const char *blob_id, const char *owner)
{
	char key[256];

	snprintf(key, sizeof key, "blobref/%s/%s", blob_id, owner);
	return get(v, key);
}

static const char *zero(struct view *v, int64_t ts, const char *blob_id, const char *owner)
{
	char key[256];

	snprintf(key, sizeof key, "blobzero/%020" PRId64 "/%s/%s", ts, blob_id, owner);
	return get(v, key);
}

/* 1 when the blob reads back whole. */
static int readable(struct view *v, const char *blob_id)
{
	const char *error = NULL;
	char *data = NULL;
	size_t len = 0;
	int r = mail_blob_read(v, blob_id, &data, &len, &error);

	free(data);
	return r;
}

static void digest(struct view *v, char out[65])
{
	const char *error = NULL;
	uint64_t keys = 0;

	if (view_digest(v, out, &keys, &error) < 0) {
		fprintf(stderr, "digest: %s\n", error);
		abort();
	}
}

static struct view *v1, *v2;

#define N_OF(a) (sizeof(a) / sizeof(a)[0])

/* Two interleavings of the four partitions give the same view. */
static void test_interleavings(void)
{
	const struct tev *parts[] = { part_alice, part_bob, part_blob, part_queue };
	const size_t counts[] = { N_OF(part_alice), N_OF(part_bob), N_OF(part_blob), N_OF(part_queue) };
	size_t pos[4] = { 0 }, left = 0;
	char d1[65], d2[65];

	/* One partition after the other. */
	for (size_t p = 0; p < 4; p++)
		for (size_t i = 0; i < counts[p]; i++)
			CHECK_EQ_STR(apply_tev(v1, &parts[p][i]), "accepted");
	/* Round robin from the last partition back: the blob topic and the
	 * queue well before the mail that references them. */
	for (size_t p = 0; p < 4; p++)
		left += counts[p];
	while (left > 0) {
		for (int p = 3; p >= 0; p--) {
			if (pos[p] < counts[p]) {
				CHECK_EQ_STR(apply_tev(v2, &parts[p][pos[p]++]), "accepted");
				left--;
			}
		}
	}
	digest(v1, d1);
	digest(v2, d2);
	CHECK_EQ_STR(d1, d2);
}

/* The counts, drop times and the zero index. */
static void test_counts(void)
{
	char owner[64];

	CHECK_EQ_STR(ref(v1, blob_x, "alice@acme.test"), "{\"drop\":1700000003000,\"n\":0,\"until\":0}");
	CHECK_EQ_STR(ref(v1, blob_y, "alice@acme.test"), "{\"drop\":1700000003000,\"n\":0,\"until\":0}");
	/* bob: the INBOX copy remains; the Work copy went with the mailbox. */
	CHECK_EQ_STR(ref(v1, blob_x, "bob@acme.test"), "{\"drop\":1700000003100,\"n\":1,\"until\":0}");
	snprintf(owner, sizeof owner, "q/%s", QID);
	CHECK_EQ_STR(ref(v1, blob_y, owner), "{\"drop\":1700000003200,\"n\":0,\"until\":0}");
	/* a JMAP upload: referenced for its ttl_s */
	CHECK_EQ_STR(ref(v1, blob_z, "alice@acme.test"), "{\"drop\":0,\"n\":0,\"until\":1700003603001}");
	CHECK_EQ_STR(zero(v1, T0 + 3000, blob_x, "alice@acme.test"), "");
	CHECK_EQ_STR(zero(v1, T0 + 3200, blob_y, owner), "");
	CHECK_EQ_STR(zero(v1, T0 + 3603001, blob_z, "alice@acme.test"), "");
	/* n > 0: no zero entry */
	CHECK_EQ_STR(zero(v1, T0 + 3100, blob_x, "bob@acme.test"), "(none)");
}

/* The scanner: only blob y may go, and only after every drop. */
static void test_scan(void)
{
	struct blob_gc_cursor from = { .zero_len = 0 }, next;
	const char *error = NULL;
	json_t *dec = json_array(), *d;

	/* Before the queue item let go of y: nothing. */
	CHECK_EQ_INT(blob_gc_scan(v1, &from, T0 + 3150, dec, &next, &error), 1);
	CHECK_EQ_INT(json_array_size(dec), 0);
	/* After it: y (x is still bob's; z's upload reference runs). */
	CHECK_EQ_INT(blob_gc_scan(v1, &from, T0 + 3200, dec, &next, &error), 1);
	CHECK_EQ_INT(json_array_size(dec), 1);
	d = json_array_get(dec, 0);
	CHECK_EQ_STR(json_string_value(json_object_get(d, "blob_id")), blob_y);
	CHECK_EQ_INT(json_array_size(json_object_get(d, "uploads")), 1);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(d, "uploads"), 0)), U2);
	CHECK(json_is_true(json_object_get(d, "whole")));
	CHECK_EQ_INT(json_integer_value(json_object_get(d, "size")), strlen(body_y));
	CHECK_EQ_INT(json_integer_value(json_object_get(d, "count")), 1);
	/* From the cursor it returned, the same window has nothing new. */
	json_array_clear(dec);
	CHECK_EQ_INT(blob_gc_scan(v1, &next, T0 + 3200, dec, &from, &error), 1);
	CHECK_EQ_INT(json_array_size(dec), 0);
	json_decref(dec);
}

/* blob.gc: the content goes with the last upload. */
static void test_apply_gc(void)
{
	char d1[65], d2[65], key[256];
	int64_t off = 100;

	CHECK_EQ_INT(readable(v1, blob_y), 1);
	CHECK_EQ_STR(apply_at(v1, "blob.gc", "", 2, off++, T0 + 9000,
			      json_pack("{s:s, s:[s]}", "blob_id", blob_y, "uploads", U2)), "accepted");
	CHECK_EQ_INT(readable(v1, blob_y), 0);
	snprintf(key, sizeof key, "blobmeta/%s", blob_y);
	CHECK_EQ_STR(get(v1, key), "(none)");
	snprintf(key, sizeof key, "blob/%s/000000", blob_y);
	CHECK_EQ_STR(get(v1, key), "(none)");
	snprintf(key, sizeof key, "blobup/%s/%s", blob_y, U2);
	CHECK_EQ_STR(get(v1, key), "(none)");
	/* x has two uploads: forgetting one keeps the content. */
	CHECK_EQ_STR(apply_at(v1, "blob.gc", "", 2, off++, T0 + 9001,
			      json_pack("{s:s, s:[s]}", "blob_id", blob_x, "uploads", U1)), "accepted");
	CHECK_EQ_INT(readable(v1, blob_x), 1);
	/* A duplicate decision changes nothing. */
	digest(v1, d1);
	CHECK_EQ_STR(apply_at(v1, "blob.gc", "", 2, off++, T0 + 9002,
			      json_pack("{s:s, s:[s]}", "blob_id", blob_x, "uploads", U1)), "accepted");
	CHECK_EQ_STR(apply_at(v1, "blob.gc", "", 2, off++, T0 + 9003,
			      json_pack("{s:s, s:[s]}", "blob_id", blob_y, "uploads", U2)), "accepted");
	/* (outcomes are recorded by the projector, not by apply_at) */
	digest(v1, d2);
	CHECK_EQ_STR(d1, d2);
	/* The same content delivered again after its collection: readable. */
	CHECK_EQ_STR(apply_at(v1, "blob.chunk", "", 2, off++, T0 + 9100, chunk(body_y, blob_y, U4)),
		     "accepted");
	CHECK_EQ_INT(readable(v1, blob_y), 1);
	/* A legacy chunk (no upload) is upload "". */
	CHECK_EQ_STR(apply_at(v1, "blob.chunk", "", 2, off++, T0 + 9101, chunk(body_x, blob_x, NULL)),
		     "accepted");
	CHECK_EQ_STR(apply_at(v1, "blob.gc", "", 2, off++, T0 + 9200,
			      json_pack("{s:s, s:[s]}", "blob_id", blob_x, "uploads", U3)), "accepted");
	CHECK_EQ_INT(readable(v1, blob_x), 1);
	CHECK_EQ_STR(apply_at(v1, "blob.gc", "", 2, off++, T0 + 9201,
			      json_pack("{s:s, s:[s]}", "blob_id", blob_x, "uploads", "")), "accepted");
	CHECK_EQ_INT(readable(v1, blob_x), 0);
}

/* Malformed blob.gc and chunk uploads are rejected. */
static void test_invalid(void)
{
	CHECK_EQ_STR(apply_at(v2, "blob.gc", "", 2, 200, T0,
			      json_pack("{s:s, s:[]}", "blob_id", blob_x, "uploads")), "invalid");
	CHECK_EQ_STR(apply_at(v2, "blob.gc", "", 2, 201, T0,
			      json_pack("{s:s, s:[s]}", "blob_id", blob_x, "uploads", "XYZ")), "invalid");
	CHECK_EQ_STR(apply_at(v2, "blob.gc", "", 2, 202, T0,
			      json_pack("{s:s, s:[i]}", "blob_id", blob_x, "uploads", 1)), "invalid");
	CHECK_EQ_STR(apply_at(v2, "blob.gc", "", 2, 203, T0,
			      json_pack("{s:s, s:[s]}", "blob_id", "abc", "uploads", U1)), "invalid");
	CHECK_EQ_STR(apply_at(v2, "blob.chunk", "", 2, 204, T0, chunk(body_x, blob_x, "")), "invalid");
	CHECK_EQ_STR(apply_at(v2, "blob.chunk", "", 2, 205, T0, chunk(body_x, blob_x, "ABCDEF0123456789")),
		     "invalid");
	CHECK_EQ_STR(apply_at(v2, "blob.upload", ALICE, 0, 206, T0,
			      json_pack("{s:s, s:I, s:s, s:I}", "blob_id", blob_z, "size", (json_int_t)1, "type", "",
					"ttl_s", (json_int_t)60)), "invalid");
	/* v2 still readable as before */
	CHECK_EQ_INT(readable(v2, blob_y), 1);
}

/* An upload never referenced (a failed delivery) goes after the grace; a
 * young upload of the same bytes is not listed and keeps the content. */
static void test_orphan_upload(void)
{
	struct view *v = open_at("blobgc-orphan");
	struct blob_gc_cursor from = { .zero_len = 0 }, next;
	const char *error = NULL;
	json_t *dec = json_array(), *d;

	CHECK_EQ_STR(apply_at(v, "blob.chunk", "", 0, 0, T0, chunk(body_x, blob_x, U1)), "accepted");
	CHECK_EQ_STR(apply_at(v, "blob.chunk", "", 0, 1, T0 + 5000, chunk(body_x, blob_x, U2)), "accepted");
	CHECK_EQ_INT(blob_gc_scan(v, &from, T0 + 1000, dec, &next, &error), 1);
	CHECK_EQ_INT(json_array_size(dec), 1);
	d = json_array_get(dec, 0);
	CHECK_EQ_INT(json_array_size(json_object_get(d, "uploads")), 1);
	CHECK(json_is_false(json_object_get(d, "whole")));
	CHECK_EQ_STR(apply_at(v, "blob.gc", "", 0, 2, T0 + 6000, json_pack("{s:s, s:O}", "blob_id", blob_x,
			      "uploads", json_object_get(d, "uploads"))), "accepted");
	CHECK_EQ_INT(readable(v, blob_x), 1);
	json_decref(dec);
	view_close(&v);
}

int main(void)
{
	sha_hex(body_x, blob_x);
	sha_hex(body_y, blob_y);
	sha_hex("zzz", blob_z);
	v1 = open_at("blobgc-1");
	v2 = open_at("blobgc-2");
	test_run("blob gc: two interleavings, equal digests", test_interleavings);
	test_run("blob gc: counts per owner, drop times, zero index", test_counts);
	test_run("blob gc: the scanner decides after every drop", test_scan);
	test_run("blob gc: blob.gc forgets uploads, then the content", test_apply_gc);
	test_run("blob gc: malformed events rejected", test_invalid);
	test_run("blob gc: an orphan upload goes, a young one stays", test_orphan_upload);
	view_close(&v1);
	view_close(&v2);
	return test_done();
}

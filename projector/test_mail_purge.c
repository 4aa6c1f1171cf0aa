/* test_mail_purge - account.purge (projector/mail_purge.c): an account with
 * mailboxes, messages, JMAP objects, a vacation, an upload and a share
 * loses every key under mail/<acct>/ except what other partitions wrote
 * there (shared/), the sharee index entry of its share, its text index
 * and its body references (n 0, drop = the purge's ts, in blobzero/);
 * another account's reference to the same body stays; a re-created
 * account starts empty; a second purge is harmless; two interleavings of
 * the two accounts' partitions give equal digests. */
#include "projector/blob_internal.h"
#include "projector/mail.h"
#include "projector/mail_internal.h"
#include "tests/unit/testlib.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALICE "alice@acme.test"
#define BOB "bob@acme.test"
#define WORK "0123456789abcdef0123456789abcdef"
#define AWORK "fedcba9876543210fedcba9876543210"
#define BLOB_X "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BLOB_Y "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define BLOB_Z "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define T0 INT64_C(1700000000000)
#define T_PURGE (T0 + 5000)

/* One event of one partition, at its own offset and time. */
struct tev {
	const char *type;
	const char *account;
	int32_t partition;
	int64_t offset;
	int64_t ts;
	json_t *(*data)(struct view *v);   /* built at apply time */
};

/* The id of a mailbox of account in v ("none" when absent). */
static const char *mbox_id(struct view *v, const char *account, const char *name)
{
	static char id[33];
	const char *error = NULL;
	json_t *mbox = NULL;

	snprintf(id, sizeof id, "%s", "none");
	if (mail_mailbox_by_name(v, account, name, &mbox, &error) == 1)
		snprintf(id, sizeof id, "%s", json_string_value(json_object_get(mbox, "id")));
	json_decref(mbox);
	return id;
}

static json_t *append_to(const char *blob_id)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:I, s:{s:I}, s:[], s:[]}", "mailbox", "INBOX", "blob_id", blob_id,
			 "blob_size", (json_int_t)100, "prefix", "", "internal_date", (json_int_t)T0, "summary",
			 "size", (json_int_t)100, "flags", "keywords");
}

static json_t *d_append_x(struct view *v) { (void)v; return append_to(BLOB_X); }
static json_t *d_append_y(struct view *v) { (void)v; return append_to(BLOB_Y); }
static json_t *d_create_work(struct view *v)
{
	(void)v;
	return json_pack("{s:s, s:s, s:s}", "mailbox_id", WORK, "name", "Work", "special_use", "");
}
static json_t *d_create_awork(struct view *v)
{
	(void)v;
	return json_pack("{s:s, s:s, s:s}", "mailbox_id", AWORK, "name", "Team", "special_use", "");
}
static json_t *d_copy_bob(struct view *v)
{
	return json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", mbox_id(v, BOB, "INBOX"), "uids", 1, 2,
			 "to_mailbox_id", WORK);
}
static json_t *d_share_bob(struct view *v)
{
	(void)v;
	return json_pack("{s:s, s:s, s:s, s:s}", "mailbox_id", WORK, "identifier", ALICE, "action", "set",
			 "rights", "lr");
}
static json_t *d_share_alice(struct view *v)
{
	(void)v;
	return json_pack("{s:s, s:s, s:s, s:s}", "mailbox_id", AWORK, "identifier", BOB, "action", "set",
			 "rights", "lr");
}
static json_t *d_identity(struct view *v)
{
	(void)v;
	return json_pack("{s:s, s:b, s:s, s:s, s:n, s:n, s:s, s:s}", "identity_id", "i1", "create", 1, "email",
			 BOB, "name", "Bob", "reply_to", "bcc", "text_signature", "--", "html_signature", "");
}
static json_t *d_vacation(struct view *v)
{
	(void)v;
	return json_pack("{s:b, s:s, s:s}", "enabled", 1, "subject", "away", "text_body", "later");
}
static json_t *d_upload(struct view *v)
{
	(void)v;
	return json_pack("{s:s, s:I, s:s}", "blob_id", BLOB_Z, "size", (json_int_t)10, "type", "text/plain");
}
static json_t *d_empty(struct view *v) { (void)v; return json_object(); }

/* Partitions: 0 bob's mail, 1 alice's mail. */
static const struct tev part_bob[] = {
	{ "message.append", BOB, 0, 0, T0 + 1000, d_append_x },
	{ "message.append", BOB, 0, 1, T0 + 1001, d_append_y },
	{ "mailbox.create", BOB, 0, 2, T0 + 1002, d_create_work },
	{ "message.copy", BOB, 0, 3, T0 + 1003, d_copy_bob },
	{ "mailbox.acl", BOB, 0, 4, T0 + 1004, d_share_bob },
	{ "identity.set", BOB, 0, 5, T0 + 1005, d_identity },
	{ "vacation.set", BOB, 0, 6, T0 + 1006, d_vacation },
	{ "blob.upload", BOB, 0, 7, T0 + 1007, d_upload },
	{ "account.purge", BOB, 0, 8, T_PURGE, d_empty },
};
#define BOB_AFTER 9   /* the events of part_bob up to the purge */
static const struct tev part_bob_again[] = {
	{ "message.append", BOB, 0, 9, T0 + 6000, d_append_y },
};
static const struct tev part_alice[] = {
	{ "message.append", ALICE, 1, 0, T0 + 2000, d_append_x },
	{ "mailbox.create", ALICE, 1, 1, T0 + 2001, d_create_awork },
	{ "mailbox.acl", ALICE, 1, 2, T0 + 2002, d_share_alice },
};

static json_t *last_result;

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
	size_t before;

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
	before = view_batch_count(b);
	st = a->apply(&ctx, &error);
	if (st == APPLY_FAILED) {
		fprintf(stderr, "%s failed: %s\n", type, error);
		abort();
	}
	if (st == APPLY_REJECTED && view_batch_count(b) != before) {
		fprintf(stderr, "%s was rejected but wrote to the batch\n", type);
		abort();
	}
	snprintf(code, sizeof code, "%s", st == APPLY_ACCEPTED ? "accepted" : ctx.reject_code);
	json_decref(last_result);
	last_result = ctx.result;
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

static void put(struct view *v, const char *key, const char *val)
{
	struct view_batch *b = view_batch_begin(v);
	const char *error = NULL;

	view_batch_put(b, key, strlen(key), val, strlen(val));
	CHECK(view_batch_commit(&b, &error) == 0);
}

/* Counts the keys under a prefix, and those under prefix + "shared/"
 * (the others printed when print is set). */
struct count {
	size_t plen, all, shared;
	int print;
};

static int count_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct count *c = ctx;

	(void)val;
	(void)vlen;
	c->all++;
	if (klen > c->plen + 7 && memcmp(key + c->plen, "shared/", 7) == 0)
		c->shared++;
	else if (c->print)
		fprintf(stderr, "  left: %.*s\n", (int)klen, key);
	return 0;
}

static struct count count_under(struct view *v, const char *prefix, int print)
{
	struct count c = { strlen(prefix), 0, 0, print };
	const char *error = NULL;

	if (view_scan(v, prefix, strlen(prefix), count_cb, &c, &error) < 0) {
		fprintf(stderr, "scan: %s\n", error);
		abort();
	}
	return c;
}

static void digest(struct view *v, char out[65])
{
	const char *error = NULL;
	uint64_t keys = 0;

	CHECK(view_digest(v, out, &keys, &error) == 0);
}

static struct view *v1, *v2;

#define N_OF(a) (sizeof(a) / sizeof(a)[0])

/* Bob's store, then the purge, then mail to the re-created account. */
static void test_purge(void)
{
	char key[256];
	struct count c;
	json_t *list = NULL, *usage = NULL;
	const char *error = NULL;

	for (size_t i = 0; i < N_OF(part_alice); i++)
		CHECK_EQ_STR(apply_tev(v1, &part_alice[i]), "accepted");
	for (size_t i = 0; i < BOB_AFTER - 1; i++)
		CHECK_EQ_STR(apply_tev(v1, &part_bob[i]), "accepted");
	/* Before: what there is to remove. */
	CHECK(count_under(v1, "mail/" BOB "/", 0).all > 20);
	snprintf(key, sizeof key, "mail/" ALICE "/shared/" BOB "/" WORK);
	CHECK(strcmp(get(v1, key), "(none)") != 0);
	CHECK_EQ_STR(get(v1, "blobref/" BLOB_X "/" BOB), "{\"drop\":0,\"n\":2,\"until\":0}");
	CHECK_EQ_STR(get(v1, "blobref/" BLOB_Y "/" BOB), "{\"drop\":0,\"n\":2,\"until\":0}");
	put(v1, KEY_LOCAL_FTS BOB "/seg/0000000000", "x");
	put(v1, KEY_LOCAL_FTS BOB "/p/s616263/0000000000", "y");
	put(v1, KEY_LOCAL_FTS ALICE "/seg/0000000000", "z");

	CHECK_EQ_STR(apply_tev(v1, &part_bob[BOB_AFTER - 1]), "accepted");
	CHECK_EQ_INT((int)json_integer_value(json_object_get(last_result, "messages")), 4);
	CHECK_EQ_INT((int)json_integer_value(json_object_get(last_result, "shares")), 1);

	/* Nothing of bob's left but what alice's partition wrote for him. */
	c = count_under(v1, "mail/" BOB "/", 1);
	CHECK_EQ_INT((int)c.all, 1);
	CHECK_EQ_INT((int)c.shared, 1);
	CHECK(strcmp(get(v1, "mail/" BOB "/shared/" ALICE "/" AWORK), "(none)") != 0);
	/* The sharee index entry bob's partition wrote under alice: gone. */
	CHECK_EQ_STR(get(v1, key), "(none)");
	CHECK_EQ_INT((int)count_under(v1, "mail/" ALICE "/shared/", 1).all, 0);
	/* Bodies: bob's references at 0, let go at the purge; alice's stays. */
	CHECK_EQ_STR(get(v1, "blobref/" BLOB_X "/" BOB), "{\"drop\":1700000005000,\"n\":0,\"until\":0}");
	CHECK_EQ_STR(get(v1, "blobref/" BLOB_Y "/" BOB), "{\"drop\":1700000005000,\"n\":0,\"until\":0}");
	snprintf(key, sizeof key, "blobzero/%020" PRId64 "/" BLOB_Y "/" BOB, T_PURGE);
	CHECK_EQ_STR(get(v1, key), "");
	CHECK_EQ_STR(get(v1, "blobref/" BLOB_X "/" ALICE), "{\"drop\":0,\"n\":1,\"until\":0}");
	/* The upload's hold ends with the account: until lowered to the
	 * purge's time (it was the upload's time + blob.upload_ttl_s), and
	 * its blobzero/ entry moved there. */
	CHECK_EQ_STR(get(v1, "blobref/" BLOB_Z "/" BOB), "{\"drop\":0,\"n\":0,\"until\":1700000005000}");
	snprintf(key, sizeof key, "blobzero/%020" PRId64 "/" BLOB_Z "/" BOB, T_PURGE);
	CHECK_EQ_STR(get(v1, key), "");
	CHECK_EQ_INT((int)count_under(v1, "blobzero/", 0).all, 3);  /* X, Y, Z: the old Z entry went */
	/* The text index: bob's gone, alice's kept. */
	CHECK_EQ_STR(get(v1, KEY_LOCAL_FTS BOB "/seg/0000000000"), "(none)");
	CHECK_EQ_STR(get(v1, KEY_LOCAL_FTS BOB "/p/s616263/0000000000"), "(none)");
	CHECK_EQ_STR(get(v1, KEY_LOCAL_FTS ALICE "/seg/0000000000"), "z");
	CHECK_EQ_INT(mail_account_usage(v1, BOB, &usage, &error), 0);
	CHECK_EQ_INT(mail_mailboxes(v1, BOB, &list, &error), 0);
	CHECK_EQ_INT((int)json_array_size(list), 0);
	json_decref(list);

	/* Again: nothing to do, nothing breaks. */
	CHECK_EQ_STR(apply_at(v1, "account.purge", BOB, 0, 100, T_PURGE + 1, json_object()), "accepted");
	CHECK_EQ_INT((int)json_integer_value(json_object_get(last_result, "keys")), 0);
	CHECK_EQ_STR(get(v1, "blobref/" BLOB_X "/" BOB), "{\"drop\":1700000005000,\"n\":0,\"until\":0}");
	CHECK_EQ_STR(apply_at(v1, "account.purge", BOB, 0, 101, T_PURGE + 2, json_pack("{s:s}", "as", ALICE)),
		     "invalid");
	CHECK_EQ_STR(apply_at(v1, "account.purge", "Bob@Acme.test", 0, 102, T_PURGE + 3, json_object()),
		     "invalid");
}

/* The re-created account starts empty, and one more message is its only one. */
static void test_recreated(void)
{
	json_t *list = NULL, *msgs = NULL;
	const char *error = NULL;

	CHECK_EQ_STR(apply_tev(v1, &part_bob_again[0]), "accepted");
	CHECK_EQ_INT(mail_mailboxes(v1, BOB, &list, &error), 0);
	CHECK_EQ_INT((int)json_array_size(list), 6);
	json_decref(list);
	CHECK_EQ_STR(mbox_id(v1, BOB, "Work"), "none");
	CHECK(mail_messages(v1, BOB, mbox_id(v1, BOB, "INBOX"), 0, &msgs, &error) >= 0);
	CHECK_EQ_INT((int)json_array_size(msgs), 1);
	CHECK_EQ_INT((int)json_integer_value(json_object_get(json_array_get(msgs, 0), "uid")), 1);
	json_decref(msgs);
	CHECK_EQ_STR(get(v1, "blobref/" BLOB_Y "/" BOB), "{\"drop\":1700000005000,\"n\":1,\"until\":0}");
	CHECK_EQ_STR(get(v1, "mail/" BOB "/vac"), "(none)");
}

/* The same events with alice's partition interleaved differently (her
 * share with bob lands after both his purges): the same view. */
static void test_interleaving(void)
{
	char d1[65], d2[65];

	/* v1 also ran two rejected purges: they wrote nothing. */
	for (size_t i = 0; i < BOB_AFTER; i++) {
		CHECK_EQ_STR(apply_tev(v2, &part_bob[i]), "accepted");
		if (i == 1)
			CHECK_EQ_STR(apply_tev(v2, &part_alice[0]), "accepted");
	}
	CHECK_EQ_STR(apply_at(v2, "account.purge", BOB, 0, 100, T_PURGE + 1, json_object()), "accepted");
	CHECK_EQ_STR(apply_tev(v2, &part_alice[1]), "accepted");
	CHECK_EQ_STR(apply_tev(v2, &part_alice[2]), "accepted");
	CHECK_EQ_STR(apply_tev(v2, &part_bob_again[0]), "accepted");
	digest(v1, d1);
	digest(v2, d2);
	CHECK_EQ_STR(d1, d2);
}

int main(void)
{
	v1 = open_at("purge1");
	v2 = open_at("purge2");
	test_run("purge: every key of the account, its share, its references", test_purge);
	test_run("purge: a re-created account starts empty", test_recreated);
	test_run("purge: two interleavings, one digest", test_interleaving);
	json_decref(last_result);
	view_close(&v1);
	view_close(&v2);
	return test_done();
}

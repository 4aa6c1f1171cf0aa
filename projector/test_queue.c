/* test_queue - the outbound queue's appliers and read API against a real
 * view: every event's accept path and rejections, the due index, the
 * counters, the DSN rules, removal, and determinism. Events get fixed ids,
 * times and offsets, as from a log. */
#include "projector/applier.h"
#include "projector/projector.h"
#include "projector/projector_fakelog.h"
#include "projector/queue.h"
#include "projector/queue_internal.h"
#include "tests/unit/testlib.h"

#include <event2/thread.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#define PART 2
#define T0 INT64_C(1700000000000)
#define ID1 "11111111111111111111111111111111"
#define ID2 "22222222222222222222222222222222"
#define ID3 "33333333333333333333333333333333"
#define BLOB "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BOB "bob@acme.test"
#define X1 "x1@remote.example"
#define X2 "X2@Remote.example"

static struct view *view;
static int64_t next_offset;   /* the next event's offset (and id, time) */
static const char *env_tenant = "acme";
static char last_reason[256];
static json_t *last_changed;

/* Runs one event's applier in its own committed batch. A rejected event
 * must not have written anything. Returns "accepted" or the code. */
static const char *run(const char *type, json_t *data)
{
	static char code[32];
	const struct applier *a = applier_find(type);
	struct evm_event ev;
	struct apply_ctx ctx;
	struct view_batch *b;
	const char *error = NULL;
	enum apply_status st;
	size_t before;

	if (a == NULL || evm_event_init(&ev, type, env_tenant, env_tenant[0] ? BOB : "", "test", data,
					&error) < 0) {
		fprintf(stderr, "cannot make event %s: %s\n", type, error ? error : "no applier");
		abort();
	}
	snprintf(ev.id, sizeof ev.id, "%032" PRIx64, (uint64_t)next_offset + 0xabc000);
	ev.ts = T0 + next_offset;
	memset(&ctx, 0, sizeof ctx);
	b = view_batch_begin(view);
	ctx.batch = b;
	ctx.ev = &ev;
	ctx.topic = a->topic;
	ctx.partition = PART;
	ctx.offset = next_offset++;
	ctx.result = json_object();
	ctx.changed = json_array();
	before = view_batch_count(b);
	st = a->apply(&ctx, &error);
	if (st == APPLY_FAILED) {
		fprintf(stderr, "%s failed: %s\n", type, error);
		abort();
	}
	if (st == APPLY_REJECTED) {
		if (view_batch_count(b) != before) {
			fprintf(stderr, "%s was rejected but wrote to the batch\n", type);
			abort();
		}
		snprintf(code, sizeof code, "%s", ctx.reject_code ? ctx.reject_code : "(none)");
		snprintf(last_reason, sizeof last_reason, "%s", ctx.reject_reason);
	} else {
		snprintf(code, sizeof code, "accepted");
	}
	json_decref(last_changed);
	last_changed = ctx.changed;
	json_decref(ctx.result);
	if (view_batch_commit(&b, &error) < 0) {
		fprintf(stderr, "commit: %s\n", error);
		abort();
	}
	evm_event_clear(&ev);
	return code;
}

static void fresh(const char *name)
{
	const char *error;

	view_close(&view);
	next_offset = 0;
	env_tenant = "acme";
	if (view_open(test_tmpdir(name), &view, &error) < 0) {
		fprintf(stderr, "view_open: %s\n", error);
		exit(2);
	}
}

static json_t *rcpt(const char *addr, const char *notify)
{
	return json_pack("{s:s, s:s, s:s}", "addr", addr, "orcpt", "", "notify", notify);
}

/* queue.enqueue data from bob with these recipients (stolen), due at
 * next_try. */
static json_t *enq(const char *id, const char *from, json_t *rcpts, int64_t next_try)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:o, s:s, s:s, s:b, s:b, s:b, s:b, s:I, s:I, s:I, s:I}",
			 "id", id, "from", from, "blob_id", BLOB, "blob_size", (json_int_t)1234,
			 "rcpts", rcpts, "ret", "", "envid", "", "smtputf8", 0, "body8bit", 0,
			 "requiretls", 0, "dsn", 0, "arrival", (json_int_t)T0, "next_try", (json_int_t)next_try,
			 "expire", (json_int_t)(T0 + 5 * 86400000LL), "delay_warn", (json_int_t)(T0 + 4 * 3600000LL));
}

static json_t *enq2(const char *id, const char *notify)
{
	return enq(id, BOB, json_pack("[o, o]", rcpt(X1, notify), rcpt(X2, notify)), T0);
}

static json_t *result(const char *addr, const char *status, int dsn_passed)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "addr", addr, "status", status,
			 "reply", status[0] == 'd' && status[2] == 'l' ? "250 ok" : "550 5.1.1 no such user",
			 "enhanced", status[0] == 'f' ? "5.1.1" : "", "remote", "mx.remote.example [192.0.2.1]",
			 "dsn_passed", dsn_passed);
}

/* queue.attempt data with results (stolen). */
static json_t *attempt(const char *id, json_t *results, int64_t next_try)
{
	return json_pack("{s:s, s:s, s:I, s:o, s:I, s:s}", "id", id, "node", "n1", "ts", (json_int_t)T0,
			 "rcpts", results, "next_try", (json_int_t)next_try, "error", "");
}

static json_t *item(const char *id)
{
	const char *error = NULL;
	json_t *it = NULL;

	if (queue_item_get(view, id, &it, &error) < 0) {
		fprintf(stderr, "queue_item_get: %s\n", error);
		abort();
	}
	return it;
}

/* 1 when the item exists. */
static int has_item(const char *id)
{
	json_t *it = item(id);
	int found = it != NULL;

	json_decref(it);
	return found;
}

/* A member of an item (int or bool as 0/1); -1 when there is no item. */
static int64_t item_int(const char *id, const char *member)
{
	json_t *it = item(id), *v = json_object_get(it, member);
	int64_t n = it == NULL ? -1 : json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);

	json_decref(it);
	return n;
}

/* A string member of one recipient (static copy); "" when absent. */
static const char *rcpt_str(const char *id, const char *addr, const char *member)
{
	static char out[600];
	json_t *it = item(id);
	json_t *r = it ? queue_rcpt_find(it, addr) : NULL;

	snprintf(out, sizeof out, "%s", r ? queue_jstr(r, member) : "");
	json_decref(it);
	return out;
}

static int count_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	(*(int *)ctx)++;
	return 0;
}

static int count_keys(const char *prefix)
{
	const char *error;
	int n = 0;

	if (view_scan(view, prefix, strlen(prefix), count_cb, &n, &error) < 0)
		abort();
	return n;
}

/* 1 when the due index holds exactly this key for the item. */
static int due_at(const char *id, int64_t next_try)
{
	struct buf k = BUF_INIT;
	const char *error;
	char *val = NULL;
	int r;

	queue_key_due(&k, PART, next_try, id);
	r = view_get(view, k.data, k.len, &val, NULL, &error);
	free(val);
	buf_free(&k);
	return r == 1 && count_keys(KEY_QUEUE_DUE) >= 1;
}

static uint64_t stat_of(const char *name)
{
	struct queue_stats st;
	const char *error;

	if (queue_stats(view, &st, &error) < 0)
		abort();
	if (strcmp(name, "enqueued") == 0)
		return st.enqueued;
	if (strcmp(name, "delivered") == 0)
		return st.delivered;
	if (strcmp(name, "deferred") == 0)
		return st.deferred;
	if (strcmp(name, "failed") == 0)
		return st.failed;
	return st.removed;
}

static void test_registry(void)
{
	static const char *const types[] = { "queue.enqueue", "queue.attempt", "queue.notified",
		"queue.hold", "queue.release", "queue.retry", "queue.delete" };

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		const struct applier *a = applier_find(types[i]);
		CHECK(a != NULL);
		CHECK_EQ_INT(a->topic, EVM_TOPIC_QUEUE);
	}
}

static void test_enqueue(void)
{
	json_t *it;

	fresh("q-enqueue");
	CHECK_EQ_STR(run("queue.enqueue", enq2(ID1, "")), "accepted");
	CHECK_EQ_INT(json_array_size(last_changed), 1);
	CHECK_EQ_STR(json_string_value(json_array_get(last_changed, 0)), BOB);
	it = item(ID1);
	CHECK(it != NULL);
	CHECK_EQ_STR(queue_jstr(it, "id"), ID1);
	CHECK_EQ_INT(queue_jint(it, "partition"), PART);
	CHECK_EQ_STR(queue_jstr(it, "tenant"), "acme");
	CHECK_EQ_STR(queue_jstr(it, "account"), BOB);
	CHECK_EQ_STR(queue_jstr(it, "from"), BOB);
	CHECK_EQ_INT(queue_jint(it, "blob_size"), 1234);
	CHECK_EQ_INT(queue_jint(it, "next_try"), T0);
	CHECK_EQ_INT(queue_jint(it, "attempts"), 0);
	CHECK(json_is_false(json_object_get(it, "held")));
	CHECK(json_is_false(json_object_get(it, "dsn_pending")));
	CHECK(json_is_false(json_object_get(it, "delay_notified")));
	CHECK_EQ_INT(json_array_size(json_object_get(it, "rcpts")), 2);
	json_decref(it);
	CHECK_EQ_STR(rcpt_str(ID1, X2, "status"), "queued");
	CHECK(due_at(ID1, T0));
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 1);
	CHECK_EQ_INT(stat_of("enqueued"), 1);
	CHECK_EQ_STR(run("queue.enqueue", enq2(ID1, "")), "exists");
	CHECK_EQ_INT(stat_of("enqueued"), 1);
	/* A bounce: no account, null sender. */
	env_tenant = "";
	CHECK_EQ_STR(run("queue.enqueue", enq(ID2, "", json_pack("[o]", rcpt(X1, "")), T0 + 5)), "accepted");
	CHECK_EQ_INT(json_array_size(last_changed), 0);
	CHECK_EQ_STR(queue_jstr(it = item(ID2), "from"), "");
	json_decref(it);
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 2);
}

/* Enqueue data with one member replaced (v stolen; NULL removes it). */
static json_t *enq_with(const char *member, json_t *v)
{
	json_t *d = enq2(ID3, "");

	if (v == NULL)
		json_object_del(d, member);
	else
		json_object_set_new(d, member, v);
	return d;
}

static json_t *one_rcpt(const char *addr, const char *orcpt, const char *notify)
{
	return json_pack("[{s:s, s:s, s:s}]", "addr", addr, "orcpt", orcpt, "notify", notify);
}

static void test_enqueue_invalid(void)
{
	json_t *many = json_array(), *d;
	char addr[64];

	fresh("q-enqueue-invalid");
	for (int i = 0; i <= QUEUE_MAX_RCPTS; i++) {
		snprintf(addr, sizeof addr, "u%d@remote.example", i);
		json_array_append_new(many, rcpt(addr, ""));
	}
	CHECK_EQ_STR(run("queue.enqueue", enq_with("rcpts", many)), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("rcpts", json_array())), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("rcpts", json_pack("[o, o]", rcpt(X1, ""), rcpt(X1, "")))),
		     "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("rcpts", json_pack("[s]", X1))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("id", json_string("ABC"))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("id", NULL)), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("from", json_string("no-at-sign"))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("from", json_string("a..b@x.example"))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("from", json_string("a@-x.example"))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("from", json_integer(1))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("rcpts", one_rcpt("j\xc3\xb6rg@x.example", "", ""))),
		     "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("rcpts", one_rcpt("a b@x.example", "", ""))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("rcpts", one_rcpt(X1, "no-semicolon", ""))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("rcpts", one_rcpt(X1, "", "NEVER,SUCCESS"))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("rcpts", one_rcpt(X1, "", "SUCCESS,SUCCESS"))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("rcpts", one_rcpt(X1, "", "success"))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("rcpts", one_rcpt(X1, "", "FAILURE,"))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("ret", json_string("ALL"))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("envid", json_string("has space"))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("blob_id", json_string("abc"))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("blob_size", json_integer(0))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("smtputf8", json_integer(1))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("dsn", NULL)), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("arrival", json_integer(-1))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("next_try", json_real(1.5))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("expire", json_integer(T0 - 1))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("delay_warn", json_integer(5))), "invalid");
	CHECK_EQ_STR(run("queue.enqueue", enq_with("envid", json_stringn("a\0b", 3))), "invalid");
	CHECK_EQ_INT(count_keys("q/"), 0);
	/* Accepted forms: UTF-8 with smtputf8, quoted local part, literal,
	 * NEVER, an ORCPT, the full notify list. */
	d = enq_with("rcpts", json_pack("[o, o, o, {s:s, s:s, s:s}]", rcpt("j\xc3\xb6rg@x.example", "NEVER"),
					  rcpt("\"a b\"@x.example", "DELAY,FAILURE,SUCCESS"),
					  rcpt("u@[192.0.2.1]", ""), "addr", X1, "orcpt",
					  "rfc822;X1@remote.example", "notify", "FAILURE"));
	json_object_set_new(d, "smtputf8", json_true());
	CHECK_EQ_STR(run("queue.enqueue", d), "accepted");
	CHECK_EQ_INT(count_keys(KEY_QUEUE_ITEM), 1);
}

static void test_attempt(void)
{
	fresh("q-attempt");
	CHECK_EQ_STR(run("queue.enqueue", enq2(ID1, "")), "accepted");
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o, o]", result(X1, "delivered", 1),
								 result(X2, "deferred", 0)), T0 + 600000)),
		     "accepted");
	CHECK_EQ_STR(rcpt_str(ID1, X1, "status"), "delivered");
	CHECK_EQ_STR(rcpt_str(ID1, X1, "dsn_due"), "");
	CHECK_EQ_STR(rcpt_str(ID1, X1, "reply"), "250 ok");
	CHECK_EQ_STR(rcpt_str(ID1, X1, "remote"), "mx.remote.example [192.0.2.1]");
	CHECK_EQ_STR(rcpt_str(ID1, X2, "status"), "deferred");
	CHECK_EQ_INT(item_int(ID1, "attempts"), 1);
	CHECK_EQ_INT(item_int(ID1, "last_attempt"), T0);
	CHECK_EQ_INT(item_int(ID1, "next_try"), T0 + 600000);
	/* The due key moved. */
	CHECK(due_at(ID1, T0 + 600000));
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 1);
	CHECK_EQ_INT(stat_of("delivered"), 1);
	CHECK_EQ_INT(stat_of("deferred"), 1);
	/* A duplicate or late attempt cannot undo a final recipient. */
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", result(X1, "failed", 0)), T0 + 1)),
		     "accepted");
	CHECK_EQ_STR(rcpt_str(ID1, X1, "status"), "delivered");
	CHECK_EQ_STR(rcpt_str(ID1, X1, "reply"), "250 ok");
	CHECK_EQ_INT(item_int(ID1, "attempts"), 1);
	CHECK_EQ_INT(item_int(ID1, "next_try"), T0 + 600000);
	CHECK(due_at(ID1, T0 + 600000));
	CHECK_EQ_INT(stat_of("failed"), 0);
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", result(X1, "deferred", 0)), T0 + 1)),
		     "accepted");
	CHECK_EQ_STR(rcpt_str(ID1, X1, "status"), "delivered");
	/* Rejections. */
	CHECK_EQ_STR(run("queue.attempt", attempt(ID2, json_pack("[o]", result(X1, "delivered", 0)), T0)),
		     "not-found");
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", result("z@y.example", "delivered", 0)), T0)),
		     "invalid");
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", result(X2, "queued", 0)), T0)), "invalid");
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o, o]", result(X2, "deferred", 0),
								 result(X2, "deferred", 0)), T0)), "invalid");
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_array(), T0)), "invalid");
	{
		json_t *r = result(X2, "failed", 0);
		json_object_set_new(r, "enhanced", json_string("6.1.1"));
		CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", r), T0)), "invalid");
		r = result(X2, "failed", 0);
		json_object_set_new(r, "reply", json_string("550 a\r\nb"));
		CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", r), T0)), "invalid");
		r = result(X2, "failed", 0);
		json_object_del(r, "dsn_passed");
		CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", r), T0)), "invalid");
	}
	{
		json_t *d = attempt(ID1, json_pack("[o]", result(X2, "deferred", 0)), T0);
		json_object_set_new(d, "node", json_string(""));
		CHECK_EQ_STR(run("queue.attempt", d), "invalid");
		d = attempt(ID1, json_pack("[o]", result(X2, "deferred", 0)), T0);
		json_object_del(d, "error");
		CHECK_EQ_STR(run("queue.attempt", d), "invalid");
	}
	/* Another tenant's event may not touch the item. */
	env_tenant = "globex";
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", result(X2, "delivered", 0)), T0)),
		     "forbidden");
	env_tenant = "acme";
	/* The last recipient becomes final: the item is removed with its key. */
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", result(X2, "failed", 0)), T0 + 900000)),
		     "accepted");
	CHECK_EQ_STR(rcpt_str(ID1, X2, "dsn_due"), "failure");
	CHECK(has_item(ID1));
	CHECK_EQ_STR(run("queue.notified", json_pack("{s:s, s:s, s:[s]}", "id", ID1, "kind", "dsn", "rcpts", X2)),
		     "accepted");
	CHECK(!has_item(ID1));
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 0);
	CHECK_EQ_INT(count_keys(KEY_QUEUE_ITEM), 0);
	CHECK_EQ_INT(stat_of("failed"), 1);
	CHECK_EQ_INT(stat_of("removed"), 1);
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", result(X2, "failed", 0)), T0)),
		     "not-found");
}

static void test_hold_release_retry(void)
{
	fresh("q-hold");
	CHECK_EQ_STR(run("queue.enqueue", enq2(ID1, "")), "accepted");
	CHECK_EQ_STR(run("queue.hold", json_pack("{s:s}", "id", ID1)), "accepted");
	CHECK_EQ_INT(item_int(ID1, "held"), 1);
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 0);
	CHECK_EQ_STR(run("queue.hold", json_pack("{s:s}", "id", ID1)), "accepted");
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 0);
	/* An attempt in flight when the hold came: recorded, still held. */
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", result(X1, "deferred", 0)), T0 + 60000)),
		     "accepted");
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 0);
	CHECK_EQ_STR(run("queue.retry", json_pack("{s:s, s:I}", "id", ID1, "next_try", (json_int_t)(T0 + 7))),
		     "accepted");
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 0);
	CHECK_EQ_INT(item_int(ID1, "next_try"), T0 + 7);
	CHECK_EQ_STR(run("queue.release", json_pack("{s:s}", "id", ID1)), "accepted");
	CHECK_EQ_INT(item_int(ID1, "held"), 0);
	CHECK(due_at(ID1, T0 + 7));
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 1);
	CHECK_EQ_STR(run("queue.retry", json_pack("{s:s, s:I}", "id", ID1, "next_try", (json_int_t)(T0 + 99))),
		     "accepted");
	CHECK(due_at(ID1, T0 + 99));
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 1);
	CHECK_EQ_STR(run("queue.retry", json_pack("{s:s}", "id", ID1)), "invalid");
	CHECK_EQ_STR(run("queue.retry", json_pack("{s:s, s:I}", "id", ID1, "next_try", (json_int_t)-5)), "invalid");
	CHECK_EQ_STR(run("queue.hold", json_pack("{s:s}", "id", ID2)), "not-found");
	CHECK_EQ_STR(run("queue.release", json_pack("{s:s}", "id", "nope")), "invalid");
	CHECK_EQ_STR(run("queue.release", json_object()), "invalid");
}

static json_t *del(const char *id, int bounce)
{
	return json_pack("{s:s, s:s, s:b}", "id", id, "reason", "deleted by an administrator", "bounce", bounce);
}

static void test_delete(void)
{
	fresh("q-delete");
	/* Without bounce: every pending recipient fails, no DSN, gone. */
	CHECK_EQ_STR(run("queue.enqueue", enq2(ID1, "")), "accepted");
	CHECK_EQ_STR(run("queue.hold", json_pack("{s:s}", "id", ID1)), "accepted");
	CHECK_EQ_STR(run("queue.delete", del(ID1, 0)), "accepted");
	CHECK(!has_item(ID1));
	CHECK_EQ_INT(count_keys("q/item/"), 0);
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 0);
	CHECK_EQ_INT(stat_of("failed"), 2);
	CHECK_EQ_INT(stat_of("removed"), 1);
	/* With bounce: the failures' DSN is due, the item stays, due at once,
	 * and unheld. */
	CHECK_EQ_STR(run("queue.enqueue", enq2(ID2, "")), "accepted");
	CHECK_EQ_STR(run("queue.attempt", attempt(ID2, json_pack("[o]", result(X1, "delivered", 1)),
						  T0 + 3600000)), "accepted");
	CHECK_EQ_STR(run("queue.hold", json_pack("{s:s}", "id", ID2)), "accepted");
	CHECK_EQ_STR(run("queue.delete", del(ID2, 1)), "accepted");
	CHECK_EQ_STR(rcpt_str(ID2, X1, "status"), "delivered");
	CHECK_EQ_STR(rcpt_str(ID2, X2, "status"), "failed");
	CHECK_EQ_STR(rcpt_str(ID2, X2, "enhanced"), "5.0.0");
	CHECK_EQ_STR(rcpt_str(ID2, X2, "reply"), "deleted by an administrator");
	CHECK_EQ_STR(rcpt_str(ID2, X2, "dsn_due"), "failure");
	CHECK_EQ_INT(item_int(ID2, "held"), 0);
	CHECK_EQ_INT(item_int(ID2, "dsn_pending"), 1);
	CHECK_EQ_INT(item_int(ID2, "next_try"), T0 + next_offset - 1);
	CHECK(due_at(ID2, T0 + next_offset - 1));
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 1);
	/* The worker sent it: the item is done. */
	CHECK_EQ_STR(run("queue.notified", json_pack("{s:s, s:s, s:[s]}", "id", ID2, "kind", "dsn", "rcpts", X2)),
		     "accepted");
	CHECK(!has_item(ID2));
	CHECK_EQ_INT(count_keys("q/"), count_keys(KEY_QUEUE_STAT));
	CHECK_EQ_STR(run("queue.delete", del(ID2, 1)), "not-found");
	CHECK_EQ_STR(run("queue.enqueue", enq2(ID3, "")), "accepted");
	CHECK_EQ_STR(run("queue.delete", json_pack("{s:s, s:b}", "id", ID3, "bounce", 1)), "invalid");
	CHECK_EQ_STR(run("queue.delete", json_pack("{s:s, s:s, s:i}", "id", ID3, "reason", "x", "bounce", 1)),
		     "invalid");
	CHECK_EQ_STR(run("queue.delete", json_pack("{s:s, s:s, s:b}", "id", ID3, "reason", "", "bounce", 1)),
		     "invalid");
}

/* The dsn_due one recipient gets for one final result, on a fresh item
 * (from, dsn flag, notify) in the current view. */
static const char *dsn_for(const char *id, const char *from, int dsn, const char *notify,
			   const char *status, int passed)
{
	json_t *d = enq(id, from, json_pack("[o, o]", rcpt(X1, notify), rcpt(X2, "")), T0);

	json_object_set_new(d, "dsn", json_boolean(dsn));
	if (strcmp(run("queue.enqueue", d), "accepted") != 0 ||
	    strcmp(run("queue.attempt", attempt(id, json_pack("[o]", result(X1, status, passed)), T0 + 1000)),
		   "accepted") != 0)
		return "(event failed)";
	return rcpt_str(id, X1, "dsn_due");
}

static void test_dsn_rules(void)
{
	char id[40];
	int n = 0;

#define NEXT_ID() (snprintf(id, sizeof id, "%032x", 0x100 + n++), id)
	fresh("q-dsn");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 0, "", "failed", 0), "failure");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 0, "FAILURE", "failed", 0), "failure");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 0, "DELAY,FAILURE", "failed", 0), "failure");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 0, "SUCCESS", "failed", 0), "");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 0, "NEVER", "failed", 0), "");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 0, "", "delivered", 1), "");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 0, "FAILURE", "delivered", 1), "");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 0, "SUCCESS,FAILURE", "delivered", 1), "success");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 0, "SUCCESS", "delivered", 0), "relayed");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 0, "NEVER", "delivered", 0), "");
	/* Never bounce a bounce. */
	CHECK_EQ_STR(dsn_for(NEXT_ID(), "", 0, "", "failed", 0), "");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), "", 0, "SUCCESS", "delivered", 1), "");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 1, "", "failed", 0), "");
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 1, "SUCCESS", "delivered", 0), "");
	/* Deferred: nothing due (the DELAY notice is the worker's). */
	CHECK_EQ_STR(dsn_for(NEXT_ID(), BOB, 0, "", "deferred", 0), "");
#undef NEXT_ID
}

static void test_dsn_schedule(void)
{
	const char *error = NULL;
	int64_t ts;

	fresh("q-dsn-schedule");
	CHECK_EQ_STR(run("queue.enqueue", enq2(ID1, "")), "accepted");
	/* One fails (DSN due), one is deferred for an hour: due at once. */
	ts = T0 + next_offset;
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o, o]", result(X1, "failed", 0),
								 result(X2, "deferred", 0)), T0 + 3600000)),
		     "accepted");
	CHECK_EQ_INT(item_int(ID1, "dsn_pending"), 1);
	CHECK_EQ_INT(item_int(ID1, "next_try"), ts);
	CHECK_EQ_INT(item_int(ID1, "retry_at"), T0 + 3600000);
	CHECK(due_at(ID1, ts));
	/* Another deferral keeps it due at once. */
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", result(X2, "deferred", 0)), T0 + 7200000)),
		     "accepted");
	CHECK_EQ_INT(item_int(ID1, "next_try"), ts);
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 1);
	/* A delay notice changes only delay_notified. */
	CHECK_EQ_STR(run("queue.notified", json_pack("{s:s, s:s, s:[]}", "id", ID1, "kind", "delay", "rcpts")),
		     "accepted");
	CHECK_EQ_INT(item_int(ID1, "delay_notified"), 1);
	CHECK_EQ_INT(item_int(ID1, "next_try"), ts);
	/* The failure DSN is sent: back to the retry time. */
	CHECK_EQ_STR(run("queue.notified", json_pack("{s:s, s:s, s:[s]}", "id", ID1, "kind", "dsn", "rcpts", X1)),
		     "accepted");
	CHECK_EQ_STR(rcpt_str(ID1, X1, "dsn_due"), "");
	CHECK_EQ_INT(item_int(ID1, "dsn_pending"), 0);
	CHECK_EQ_INT(item_int(ID1, "next_try"), T0 + 7200000);
	CHECK(due_at(ID1, T0 + 7200000));
	CHECK_EQ_INT(count_keys(KEY_QUEUE_DUE), 1);
	/* A duplicate notified changes nothing. */
	CHECK_EQ_STR(run("queue.notified", json_pack("{s:s, s:s, s:[s]}", "id", ID1, "kind", "dsn", "rcpts", X1)),
		     "accepted");
	CHECK_EQ_INT(item_int(ID1, "next_try"), T0 + 7200000);
	CHECK_EQ_STR(run("queue.notified", json_pack("{s:s, s:s, s:[s]}", "id", ID1, "kind", "dsn", "rcpts",
						     "z@y.example")), "invalid");
	CHECK_EQ_STR(run("queue.notified", json_pack("{s:s, s:s, s:[]}", "id", ID1, "kind", "dsn", "rcpts")),
		     "invalid");
	CHECK_EQ_STR(run("queue.notified", json_pack("{s:s, s:s, s:[]}", "id", ID1, "kind", "warn", "rcpts")),
		     "invalid");
	CHECK_EQ_STR(run("queue.notified", json_pack("{s:s, s:s, s:[i]}", "id", ID1, "kind", "delay", "rcpts", 1)),
		     "invalid");
	/* Delivered with SUCCESS asked: the item waits for the DSN. */
	CHECK_EQ_STR(run("queue.enqueue", enq2(ID2, "SUCCESS")), "accepted");
	CHECK_EQ_STR(run("queue.attempt", attempt(ID2, json_pack("[o, o]", result(X1, "delivered", 1),
								 result(X2, "delivered", 0)), T0 + 1)),
		     "accepted");
	CHECK_EQ_INT(item_int(ID2, "dsn_pending"), 1);
	CHECK_EQ_STR(run("queue.notified", json_pack("{s:s, s:s, s:[s]}", "id", ID2, "kind", "dsn", "rcpts", X1)),
		     "accepted");
	CHECK(has_item(ID2));
	CHECK_EQ_STR(run("queue.notified", json_pack("{s:s, s:s, s:[s]}", "id", ID2, "kind", "dsn", "rcpts", X2)),
		     "accepted");
	CHECK(!has_item(ID2));
	CHECK_EQ_INT(queue_item_get(view, "not an id", &(json_t *){ NULL }, &error), 0);
}

struct seen {
	char ids[8][40];
	int n, stop_after;
};

static int seen_cb(void *ctx, json_t *it)
{
	struct seen *s = ctx;

	snprintf(s->ids[s->n++], 40, "%s", queue_jstr(it, "id"));
	return s->n == s->stop_after;
}

static void test_read(void)
{
	struct seen s = { .n = 0 };
	struct queue_stats st;
	const char *error = NULL;
	json_t *list = NULL;

	fresh("q-read");
	CHECK_EQ_STR(run("queue.enqueue", enq(ID3, BOB, json_pack("[o]", rcpt(X1, "")), T0 + 30)), "accepted");
	CHECK_EQ_STR(run("queue.enqueue", enq(ID1, BOB, json_pack("[o, o]", rcpt(X1, ""), rcpt(X2, "")), T0 + 20)),
		     "accepted");
	CHECK_EQ_STR(run("queue.enqueue", enq(ID2, BOB, json_pack("[o]", rcpt(X1, "")), T0 + 10)), "accepted");
	/* Due order, up to now. */
	CHECK_EQ_INT(queue_due_scan(view, PART, T0 + 25, 10, seen_cb, &s, &error), 0);
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_STR(s.ids[0], ID2);
	CHECK_EQ_STR(s.ids[1], ID1);
	s.n = 0;
	CHECK_EQ_INT(queue_due_scan(view, PART, T0 + 100, 10, seen_cb, &s, &error), 0);
	CHECK_EQ_INT(s.n, 3);
	CHECK_EQ_STR(s.ids[2], ID3);
	s.n = 0;
	CHECK_EQ_INT(queue_due_scan(view, PART, T0 + 100, 2, seen_cb, &s, &error), 0);
	CHECK_EQ_INT(s.n, 2);
	s.n = 0;
	s.stop_after = 1;
	CHECK_EQ_INT(queue_due_scan(view, PART, T0 + 100, 10, seen_cb, &s, &error), 0);
	CHECK_EQ_INT(s.n, 1);
	s.n = 0;
	s.stop_after = 0;
	CHECK_EQ_INT(queue_due_scan(view, PART + 1, T0 + 100, 10, seen_cb, &s, &error), 0);
	CHECK_EQ_INT(s.n, 0);
	/* Held items are not due. */
	CHECK_EQ_STR(run("queue.hold", json_pack("{s:s}", "id", ID2)), "accepted");
	CHECK_EQ_INT(queue_due_scan(view, PART, T0 + 100, 10, seen_cb, &s, &error), 0);
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_STR(s.ids[0], ID1);
	/* The listing is in id order. */
	CHECK_EQ_INT(queue_list(view, 0, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 3);
	CHECK_EQ_STR(queue_jstr(json_array_get(list, 0), "id"), ID1);
	CHECK_EQ_STR(queue_jstr(json_array_get(list, 2), "id"), ID3);
	json_decref(list);
	CHECK_EQ_INT(queue_list(view, 2, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 2);
	json_decref(list);
	/* Stats. */
	CHECK_EQ_STR(run("queue.attempt", attempt(ID1, json_pack("[o]", result(X1, "delivered", 0)), T0 + 500)),
		     "accepted");
	CHECK_EQ_INT(queue_stats(view, &st, &error), 0);
	CHECK_EQ_INT(st.size, 3);
	CHECK_EQ_INT(st.recipients, 3);
	CHECK_EQ_INT(st.held, 1);
	CHECK_EQ_INT(st.oldest_arrival, T0);
	CHECK_EQ_INT(st.enqueued, 3);
	CHECK_EQ_INT(st.delivered, 1);
	CHECK_EQ_INT(st.removed, 0);
	fresh("q-read-empty");
	CHECK_EQ_INT(queue_stats(view, &st, &error), 0);
	CHECK_EQ_INT(st.size, 0);
	CHECK_EQ_INT(st.oldest_arrival, 0);
	CHECK_EQ_INT(queue_list(view, 0, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 0);
	json_decref(list);
}

/* A fixed history with accepts and rejects of every kind. */
static void history(void)
{
	run("queue.enqueue", enq2(ID1, "SUCCESS"));
	run("queue.enqueue", enq2(ID2, ""));
	run("queue.enqueue", enq2(ID2, ""));
	run("queue.enqueue", enq(ID3, "", json_pack("[o]", rcpt(X1, "")), T0 + 9));
	run("queue.attempt", attempt(ID1, json_pack("[o, o]", result(X1, "delivered", 1), result(X2, "deferred", 0)),
				     T0 + 1000));
	run("queue.attempt", attempt(ID2, json_pack("[o]", result(X2, "failed", 0)), T0 + 2000));
	run("queue.hold", json_pack("{s:s}", "id", ID3));
	run("queue.retry", json_pack("{s:s, s:I}", "id", ID1, "next_try", (json_int_t)(T0 + 5)));
	run("queue.notified", json_pack("{s:s, s:s, s:[s]}", "id", ID1, "kind", "dsn", "rcpts", X1));
	run("queue.notified", json_pack("{s:s, s:s, s:[]}", "id", ID2, "kind", "delay", "rcpts"));
	run("queue.delete", del(ID2, 1));
	run("queue.release", json_pack("{s:s}", "id", ID3));
	run("queue.attempt", attempt(ID3, json_pack("[o]", result(X1, "delivered", 0)), T0));
	run("queue.attempt", attempt(ID1, json_pack("[o]", result(X1, "queued", 0)), T0));
}

static void test_determinism(void)
{
	char d1[65], d2[65];
	uint64_t k1 = 0, k2 = 0;
	const char *error;

	fresh("q-det1");
	history();
	CHECK_EQ_INT(view_digest(view, d1, &k1, &error), 0);
	CHECK(k1 > 0);
	CHECK(count_keys(KEY_QUEUE_ITEM) == 2);
	fresh("q-det2");
	history();
	CHECK_EQ_INT(view_digest(view, d2, &k2, &error), 0);
	CHECK_EQ_STR(d1, d2);
	CHECK_EQ_INT(k1, k2);
	/* A different history (one more event) gives another digest. */
	run("queue.hold", json_pack("{s:s}", "id", ID1));
	CHECK_EQ_INT(view_digest(view, d2, NULL, &error), 0);
	CHECK(strcmp(d1, d2) != 0);
}


static void tick(evutil_socket_t fd, short what, void *arg)
{
}

/* The outcome status (and code) of an event through the projector. */
static const char *outcome_of(struct projector *p, const char *id)
{
	static char out[64];
	const char *error = NULL;
	json_t *o = NULL;

	if (projector_outcome(p, id, &o, &error) != 1)
		return "none";
	snprintf(out, sizeof out, "%s%s%s", json_string_value(json_object_get(o, "status")),
		 json_object_get(o, "code") ? ":" : "", queue_jstr(o, "code"));
	json_decref(o);
	return out;
}

/* Runs the loop until event id has an outcome (or 5 s pass). */
static int wait_outcome(struct event_base *base, struct projector *p, const char *id)
{
	struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
	struct timeval tv = { 0, 5000 };
	int64_t deadline = evm_mono_ms() + 5000;
	int ok;

	event_add(t, &tv);
	while (!(ok = strcmp(outcome_of(p, id), "none") != 0) && evm_mono_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	return ok;
}

/* The queue topic through the real projector: every node projects it, a
 * rebuild from the log gives the same digest. */
static void test_projected(void)
{
	struct evm_config cfg;
	struct fake_log *fl;
	struct event_base *base = event_base_new();
	struct projector *p = NULL;
	const char *error = NULL;
	char id[EVM_ID_HEX_LEN + 1], d1[65], d2[65];
	int32_t part;
	json_t *st, *it;
	size_t i, nq = 0;

	view_close(&view);
	CHECK_EQ_INT(config_load(NULL, &cfg, &error), 0);
	fl = fake_log_new(&cfg, 3);
	part = evm_partition_for(ID1, strlen(ID1), 3);
	CHECK_EQ_INT(view_open(test_tmpdir("q-projected"), &view, &error), 0);
	CHECK_EQ_INT(projector_create(&cfg, &fl->log, view, base, &p, &error), 0);
	fake_push_event(fl, EVM_TOPIC_QUEUE, part, fake_id(1, id), "queue.enqueue", "acme", BOB, enq2(ID1, ""));
	fake_push_event(fl, EVM_TOPIC_QUEUE, part, fake_id(2, id), "queue.attempt", "acme", BOB,
			attempt(ID1, json_pack("[o]", result(X1, "deferred", 0)), T0 + 60000));
	fake_push_event(fl, EVM_TOPIC_QUEUE, part, fake_id(3, id), "queue.hold", "", "",
			json_pack("{s:s}", "id", ID2));
	/* A queue event on another topic is refused. */
	fake_push_event(fl, EVM_TOPIC_MAIL, 0, fake_id(4, id), "queue.hold", "", "", json_pack("{s:s}", "id", ID1));
	CHECK_EQ_INT(projector_start(p, &error), 0);
	CHECK(wait_outcome(base, p, fake_id(4, id)));
	CHECK(wait_outcome(base, p, fake_id(3, id)));
	CHECK_EQ_STR(outcome_of(p, fake_id(1, id)), "accepted");
	CHECK_EQ_STR(outcome_of(p, fake_id(2, id)), "accepted");
	CHECK_EQ_STR(outcome_of(p, fake_id(3, id)), "rejected:not-found");
	CHECK_EQ_STR(outcome_of(p, fake_id(4, id)), "rejected:invalid");
	it = item(ID1);
	CHECK(it != NULL);
	CHECK_EQ_INT(queue_jint(it, "partition"), part);
	CHECK_EQ_INT(queue_jint(it, "next_try"), T0 + 60000);
	json_decref(it);
	st = projector_status(p);
	json_array_foreach(json_object_get(st, "partitions"), i, it)
		nq += strcmp(queue_jstr(it, "topic"), "queue") == 0;
	json_decref(st);
	CHECK_EQ_INT(nq, 3);
	/* Offsets and q/ keys are in the digest; a rebuild gives it again. */
	CHECK_EQ_INT(view_digest(view, d1, NULL, &error), 0);
	CHECK_EQ_INT(projector_rebuild(p, &error), 0);
	for (int k = 0; k < 500; k++) {
		st = projector_status(p);
		nq = queue_jint(json_object_get(st, "rebuild"), "completed") == 1 &&
		     strcmp(queue_jstr(st, "state"), "running") == 0;
		json_decref(st);
		if (nq)
			break;
		usleep(10 * 1000);
	}
	CHECK(nq);
	CHECK(wait_outcome(base, p, fake_id(4, id)));
	CHECK_EQ_INT(fake_end(fl, EVM_TOPIC_QUEUE, part), 3);
	CHECK_EQ_INT(view_digest(view, d2, NULL, &error), 0);
	CHECK_EQ_STR(d1, d2);
	projector_destroy(&p);
	view_close(&view);
	event_base_free(base);
	fake_log_free(&fl);
	config_free(&cfg);
}

int main(void)
{
	evthread_use_pthreads();
	test_run("registry has every queue event", test_registry);
	test_run("queue.enqueue: the item, its due key, exists", test_enqueue);
	test_run("queue.enqueue: every malformed field is invalid", test_enqueue_invalid);
	test_run("queue.attempt: results, final states kept, removal", test_attempt);
	test_run("queue.hold/release/retry and the due index", test_hold_release_retry);
	test_run("queue.delete with and without bounce", test_delete);
	test_run("dsn_due: failure/success/relayed/NEVER/null sender/DSN items", test_dsn_rules);
	test_run("DSN due at once, queue.notified, back to the retry time", test_dsn_schedule);
	test_run("read API: due scan, list, stats", test_read);
	test_run("two replays give byte-identical keys", test_determinism);
	test_run("the queue topic through the projector, and a rebuild", test_projected);
	json_decref(last_changed);
	view_close(&view);
	return test_done();
}

/* test_mail_pushsub - the pushsub.set and pushsub.destroy appliers:
 * validation, create and update, immutable fields, verified for good,
 * lapse decided by the events' times (never a clock), pruning, the limit,
 * and the read API. */
#include "projector/applier.h"
#include "projector/test_apply.h"
#include "projector/mail.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"
#define T0 INT64_C(1700000000000)
#define ID1 "0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210"
#define CODE "c0de"

static struct view *view;
static int64_t next_offset;
static struct apply_env env = { &next_offset, 0x5b5000, "", 1, NULL, "" };

/* A pushsub.set of id with the given create flag, verified and expires
 * (-1: null); the other fields fixed. */
static const char *set(const char *id, int create, int verified, int64_t expires)
{
	json_t *d = json_pack("{s:b, s:s, s:s, s:s, s:s, s:b, s:o, s:n}", "create", create, "id", id,
			      "device_client_id", "phone-1", "url", "https://push.example/x", "verification_code",
			      CODE, "verified", verified, "expires",
			      expires < 0 ? json_null() : json_integer(expires), "types");

	return apply_event(&env, view, "pushsub.set", BOB, d);
}

/* A valid creation with one field replaced (value stolen). */
static const char *create_with(const char *field, json_t *value)
{
	json_t *d = json_pack("{s:b, s:s, s:s, s:s, s:s, s:b, s:n}", "create", 1, "id", ID2,
			      "device_client_id", "phone-2", "url", "https://push.example/y",
			      "verification_code", CODE, "verified", 0, "expires");

	json_object_set_new(d, field, value);
	return apply_event(&env, view, "pushsub.set", BOB, d);
}

static size_t count(void)
{
	const char *error = NULL;
	json_t *list = NULL;
	size_t n;

	if (mail_pushsub_list(view, BOB, &list, &error) < 0)
		return 9999;
	n = json_array_size(list);
	json_decref(list);
	return n;
}

static void test_validation(void)
{
	CHECK_EQ_STR(create_with("create", json_string("yes")), "invalid");
	CHECK_EQ_STR(create_with("id", json_string("short")), "invalid");
	CHECK_EQ_STR(create_with("device_client_id", json_string("")), "invalid");
	CHECK_EQ_STR(create_with("url", json_string("ftp://x/")), "invalid");
	CHECK_EQ_STR(create_with("url", json_string("https://a b/")), "invalid");
	CHECK_EQ_STR(create_with("verification_code", json_integer(5)), "invalid");
	CHECK_EQ_STR(create_with("verified", json_string("no")), "invalid");
	CHECK_EQ_STR(create_with("expires", json_integer(-1)), "invalid");
	CHECK_EQ_STR(create_with("keys", json_pack("{s:s}", "p256dh", "x")), "invalid");
	CHECK_EQ_STR(create_with("keys", json_pack("{s:s, s:i}", "p256dh", "x", "auth", 1)), "invalid");
	CHECK_EQ_STR(create_with("types", json_pack("[i]", 1)), "invalid");
	CHECK_EQ_STR(create_with("types", json_string("Email")), "invalid");
	CHECK_EQ_INT(count(), 0);
	/* A new subscription cannot arrive verified. */
	CHECK_EQ_STR(set(ID1, 1, 1, -1), "invalid");
	/* Keys and types are kept as given. */
	CHECK_EQ_STR(create_with("keys", json_pack("{s:s, s:s}", "p256dh", "BPk", "auth", "AAA")), "accepted");
	CHECK_EQ_STR(apply_event(&env, view, "pushsub.destroy", BOB, json_pack("{s:s}", "id", ID2)), "accepted");
	CHECK_EQ_STR(create_with("types", json_pack("[s, s]", "Email", "Mailbox")), "accepted");
	CHECK_EQ_STR(apply_event(&env, view, "pushsub.destroy", BOB, json_pack("{s:s}", "id", ID2)), "accepted");
}

static void test_lifecycle(void)
{
	const char *error = NULL;
	json_t *rec = NULL, *d;

	CHECK_EQ_STR(set(ID1, 0, 0, -1), "not-found");
	CHECK_EQ_STR(set(ID1, 1, 0, -1), "accepted");
	CHECK_EQ_STR(json_string_value(json_object_get(env.result, "id")), ID1);
	CHECK_EQ_STR(set(ID1, 1, 0, -1), "exists");
	CHECK_EQ_INT(mail_pushsub_get(view, BOB, ID1, &rec, &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(rec, "url")), "https://push.example/x");
	CHECK_EQ_STR(json_string_value(json_object_get(rec, "verification_code")), CODE);
	CHECK(json_is_false(json_object_get(rec, "verified")));
	CHECK(json_is_null(json_object_get(rec, "keys")));
	json_decref(rec);
	/* Verified, then an update that says false keeps it verified. */
	CHECK_EQ_STR(set(ID1, 0, 1, -1), "accepted");
	CHECK_EQ_STR(set(ID1, 0, 0, -1), "accepted");
	CHECK(json_is_true(json_object_get(env.result, "verified")));
	/* Immutable fields. */
	d = json_pack("{s:b, s:s, s:s, s:s, s:s, s:b}", "create", 0, "id", ID1, "device_client_id", "phone-1",
		      "url", "https://elsewhere.example/", "verification_code", CODE, "verified", 1);
	CHECK_EQ_STR(apply_event(&env, view, "pushsub.set", BOB, d), "immutable");
	d = json_pack("{s:b, s:s, s:s, s:s, s:s, s:b}", "create", 0, "id", ID1, "device_client_id", "phone-1",
		      "url", "https://push.example/x", "verification_code", "other", "verified", 1);
	CHECK_EQ_STR(apply_event(&env, view, "pushsub.set", BOB, d), "immutable");
	/* Destroy. */
	CHECK_EQ_STR(apply_event(&env, view, "pushsub.destroy", BOB, json_pack("{s:s}", "id", "zz")), "invalid");
	CHECK_EQ_STR(apply_event(&env, view, "pushsub.destroy", BOB, json_pack("{s:s}", "id", ID1)), "accepted");
	CHECK_EQ_STR(apply_event(&env, view, "pushsub.destroy", BOB, json_pack("{s:s}", "id", ID1)), "not-found");
	CHECK_EQ_INT(mail_pushsub_get(view, BOB, ID1, &rec, &error), 0);
	CHECK_EQ_INT(count(), 0);
}

/* An event's time is T0 + its offset (test_apply.h). */
static void test_expiry(void)
{
	int64_t now = T0 + next_offset;

	/* Expiring at or before the event's own time: refused. */
	CHECK_EQ_STR(set(ID1, 1, 0, now), "expired");
	/* Expiring 1000 offsets from now: alive until then. */
	CHECK_EQ_STR(set(ID1, 1, 0, now + 1000), "accepted");
	CHECK_EQ_STR(set(ID1, 0, 1, now + 1000), "accepted");
	CHECK_EQ_INT(count(), 1);
	next_offset += 1000;
	/* Lapsed by this event's time: not found, though still stored. */
	CHECK_EQ_STR(set(ID1, 0, 1, now + 5000), "not-found");
	CHECK_EQ_INT(count(), 1);
	/* The next accepted pushsub event prunes it; the id is free again. */
	CHECK_EQ_STR(set(ID1, 1, 0, -1), "accepted");
	CHECK_EQ_INT(count(), 1);
	CHECK_EQ_STR(set(ID2, 1, 0, T0 + next_offset + 10), "accepted");
	next_offset += 10;
	CHECK_EQ_STR(apply_event(&env, view, "pushsub.destroy", BOB, json_pack("{s:s}", "id", ID1)), "accepted");
	CHECK_EQ_INT(count(), 0);
}

static void test_limit(void)
{
	char id[33];

	for (int i = 0; i < MAIL_PUSHSUB_MAX; i++) {
		snprintf(id, sizeof id, "%032x", i + 1);
		CHECK_EQ_STR(set(id, 1, 0, -1), "accepted");
	}
	CHECK_EQ_STR(set(ID1, 1, 0, -1), "limit");
	snprintf(id, sizeof id, "%032x", 1);
	CHECK_EQ_STR(apply_event(&env, view, "pushsub.destroy", BOB, json_pack("{s:s}", "id", id)), "accepted");
	CHECK_EQ_STR(set(ID1, 1, 0, -1), "accepted");
	CHECK_EQ_INT(count(), MAIL_PUSHSUB_MAX);
}

int main(void)
{
	const char *error;

	if (view_open(test_tmpdir("pushsub"), &view, &error) < 0)
		exit(2);
	test_run("pushsub: validation", test_validation);
	test_run("pushsub: create, verify, immutable, destroy", test_lifecycle);
	test_run("pushsub: expiry by the events' times", test_expiry);
	test_run("pushsub: limit", test_limit);
	view_close(&view);
	json_decref(env.result);
	return test_done();
}

/* test_mail_submission - the submission.record and submission.destroy
 * appliers: the record read back, every validation, "exists" and
 * "not-found", the JMAP change tracking of EmailSubmission (created,
 * destroyed, the state a log position), and that a rejection writes
 * nothing (test_apply.h). */
#include "projector/applier.h"
#include "projector/test_apply.h"
#include "projector/mail.h"
#include "projector/mail_jmap.h"
#include "projector/mail_submission.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"
#define S1 "0123456789abcdef0123456789abcdef"
#define S2 "fedcba9876543210fedcba9876543210"
#define EM "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TH "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define Q1 "cccccccccccccccccccccccccccccccc"

static struct view *view;
static int64_t next_offset;
static struct apply_env env = { &next_offset, 0x5b0000, "", 1, NULL, "" };

/* A valid record of id; change one member with (key, value stolen). */
static json_t *record(const char *id, const char *key, json_t *value)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:s, s:n}, s:[{s:s, s:n}, {s:s}]}, s:I, s:s, s:[s]}",
			      "id", id, "identity_id", "i0123abc", "email_id", EM, "thread_id", TH, "envelope",
			      "mailFrom", "email", BOB, "parameters", "rcptTo", "email", "ann@acme.test",
			      "parameters", "email", "zed@remote.test", "send_at", (json_int_t)1700000000000,
			      "queue_id", Q1, "local", "ann@acme.test");

	if (key != NULL) {
		if (value == NULL)
			json_object_del(d, key);
		else
			json_object_set_new(d, key, value);
	}
	return d;
}

static const char *run(const char *type, json_t *data)
{
	return apply_event(&env, view, type, BOB, data);
}

struct seen {
	char ids[8][33];
	int destroyed[8];
	size_t n;
};

static int seen_cb(void *ctx, const struct mail_jchange *c)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		snprintf(s->ids[s->n], sizeof s->ids[s->n], "%s", c->id);
		s->destroyed[s->n++] = c->destroyed;
	}
	return 0;
}

static void test_validation(void)
{
	CHECK_EQ_STR(run("submission.record", record("nothex", NULL, NULL)), "invalid");
	CHECK_EQ_STR(run("submission.record", record(S1, "email_id", json_string("x"))), "invalid");
	CHECK_EQ_STR(run("submission.record", record(S1, "thread_id", NULL)), "invalid");
	CHECK_EQ_STR(run("submission.record", record(S1, "identity_id", json_string("a b"))), "invalid");
	CHECK_EQ_STR(run("submission.record", record(S1, "identity_id", json_string(""))), "invalid");
	CHECK_EQ_STR(run("submission.record", record(S1, "queue_id", json_string("123"))), "invalid");
	CHECK_EQ_STR(run("submission.record", record(S1, "send_at", json_integer(-1))), "invalid");
	CHECK_EQ_STR(run("submission.record", record(S1, "envelope", json_pack("{s:{s:s}, s:[]}", "mailFrom",
										  "email", BOB, "rcptTo"))),
		     "invalid");
	CHECK_EQ_STR(run("submission.record", record(S1, "envelope", json_pack("{s:{s:s}, s:[{s:s}]}", "mailFrom",
										  "email", BOB, "rcptTo", "email",
										  "not an address"))),
		     "invalid");
	CHECK_EQ_STR(run("submission.record", record(S1, "envelope", json_pack("{s:{s:s, s:i}, s:[{s:s}]}",
										  "mailFrom", "email", BOB, "parameters",
										  3, "rcptTo", "email", "a@b.test"))),
		     "invalid");
	CHECK_EQ_STR(run("submission.record", record(S1, "local", json_pack("[i]", 1))), "invalid");
	CHECK_EQ_STR(run("submission.destroy", json_pack("{s:s}", "id", "zz")), "invalid");
}

static void test_record(void)
{
	const char *error = NULL;
	json_t *sub = NULL, *list = NULL;
	int64_t st0 = -1, st1 = -1, st2 = -1;
	struct seen seen = { .n = 0 };
	int more = 1;

	if (view_open(test_tmpdir("submission"), &view, &error) < 0)
		exit(2);
	test_validation();
	CHECK_EQ_INT(mail_jmap_state(view, BOB, MAIL_J_SUBMISSION, &st0, &error), 0);
	CHECK_EQ_INT((int)st0, 0);
	/* A record, read back as written; the null sender is allowed. */
	CHECK_EQ_STR(run("submission.record", record(S1, NULL, NULL)), "accepted");
	CHECK_EQ_STR(json_string_value(json_object_get(env.result, "id")), S1);
	CHECK_EQ_INT(mail_submission_get(view, BOB, S1, &sub, &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(sub, "email_id")), EM);
	CHECK_EQ_STR(json_string_value(json_object_get(sub, "queue_id")), Q1);
	CHECK_EQ_INT((int)json_array_size(json_object_get(json_object_get(sub, "envelope"), "rcptTo")), 2);
	CHECK(json_integer_value(json_object_get(sub, "send_at")) == 1700000000000);
	json_decref(sub);
	CHECK_EQ_STR(run("submission.record", record(S1, NULL, NULL)), "exists");
	CHECK_EQ_STR(run("submission.record", record(S2, "envelope",
						    json_pack("{s:{s:s, s:n}, s:[{s:s}]}", "mailFrom", "email",
							      "", "parameters", "rcptTo", "email", "x@y.test"))),
		     "accepted");
	CHECK_EQ_INT(mail_jmap_state(view, BOB, MAIL_J_SUBMISSION, &st1, &error), 0);
	CHECK(st1 > st0);
	CHECK_EQ_INT(mail_submissions(view, BOB, &list, &error), 0);
	CHECK_EQ_INT((int)json_array_size(list), 2);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "id")), S1);
	json_decref(list);
	/* Unknown ids and accounts. */
	CHECK_EQ_INT(mail_submission_get(view, BOB, S2 "0", &sub, &error), 0);
	CHECK_EQ_INT(mail_submission_get(view, "carl@acme.test", S1, &sub, &error), 0);
	/* Destroy: gone, the change is a destroy, a second one not-found. */
	CHECK_EQ_STR(run("submission.destroy", json_pack("{s:s}", "id", S1)), "accepted");
	CHECK_EQ_STR(run("submission.destroy", json_pack("{s:s}", "id", S1)), "not-found");
	CHECK_EQ_INT(mail_submission_get(view, BOB, S1, &sub, &error), 0);
	CHECK_EQ_INT(mail_jmap_state(view, BOB, MAIL_J_SUBMISSION, &st2, &error), 0);
	CHECK(st2 > st1);
	CHECK_EQ_INT(mail_jmap_changes(view, BOB, MAIL_J_SUBMISSION, st1, "", 10, seen_cb, &seen, &more, &error), 0);
	CHECK_EQ_INT((int)seen.n, 1);
	CHECK_EQ_STR(seen.ids[0], S1);
	CHECK_EQ_INT(seen.destroyed[0], 1);
	CHECK_EQ_INT(more, 0);
	view_close(&view);
}

int main(void)
{
	test_run("submission: record, validation, destroy, changes", test_record);
	json_decref(env.result);
	return test_done();
}

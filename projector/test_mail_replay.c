/* test_mail_replay - the point-in-time replay: events run through the real
 * appliers and, with their outcomes, into replays at several times; the
 * replay "now" must agree with the view, the replay at an earlier time
 * must hold what the mailbox held then. Also the pure rules: rejected
 * events, other accounts and later events change nothing. */
#include "projector/applier.h"
#include "projector/test_apply.h"
#include "projector/mail.h"
#include "projector/mail_replay.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"
#define T0 INT64_C(1700000000000)

static struct view *view;
static int64_t next_offset;
static struct apply_env env = { &next_offset, 0xbee000, "acme", 0, NULL, "" };
/* The account's log as the replay reads it: [{type, id, ts, data, outcome}]. */
static json_t *recorded;

/* Applies one event and records it with its outcome. */
static const char *run(const char *type, json_t *data)
{
	int64_t offset = next_offset;
	json_t *copy = json_deep_copy(data), *outcome;
	const char *code = apply_event(&env, view, type, BOB, data);
	char id[33];

	if (strcmp(code, "accepted") != 0)
		fprintf(stderr, "%s: %s\n", type, env.reason);

	snprintf(id, sizeof id, "%032" PRIx64, (uint64_t)offset + env.id_base);
	outcome = env.result ? json_deep_copy(env.result) : json_object();
	json_object_set_new(outcome, "status", json_string(strcmp(code, "accepted") == 0 ? "accepted" : "rejected"));
	json_array_append_new(recorded, json_pack("{s:s, s:s, s:I, s:o, s:o}", "type", type, "id", id, "ts",
						  (json_int_t)(T0 + offset), "data", copy, "outcome", outcome));
	return code;
}

/* A replay of the recorded log up to at (account: whose events count). */
static struct mail_replay *replay_at(const char *account, int64_t at)
{
	struct mail_replay *r = mail_replay_new(account, at);
	size_t i;
	json_t *e;

	json_array_foreach(recorded, i, e) {
		struct evm_event ev;
		const char *error = NULL;

		if (evm_event_init(&ev, json_string_value(json_object_get(e, "type")), "acme", BOB, "test",
				   json_deep_copy(json_object_get(e, "data")), &error) < 0)
			abort();
		snprintf(ev.id, sizeof ev.id, "%s", json_string_value(json_object_get(e, "id")));
		ev.ts = json_integer_value(json_object_get(e, "ts"));
		mail_replay_feed(r, &ev, json_object_get(e, "outcome"));
		evm_event_clear(&ev);
	}
	return r;
}

static int64_t now_ts(void)
{
	return T0 + next_offset - 1;
}

static json_t *append_data(const char *mailbox, char blob_digit, int flagged)
{
	char blob[65];

	memset(blob, blob_digit, 64);
	blob[64] = '\0';
	return json_pack("{s:s, s:s, s:I, s:s, s:I, s:{s:I, s:{s:[s]}, s:{s:s}}, s:o, s:o}", "mailbox", mailbox,
			 "blob_id", blob, "blob_size", (json_int_t)100, "prefix", "", "internal_date",
			 (json_int_t)1690000000000, "summary", "size", (json_int_t)100, "headers", "message_id",
			 "m1@x", "thread", "base_subject", "hello", "flags",
			 flagged ? json_pack("[s]", "\\Seen") : json_array(), "keywords",
			 flagged ? json_pack("[s]", "$Work") : json_array());
}

/* "uid:flags keywords|uid:..." of a message list, for compact comparisons. */
static const char *describe(json_t *msgs)
{
	static char out[1024];
	size_t i, j, n = 0;
	json_t *m, *f;

	out[0] = '\0';
	json_array_foreach(msgs, i, m) {
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%lld:", i ? "|" : "",
				      (long long)json_integer_value(json_object_get(m, "uid")));
		json_array_foreach(json_object_get(m, "flags"), j, f)
			n += (size_t)snprintf(out + n, sizeof out - n, "%s ", json_string_value(f));
		json_array_foreach(json_object_get(m, "keywords"), j, f)
			n += (size_t)snprintf(out + n, sizeof out - n, "%s ", json_string_value(f));
	}
	return out;
}

/* The replay of a mailbox, described. */
static const char *replayed(struct mail_replay *r, const char *mailbox_id)
{
	json_t *mine = mail_replay_messages(r, mailbox_id);
	const char *d = describe(mine);

	json_decref(mine);
	return d;
}

/* The replay of the whole log and the view describe a mailbox the same. */
static int agrees(const char *mailbox_id)
{
	struct mail_replay *r = replay_at(BOB, INT64_MAX);
	json_t *theirs = NULL;
	const char *error = NULL;
	char a[1024];
	int same;

	if (mail_messages(view, BOB, mailbox_id, 0, &theirs, &error) < 0)
		abort();
	snprintf(a, sizeof a, "%s", replayed(r, mailbox_id));
	same = strcmp(a, describe(theirs)) == 0;
	if (!same)
		fprintf(stderr, "replay %s\n   view %s\n", a, describe(theirs));
	json_decref(theirs);
	mail_replay_free(&r);
	return same;
}

static void id_of(const char *name, char id[33])
{
	json_t *mb = NULL;
	const char *error = NULL;

	if (mail_mailbox_by_name(view, BOB, name, &mb, &error) != 1)
		abort();
	snprintf(id, 33, "%s", json_string_value(json_object_get(mb, "id")));
	json_decref(mb);
}

static json_t *store(const char *mbox, json_int_t lo, json_int_t hi, const char *action, json_t *flags)
{
	return json_pack("{s:s, s:[[I,I]], s:s, s:o}", "mailbox_id", mbox, "uids", lo, hi, "action", action,
			 "flags", flags);
}

static json_t *uids_to(const char *mbox, json_int_t lo, json_int_t hi, const char *to)
{
	json_t *d = json_pack("{s:s, s:[[I,I]]}", "mailbox_id", mbox, "uids", lo, hi);

	if (to != NULL)
		json_object_set_new(d, "to_mailbox_id", json_string(to));
	return d;
}

static void test_replay(void)
{
	const char *error;
	char inbox[33], work[33], id[33];
	struct mail_replay *r, *before_any, *then;
	json_t *msgs, *boxes;
	int64_t t_then;

	if (view_open(test_tmpdir("replay"), &view, &error) < 0)
		exit(2);
	recorded = json_array();
	/* five messages, two with flags as they arrive */
	for (int i = 0; i < 5; i++)
		CHECK_EQ_STR(run("message.append", append_data("INBOX", (char)('a' + i), i < 2)),
			     "accepted");
	id_of("INBOX", inbox);
	CHECK_EQ_STR(run("mailbox.create", json_pack("{s:s, s:s, s:s}", "mailbox_id",
						  "0123456789abcdef0123456789abcdef", "name", "Work",
						  "special_use", "")), "accepted");
	id_of("Work", work);
	CHECK_EQ_STR(run("message.store", store(inbox, 2, 3, "add", json_pack("[s]", "\\flagged"))), "accepted");
	CHECK_EQ_STR(run("message.copy", uids_to(inbox, 1, 1, work)), "accepted");
	CHECK(agrees(inbox));
	CHECK(agrees(work));
	t_then = now_ts();
	/* later: a move, \Deleted on three and their expunge, a store over
	 * every UID (1:*), a rename, a rejected event (changes nothing) */
	CHECK_EQ_STR(run("message.move", uids_to(inbox, 5, 5, work)), "accepted");
	CHECK_EQ_STR(run("message.store", store(inbox, 1, 3, "add", json_pack("[s]", "\\Deleted"))), "accepted");
	CHECK_EQ_STR(run("message.expunge", uids_to(inbox, 1, 3, NULL)), "accepted");
	CHECK_EQ_STR(run("message.store", store(inbox, 1, 4294967295LL, "set", json_pack("[s]", "$Later"))), "accepted");
	CHECK_EQ_STR(run("message.store", store(work, 1, 4294967295LL, "remove", json_pack("[s]", "$work"))), "accepted");
	CHECK_EQ_STR(run("mailbox.rename", json_pack("{s:s, s:s}", "mailbox_id", work, "name", "Projects")), "accepted");
	CHECK_EQ_STR(run("message.expunge", uids_to("ffffffffffffffffffffffffffffffff", 1, 1, NULL)), "not-found");
	CHECK(agrees(inbox));
	CHECK(agrees(work));
	r = replay_at(BOB, INT64_MAX);
	CHECK_EQ_INT(mail_replay_mailbox_by_name(r, "Projects", id), 1);
	CHECK_EQ_STR(id, work);
	CHECK_EQ_INT(mail_replay_mailbox_by_name(r, "Work", id), 0);
	CHECK_EQ_INT(mail_replay_mailbox_by_name(r, "inbox", id), 1);
	CHECK_EQ_STR(id, inbox);
	mail_replay_free(&r);
	/* then Projects goes */
	CHECK_EQ_STR(run("mailbox.delete", json_pack("{s:s}", "mailbox_id", work)), "accepted");
	r = replay_at(BOB, INT64_MAX);
	boxes = mail_replay_mailboxes(r);
	CHECK_EQ_INT(json_array_size(boxes), 6);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(boxes, 0), "name")), "Archive");
	json_decref(boxes);
	msgs = mail_replay_messages(r, work);
	CHECK_EQ_INT(json_array_size(msgs), 0);
	json_decref(msgs);
	mail_replay_free(&r);

	/* At t_then: the five in INBOX with the flags they had, the copy in
	 * Work, which was called Work. */
	then = replay_at(BOB, t_then);
	CHECK_EQ_STR(replayed(then, inbox), "1:\\Seen $Work |2:\\Flagged \\Seen $Work |3:\\Flagged |4:|5:");
	CHECK_EQ_STR(replayed(then, work), "1:\\Seen $Work ");
	CHECK_EQ_INT(mail_replay_mailbox_by_name(then, "Work", id), 1);
	CHECK_EQ_STR(id, work);
	msgs = mail_replay_messages(then, inbox);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(msgs, 0), "internal_date")), 1690000000000LL);
	CHECK_EQ_INT(strspn(json_string_value(json_object_get(json_array_get(msgs, 4), "blob_id")), "e"), 64);
	CHECK(json_is_object(json_object_get(json_array_get(msgs, 4), "summary")));
	CHECK(json_is_string(json_object_get(json_array_get(msgs, 4), "email_id")));
	json_decref(msgs);
	mail_replay_free(&then);

	/* before anything: nothing, not even the default mailboxes */
	before_any = replay_at(BOB, T0 - 1);
	boxes = mail_replay_mailboxes(before_any);
	CHECK_EQ_INT(json_array_size(boxes), 0);
	json_decref(boxes);
	mail_replay_free(&before_any);
	/* another account's replay ignores bob's events */
	r = replay_at("alice@acme.test", INT64_MAX);
	boxes = mail_replay_mailboxes(r);
	CHECK_EQ_INT(json_array_size(boxes), 0);
	json_decref(boxes);
	mail_replay_free(&r);
	/* account.purge, then mail again: the replay starts over as the view
	 * does, and before the purge still sees the old store. */
	t_then = now_ts();
	CHECK_EQ_STR(run("account.purge", json_object()), "accepted");
	CHECK_EQ_STR(run("message.append", append_data("INBOX", 'f', 0)), "accepted");
	id_of("INBOX", id);
	CHECK(strcmp(id, inbox) != 0);
	CHECK(agrees(id));
	r = replay_at(BOB, INT64_MAX);
	CHECK_EQ_INT(mail_replay_mailbox_by_name(r, "INBOX", work), 1);
	CHECK_EQ_STR(work, id);
	mail_replay_free(&r);
	then = replay_at(BOB, t_then);
	CHECK_EQ_STR(replayed(then, inbox), "4:$Later ");
	mail_replay_free(&then);
	json_decref(recorded);
	recorded = NULL;
	view_close(&view);
}

int main(void)
{
	test_run("replay agrees with the appliers, and at an earlier time", test_replay);
	json_decref(env.result);
	return test_done();
}

/* test_mail_jmap - JMAP change tracking, email locations and threads
 * (projector/mail_jmap.h) against a real view: created / updated /
 * destroyed per type, states as log positions, paging inside one modseq,
 * copies and expunges, threads from In-Reply-To and References, and equal
 * digests on replay. */
#include "projector/applier.h"
#include "projector/test_apply.h"
#include "projector/mail.h"
#include "projector/mail_jmap.h"
#include "tests/unit/testlib.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"
#define MB1 "11111111111111111111111111111111"
#define MB2 "22222222222222222222222222222222"

static struct view *view;
static int64_t next_offset;
static struct apply_env env = { &next_offset, 0xa0b000, "", 0, NULL, "" };

static const char *run_on(struct view *v, const char *type, json_t *data)
{
	return apply_event(&env, v, type, BOB, data);
}

static const char *run(const char *type, json_t *data)
{
	return run_on(view, type, data);
}

static struct view *open_at(const char *name)
{
	struct view *v = NULL;
	const char *error;

	if (view_open(test_tmpdir(name), &v, &error) < 0)
		exit(2);
	return v;
}

static void fresh(const char *name)
{
	view_close(&view);
	next_offset = 0;
	view = open_at(name);
}

/* A summary with the headers threading reads (NULL: none). */
static json_t *summary(const char *msgid, const char *irt, const char *ref1, const char *ref2)
{
	json_t *h = json_pack("{s:[s], s:[], s:[]}", "message_id", msgid, "in_reply_to", "references");

	if (irt != NULL)
		json_array_append_new(json_object_get(h, "in_reply_to"), json_string(irt));
	if (ref1 != NULL)
		json_array_append_new(json_object_get(h, "references"), json_string(ref1));
	if (ref2 != NULL)
		json_array_append_new(json_object_get(h, "references"), json_string(ref2));
	return json_pack("{s:I, s:o, s:{s:s}}", "size", (json_int_t)10, "headers", h, "thread",
			 "base_subject", "hello");
}

/* Appends to a mailbox (an id, or "INBOX") a blob numbered n; returns the
 * email id (static). */
static const char *append_on(struct view *v, const char *mailbox, int n, json_t *sum, int64_t date)
{
	static char email[33];
	char blob[65];
	json_t *d;

	snprintf(blob, sizeof blob, "%064d", n);
	d = json_pack("{s:s, s:I, s:s, s:I, s:o, s:[], s:[]}", "blob_id", blob, "blob_size",
		      (json_int_t)100, "prefix", "", "internal_date", (json_int_t)date, "summary", sum,
		      "flags", "keywords");
	json_object_set_new(d, strlen(mailbox) == 32 ? "mailbox_id" : "mailbox", json_string(mailbox));
	if (strcmp(run_on(v, "message.append", d), "accepted") != 0)
		return "(rejected)";
	snprintf(email, sizeof email, "%s", json_string_value(json_object_get(env.result, "email_id")));
	return email;
}

static const char *append(const char *mailbox, int n, json_t *sum, int64_t date)
{
	return append_on(view, mailbox, n, sum, date);
}

static int64_t state(enum mail_jtype t)
{
	const char *error;
	int64_t s = -1;

	if (mail_jmap_state(view, BOB, t, &s, &error) < 0) {
		fprintf(stderr, "mail_jmap_state: %s\n", error);
		abort();
	}
	return s;
}

/* Collected changes: "c:<id>" / "u:<id>" / "d:<id>" joined by spaces. */
struct got {
	char text[4096];
	char last_id[33];
	int64_t last_modseq;
};

static int got_cb(void *ctx, const struct mail_jchange *c)
{
	struct got *g = ctx;
	size_t len = strlen(g->text);

	snprintf(g->text + len, sizeof g->text - len, "%s%c:%.6s", len ? " " : "",
		 c->destroyed ? 'd' : c->created ? 'c' : 'u', c->id);
	snprintf(g->last_id, sizeof g->last_id, "%s", c->id);
	g->last_modseq = c->modseq;
	return 0;
}

/* Changes of t after (since, since_id); returns the text, *more_r. */
static const char *changes(enum mail_jtype t, int64_t since, const char *since_id, size_t max,
			   int *more_r, struct got *g)
{
	const char *error;

	memset(g, 0, sizeof *g);
	if (mail_jmap_changes(view, BOB, t, since, since_id, max, got_cb, g, more_r, &error) < 0) {
		fprintf(stderr, "mail_jmap_changes: %s\n", error);
		abort();
	}
	return g->text;
}

static size_t locations(const char *email)
{
	const char *error;
	json_t *locs = json_array();
	size_t n;

	if (mail_jmap_email_locations(view, BOB, email, locs, &error) < 0) {
		fprintf(stderr, "mail_jmap_email_locations: %s\n", error);
		abort();
	}
	n = json_array_size(locs);
	json_decref(locs);
	return n;
}

static void test_email_lifecycle(void)
{
	char e1[33], expect[64];
	struct got g;
	int more;
	int64_t s0, s1, s2;

	fresh("jmap-life");
	CHECK_EQ_INT(state(MAIL_J_EMAIL), 0);
	CHECK_EQ_INT(state(MAIL_J_MAILBOX), 0);
	snprintf(e1, sizeof e1, "%s", append("INBOX", 1, summary("a@x", NULL, NULL, NULL), 1000));
	/* Provisioning created six mailboxes in the same event. */
	s0 = state(MAIL_J_EMAIL);
	CHECK(s0 > 0);
	CHECK_EQ_INT(state(MAIL_J_MAILBOX), s0);
	changes(MAIL_J_MAILBOX, 0, "", 100, &more, &g);
	CHECK_EQ_INT(strlen(g.text), 6 * 9 - 1);
	CHECK(strstr(g.text, "u:") == NULL && strstr(g.text, "d:") == NULL);
	snprintf(expect, sizeof expect, "c:%.6s", e1);
	CHECK_EQ_STR(changes(MAIL_J_EMAIL, 0, "", 100, &more, &g), expect);
	CHECK_EQ_INT(more, 0);
	CHECK_EQ_STR(changes(MAIL_J_EMAIL, s0, "", 100, &more, &g), "");
	CHECK_EQ_INT(locations(e1), 1);

	/* A flag change updates the email and its mailbox. */
	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Work"));
	CHECK_EQ_STR(changes(MAIL_J_MAILBOX, s0, "", 100, &more, &g), "c:111111");
	s1 = state(MAIL_J_MAILBOX);
	{
		const char *error;
		json_t *inbox = NULL;
		char inbox_id[33];

		CHECK_EQ_INT(mail_mailbox_by_name(view, BOB, "INBOX", &inbox, &error), 1);
		snprintf(inbox_id, sizeof inbox_id, "%s", json_string_value(json_object_get(inbox, "id")));
		json_decref(inbox);
		CHECK_EQ_STR(run("message.store", json_pack("{s:s, s:[[i,i]], s:s, s:[s]}", "mailbox_id",
							     inbox_id, "uids", 1, 1, "action", "add",
							     "flags", "\\Seen")),
			     "accepted");
		snprintf(expect, sizeof expect, "u:%.6s", e1);
		CHECK_EQ_STR(changes(MAIL_J_EMAIL, s0, "", 100, &more, &g), expect);
		snprintf(expect, sizeof expect, "u:%.6s", inbox_id);
		CHECK_EQ_STR(changes(MAIL_J_MAILBOX, s1, "", 100, &more, &g), expect);
		CHECK(state(MAIL_J_EMAIL) > s1);

		/* A copy: same email, two locations, updated not created. */
		s2 = state(MAIL_J_EMAIL);
		CHECK_EQ_STR(run("message.copy", json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", inbox_id,
							   "uids", 1, 1, "to_mailbox_id", MB1)),
			     "accepted");
		CHECK_EQ_INT(locations(e1), 2);
		snprintf(expect, sizeof expect, "u:%.6s", e1);
		CHECK_EQ_STR(changes(MAIL_J_EMAIL, s2, "", 100, &more, &g), expect);

		/* Expunging one copy updates it, the last destroys it. */
		s2 = state(MAIL_J_EMAIL);
		CHECK_EQ_STR(run("message.expunge", json_pack("{s:s, s:[[i,i]]}", "mailbox_id", inbox_id,
							      "uids", 1, 1)),
			     "accepted");
		CHECK_EQ_INT(locations(e1), 1);
		CHECK_EQ_STR(changes(MAIL_J_EMAIL, s2, "", 100, &more, &g), expect);
		s2 = state(MAIL_J_EMAIL);
		CHECK_EQ_STR(run("message.expunge", json_pack("{s:s, s:[[i,i]]}", "mailbox_id", MB1,
							      "uids", 1, 1)),
			     "accepted");
		CHECK_EQ_INT(locations(e1), 0);
		snprintf(expect, sizeof expect, "d:%.6s", e1);
		CHECK_EQ_STR(changes(MAIL_J_EMAIL, s2, "", 100, &more, &g), expect);
		/* Created and destroyed since the first state: not reported. */
		CHECK_EQ_STR(changes(MAIL_J_EMAIL, 0, "", 100, &more, &g), "");
		/* The same content again: created again. */
		s2 = state(MAIL_J_EMAIL);
		CHECK_EQ_STR(append("INBOX", 1, summary("a@x", NULL, NULL, NULL), 1000), e1);
		snprintf(expect, sizeof expect, "c:%.6s", e1);
		CHECK_EQ_STR(changes(MAIL_J_EMAIL, s2, "", 100, &more, &g), expect);
	}

	/* A deleted mailbox is destroyed. */
	s1 = state(MAIL_J_MAILBOX);
	CHECK_EQ_STR(run("mailbox.delete", json_pack("{s:s}", "mailbox_id", MB1)), "accepted");
	CHECK_EQ_STR(changes(MAIL_J_MAILBOX, s1, "", 100, &more, &g), "d:111111");
	/* A claim of \Recent is not a JMAP change. */
	s1 = state(MAIL_J_MAILBOX);
	CHECK_EQ_STR(run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB2, "name", "R")),
		     "accepted");
	s1 = state(MAIL_J_MAILBOX);
	append(MB2, 7, summary("r@x", NULL, NULL, NULL), 5000);
	s1 = state(MAIL_J_MAILBOX);
	CHECK_EQ_STR(run("mailbox.claim_recent", json_pack("{s:s}", "mailbox_id", MB2)), "accepted");
	CHECK_EQ_INT(state(MAIL_J_MAILBOX), s1);
}

/* Five emails changed by one event: pages of 2 inside one modseq. */
static void test_paging(void)
{
	struct got g;
	int more;
	int64_t s;
	char cursor[33], all[256] = "";

	fresh("jmap-paging");
	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Work"));
	for (int i = 1; i <= 5; i++) {
		char id[16];

		snprintf(id, sizeof id, "p%d@x", i);
		append(MB1, 10 + i, summary(id, NULL, NULL, NULL), 1000 + i);
	}
	s = state(MAIL_J_EMAIL);
	CHECK_EQ_STR(run("message.store", json_pack("{s:s, s:[[i,i]], s:s, s:[s]}", "mailbox_id", MB1,
						     "uids", 1, 5, "action", "add", "flags", "\\Flagged")),
		     "accepted");
	changes(MAIL_J_EMAIL, s, "", 2, &more, &g);
	CHECK_EQ_INT(more, 1);
	CHECK_EQ_INT(strlen(g.text), 2 * 8 + 1);
	strcat(all, g.text);
	snprintf(cursor, sizeof cursor, "%s", g.last_id);
	changes(MAIL_J_EMAIL, g.last_modseq, cursor, 2, &more, &g);
	CHECK_EQ_INT(more, 1);
	CHECK_EQ_INT(strlen(g.text), 2 * 8 + 1);
	strcat(all, " ");
	strcat(all, g.text);
	snprintf(cursor, sizeof cursor, "%s", g.last_id);
	changes(MAIL_J_EMAIL, g.last_modseq, cursor, 2, &more, &g);
	CHECK_EQ_INT(more, 0);
	CHECK_EQ_INT(strlen(g.text), 8);
	strcat(all, " ");
	strcat(all, g.text);
	/* All five, each once, all updates; nothing after the last. */
	CHECK_EQ_INT(strlen(all), 5 * 8 + 4);
	CHECK(strstr(all, "c:") == NULL);
	CHECK_EQ_INT(g.last_modseq, state(MAIL_J_EMAIL));
	snprintf(cursor, sizeof cursor, "%s", g.last_id);
	CHECK_EQ_STR(changes(MAIL_J_EMAIL, g.last_modseq, cursor, 2, &more, &g), "");
}

static void thread_of(const char *email, char tid[33])
{
	const char *error;
	int64_t rcv;

	CHECK_EQ_INT(mail_jmap_email_thread(view, BOB, email, tid, &rcv, &error), 1);
}

static void test_threads(void)
{
	char a[33], b[33], c[33], d[33], ta[33], tb[33], tc[33], td[33];
	const char *error;
	json_t *ids = json_array();
	struct got g;
	int more;
	int64_t s, rcv;

	fresh("jmap-threads");
	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Work"));
	snprintf(a, sizeof a, "%s", append(MB1, 1, summary("a@x", NULL, NULL, NULL), 3000));
	snprintf(b, sizeof b, "%s", append(MB1, 2, summary("b@x", "a@x", "a@x", NULL), 2000));
	snprintf(c, sizeof c, "%s", append(MB1, 3, summary("c@x", NULL, "zz@x", "b@x"), 1000));
	snprintf(d, sizeof d, "%s", append(MB1, 4, summary("d@x", "nobody@x", NULL, NULL), 4000));
	thread_of(a, ta);
	thread_of(b, tb);
	thread_of(c, tc);
	thread_of(d, td);
	/* A's thread is its own id; B replies to A, C refers to B (nearest
	 * reference first), D to nobody known. */
	CHECK_EQ_STR(ta, a);
	CHECK_EQ_STR(tb, a);
	CHECK_EQ_STR(tc, a);
	CHECK_EQ_STR(td, d);
	/* Oldest received first. */
	CHECK_EQ_INT(mail_jmap_thread_emails(view, BOB, ta, ids, &error), 1);
	CHECK_EQ_INT(json_array_size(ids), 3);
	CHECK_EQ_STR(json_string_value(json_array_get(ids, 0)), c);
	CHECK_EQ_STR(json_string_value(json_array_get(ids, 2)), a);
	json_array_clear(ids);
	/* A leaves: the thread is updated; D leaves: its thread is destroyed. */
	s = state(MAIL_J_THREAD);
	CHECK_EQ_STR(run("message.expunge", json_pack("{s:s, s:[[i,i]]}", "mailbox_id", MB1, "uids", 1, 1)),
		     "accepted");
	CHECK_EQ_INT(mail_jmap_thread_emails(view, BOB, ta, ids, &error), 1);
	CHECK_EQ_INT(json_array_size(ids), 2);
	CHECK_EQ_INT(mail_jmap_email_thread(view, BOB, a, ta, &rcv, &error), 0);
	s = state(MAIL_J_THREAD);
	CHECK_EQ_STR(run("message.expunge", json_pack("{s:s, s:[[i,i]]}", "mailbox_id", MB1, "uids", 4, 4)),
		     "accepted");
	{
		char expect[16];

		snprintf(expect, sizeof expect, "d:%.6s", d);
		CHECK_EQ_STR(changes(MAIL_J_THREAD, s, "", 100, &more, &g), expect);
	}
	json_array_clear(ids);
	CHECK_EQ_INT(mail_jmap_thread_emails(view, BOB, td, ids, &error), 0);
	/* Bad ids are simply not found. */
	CHECK_EQ_INT(mail_jmap_thread_emails(view, BOB, "../x", ids, &error), 0);
	CHECK_EQ_INT(mail_jmap_email_locations(view, BOB, "ZZ", ids, &error), 0);
	json_decref(ids);
}

static const char *received(const char *mailbox)
{
	static char out[512];
	struct mail_jrcv *v = NULL;
	const char *error;
	size_t n = 0;

	out[0] = '\0';
	if (mail_jmap_received(view, BOB, mailbox, 0, 0, &v, &n, &error) < 0)
		abort();
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld:%.4s", i ? " " : "",
			 (long long)v[i].received, v[i].id);
	free(v);
	return out;
}

/* The emails past a received time, "<ms>:<id 4>" each (the resumed read). */
static const char *received_past(const char *mailbox, int newest, int64_t past, size_t max)
{
	static char out[512];
	struct mail_jrcv *v = NULL;
	const char *error;
	size_t n = 0;

	out[0] = '\0';
	if (mail_jmap_received_past(view, BOB, mailbox, newest, &past, max, &v, &n, &error) < 0)
		abort();
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld:%.4s", i ? " " : "",
			 (long long)v[i].received, v[i].id);
	free(v);
	return out;
}

/* The received-time indexes: oldest first, a mailbox lists an email once
 * whatever its copies there, and follows copies, moves and expunges. */
static void test_received(void)
{
	char a[33], b[33], exp[256];

	fresh("jmap-received");
	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "A"));
	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB2, "name", "B"));
	snprintf(b, sizeof b, "%s", append(MB1, 2, summary("rb@x", NULL, NULL, NULL), 5000));
	snprintf(a, sizeof a, "%s", append(MB1, 1, summary("ra@x", NULL, NULL, NULL), 3000));
	snprintf(exp, sizeof exp, "3000:%.4s 5000:%.4s", a, b);
	CHECK_EQ_STR(received(MB1), exp);
	CHECK_EQ_STR(received(NULL), exp);
	CHECK_EQ_STR(received(MB2), "");
	/* Resumed past a time, either way; nothing past the ends. */
	snprintf(exp, sizeof exp, "5000:%.4s", b);
	CHECK_EQ_STR(received_past(NULL, 0, 3000, 1), exp);
	CHECK_EQ_STR(received_past(MB1, 0, 4999, 1), exp);
	CHECK_EQ_STR(received_past(MB1, 0, 5000, 1), "");
	snprintf(exp, sizeof exp, "3000:%.4s", a);
	CHECK_EQ_STR(received_past(NULL, 1, 5000, 1), exp);
	CHECK_EQ_STR(received_past(MB1, 1, 3001, 1), exp);
	CHECK_EQ_STR(received_past(MB1, 1, 3000, 1), "");
	CHECK_EQ_STR(received_past(MB1, 1, 0, 1), "");
	CHECK_EQ_STR(received_past(NULL, 1, 5000, 0), exp);   /* all: a forward scan turned around */
	snprintf(exp, sizeof exp, "5000:%.4s 3000:%.4s", b, a);
	CHECK_EQ_STR(received_past(NULL, 1, 5001, 0), exp);
	snprintf(exp, sizeof exp, "5000:%.4s", b);
	CHECK_EQ_STR(received_past(NULL, 1, 5001, 1), exp);
	/* Two copies of a in B (copy, then the same content appended again,
	 * later: the email keeps its first received time). */
	CHECK_EQ_STR(run("message.copy", json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", MB1, "uids", 2, 2,
						   "to_mailbox_id", MB2)), "accepted");
	append(MB2, 1, summary("ra@x", NULL, NULL, NULL), 9000);
	snprintf(exp, sizeof exp, "3000:%.4s", a);
	CHECK_EQ_STR(received(MB2), exp);
	/* One copy leaves B: a is still there; the other leaves: gone. */
	CHECK_EQ_STR(run("message.expunge", json_pack("{s:s, s:[[i,i]]}", "mailbox_id", MB2, "uids", 1, 1)),
		     "accepted");
	CHECK_EQ_STR(received(MB2), exp);
	CHECK_EQ_STR(run("message.move", json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", MB2, "uids", 2, 2,
						   "to_mailbox_id", MB1)), "accepted");
	CHECK_EQ_STR(received(MB2), "");
	snprintf(exp, sizeof exp, "3000:%.4s 5000:%.4s", a, b);
	CHECK_EQ_STR(received(MB1), exp);
	/* Expunged everywhere: out of the account's index too. */
	CHECK_EQ_STR(run("message.expunge", json_pack("{s:s, s:[[i,i]]}", "mailbox_id", MB1, "uids", 1, 1)),
		     "accepted");
	snprintf(exp, sizeof exp, "3000:%.4s", a);
	CHECK_EQ_STR(received(NULL), exp);
	CHECK_EQ_STR(received("not-an-id"), "");
}

static void workload(struct view *v)
{
	run_on(v, "mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "A"));
	run_on(v, "mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB2, "name", "B"));
	for (int i = 0; i < 40; i++) {
		char id[16], parent[16];

		snprintf(id, sizeof id, "w%d@x", i);
		snprintf(parent, sizeof parent, "w%d@x", i / 3);
		append_on(v, i % 2 ? MB1 : MB2, 100 + i % 25, summary(id, parent, NULL, NULL), 1000 + i);
		if (i % 7 == 0)
			run_on(v, "message.copy", json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", MB2,
							    "uids", 1, 3, "to_mailbox_id", MB1));
		if (i % 9 == 0)
			run_on(v, "message.expunge", json_pack("{s:s, s:[[i,i]]}", "mailbox_id", MB1,
							       "uids", 1, 4));
	}
	run_on(v, "mailbox.delete", json_pack("{s:s}", "mailbox_id", MB2));
}

static void test_determinism(void)
{
	char d1[65], d2[65];
	const char *error;
	uint64_t k1, k2;
	struct view *v2;

	fresh("jmap-det-1");
	workload(view);
	next_offset = 0;
	v2 = open_at("jmap-det-2");
	workload(v2);
	CHECK_EQ_INT(view_digest(view, d1, &k1, &error), 0);
	CHECK_EQ_INT(view_digest(v2, d2, &k2, &error), 0);
	view_close(&v2);
	CHECK_EQ_INT(k1, k2);
	CHECK_EQ_STR(d1, d2);
}

int main(void)
{
	test_run("JMAP changes: create, update, copy, expunge, destroy", test_email_lifecycle);
	test_run("JMAP changes: pages inside one modseq", test_paging);
	test_run("JMAP threads: In-Reply-To, References, leaving", test_threads);
	test_run("JMAP received-time indexes", test_received);
	test_run("JMAP index: equal digests on replay", test_determinism);
	view_close(&view);
	json_decref(env.result);
	return test_done();
}

/* test_jmap_mail - the JMAP Mail read methods against a real view filled
 * by the real appliers: Mailbox/get (names, parents, roles, counts,
 * subscriptions), Mailbox/Email/Thread changes with paging and states as
 * log positions, Thread/get, and the errors a client can provoke. */
#include "gateway/jmap/jmap_mail.h"
#include "common/mime.h"
#include "projector/mail.h"
#include "projector/applier.h"
#include "projector/test_apply.h"
#include "tests/unit/testlib.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"
#define MB1 "11111111111111111111111111111111"
#define MB2 "22222222222222222222222222222222"
#define USING "\"using\":[\"urn:ietf:params:jmap:core\",\"urn:ietf:params:jmap:mail\"]"

static struct view *view;
static int64_t next_offset;
static struct apply_env env = { &next_offset, 0xb0b000, "acme", 0, NULL, "" };
static struct event_base *base;
static struct jmap_api *api;
static struct node node;
static struct jmap_mail_req req;
static struct jmap_account account;
static struct jmap_user user;

static const char *run(const char *type, json_t *data)
{
	return apply_event(&env, view, type, BOB, data);
}

/* Appends a real message (parsed like ingest does) to a mailbox at a
 * given internal date. */
static const char *append_at(const char *mailbox, int n, const char *raw, int64_t date)
{
	static char email[33];
	char blob[65];
	json_t *d;

	snprintf(blob, sizeof blob, "%064d", n);
	d = json_pack("{s:s, s:I, s:s, s:I, s:o, s:[], s:[]}", "blob_id", blob, "blob_size",
		      (json_int_t)strlen(raw), "prefix", "", "internal_date", (json_int_t)date,
		      "summary", mime_parse(raw, strlen(raw), NULL), "flags", "keywords");
	json_object_set_new(d, strlen(mailbox) == 32 ? "mailbox_id" : "mailbox", json_string(mailbox));
	if (strcmp(run("message.append", d), "accepted") != 0)
		return "(rejected)";
	snprintf(email, sizeof email, "%s", json_string_value(json_object_get(env.result, "email_id")));
	return email;
}

static const char *append(const char *mailbox, int n, const char *raw)
{
	return append_at(mailbox, n, raw, 1000 + n);
}

struct result {
	int done, status;
	json_t *body;
};

static void done_cb(void *arg, int status, json_t *body)
{
	struct result *r = arg;

	r->done++;
	r->status = status;
	r->body = json_deep_copy(body);
}

/* Runs one request (methodCalls given) and returns the first response's
 * arguments (owned by the static result), or NULL. */
static struct result last;

static json_t *call(const char *method_calls)
{
	struct jmap_run_params p = { .user = &user, .session_state = "s", .request_ctx = &req };
	char body[4096];

	json_decref(last.body);
	memset(&last, 0, sizeof last);
	snprintf(body, sizeof body, "{" USING ",\"methodCalls\":%s}", method_calls);
	jmap_api_run(api, &p, "application/json", body, strlen(body), done_cb, &last);
	event_base_dispatch(base);
	if (last.done != 1 || last.status != 200)
		return NULL;
	return json_array_get(json_array_get(json_object_get(last.body, "methodResponses"), 0), 1);
}

static const char *resp_name(void)
{
	return json_string_value(json_array_get(json_array_get(json_object_get(last.body,
									       "methodResponses"), 0), 0));
}

static const char *sget(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "(none)";
}

/* The Mailbox object of that name in a Mailbox/get answer. */
static json_t *by_name(json_t *args, const char *name)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(args, "list"), i, m)
		if (strcmp(sget(m, "name"), name) == 0)
			return m;
	return NULL;
}

static void setup(void)
{
	struct jmap_settings s;
	const char *error;

	if (view_open(test_tmpdir("jmap-mail"), &view, &error) < 0)
		exit(2);
	base = event_base_new();
	jmap_settings_default(&s);
	api = jmap_api_new(base, &s);
	jmap_mail_register(api);
	node.view = view;
	req.refs = 1;
	req.node = &node;
	snprintf(req.address, sizeof req.address, "%s", BOB);
	snprintf(req.tenant, sizeof req.tenant, "acme");
	jmap_account_id(BOB, req.account_id);
	snprintf(req.actor, sizeof req.actor, "jmap:test");
	jmap_mail_account(&req, &account);
	user.username = BOB;
	user.accounts = &account;
	user.naccounts = 1;
}

static void test_mailboxes(void)
{
	char q[512];
	json_t *a, *inbox, *child, *work;

	append("INBOX", 1, "Subject: one\r\nMessage-ID: <1@x>\r\n\r\nhello\r\n");
	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Work"));
	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB2, "name", "Work/a/b"));
	run("mailbox.subscribe", json_pack("{s:s, s:b}", "name", "Work", "subscribed", 1));
	snprintf(q, sizeof q, "[[\"Mailbox/get\",{\"accountId\":\"%s\"},\"c1\"]]", req.account_id);
	a = call(q);
	CHECK(a != NULL);
	CHECK_EQ_STR(resp_name(), "Mailbox/get");
	CHECK_EQ_INT(json_array_size(json_object_get(a, "list")), 8);
	inbox = by_name(a, "INBOX");
	CHECK(inbox != NULL);
	CHECK_EQ_STR(sget(inbox, "role"), "inbox");
	CHECK_EQ_INT(json_integer_value(json_object_get(inbox, "totalEmails")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(inbox, "unreadEmails")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(inbox, "totalThreads")), 1);
	CHECK(json_is_false(json_object_get(json_object_get(inbox, "myRights"), "mayDelete")));
	CHECK(json_is_true(json_object_get(inbox, "isSubscribed")));
	CHECK_EQ_STR(sget(by_name(a, "Sent"), "role"), "sent");
	/* "Work/a/b" without "Work/a": its name is "a/b" under Work. */
	work = by_name(a, "Work");
	child = by_name(a, "a/b");
	CHECK(work != NULL && child != NULL);
	CHECK_EQ_STR(sget(child, "parentId"), MB1);
	CHECK(json_is_null(json_object_get(work, "parentId")));
	CHECK(json_is_true(json_object_get(work, "isSubscribed")));
	CHECK(json_is_false(json_object_get(child, "isSubscribed")));
	/* ids and properties: the unknown id is notFound, only what was asked. */
	snprintf(q, sizeof q, "[[\"Mailbox/get\",{\"accountId\":\"%s\",\"ids\":[\"%s\",\"nope\"],"
		 "\"properties\":[\"name\"]},\"c1\"]]", req.account_id, MB1);
	a = call(q);
	CHECK(a != NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "list")), 1);
	CHECK_EQ_INT(json_object_size(json_array_get(json_object_get(a, "list"), 0)), 2);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(a, "notFound"), 0)), "nope");
	/* Another account's id is not found; a bad property is invalid. */
	a = call("[[\"Mailbox/get\",{\"accountId\":\"a000000000000000000000000\"},\"c1\"]]");
	CHECK_EQ_STR(resp_name(), "error");
	CHECK_EQ_STR(sget(a, "type"), "accountNotFound");
	snprintf(q, sizeof q, "[[\"Mailbox/get\",{\"accountId\":\"%s\",\"properties\":[\"bogus\"]},\"c1\"]]",
		 req.account_id);
	a = call(q);
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");
}

static void test_changes(void)
{
	char q[512], state[64], e2[33], e3[33];
	json_t *a;

	snprintf(q, sizeof q, "[[\"Email/changes\",{\"accountId\":\"%s\",\"sinceState\":\"0\"},\"c\"]]",
		 req.account_id);
	a = call(q);
	CHECK(a != NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "created")), 1);
	snprintf(state, sizeof state, "%s", sget(a, "newState"));
	/* A reply and an unrelated message in one more event each. */
	snprintf(e2, sizeof e2, "%s", append(MB1, 2, "Subject: re\r\nMessage-ID: <2@x>\r\nIn-Reply-To: <1@x>\r\n\r\nx\r\n"));
	snprintf(e3, sizeof e3, "%s", append(MB1, 3, "Subject: other\r\nMessage-ID: <3@x>\r\n\r\ny\r\n"));
	snprintf(q, sizeof q, "[[\"Email/changes\",{\"accountId\":\"%s\",\"sinceState\":\"%s\",\"maxChanges\":1},\"c\"]]",
		 req.account_id, state);
	a = call(q);
	CHECK(a != NULL);
	CHECK(json_is_true(json_object_get(a, "hasMoreChanges")));
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(a, "created"), 0)), e2);
	snprintf(q, sizeof q, "[[\"Email/changes\",{\"accountId\":\"%s\",\"sinceState\":\"%s\"},\"c\"]]",
		 req.account_id, sget(a, "newState"));
	a = call(q);
	CHECK(a != NULL);
	CHECK(json_is_false(json_object_get(a, "hasMoreChanges")));
	CHECK_EQ_INT(json_array_size(json_object_get(a, "created")), 1);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(a, "created"), 0)), e3);
	/* Nothing since the newest state. */
	snprintf(q, sizeof q, "[[\"Email/changes\",{\"accountId\":\"%s\",\"sinceState\":\"%s\"},\"c\"]]",
		 req.account_id, sget(a, "newState"));
	snprintf(state, sizeof state, "%s", sget(a, "newState"));
	a = call(q);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "created")) + json_array_size(json_object_get(a, "updated")), 0);
	CHECK_EQ_STR(sget(a, "newState"), state);
	/* Mailbox/changes has updatedProperties null. */
	snprintf(q, sizeof q, "[[\"Mailbox/changes\",{\"accountId\":\"%s\",\"sinceState\":\"0\"},\"c\"]]",
		 req.account_id);
	a = call(q);
	CHECK(json_is_null(json_object_get(a, "updatedProperties")));
	CHECK(json_object_get(a, "updatedProperties") != NULL);
	/* States that are not ours, or ahead of the view. */
	snprintf(q, sizeof q, "[[\"Email/changes\",{\"accountId\":\"%s\",\"sinceState\":\"abc\"},\"c\"]]",
		 req.account_id);
	CHECK_EQ_STR(sget(call(q), "type"), "cannotCalculateChanges");
	snprintf(q, sizeof q, "[[\"Email/changes\",{\"accountId\":\"%s\",\"sinceState\":\"99999999\"},\"c\"]]",
		 req.account_id);
	CHECK_EQ_STR(sget(call(q), "type"), "cannotCalculateChanges");
	snprintf(q, sizeof q, "[[\"Email/changes\",{\"accountId\":\"%s\",\"sinceState\":\"007\"},\"c\"]]",
		 req.account_id);
	CHECK_EQ_STR(sget(call(q), "type"), "cannotCalculateChanges");
	/* Thread/get: the reply joined the first message's thread. */
	{
		char tq[512];
		json_t *t;

		snprintf(tq, sizeof tq, "[[\"Thread/get\",{\"accountId\":\"%s\",\"ids\":[\"%s\",\"%s\"]},\"c\"]]",
			 req.account_id, e3, e2);
		a = call(tq);
		CHECK(a != NULL);
		CHECK_EQ_INT(json_array_size(json_object_get(a, "list")), 1);
		CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(a, "notFound"), 0)), e2);
		t = json_array_get(json_object_get(a, "list"), 0);
		CHECK_EQ_INT(json_array_size(json_object_get(t, "emailIds")), 1);
		snprintf(tq, sizeof tq, "[[\"Thread/get\",{\"accountId\":\"%s\"},\"c\"]]", req.account_id);
		CHECK_EQ_STR(sget(call(tq), "type"), "requestTooLarge");
	}
}

/* The ids of an Email/query answer, as one string (static). */
static const char *query_ids_window(const char *filter, const char *sort, const char *window)
{
	static char out[2048];
	char q[1024];
	json_t *a, *v;
	size_t i;

	snprintf(q, sizeof q, "[[\"Email/query\",{\"accountId\":\"%s\"%s%s%s%s%s},\"q\"]]", req.account_id,
		 filter ? ",\"filter\":" : "", filter ? filter : "", sort ? ",\"sort\":" : "", sort ? sort : "",
		 window);
	a = call(q);
	out[0] = '\0';
	if (a == NULL || json_object_get(a, "ids") == NULL)
		return "(error)";
	json_array_foreach(json_object_get(a, "ids"), i, v)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%.6s", i ? " " : "", json_string_value(v));
	return out;
}

static const char *query_ids(const char *filter, const char *sort)
{
	return query_ids_window(filter, sort, "");
}

/* The indexed Email/query (inMailbox or nothing, receivedAt) answers
 * exactly what the general engine answers, ties included: the same
 * filter wrapped in an AND operator takes the general path. */
static void test_indexed_query(void)
{
	static const char *const sorts[] = {
		NULL, "[{\"property\":\"receivedAt\"}]", "[{\"property\":\"receivedAt\",\"isAscending\":false}]",
	};
	char fast[2048], inbox_f[200], and_f[300];
	json_t *inbox = NULL;
	const char *error;

	for (int i = 0; i < 12; i++) {
		char raw[200];

		snprintf(raw, sizeof raw, "Subject: tie %d\r\nMessage-ID: <tie%d@x>\r\n\r\nx\r\n", i, i);
		append_at(i % 3 ? "INBOX" : MB1, 100 + i, raw, 500000 + (i / 4) * 1000);
	}
	CHECK_EQ_INT(mail_mailbox_by_name(view, BOB, "INBOX", &inbox, &error), 1);
	snprintf(inbox_f, sizeof inbox_f, "{\"inMailbox\":\"%s\"}", json_string_value(json_object_get(inbox, "id")));
	snprintf(and_f, sizeof and_f, "{\"operator\":\"AND\",\"conditions\":[%s]}", inbox_f);
	json_decref(inbox);
	for (size_t k = 0; k < 3; k++) {
		snprintf(fast, sizeof fast, "%s", query_ids(inbox_f, sorts[k]));
		CHECK(strlen(fast) > 50);
		CHECK_EQ_STR(fast, query_ids(and_f, sorts[k]));
		snprintf(fast, sizeof fast, "%s", query_ids(NULL, sorts[k]));
		CHECK_EQ_STR(fast, query_ids("{\"operator\":\"AND\",\"conditions\":[]}", sorts[k]));
		/* A page read from one end of the index, stopping inside a run of
		 * equal received times. */
		for (int w = 0; w < 4; w++) {
			static const char *const windows[] = {
				",\"limit\":2", ",\"position\":1,\"limit\":2", ",\"position\":3,\"limit\":1",
				",\"limit\":2,\"calculateTotal\":true",
			};

			snprintf(fast, sizeof fast, "%s", query_ids_window(NULL, sorts[k], windows[w]));
			CHECK(strlen(fast) > 0);
			CHECK_EQ_STR(fast, query_ids_window("{\"operator\":\"AND\",\"conditions\":[]}", sorts[k],
							    windows[w]));
		}
	}
}

/* RFC 8620 1.4 UTCDate: RFC 3339 date-time in UTC ("Z"), strictly. */
static void test_utcdate(void)
{
	static const char *const bad[] = {
		"-024-01-02T03:04:04Z",    /* found by fuzz_jmap_blob_args: wrapped into an overflow */
		"+024-01-02T03:04:04Z", " 2024-01-02T03:04:04Z", "2024-1-02T03:04:04Z",
		"2024-01-02T03:04:04", "2024-01-02T03:04:04+01:00", "2024-02-30T00:00:00Z",
		"2023-02-29T00:00:00Z", "1969-12-31T23:59:59Z", "2024-01-02T24:00:00Z",
		"2024-01-02T03:04:04.Z", "2024-01-02T03:04:04.1234567890Z", "",
	};
	int64_t ms = 0;

	CHECK(jmap_utcdate_parse("1970-01-01T00:00:00Z", &ms) == 0 && ms == 0);
	CHECK(jmap_utcdate_parse("2024-02-29T12:00:00.5Z", &ms) == 0 && ms == 1709208000500);
	CHECK(jmap_utcdate_parse("9999-12-31T23:59:59.999Z", &ms) == 0 && ms == 253402300799999);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (jmap_utcdate_parse(bad[i], &ms) == 0)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK(jmap_utcdate_parse(bad[i], &ms) < 0);
	}
	CHECK(jmap_utcdate_parse(NULL, &ms) < 0);
}

int main(void)
{
	setup();
	test_run("UTCDate parsing is strict", test_utcdate);
	test_run("Mailbox/get: names, parents, roles, counts, errors", test_mailboxes);
	test_run("Email/Mailbox changes, states, Thread/get", test_changes);
	test_run("Email/query from the received-time index = the general engine", test_indexed_query);
	json_decref(last.body);
	jmap_api_free(&api);
	event_base_free(base);
	view_close(&view);
	json_decref(env.result);
	return test_done();
}

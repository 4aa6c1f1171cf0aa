/* test_jmap_email_query - Email/query (RFC 8621 4.4), Email/queryChanges
 * (4.5) and SearchSnippet/get (5.1) against a view filled by the real
 * appliers: every FilterCondition and operator, every sort option with
 * both collations, collapseThreads, the window arguments, the errors, a
 * client-side replay of /queryChanges (old result + changes = new result)
 * across flag changes, appends, expunges, moves and copies, and the time of
 * an inMailbox + receivedAt query on a mailbox of 5,000 messages. */
#include "gateway/jmap/test_jmap_email_util.h"
#include "tests/unit/testlib.h"

#include <time.h>

#define MS(s) ((int64_t)(s) * 1000)

/* Five messages; the thread of A holds B (a reply) and E (a reply to B). */
static const char *const raw[] = {
	/* A */ "From: Zed <zed@z.test>\r\nTo: bob@acme.test\r\nSubject: Alpha report\r\n"
		"Date: Thu, 5 Jan 2023 10:00:00 +0000\r\nMessage-ID: <a@t>\r\n\r\nthe quarterly numbers\r\n",
	/* B */ "From: amy@a.test\r\nTo: Carl <carl@c.test>\r\nCc: dee@d.test\r\nSubject: Re: Alpha report\r\n"
		"Date: Wed, 4 Jan 2023 10:00:00 +0000\r\nMessage-ID: <b@t>\r\nIn-Reply-To: <a@t>\r\n\r\n"
		"Numbers look GOOD, see you\r\n",
	/* C */ "From: =?utf-8?q?=C3=89mile?= <emile@e.test>\r\nBcc: secret@s.test\r\nX-Priority: 1\r\n"
		"Subject: =?utf-8?q?=C3=89t=C3=A9_plans?=\r\nDate: Tue, 3 Jan 2023 10:00:00 +0000\r\n"
		"Message-ID: <c@t>\r\nContent-Type: multipart/mixed; boundary=Q\r\n\r\n--Q\r\n"
		"Content-Type: text/plain\r\n\r\nsummer plans attached\r\n--Q\r\nContent-Type: application/pdf\r\n"
		"Content-Disposition: attachment; filename=plan.pdf\r\n\r\n%PDF-1.4 binary stuff here\r\n--Q--\r\n",
	/* D */ "From: bob@acme.test\r\nSubject: beta\r\nDate: Mon, 2 Jan 2023 10:00:00 +0000\r\n"
		"Message-ID: <d@t>\r\nContent-Type: text/html\r\n\r\n<b>html</b> only\r\n",
	/* E */ "From: Yan <yan@y.test>\r\nSubject: ALPHA caps\r\nMessage-ID: <e@t>\r\nIn-Reply-To: <b@t>\r\n\r\nok\r\n",
};
#define N 5

static char ids[N + 1][33];
static uint32_t uids[N];
static char inbox[33], trash[33];
static const char work[] = "44444444444444444444444444444444";

/* Letters of a list of email ids ("?" for an unknown one), space-separated. */
static const char *letters(json_t *list)
{
	static char out[256];
	json_t *v;
	size_t i;

	out[0] = '\0';
	json_array_foreach(list, i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));
		char l[2] = "?";

		if (id == NULL)
			id = json_string_value(v);
		for (int k = 0; k <= N; k++)
			if (id != NULL && strcmp(id, ids[k]) == 0)
				l[0] = (char)('A' + k);
		if (strlen(out) + 3 < sizeof out) {
			strcat(out, i ? " " : "");
			strcat(out, l);
		}
	}
	return out;
}

/* Email/query with filter and sort (JSON texts) and more arguments; the
 * letters of the ids, or the error type. */
static const char *q(const char *filter, const char *sort, const char *more)
{
	static char err[64];
	json_t *a = call("[[\"Email/query\",{\"accountId\":\"$A\",\"filter\":%s,\"sort\":%s%s},\"c\"]]", filter,
			 sort, more);

	if (a == NULL)
		return "(no response)";
	if (strcmp(resp_name(), "error") == 0) {
		snprintf(err, sizeof err, "error %s", sget(a, "type"));
		return err;
	}
	return letters(json_object_get(a, "ids"));
}

#define DESC "[{\"property\":\"receivedAt\",\"isAscending\":false}]"
#define ASC "[{\"property\":\"receivedAt\"}]"

static void fill(void)
{
	ids[0][0] = '\0';
	snprintf(ids[0], 33, "%s", deliver_flags("INBOX", raw[0], MS(1000), "\\Seen", 0));
	uids[0] = last_uid();
	snprintf(inbox, sizeof inbox, "%s", mailbox_id("INBOX"));
	snprintf(trash, sizeof trash, "%s", mailbox_id("Trash"));
	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", work, "name", "Work"));
	snprintf(ids[1], 33, "%s", deliver_flags("INBOX", raw[1], MS(2000), "\\Flagged", 0));
	uids[1] = last_uid();
	snprintf(ids[2], 33, "%s", deliver_flags(work, raw[2], MS(3000), "\\Seen", 0));
	uids[2] = last_uid();
	snprintf(ids[3], 33, "%s", deliver(work, raw[3], MS(4000)));
	uids[3] = last_uid();
	run("message.copy", json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", work, "uids", uids[3], uids[3],
				      "to_mailbox_id", trash));
	store(trash, 1, "add", "[\"$Label\"]");
	snprintf(ids[4], 33, "%s", deliver_flags("INBOX", raw[4], MS(5000), "\\Seen", 0));
	uids[4] = last_uid();
}

static void test_filters(void)
{
	char f[256];

	CHECK_EQ_STR(q("null", DESC, ""), "E D C B A");
	CHECK_EQ_STR(q("{}", ASC, ""), "A B C D E");
	snprintf(f, sizeof f, "{\"inMailbox\":\"%s\"}", inbox);
	CHECK_EQ_STR(q(f, DESC, ""), "E B A");
	snprintf(f, sizeof f, "{\"inMailbox\":\"%s\"}", work);
	CHECK_EQ_STR(q(f, DESC, ""), "D C");
	CHECK_EQ_STR(q("{\"inMailbox\":\"nope\"}", DESC, ""), "");
	snprintf(f, sizeof f, "{\"inMailboxOtherThan\":[\"%s\"]}", trash);
	CHECK_EQ_STR(q(f, DESC, ""), "E D C B A");   /* D is in Work too */
	snprintf(f, sizeof f, "{\"inMailboxOtherThan\":[\"%s\",\"%s\"]}", trash, work);
	CHECK_EQ_STR(q(f, DESC, ""), "E B A");
	/* receivedAt: before is strict, after inclusive */
	CHECK_EQ_STR(q("{\"before\":\"1970-01-01T00:50:00Z\"}", DESC, ""), "B A");
	CHECK_EQ_STR(q("{\"after\":\"1970-01-01T00:50:00Z\"}", DESC, ""), "E D C");
	snprintf(f, sizeof f, "{\"minSize\":%zu}", strlen(raw[2]));
	CHECK_EQ_STR(q(f, DESC, ""), "C");
	snprintf(f, sizeof f, "{\"maxSize\":%zu}", strlen(raw[4]) + 1);
	CHECK_EQ_STR(q(f, DESC, ""), "E");
	CHECK_EQ_STR(q("{\"hasKeyword\":\"$seen\"}", DESC, ""), "E C A");
	CHECK_EQ_STR(q("{\"notKeyword\":\"$SEEN\"}", DESC, ""), "D B");
	CHECK_EQ_STR(q("{\"hasKeyword\":\"$label\"}", DESC, ""), "D");
	CHECK_EQ_STR(q("{\"allInThreadHaveKeyword\":\"$seen\"}", DESC, ""), "C");
	CHECK_EQ_STR(q("{\"someInThreadHaveKeyword\":\"$flagged\"}", DESC, ""), "E B A");
	CHECK_EQ_STR(q("{\"noneInThreadHaveKeyword\":\"$flagged\"}", DESC, ""), "D C");
	CHECK_EQ_STR(q("{\"hasAttachment\":true}", DESC, ""), "C");
	CHECK_EQ_STR(q("{\"hasAttachment\":false}", DESC, ""), "E D B A");
	/* text: addresses, subject and body, case-insensitive on decoded text */
	CHECK_EQ_STR(q("{\"text\":\"NUMBERS\"}", DESC, ""), "B A");
	CHECK_EQ_STR(q("{\"text\":\"\\u00e9mile\"}", DESC, ""), "C");
	CHECK_EQ_STR(q("{\"text\":\"\\u00c9T\\u00c9\"}", DESC, ""), "C");
	CHECK_EQ_STR(q("{\"from\":\"AMY\"}", DESC, ""), "B");
	CHECK_EQ_STR(q("{\"to\":\"carl\"}", DESC, ""), "B");
	CHECK_EQ_STR(q("{\"cc\":\"dee@\"}", DESC, ""), "B");
	CHECK_EQ_STR(q("{\"bcc\":\"secret\"}", DESC, ""), "C");
	CHECK_EQ_STR(q("{\"subject\":\"alpha\"}", DESC, ""), "E B A");
	CHECK_EQ_STR(q("{\"body\":\"html\"}", DESC, ""), "D");
	CHECK_EQ_STR(q("{\"body\":\"alpha\"}", DESC, ""), "");   /* subjects are not body */
	CHECK_EQ_STR(q("{\"header\":[\"x-priority\"]}", DESC, ""), "C");
	CHECK_EQ_STR(q("{\"header\":[\"X-Priority\",\"1\"]}", DESC, ""), "C");
	CHECK_EQ_STR(q("{\"header\":[\"X-Priority\",\"2\"]}", DESC, ""), "");
	/* several properties of one condition: all of them */
	CHECK_EQ_STR(q("{\"subject\":\"alpha\",\"hasKeyword\":\"$seen\"}", DESC, ""), "E A");
	/* operators */
	snprintf(f, sizeof f, "{\"operator\":\"AND\",\"conditions\":[{\"inMailbox\":\"%s\"},{\"hasKeyword\":\"$seen\"}]}",
		 inbox);
	CHECK_EQ_STR(q(f, DESC, ""), "E A");
	CHECK_EQ_STR(q("{\"operator\":\"OR\",\"conditions\":[{\"hasKeyword\":\"$flagged\"},{\"hasAttachment\":true}]}",
		       DESC, ""), "C B");
	snprintf(f, sizeof f, "{\"operator\":\"NOT\",\"conditions\":[{\"inMailbox\":\"%s\"},{\"hasKeyword\":\"$label\"}]}",
		 inbox);
	CHECK_EQ_STR(q(f, DESC, ""), "C");
	CHECK_EQ_STR(q("{\"operator\":\"OR\",\"conditions\":[]}", DESC, ""), "");
	CHECK_EQ_STR(q("{\"operator\":\"AND\",\"conditions\":[]}", DESC, ""), "E D C B A");
}

/* The letters of a and b in id order (ties are broken by id). */
static const char *by_id(int a, int b)
{
	static char out[4];

	snprintf(out, sizeof out, "%c %c", strcmp(ids[a], ids[b]) < 0 ? 'A' + a : 'A' + b,
		 strcmp(ids[a], ids[b]) < 0 ? 'A' + b : 'A' + a);
	return out;
}

static void test_sorts(void)
{
	char expect[32];
	json_t *a;
	int64_t prev = -1;
	json_t *v;
	size_t i;

	/* from: the name, else the email; É after E under unicode-casemap,
	 * after every ASCII letter under ascii-casemap */
	CHECK_EQ_STR(q("null", "[{\"property\":\"from\"}]", ""), "B D C E A");
	CHECK_EQ_STR(q("null", "[{\"property\":\"from\",\"collation\":\"i;unicode-casemap\"}]", ""), "B D C E A");
	CHECK_EQ_STR(q("null", "[{\"property\":\"from\",\"collation\":\"i;ascii-casemap\"}]", ""), "B D E A C");
	CHECK_EQ_STR(q("null", "[{\"property\":\"from\",\"isAscending\":false}]", ""), "A E C D B");
	/* to: no To is "" and first */
	CHECK_EQ_STR(q("{\"hasAttachment\":false}", "[{\"property\":\"to\"},{\"property\":\"receivedAt\"}]", ""),
		     "D E A B");
	/* subject: the base subject ("Re: " gone), then the id */
	snprintf(expect, sizeof expect, "E %s D C", by_id(0, 1));
	CHECK_EQ_STR(q("null", "[{\"property\":\"subject\"}]", ""), expect);
	/* sentAt: no Date first */
	CHECK_EQ_STR(q("null", "[{\"property\":\"sentAt\"}]", ""), "E D C B A");
	CHECK_EQ_STR(q("null", "[{\"property\":\"hasKeyword\",\"keyword\":\"$seen\",\"isAscending\":false},"
		       "{\"property\":\"receivedAt\"}]", ""), "A C E B D");
	CHECK_EQ_STR(q("null", "[{\"property\":\"someInThreadHaveKeyword\",\"keyword\":\"$flagged\","
		       "\"isAscending\":false},{\"property\":\"receivedAt\"}]", ""), "A B E C D");
	CHECK_EQ_STR(q("null", "[{\"property\":\"allInThreadHaveKeyword\",\"keyword\":\"$seen\","
		       "\"isAscending\":false},{\"property\":\"receivedAt\"}]", ""), "C A B D E");
	/* size: check the order against the sizes */
	a = call("[[\"Email/query\",{\"accountId\":\"$A\",\"sort\":[{\"property\":\"size\",\"isAscending\":false}]},"
		 "\"c\"],[\"Email/get\",{\"accountId\":\"$A\",\"#ids\":{\"resultOf\":\"c\",\"name\":\"Email/query\","
		 "\"path\":\"/ids\"},\"properties\":[\"size\"]},\"g\"]]");
	CHECK(a != NULL);
	a = json_array_get(json_array_get(json_object_get(last.body, "methodResponses"), 1), 1);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "list")), 5);
	json_array_foreach(json_object_get(a, "list"), i, v) {
		int64_t sz = json_integer_value(json_object_get(v, "size"));

		CHECK(prev < 0 || sz <= prev);
		prev = sz;
	}
	/* collapseThreads: the first of each thread in the sorted list */
	CHECK_EQ_STR(q("null", DESC, ",\"collapseThreads\":true"), "E D C");
	CHECK_EQ_STR(q("null", ASC, ",\"collapseThreads\":true"), "A C D");
}

static void test_window(void)
{
	json_t *a;

	CHECK_EQ_STR(q("null", DESC, ",\"position\":1,\"limit\":2"), "D C");
	CHECK_EQ_STR(q("null", DESC, ",\"position\":-2"), "B A");
	CHECK_EQ_STR(q("null", DESC, ",\"position\":9"), "");
	a = call("[[\"Email/query\",{\"accountId\":\"$A\",\"sort\":" DESC ",\"anchor\":\"%s\",\"anchorOffset\":-1,"
		 "\"limit\":3,\"calculateTotal\":true},\"c\"]]", ids[2]);
	CHECK_EQ_STR(letters(json_object_get(a, "ids")), "D C B");
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "position")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "total")), 5);
	CHECK(json_is_true(json_object_get(a, "canCalculateChanges")));
	CHECK(json_is_string(json_object_get(a, "queryState")));
	CHECK_EQ_STR(q("null", DESC, ",\"anchor\":\"ffffffffffffffffffffffffffffffff\""), "error anchorNotFound");
	/* queries /queryChanges cannot follow say so */
	a = call("[[\"Email/query\",{\"accountId\":\"$A\",\"collapseThreads\":true},\"c\"]]");
	CHECK(json_is_false(json_object_get(a, "canCalculateChanges")));
	a = call("[[\"Email/query\",{\"accountId\":\"$A\",\"filter\":{\"someInThreadHaveKeyword\":\"$seen\"}},\"c\"]]");
	CHECK(json_is_false(json_object_get(a, "canCalculateChanges")));
	a = call("[[\"Email/query\",{\"accountId\":\"$A\",\"sort\":[{\"property\":\"allInThreadHaveKeyword\","
		 "\"keyword\":\"$seen\"}]},\"c\"]]");
	CHECK(json_is_false(json_object_get(a, "canCalculateChanges")));
}

static void test_errors(void)
{
	CHECK_EQ_STR(q("{\"bogus\":1}", DESC, ""), "error unsupportedFilter");
	CHECK_EQ_STR(q("{\"hasKeyword\":5}", DESC, ""), "error unsupportedFilter");
	CHECK_EQ_STR(q("{\"hasKeyword\":\"a(b\"}", DESC, ""), "error unsupportedFilter");
	CHECK_EQ_STR(q("{\"header\":[]}", DESC, ""), "error unsupportedFilter");
	CHECK_EQ_STR(q("{\"header\":[\"a:b\"]}", DESC, ""), "error unsupportedFilter");
	CHECK_EQ_STR(q("{\"before\":\"yesterday\"}", DESC, ""), "error unsupportedFilter");
	CHECK_EQ_STR(q("{\"before\":\"2023-01-01T00:00:00+01:00\"}", DESC, ""), "error unsupportedFilter");
	CHECK_EQ_STR(q("{\"operator\":\"NOT\",\"conditions\":[{\"minSize\":-1}]}", DESC, ""), "error unsupportedFilter");
	CHECK_EQ_STR(q("{\"operator\":\"XOR\",\"conditions\":[]}", DESC, ""), "error invalidArguments");
	CHECK_EQ_STR(q("null", "[{\"property\":\"bogus\"}]", ""), "error unsupportedSort");
	CHECK_EQ_STR(q("null", "[{\"property\":\"id\"}]", ""), "error unsupportedSort");
	CHECK_EQ_STR(q("null", "[{\"property\":\"hasKeyword\"}]", ""), "error unsupportedSort");
	CHECK_EQ_STR(q("null", "[{\"property\":\"subject\",\"collation\":\"i;octet\"}]", ""), "error unsupportedSort");
	CHECK_EQ_STR(q("null", DESC, ",\"limit\":-1"), "error invalidArguments");
	CHECK_EQ_STR(q("null", DESC, ",\"collapseThreads\":1"), "error invalidArguments");
	call("[[\"Email/query\",{\"accountId\":\"a000000000000000000000000\"},\"c\"]]");
	CHECK_EQ_STR(sget(json_array_get(json_array_get(json_object_get(last.body, "methodResponses"), 0), 1), "type"),
		     "accountNotFound");
}

/* The client's side of /queryChanges (RFC 8620 5.6): removes every
 * removed id, then inserts every added one at its index, in order. */
static json_t *replay(json_t *old, json_t *changes)
{
	json_t *out = json_array(), *v, *added;
	size_t i, k;

	json_array_foreach(old, i, v) {
		int gone = 0;

		json_array_foreach(json_object_get(changes, "removed"), k, added)
			gone |= json_equal(added, v);
		if (!gone)
			json_array_append(out, v);
	}
	json_array_foreach(json_object_get(changes, "added"), i, added)
		json_array_insert(out, (size_t)json_integer_value(json_object_get(added, "index")),
				  json_object_get(added, "id"));
	return out;
}

#define NQ 5
static const char *const queries[NQ][2] = {
	{ "{\"inMailbox\":\"%s\"}", DESC },
	{ "{\"hasKeyword\":\"$flagged\"}", "[{\"property\":\"subject\"}]" },
	{ "{\"notKeyword\":\"$seen\"}", "[{\"property\":\"from\",\"isAscending\":false}]" },
	{ "null", "[{\"property\":\"size\"}]" },
	{ "{\"operator\":\"OR\",\"conditions\":[{\"text\":\"alpha\"},{\"inMailbox\":\"%s\"}]}", ASC },
};

static void test_query_changes(void)
{
	json_t *old[NQ], *a, *now, *replayed;
	char state[NQ][64], filter[256], arg[600];

	for (int i = 0; i < NQ; i++) {
		snprintf(filter, sizeof filter, queries[i][0], inbox);
		a = call("[[\"Email/query\",{\"accountId\":\"$A\",\"filter\":%s,\"sort\":%s},\"c\"]]", filter,
			 queries[i][1]);
		CHECK(a != NULL);
		old[i] = json_incref(json_object_get(a, "ids"));
		snprintf(state[i], sizeof state[i], "%s", sget(a, "queryState"));
	}
	/* Changes: flags both ways, an append, an expunge, a move, a copy. */
	store(inbox, uids[0], "add", "[\"\\\\Flagged\"]");
	store(inbox, uids[4], "remove", "[\"\\\\Seen\"]");
	snprintf(ids[5], 33, "%s", deliver_flags("INBOX", "From: fay@f.test\r\nSubject: Alpha again\r\n\r\nnew\r\n",
					       MS(6000), "\\Flagged", 0));
	run("message.expunge", json_pack("{s:s, s:[[i,i]]}", "mailbox_id", inbox, "uids", uids[1], uids[1]));
	run("message.move", json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", work, "uids", uids[3], uids[3],
				      "to_mailbox_id", inbox));
	run("message.copy", json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", work, "uids", uids[2], uids[2],
				      "to_mailbox_id", inbox));
	for (int i = 0; i < NQ; i++) {
		snprintf(filter, sizeof filter, queries[i][0], inbox);
		snprintf(arg, sizeof arg, "{\"accountId\":\"$A\",\"filter\":%s,\"sort\":%s", filter, queries[i][1]);
		a = call("[[\"Email/query\",%s},\"c\"]]", arg);
		now = json_incref(json_object_get(a, "ids"));
		a = call("[[\"Email/queryChanges\",%s,\"sinceQueryState\":\"%s\",\"calculateTotal\":true},\"c\"]]",
			 arg, state[i]);
		CHECK_EQ_STR(resp_name(), "Email/queryChanges");
		CHECK_EQ_STR(sget(a, "oldQueryState"), state[i]);
		CHECK_EQ_INT(json_integer_value(json_object_get(a, "total")), (json_int_t)json_array_size(now));
		replayed = replay(old[i], a);
		if (!json_equal(replayed, now)) {
			char msg[512];

			snprintf(msg, sizeof msg, "query %d: old %s", i, letters(old[i]));
			test_fail(__FILE__, __LINE__, msg);
			snprintf(msg, sizeof msg, "query %d: replayed %s", i, letters(replayed));
			test_fail(__FILE__, __LINE__, msg);
			snprintf(msg, sizeof msg, "query %d: now %s", i, letters(now));
			test_fail(__FILE__, __LINE__, msg);
		}
		/* and nothing since the new state */
		a = call("[[\"Email/queryChanges\",%s,\"sinceQueryState\":\"%s\"},\"c\"]]", arg,
			 sget(a, "newQueryState"));
		CHECK_EQ_INT(json_array_size(json_object_get(a, "removed")) + json_array_size(json_object_get(a, "added")), 0);
		json_decref(replayed);
		json_decref(now);
		json_decref(old[i]);
	}
	/* maxChanges, states that are not ours, queries it cannot follow */
	a = call("[[\"Email/queryChanges\",{\"accountId\":\"$A\",\"sinceQueryState\":\"%s\",\"maxChanges\":1},\"c\"]]",
		 state[0]);
	CHECK_EQ_STR(sget(a, "type"), "tooManyChanges");
	a = call("[[\"Email/queryChanges\",{\"accountId\":\"$A\",\"sinceQueryState\":\"x1\"},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "cannotCalculateChanges");
	a = call("[[\"Email/queryChanges\",{\"accountId\":\"$A\",\"sinceQueryState\":\"99999999\"},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "cannotCalculateChanges");
	a = call("[[\"Email/queryChanges\",{\"accountId\":\"$A\",\"sinceQueryState\":\"%s\",\"collapseThreads\":true},"
		 "\"c\"]]", state[0]);
	CHECK_EQ_STR(sget(a, "type"), "cannotCalculateChanges");
	a = call("[[\"Email/queryChanges\",{\"accountId\":\"$A\",\"sinceQueryState\":\"%s\",\"filter\":"
		 "{\"allInThreadHaveKeyword\":\"$seen\"}},\"c\"]]", state[0]);
	CHECK_EQ_STR(sget(a, "type"), "cannotCalculateChanges");
	a = call("[[\"Email/queryChanges\",{\"accountId\":\"$A\",\"sinceQueryState\":\"%s\",\"filter\":"
		 "{\"bogus\":true}},\"c\"]]", state[0]);
	CHECK_EQ_STR(sget(a, "type"), "unsupportedFilter");
	a = call("[[\"Email/queryChanges\",{\"accountId\":\"$A\"},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");
}

static void test_snippets(void)
{
	json_t *a, *l;
	const char *amp;

	a = call("[[\"SearchSnippet/get\",{\"accountId\":\"$A\",\"filter\":{\"text\":\"numbers\"},"
		 "\"emailIds\":[\"%s\",\"%s\"]},\"c\"]]", ids[0], ids[2]);
	CHECK(a != NULL);
	CHECK_EQ_STR(resp_name(), "SearchSnippet/get");
	l = json_object_get(a, "list");
	CHECK_EQ_INT(json_array_size(l), 2);
	CHECK_EQ_STR(sget(json_array_get(l, 0), "emailId"), ids[0]);
	CHECK(json_is_null(json_object_get(json_array_get(l, 0), "subject")));
	CHECK_EQ_STR(sget(json_array_get(l, 0), "preview"), "the quarterly <mark>numbers</mark> ");
	CHECK(json_is_null(json_object_get(json_array_get(l, 1), "preview")));
	CHECK(json_is_null(json_object_get(a, "notFound")));
	/* subject and body terms under AND; the text keeps its case */
	a = call("[[\"SearchSnippet/get\",{\"accountId\":\"$A\",\"filter\":{\"operator\":\"AND\",\"conditions\":"
		 "[{\"subject\":\"alpha\"},{\"body\":\"AGAIN\"},{\"operator\":\"NOT\",\"conditions\":[{\"text\":\"new\"}]}]},"
		 "\"emailIds\":[\"%s\",\"nope\"]},\"c\"]]", ids[5]);
	l = json_array_get(json_object_get(a, "list"), 0);
	CHECK_EQ_STR(sget(l, "subject"), "<mark>Alpha</mark> again");
	CHECK(json_is_null(json_object_get(l, "preview")));
	CHECK_EQ_STR(jdump(json_object_get(a, "notFound")), "[\"nope\"]");
	/* HTML escaping around the marks, and a decoded, casemapped match */
	deliver("INBOX", "Subject: Tom & <Jerry> =?utf-8?q?=C3=89T=C3=89?=\r\n\r\nx\r\n", MS(7000));
	amp = "Tom &amp; &lt;<mark>Jerry</mark>&gt; <mark>\xc3\x89T\xc3\x89</mark>";
	a = call("[[\"SearchSnippet/get\",{\"accountId\":\"$A\",\"filter\":{\"operator\":\"OR\",\"conditions\":"
		 "[{\"text\":\"jerry\"},{\"subject\":\"\\u00e9t\\u00e9\"}]},\"emailIds\":[\"%s\"]},\"c\"]]",
		 json_string_value(json_object_get(env.result, "email_id")));
	CHECK_EQ_STR(sget(json_array_get(json_object_get(a, "list"), 0), "subject"), amp);
	/* errors */
	a = call("[[\"SearchSnippet/get\",{\"accountId\":\"$A\",\"filter\":{\"text\":\"x\"}},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");
	a = call("[[\"SearchSnippet/get\",{\"accountId\":\"$A\",\"filter\":{\"nope\":\"x\"},\"emailIds\":[]},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "unsupportedFilter");
	a = call("[[\"SearchSnippet/get\",{\"accountId\":\"$A\",\"emailIds\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\","
		 "\"8\",\"9\",\"10\",\"11\"]},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "requestTooLarge");
}

/* A message body that is not complete on this node: a query that must
 * read it waits (serverUnavailable); one that need not, answers. */
static void test_unavailable(void)
{
	deliver_flags("INBOX", "Subject: later\r\n\r\narriving\r\n", MS(8000), NULL, 1);
	CHECK_EQ_STR(q("{\"body\":\"arriving\"}", DESC, ""), "error serverUnavailable");
	CHECK(strcmp(q("{\"subject\":\"later\"}", DESC, ""), "?") == 0);
	CHECK_EQ_STR(q("{\"operator\":\"AND\",\"conditions\":[{\"subject\":\"nomatch\"},{\"body\":\"x\"}]}", DESC, ""), "");
}

/* 5,000 messages in one mailbox: the time of inMailbox + receivedAt
 * descending, limit 50 (printed; no threshold). */
static void test_measure(void)
{
	const char big[] = "55555555555555555555555555555555";
	struct timespec t0, t1;
	char f[128], msg[160];
	json_t *a;

	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", big, "name", "Big"));
	for (int i = 0; i < 5000; i++) {
		snprintf(msg, sizeof msg, "From: s%d@x.test\r\nSubject: message %d\r\nMessage-ID: <%d@big>\r\n\r\nbody %d\r\n",
			 i % 97, i, i, i);
		deliver_flags(big, msg, MS(100000 + i), i % 3 ? "\\Seen" : NULL, 1);
	}
	snprintf(f, sizeof f, "{\"inMailbox\":\"%s\"}", big);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	a = call("[[\"Email/query\",{\"accountId\":\"$A\",\"filter\":%s,\"sort\":" DESC ",\"limit\":50,"
		 "\"calculateTotal\":true},\"c\"]]", f);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(a != NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "ids")), 50);
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "total")), 5000);
	printf("# Email/query inMailbox (5,000 messages) + receivedAt desc, limit 50: %.1f ms\n",
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	a = call("[[\"Email/query\",{\"accountId\":\"$A\",\"filter\":{\"from\":\"s7@\"},\"sort\":"
		 "[{\"property\":\"subject\"}],\"limit\":50},\"c\"]]");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "ids")), 50);
	printf("# Email/query from (summaries read) + subject, limit 50: %.1f ms\n",
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

int main(void)
{
	email_setup(test_tmpdir("jmap-email-query"), 10);
	fill();
	test_run("Email/query: every filter condition and operator", test_filters);
	test_run("Email/query: every sort, collations, collapseThreads", test_sorts);
	test_run("Email/query: position, anchor, limit, total, canCalculateChanges", test_window);
	test_run("Email/query: unsupportedFilter, unsupportedSort, invalidArguments", test_errors);
	test_run("Email/queryChanges: client replay equals the new result", test_query_changes);
	test_run("SearchSnippet/get: marks, escaping, notFound, errors", test_snippets);
	test_run("Email/query: messages not complete here", test_unavailable);
	test_run("Email/query: 5,000 messages, timed", test_measure);
	email_teardown();
	return test_done();
}

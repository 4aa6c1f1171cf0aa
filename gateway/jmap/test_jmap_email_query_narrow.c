/* test_jmap_email_query_narrow - Email/query narrowed from indexes
 * (jmap_email_query_narrow.c) gives exactly the engine's answer over the
 * whole account: text conditions under every operator with the search
 * index complete, behind (a message delivered after indexing still
 * matches) and stale (an expunged message does not), inMailbox with
 * keyword, date and size conditions and every sort, collapseThreads; and
 * that it reads fewer emails than the account holds (the index is used).
 * The early stop (jmap_email_query_first) gives the first want ids of the
 * same answer, sorted by receivedAt either way or not sorted, for windows
 * of every size, with the index complete, behind and stale, and checks
 * only as many emails as it needs.
 * Prints the time of text and inMailbox queries on 5,000 messages, early,
 * narrowed and whole (no threshold). */
#include "gateway/jmap/test_jmap_email_util.h"
#include "gateway/jmap/jmap_email_query.h"
#include "tests/unit/testlib.h"

#include <time.h>

#define MS(s) ((int64_t)(s) * 1000)

static char inbox[33];
static const char work[] = "66666666666666666666666666666666";

/* The engine over the whole account (the reference). */
static json_t *whole(const json_t *filter, const json_t *sort, int collapse)
{
	struct jmap_email_set set;
	const char *error = NULL;
	json_t *ids = NULL;

	if (jmap_email_set_load(view, BOB, &set, &error) < 0)
		return NULL;
	if (jmap_email_query_run(view, BOB, &set, filter, sort, collapse, &ids, &error) != 0)
		ids = json_string("unavailable");
	jmap_email_set_free(&set);
	return ids;
}

/* Narrowed and whole give the same ids for filter and sort (JSON texts);
 * the narrowed run's counts in *nw. 1 when it narrowed and agreed, 0 when
 * it did not narrow (2), -1 on a difference (printed). */
static int same(const char *filter, const char *sort, int collapse, struct jmap_eq_narrowed *nw)
{
	json_t *f = json_loads(filter, 0, NULL), *s = json_loads(sort, 0, NULL), *a = NULL, *b;
	const char *error = NULL;
	int r = jmap_email_query_narrow(view, BOB, f, s, collapse, nw, &a, &error), ret;

	b = whole(f, s, collapse);
	if (r == 1)
		a = json_string("unavailable");
	ret = r == 2 ? 0 : b != NULL && json_equal(a, b) ? 1 : -1;
	if (ret < 0) {
		char *x = a ? json_dumps(a, 0) : NULL, *y = b ? json_dumps(b, 0) : NULL;

		printf("# %s %s: narrowed %s, whole %s\n", filter, sort, x ? x : "(null)", y ? y : "(null)");
		free(x);
		free(y);
	}
	json_decref(a);
	json_decref(b);
	json_decref(f);
	json_decref(s);
	return ret;
}

/* The early stop gives the first want ids of the whole answer: 1 when it
 * ran and agreed, 0 when it did not run (2), -1 on a difference. */
static int same_first(const char *filter, const char *sort, size_t want, struct jmap_eq_narrowed *nw)
{
	json_t *f = json_loads(filter, 0, NULL), *s = json_loads(sort, 0, NULL), *a = NULL, *b, *head;
	const char *error = NULL;
	int r = jmap_email_query_first(view, BOB, f, s, want, nw, &a, &error), ret;

	b = whole(f, s, 0);
	head = json_array();
	if (r == 1)
		a = json_string("unavailable");
	if (json_is_array(b)) {
		for (size_t i = 0; i < want && i < json_array_size(b); i++)
			json_array_append(head, json_array_get(b, i));
	} else {
		json_decref(head);
		head = json_incref(b);
	}
	ret = r == 2 ? 0 : head != NULL && json_equal(a, head) ? 1 : -1;
	if (ret < 0) {
		char *x = a ? json_dumps(a, 0) : NULL, *y = head ? json_dumps(head, 0) : NULL;

		printf("# first %zu of %s %s: early %s, whole %s\n", want, filter, sort, x ? x : "(null)",
		       y ? y : "(null)");
		free(x);
		free(y);
	}
	json_decref(head);
	json_decref(a);
	json_decref(b);
	json_decref(f);
	json_decref(s);
	return ret;
}

/* 200 messages in INBOX and Work: every tenth says "zebra" in its body,
 * every seventh has "Quarterly" in its subject, from s<i % 13>. */
static void fill(void)
{
	char msg[256];

	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", work, "name", "Work"));
	for (int i = 0; i < 200; i++) {
		snprintf(msg, sizeof msg,
			 "From: Sender %d <s%d@x.test>\r\nTo: bob@acme.test\r\nSubject: %s %d\r\n"
			 "Message-ID: <%d@n>\r\n%s\r\nbody %s %d\r\n",
			 i % 13, i % 13, i % 7 == 0 ? "Quarterly" : "note", i, i,
			 i % 5 == 0 && i > 0 ? "In-Reply-To: <0@n>\r\n" : "", i % 10 == 0 ? "zebra" : "plain", i);
		deliver_flags(i % 3 ? "INBOX" : work, msg, MS(1000 + i * 10), i % 4 ? "\\Seen" : NULL, 0);
	}
	snprintf(inbox, sizeof inbox, "%s", mailbox_id("INBOX"));
}

static const char *const filters[] = {
	"{\"text\":\"zebra\"}",
	"{\"body\":\"ZEBRA\"}",
	"{\"subject\":\"quarterly\"}",
	"{\"from\":\"sender 3\"}",
	"{\"to\":\"bob@acme\"}",
	"{\"text\":\"ze\"}",   /* too short to narrow */
	"{\"text\":\"nothing-like-this\"}",
	"{\"operator\":\"OR\",\"conditions\":[{\"text\":\"zebra\"},{\"subject\":\"quarterly\"}]}",
	"{\"operator\":\"OR\",\"conditions\":[{\"text\":\"zebra\"},{\"hasKeyword\":\"$seen\"}]}",
	"{\"operator\":\"AND\",\"conditions\":[{\"text\":\"zebra\"},{\"notKeyword\":\"$seen\"}]}",
	"{\"operator\":\"NOT\",\"conditions\":[{\"text\":\"zebra\"}]}",
	"{\"operator\":\"AND\",\"conditions\":[{\"operator\":\"NOT\",\"conditions\":[{\"body\":\"plain\"}]},{\"subject\":\"note\"}]}",
	"{\"after\":\"1970-01-01T00:30:00Z\",\"before\":\"1970-01-01T00:40:00Z\"}",
	"{\"text\":\"zebra\",\"before\":\"1970-01-01T00:40:00Z\"}",
	"{\"inMailbox\":\"$W\"}",
	"{\"inMailbox\":\"$W\",\"hasKeyword\":\"$seen\"}",
	"{\"inMailbox\":\"$I\",\"notKeyword\":\"$seen\",\"after\":\"1970-01-01T00:25:00Z\"}",
	"{\"operator\":\"AND\",\"conditions\":[{\"inMailbox\":\"$I\"},{\"text\":\"zebra\"}]}",
	"{\"inMailbox\":\"$I\",\"minSize\":130}",
	"{\"inMailbox\":\"nope\"}",
};
static const char *const sorts[] = {
	"null",
	"[{\"property\":\"receivedAt\"}]",
	"[{\"property\":\"size\",\"isAscending\":false}]",
	"[{\"property\":\"from\"},{\"property\":\"receivedAt\",\"isAscending\":false}]",
	"[{\"property\":\"subject\",\"collation\":\"i;ascii-casemap\"}]",
	"[{\"property\":\"sentAt\"}]",
	"[{\"property\":\"hasKeyword\",\"keyword\":\"$seen\"}]",
};
#define NF (sizeof filters / sizeof *filters)
#define NS (sizeof sorts / sizeof *sorts)

/* The filter text with $I and $W replaced by the mailbox ids. */
static const char *expand(const char *f)
{
	static char out[512];
	size_t o = 0;

	for (const char *p = f; *p && o + 40 < sizeof out; p++) {
		if (p[0] == '$' && (p[1] == 'I' || p[1] == 'W')) {
			memcpy(out + o, p[1] == 'I' ? inbox : work, 32);
			o += 32;
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return out;
}

/* The sorts the early stop takes, and the windows (position + limit). */
static const char *const first_sorts[] = {
	"null",
	"[]",
	"[{\"property\":\"receivedAt\"}]",
	"[{\"property\":\"receivedAt\",\"isAscending\":false}]",
};
static const size_t wants[] = { 1, 2, 3, 7, 20, 21, 50, 199, 5000 };
#define NFS (sizeof first_sorts / sizeof *first_sorts)
#define NW (sizeof wants / sizeof *wants)

/* Every filter by every sort, with and without collapseThreads; early
 * stops at every window. */
static void check_all(const char *when)
{
	struct jmap_eq_narrowed nw;
	int bad = 0, early = 0, r;

	for (size_t i = 0; i < NF; i++)
		for (size_t k = 0; k < NS; k++)
			for (int c = 0; c < 2; c++)
				bad += same(expand(filters[i]), sorts[k], c, &nw) < 0;
	for (size_t i = 0; i < NF; i++)
		for (size_t k = 0; k < NFS; k++)
			for (size_t w = 0; w < NW; w++) {
				r = same_first(expand(filters[i]), first_sorts[k], wants[w], &nw);
				bad += r < 0;
				early += r == 1;
			}
	/* every filter but {text: "ze"} (too short to narrow) stopped early */
	CHECK_EQ_INT(early, (int)((NF - 1) * NFS * NW));
	if (bad)
		printf("# %s: %d differences\n", when, bad);
	CHECK_EQ_INT(bad, 0);
}

static void test_no_index(void)
{
	struct jmap_eq_narrowed nw;

	check_all("no index");
	/* Text alone in an account never indexed: loaded whole. */
	CHECK_EQ_INT(same("{\"text\":\"zebra\"}", "null", 0, &nw), 0);
	CHECK_EQ_INT(nw.text, 1);   /* still text: the caller activates the indexer on it */
	/* inMailbox: that mailbox only. */
	CHECK_EQ_INT(same(expand("{\"inMailbox\":\"$W\",\"hasKeyword\":\"$seen\"}"), "null", 0, &nw), 1);
	CHECK_EQ_INT(nw.scanned, 67);
	/* Thread-wide conditions read whole threads: not narrowed. */
	CHECK_EQ_INT(same(expand("{\"inMailbox\":\"$W\",\"allInThreadHaveKeyword\":\"$seen\"}"), "null", 0, &nw), 0);
	CHECK_EQ_INT(same(expand("{\"inMailbox\":\"$W\"}"),
			  "[{\"property\":\"someInThreadHaveKeyword\",\"keyword\":\"$seen\"}]", 0, &nw), 0);
}

static void test_indexed(void)
{
	struct jmap_eq_narrowed nw;
	const char *error = NULL;

	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	check_all("indexed");
	CHECK_EQ_INT(same("{\"text\":\"zebra\"}", "null", 0, &nw), 1);
	CHECK_EQ_INT(nw.scanned, 200);
	CHECK_EQ_INT(nw.loaded, 20);   /* only the candidates */
	CHECK_EQ_INT(nw.unindexed, 0);
	/* Dates from the received-time index alone. */
	CHECK_EQ_INT(same("{\"after\":\"1970-01-01T00:30:00Z\",\"before\":\"1970-01-01T00:40:00Z\"}", "null", 0, &nw), 1);
	CHECK_EQ_INT(nw.loaded, 60);
	/* Early stop: "plain" is in every body but the tenths; the five
	 * newest (199..195) match and nothing else is read. */
	CHECK_EQ_INT(same_first("{\"text\":\"plain\"}", "null", 5, &nw), 1);
	CHECK_EQ_INT(nw.scanned, 5);
	CHECK_EQ_INT(nw.loaded, 5);
	/* Oldest first, the index leaves 0, 10, 20: 21 walked, 3 checked. */
	CHECK_EQ_INT(same_first("{\"text\":\"zebra\"}", "[{\"property\":\"receivedAt\"}]", 3, &nw), 1);
	CHECK_EQ_INT(nw.scanned, 21);
	CHECK_EQ_INT(nw.loaded, 3);
	/* Not of the shape: another sort, a thread-wide condition. */
	CHECK_EQ_INT(same_first("{\"text\":\"zebra\"}", "[{\"property\":\"size\"}]", 3, &nw), 0);
	CHECK_EQ_INT(same_first("{\"text\":\"zebra\",\"someInThreadHaveKeyword\":\"$seen\"}", "null", 3, &nw), 0);
}

/* A message the index has not reached still matches; an expunged one
 * that the index still lists does not. */
static void test_behind_and_stale(void)
{
	struct jmap_eq_narrowed nw;
	json_t *ids = NULL, *f = json_pack("{s:s}", "text", "zebra");
	char late[33];
	const char *error = NULL;

	snprintf(late, sizeof late, "%s",
		 deliver(inbox, "From: late@x.test\r\nSubject: late\r\nMessage-ID: <late@n>\r\n\r\nzebra crossing\r\n",
			 MS(9000)));
	CHECK_EQ_INT(jmap_email_query_narrow(view, BOB, f, NULL, 0, &nw, &ids, &error), 0);
	CHECK_EQ_INT(nw.unindexed, 1);
	CHECK_EQ_STR(json_string_value(json_array_get(ids, 0)), late);   /* newest first */
	CHECK_EQ_INT(json_array_size(ids), 21);
	json_decref(ids);
	check_all("index behind");
	run("message.expunge", json_pack("{s:s, s:[[i,i]]}", "mailbox_id", inbox, "uids", last_uid(), last_uid()));
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	run("message.expunge", json_pack("{s:s, s:[[i,i]]}", "mailbox_id", work, "uids", 1, 1));   /* i = 0: zebra */
	CHECK_EQ_INT(jmap_email_query_narrow(view, BOB, f, NULL, 0, &nw, &ids, &error), 0);
	CHECK_EQ_INT(json_array_size(ids), 19);
	json_decref(ids);
	check_all("index stale");
	json_decref(f);
}

/* ms between two times. */
static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* The first 50 newest (an early stop) against narrowed (every candidate
 * checked, then sorted), printed. */
static void measure_first(void)
{
	/* "bulk 1" is in the subjects of 1, 10..19, 100..199, 1000..1999: the
	 * newest 3,000 hold none, the rest of the index is read at once */
	const char *names[] = { "text rare", "text common", "text common + inMailbox", "text common oldest",
				"text past 3,000 newest" };
	const char *fs[] = { "{\"text\":\"giraffe\"}", "{\"text\":\"plain\"}",
			     "{\"inMailbox\":\"$I\",\"text\":\"plain\"}", "{\"text\":\"plain\"}",
			     "{\"subject\":\"bulk 1\"}" };
	const char *ss[] = { "null", "null", "null", "[{\"property\":\"receivedAt\"}]", "null" };

	for (int q = 0; q < 5; q++) {
		json_t *f = json_loads(expand(fs[q]), 0, NULL), *s = json_loads(ss[q], 0, NULL), *a = NULL, *b = NULL;
		struct jmap_eq_narrowed nw, nw2;
		const char *error = NULL;
		struct timespec t0, t1, t2;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK_EQ_INT(jmap_email_query_first(view, BOB, f, s, 50, &nw, &a, &error), 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		CHECK_EQ_INT(jmap_email_query_narrow(view, BOB, f, s, 0, &nw2, &b, &error), 0);
		clock_gettime(CLOCK_MONOTONIC, &t2);
		while (json_array_size(b) > 50)
			json_array_remove(b, json_array_size(b) - 1);
		CHECK(json_equal(a, b));
		printf("# first 50, %s (%zu walked, %zu checked): early %.1f ms; narrowed (%zu checked) %.1f ms\n",
		       names[q], nw.scanned, nw.loaded, ms_between(&t0, &t1), nw2.loaded, ms_between(&t1, &t2));
		json_decref(a);
		json_decref(b);
		json_decref(f);
		json_decref(s);
	}
}

/* 60 emails received at one time (ties ordered by email id both ways):
 * an early stop's pieces end with a whole received time and resume past
 * it, in the account and in a mailbox. */
static void test_ties(void)
{
	char msg[256];

	for (int i = 0; i < 60; i++) {
		snprintf(msg, sizeof msg, "From: tie%d@x.test\r\nSubject: tie %d\r\nMessage-ID: <%d@tie>\r\n\r\n%s %d\r\n",
			 i, i, i, i % 3 ? "plain" : "zebra", i);
		deliver_flags(i % 2 ? inbox : work, msg, MS(i < 30 ? 1500 : 1505), NULL, 0);
	}
	check_all("ties");
}

/* Narrowed against whole on 5,000 more messages (printed, no threshold). */
static void test_measure(void)
{
	const char *names[] = { "text rare", "text common", "inMailbox + subject", "inMailbox + hasKeyword" };
	const char *fs[] = { "{\"text\":\"giraffe\"}", "{\"text\":\"plain\"}", "{\"inMailbox\":\"$W\"}",
			     "{\"inMailbox\":\"$W\",\"hasKeyword\":\"$seen\"}" };
	const char *ss[] = { "null", "null", "[{\"property\":\"subject\"}]", "null" };
	const char *error = NULL;
	char msg[256];

	for (int i = 0; i < 5000; i++) {
		snprintf(msg, sizeof msg, "From: m%d@y.test\r\nSubject: bulk %d\r\nMessage-ID: <%d@bulk>\r\n\r\n%s %d\r\n",
			 i % 31, i, i, i == 4321 ? "giraffe" : "plain text", i);
		deliver_flags(inbox, msg, MS(20000 + i), i % 2 ? "\\Seen" : NULL, 0);
	}
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	for (int q = 0; q < 4; q++) {
		json_t *f = json_loads(expand(fs[q]), 0, NULL), *s = json_loads(ss[q], 0, NULL), *a = NULL, *b;
		struct jmap_eq_narrowed nw;
		struct timespec t0, t1, t2;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK_EQ_INT(jmap_email_query_narrow(view, BOB, f, s, 0, &nw, &a, &error), 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		b = whole(f, s, 0);
		clock_gettime(CLOCK_MONOTONIC, &t2);
		CHECK(json_equal(a, b));
		printf("# %s (%zu emails in the scope, %zu loaded): narrowed %.1f ms, whole %.1f ms\n", names[q],
		       nw.scanned, nw.loaded,
		       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		       (double)(t2.tv_sec - t1.tv_sec) * 1e3 + (double)(t2.tv_nsec - t1.tv_nsec) / 1e6);
		json_decref(a);
		json_decref(b);
		json_decref(f);
		json_decref(s);
	}
	measure_first();
}

int main(void)
{
	email_setup(test_tmpdir("jmap-email-query-narrow"), 10);
	fill();
	test_run("narrowed = whole: no search index yet", test_no_index);
	test_run("narrowed = whole: indexed, only candidates loaded", test_indexed);
	test_run("narrowed = whole: index behind, index stale", test_behind_and_stale);
	test_run("early stop = whole's first ids: received-time ties", test_ties);
	test_run("narrowed and whole timed on 5,000 messages", test_measure);
	email_teardown();
	return test_done();
}

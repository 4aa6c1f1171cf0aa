/* test_imap_sort - the search family: RFC 5256 threading on plain data
 * (ORDEREDSUBJECT, REFERENCES incl. dummies and subject merging), base
 * subject reply detection, i;unicode-casemap (RFC 5051); and in sessions
 * against a real node: SORT (all keys, REVERSE), SORT=DISPLAY, ESORT,
 * THREAD, ESEARCH for rev1 clients with RETURN, SEARCHRES ("$" in FETCH,
 * STORE, SEARCH), PARTIAL, WITHIN, unicode-casemap SEARCH. */
#include "gateway/fts/fts.h"
#include "gateway/imap/imap_session.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/fts/fts_casemap.h"
#include "gateway/imap/imap_thread.h"
#include "gateway/command.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/password.h"
#include "projector/mail.h"
#include "tests/unit/testlib.h"

#include <event2/bufferevent.h>
#include <event2/thread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>


#include "gateway/imap/imap_cmd_testutil.h"

static void login(struct client *c)
{
	client_open(c);
	pump(c, "\r\n");
	c->in.len = 0;
	c->in.data[0] = '\0';
	CMD_HAS(c, "L1", "L1 LOGIN amy@acme.test secret", "L1 OK [CAPABILITY");
}
static void append(struct client *c, const char *tag, const char *mbox, const char *flags, const char *msg)
{
	char line[512];
	char needle[64];
	char *o;

	snprintf(line, sizeof line, "%s APPEND %s %s {%zu}\r\n", tag, mbox, flags, strlen(msg));
	send_raw(c, line, strlen(line));
	if (!pump(c, "+ ")) {
		fprintf(stderr, "no continuation: %s\n", c->in.data);
		return;
	}
	c->in.len = 0;
	c->in.data[0] = '\0';
	send_raw(c, msg, strlen(msg));
	snprintf(needle, sizeof needle, "%s", tag);
	o = cmd(c, needle, "");
	if (!HAS(o, "OK [APPENDUID"))
		fprintf(stderr, "APPEND: %s\n", o);
	free(o);
}


/* Threads m[n] by one algorithm and compares the thread list. */
static int thread_is(const struct imap_thread_msg *m, size_t n, int refs, const char *expect)
{
	struct buf out = BUF_INIT;
	int ok;

	buf_puts(&out, "");
	if (refs)
		imap_thread_references(m, n, &out);
	else
		imap_thread_orderedsubject(m, n, &out);
	ok = strcmp(out.data, expect) == 0;
	if (!ok)
		fprintf(stderr, "thread: got %s, want %s\n", out.data, expect);
	buf_free(&out);
	return ok;
}

static void test_orderedsubject(void)
{
	static const struct imap_thread_msg m[] = {
		{ 1, 1, "B", false, NULL, NULL, 0 }, { 2, 2, "A", false, NULL, NULL, 0 },
		{ 3, 3, "B", true, NULL, NULL, 0 }, { 4, 0, "A", false, NULL, NULL, 0 },
		{ 5, 5, "C", false, NULL, NULL, 0 }, { 6, 6, "B", false, NULL, NULL, 0 },
	};

	CHECK(thread_is(m, 6, 0, "(4 2)(1 (3)(6))(5)"));
	CHECK(thread_is(m, 0, 0, ""));
}

static void test_references(void)
{
	static const char *const ra[] = { "a" }, *const rab[] = { "a", "b" }, *const rx[] = { "x" };
	static const char *const rloop[] = { "l2" }, *const rloop2[] = { "l1" };
	static const struct imap_thread_msg m[] = {
		{ 1, 1, "HELLO", false, "a", NULL, 0 },
		{ 2, 2, "HELLO", true, "b", ra, 1 },
		{ 3, 3, "HELLO", true, "c", ra, 1 },
		{ 4, 4, "HELLO", true, "d", rab, 2 },
		{ 5, 5, "OTHER", false, "e", NULL, 0 },
		{ 6, 6, "LOST", false, "f", rx, 1 },
		{ 7, 0, "LOST2", false, "g", rx, 1 },
		{ 8, 7, "OTHER", true, "h", NULL, 0 },
		{ 9, 8, "OTHER", false, "i", NULL, 0 },
	};
	/* a reference loop and a duplicate Message-ID */
	static const struct imap_thread_msg l[] = {
		{ 1, 1, "", false, "l1", rloop, 1 },
		{ 2, 2, "", false, "l2", rloop2, 1 },
		{ 3, 3, "", false, "l1", NULL, 0 },
	};

	CHECK(thread_is(m, 9, 1, "((7)(6))(1 (2 4)(3))((5 8)(9))"));
	CHECK(thread_is(m, 5, 1, "(1 (2 4)(3))(5)"));
	static const char *const ry[] = { "y" };
	/* RFC 5256 3.2 step 5.C: two dummies merge, then a message joins them */
	static const struct imap_thread_msg d[] = {
		{ 1, 1, "S", false, "d1", rx, 1 }, { 2, 2, "S", false, "d2", rx, 1 },
		{ 3, 3, "S", false, "d3", ry, 1 }, { 4, 4, "S", false, "d4", ry, 1 },
		{ 5, 5, "S", false, "d5", NULL, 0 }, { 6, 6, "T", true, "d6", NULL, 0 },
	};

	CHECK(thread_is(l, 3, 1, "(2 1)(3)"));
	CHECK(thread_is(d, 6, 1, "((1)(2)(3)(4)(5))(6)"));
}

/* Every number 1..n exactly once in a well-formed thread list. */
static int thread_list_ok(const char *t, size_t n)
{
	int *seen = xcalloc(n + 1, sizeof *seen), depth = 0, ok = 1;

	for (const char *p = t; *p && ok; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			ok = --depth >= 0;
		else if (*p >= '0' && *p <= '9') {
			char *end;
			unsigned long v = strtoul(p, &end, 10);

			ok = v >= 1 && v <= n && !seen[v]++;
			p = end - 1;
		} else
			ok = *p == ' ';
	}
	for (size_t i = 1; i <= n && ok; i++)
		ok = seen[i] == 1;
	free(seen);
	return ok && depth == 0;
}

/* Random references (loops, duplicates, self references, dangling ids):
 * both algorithms place every message exactly once. */
static void test_thread_random(void)
{
	static const char *const ids[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "" };
	static const char *const subj[] = { "", "X", "Y", "Z" };
	struct imap_thread_msg m[60];
	const char *refs[60][4];
	unsigned seed = 12345;

	for (int round = 0; round < 200; round++) {
		size_t n = 1 + round % 60;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			m[i].num = (unsigned)(i + 1);
			m[i].date = (seed >> 8) % 5;
			m[i].subject = subj[(seed >> 12) % 4];
			m[i].refwd = (seed >> 14) & 1;
			m[i].msgid = ids[(seed >> 16) % 11];
			m[i].nrefs = (seed >> 20) % 5;
			for (size_t k = 0; k < m[i].nrefs; k++) {
				seed = seed * 1103515245u + 12345u;
				refs[i][k] = ids[(seed >> 16) % 11];
			}
			m[i].refs = refs[i];
		}
		for (int alg = 0; alg < 2; alg++) {
			struct buf out = BUF_INIT;

			buf_puts(&out, "");
			if (alg)
				imap_thread_references(m, n, &out);
			else
				imap_thread_orderedsubject(m, n, &out);
			if (!thread_list_ok(out.data, n))
				fprintf(stderr, "round %d alg %d: %s\n", round, alg, out.data);
			CHECK(thread_list_ok(out.data, n));
			buf_free(&out);
		}
	}
}

static void test_refwd_and_casemap(void)
{
	char *a, *b;

	CHECK(imap_subject_is_refwd("Re: hello"));
	CHECK(imap_subject_is_refwd("[list] FWD: hello"));
	CHECK(imap_subject_is_refwd("re [2]: hello"));
	CHECK(imap_subject_is_refwd("hello (fwd)"));
	CHECK(imap_subject_is_refwd("[Fwd: hello]"));
	CHECK(!imap_subject_is_refwd("Reply needed"));
	CHECK(!imap_subject_is_refwd("[PATCH] fix"));
	CHECK(!imap_subject_is_refwd(""));
	a = fts_casemap("\xc3\xa9" "cole", 6);      /* é (precomposed) */
	b = fts_casemap("E\xcc\x81" "COLE", 7);     /* E + combining acute */
	CHECK_EQ_STR(a, b);
	CHECK(fts_casemap_find("Une \xc3\x89" "cole ici", 11, a));
	free(a);
	free(b);
	a = fts_casemap("abc\xff" "d\0e", 7);       /* invalid octets kept */
	CHECK(memcmp(a, "ABC\xff" "D\0E", 7) == 0);
	free(a);
}

static const char S1[] = "From: Zed <zed@x.org>\r\nTo: bea@acme.test\r\nCc: Ann <mo@x.org>\r\nSubject: Hello\r\n"
			 "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <a@x>\r\n\r\nfirst\r\n";
static const char S2[] = "From: Yolanda <alice@x.org>\r\nTo: al@acme.test\r\nSubject: Re: Hello\r\n"
			 "Date: Tue, 7 Feb 1995 10:00:00 +0000\r\nMessage-ID: <b@x>\r\nReferences: <a@x>\r\n\r\n"
			 "second, longer body\r\n";
static const char S3[] = "From: carl@x.org\r\nTo: Zoe <cy@acme.test>\r\nSubject: =?utf-8?q?=C3=A9cole?=\r\n"
			 "Date: Wed, 7 Feb 1990 10:00:00 +0000\r\nMessage-ID: <c@x>\r\n\r\nthird\r\n";

static void test_sort_session(void)
{
	struct client c;

	login(&c);
	CMD_HAS(&c, "a", "a CREATE Sorts", "a OK");
	append(&c, "b1", "Sorts", "()", S1);
	append(&c, "b2", "Sorts", "(\\Seen)", S2);
	append(&c, "b3", "Sorts", "()", S3);
	CMD_HAS(&c, "c", "c SELECT Sorts", "* 3 EXISTS");
	CMD_HAS(&c, "d1", "d1 SORT (SUBJECT) UTF-8 ALL", "* SORT 3 1 2\r\n");
	CMD_HAS(&c, "d2", "d2 SORT (DATE) UTF-8 ALL", "* SORT 3 1 2\r\n");
	CMD_HAS(&c, "d3", "d3 SORT (REVERSE DATE) UTF-8 ALL", "* SORT 2 1 3\r\n");
	CMD_HAS(&c, "d4", "d4 SORT (FROM) UTF-8 ALL", "* SORT 2 3 1\r\n");
	CMD_HAS(&c, "d5", "d5 SORT (DISPLAYFROM) UTF-8 ALL", "* SORT 3 2 1\r\n");
	CMD_HAS(&c, "d6", "d6 SORT (REVERSE ARRIVAL) UTF-8 ALL", "* SORT 3 2 1\r\n");
	CMD_HAS(&c, "d7", "d7 SORT (TO) UTF-8 ALL", "* SORT 2 1 3\r\n");
	CMD_HAS(&c, "d8", "d8 SORT (DISPLAYTO) UTF-8 ALL", "* SORT 2 1 3\r\n");
	CMD_HAS(&c, "d9", "d9 SORT (CC SUBJECT) UTF-8 ALL", "* SORT 3 2 1\r\n");
	CMD_HAS(&c, "e1", "e1 SORT (REVERSE SIZE) UTF-8 ALL", "* SORT 2 ");
	CMD_HAS(&c, "e2", "e2 UID SORT (SUBJECT) UTF-8 UNSEEN", "* SORT 3 1\r\n");
	CMD_HAS(&c, "e3", "e3 SORT (BOGUS) UTF-8 ALL", "e3 BAD");
	CMD_HAS(&c, "e4", "e4 SORT (DATE) KOI8-R ALL", "e4 NO [BADCHARSET");
	CMD_HAS(&c, "e5", "e5 SORT (REVERSE) UTF-8 ALL", "e5 BAD");
	/* ESORT (RFC 5267 3.1): ALL in sort order, MIN / MAX first / last sorted */
	CMD_HAS(&c, "f1", "f1 SORT RETURN (ALL COUNT MIN MAX) (SUBJECT) UTF-8 ALL",
		"* ESEARCH (TAG \"f1\") MIN 3 MAX 2 COUNT 3 ALL 3,1:2\r\n");
	CMD_HAS(&c, "f2", "f2 UID SORT RETURN (PARTIAL 2:5) (REVERSE DATE) UTF-8 ALL",
		"* ESEARCH (TAG \"f2\") UID PARTIAL (2:5 1,3)\r\n");
	/* THREAD (RFC 5256) */
	CMD_HAS(&c, "g1", "g1 THREAD REFERENCES UTF-8 ALL", "* THREAD (3)(1 2)\r\n");
	CMD_HAS(&c, "g2", "g2 THREAD ORDEREDSUBJECT UTF-8 ALL", "* THREAD (3)(1 2)\r\n");
	CMD_HAS(&c, "g3", "g3 UID THREAD REFERENCES UTF-8 SEEN", "* THREAD (2)\r\n");
	CMD_HAS(&c, "g4", "g4 THREAD REFERENCES UTF-8 DELETED", "* THREAD\r\n");
	CMD_HAS(&c, "g5", "g5 THREAD XYZ UTF-8 ALL", "g5 BAD");
	client_close(&c);
}

static void test_search_session(void)
{
	struct client c;
	char *o;

	login(&c);
	CMD_HAS(&c, "a", "a SELECT Sorts", "* 3 EXISTS");
	/* rev1 + RETURN: ESEARCH (RFC 4731) */
	CMD_HAS(&c, "b1", "b1 SEARCH RETURN (MIN MAX COUNT) ALL", "* ESEARCH (TAG \"b1\") MIN 1 MAX 3 COUNT 3\r\n");
	CMD_HAS(&c, "b2", "b2 SEARCH RETURN () UNSEEN", "* ESEARCH (TAG \"b2\") ALL 1,3\r\n");
	CMD_HAS(&c, "b3", "b3 SEARCH RETURN (COUNT) DELETED", "* ESEARCH (TAG \"b3\") COUNT 0\r\n");
	CMD_HAS(&c, "b4", "b4 SEARCH RETURN (PARTIAL 2:3) ALL", "* ESEARCH (TAG \"b4\") PARTIAL (2:3 2:3)\r\n");
	CMD_HAS(&c, "b5", "b5 SEARCH RETURN (PARTIAL 5:9) ALL", "PARTIAL (5:9 NIL)\r\n");
	CMD_HAS(&c, "b6", "b6 SEARCH RETURN (FOO) ALL", "b6 BAD");
	CMD_HAS(&c, "b7", "b7 SEARCH ALL", "* SEARCH 1 2 3\r\n");
	/* SEARCHRES (RFC 5182) */
	o = cmd(&c, "c1", "c1 SEARCH RETURN (SAVE) UNSEEN");
	CHECK(!HAS(o, "ESEARCH") && HAS(o, "c1 OK"));
	free(o);
	CMD_HAS(&c, "c2", "c2 FETCH $ (UID)", "* 3 FETCH (UID 3)");
	CMD_HAS(&c, "c3", "c3 SEARCH $", "* SEARCH 1 3\r\n");
	CMD_HAS(&c, "c4", "c4 UID SEARCH UID $ SUBJECT hello", "* SEARCH 1\r\n");
	CMD_HAS(&c, "c5", "c5 STORE $ +FLAGS (\\Flagged)", "* 1 FETCH (FLAGS (\\Flagged))");
	CMD_HAS(&c, "c6", "c6 SEARCH RETURN (SAVE MIN) UNSEEN", "c6 OK");
	CMD_HAS(&c, "c7", "c7 UID FETCH $ (UID)", "* 1 FETCH (UID 1)\r\nc7 OK");
	CMD_HAS(&c, "c8", "c8 SEARCH RETURN (SAVE COUNT) FLAGGED", "* ESEARCH (TAG \"c8\") COUNT 2\r\n");
	CMD_HAS(&c, "c9", "c9 SEARCH $", "* SEARCH 1 3\r\n");
	CMD_HAS(&c, "d1", "d1 SEARCH RETURN (SAVE) BOGUS", "d1 BAD");
	CMD_HAS(&c, "d2", "d2 SEARCH $", "* SEARCH\r\n");
	CMD_HAS(&c, "d3", "d3 FETCH 1,$ (UID)", "d3 BAD");
	CMD_HAS(&c, "d3a", "d3a SEARCH RETURN (SAVE) ALL", "d3a OK");
	CMD_HAS(&c, "d3b", "d3b SEARCH RETURN (SAVE BOGUS) ALL", "d3b BAD");
	CMD_HAS(&c, "d3c", "d3c SEARCH $", "* SEARCH\r\n");
	CMD_HAS(&c, "d4", "d4 SORT RETURN (SAVE) (REVERSE DATE) UTF-8 SEEN", "d4 OK");
	CMD_HAS(&c, "d5", "d5 SEARCH $", "* SEARCH 2\r\n");
	/* WITHIN (RFC 5032): appended just now */
	CMD_HAS(&c, "e1", "e1 SEARCH YOUNGER 3600", "* SEARCH 1 2 3\r\n");
	CMD_HAS(&c, "e2", "e2 SEARCH OLDER 3600", "* SEARCH\r\n");
	CMD_HAS(&c, "e3", "e3 SEARCH OLDER 0", "e3 BAD");
	/* i;unicode-casemap (RFC 5051): ÉCOLE matches "école" (decoded) */
	CMD_HAS(&c, "f1", "f1 SEARCH CHARSET UTF-8 SUBJECT {6+}\r\n\xc3\x89" "COLE", "* SEARCH 3\r\n");
	CMD_HAS(&c, "f2", "f2 SEARCH FROM YOLANDA", "* SEARCH 2\r\n");
	CMD_HAS(&c, "f3", "f3 SEARCH BODY LONGER", "* SEARCH 2\r\n");
	/* a new SELECT empties "$" */
	CMD_HAS(&c, "g1", "g1 SEARCH RETURN (SAVE) ALL", "g1 OK");
	CMD_HAS(&c, "g2", "g2 SELECT Sorts", "g2 OK");
	CMD_HAS(&c, "g3", "g3 SEARCH $", "* SEARCH\r\n");
	client_close(&c);
}

/* RFC 5267 4.3: UPDATE contexts follow changes made by another session. */
static void test_context_session(void)
{
	struct client a, b;
	char *o;

	login(&a);
	login(&b);
	CMD_HAS(&a, "a", "a CREATE Ctx", "a OK");
	append(&a, "a1", "Ctx", "()", S1);
	append(&a, "a2", "Ctx", "(\\Seen)", S2);
	append(&a, "a3", "Ctx", "()", S3);
	CMD_HAS(&a, "s", "s SELECT Ctx", "* 3 EXISTS");
	CMD_HAS(&b, "s", "s SELECT Ctx", "* 3 EXISTS");
	CMD_HAS(&a, "u1", "u1 UID SEARCH RETURN (UPDATE COUNT) UNSEEN", "* ESEARCH (TAG \"u1\") UID COUNT 2\r\n");
	o = cmd(&a, "u2", "u2 SEARCH RETURN (CONTEXT UPDATE) ALL");
	/* by sequence number too (issue 9, 1.11) */
	CHECK(!HAS(o, "NOUPDATE") && HAS(o, "ALL 1:3") && HAS(o, "u2 OK"));
	free(o);
	CMD_HAS(&a, "u3", "u3 UID SORT RETURN (UPDATE ALL) (REVERSE DATE) UTF-8 UNSEEN",
		"* ESEARCH (TAG \"u3\") UID ALL 1,3\r\n");
	CMD_HAS(&a, "u1", "u1 UID SEARCH RETURN (UPDATE) ALL", "u1 BAD");
	CMD_HAS(&b, "b1", "b1 STORE 1 +FLAGS (\\Seen)", "b1 OK");
	o = cmd(&a, "n1", "n1 NOOP");
	CHECK(HAS(o, "* ESEARCH (TAG \"u1\") UID REMOVEFROM (0 1)\r\n"));
	CHECK(HAS(o, "* ESEARCH (TAG \"u3\") UID REMOVEFROM (1 1)\r\n"));
	free(o);
	append(&b, "b2", "Ctx", "()", "Subject: new\r\nDate: Tue, 7 Feb 1995 10:00:00 +0000\r\n\r\nx\r\n");
	o = cmd(&a, "n2", "n2 NOOP");
	CHECK(HAS(o, "* 4 EXISTS\r\n"));
	CHECK(HAS(o, "* ESEARCH (TAG \"u1\") UID ADDTO (0 4)\r\n"));
	CHECK(HAS(o, "* ESEARCH (TAG \"u3\") UID ADDTO (1 4)\r\n"));
	CHECK(HAS(o, "* ESEARCH (TAG \"u2\") ADDTO (0 4)\r\n"));
	CHECK(strstr(o, "EXISTS") < strstr(o, "ADDTO"));
	free(o);
	CMD_HAS(&a, "c1", "c1 CANCELUPDATE \"u1\"", "c1 OK");
	CMD_HAS(&a, "c2", "c2 CANCELUPDATE \"zz\"", "c2 NO");
	CMD_HAS(&a, "c9", "c9 CANCELUPDATE u3", "c9 BAD");    /* quoted tags only (RFC 5267 5) */
	CMD_HAS(&b, "b3", "b3 UID STORE 4 +FLAGS (\\Seen)", "b3 OK");
	o = cmd(&a, "n3", "n3 NOOP");
	CHECK(!HAS(o, "\"u1\"") && HAS(o, "* ESEARCH (TAG \"u3\") UID REMOVEFROM (1 4)\r\n"));
	free(o);
	/* a new SELECT ends every context */
	CMD_HAS(&a, "s2", "s2 SELECT Ctx", "s2 OK");
	CMD_HAS(&a, "c3", "c3 CANCELUPDATE \"u3\"", "c3 NO");
	client_close(&a);
	client_close(&b);
}

int main(void)
{
	test_run("THREAD=ORDEREDSUBJECT", test_orderedsubject);
	test_run("THREAD=REFERENCES", test_references);
	test_run("threading random references", test_thread_random);
	test_run("reply/forward subjects, i;unicode-casemap", test_refwd_and_casemap);
	setup("imap-sort-node");
	test_run("SORT, SORT=DISPLAY, ESORT, THREAD in a session", test_sort_session);
	test_run("ESEARCH, SEARCHRES, PARTIAL, WITHIN, casemap SEARCH", test_search_session);
	test_run("CONTEXT: UPDATE, ADDTO, REMOVEFROM, CANCELUPDATE", test_context_session);
	evm_fts_stop(&node);          /* its indexer thread reads the view */
	projector_stop(node.projector);
	evlog_close(&node.log);
	projector_destroy(&node.projector);
	view_close(&node.view);
	return test_done();
}

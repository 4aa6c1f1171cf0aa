/* test_imap_recent - IMAP4rev1 \Recent (RFC 3501 2.3.2) in one process
 * against a real node over socketpairs: only the first session to SELECT
 * a mailbox after a message arrived sees it \Recent (the log decides,
 * mailbox.claim_recent); a delivery while a rev1 session has the mailbox
 * selected becomes \Recent there (RECENT after EXISTS); EXAMINE and
 * IMAP4rev2 sessions never claim; STATUS RECENT counts what nobody
 * claimed; SEARCH RECENT / NEW / OLD. */
#include "gateway/imap/imap_session_testutil.h"

static void login(struct client *c)
{
	greet(c);
	send_line(c, "l LOGIN amy@acme.test secret");
	EXPECT(c, "l ", "l OK");
}

static void append(struct client *c, const char *tag, const char *msg)
{
	char line[256], done[32];

	snprintf(line, sizeof line, "%s APPEND Rec {%zu+}", tag, strlen(msg));
	send_line(c, line);
	send_line(c, msg);
	snprintf(done, sizeof done, "%s ", tag);
	EXPECT(c, done, "OK [APPENDUID");
}

static void test_recent(void)
{
	struct client a, b, c, d;
	char *l;

	login(&a);
	login(&b);
	login(&c);
	login(&d);
	send_line(&c, "c1 CREATE Rec");
	EXPECT(&c, "c1 ", "c1 OK");
	append(&c, "c2", "Subject: one\r\n\r\n1\r\n");
	append(&c, "c3", "Subject: two\r\n\r\n2\r\n");
	send_line(&c, "c4 STATUS Rec (RECENT MESSAGES)");
	EXPECT(&c, "* STATUS", "(RECENT 2 MESSAGES 2)");
	EXPECT(&c, "c4 ", "c4 OK");

	/* a selects first: both are \Recent there */
	send_line(&a, "a1 SELECT Rec");
	EXPECT(&a, "* 2 EXISTS", "EXISTS");
	EXPECT(&a, "* 2 RECENT", "RECENT");
	EXPECT(&a, "a1 ", "a1 OK [READ-WRITE]");
	send_line(&a, "a2 FETCH 1:2 (FLAGS)");
	EXPECT(&a, "* 1 FETCH", "FLAGS (\\Recent)");
	EXPECT(&a, "* 2 FETCH", "FLAGS (\\Recent)");
	EXPECT(&a, "a2 ", "a2 OK");
	send_line(&a, "a3 SEARCH RECENT");
	EXPECT(&a, "* SEARCH", "* SEARCH 1 2");
	EXPECT(&a, "a3 ", "a3 OK");
	send_line(&a, "a4 STORE 1 +FLAGS.SILENT (\\Seen)");
	EXPECT(&a, "a4 ", "a4 OK");
	send_line(&a, "a5 SEARCH NEW");
	EXPECT(&a, "* SEARCH", "* SEARCH 2");
	EXPECT(&a, "a5 ", "a5 OK");

	/* b selects second: nothing left for it */
	send_line(&b, "b1 SELECT Rec");
	EXPECT(&b, "* 0 RECENT", "RECENT");
	EXPECT(&b, "b1 ", "b1 OK");
	send_line(&b, "b2 FETCH 2 (FLAGS)");
	EXPECT(&b, "* 2 FETCH", "FLAGS ()");
	EXPECT(&b, "b2 ", "b2 OK");
	send_line(&b, "b3 SEARCH OLD");
	EXPECT(&b, "* SEARCH", "* SEARCH 1 2");
	EXPECT(&b, "b3 ", "b3 OK");
	send_line(&c, "c5 STATUS Rec (RECENT)");
	EXPECT(&c, "* STATUS", "(RECENT 0)");
	EXPECT(&c, "c5 ", "c5 OK");

	/* a delivery while a idles: a claims it, RECENT follows EXISTS */
	send_line(&a, "a6 IDLE");
	EXPECT(&a, "+ ", "+");
	append(&c, "c6", "Subject: three\r\n\r\n3\r\n");
	EXPECT(&a, "* 3 EXISTS", "EXISTS");
	EXPECT(&a, "* 3 RECENT", "RECENT");
	send_line(&a, "DONE");
	EXPECT(&a, "a6 ", "a6 OK");
	send_line(&a, "a7 FETCH 3 (FLAGS)");
	EXPECT(&a, "* 3 FETCH", "FLAGS (\\Recent)");
	EXPECT(&a, "a7 ", "a7 OK");
	/* b learns of it later: already claimed */
	send_line(&b, "b4 NOOP");
	EXPECT(&b, "* 3 EXISTS", "EXISTS");
	EXPECT(&b, "b4 ", "b4 OK");
	send_line(&b, "b5 NOOP");
	EXPECT(&b, "b5 ", "b5 OK");
	send_line(&b, "b6 FETCH 3 (FLAGS)");
	EXPECT(&b, "* 3 FETCH", "FLAGS ()");
	EXPECT(&b, "b6 ", "b6 OK");
	send_line(&b, "b7 SEARCH RECENT");
	l = until_line(&b, "* SEARCH");
	CHECK(strcmp(l, "* SEARCH") == 0);
	free(l);
	EXPECT(&b, "b7 ", "b7 OK");

	/* EXAMINE and IMAP4rev2 never claim */
	append(&c, "c7", "Subject: four\r\n\r\n4\r\n");
	send_line(&d, "d1 EXAMINE Rec");
	EXPECT(&d, "* 0 RECENT", "RECENT");
	EXPECT(&d, "d1 ", "d1 OK [READ-ONLY]");
	send_line(&d, "d2 ENABLE IMAP4rev2");
	EXPECT(&d, "d2 ", "d2 OK");
	send_line(&d, "d3 SELECT Rec");
	l = until_line(&d, "d3 ");
	CHECK(HAS(l, "d3 OK"));
	free(l);
	send_line(&d, "d4 FETCH 4 (FLAGS)");
	EXPECT(&d, "* 4 FETCH", "FLAGS ()");
	EXPECT(&d, "d4 ", "d4 OK");
	send_line(&c, "c8 STATUS Rec (RECENT)");
	EXPECT(&c, "* STATUS", "(RECENT 1)");
	EXPECT(&c, "c8 ", "c8 OK");
	/* a new rev1 SELECT takes it; the earlier claims are gone with
	 * the old selection */
	send_line(&b, "b8 SELECT Rec");
	EXPECT(&b, "* 1 RECENT", "RECENT");
	EXPECT(&b, "b8 ", "b8 OK");
	send_line(&b, "b9 SEARCH RECENT");
	EXPECT(&b, "* SEARCH", "* SEARCH 4");
	EXPECT(&b, "b9 ", "b9 OK");
	client_close(&a);
	client_close(&b);
	client_close(&c);
	client_close(&d);
}

int main(void)
{
	setup("imap-recent-node");
	test_run("\\Recent: one session, claims, STATUS, SEARCH", test_recent);
	teardown();
	return test_done();
}

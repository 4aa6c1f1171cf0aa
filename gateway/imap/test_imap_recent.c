/* test_imap_recent - IMAP4rev1 \Recent (RFC 3501 2.3.2) in one process
 * against a real node over socketpairs: only the first session to SELECT
 * a mailbox after a message arrived sees it \Recent (the log decides,
 * mailbox.claim_recent); a delivery while a rev1 session has the mailbox
 * selected becomes \Recent in the first such session to learn of it,
 * claimed before its EXISTS and RECENT are sent (issue 9 1.1); EXAMINE
 * shows what nobody claimed as \Recent without claiming; IMAP4rev2
 * sessions never claim; STATUS RECENT counts what nobody claimed; SEARCH
 * RECENT / NEW / OLD. */
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

	/* EXAMINE shows what nobody claimed; it and IMAP4rev2 never claim */
	append(&c, "c7", "Subject: four\r\n\r\n4\r\n");
	send_line(&d, "d1 EXAMINE Rec");
	EXPECT(&d, "* 1 RECENT", "RECENT");
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

/* Everything up to and including the tagged reply of tag, CRLFs kept. */
static char *reply(struct client *c, const char *tag)
{
	struct buf out = BUF_INIT;
	char *l;

	for (;;) {
		l = until_line(c, "");
		buf_printf(&out, "%s\r\n", l);
		if (l[0] == '\0' || strncmp(l, tag, strlen(tag)) == 0)
			break;
		free(l);
	}
	free(l);
	return out.data;
}

#define REPLY_HAS(c, tag, text) do { char *r_ = reply((c), (tag)); int ok_ = HAS(r_, text); \
	if (!ok_) fprintf(stderr, "expected %s in:\n%s\n", (text), r_); \
	free(r_); CHECK(ok_); } while (0)

/* Issue 9 1.1: two sessions have the mailbox selected when a message
 * arrives; the first told of it claims it before the EXISTS goes out
 * (RECENT in the same response), the other is told it is not recent, and a
 * third session's STATUS then counts nothing recent. */
static void test_selected_sessions(void)
{
	struct client a, b, c;

	login(&a);
	login(&b);
	login(&c);
	send_line(&c, "c1 CREATE Sel");
	EXPECT(&c, "c1 ", "c1 OK");
	send_line(&c, "c2 APPEND Sel {18+}");
	send_line(&c, "Subject: 1\r\n\r\n1\r\n");
	EXPECT(&c, "c2 ", "OK [APPENDUID");
	send_line(&a, "a1 SELECT Sel");
	REPLY_HAS(&a, "a1 ", "* 1 EXISTS\r\n* 1 RECENT\r\n");
	send_line(&b, "b1 SELECT Sel");
	REPLY_HAS(&b, "b1 ", "* 1 EXISTS\r\n* 0 RECENT\r\n");

	send_line(&c, "c3 APPEND Sel {18+}");
	send_line(&c, "Subject: 2\r\n\r\n2\r\n");
	EXPECT(&c, "c3 ", "OK [APPENDUID");
	send_line(&a, "a2 NOOP");
	REPLY_HAS(&a, "a2 ", "* 2 EXISTS\r\n* 2 RECENT\r\na2 OK");
	send_line(&b, "b2 NOOP");
	REPLY_HAS(&b, "b2 ", "* 2 EXISTS\r\n* 0 RECENT\r\nb2 OK");
	send_line(&c, "c4 STATUS Sel (RECENT)");
	EXPECT(&c, "* STATUS", "(RECENT 0)");
	EXPECT(&c, "c4 ", "c4 OK");
	send_line(&a, "a3 FETCH 2 (FLAGS)");
	EXPECT(&a, "* 2 FETCH", "FLAGS (\\Recent)");
	EXPECT(&a, "a3 ", "a3 OK");
	send_line(&b, "b3 FETCH 2 (FLAGS)");
	EXPECT(&b, "* 2 FETCH", "FLAGS ()");
	EXPECT(&b, "b3 ", "b3 OK");

	/* b idles: it learns first and claims; a is told later, not recent */
	send_line(&b, "b4 IDLE");
	EXPECT(&b, "+ ", "+");
	send_line(&c, "c5 APPEND Sel {18+}");
	send_line(&c, "Subject: 3\r\n\r\n3\r\n");
	EXPECT(&c, "c5 ", "OK [APPENDUID");
	EXPECT(&b, "* 3 EXISTS", "EXISTS");
	EXPECT(&b, "* 1 RECENT", "RECENT");
	send_line(&b, "DONE");
	EXPECT(&b, "b4 ", "b4 OK");
	send_line(&c, "c6 STATUS Sel (RECENT)");
	EXPECT(&c, "* STATUS", "(RECENT 0)");
	EXPECT(&c, "c6 ", "c6 OK");
	send_line(&a, "a4 SEARCH RECENT");
	REPLY_HAS(&a, "a4 ", "* SEARCH 1 2\r\n* 3 EXISTS\r\n* 2 RECENT\r\na4 OK");

	/* arrivals while a claim is in flight are claimed next, and the
	 * earlier ones are announced meanwhile (whatever the timing, b ends
	 * with both told and \Recent) */
	send_line(&b, "b5 IDLE");
	EXPECT(&b, "+ ", "+");
	send_line(&c, "c7 APPEND Sel {18+}");
	send_line(&c, "Subject: 4\r\n\r\n4\r\n");
	send_line(&c, "c8 APPEND Sel {18+}");
	send_line(&c, "Subject: 5\r\n\r\n5\r\n");
	EXPECT(&c, "c7 ", "OK [APPENDUID");
	EXPECT(&c, "c8 ", "OK [APPENDUID");
	EXPECT(&b, "* 5 EXISTS", "EXISTS");
	EXPECT(&b, "* 3 RECENT", "RECENT");
	send_line(&b, "DONE");
	EXPECT(&b, "b5 ", "b5 OK");
	send_line(&b, "b6 SEARCH RECENT");
	EXPECT(&b, "* SEARCH", "* SEARCH 3 4 5");
	EXPECT(&b, "b6 ", "b6 OK");
	send_line(&c, "c9 STATUS Sel (RECENT)");
	EXPECT(&c, "* STATUS", "(RECENT 0)");
	EXPECT(&c, "c9 ", "c9 OK");
	client_close(&a);
	client_close(&b);
	client_close(&c);
}

/* Issue 9 1.1: EXAMINE of a mailbox with 2 new messages answers
 * "* 2 RECENT", shows them \Recent and leaves them unclaimed; arrivals
 * while examined are \Recent there too while nobody claimed them. */
static void test_examine(void)
{
	struct client c, d, e;

	login(&c);
	login(&d);
	login(&e);
	send_line(&c, "c1 CREATE Exa");
	EXPECT(&c, "c1 ", "c1 OK");
	send_line(&c, "c2 APPEND Exa {18+}");
	send_line(&c, "Subject: 1\r\n\r\n1\r\n");
	EXPECT(&c, "c2 ", "OK [APPENDUID");
	send_line(&c, "c3 APPEND Exa {18+}");
	send_line(&c, "Subject: 2\r\n\r\n2\r\n");
	EXPECT(&c, "c3 ", "OK [APPENDUID");
	send_line(&c, "c4 SELECT Exa");
	EXPECT(&c, "* 2 RECENT", "RECENT");
	EXPECT(&c, "c4 ", "c4 OK");
	send_line(&c, "c5 UNSELECT");
	EXPECT(&c, "c5 ", "c5 OK");
	send_line(&c, "c6 APPEND Exa {18+}");
	send_line(&c, "Subject: 3\r\n\r\n3\r\n");
	EXPECT(&c, "c6 ", "OK [APPENDUID");
	send_line(&c, "c7 APPEND Exa {18+}");
	send_line(&c, "Subject: 4\r\n\r\n4\r\n");
	EXPECT(&c, "c7 ", "OK [APPENDUID");

	send_line(&d, "d1 EXAMINE Exa");
	REPLY_HAS(&d, "d1 ", "* 4 EXISTS\r\n* 2 RECENT\r\n");
	send_line(&d, "d2 FETCH 1:4 (FLAGS)");
	EXPECT(&d, "* 2 FETCH", "FLAGS ()");
	EXPECT(&d, "* 3 FETCH", "FLAGS (\\Recent)");
	EXPECT(&d, "* 4 FETCH", "FLAGS (\\Recent)");
	EXPECT(&d, "d2 ", "d2 OK");
	send_line(&c, "c8 STATUS Exa (RECENT)");
	EXPECT(&c, "* STATUS", "(RECENT 2)");
	EXPECT(&c, "c8 ", "c8 OK");
	send_line(&c, "c9 APPEND Exa {18+}");
	send_line(&c, "Subject: 5\r\n\r\n5\r\n");
	EXPECT(&c, "c9 ", "OK [APPENDUID");
	send_line(&d, "d3 NOOP");
	REPLY_HAS(&d, "d3 ", "* 5 EXISTS\r\n* 3 RECENT\r\nd3 OK");
	send_line(&c, "c10 STATUS Exa (RECENT)");
	EXPECT(&c, "* STATUS", "(RECENT 3)");
	EXPECT(&c, "c10 ", "c10 OK");
	/* the next SELECT takes them all */
	send_line(&e, "e1 SELECT Exa");
	REPLY_HAS(&e, "e1 ", "* 5 EXISTS\r\n* 3 RECENT\r\n");
	send_line(&d, "d4 EXAMINE Exa");
	REPLY_HAS(&d, "d4 ", "* 5 EXISTS\r\n* 0 RECENT\r\n");
	client_close(&c);
	client_close(&d);
	client_close(&e);
}

int main(void)
{
	setup("imap-recent-node");
	test_run("\\Recent: one session, claims, STATUS, SEARCH", test_recent);
	test_run("\\Recent: selected sessions claim before EXISTS", test_selected_sessions);
	test_run("\\Recent: EXAMINE shows what nobody claimed", test_examine);
	teardown();
	return test_done();
}

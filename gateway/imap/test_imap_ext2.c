/* test_imap_ext2 - UNAUTHENTICATE (RFC 8437) and REPLACE / UID REPLACE
 * (RFC 8508) in one process against a real node over socketpairs: the
 * state after UNAUTHENTICATE is that of a new connection (commands,
 * capabilities, ENABLE), a second login works; REPLACE answers APPENDUID,
 * then the old message's EXPUNGE and the new one's EXISTS, then OK, and its
 * error cases leave both mailboxes as they were. */
#include "gateway/imap/imap_session_testutil.h"

static const char msg1[] = "Subject: one\r\n\r\nfirst\r\n";
static const char msg2[] = "Subject: two\r\n\r\nsecond\r\n";
static const char draft[] = "Subject: draft v2\r\n\r\nbetter\r\n";

/* Sends "<prefix> {n+}\r\n<body>\r\n" (LITERAL+). */
static void send_with_literal(struct client *c, const char *prefix, const char *body)
{
	char line[256];

	snprintf(line, sizeof line, "%s {%zu+}", prefix, strlen(body));
	send_line(c, line);
	send_line(c, body);
}

static void test_unauthenticate(void)
{
	struct client c;
	char *l;

	greet(&c);
	send_line(&c, "a UNAUTHENTICATE");
	EXPECT(&c, "a ", "a BAD Log in first");
	send_line(&c, "b LOGIN amy@acme.test secret");
	EXPECT(&c, "b ", "b OK");
	send_line(&c, "c ENABLE UTF8=ACCEPT");
	EXPECT(&c, "* ", "* ENABLED UTF8=ACCEPT");
	EXPECT(&c, "c ", "c OK");
	send_line(&c, "d SELECT INBOX");
	EXPECT(&c, "d ", "d OK");
	send_line(&c, "e UNAUTHENTICATE now");
	EXPECT(&c, "e ", "e BAD");
	send_line(&c, "f UNAUTHENTICATE");
	l = until_line(&c, "f ");
	CHECK(HAS(l, "f OK [CAPABILITY ") && HAS(l, " AUTH=PLAIN") && HAS(l, " LITERAL- ") &&
	      !HAS(l, "LITERAL+"));
	free(l);
	/* the not-authenticated state: no mailbox, no account */
	send_line(&c, "g FETCH 1 FLAGS");
	EXPECT(&c, "g ", "g BAD Log in first");
	send_line(&c, "h SELECT INBOX");
	EXPECT(&c, "h ", "h BAD Log in first");
	send_line(&c, "i CAPABILITY");
	l = until_line(&c, "* CAPABILITY");
	CHECK(HAS(l, " AUTH=PLAIN") && HAS(l, " UNAUTHENTICATE"));
	free(l);
	EXPECT(&c, "i ", "i OK");
	/* pre-authentication limits again: LITERAL- (RFC 7888 4) */
	send_line(&c, "j LOGIN {5000+}");
	EXPECT(&c, "j ", "j BAD [TOOBIG]");
	EXPECT(&c, "* ", "* BYE");
	client_close(&c);

	greet(&c);
	send_line(&c, "a LOGIN amy@acme.test secret");
	EXPECT(&c, "a ", "a OK");
	send_line(&c, "b ENABLE UTF8=ACCEPT");
	EXPECT(&c, "b ", "b OK");
	send_line(&c, "c UNAUTHENTICATE");
	EXPECT(&c, "c ", "c OK");
	/* another user on the same connection; ENABLE starts over */
	send_line(&c, "d LOGIN old@acme.test secret");
	EXPECT(&c, "d ", "d OK [CAPABILITY");
	send_line(&c, "e ENABLE UTF8=ACCEPT");
	EXPECT(&c, "* ", "* ENABLED UTF8=ACCEPT");
	EXPECT(&c, "e ", "e OK");
	send_with_literal(&c, "f APPEND INBOX", msg1);
	EXPECT(&c, "f ", "f OK [APPENDUID");
	send_line(&c, "g STATUS INBOX (MESSAGES)");
	EXPECT(&c, "* STATUS", "(MESSAGES 1)");
	EXPECT(&c, "g ", "g OK");
	client_close(&c);
}

static void test_replace(void)
{
	struct client c;
	char *l;

	greet(&c);
	send_line(&c, "a LOGIN amy@acme.test secret");
	EXPECT(&c, "a ", "a OK");
	send_line(&c, "b CREATE Work");
	EXPECT(&c, "b ", "b OK");
	send_with_literal(&c, "c APPEND Work", msg1);
	EXPECT(&c, "c ", "c OK [APPENDUID");
	send_with_literal(&c, "d APPEND Work", msg2);
	EXPECT(&c, "d ", "d OK [APPENDUID");
	send_line(&c, "e SELECT Work");
	EXPECT(&c, "e ", "e OK [READ-WRITE]");
	/* same mailbox: APPENDUID, the EXPUNGE, the EXISTS, then OK */
	send_with_literal(&c, "f REPLACE 1 Work (\\Seen \\Draft)", draft);
	l = until_line(&c, "* OK [APPENDUID");
	CHECK(HAS(l, " 3] "));
	free(l);
	EXPECT(&c, "* 1 ", "* 1 EXPUNGE");
	EXPECT(&c, "f ", "f OK REPLACE completed");
	send_line(&c, "g FETCH 1:* (UID FLAGS)");
	EXPECT(&c, "* 1 ", "UID 2");
	l = until_line(&c, "* 2 ");
	CHECK(HAS(l, "UID 3") && HAS(l, "\\Seen") && HAS(l, "\\Draft"));
	free(l);
	EXPECT(&c, "g ", "g OK");
	/* the errors: nothing appended, nothing expunged */
	send_with_literal(&c, "h UID REPLACE 3 Nowhere", draft);
	EXPECT(&c, "h ", "h NO [TRYCREATE]");
	send_with_literal(&c, "i REPLACE 9 Work", draft);
	EXPECT(&c, "i ", "i BAD");
	send_with_literal(&c, "j UID REPLACE 99 Work", draft);
	EXPECT(&c, "j ", "j NO");
	send_with_literal(&c, "k REPLACE 1:2 Work", draft);
	EXPECT(&c, "k ", "k BAD");
	send_line(&c, "l REPLACE 1 Work");
	EXPECT(&c, "l ", "l BAD");
	send_line(&c, "m STATUS Work (MESSAGES UIDNEXT)");
	EXPECT(&c, "* STATUS", "(MESSAGES 2 UIDNEXT 4)");
	EXPECT(&c, "m ", "m OK");
	/* UID REPLACE into another mailbox */
	send_line(&c, "n CREATE Out");
	EXPECT(&c, "n ", "n OK");
	send_with_literal(&c, "o UID REPLACE 3 Out", draft);
	EXPECT(&c, "* OK [APPENDUID", "] ");
	EXPECT(&c, "* 2 ", "* 2 EXPUNGE");
	EXPECT(&c, "o ", "o OK REPLACE completed");
	send_line(&c, "p STATUS Out (MESSAGES)");
	EXPECT(&c, "* STATUS", "(MESSAGES 1)");
	EXPECT(&c, "p ", "p OK");
	/* read-only: refused */
	send_line(&c, "q EXAMINE Work");
	EXPECT(&c, "q ", "q OK [READ-ONLY]");
	send_with_literal(&c, "r REPLACE 1 Work", draft);
	EXPECT(&c, "r ", "r NO [READ-ONLY]");
	/* not in the authenticated state */
	send_line(&c, "s UNSELECT");
	EXPECT(&c, "s ", "s OK");
	send_with_literal(&c, "t REPLACE 1 Work", draft);
	EXPECT(&c, "t ", "t BAD No mailbox selected");
	client_close(&c);
}

int main(void)
{
	setup("imap-ext2-node");
	test_run("UNAUTHENTICATE", test_unauthenticate);
	test_run("REPLACE and UID REPLACE", test_replace);
	teardown();
	return test_done();
}

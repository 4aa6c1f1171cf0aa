/* test_imap_listext - the list/status/quota/append extensions in one
 * process against a real node (embedded log, view, projector) over
 * socketpairs: LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, CREATE-SPECIAL-USE,
 * STATUS=SIZE, QUOTA, MULTIAPPEND (all or none), CATENATE, OBJECTID,
 * SAVEDATE, PREVIEW. The harness is the one of test_imap_session.c. */
#include "gateway/fts/fts.h"
#include "gateway/imap/imap_session.h"
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

static void login_as(struct client *c, const char *user)
{
	char line[128];

	client_open(c);
	pump(c, "\r\n");
	c->in.len = 0;
	c->in.data[0] = '\0';
	snprintf(line, sizeof line, "L1 LOGIN %s secret", user);
	CMD_HAS(c, "L1", line, "L1 OK [CAPABILITY");
}

static const char MSG1[] = "From: a@acme.test\r\nSubject: one\r\n\r\nHello preview world\r\n";
static const char MSG2[] = "From: b@acme.test\r\nSubject: two\r\n\r\nSecond body\r\n";

/* "tag APPEND box {n+}\r\nmsg" for each message (LITERAL+), malloc'ed. */
static char *append_line(const char *tag, const char *box, const char *const *msgs, size_t n)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s APPEND %s", tag, box);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, " (\\Seen) {%zu+}\r\n%s", strlen(msgs[i]), msgs[i]);
	return buf_steal(&b);
}

static void test_capabilities(void)
{
	struct client c;
	char *o;

	login_as(&c, "amy@acme.test");
	o = cmd(&c, "a", "a CAPABILITY");
	CHECK(HAS(o, " LIST-EXTENDED"));
	CHECK(HAS(o, " LIST-STATUS"));
	CHECK(HAS(o, " STATUS=SIZE"));
	CHECK(HAS(o, " CREATE-SPECIAL-USE"));
	CHECK(HAS(o, " QUOTA "));
	CHECK(HAS(o, " QUOTA=RES-STORAGE"));
	CHECK(HAS(o, " MULTIAPPEND"));
	CHECK(HAS(o, " CATENATE"));
	CHECK(HAS(o, " PREVIEW"));
	CHECK(HAS(o, " SAVEDATE"));
	CHECK(HAS(o, " OBJECTID"));
	free(o);
	client_close(&c);
}

static void test_create_special_use(void)
{
	struct client c;
	char *o;

	login_as(&c, "amy@acme.test");
	CMD_HAS(&c, "a", "a CREATE Outbox (USE (\\sent))", "a OK [MAILBOXID (");
	CMD_HAS(&c, "b", "b LIST \"\" Outbox", "* LIST (\\HasNoChildren \\Sent) \"/\" \"Outbox\"");
	CMD_HAS(&c, "c", "c CREATE Bogus (USE (\\Bogus))", "c NO [USEATTR]");
	CMD_HAS(&c, "d", "d CREATE Two (USE (\\Sent \\Junk))", "d NO [USEATTR]");
	CMD_HAS(&c, "e", "e CREATE Plain (USE ())", "e OK");
	CMD_HAS(&c, "f", "f CREATE Bad (FOO)", "f BAD");
	o = cmd(&c, "g", "g LIST \"\" * RETURN (SPECIAL-USE)");
	CHECK(HAS(o, "\\Sent) \"/\" \"Outbox\""));
	CHECK(HAS(o, "\\Trash) \"/\" \"Trash\""));
	free(o);
	o = cmd(&c, "h", "h LIST (SPECIAL-USE) \"\" *");
	CHECK(HAS(o, "\"Outbox\"") && HAS(o, "\"Junk\""));
	CHECK(!HAS(o, "\"INBOX\"") && !HAS(o, "\"Plain\""));
	free(o);
	CMD_HAS(&c, "i", "i STATUS Outbox (MESSAGES SIZE MAILBOXID)", "(MESSAGES 0 SIZE 0 MAILBOXID (");
	CMD_HAS(&c, "j", "j DELETE Outbox", "j OK");
	CMD_HAS(&c, "k", "k DELETE Plain", "k OK");
	client_close(&c);
}

static void test_list_extended(void)
{
	struct client c;
	char *o;

	login_as(&c, "amy@acme.test");
	CMD_HAS(&c, "a", "a CREATE Fruit/Apple", "a OK");
	CMD_HAS(&c, "b", "b CREATE Fruit/Pear", "b OK");
	CMD_HAS(&c, "c", "c SUBSCRIBE Fruit/Apple", "c OK");
	CMD_HAS(&c, "d", "d SUBSCRIBE INBOX", "d OK");
	/* RFC 5258 5: selection SUBSCRIBED */
	o = cmd(&c, "e", "e LIST (SUBSCRIBED) \"\" *");
	CHECK(HAS(o, "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Fruit/Apple\""));
	CHECK(HAS(o, "\\Subscribed) \"/\" \"INBOX\""));
	CHECK(!HAS(o, "Fruit/Pear") && !HAS(o, "\"Fruit\"\r\n"));
	free(o);
	/* RECURSIVEMATCH: the parent with CHILDINFO */
	o = cmd(&c, "f", "f LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %");
	CHECK(HAS(o, "* LIST (\\NonExistent \\HasChildren) \"/\" \"Fruit\" (\"CHILDINFO\" (\"SUBSCRIBED\"))"));
	CHECK(!HAS(o, "Fruit/Apple"));
	free(o);
	CMD_HAS(&c, "g", "g LIST (RECURSIVEMATCH) \"\" %", "g BAD");
	CMD_HAS(&c, "h", "h LIST (BOGUS) \"\" %", "h BAD");
	CMD_HAS(&c, "i", "i LIST \"\" % RETURN (BOGUS)", "i BAD");
	/* several patterns, each name once */
	o = cmd(&c, "j", "j LIST \"\" (INBOX \"Fruit/*\" \"Fruit/Apple\")");
	CHECK(HAS(o, "\"INBOX\"") && HAS(o, "\"Fruit/Pear\""));
	CHECK(HAS(o, "\"Fruit/Apple\"") && !HAS(strstr(o, "\"Fruit/Apple\"") + 1, "\"Fruit/Apple\""));
	CHECK(!HAS(o, "\"Sent\""));
	free(o);
	/* return options SUBSCRIBED and CHILDREN */
	o = cmd(&c, "k", "k LIST \"\" \"Fruit*\" RETURN (SUBSCRIBED CHILDREN)");
	CHECK(HAS(o, "* LIST (\\NonExistent \\HasChildren) \"/\" \"Fruit\""));
	CHECK(HAS(o, "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Fruit/Apple\""));
	CHECK(HAS(o, "* LIST (\\HasNoChildren) \"/\" \"Fruit/Pear\""));
	free(o);
	/* plain LIST keeps \Noselect for the implied parent */
	CMD_HAS(&c, "l", "l LIST \"\" Fruit", "(\\Noselect \\HasChildren) \"/\" \"Fruit\"");
	/* RFC 5819 LIST-STATUS */
	o = cmd(&c, "m", "m LIST \"\" \"Fruit*\" RETURN (STATUS (MESSAGES UIDNEXT SIZE))");
	CHECK(HAS(o, "* LIST (\\HasNoChildren) \"/\" \"Fruit/Pear\"\r\n* STATUS \"Fruit/Pear\" (MESSAGES 0 UIDNEXT 1 SIZE 0)"));
	CHECK(!HAS(o, "STATUS \"Fruit\" "));
	free(o);
	CMD_HAS(&c, "n", "n LIST \"\" % RETURN (STATUS (BOGUS))", "n BAD");
	/* a subscribed name that is no mailbox (RFC 5258 3.1) */
	CMD_HAS(&c, "n1", "n1 SUBSCRIBE Gone", "n1 OK");
	CMD_HAS(&c, "n2", "n2 LIST (SUBSCRIBED) \"\" G*", "* LIST (\\NonExistent \\Subscribed) \"/\" \"Gone\"");
	o = cmd(&c, "n3", "n3 LIST \"\" G*");
	CHECK(!HAS(o, "Gone") && HAS(o, "n3 OK"));
	free(o);
	CMD_HAS(&c, "n5", "n5 LSUB \"\" G*", "* LSUB () \"/\" \"Gone\"");
	CMD_HAS(&c, "n4", "n4 UNSUBSCRIBE Gone", "n4 OK");
	CMD_HAS(&c, "o", "o DELETE Fruit/Apple", "o OK");
	CMD_HAS(&c, "p", "p DELETE Fruit/Pear", "p OK");
	client_close(&c);
}

static void test_quota(void)
{
	struct client c;
	const char *msgs[2];
	char big[16384 + 64], *line, *o;

	login_as(&c, "amy@acme.test");
	o = cmd(&c, "a", "a GETQUOTAROOT INBOX");
	CHECK(HAS(o, "* QUOTAROOT \"INBOX\"\r\n") && HAS(o, "a OK") && !HAS(o, "* QUOTA "));
	free(o);
	CMD_HAS(&c, "b", "b GETQUOTA \"\"", "b NO");
	client_close(&c);

	login_as(&c, "bob@acme.test");
	o = cmd(&c, "c", "c GETQUOTAROOT inbox");
	CHECK(HAS(o, "* QUOTAROOT \"INBOX\" \"\"\r\n* QUOTA \"\" (STORAGE 0 20)\r\nc OK"));
	free(o);
	CMD_HAS(&c, "d", "d GETQUOTAROOT Nope", "d NO [NONEXISTENT]");
	CMD_HAS(&c, "e", "e SETQUOTA \"\" (STORAGE 100)", "e NO [NOPERM]");
	CMD_HAS(&c, "f", "f SETQUOTA \"\"", "f BAD");
	CMD_HAS(&c, "g", "g GETQUOTA \"x\"", "g NO");
	msgs[0] = MSG1;
	line = append_line("h", "INBOX", msgs, 1);
	CMD_HAS(&c, "h", line, "h OK [APPENDUID");
	free(line);
	CMD_HAS(&c, "i", "i GETQUOTA \"\"", "* QUOTA \"\" (STORAGE 1 20)");
	/* MULTIAPPEND over quota: all or none (RFC 3502) */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "Subject: big\r\n\r\n", 16);
	msgs[0] = MSG2;
	msgs[1] = big;
	line = append_line("j", "INBOX", msgs, 2);
	CMD_HAS(&c, "j", line, "j OK [APPENDUID");
	free(line);
	line = append_line("k", "INBOX", msgs, 2);
	CMD_HAS(&c, "k", line, "k NO [OVERQUOTA]");
	free(line);
	CMD_HAS(&c, "l", "l STATUS INBOX (MESSAGES)", "(MESSAGES 3)");
	line = append_line("m", "INBOX", msgs + 1, 1);
	CMD_HAS(&c, "m", line, "m NO [OVERQUOTA]");
	free(line);
	client_close(&c);
}

static void test_multiappend_catenate(void)
{
	struct client c;
	const char *msgs[2] = { MSG1, MSG2 };
	char *line, *o, buf[512];

	login_as(&c, "amy@acme.test");
	CMD_HAS(&c, "a", "a CREATE Cat", "a OK");
	line = append_line("b", "Cat", msgs, 2);
	CMD_HAS(&c, "b", line, "b OK [APPENDUID ");
	free(line);
	o = cmd(&c, "c", "c STATUS Cat (MESSAGES UIDNEXT)");
	CHECK(HAS(o, "(MESSAGES 2 UIDNEXT 3)"));
	free(o);
	line = append_line("d", "Nope", msgs, 2);
	CMD_HAS(&c, "d", line, "d NO [TRYCREATE]");
	free(line);
	/* CATENATE: a TEXT part and the body of message 2 (section TEXT) */
	snprintf(buf, sizeof buf, "e APPEND Cat CATENATE (TEXT {%zu+}\r\n%s URL \"/Cat;UIDVALIDITY=%s/;UID=2/;SECTION=TEXT\")",
		 strlen("Subject: cat\r\n\r\n"), "Subject: cat\r\n\r\n", "");
	/* no UIDVALIDITY value: a bad URL */
	CMD_HAS(&c, "e", buf, "e NO [BADURL /Cat;UIDVALIDITY=/;UID=2/;SECTION=TEXT]");
	snprintf(buf, sizeof buf, "f APPEND Cat (\\Flagged) CATENATE (TEXT {%zu+}\r\n%s URL \"/Cat/;UID=2/;SECTION=TEXT\")",
		 strlen("Subject: cat\r\n\r\n"), "Subject: cat\r\n\r\n");
	CMD_HAS(&c, "f", buf, "f OK [APPENDUID ");
	CMD_HAS(&c, "g", "g SELECT Cat", "* OK [MAILBOXID (");
	o = cmd(&c, "h", "h FETCH 3 (FLAGS BODY.PEEK[])");
	CHECK(HAS(o, "\\Flagged"));
	CHECK(HAS(o, "{29}\r\nSubject: cat\r\n\r\nSecond body\r\n"));
	free(o);
	/* a whole message by URL, then one that does not exist */
	CMD_HAS(&c, "i", "i APPEND Cat CATENATE (URL \"/Cat/;UID=1\" URL \"/Cat/;UID=1/;SECTION=TEXT\")", "i OK");
	CMD_HAS(&c, "j", "j APPEND Cat CATENATE (URL \"/Cat/;UID=99\")", "j NO [BADURL /Cat/;UID=99]");
	CMD_HAS(&c, "k", "k APPEND Cat CATENATE (FOO \"x\")", "k BAD");
	/* OBJECTID, SAVEDATE, PREVIEW */
	o = cmd(&c, "l", "l FETCH 1 (EMAILID THREADID SAVEDATE PREVIEW)");
	CHECK(HAS(o, "* 1 FETCH (EMAILID ("));
	CHECK(HAS(o, "THREADID NIL SAVEDATE \""));
	CHECK(HAS(o, "PREVIEW \"Hello preview world\")"));
	/* RFC 8474 6: SEARCH EMAILID */
	if (HAS(o, "EMAILID (")) {
		char id[64] = "", sline[128];

		CHECK(sscanf(strstr(o, "EMAILID (") + 9, "%63[0-9a-f]", id) == 1);
		snprintf(sline, sizeof sline, "s SEARCH EMAILID %s", id);
		CMD_HAS(&c, "s", sline, "* SEARCH 1\r\n");
	}
	free(o);
	CMD_HAS(&c, "t", "t SEARCH THREADID T1", "* SEARCH\r\n");
	CMD_HAS(&c, "m", "m FETCH 1 (PREVIEW (LAZY))", "PREVIEW \"Hello preview world\"");
	CMD_HAS(&c, "n", "n SEARCH SAVEDSINCE 1-Jan-2000", "* SEARCH 1 2 3 4");
	o = cmd(&c, "o", "o SEARCH SAVEDBEFORE 1-Jan-2000");
	CHECK(HAS(o, "* SEARCH\r\n") && HAS(o, "o OK"));
	free(o);
	CMD_HAS(&c, "p", "p SEARCH SAVEDATESUPPORTED", "* SEARCH 1 2 3 4");
	CMD_HAS(&c, "p1", "p1 STORE 1 +FLAGS (\\Deleted)", "p1 OK");
	CMD_HAS(&c, "p2", "p2 STATUS Cat (DELETED DELETED-STORAGE)", "(DELETED 1 DELETED-STORAGE 1)");
	CMD_HAS(&c, "q", "q CLOSE", "q OK");
	CMD_HAS(&c, "q2", "q2 STATUS Cat (MESSAGES DELETED-STORAGE)", "(MESSAGES 3 DELETED-STORAGE 0)");
	CMD_HAS(&c, "r", "r STATUS Cat (SIZE)", "(SIZE ");
	/* MULTIAPPEND with a date-time per message, quoted or as a literal */
	snprintf(buf, sizeof buf, "u APPEND Cat \"14-Nov-2023 22:13:20 +0000\" {%zu+}\r\n%s () {26+}\r\n"
		 "15-Nov-2023 22:13:20 +0000 {%zu+}\r\n%s", strlen(MSG1), MSG1, strlen(MSG2), MSG2);
	CMD_HAS(&c, "u", buf, "u OK [APPENDUID ");
	CMD_HAS(&c, "v", "v EXAMINE Cat", "* 5 EXISTS");
	o = cmd(&c, "w", "w FETCH 4:5 INTERNALDATE");
	CHECK(HAS(o, "* 4 FETCH (INTERNALDATE \"14-Nov-2023 22:13:20 +0000\")"));
	CHECK(HAS(o, "* 5 FETCH (INTERNALDATE \"15-Nov-2023 22:13:20 +0000\")"));
	free(o);
	client_close(&c);
}

int main(void)
{
	setup("imap-listext-node");
	add_account("bob@acme.test", "Bob", 20480);
	test_run("capabilities", test_capabilities);
	test_run("CREATE-SPECIAL-USE, SPECIAL-USE, STATUS SIZE MAILBOXID", test_create_special_use);
	test_run("LIST-EXTENDED, LIST-STATUS", test_list_extended);
	test_run("QUOTA, OVERQUOTA, MULTIAPPEND all or none", test_quota);
	test_run("MULTIAPPEND, CATENATE, OBJECTID, SAVEDATE, PREVIEW", test_multiappend_catenate);
	evm_fts_stop(&node);          /* its indexer thread reads the view */
	projector_stop(node.projector);
	evlog_close(&node.log);
	projector_destroy(&node.projector);
	view_close(&node.view);
	return test_done();
}

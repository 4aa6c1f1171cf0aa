/* test_imap_session_state - what a session tells its client about the
 * selected mailbox, in one process against a real node over socketpairs
 * (issue 9, section 1): FLAGS before a FETCH carries a new keyword (RFC
 * 9051 7.3.5), nothing after LOGOUT's BYE, HIGHESTMODSEQ on the first
 * CONDSTORE enabling command (RFC 7162 3.1.2.1), SEARCH RETURN (UPDATE)
 * by sequence number (RFC 5267 4.3), an empty BINARY part as {0}. */
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
	char *o;

	snprintf(line, sizeof line, "%s APPEND %s %s {%zu+}\r\n%s", tag, mbox, flags, strlen(msg), msg);
	o = cmd(c, tag, line);
	CHECK(HAS(o, "OK [APPENDUID"));
	free(o);
}

/* Position of needle in o, or -1. */
static long at(const char *o, const char *needle)
{
	const char *p = strstr(o, needle);

	return p != NULL ? (long)(p - o) : -1;
}

static void test_flags_announced(void)
{
	struct client c;
	char *o;

	login(&c);
	CMD_HAS(&c, "a", "a CREATE Kw", "a OK");
	append(&c, "b", "Kw", "($Old)", "Subject: k1\r\n\r\none\r\n");
	o = cmd(&c, "c", "c SELECT Kw");
	CHECK(HAS(o, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Old)"));
	CHECK(HAS(o, "[PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Old \\*)]"));
	free(o);
	/* a new keyword: FLAGS and PERMANENTFLAGS come before the FETCH */
	o = cmd(&c, "d", "d STORE 1 +FLAGS ($New)");
	CHECK(at(o, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Old $New)") >= 0);
	CHECK(at(o, "$Old $New \\*)]") >= 0);
	CHECK(at(o, "* FLAGS (") < at(o, "* 1 FETCH"));
	free(o);
	/* already announced (in another case): nothing again */
	o = cmd(&c, "e", "e STORE 1 +FLAGS ($new)");
	CHECK(!HAS(o, "* FLAGS"));
	free(o);
	/* EXAMINE: the keywords, none permanent */
	o = cmd(&c, "f", "f EXAMINE Kw");
	CHECK(HAS(o, "* FLAGS (") && HAS(o, " $Old") && HAS(o, " $New"));
	CHECK(HAS(o, "[PERMANENTFLAGS ()]"));
	free(o);
	/* nothing after BYE */
	o = cmd(&c, "g", "g LOGOUT");
	CHECK(HAS(o, "* BYE"));
	CHECK(at(o, "g OK") == at(o, "* BYE") + (long)strlen("* BYE Logging out\r\n"));
	free(o);
	client_close(&c);
}

static void test_highestmodseq_on_enable(void)
{
	struct client c;
	char *o;

	login(&c);
	CMD_HAS(&c, "a", "a CREATE Hm", "a OK");
	append(&c, "b", "Hm", "()", "Subject: h1\r\n\r\none\r\n");
	CMD_HAS(&c, "c", "c SELECT Hm", "c OK");
	o = cmd(&c, "d", "d FETCH 1 (MODSEQ)");
	CHECK(at(o, "* OK [HIGHESTMODSEQ ") >= 0 && at(o, "* OK [HIGHESTMODSEQ ") < at(o, "* 1 FETCH"));
	free(o);
	o = cmd(&c, "e", "e FETCH 1 (MODSEQ)");
	CHECK(!HAS(o, "HIGHESTMODSEQ"));
	free(o);
	client_close(&c);
	login(&c);
	CMD_HAS(&c, "c", "c SELECT Hm", "c OK");
	CMD_HAS(&c, "d", "d SEARCH MODSEQ 1", "* OK [HIGHESTMODSEQ ");
	client_close(&c);
}

static void test_context_by_sequence(void)
{
	struct client c;
	char *o;

	login(&c);
	CMD_HAS(&c, "a", "a CREATE Ctx", "a OK");
	append(&c, "b1", "Ctx", "($Junk)", "Subject: x1\r\n\r\none\r\n");
	append(&c, "b2", "Ctx", "()", "Subject: x2\r\n\r\ntwo\r\n");
	append(&c, "b3", "Ctx", "($Junk)", "Subject: x3\r\n\r\nthree\r\n");
	CMD_HAS(&c, "c", "c SELECT Ctx", "c OK");
	CMD_HAS(&c, "s", "s SEARCH RETURN (UPDATE) KEYWORD $Junk", "* ESEARCH (TAG \"s\") ALL 1,3");
	CMD_HAS(&c, "d", "d STORE 2 +FLAGS ($Junk)", "* ESEARCH (TAG \"s\") ADDTO (0 2)");
	CMD_HAS(&c, "e", "e STORE 1 +FLAGS (\\Deleted)", "e OK");
	o = cmd(&c, "f", "f EXPUNGE");
	CHECK(at(o, "* ESEARCH (TAG \"s\") REMOVEFROM (0 1)") >= 0);
	CHECK(at(o, "REMOVEFROM (0 1)") < at(o, "* 1 EXPUNGE"));
	free(o);
	CMD_HAS(&c, "g", "g STORE 2 -FLAGS ($Junk)", "* ESEARCH (TAG \"s\") REMOVEFROM (0 2)");
	CMD_HAS(&c, "h", "h CANCELUPDATE \"s\"", "h OK");
	o = cmd(&c, "i", "i STORE 2 +FLAGS ($Junk)");
	CHECK(!HAS(o, "ESEARCH"));
	free(o);
	client_close(&c);
}

static void test_binary_empty(void)
{
	struct client c;
	char *o;

	login(&c);
	CMD_HAS(&c, "a", "a CREATE Bin", "a OK");
	append(&c, "b", "Bin", "()",
	       "Subject: e\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
	       "--B\r\nContent-Transfer-Encoding: base64\r\n\r\n\r\n--B\r\n\r\n\r\n--B--\r\n");
	CMD_HAS(&c, "c", "c SELECT Bin", "c OK");
	CMD_HAS(&c, "d", "d FETCH 1 (BINARY.PEEK[1])", "* 1 FETCH (BINARY[1] {0}\r\n)");
	CMD_HAS(&c, "e", "e FETCH 1 (BINARY[2])", "BINARY[2] {0}\r\n");
	o = cmd(&c, "f", "f FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2])");
	CHECK(HAS(o, "BINARY.SIZE[1] 0 BINARY.SIZE[2] 0"));
	free(o);
	/* a truncated multipart whose last part is empty, a headers-only part */
	append(&c, "g", "Bin", "()",
	       "Subject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
	       "--B\r\nContent-Type: text/plain\r\n--B\r\n\r\n");
	CMD_HAS(&c, "h", "h NOOP", "h OK");
	o = cmd(&c, "i", "i FETCH 2 (BINARY.PEEK[1] BINARY.PEEK[2] BODY.PEEK[1] BODY.PEEK[2])");
	CHECK(HAS(o, "* 2 FETCH (BINARY[1] {0}\r\n BINARY[2] {0}\r\n BODY[1] {0}\r\n BODY[2] {0}\r\n)"));
	free(o);
	client_close(&c);
}

int main(void)
{
	setup("imap-session-state-node");
	test_run("FLAGS before a new keyword; nothing after BYE", test_flags_announced);
	test_run("HIGHESTMODSEQ on the first CONDSTORE enabling command", test_highestmodseq_on_enable);
	test_run("SEARCH RETURN (UPDATE) by sequence number", test_context_by_sequence);
	test_run("BINARY of an empty part", test_binary_empty);
	evm_fts_stop(&node);          /* its indexer thread reads the view */
	projector_stop(node.projector);
	evlog_close(&node.log);
	projector_destroy(&node.projector);
	view_close(&node.view);
	return test_done();
}

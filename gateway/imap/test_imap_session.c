/* test_imap_session - IMAP sessions in one process against a real node
 * (embedded log, view, projector) over socketpairs: login (threaded
 * yescrypt), mailboxes, APPEND read back byte for byte, FETCH, STORE,
 * SEARCH, COPY/MOVE with COPYUID, EXPUNGE rules between two sessions,
 * IDLE pushed by a delivery, pipelining, one byte at a time, errors. */
#include "gateway/fts/fts.h"
#include "gateway/imap/imap_session.h"
#include "gateway/command.h"
#include "gateway/deliver.h"
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

static void test_greeting_and_auth(void)
{
	struct client c;

	client_open(&c);
	CHECK(pump(&c, "\r\n"));
	CHECK(HAS(c.in.data, "* OK [CAPABILITY IMAP4rev1 IMAP4rev2"));
	CHECK(HAS(c.in.data, "AUTH=PLAIN"));
	c.in.len = 0;
	c.in.data[0] = '\0';
	CMD_HAS(&c, "a", "a CAPABILITY", "a OK");
	CMD_HAS(&c, "b", "b LOGIN amy@acme.test wrong", "b NO [AUTHENTICATIONFAILED]");
	CMD_HAS(&c, "c", "c LOGIN nobody@acme.test secret", "c NO [AUTHENTICATIONFAILED]");
	CMD_HAS(&c, "d", "d SELECT INBOX", "d BAD");
	/* SASL PLAIN, continuation form: "\0amy@acme.test\0secret" */
	send_raw(&c, "e AUTHENTICATE PLAIN\r\n", 22);
	CHECK(pump(&c, "+ "));
	c.in.len = 0;
	c.in.data[0] = '\0';
	CMD_HAS(&c, "e", "AGFteUBhY21lLnRlc3QAc2VjcmV0", "e OK [CAPABILITY");
	CMD_HAS(&c, "f", "f LOGIN amy@acme.test secret", "f BAD");
	CMD_HAS(&c, "g", "g LOGOUT", "* BYE");
	CHECK(pump(&c, NULL));
	CHECK(c.closed);
	client_close(&c);
}

static void test_sasl_ir(void)
{
	struct client c;

	client_open(&c);
	pump(&c, "\r\n");
	CMD_HAS(&c, "a", "a AUTHENTICATE PLAIN AGFteUBhY21lLnRlc3QAc2VjcmV0", "a OK");
	CMD_HAS(&c, "b", "b ENABLE IMAP4rev2", "* ENABLED IMAP4rev2");
	CMD_HAS(&c, "c", "c NAMESPACE", "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) NIL");
	client_close(&c);
}

static void test_mailboxes(void)
{
	struct client c;
	char *o;

	login(&c);
	o = cmd(&c, "a", "a LIST \"\" *");
	CHECK(HAS(o, "* LIST (\\HasNoChildren) \"/\" \"INBOX\""));
	CHECK(HAS(o, "\\Sent) \"/\" \"Sent\""));
	free(o);
	CMD_HAS(&c, "b", "b CREATE Work/Projects", "b OK");
	CMD_HAS(&c, "b2", "b2 CREATE Work/Projects", "b2 NO [ALREADYEXISTS]");
	o = cmd(&c, "c", "c LIST \"\" Work*");
	CHECK(HAS(o, "(\\Noselect \\HasChildren) \"/\" \"Work\""));
	CHECK(HAS(o, "(\\HasNoChildren) \"/\" \"Work/Projects\""));
	free(o);
	o = cmd(&c, "c2", "c2 LIST \"\" %");
	CHECK(HAS(o, "\"Work\"") && !HAS(o, "Work/Projects"));
	free(o);
	CMD_HAS(&c, "d", "d RENAME Work/Projects Done", "d OK");
	CMD_HAS(&c, "e", "e STATUS Done (MESSAGES UIDNEXT UNSEEN)", "* STATUS \"Done\" (MESSAGES 0 UIDNEXT 1 UNSEEN 0)");
	CMD_HAS(&c, "f", "f DELETE Done", "f OK");
	CMD_HAS(&c, "g", "g DELETE Done", "g NO [NONEXISTENT]");
	CMD_HAS(&c, "h", "h SELECT Nope", "h NO [NONEXISTENT]");
	CMD_HAS(&c, "i", "i SUBSCRIBE INBOX", "i OK");
	CMD_HAS(&c, "j", "j LSUB \"\" *", "* LSUB () \"/\" \"INBOX\"");
	CMD_HAS(&c, "k", "k LIST \"\" \"\"", "* LIST (\\Noselect) \"/\" \"\"");
	client_close(&c);
}

static const char MSG1[] = "From: Bob <bob@example.org>\r\nTo: amy@acme.test\r\nSubject: Hello there\r\n"
			   "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <m1@example.org>\r\n\r\n"
			   "First body line.\r\nSecond line with needle.\r\n";

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

static void test_append_fetch(void)
{
	struct client c;
	char *o, expect[256];

	login(&c);
	append(&c, "a", "INBOX", "(\\Flagged)", MSG1);
	append(&c, "b", "INBOX", "()", "Subject: two\r\n\r\nbody two\r\n");
	o = cmd(&c, "c", "c SELECT INBOX");
	CHECK(HAS(o, "* 2 EXISTS"));
	CHECK(HAS(o, "* 2 RECENT"));   /* the first rev1 SELECT claims them */
	CHECK(HAS(o, "* OK [UIDVALIDITY "));
	CHECK(HAS(o, "* OK [UIDNEXT 3]"));
	CHECK(HAS(o, "c OK [READ-WRITE]"));
	free(o);
	snprintf(expect, sizeof expect, "BODY[] {%zu}\r\n%s)", strlen(MSG1), MSG1);
	o = cmd(&c, "d", "d FETCH 1 (UID FLAGS BODY.PEEK[])");
	CHECK(HAS(o, "* 1 FETCH (UID 1 FLAGS (\\Recent \\Flagged) BODY[] {"));
	CHECK(HAS(o, expect));
	free(o);
	o = cmd(&c, "e", "e FETCH 1 (ENVELOPE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (Subject)])");
	CHECK(HAS(o, "\"Hello there\""));
	CHECK(HAS(o, "Subject: Hello there\r\n\r\n"));
	free(o);
	/* a non-PEEK fetch sets \Seen and reports it */
	o = cmd(&c, "f", "f FETCH 2 BODY[TEXT]");
	CHECK(HAS(o, "\\Seen"));
	CHECK(HAS(o, "body two"));
	free(o);
	CMD_HAS(&c, "g", "g STORE 1 +FLAGS (\\Deleted $Work)", "* 1 FETCH (FLAGS (\\Recent \\Deleted \\Flagged $Work))");
	CMD_HAS(&c, "g2", "g2 UID STORE 1 -FLAGS.SILENT (\\Deleted)", "g2 OK");
	CMD_HAS(&c, "h", "h SEARCH SUBJECT hello", "* SEARCH 1\r\n");
	CMD_HAS(&c, "h2", "h2 SEARCH BODY needle", "* SEARCH 1\r\n");
	CMD_HAS(&c, "h3", "h3 UID SEARCH UNSEEN", "* SEARCH 1\r\n");
	CMD_HAS(&c, "h4", "h4 SEARCH OR FLAGGED SEEN", "* SEARCH 1 2\r\n");
	CMD_HAS(&c, "h5", "h5 SEARCH SENTON 7-Feb-1994 KEYWORD $Work", "* SEARCH 1\r\n");
	CMD_HAS(&c, "h6", "h6 SEARCH HEADER Message-ID m1@", "* SEARCH 1\r\n");
	CMD_HAS(&c, "h7", "h7 SEARCH NOT (FROM bob)", "* SEARCH 2\r\n");
	CMD_HAS(&c, "i", "i FETCH 3 FLAGS", "i BAD");
	CMD_HAS(&c, "i2", "i2 FETCH 1 BOGUS", "i2 BAD");
	CMD_HAS(&c, "j", "j COPY 1:2 Trash", "j OK [COPYUID ");
	CMD_HAS(&c, "k", "k UID MOVE 2 Archive", "* 2 EXPUNGE");
	o = cmd(&c, "l", "l STATUS Trash (MESSAGES)");
	CHECK(HAS(o, "(MESSAGES 2)"));
	free(o);
	CMD_HAS(&c, "m", "m STORE 1 +FLAGS.SILENT (\\Deleted)", "m OK");
	CMD_HAS(&c, "n", "n EXPUNGE", "* 1 EXPUNGE");
	CMD_HAS(&c, "o", "o ENABLE IMAP4rev2", "o OK");
	CMD_HAS(&c, "p", "p SELECT Trash", "* OK [CLOSED]");
	CMD_HAS(&c, "q", "q UID SEARCH ALL", "* ESEARCH (TAG \"q\") UID ALL 1:2");
	CMD_HAS(&c, "r", "r CLOSE", "r OK");
	CMD_HAS(&c, "s", "s FETCH 1 FLAGS", "s BAD");
	client_close(&c);
}

/* RFC 9051 7.5.1: no EXPUNGE during FETCH by sequence number. */
static void test_expunge_rules(void)
{
	struct client a, b;
	char *o;

	login(&a);
	login(&b);
	CMD_HAS(&a, "x", "x CREATE Rules", "x OK");
	append(&a, "y", "Rules", "(\\Deleted)", "Subject: r1\r\n\r\none\r\n");
	append(&a, "z", "Rules", "()", "Subject: r2\r\n\r\ntwo\r\n");
	CMD_HAS(&a, "a1", "a1 SELECT Rules", "* 2 EXISTS");
	CMD_HAS(&b, "b1", "b1 SELECT Rules", "* 2 EXISTS");
	CMD_HAS(&b, "b1r", "b1r NOOP", "b1r OK");
	/* \Recent only in a, which selected first (RFC 3501 2.3.2). */
	o = cmd(&b, "b1f", "b1f FETCH 1:2 (FLAGS)");
	CHECK(!HAS(o, "\\Recent"));
	free(o);
	CMD_HAS(&b, "b2", "b2 EXPUNGE", "* 1 EXPUNGE");
	o = cmd(&a, "a2", "a2 FETCH 2 (UID)");
	CHECK(HAS(o, "* 2 FETCH (UID 2)"));
	CHECK(!HAS(o, "EXPUNGE"));
	free(o);
	CMD_HAS(&a, "a3", "a3 FETCH 1 (UID)", "a3 OK [EXPUNGEISSUED]");
	o = cmd(&a, "a4", "a4 NOOP");
	CHECK(HAS(o, "* 1 EXPUNGE"));
	free(o);
	CMD_HAS(&a, "a5", "a5 FETCH 1 (UID)", "* 1 FETCH (UID 2)");
	/* flags changed by b reach a at its next command */
	CMD_HAS(&b, "b3", "b3 STORE 1 +FLAGS (\\Answered)", "b3 OK");
	CMD_HAS(&a, "a6", "a6 NOOP", "* 1 FETCH (UID 2 FLAGS (\\Recent \\Answered))");
	client_close(&a);
	client_close(&b);
}

static void on_delivered(void *ctx, const struct deliver_result *r, size_t n)
{
	*(int *)ctx = 1;
}

static void test_idle(void)
{
	struct client c;
	struct deliver_target t;
	struct deliver_request req;
	static const char body[] = "Subject: pushed\r\n\r\nhi\r\n";
	int done = 0;
	char *o;

	login(&c);
	o = cmd(&c, "a", "a SELECT INBOX");
	free(o);
	send_raw(&c, "b IDLE\r\n", 8);
	CHECK(pump(&c, "+ idling\r\n"));
	memset(&t, 0, sizeof t);
	snprintf(t.account, sizeof t.account, "amy@acme.test");
	snprintf(t.tenant, sizeof t.tenant, "acme");
	snprintf(t.rcpt, sizeof t.rcpt, "amy@acme.test");
	memset(&req, 0, sizeof req);
	req.actor = "smtp";
	req.mail_from = "x@example.org";
	req.data = body;
	req.len = strlen(body);
	req.targets = &t;
	req.ntargets = 1;
	deliver_message(&node, &req, on_delivered, &done);
	loop_until(&done);
	CHECK(pump(&c, " EXISTS\r\n"));
	CMD_HAS(&c, "b", "DONE", "b OK");
	client_close(&c);
}

/* A draining node (RFC 9051 7.1.5, RFC 5530 UNAVAILABLE): BYE now to a
 * session between commands or in IDLE, after the tagged reply to one in a
 * command (here an AUTHENTICATE exchange), and as the greeting of a new
 * connection. */
static void test_draining(void)
{
	struct imap_session_settings set = { .allow_plaintext_auth = 1, .preauth_timeout_s = 60,
					      .idle_timeout_s = 1800, .max_literal = 1000000,
					      .draining = 1 };
	struct client between, idling, authing, fresh;
	int sv[2];

	login(&between);
	login(&idling);
	free(cmd(&idling, "a", "a SELECT INBOX"));
	send_raw(&idling, "b IDLE\r\n", 8);
	CHECK(pump(&idling, "+ idling\r\n"));
	client_open(&authing);
	CHECK(pump(&authing, "\r\n"));
	authing.in.len = 0;   /* the greeting's "LITERAL+ " is not the continuation */
	authing.in.data[0] = '\0';
	send_raw(&authing, "e AUTHENTICATE PLAIN\r\n", 22);
	CHECK(pump(&authing, "+ "));

	imap_session_set_draining(between.s, 1);
	imap_session_set_draining(idling.s, 1);
	imap_session_set_draining(authing.s, 1);
	CHECK(pump(&between, NULL));   /* until EOF */
	CHECK(HAS(between.in.data, "* BYE [UNAVAILABLE] Node draining"));
	CHECK(between.closed);
	CHECK(pump(&idling, NULL));
	CHECK(HAS(idling.in.data, "* BYE [UNAVAILABLE]"));
	CHECK(idling.closed);
	/* The exchange in progress ends first, then BYE. */
	CHECK(!authing.closed);
	send_raw(&authing, "AGFteUBhY21lLnRlc3QAc2VjcmV0\r\n", 30);
	CHECK(pump(&authing, NULL));
	CHECK(HAS(authing.in.data, "e OK"));
	CHECK(strstr(authing.in.data, "e OK") < strstr(authing.in.data, "* BYE [UNAVAILABLE]"));
	CHECK(authing.closed);
	client_close(&between);
	client_close(&idling);
	client_close(&authing);

	/* A new connection: BYE as the greeting. */
	memset(&fresh, 0, sizeof fresh);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	fresh.fd = sv[1];
	buf_puts(&fresh.in, "");
	fresh.s = imap_session_start(&node, bufferevent_socket_new(node.base, sv[0], BEV_OPT_CLOSE_ON_FREE),
				     "192.0.2.1", 0, &set, on_closed, &fresh);
	CHECK(pump(&fresh, NULL));
	CHECK(strncmp(fresh.in.data, "* BYE [UNAVAILABLE]", 19) == 0);
	CHECK(fresh.closed);
	client_close(&fresh);
}

static void test_pipelining_and_bytes(void)
{
	struct client c;
	static const char burst[] = "p1 NOOP\r\np2 SELECT INBOX\r\np3 FETCH 1 UID\r\np4 LOGOUT\r\n";

	login(&c);
	for (size_t i = 0; i < sizeof burst - 1; i++) {
		send_raw(&c, burst + i, 1);
		loop_once();
	}
	CHECK(pump(&c, "p4 OK"));
	CHECK(HAS(c.in.data, "p1 OK"));
	CHECK(strstr(c.in.data, "p2 OK") < strstr(c.in.data, "p3 OK"));
	client_close(&c);
}

static void test_errors(void)
{
	struct client c;

	client_open(&c);
	pump(&c, "\r\n");
	/* literal over the pre-auth limit */
	CMD_HAS(&c, "a", "a LOGIN {100000}", "a NO [TOOBIG]");
	for (int i = 0; i < 10; i++) {
		char tag[8], bogus[32];
		const char *line = bogus;
		snprintf(tag, sizeof tag, "x%d", i);
		snprintf(bogus, sizeof bogus, "%s BOGUS", tag);
		CMD_HAS(&c, tag, line, "BAD");
	}
	CHECK(pump(&c, "* BYE"));
	CHECK(pump(&c, NULL));
	client_close(&c);
}

int main(void)
{
	setup("imap-session-node");
	test_run("greeting, LOGIN, AUTHENTICATE, LOGOUT", test_greeting_and_auth);
	test_run("SASL-IR, ENABLE, NAMESPACE", test_sasl_ir);
	test_run("CREATE, LIST, RENAME, STATUS, DELETE", test_mailboxes);
	test_run("APPEND, SELECT, FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE", test_append_fetch);
	test_run("EXPUNGE rules between sessions", test_expunge_rules);
	test_run("IDLE gets EXISTS from a delivery", test_idle);
	test_run("draining", test_draining);
	test_run("pipelining, one byte at a time", test_pipelining_and_bytes);
	test_run("errors and limits", test_errors);
	evm_fts_stop(&node);          /* its indexer thread reads the view */
	projector_stop(node.projector);
	evlog_close(&node.log);
	projector_destroy(&node.projector);
	view_close(&node.view);
	return test_done();
}

/* test_imap_condstore - CONDSTORE and QRESYNC (RFC 7162) in one process
 * against a real node (embedded log, view, projector) over socketpairs:
 * ENABLE, SELECT (CONDSTORE) / (QRESYNC ...), FETCH MODSEQ and
 * CHANGEDSINCE, UID FETCH VANISHED, STORE UNCHANGEDSINCE with MODIFIED,
 * SEARCH MODSEQ, STATUS HIGHESTMODSEQ, VANISHED instead of EXPUNGE. */
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

static void append(struct client *c, const char *tag, const char *mbox, const char *flags, const char *msg)
{
	char line[512];
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
	o = cmd(c, tag, "");
	CHECK(HAS(o, "OK [APPENDUID"));
	free(o);
}

/* The number right after needle in o (-1 when absent). */
static long long num_after(const char *o, const char *needle)
{
	const char *p = strstr(o, needle);

	return p != NULL ? strtoll(p + strlen(needle), NULL, 10) : -1;
}

static void test_enable_and_caps(void)
{
	struct client c;
	char *o;

	login(&c);
	o = cmd(&c, "a", "a CAPABILITY");
	CHECK(HAS(o, " CONDSTORE"));
	CHECK(HAS(o, " QRESYNC"));
	free(o);
	CMD_HAS(&c, "b", "b ENABLE QRESYNC", "* ENABLED QRESYNC\r\n");
	/* QRESYNC implied CONDSTORE: nothing new is enabled. */
	CMD_HAS(&c, "c", "c ENABLE CONDSTORE QRESYNC", "* ENABLED\r\n");
	client_close(&c);
	login(&c);
	CMD_HAS(&c, "d", "d ENABLE CONDSTORE", "* ENABLED CONDSTORE\r\n");
	/* QRESYNC without ENABLE QRESYNC is BAD (RFC 7162 3.2.5). */
	CMD_HAS(&c, "e", "e SELECT INBOX (QRESYNC (1 1))", "e BAD");
	client_close(&c);
}

static void test_condstore(void)
{
	struct client c, d;
	long long h0, m1, m2, h1;
	char *o, line[256], expect[128];

	login(&c);
	CMD_HAS(&c, "a", "a CREATE Cond", "a OK");
	append(&c, "b1", "Cond", "()", "Subject: c1\r\n\r\none\r\n");
	append(&c, "b2", "Cond", "()", "Subject: c2\r\n\r\ntwo\r\n");
	append(&c, "b3", "Cond", "(\\Seen)", "Subject: c3\r\n\r\nthree\r\n");
	o = cmd(&c, "s", "s STATUS Cond (HIGHESTMODSEQ MESSAGES)");
	CHECK(HAS(o, "* STATUS \"Cond\" (HIGHESTMODSEQ "));
	h0 = num_after(o, "(HIGHESTMODSEQ ");
	free(o);
	CHECK(h0 > 0);
	o = cmd(&c, "c", "c SELECT Cond (CONDSTORE)");
	CHECK(num_after(o, "* OK [HIGHESTMODSEQ ") == h0);
	CHECK(HAS(o, "c OK [READ-WRITE]"));
	CHECK(!HAS(o, "NOMODSEQ"));
	free(o);
	o = cmd(&c, "d", "d FETCH 1:* (MODSEQ)");
	CHECK(HAS(o, "* 1 FETCH (MODSEQ ("));
	CHECK(HAS(o, "* 3 FETCH (MODSEQ (" ));
	m1 = num_after(o, "* 1 FETCH (MODSEQ (");
	free(o);
	CHECK(m1 > 0 && m1 <= h0);
	/* STORE with CONDSTORE on: UID and MODSEQ in the FETCH (3.1.4);
	 * c selected first, so its messages are \Recent here (RFC 3501). */
	o = cmd(&c, "e", "e STORE 1 +FLAGS (\\Flagged)");
	CHECK(HAS(o, "* 1 FETCH (UID 1 FLAGS (\\Recent \\Flagged) MODSEQ ("));
	m2 = num_after(o, "MODSEQ (");
	free(o);
	CHECK(m2 > h0);
	/* UNCHANGEDSINCE: 1 changed after h0, 2 did not (3.1.3). */
	snprintf(line, sizeof line, "f STORE 1:2 (UNCHANGEDSINCE %lld) +FLAGS (\\Answered)", h0);
	o = cmd(&c, "f", line);
	CHECK(HAS(o, "* 2 FETCH (UID 2 FLAGS (\\Recent \\Answered) MODSEQ ("));
	CHECK(!HAS(o, "* 1 FETCH"));
	CHECK(HAS(o, "f OK [MODIFIED 1]"));
	free(o);
	snprintf(line, sizeof line, "g UID STORE 1:3 (UNCHANGEDSINCE %lld) +FLAGS.SILENT (\\Draft)", h0);
	o = cmd(&c, "g", line);
	CHECK(HAS(o, "* 3 FETCH (UID 3 MODSEQ ("));
	CHECK(HAS(o, "g OK [MODIFIED 1:2]"));
	free(o);
	CMD_HAS(&c, "g2", "g2 STORE 1 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)", "g2 OK [MODIFIED 1]");
	CMD_HAS(&c, "g3", "g3 STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)", "g3 BAD");
	/* CHANGEDSINCE: only what changed after m2; MODSEQ implied. */
	snprintf(line, sizeof line, "h FETCH 1:* (FLAGS) (CHANGEDSINCE %lld)", m2);
	o = cmd(&c, "h", line);
	CHECK(!HAS(o, "* 1 FETCH"));
	CHECK(HAS(o, "* 2 FETCH (FLAGS (\\Recent \\Answered) MODSEQ ("));
	CHECK(HAS(o, "* 3 FETCH (FLAGS (\\Recent \\Seen \\Draft) MODSEQ (") || HAS(o, "* 3 FETCH (FLAGS (\\Recent \\Draft \\Seen) MODSEQ ("));
	free(o);
	CMD_HAS(&c, "h2", "h2 FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)", "h2 BAD");
	CMD_HAS(&c, "h3", "h3 FETCH 1:* (FLAGS) (CHANGEDSINCE)", "h3 BAD");
	/* SEARCH MODSEQ with the (MODSEQ n) suffix (3.1.5, 3.1.6). */
	snprintf(line, sizeof line, "i SEARCH MODSEQ %lld", m2 + 1);
	o = cmd(&c, "i", line);
	CHECK(HAS(o, "* SEARCH 2 3 (MODSEQ "));
	h1 = num_after(o, "(MODSEQ ");
	free(o);
	snprintf(line, sizeof line, "j UID SEARCH RETURN (ALL) MODSEQ \"/flags/\\\\draft\" all %lld", m2 + 1);
	o = cmd(&c, "j", line);
	CHECK(HAS(o, "* ESEARCH (TAG \"j\") UID ALL 2:3 MODSEQ "));
	CHECK(num_after(o, " MODSEQ ") == h1);
	free(o);
	CMD_HAS(&c, "k", "k SEARCH MODSEQ 999999999", "* SEARCH\r\n");
	snprintf(line, sizeof line, "k2 SORT (SUBJECT) UTF-8 MODSEQ %lld", m2 + 1);
	snprintf(expect, sizeof expect, "* SORT 2 3 (MODSEQ %lld)\r\n", h1);
	o = cmd(&c, "k2", line);
	CHECK(HAS(o, expect));
	free(o);
	o = cmd(&c, "l", "l STATUS Cond (HIGHESTMODSEQ)");
	CHECK(num_after(o, "(HIGHESTMODSEQ ") == h1);
	free(o);
	/* Another session's change arrives with UID and MODSEQ. */
	login(&d);
	CMD_HAS(&d, "m", "m SELECT Cond", "m OK");
	CMD_HAS(&d, "n", "n STORE 2 -FLAGS (\\Answered)", "n OK");
	CMD_HAS(&c, "o", "o NOOP", "* 2 FETCH (UID 2 FLAGS (\\Recent) MODSEQ (");
	/* A plain session does not get MODSEQ until it enables CONDSTORE. */
	CMD_HAS(&c, "p", "p STORE 2 +FLAGS (\\Answered)", "p OK");
	o = cmd(&d, "q", "q NOOP");
	CHECK(HAS(o, "* 2 FETCH (UID 2 FLAGS (\\Answered))"));
	free(o);
	CMD_HAS(&d, "r", "r FETCH 2 (MODSEQ)", "* 2 FETCH (MODSEQ (");
	CMD_HAS(&c, "s2", "s2 STORE 2 -FLAGS (\\Answered)", "s2 OK");
	CMD_HAS(&d, "t", "t NOOP", "* 2 FETCH (UID 2 FLAGS () MODSEQ (");
	client_close(&c);
	client_close(&d);
}

static void test_qresync(void)
{
	struct client a, b, c;
	long long uv, h0, h1;
	char *o, line[256];

	login(&a);
	login(&b);
	CMD_HAS(&a, "a0", "a0 ENABLE QRESYNC", "* ENABLED QRESYNC");
	CMD_HAS(&a, "a1", "a1 CREATE Qr", "a1 OK");
	for (int i = 0; i < 5; i++) {
		char tag[8];

		snprintf(tag, sizeof tag, "ap%d", i);
		append(&a, tag, "Qr", "()", "Subject: q\r\n\r\nbody\r\n");
	}
	o = cmd(&a, "a2", "a2 SELECT Qr");
	uv = num_after(o, "[UIDVALIDITY ");
	h0 = num_after(o, "[HIGHESTMODSEQ ");
	free(o);
	CHECK(uv > 0 && h0 > 0);
	CMD_HAS(&b, "b1", "b1 SELECT Qr", "* 5 EXISTS");
	/* a expunges 2 and 4: VANISHED, not EXPUNGE (3.2.10), and the new
	 * HIGHESTMODSEQ in the tagged OK (3.2.7). */
	CMD_HAS(&a, "a3", "a3 STORE 2,4 +FLAGS.SILENT (\\Deleted)", "a3 OK");
	o = cmd(&a, "a4", "a4 EXPUNGE");
	CHECK(HAS(o, "* VANISHED 2,4\r\n"));
	CHECK(!HAS(o, "EXPUNGE\r\n"));
	CHECK(HAS(o, "a4 OK [HIGHESTMODSEQ "));
	h1 = num_after(o, "a4 OK [HIGHESTMODSEQ ");
	free(o);
	CHECK(h1 > h0);
	/* b (no QRESYNC) gets EXPUNGE. */
	o = cmd(&b, "b2", "b2 NOOP");
	CHECK(HAS(o, "* 4 EXPUNGE"));
	CHECK(HAS(o, "* 2 EXPUNGE"));
	free(o);
	CMD_HAS(&b, "b3", "b3 STORE 1 +FLAGS (\\Seen)", "b3 OK");
	/* c resynchronises from h0: VANISHED (EARLIER) and the changes. */
	login(&c);
	CMD_HAS(&c, "c0", "c0 ENABLE QRESYNC", "* ENABLED QRESYNC");
	snprintf(line, sizeof line, "c1 SELECT Qr (QRESYNC (%lld %lld))", uv, h0);
	o = cmd(&c, "c1", line);
	CHECK(HAS(o, "* 3 EXISTS"));
	CHECK(HAS(o, "* VANISHED (EARLIER) 2,4\r\n"));
	CHECK(HAS(o, "* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ ("));
	CHECK(!HAS(o, "* 2 FETCH"));
	CHECK(HAS(o, "c1 OK [READ-WRITE]"));
	free(o);
	/* known-uids limit both; seq-match-data is accepted. */
	snprintf(line, sizeof line, "c2 EXAMINE Qr (QRESYNC (%lld %lld 3:5 (1:3 1:3)))", uv, h0);
	o = cmd(&c, "c2", line);
	CHECK(HAS(o, "* OK [CLOSED]"));
	CHECK(HAS(o, "* VANISHED (EARLIER) 4\r\n"));
	CHECK(!HAS(o, "FETCH"));
	free(o);
	/* A different UIDVALIDITY: a plain SELECT. */
	snprintf(line, sizeof line, "c3 SELECT Qr (QRESYNC (%lld %lld))", uv + 1, h0);
	o = cmd(&c, "c3", line);
	CHECK(!HAS(o, "VANISHED"));
	CHECK(!HAS(o, "FETCH"));
	CHECK(HAS(o, "c3 OK"));
	free(o);
	CMD_HAS(&c, "c4", "c4 SELECT Qr (QRESYNC (x 1))", "c4 BAD");
	/* UID FETCH (CHANGEDSINCE VANISHED) (3.2.6). */
	snprintf(line, sizeof line, "c5 UID FETCH 1:* (FLAGS) (CHANGEDSINCE %lld VANISHED)", h0);
	o = cmd(&c, "c5", line);
	CHECK(HAS(o, "* VANISHED (EARLIER) 2,4\r\n"));
	CHECK(HAS(o, "* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ ("));
	CHECK(!HAS(o, "UID 3"));
	free(o);
	snprintf(line, sizeof line, "c6 UID FETCH 3:* (FLAGS) (CHANGEDSINCE %lld VANISHED)", h0);
	o = cmd(&c, "c6", line);
	CHECK(HAS(o, "* VANISHED (EARLIER) 4\r\n"));
	free(o);
	CMD_HAS(&c, "c7", "c7 FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)", "c7 BAD");
	/* b (plain) expunges: a sees VANISHED at its next command. */
	CMD_HAS(&b, "b4", "b4 STORE 3 +FLAGS.SILENT (\\Deleted)", "b4 OK");
	CMD_HAS(&b, "b5", "b5 EXPUNGE", "* 3 EXPUNGE");
	CMD_HAS(&a, "a5", "a5 NOOP", "* VANISHED 5\r\n");
	/* MOVE (RFC 6851 4.3) and IDLE use VANISHED too. */
	o = cmd(&a, "a6", "a6 UID MOVE 1 Trash");
	CHECK(HAS(o, "* VANISHED 1\r\n"));
	CHECK(!HAS(o, "EXPUNGE"));
	free(o);
	send_raw(&a, "a7 IDLE\r\n", 9);
	CHECK(pump(&a, "+ "));
	CMD_HAS(&b, "b6", "b6 UID STORE 3 +FLAGS.SILENT (\\Deleted)", "b6 OK");
	CMD_HAS(&b, "b7", "b7 EXPUNGE", "b7 OK");
	CHECK(pump(&a, "* VANISHED 3\r\n"));
	CMD_HAS(&a, "a7", "DONE", "a7 OK");
	client_close(&a);
	client_close(&b);
	client_close(&c);
}

int main(void)
{
	setup("imap-condstore-node");
	test_run("ENABLE CONDSTORE/QRESYNC, capabilities", test_enable_and_caps);
	test_run("CONDSTORE: SELECT, FETCH, STORE, SEARCH, STATUS", test_condstore);
	test_run("QRESYNC: SELECT, VANISHED, UID FETCH VANISHED", test_qresync);
	evm_fts_stop(&node);          /* its indexer thread reads the view */
	projector_stop(node.projector);
	evlog_close(&node.log);
	projector_destroy(&node.projector);
	view_close(&node.view);
	return test_done();
}

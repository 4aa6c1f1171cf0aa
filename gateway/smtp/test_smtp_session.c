/* test_smtp_session - a session over a socketpair with a fake backend:
 * pipelining, DATA, BDAT, RSET, errors, limits, LMTP, delivery failures,
 * smuggling, disconnects, timeouts, backpressure. */
#include "gateway/smtp/smtp_session.h"
#include "gateway/smtp/smtp_rate.h"
#include "gateway/smtp/test_smtp_fake.h"
#include "common/log.h"
#include "tests/unit/testlib.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event_base *base;
static struct fake fake;
static struct smtp_session *sess;
static int cfd = -1, closed_calls;
static struct smtp_session_settings set;
static char sid[17];

static void on_closed(void *ctx, struct smtp_session *s, const char *ip)
{
	closed_calls++;
	sess = NULL;
}

static void defaults(void)
{
	memset(&set, 0, sizeof set);
	set.hostname = "mx.test";
	set.max_line = 1000;
	set.max_message = 10000;
	set.max_recipients = 5;
	set.max_errors = 5;
	set.command_timeout_s = 30;
	set.data_timeout_s = 30;
}

static void start(void)
{
	int sv[2];
	struct bufferevent *bev;
	struct smtp_backend be = { .resolve = fake_resolve, .deliver = fake_deliver, .ctx = &fake };

	if (base == NULL)
		base = event_base_new();
	fake_free(&fake);
	fake.base = base;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	cfd = sv[1];
	bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	closed_calls = 0;
	sess = smtp_session_start(base, bev, "192.0.2.7", 0, &set, &be, on_closed, NULL);
	snprintf(sid, sizeof sid, "%s", smtp_session_id(sess));
}

/* Writes in, runs the loop and collects output until `until` appears in
 * it (NULL: until EOF), EOF or 5 s. *eof_r tells whether the server closed. */
static char *converse_step(const char *in, size_t len, size_t step, const char *until, int *eof_r)
{
	struct buf out = BUF_INIT;
	size_t off = 0;
	int64_t deadline = evm_mono_ms() + 5000;
	size_t searched = 0;
	int eof = 0;

	buf_puts(&out, "");
	while (evm_mono_ms() < deadline) {
		char tmp[65536];
		ssize_t r;
		int progress = 0;

		if (off < len) {
			size_t n = step == 0 || len - off < step ? len - off : step;
			ssize_t w = write(cfd, in + off, n);
			if (w > 0) {
				off += (size_t)w;
				progress = 1;
			}
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		r = read(cfd, tmp, sizeof tmp);
		if (r > 0) {
			buf_append(&out, tmp, (size_t)r);
			progress = 1;
		} else if (r == 0) {
			eof = 1;
			break;
		}
		/* Search only the new part (plus an overlap): big outputs stay linear. */
		if (off == len && until != NULL && strstr(out.data + searched, until) != NULL)
			break;
		if (until != NULL && out.len > strlen(until))
			searched = out.len - strlen(until);
		if (!progress)
			usleep(200);
	}
	if (eof_r != NULL)
		*eof_r = eof;
	return buf_steal(&out);
}

static char *converse(const char *in, const char *until)
{
	return converse_step(in, strlen(in), 0, until, NULL);
}

static void stop(void)
{
	if (sess != NULL)
		smtp_session_close(sess);
	if (cfd >= 0)
		close(cfd);
	cfd = -1;
	/* let pending fake callbacks run */
	for (int i = 0; i < 20; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/* Exact transcript check, printing both on mismatch. */
#define EXPECT(in, until, expected) do { char *got_ = converse(in, until); \
	int ok_ = strcmp(got_, expected) == 0; \
	if (!ok_) fprintf(stderr, "got:\n%s\nexpected:\n%s\n", got_, expected); \
	free(got_); CHECK(ok_); } while (0)

#define GREETING "220 mx.test ESMTP evmail ready\r\n"
#define EHLO_REPLY "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10000\r\n250-ENHANCEDSTATUSCODES\r\n" \
	"250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250 CHUNKING\r\n"

static void test_basic_pipelined(void)
{
	char expect[512], *got;

	defaults();
	start();
	EXPECT("", "\r\n", GREETING);
	EXPECT("EHLO client.example\r\n", "CHUNKING\r\n", EHLO_REPLY);
	EXPECT("MAIL FROM:<s@o.example> SIZE=100\r\nRCPT TO:<a@x.test>\r\nDATA\r\n", "354",
	       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
	got = converse("Subject: t\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n", "221");
	snprintf(expect, sizeof expect, "250 2.0.0 Ok: %s.1 delivered\r\n221 2.0.0 mx.test closing connection\r\n",
		 sid);
	CHECK_EQ_STR(got, expect);
	free(got);
	CHECK_EQ_INT(fake.calls, 1);
	CHECK_EQ_STR(fake.from, "s@o.example");
	CHECK_EQ_STR(fake.actor, "smtp");
	CHECK_EQ_STR(fake.data.data, "Subject: t\r\n\r\n.dot\r\nbody\r\n");
	CHECK(strncmp(fake.received, "Received: from client.example ([192.0.2.7])\r\n\tby mx.test with ESMTP id ", 71) == 0);
	CHECK(strstr(fake.received, "\r\n\tfor <a@x.test>;\r\n\t") != NULL);
	CHECK(strstr(fake.received, " +0000\r\n") != NULL);
	CHECK(fake.dsn == NULL);
	got = converse("", NULL);   /* the server closes after QUIT */
	free(got);
	CHECK_EQ_INT(closed_calls, 1);
	stop();
}

/* The same script all at once and one byte at a time: identical replies. */
static const char script[] =
	"EHLO c.example\r\nNOOP\r\nMAIL FROM:<>\r\nRCPT TO:<nobody@x.test>\r\nRCPT TO:<b@x.test>\r\n"
	"RCPT TO:<x@elsewhere.example>\r\nDATA\r\nhello\r\n.\r\nRSET\r\nVRFY a@x.test\r\nEXPN list\r\n"
	"HELP\r\nMAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\nBDAT 7\r\nab\r\n.\r\nBDAT 0 LAST\r\nQUIT\r\n";

static char *run_script(size_t step)
{
	char *got, *p;
	const char *id;

	defaults();
	start();
	id = sid;
	got = converse_step(script, sizeof script - 1, step, "221 ", NULL);
	while ((p = strstr(got, id)) != NULL)
		memcpy(p, "IDIDIDIDIDIDIDID", 16);
	stop();
	return got;
}

static void test_bytewise_equals_batch(void)
{
	char *all = run_script(0), *one = run_script(1);
	const char *expect = GREETING EHLO_REPLY "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n"
		"550 5.1.1 Recipient address rejected: User unknown\r\n250 2.1.5 Ok\r\n550 5.7.1 Relaying denied\r\n"
		"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: IDIDIDIDIDIDIDID.1 delivered\r\n250 2.0.0 Ok\r\n"
		"252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"
		"502 5.5.1 EXPN not available\r\n"
		"214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY\r\n"
		"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 7 octets received\r\n"
		"250 2.0.0 Ok: IDIDIDIDIDIDIDID.2 delivered\r\n221 2.0.0 mx.test closing connection\r\n";

	if (strcmp(all, expect) != 0)
		fprintf(stderr, "got:\n%s\n", all);
	CHECK(strcmp(all, expect) == 0);
	CHECK_EQ_STR(one, all);
	CHECK_EQ_STR(fake.data.data, "ab\r\n.\r\n");   /* BDAT: no unstuffing */
	free(all);
	free(one);
}

static void test_sequence_errors(void)
{
	defaults();
	set.max_errors = 10;
	start();
	EXPECT("MAIL FROM:<a@b.example>\r\nRCPT TO:<a@x.test>\r\nDATA\r\nHELO c\r\nMAIL FROM:<a@b.example>\r\n"
	       "MAIL FROM:<a@b.example>\r\nDATA\r\nLHLO x\r\n",
	       "unrecognized\r\n",
	       GREETING "503 5.5.1 Send HELO/EHLO first\r\n503 5.5.1 Need MAIL command\r\n503 5.5.1 Need MAIL command\r\n"
	       "250 mx.test\r\n250 2.1.0 Ok\r\n503 5.5.1 Nested MAIL command\r\n554 5.5.1 No valid recipients\r\n"
	       "500 5.5.1 Command unrecognized\r\n");
	stop();
}

static void test_error_limit_closes(void)
{
	int eof;
	char *got;

	defaults();
	set.max_errors = 3;
	start();
	got = converse_step("FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n", 20, 0, NULL, &eof);
	CHECK_EQ_STR(got, GREETING "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
		     "500 5.5.1 Command unrecognized\r\n421 4.7.0 mx.test Too many errors, closing connection\r\n");
	CHECK(eof);
	CHECK_EQ_INT(closed_calls, 1);
	free(got);
	stop();
}

static void test_size_limits(void)
{
	struct buf big = BUF_INIT;

	defaults();
	start();
	EXPECT("EHLO c\r\nMAIL FROM:<a@b.example> SIZE=10001\r\nMAIL FROM:<a@b.example> SIZE=10000\r\n"
	       "RCPT TO:<a@x.test>\r\nDATA\r\n", "354",
	       GREETING EHLO_REPLY "552 5.3.4 Message size exceeds fixed maximum message size\r\n250 2.1.0 Ok\r\n"
	       "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
	for (int i = 0; i < 300; i++)
		buf_puts(&big, "0123456789012345678901234567890123456789012345678\r\n");
	buf_puts(&big, ".\r\nNOOP\r\n");
	EXPECT(big.data, "250 2.0.0 Ok\r\n",
	       "552 5.3.4 Message size exceeds fixed maximum message size\r\n250 2.0.0 Ok\r\n");
	CHECK_EQ_INT(fake.calls, 0);
	/* BDAT over the limit: 552 on the chunk, then on LAST. */
	buf_truncate(&big, 0);
	buf_puts(&big, "MAIL FROM:<a@b.example>\r\nRCPT TO:<a@x.test>\r\nBDAT 10002\r\n");
	for (int i = 0; i < 10002; i++)
		buf_puts(&big, "x");
	buf_puts(&big, "BDAT 3 LAST\r\nabcRSET\r\n");
	EXPECT(big.data, "250 2.0.0 Ok\r\n",
	       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n552 5.3.4 Message size exceeds fixed maximum message size\r\n"
	       "552 5.3.4 Message size exceeds fixed maximum message size\r\n250 2.0.0 Ok\r\n");
	CHECK_EQ_INT(fake.calls, 0);
	buf_free(&big);
	stop();
}

static void test_recipient_results(void)
{
	char *got;

	defaults();
	set.max_recipients = 3;
	set.max_errors = 20;
	start();
	got = converse("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<temp@x.test>\r\nRCPT TO:<disabled@x.test>\r\n"
		       "RCPT TO:<j\xc3\xb6rg@x.test>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<A+tag@x.test>\r\n"
		       "RCPT TO:<alias@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nx\r\n.\r\n", "delivered");
	CHECK(strstr(got, "250 2.1.0 Ok\r\n451 4.3.0 Temporary lookup failure, try again later\r\n"
		      "550 5.2.1 Mailbox disabled\r\n553 5.6.7 Non-ASCII address needs SMTPUTF8\r\n"
		      "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n452 4.5.3 Too many recipients\r\n354 ") != NULL);
	free(got);
	/* a, a+tag, alias(a, b): each account once. */
	CHECK_EQ_INT(fake.ntargets, 2);
	CHECK_EQ_STR(fake.targets[0], "a@x.test");
	CHECK_EQ_STR(fake.targets[1], "b@x.test");
	CHECK(strstr(fake.received, "for <") == NULL);
	/* SMTPUTF8 with a UTF-8 path: accepted syntax, resolved as unknown. */
	EXPECT("MAIL FROM:<j\xc3\xb6rg@b.example> SMTPUTF8\r\nRCPT TO:<j\xc3\xb6rg@x.test>\r\nRSET\r\n", "250 2.0.0 Ok\r\n",
	       "250 2.1.0 Ok\r\n550 5.1.1 Recipient address rejected: User unknown\r\n250 2.0.0 Ok\r\n");
	stop();
}

static void test_dsn_params(void)
{
	char *got;

	defaults();
	set.max_errors = 20;
	start();
	got = converse("EHLO c\r\nMAIL FROM:<a@b.example> RET=HDRS ENVID=QQ+2B1 BODY=8BITMIME\r\n"
		       "RCPT TO:<a@x.test> NOTIFY=failure,DELAY ORCPT=rfc822;a+40x.test\r\n"
		       "RCPT TO:<b@x.test> NOTIFY=NEVER,SUCCESS\r\nRCPT TO:<b@x.test> ORCPT=rfc822\r\n"
		       "RCPT TO:<b@x.test> FOO=1\r\nRCPT TO:<b@x.test> NOTIFY=NEVER\r\nDATA\r\nx\r\n.\r\n", "delivered");
	CHECK(strstr(got, EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n501 5.5.4 Bad NOTIFY parameter\r\n"
		      "501 5.5.4 Bad ORCPT parameter\r\n555 5.5.4 Unsupported RCPT parameter\r\n250 2.1.5 Ok\r\n"
		      "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: ") != NULL);
	free(got);
	CHECK_EQ_STR(fake.dsn, "{\"envid\":\"QQ+2B1\",\"rcpts\":{\"a@x.test\":{\"notify\":\"FAILURE,DELAY\","
		     "\"orcpt\":\"rfc822;a+40x.test\"},\"b@x.test\":{\"notify\":\"NEVER\"}},\"ret\":\"HDRS\"}");
	EXPECT("MAIL FROM:<a@b.example> ENVID=a+zz\r\nMAIL FROM:<a@b.example> RET=ALL\r\n", "RET parameter\r\n",
	       "501 5.5.4 Bad ENVID parameter\r\n501 5.5.4 Bad RET parameter\r\n");
	stop();
}

static void test_lmtp(void)
{
	char *got;

	defaults();
	set.lmtp = 1;
	start();
	EXPECT("", "\r\n", "220 mx.test LMTP evmail ready\r\n");
	EXPECT("EHLO c\r\nLHLO c\r\n", "CHUNKING\r\n", "500 5.5.1 Use LHLO in LMTP\r\n" EHLO_REPLY);
	got = converse("MAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<nobody@x.test>\r\n"
		       "RCPT TO:<alias@x.test>\r\nRCPT TO:<full@x.test>\r\nRCPT TO:<a+tag@x.test>\r\nDATA\r\nx\r\n.\r\n",
		       "Mailbox full\r\n250 2.0.0 Ok: ");
	CHECK(strstr(got, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 Recipient address rejected: User unknown\r\n"
		      "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
		      "250 2.0.0 Ok: ") != NULL);
	CHECK(strstr(got, " delivered\r\n250 2.0.0 Ok: ") != NULL);
	CHECK(strstr(got, " delivered\r\n552 5.2.2 Mailbox full\r\n250 2.0.0 Ok: ") != NULL);
	free(got);
	CHECK_EQ_INT(fake.ntargets, 3);   /* a, b, full: each account once */
	CHECK_EQ_STR(fake.actor, "lmtp");
	CHECK(strstr(fake.received, " with LMTP id ") != NULL);
	/* A message rejected at its end: one reply per accepted RCPT. */
	EXPECT("MAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nbare\nlf\r\n.\r\n",
	       "RFC 5321 2.3.8)\r\n550 5.6.11 message contains bare CR or LF (RFC 5321 2.3.8)\r\n",
	       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
	       "550 5.6.11 message contains bare CR or LF (RFC 5321 2.3.8)\r\n"
	       "550 5.6.11 message contains bare CR or LF (RFC 5321 2.3.8)\r\n");
	/* BDAT in LMTP, with a temporary failure for everyone. */
	fake.fail_all = 1;
	EXPECT("MAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nBDAT 3 LAST\r\nx\r\n",
	       "unavailable\r\n451 4.3.0 Log unavailable\r\n",
	       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n451 4.3.0 Log unavailable\r\n451 4.3.0 Log unavailable\r\n");
	stop();
}

static void test_delivery_failure(void)
{
	defaults();
	start();
	fake.fail_all = 1;
	EXPECT("HELO c\r\nMAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\nDATA\r\nx\r\n.\r\nNOOP\r\n", "250 2.0.0 Ok\r\n",
	       GREETING "250 mx.test\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
	       "451 4.3.0 Log unavailable\r\n250 2.0.0 Ok\r\n");
	CHECK(strstr(fake.received, " with SMTP id ") != NULL);
	/* HELO: no ESMTP parameters. */
	EXPECT("MAIL FROM:<s@o.example> SIZE=10\r\n", "\r\n", "555 5.5.4 MAIL parameters need EHLO\r\n");
	stop();
}

static void test_bdat(void)
{
	defaults();
	set.max_errors = 20;
	start();
	EXPECT("EHLO c\r\nBDAT 6\r\nRSET\r\nBDAT 0 LAST\r\nMAIL FROM:<s@o.example>\r\nBDAT 6 LAST\r\nQUIT\r\nNOOP\r\n",
	       "250 2.0.0 Ok\r\n",
	       GREETING EHLO_REPLY "503 5.5.1 Need MAIL command\r\n503 5.5.1 Need MAIL command\r\n250 2.1.0 Ok\r\n"
	       "554 5.5.1 No valid recipients\r\n250 2.0.0 Ok\r\n");
	EXPECT("MAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\nBDAT 3\r\nab\rBDAT 2\r\n\ncDATA\r\nRSET\r\n",
	       "250 2.0.0 Ok\r\n",
	       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 3 octets received\r\n250 2.0.0 5 octets received\r\n"
	       "503 5.5.1 DATA and BDAT cannot be mixed\r\n250 2.0.0 Ok\r\n");
	EXPECT("MAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\nBDAT 2\r\na\nBDAT 0 LAST\r\n", "2.3.8)\r\n",
	       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 2 octets received\r\n"
	       "550 5.6.11 message contains bare CR or LF (RFC 5321 2.3.8)\r\n");
	CHECK_EQ_INT(fake.calls, 0);
	stop();
}

/* A smuggled "end of data" is just content; only CRLF.CRLF ends it and
 * the whole message is refused. */
static void test_smuggling(void)
{
	defaults();
	start();
	EXPECT("EHLO c\r\nMAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n", "354 ",
	       GREETING EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
	EXPECT("Subject: a\r\n\r\nx\n.\nMAIL FROM:<evil@o.example>\nRCPT TO:<b@x.test>\nDATA\nevil\n.\n"
	       "y\r.\rz\r\n.\n\r\n.\r\nNOOP\r\n", "250 2.0.0 Ok\r\n",
	       "550 5.6.11 message contains bare CR or LF (RFC 5321 2.3.8)\r\n250 2.0.0 Ok\r\n");
	CHECK_EQ_INT(fake.calls, 0);
	stop();
}

static void test_garbage_and_long_lines(void)
{
	struct buf in = BUF_INIT;
	char *got;

	defaults();
	set.max_errors = 1000;
	start();
	for (int i = 0; i < 3000; i++) {
		unsigned char c = (unsigned char)(i * 131 + 7);
		buf_append(&in, &c, 1);
		if (i % 97 == 0)
			buf_append(&in, "\0\r\n", 3);
	}
	buf_puts(&in, "\r\n");
	for (int i = 0; i < 5000; i++)
		buf_puts(&in, "x");
	buf_puts(&in, "\r\nNOOP\r\n");
	got = converse_step(in.data, in.len, 0, "250 2.0.0 Ok\r\n", NULL);
	CHECK(strstr(got, "500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n") != NULL);
	free(got);
	CHECK(sess != NULL);
	buf_free(&in);
	stop();
}

static void test_disconnects(void)
{
	int i;

	/* Mid-DATA. */
	defaults();
	start();
	free(converse("EHLO c\r\nMAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\nDATA\r\npartial", "354 "));
	close(cfd);
	cfd = -1;
	for (i = 0; i < 50 && closed_calls == 0; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	CHECK_EQ_INT(closed_calls, 1);
	CHECK_EQ_INT(fake.calls, 0);
	/* While the delivery is in flight: the callback arrives after the
	 * session's connection is gone and must not touch freed memory. */
	start();
	fake.delay_ms = 50;
	free(converse("EHLO c\r\nMAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\nDATA\r\nx\r\n.\r\n", "354 "));
	for (i = 0; i < 20 && fake.calls == 0; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	CHECK_EQ_INT(fake.calls, 1);
	smtp_session_close(sess);   /* server shutdown with a delivery in flight */
	CHECK_EQ_INT(closed_calls, 1);
	for (i = 0; i < 200 && fake.callbacks == 0; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	CHECK_EQ_INT(fake.callbacks, 1);
	stop();
	/* Non-SMTP client. */
	start();
	{
		int eof;
		char *got = converse_step("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 28, 0, NULL, &eof);
		CHECK_EQ_STR(got, GREETING "421 4.7.0 Non-SMTP command, closing connection\r\n");
		CHECK(eof);
		free(got);
	}
	stop();
}

#define DRAINING "421 4.3.2 mx.test Service not available, node draining, try another server\r\n"

/* A draining node (RFC 5321 3.8): 421 between transactions, at once when
 * idle, after the reply of a transaction in progress, and as the greeting
 * of a new connection; undraining takes it back. */
static void test_draining(void)
{
	char expect[512], *got;
	int eof;

	/* Idle after EHLO: 421 and close now. */
	defaults();
	start();
	free(converse("EHLO c.example\r\n", "CHUNKING\r\n"));
	smtp_session_set_draining(sess, 1);
	got = converse_step("", 0, 0, NULL, &eof);
	CHECK_EQ_STR(got, DRAINING);
	CHECK(eof);
	free(got);
	CHECK_EQ_INT(closed_calls, 1);
	stop();

	/* In a transaction: it finishes (250), then 421. */
	start();
	free(converse("EHLO c.example\r\nMAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\n", "2.1.5"));
	smtp_session_set_draining(sess, 1);
	for (int i = 0; i < 20; i++)   /* nothing yet: a transaction is not idle */
		event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(read(cfd, expect, sizeof expect) == -1 && errno == EAGAIN);
	CHECK(sess != NULL);
	got = converse_step("DATA\r\nSubject: d\r\n\r\nx\r\n.\r\nNOOP\r\n", 33, 0, NULL, &eof);
	snprintf(expect, sizeof expect,
		 "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: %s.1 delivered\r\n" DRAINING, sid);
	CHECK_EQ_STR(got, expect);   /* the pipelined NOOP is never answered */
	CHECK(eof);
	free(got);
	CHECK_EQ_INT(fake.calls, 1);
	stop();

	/* Undrained before the transaction ended: the session goes on. */
	start();
	free(converse("EHLO c.example\r\nMAIL FROM:<s@o.example>\r\n", "2.1.0"));
	smtp_session_set_draining(sess, 1);
	smtp_session_set_draining(sess, 0);
	EXPECT("RSET\r\nNOOP\r\n", "2.0.0 Ok\r\n250 2.0.0", "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
	stop();

	/* A new connection while draining: 421 instead of 220. */
	set.draining = 1;
	start();
	got = converse_step("EHLO c.example\r\n", 16, 0, NULL, &eof);
	CHECK_EQ_STR(got, DRAINING);
	CHECK(eof);
	free(got);
	stop();
	set.draining = 0;
}

static void test_timeout(void)
{
	int eof;
	char *got;

	defaults();
	set.command_timeout_s = 1;
	start();
	got = converse_step("EHLO c\r\n", 8, 0, NULL, &eof);
	CHECK_EQ_STR(got, GREETING EHLO_REPLY "421 4.4.2 mx.test Timeout exceeded, closing connection\r\n");
	CHECK(eof);
	free(got);
	stop();
}

/* A client that pipelines far more than it reads: the session stops
 * reading while its output is over the watermark, and nothing is lost. */
static void test_backpressure(void)
{
	struct buf in = BUF_INIT;
	char *got, *p;
	int n = 0;

	defaults();
	start();
	for (int i = 0; i < 200000; i++)
		buf_puts(&in, "NOOP\r\n");
	buf_puts(&in, "QUIT\r\n");
	got = converse_step(in.data, in.len, 0, "221 ", NULL);
	/* memcmp, not strstr: ASan's strstr rescans the whole rest each call. */
	for (p = got; *p != '\0'; p = strchr(p, '\n') != NULL ? strchr(p, '\n') + 1 : p + strlen(p))
		n += memcmp(p, "250 2.0.0 Ok\r\n", 14) == 0;
	CHECK_EQ_INT(n, 200000);
	free(got);
	buf_free(&in);
	stop();
}

static void test_data_line_and_timeout(void)
{
	struct buf in = BUF_INIT;
	int eof;
	char *got;

	defaults();
	set.data_timeout_s = 1;
	start();
	buf_puts(&in, "EHLO c\r\nMAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n");
	for (int i = 0; i < 1001; i++)
		buf_puts(&in, "x");
	buf_puts(&in, "\r\n.\r\nMAIL FROM:<s@o.example>\r\nRCPT TO:<a@x.test>\r\nDATA\r\npartial");
	got = converse_step(in.data, in.len, 0, NULL, &eof);
	CHECK(strstr(got, "354 End data with <CR><LF>.<CR><LF>\r\n554 5.6.0 Message contains a line longer than allowed\r\n"
		      "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
		      "421 4.4.2 mx.test Timeout exceeded, closing connection\r\n") != NULL);
	CHECK(eof);
	CHECK_EQ_INT(fake.calls, 0);
	free(got);
	buf_free(&in);
	stop();
}

static void test_misc(void)
{
	defaults();
	start();
	EXPECT("STARTTLS\r\nEHLO c\r\nMAIL FROM:<s@o.example> BODY=BINARYMIME\r\nMAIL FROM:<s@o.example> FOO=1\r\n"
	       "MAIL FROM:<s@o.example> SIZE=1 SIZE=2\r\nMAIL FROM:<s@o.example> BODY=7BIT SMTPUTF8\r\nRSET\r\n",
	       "250 2.0.0 Ok\r\n",
	       GREETING "502 5.5.1 STARTTLS not available\r\n" EHLO_REPLY "555 5.5.4 BODY=BINARYMIME not supported\r\n"
	       "555 5.5.4 Unsupported MAIL parameter\r\n501 5.5.4 Duplicate MAIL parameter\r\n250 2.1.0 Ok\r\n"
	       "250 2.0.0 Ok\r\n");
	stop();
}

/* limits.smtp_msgs_per_min_ip / smtp_rcpts_per_min_ip: 451 4.7.1 at MAIL
 * and RCPT once the client's minute is used up (both limits far from any
 * window edge: the whole test runs within one minute). */
static void test_per_ip_limits(void)
{
	defaults();
	set.max_errors = 20;
	set.ip_msgs = smtp_rate_new_per_minute(2);
	set.ip_rcpts = smtp_rate_new_per_minute(3);
	start();
	EXPECT("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<nobody@x.test>\r\nRSET\r\n"
	       "MAIL FROM:<a@b.example>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRSET\r\n"
	       "MAIL FROM:<a@b.example>\r\nRCPT TO:<a@x.test>\r\n", "503 ",
	       GREETING EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	       "550 5.1.1 Recipient address rejected: User unknown\r\n250 2.0.0 Ok\r\n"
	       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	       "451 4.7.1 Too many recipients from your address, try again later\r\n250 2.0.0 Ok\r\n"
	       "451 4.7.1 Too many messages from your address, try again later\r\n"
	       "503 5.5.1 Need MAIL command\r\n");
	stop();
	smtp_rate_free(&set.ip_msgs);
	smtp_rate_free(&set.ip_rcpts);
}

/* The per-minute limiter slides by the second and is per key. */
static void test_rate_per_minute(void)
{
	struct smtp_rate *r = smtp_rate_new_per_minute(2);

	CHECK_EQ_INT(smtp_rate_allowed(NULL, "192.0.2.1", 0), 1);
	smtp_rate_record(r, "192.0.2.1", 1000000);
	smtp_rate_record(r, "192.0.2.1", 1030000);
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.1", 1030000), 0);
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.2", 1030000), 1);
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.1", 1059999), 0);
	/* the first one left the window: one slot free again */
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.1", 1060000), 1);
	smtp_rate_record(r, "192.0.2.1", 1060000);
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.1", 1060001), 0);
	smtp_rate_free(&r);
	r = smtp_rate_new_per_minute(0);
	smtp_rate_record(r, "192.0.2.1", 0);
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.1", 0), 1);
	smtp_rate_free(&r);
}

int main(void)
{
	log_set_level(LOG_WARN);
	test_run("basic pipelined session", test_basic_pipelined);
	test_run("byte at a time equals all at once", test_bytewise_equals_batch);
	test_run("bad sequence", test_sequence_errors);
	test_run("error limit closes with 421", test_error_limit_closes);
	test_run("size limits", test_size_limits);
	test_run("recipient results, limits and dedupe", test_recipient_results);
	test_run("DSN parameters", test_dsn_params);
	test_run("LMTP per-recipient replies", test_lmtp);
	test_run("delivery failure", test_delivery_failure);
	test_run("BDAT", test_bdat);
	test_run("smuggling in a session", test_smuggling);
	test_run("garbage and long lines", test_garbage_and_long_lines);
	test_run("disconnects", test_disconnects);
	test_run("command timeout", test_timeout);
	test_run("draining", test_draining);
	test_run("backpressure", test_backpressure);
	test_run("misc parameters and STARTTLS off", test_misc);
	test_run("DATA line limit and data timeout", test_data_line_and_timeout);
	test_run("per-client message and recipient limits", test_per_ip_limits);
	test_run("per-minute limiter", test_rate_per_minute);
	if (base != NULL)
		event_base_free(base);
	fake_free(&fake);
	return test_done();
}

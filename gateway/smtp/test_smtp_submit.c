/* test_smtp_submit - submission mode (RFC 6409) over a socketpair with a
 * fake backend: AUTH PLAIN/LOGIN (RFC 4954) with its continuations,
 * cancel, limits and error counting, the TLS rule, sender checks in MAIL
 * FROM and From:, the fields an MSA adds, the DKIM signature, local plus
 * queued recipients and their failures, the hourly limit. */
#include "gateway/smtp/smtp_session.h"
#include "gateway/smtp/smtp_rate.h"
#include "gateway/smtp/test_smtp_fake.h"
#include "common/dkim.h"
#include "common/log.h"
#include "common/scram.h"
#include "tests/unit/testlib.h"

#include <event2/bufferevent.h>
#include <openssl/pem.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event_base *base;
static struct fake fake;
static struct smtp_session *sess;
static int cfd = -1;
static struct smtp_session_settings set;
static struct smtp_rate *rate;
static char *dkim_pem;

/* The submission half of the fake: a@x.test has password "pw" and may send
 * as itself and as alias@x.test; b@x.test exists without a password. */
struct sfake {
	int auth_calls;
	int queue_calls, queue_fail;
	char *queue_from, *queue_account, *queue_data, *queue_rcpts;
	int queue_requiretls, queue_body8bit;
};
static struct sfake sf;

struct auth_pending {
	auth_password_cb *cb;
	void *ctx;
	int ok;
	char account[64];
};

static void auth_fire(evutil_socket_t fd, short what, void *arg)
{
	struct auth_pending *p = arg;

	p->cb(p->ctx, p->ok, p->account, p->ok ? "t1" : "");
	free(p);
}

static void fake_auth(void *ctx, const char *peer_ip, const char *user, const char *password,
		      auth_password_cb *cb, void *cb_ctx)
{
	struct auth_pending *p = calloc(1, sizeof *p);
	struct timeval tv = { 0, 1000 };

	sf.auth_calls++;
	p->cb = cb;
	p->ctx = cb_ctx;
	p->ok = strcasecmp(user, "a@x.test") == 0 && strcmp(password, "pw") == 0;
	snprintf(p->account, sizeof p->account, "%s", user);
	event_base_once(base, -1, EV_TIMEOUT, auth_fire, p, &tv);
}

static int fake_scram(void *ctx, const char *user, json_t **rec_r, char *tenant)
{
	return 0;
}

static int fake_sender(void *ctx, const char *account, const char *address)
{
	if (strcasecmp(address, "lookup-error@x.test") == 0)
		return -1;
	return strcasecmp(address, account) == 0 ||
	       (strcmp(account, "a@x.test") == 0 && strcasecmp(address, "alias@x.test") == 0);
}

static json_t *fake_dkim(void *ctx, const char *domain)
{
	if (strcmp(domain, "x.test") != 0)
		return NULL;
	return json_pack("[{s:s,s:s,s:s,s:s}]", "domain", "x.test", "selector", "sel", "algorithm",
			 "ed25519-sha256", "private_key", dkim_pem);
}

struct queue_pending {
	enqueue_done_cb *cb;
	void *ctx;
	int status;
};

static void queue_fire(evutil_socket_t fd, short what, void *arg)
{
	struct queue_pending *p = arg;

	p->cb(p->ctx, p->status, "0123456789abcdef0123456789abcdef", p->status ? "injected" : NULL);
	free(p);
}

static void fake_enqueue(void *ctx, const struct enqueue_request *req, enqueue_done_cb *cb, void *cb_ctx)
{
	struct queue_pending *p = calloc(1, sizeof *p);
	struct timeval tv = { 0, 1000 };
	struct buf r = BUF_INIT;

	sf.queue_calls++;
	free(sf.queue_from);
	free(sf.queue_account);
	free(sf.queue_data);
	free(sf.queue_rcpts);
	sf.queue_from = strdup(req->from);
	sf.queue_account = strdup(req->account);
	sf.queue_data = strndup(req->data, req->len);
	buf_puts(&r, "");
	for (size_t i = 0; i < req->nrcpts; i++)
		buf_printf(&r, "%s[%s|%s] ", req->rcpts[i].addr, req->rcpts[i].notify, req->rcpts[i].orcpt);
	sf.queue_rcpts = buf_steal(&r);
	sf.queue_requiretls = req->requiretls;
	sf.queue_body8bit = req->body8bit;
	p->cb = cb;
	p->ctx = cb_ctx;
	p->status = sf.queue_fail ? -1 : 0;
	event_base_once(base, -1, EV_TIMEOUT, queue_fire, p, &tv);
}

static void defaults(void)
{
	memset(&set, 0, sizeof set);
	set.hostname = "msa.test";
	set.max_line = 1000;
	set.max_message = 100000;
	set.max_recipients = 5;
	set.max_errors = 10;
	set.command_timeout_s = 30;
	set.data_timeout_s = 30;
	set.submission = 1;
	set.allow_plaintext_auth = 1;
	set.dkim_sign = 1;
	smtp_rate_free(&rate);
	rate = smtp_rate_new(100);
	set.rate = rate;
}

static void on_closed(void *ctx, struct smtp_session *s, const char *ip)
{
	sess = NULL;
}

static void start(void)
{
	int sv[2];
	struct bufferevent *bev;
	struct smtp_backend be = { .resolve = fake_resolve, .deliver = fake_deliver, .auth_password = fake_auth,
				   .scram_lookup = fake_scram, .sender_allowed = fake_sender,
				   .dkim_keys = fake_dkim, .enqueue = fake_enqueue, .ctx = &fake };

	if (base == NULL)
		base = event_base_new();
	fake_free(&fake);
	fake.base = base;
	sf.auth_calls = sf.queue_calls = sf.queue_fail = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	cfd = sv[1];
	bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	sess = smtp_session_start(base, bev, "192.0.2.7", 0, &set, &be, on_closed, NULL);
}

/* Writes in (step octets at a time, 0 = all) and collects output until
 * `until` appears, EOF or 5 s. */
static char *converse_step(const char *in, size_t step, const char *until)
{
	struct buf out = BUF_INIT;
	size_t off = 0, len = strlen(in);
	int64_t deadline = evm_mono_ms() + 5000;

	buf_puts(&out, "");
	while (evm_mono_ms() < deadline) {
		char tmp[65536];
		ssize_t r;

		if (off < len) {
			size_t n = step == 0 || len - off < step ? len - off : step;
			ssize_t w = write(cfd, in + off, n);
			if (w > 0)
				off += (size_t)w;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		r = read(cfd, tmp, sizeof tmp);
		if (r > 0)
			buf_append(&out, tmp, (size_t)r);
		else if (r == 0)
			break;
		if (off == len && until != NULL && strstr(out.data, until) != NULL)
			break;
		usleep(200);
	}
	return buf_steal(&out);
}

static char *converse(const char *in, const char *until)
{
	return converse_step(in, 0, until);
}

static void stop(void)
{
	if (sess != NULL)
		smtp_session_close(sess);
	if (cfd >= 0)
		close(cfd);
	cfd = -1;
	for (int i = 0; i < 30; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

#define EXPECT(in, until, expected) do { char *got_ = converse(in, until); \
	int ok_ = strcmp(got_, expected) == 0; \
	if (!ok_) fprintf(stderr, "got:\n%s\nexpected:\n%s\n", got_, expected); \
	free(got_); CHECK(ok_); } while (0)
/* The reply contains needle. */
#define EXPECT_IN(in, until, needle) do { char *got_ = converse(in, until); \
	int ok_ = strstr(got_, needle) != NULL; \
	if (!ok_) fprintf(stderr, "got:\n%s\nexpected to contain:\n%s\n", got_, needle); \
	free(got_); CHECK(ok_); } while (0)

#define GREETING "220 msa.test ESMTP evmail ready\r\n"
#define EHLO_AUTH "250-msa.test\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250-AUTH PLAIN LOGIN SCRAM-SHA-256\r\n" \
	"250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250 CHUNKING\r\n"
/* base64 of "\0a@x.test\0pw" and "\0a@x.test\0nope" */
#define PLAIN_OK "AGFAeC50ZXN0AHB3"
#define PLAIN_BAD "AGFAeC50ZXN0AG5vcGU="

/* A fresh Ed25519 key in PEM, as evmailctl dkim create stores it. */
static char *make_pem(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL, *out;
	long n;

	PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &p);
	out = strndup(p, (size_t)n);
	BIO_free(bio);
	EVP_PKEY_free(k);
	return out;
}

static void test_auth_plain_and_local_remote(void)
{
	char *got;

	defaults();
	start();
	EXPECT("", "\r\n", GREETING);
	EXPECT("EHLO client.example\r\n", "CHUNKING\r\n", EHLO_AUTH);
	EXPECT("MAIL FROM:<a@x.test>\r\n", "\r\n", "530 5.7.0 Authentication required\r\n");
	EXPECT("AUTH PLAIN " PLAIN_BAD "\r\n", "\r\n", "535 5.7.8 Authentication credentials invalid\r\n");
	EXPECT("AUTH PLAIN\r\n", "\r\n", "334 \r\n");
	EXPECT(PLAIN_OK "\r\n", "\r\n", "235 2.7.0 Authentication successful\r\n");
	EXPECT("AUTH PLAIN " PLAIN_OK "\r\n", "\r\n", "503 5.5.1 Already authenticated\r\n");
	EXPECT("MAIL FROM:<b@x.test>\r\n", "\r\n",
	       "553 5.7.1 Sender address rejected: not owned by the authenticated user\r\n");
	EXPECT("MAIL FROM:<>\r\n", "\r\n", "553 5.7.1 The null sender is not allowed in submission\r\n");
	EXPECT("MAIL FROM:<lookup-error@x.test>\r\n", "\r\n", "451 4.3.0 Temporary lookup failure, try again later\r\n");
	EXPECT("MAIL FROM:<a@x.test> BODY=8BITMIME\r\nRCPT TO:<b@x.test>\r\n"
	       "RCPT TO:<far@remote.example> NOTIFY=FAILURE,DELAY ORCPT=rfc822;far@remote.example\r\n"
	       "RCPT TO:<nobody@x.test>\r\nDATA\r\n", "354",
	       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 Recipient address rejected: User unknown\r\n"
	       "354 End data with <CR><LF>.<CR><LF>\r\n");
	got = converse("From: A <a@x.test>\r\nTo: b@x.test\r\nSubject: hi\r\n\r\nbody\r\n.\r\n", "\r\n");
	CHECK(strncmp(got, "250 2.0.0 Ok: queued as ", 24) == 0);
	free(got);
	/* Local: delivered with the MSA's additions and the signature on top. */
	CHECK_EQ_INT(fake.calls, 1);
	CHECK_EQ_STR(fake.actor, "submission");
	CHECK_EQ_STR(fake.targets[0], "b@x.test");
	CHECK(strncmp(fake.data.data, "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;", 57) == 0);
	CHECK(strstr(fake.data.data, "\r\nMessage-ID: <") != NULL);
	CHECK(strstr(fake.data.data, "@msa.test>\r\nDate: ") != NULL);
	CHECK(strstr(fake.data.data, " +0000\r\nFrom: A <a@x.test>\r\nTo: b@x.test\r\nSubject: hi\r\n\r\nbody\r\n") != NULL);
	CHECK(strncmp(fake.received, "Received: from client.example ([192.0.2.7])\r\n\tby msa.test with ESMTPA id ", 73) == 0);
	/* Remote: the same message, Received: first, into the queue. */
	CHECK_EQ_INT(sf.queue_calls, 1);
	CHECK_EQ_STR(sf.queue_from, "a@x.test");
	CHECK_EQ_STR(sf.queue_account, "a@x.test");
	CHECK_EQ_STR(sf.queue_rcpts, "far@remote.example[FAILURE,DELAY|rfc822;far@remote.example] ");
	CHECK(sf.queue_body8bit == 1 && sf.queue_requiretls == 0);
	CHECK(strncmp(sf.queue_data, "Received: from client.example", 29) == 0);
	CHECK(strstr(sf.queue_data, fake.data.data) != NULL);
	/* The Date and Message-ID of the client are kept; BDAT works too. */
	EXPECT_IN("MAIL FROM:<alias@x.test>\r\nRCPT TO:<b@x.test>\r\nBDAT 82 LAST\r\n"
		  "From: alias@x.test\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <m@c>\r\n\r\nx\r\n",
		  "queued", "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued as ");
	CHECK(strstr(fake.data.data, "Message-ID: <m@c>") != NULL && strstr(fake.data.data, "msa.test>") == NULL);
	CHECK(strstr(fake.data.data, "Date: Mon, 1 Jan 2024") != NULL && strstr(fake.data.data, "+0000\r\nDate:") == NULL);
	stop();
}

static void test_from_header_rules(void)
{
	defaults();
	start();
	free(converse("EHLO c\r\nAUTH PLAIN " PLAIN_OK "\r\n", "235"));
	EXPECT("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nFrom: b@x.test\r\n\r\nx\r\n.\r\n", "553",
	       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
	       "553 5.7.1 From: header address not owned by the authenticated user\r\n");
	EXPECT_IN("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nFrom: a@x.test, b@x.test\r\nSender: a@x.test\r\n\r\nx\r\n.\r\n",
		  "553", "553 5.7.1 From: header address not owned");
	EXPECT_IN("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nFrom: a@x.test\r\nfrom : a@x.test\r\n\r\nx\r\n.\r\n",
		  "553", "553 5.7.1 The message needs exactly one From: header field");
	EXPECT_IN("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nSubject: none\r\n\r\nx\r\n.\r\n",
		  "553", "553 5.7.1 The message needs exactly one From: header field");
	EXPECT_IN("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nFrom: =?utf-8?q?Al?= <ALIAS@X.TEST>\r\n\r\nx\r\n.\r\n",
		  "queued", "250 2.0.0 Ok: queued as ");
	CHECK_EQ_INT(fake.calls, 1);
	CHECK_EQ_INT(sf.queue_calls, 0);
	stop();
}

static void test_auth_login_cancel_errors(void)
{
	char line[1200];

	defaults();
	set.max_errors = 5;
	start();
	free(converse("EHLO c\r\n", "CHUNKING"));
	EXPECT("AUTH LOGIN\r\n", "\r\n", "334 VXNlcm5hbWU6\r\n");
	EXPECT("*\r\n", "\r\n", "501 5.0.0 Authentication cancelled\r\n");
	EXPECT("AUTH LOGIN YUB4LnRlc3Q=\r\n", "\r\n", "334 UGFzc3dvcmQ6\r\n");
	EXPECT("not base64!\r\n", "\r\n", "501 5.5.2 Cannot decode the response (invalid base64)\r\n");
	EXPECT("AUTH CRAM-MD5\r\n", "\r\n", "504 5.5.4 Unrecognized authentication type\r\n");
	/* A response longer than the line limit (RFC 4954 4). */
	memset(line, 'A', sizeof line - 3);
	memcpy(line + sizeof line - 3, "\r\n", 3);
	EXPECT("AUTH PLAIN\r\n", "334", "334 \r\n");
	EXPECT(line, "\r\n", "500 5.5.6 Authentication exchange line is too long\r\n");
	/* Four failures so far; the fifth closes (limits.smtp_errors). */
	EXPECT_IN("AUTH PLAIN " PLAIN_BAD "\r\n", "421",
		  "535 5.7.8 Authentication credentials invalid\r\n421 4.7.0 msa.test Too many errors");
	stop();
	/* LOGIN succeeds, one byte and seven bytes at a time alike. */
	for (size_t step = 1; step <= 7; step += 6) {
		char *got;
		defaults();
		start();
		got = converse_step("EHLO c\r\nAUTH LOGIN\r\nYUB4LnRlc3Q=\r\ncHc=\r\nMAIL FROM:<a@x.test>\r\n", step,
				    "250 2.1.0");
		CHECK(strstr(got, "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 Authentication successful\r\n"
				  "250 2.1.0 Ok\r\n") != NULL);
		free(got);
		stop();
	}
}

static void test_tls_required(void)
{
	defaults();
	set.allow_plaintext_auth = 0;
	start();
	EXPECT("EHLO c\r\n", "CHUNKING\r\n",
	       GREETING "250-msa.test\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250-ENHANCEDSTATUSCODES\r\n"
	       "250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250 CHUNKING\r\n");
	EXPECT("AUTH PLAIN " PLAIN_OK "\r\n", "\r\n",
	       "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
	EXPECT("MAIL FROM:<a@x.test> REQUIRETLS\r\n", "\r\n", "530 5.7.0 Authentication required\r\n");
	CHECK_EQ_INT(sf.auth_calls, 0);
	stop();
	/* Not a submission session: AUTH is not offered or implemented. */
	defaults();
	set.submission = 0;
	start();
	EXPECT_IN("EHLO c\r\nAUTH PLAIN " PLAIN_OK "\r\n", "502", "250 CHUNKING\r\n502 5.5.1 Command not implemented\r\n");
	stop();
}

static void test_failures_and_rate(void)
{
	defaults();
	smtp_rate_free(&rate);
	rate = smtp_rate_new(2);
	set.rate = rate;
	start();
	free(converse("EHLO c\r\nAUTH PLAIN " PLAIN_OK "\r\n", "235"));
	/* The queue refuses: 451, though the local copy was stored. */
	sf.queue_fail = 1;
	EXPECT_IN("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRCPT TO:<r@remote.example>\r\nDATA\r\n"
		  "From: a@x.test\r\n\r\nx\r\n.\r\n", "451", "451 4.3.0 Message not accepted, try again later\r\n");
	sf.queue_fail = 0;
	/* The local delivery fails: 451 as well. */
	fake.fail_all = 1;
	EXPECT_IN("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRCPT TO:<r@remote.example>\r\nDATA\r\n"
		  "From: a@x.test\r\n\r\nx\r\n.\r\n", "451", "451 4.3.0 Message not accepted, try again later\r\n");
	fake.fail_all = 0;
	/* Failures do not count toward the hour; two successes do. */
	EXPECT_IN("MAIL FROM:<a@x.test>\r\nRCPT TO:<r@remote.example>\r\nDATA\r\nFrom: a@x.test\r\n\r\nx\r\n.\r\n",
		  "queued", "250 2.0.0 Ok: queued as ");
	EXPECT_IN("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nFrom: a@x.test\r\n\r\nx\r\n.\r\n",
		  "queued", "250 2.0.0 Ok: queued as ");
	EXPECT("MAIL FROM:<a@x.test>\r\n", "\r\n", "450 4.7.1 Too many messages in the last hour, try again later\r\n");
	stop();
}

static void test_rate_window(void)
{
	struct smtp_rate *r = smtp_rate_new(3);
	int64_t t0 = 1700000000000LL;

	for (int i = 0; i < 3; i++) {
		CHECK(smtp_rate_allowed(r, "a@x.test", t0 + i * 60000));
		smtp_rate_record(r, "a@x.test", t0 + i * 60000);
	}
	CHECK(!smtp_rate_allowed(r, "a@x.test", t0 + 3 * 60000));
	CHECK(smtp_rate_allowed(r, "b@x.test", t0 + 3 * 60000));
	/* The first message leaves the window an hour later, the rest after. */
	CHECK(!smtp_rate_allowed(r, "a@x.test", t0 + 59 * 60000));
	CHECK(smtp_rate_allowed(r, "a@x.test", t0 + 60 * 60000));
	smtp_rate_record(r, "a@x.test", t0 + 60 * 60000);
	CHECK(!smtp_rate_allowed(r, "a@x.test", t0 + 60 * 60000));
	CHECK(smtp_rate_allowed(r, "a@x.test", t0 + 200 * 60000));
	smtp_rate_free(&r);
	r = smtp_rate_new(0);
	for (int i = 0; i < 10; i++)
		smtp_rate_record(r, "a@x.test", t0);
	CHECK(smtp_rate_allowed(r, "a@x.test", t0));
	smtp_rate_free(&r);
}

int main(void)
{
	log_set_level(LOG_WARN);
	dkim_pem = make_pem();
	test_run("AUTH PLAIN, sender checks, local and remote", test_auth_plain_and_local_remote);
	test_run("From: header rules", test_from_header_rules);
	test_run("AUTH LOGIN, cancel, errors, bytewise", test_auth_login_cancel_errors);
	test_run("TLS required for AUTH", test_tls_required);
	test_run("delivery failures and the hourly limit", test_failures_and_rate);
	test_run("sliding window", test_rate_window);
	if (base != NULL)
		event_base_free(base);
	fake_free(&fake);
	smtp_rate_free(&rate);
	free(dkim_pem);
	free(sf.queue_from);
	free(sf.queue_account);
	free(sf.queue_data);
	free(sf.queue_rcpts);
	return test_done();
}

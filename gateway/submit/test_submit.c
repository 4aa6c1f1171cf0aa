/* test_submit - submission's core with fake halves and lookups: the From:
 * checks, Message-ID/Date fixing, and one result from two halves
 * (local only, remote only, both, a failing half, storage full). */
#include "gateway/submit/submit.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int allowed(void *ctx, const char *account, const char *address)
{
	(void)ctx;
	if (strcmp(address, "err@x.test") == 0)
		return -1;
	return strcasecmp(address, account) == 0 || strcmp(address, "alias@x.test") == 0;
}

static json_t *no_keys(void *ctx, const char *domain)
{
	(void)ctx;
	(void)domain;
	return NULL;
}

static const struct submit_lookups lookups = { allowed, no_keys, NULL };

static const char *check(const char *hdr, char **domain, int *temp)
{
	return submit_check_from(&lookups, "me@x.test", hdr, strlen(hdr), domain, temp);
}

static void test_from(void)
{
	char *domain = NULL;
	int temp = 0;

	CHECK(check("From: Me <me@X.Test>\r\nTo: a@b\r\n\r\n", &domain, &temp) == NULL);
	CHECK_EQ_STR(domain, "x.test");
	free(domain);
	CHECK(check("From: alias@x.test, me@x.test\r\n\r\n", &domain, &temp) == NULL);
	free(domain);
	CHECK(strncmp(check("From: other@x.test\r\n\r\n", &domain, &temp), "553 ", 4) == 0);
	CHECK(domain == NULL);
	CHECK(strncmp(check("To: a@b\r\n\r\n", &domain, &temp), "553 ", 4) == 0);
	CHECK(strncmp(check("From: me@x.test\r\nFrom: me@x.test\r\n\r\n", &domain, &temp), "553 ", 4) == 0);
	CHECK(strncmp(check("From: nodomain\r\n\r\n", &domain, &temp), "553 ", 4) == 0);
	CHECK(strncmp(check("From: err@x.test\r\n\r\n", &domain, &temp), "451 ", 4) == 0);
	CHECK_EQ_INT(temp, 1);
}

static void test_fix(void)
{
	struct buf out = BUF_INIT;
	const char *m = "From: me@x.test\r\n\r\nbody\r\n";

	submit_fix_message(m, strlen(m), "mx.test", &out);
	CHECK(strncmp(out.data, "Message-ID: <", 13) == 0);
	CHECK(strstr(out.data, "@mx.test>\r\nDate: ") != NULL);
	CHECK(strstr(out.data, "\r\nFrom: me@x.test\r\n\r\nbody\r\n") != NULL);
	buf_free(&out);
	m = "Message-ID: <a@b>\r\ndate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nx";
	submit_fix_message(m, strlen(m), "mx.test", &out);
	CHECK_EQ_INT(out.len, strlen(m));
	buf_free(&out);
	CHECK_EQ_INT(submit_header_len("\r\nbody", 6), 2);
	CHECK_EQ_INT(submit_header_len("A: b", 4), 4);
}

/* Fake halves: answer at once with what the test asks. */
static int local_ok = 1, queue_ok = 1, local_452 = 0;
static unsigned delivered, queued;
static size_t queued_len;

static void fake_deliver(void *ctx, const struct deliver_request *req, deliver_done_cb *cb, void *cb_ctx)
{
	struct deliver_result r[4];

	(void)ctx;
	memset(r, 0, sizeof r);
	delivered++;
	for (size_t i = 0; i < req->ntargets && i < 4; i++) {
		r[i].ok = local_ok;
		snprintf(r[i].code, sizeof r[i].code, "%s", local_ok ? "250" : local_452 ? "452" : "550");
		snprintf(r[i].enhanced, sizeof r[i].enhanced, "%s",
			 local_ok ? "2.0.0" : local_452 ? "4.3.1" : "5.1.1");
		snprintf(r[i].text, sizeof r[i].text, "%s", local_ok ? "ok" : "no");
	}
	cb(cb_ctx, r, req->ntargets);
}

static void fake_enqueue(void *ctx, const struct enqueue_request *req, enqueue_done_cb *cb, void *cb_ctx)
{
	(void)ctx;
	queued++;
	queued_len = req->len;
	cb(cb_ctx, queue_ok ? 0 : -1, queue_ok ? "0123456789abcdef0123456789abcdef" : NULL,
	   queue_ok ? NULL : "log: down");
}

static const struct submit_ops ops = { fake_deliver, fake_enqueue, NULL };
static struct submit_result got;
static int calls;

static void done(void *ctx, const struct submit_result *r)
{
	(void)ctx;
	got = *r;
	calls++;
}

static void send_with(size_t ntargets, size_t nremote)
{
	struct deliver_target t[2];
	struct outbound_rcpt rc[2] = { { .addr = "a@remote.test" }, { .addr = "b@remote.test" } };
	struct submit_send_request req = { 0 };

	memset(t, 0, sizeof t);
	req.actor = "test";
	req.tenant = "t";
	req.account = "me@x.test";
	req.mail_from = "me@x.test";
	req.received = "Received: by test\r\n";
	req.data = "From: me@x.test\r\n\r\nhi\r\n";
	req.len = strlen(req.data);
	req.targets = t;
	req.ntargets = ntargets;
	req.remote = rc;
	req.nremote = nremote;
	calls = 0;
	delivered = queued = 0;
	submit_send(&ops, &req, done, NULL);
}

static void test_send(void)
{
	local_ok = queue_ok = 1;
	send_with(1, 2);
	CHECK_EQ_INT(calls, 1);
	CHECK_EQ_INT(got.ok, 1);
	CHECK_EQ_INT(delivered, 1);
	CHECK_EQ_INT(queued, 1);
	CHECK_EQ_STR(got.queue_id, "0123456789abcdef0123456789abcdef");
	/* The queued copy carries the trace field. */
	CHECK_EQ_INT(queued_len, strlen("Received: by test\r\n") + strlen("From: me@x.test\r\n\r\nhi\r\n"));
	queue_ok = 0;
	send_with(1, 1);
	CHECK_EQ_INT(got.ok, 0);
	CHECK_EQ_INT(got.local_ok, 1);
	send_with(1, 0);
	CHECK_EQ_INT(got.ok, 1);      /* no remote half: its failure cannot count */
	CHECK_EQ_INT(queued, 0);
	local_ok = 0;
	send_with(1, 0);
	CHECK_EQ_INT(got.ok, 0);
	CHECK_EQ_INT(got.have_local_first, 1);
	CHECK_EQ_STR(got.local_first.code, "550");
	local_452 = 1;
	send_with(2, 0);
	CHECK_EQ_INT(got.storage_full, 1);
	local_ok = 1;
	queue_ok = 1;
	send_with(0, 1);
	CHECK_EQ_INT(got.ok, 1);
	CHECK_EQ_INT(delivered, 0);
}

int main(void)
{
	test_run("From: checks", test_from);
	test_run("Message-ID and Date", test_fix);
	test_run("two halves, one result", test_send);
	return test_done();
}

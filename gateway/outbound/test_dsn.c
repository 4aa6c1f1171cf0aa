/* test_dsn - the RFC 3464 report dsn_compose() builds, read back with the
 * MIME parser (common/mime.h) and field by field: the multipart/report
 * structure, per-recipient fields, what is returned of the original by RET
 * and kind, the RFC 6533 global types, line lengths, and refusals. */
#include "gateway/outbound/dsn.h"
#include "gateway/outbound/dsn_internal.h"
#include "common/buf.h"
#include "common/mime.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

#define NOW 1796594139000LL      /* 2026-12-06 21:55:39 UTC */

static const char original[] =
	"From: Alice <alice@example.org>\r\n"
	"To: bob@remote.example\r\n"
	"Subject: hello\r\n"
	"Message-ID: <m1@example.org>\r\n"
	"\r\n"
	"The body line one.\r\n"
	"BODY-MARKER\r\n";

static const struct dsn_rcpt two_rcpts[] = {
	{ "bob@remote.example", "rfc822;bob+2Bx@remote.example", "5.1.1",
	  "550 5.1.1 <bob@remote.example>: user unknown", "mx.remote.example [192.0.2.7]" },
	{ "carol@remote.example", "", "", "", "" },
};

/* A failure report of original to alice, two recipients. */
static struct dsn_request base_request(enum dsn_kind kind, const char *ret)
{
	struct dsn_request r;

	memset(&r, 0, sizeof r);
	r.kind = kind;
	r.hostname = "mail.example.org";
	r.sender = "alice@example.org";
	r.envid = "env+2D1";
	r.ret = ret;
	r.arrival_ms = NOW - 3600 * 1000;
	r.last_attempt_ms = NOW - 60 * 1000;
	r.retry_until_ms = NOW + 86400 * 1000;
	r.rcpts = two_rcpts;
	r.nrcpts = 2;
	r.original = original;
	r.original_len = sizeof original - 1;
	r.now_ms = NOW;
	return r;
}

/* Every line ends in CRLF and is at most 998 octets. */
static int lines_ok(const char *msg, size_t len)
{
	size_t line = 0;

	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n') {
			if (i == 0 || msg[i - 1] != '\r' || line > 999)
				return 0;
			line = 0;
		} else {
			line++;
		}
	}
	return line == 0;
}

/* The text of part [start,end] of a parsed leaf. */
static char *part_text(const char *msg, json_t *part, const char *which)
{
	json_t *r = json_object_get(part, which);
	size_t s = (size_t)json_integer_value(json_array_get(r, 0));
	size_t e = (size_t)json_integer_value(json_array_get(r, 1));

	return xstrndup(msg + s, e - s);
}

static const char *ptype(json_t *part, const char *k)
{
	return json_string_value(json_object_get(part, k));
}

/* Parsed report: top-level part and its three children checked for types. */
struct report {
	char *msg;
	size_t len;
	json_t *summary;
	json_t *parts;
	char *status;    /* the delivery-status body */
	char *third;     /* the returned original (body of the third part) */
};

static int report_parse(struct report *rp, const struct dsn_request *req, const char *status_type,
			const char *third_type)
{
	const char *error;
	json_t *top;
	char want[80];

	memset(rp, 0, sizeof *rp);
	if (dsn_compose(req, &rp->msg, &rp->len, &error) < 0) {
		fprintf(stderr, "compose: %s\n", error);
		return 0;
	}
	if (!lines_ok(rp->msg, rp->len))
		return 0;
	rp->summary = mime_parse(rp->msg, rp->len, NULL);
	top = json_object_get(rp->summary, "part");
	if (strcmp(ptype(top, "type"), "multipart") != 0 || strcmp(ptype(top, "subtype"), "report") != 0)
		return 0;
	snprintf(want, sizeof want, "%s", strchr(status_type, '/') + 1);
	if (strcmp(json_string_value(json_object_get(json_object_get(top, "params"), "report-type")),
		   want) != 0)
		return 0;
	rp->parts = json_object_get(top, "parts");
	if (json_array_size(rp->parts) != 3)
		return 0;
	if (strcmp(ptype(json_array_get(rp->parts, 0), "type"), "text") != 0 ||
	    strcmp(ptype(json_array_get(rp->parts, 0), "subtype"), "plain") != 0)
		return 0;
	snprintf(want, sizeof want, "%s/%s", ptype(json_array_get(rp->parts, 1), "type"),
		 ptype(json_array_get(rp->parts, 1), "subtype"));
	if (strcmp(want, status_type) != 0)
		return 0;
	snprintf(want, sizeof want, "%s/%s", ptype(json_array_get(rp->parts, 2), "type"),
		 ptype(json_array_get(rp->parts, 2), "subtype"));
	if (strcmp(want, third_type) != 0) {
		fprintf(stderr, "third part is %s, expected %s\n", want, third_type);
		return 0;
	}
	rp->status = part_text(rp->msg, json_array_get(rp->parts, 1), "body");
	rp->third = part_text(rp->msg, json_array_get(rp->parts, 2), "body");
	return 1;
}

static void report_free(struct report *rp)
{
	free(rp->msg);
	json_decref(rp->summary);
	free(rp->status);
	free(rp->third);
}

/* 1 when the report's header block has exactly this line. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p += n) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\r'))
			return 1;
	}
	return 0;
}

static void test_failure_full(void)
{
	struct dsn_request req = base_request(DSN_FAILURE, "");
	struct report rp;

	CHECK(report_parse(&rp, &req, "message/delivery-status", "message/rfc822"));
	CHECK(has_line(rp.msg, "From: Mail Delivery System <MAILER-DAEMON@mail.example.org>"));
	CHECK(has_line(rp.msg, "To: <alice@example.org>"));
	CHECK(has_line(rp.msg, "Subject: Undelivered Mail Returned to Sender"));
	CHECK(has_line(rp.msg, "Auto-Submitted: auto-replied"));
	CHECK(has_line(rp.msg, "Date: Sun, 06 Dec 2026 21:55:39 +0000"));
	CHECK(has_line(rp.status, "Reporting-MTA: dns; mail.example.org"));
	CHECK(has_line(rp.status, "Original-Envelope-Id: env-1"));
	CHECK(has_line(rp.status, "Arrival-Date: Sun, 06 Dec 2026 20:55:39 +0000"));
	/* First recipient: every field. */
	CHECK(has_line(rp.status, "Original-Recipient: rfc822;bob+x@remote.example"));
	CHECK(has_line(rp.status, "Final-Recipient: rfc822;bob@remote.example"));
	CHECK(has_line(rp.status, "Action: failed"));
	CHECK(has_line(rp.status, "Status: 5.1.1"));
	CHECK(has_line(rp.status, "Remote-MTA: dns; mx.remote.example"));
	CHECK(has_line(rp.status, "Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.example>: user unknown"));
	CHECK(has_line(rp.status, "Last-Attempt-Date: Sun, 06 Dec 2026 21:54:39 +0000"));
	CHECK(strstr(rp.status, "Will-Retry-Until") == NULL);
	/* Second: default status, no optional fields. */
	CHECK(has_line(rp.status, "Final-Recipient: rfc822;carol@remote.example"));
	CHECK(has_line(rp.status, "Status: 5.0.0"));
	CHECK(strstr(strstr(rp.status, "carol@"), "Diagnostic-Code") == NULL);
	/* Per-recipient groups are separated by an empty line (RFC 3464 2.1). */
	CHECK(strstr(rp.status, "\r\n\r\nOriginal-Recipient: rfc822;bob") != NULL);
	CHECK(strstr(rp.status, "\r\n\r\nFinal-Recipient: rfc822;carol") != NULL);
	/* The whole original comes back. */
	CHECK(strstr(rp.third, "BODY-MARKER") != NULL);
	CHECK(strstr(rp.third, "Subject: hello") != NULL);
	/* The human-readable part names each recipient. */
	{
		char *human = part_text(rp.msg, json_array_get(rp.parts, 0), "body");
		int ok = strstr(human, "<bob@remote.example>") != NULL &&
			 strstr(human, "<carol@remote.example>") != NULL;
		free(human);
		CHECK(ok);
	}
	report_free(&rp);
}

static void test_failure_hdrs(void)
{
	struct dsn_request req = base_request(DSN_FAILURE, "HDRS");
	struct report rp;

	CHECK(report_parse(&rp, &req, "message/delivery-status", "text/rfc822-headers"));
	CHECK(strstr(rp.third, "Subject: hello") != NULL);
	CHECK(strstr(rp.third, "BODY-MARKER") == NULL);
	report_free(&rp);
}

static void test_delay(void)
{
	struct dsn_request req = base_request(DSN_DELAY, "FULL");
	struct report rp;

	/* RET=FULL applies to failures only; delays carry the headers. */
	CHECK(report_parse(&rp, &req, "message/delivery-status", "text/rfc822-headers"));
	CHECK(has_line(rp.msg, "Subject: Delayed Mail (still being retried)"));
	CHECK(has_line(rp.status, "Action: delayed"));
	CHECK(has_line(rp.status, "Status: 4.0.0"));
	CHECK(has_line(rp.status, "Will-Retry-Until: Mon, 07 Dec 2026 21:55:39 +0000"));
	CHECK(strstr(rp.third, "BODY-MARKER") == NULL);
	report_free(&rp);
}

static void test_success_relayed(void)
{
	struct dsn_request req = base_request(DSN_SUCCESS, "FULL");
	struct report rp;

	CHECK(report_parse(&rp, &req, "message/delivery-status", "text/rfc822-headers"));
	CHECK(has_line(rp.msg, "Subject: Successful Mail Delivery Report"));
	CHECK(has_line(rp.status, "Action: delivered"));
	CHECK(has_line(rp.status, "Status: 2.0.0"));
	report_free(&rp);
	req = base_request(DSN_RELAYED, "");
	CHECK(report_parse(&rp, &req, "message/delivery-status", "text/rfc822-headers"));
	CHECK(has_line(rp.msg, "Subject: Relayed Mail Delivery Report"));
	CHECK(has_line(rp.status, "Action: relayed"));
	report_free(&rp);
}

static void test_utf8(void)
{
	static const struct dsn_rcpt r[] = {
		{ "j\xc3\xb6rg@b\xc3\xbc" "cher.example", "", "5.1.1", "550 nope", "" },
	};
	struct dsn_request req = base_request(DSN_FAILURE, "");
	struct report rp;

	req.rcpts = r;
	req.nrcpts = 1;
	CHECK(dsn_needs_utf8(&req));
	CHECK(report_parse(&rp, &req, "message/global-delivery-status", "message/global"));
	CHECK(has_line(rp.status, "Final-Recipient: utf-8;j\xc3\xb6rg@b\xc3\xbc" "cher.example"));
	report_free(&rp);
	req.kind = DSN_DELAY;
	CHECK(report_parse(&rp, &req, "message/global-delivery-status", "message/global-headers"));
	report_free(&rp);
	/* Without UTF-8 addresses, 8-bit octets in our texts become '?'. */
	req = base_request(DSN_FAILURE, "");
	CHECK(!dsn_needs_utf8(&req));
}

static void test_hostile_texts(void)
{
	static char long_reply[3000];
	struct dsn_rcpt r[] = {
		{ "bob@remote.example", "", "5.7.1", "550 bad\r\nX-Injected: yes", "" },
		{ "eve@remote.example", "", "4.4.1", long_reply, "" },
	};
	struct dsn_request req = base_request(DSN_FAILURE, "");
	struct report rp;

	memset(long_reply, 'x', sizeof long_reply - 1);
	req.rcpts = r;
	req.nrcpts = 2;
	CHECK(report_parse(&rp, &req, "message/delivery-status", "message/rfc822"));
	CHECK(!has_line(rp.status, "X-Injected: yes"));
	CHECK(strstr(rp.status, "550 bad  X-Injected: yes") != NULL);
	report_free(&rp);
}

static void test_long_original_line(void)
{
	struct buf o = BUF_INIT;
	struct dsn_request req = base_request(DSN_FAILURE, "FULL");
	struct report rp;

	buf_puts(&o, "Subject: long\r\n\r\n");
	for (int i = 0; i < 2000; i++)
		buf_puts(&o, "y");
	buf_puts(&o, "\r\n");
	req.original = o.data;
	req.original_len = o.len;
	/* A line over 998 octets cannot be returned whole: headers only. */
	CHECK(report_parse(&rp, &req, "message/delivery-status", "text/rfc822-headers"));
	CHECK(strstr(rp.third, "Subject: long") != NULL);
	report_free(&rp);
	buf_free(&o);
}

static void test_boundary_unique(void)
{
	struct dsn_request req = base_request(DSN_FAILURE, "");
	struct buf o = BUF_INIT;
	char *m1, *m2;
	size_t l1, l2;
	const char *error;
	struct report rp;

	CHECK(dsn_compose(&req, &m1, &l1, &error) == 0);
	CHECK(dsn_compose(&req, &m2, &l2, &error) == 0);
	/* Deterministic for the same request. */
	CHECK(l1 == l2 && memcmp(m1, m2, l1) == 0);
	free(m2);
	/* An original that contains the boundary gets another one. */
	{
		const char *b = strstr(m1, "boundary=\"") + 10;
		buf_puts(&o, "Subject: tricky\r\n\r\n--");
		buf_append(&o, b, (size_t)(strchr(b, '"') - b));
		buf_puts(&o, "--\r\n");
	}
	free(m1);
	req.original = o.data;
	req.original_len = o.len;
	CHECK(report_parse(&rp, &req, "message/delivery-status", "message/rfc822"));
	CHECK(strstr(rp.third, "Subject: tricky") != NULL);
	report_free(&rp);
	buf_free(&o);
}

static void test_refusals(void)
{
	struct dsn_request req = base_request(DSN_FAILURE, "");
	const char *error;
	char *m;
	size_t l;

	req.sender = "";
	CHECK(dsn_compose(&req, &m, &l, &error) < 0);
	CHECK(strstr(error, "null sender") != NULL);
	req = base_request(DSN_FAILURE, "");
	req.nrcpts = 0;
	CHECK(dsn_compose(&req, &m, &l, &error) < 0);
	req = base_request(DSN_FAILURE, "");
	req.sender = "a@b\r\nBcc: x@y";
	CHECK(dsn_compose(&req, &m, &l, &error) < 0);
	req = base_request((enum dsn_kind)9, "");
	CHECK(dsn_compose(&req, &m, &l, &error) < 0);
}

static void test_no_original(void)
{
	struct dsn_request req = base_request(DSN_FAILURE, "");
	const char *error;
	json_t *s, *parts;
	char *m;
	size_t l;

	req.original = NULL;
	req.original_len = 0;
	CHECK(dsn_compose(&req, &m, &l, &error) == 0);
	s = mime_parse(m, l, NULL);
	parts = json_object_get(json_object_get(s, "part"), "parts");
	CHECK_EQ_INT(json_array_size(parts), 2);
	json_decref(s);
	free(m);
	CHECK_EQ_INT(dsn_header_len("A: b\r\n\r\nbody", 12), 6);
	CHECK_EQ_INT(dsn_header_len("A: b\r\n", 6), 6);
}

int main(void)
{
	test_run("failure: multipart/report, fields, full original", test_failure_full);
	test_run("failure with RET=HDRS: headers only", test_failure_hdrs);
	test_run("delay: Will-Retry-Until, headers only", test_delay);
	test_run("success and relayed reports", test_success_relayed);
	test_run("UTF-8 addresses: RFC 6533 global types", test_utf8);
	test_run("replies with line breaks and long replies", test_hostile_texts);
	test_run("an original line over 998 octets", test_long_original_line);
	test_run("boundary deterministic and unique", test_boundary_unique);
	test_run("refused requests", test_refusals);
	test_run("no original", test_no_original);
	return test_done();
}

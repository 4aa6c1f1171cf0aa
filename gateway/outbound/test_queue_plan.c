/* test_queue_plan - the worker's decisions for one queue item: order of
 * actions (DSN, expiry, delay notice, send), grouping by A-label domain,
 * the backoff, and the event data it produces. */
#include "gateway/outbound/queue_plan.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

#define T0 1800000000000LL
#define DAY (86400LL * 1000)

static const struct queue_plan_cfg cfg = { 300, 3600 };

/* A queued item from alice with the given recipients [addr, status,
 * notify, dsn_due] ..., arrival T0, expire T0+5d, delay_warn T0+4h. */
static json_t *item_new(const char *const (*rcpts)[4], size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s}",
						     "addr", rcpts[i][0], "orcpt", "", "notify", rcpts[i][2],
						     "status", rcpts[i][1], "reply", "", "enhanced", "",
						     "remote", "", "attempts", 0, "dsn_due", rcpts[i][3]));
	return json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:b,s:I,s:b,s:i,s:I,s:o}",
			 "id", "0123456789abcdef0123456789abcdef", "partition", 3, "from",
			 "alice@example.org", "blob_id", "b", "ret", "", "envid", "e1", "tenant", "t",
			 "dsn", 0, "arrival", (json_int_t)T0, "expire", (json_int_t)(T0 + 5 * DAY),
			 "delay_warn", (json_int_t)(T0 + 4 * 3600 * 1000), "delay_notified", 0,
			 "next_try", (json_int_t)T0, "held", 0, "attempts", 0,
			 "last_attempt", (json_int_t)0, "rcpts", arr);
}

static const char *addr_at(json_t *item, size_t i)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(item, "rcpts"), i), "addr"));
}

static void test_backoff(void)
{
	struct queue_plan_cfg odd = { 600, 100 };

	CHECK_EQ_INT(queue_backoff_ms(&cfg, 0), 300 * 1000);
	CHECK_EQ_INT(queue_backoff_ms(&cfg, 1), 600 * 1000);
	CHECK_EQ_INT(queue_backoff_ms(&cfg, 2), 1200 * 1000);
	CHECK_EQ_INT(queue_backoff_ms(&cfg, 3), 2400 * 1000);
	CHECK_EQ_INT(queue_backoff_ms(&cfg, 4), 3600 * 1000);
	CHECK_EQ_INT(queue_backoff_ms(&cfg, 1000000), 3600 * 1000);
	CHECK_EQ_INT(queue_backoff_ms(&cfg, -3), 300 * 1000);
	/* A maximum below the minimum: the minimum. */
	CHECK_EQ_INT(queue_backoff_ms(&odd, 5), 600 * 1000);
}

static void test_send_groups(void)
{
	static const char *const r[][4] = {
		{ "a@Example.COM", "queued", "", "" },
		{ "b@b\xc3\xbc" "cher.example", "deferred", "", "" },
		{ "c@example.com", "queued", "", "" },
		{ "d@other.example", "delivered", "", "" },
		{ "e@other.example", "failed", "", "" },
		{ "f@B\xc3\x9c" "CHER.example", "queued", "", "" },
		{ "g@", "queued", "", "" },
		{ "h@a\xef\xbf\xbd.example", "queued", "", "" },
		{ "i@[192.0.2.1]", "queued", "", "" },
	};
	json_t *item = item_new(r, 9);
	struct queue_plan p;
	const char *error;

	CHECK(queue_plan_make(item, T0, &cfg, "n1", &p, &error) == 0);
	CHECK_EQ_INT(p.kind, QPLAN_SEND);
	CHECK_EQ_INT(p.ngroups, 3);
	CHECK_EQ_STR(p.groups[0].domain, "example.com");
	CHECK_EQ_INT(p.groups[0].n, 2);
	CHECK_EQ_INT(p.groups[0].rcpts[0], 0);
	CHECK_EQ_INT(p.groups[0].rcpts[1], 2);
	CHECK_EQ_STR(p.groups[1].domain, "xn--bcher-kva.example");
	CHECK_EQ_INT(p.groups[1].n, 2);
	CHECK_EQ_INT(p.groups[1].rcpts[1], 5);
	CHECK_EQ_STR(p.groups[2].domain, "[192.0.2.1]");
	CHECK_EQ_INT(p.ninvalid, 2);
	CHECK_EQ_STR(addr_at(item, p.invalid[0]), "g@");
	CHECK_EQ_INT(p.invalid[1], 7);
	queue_plan_free(&p);
	json_decref(item);
}

static void test_nothing(void)
{
	static const char *const r[][4] = {
		{ "a@example.com", "delivered", "", "" },
		{ "b@example.com", "failed", "", "" },
	};
	static const char *const q[][4] = { { "a@example.com", "queued", "", "" } };
	json_t *item = item_new(r, 2);
	struct queue_plan p;
	const char *error;

	CHECK(queue_plan_make(item, T0, &cfg, "n1", &p, &error) == 0);
	CHECK_EQ_INT(p.kind, QPLAN_NONE);
	queue_plan_free(&p);
	json_decref(item);
	item = item_new(q, 1);
	json_object_set_new(item, "held", json_true());
	CHECK(queue_plan_make(item, T0, &cfg, "n1", &p, &error) == 0);
	CHECK_EQ_INT(p.kind, QPLAN_NONE);
	queue_plan_free(&p);
	json_object_del(item, "rcpts");
	CHECK(queue_plan_make(item, T0, &cfg, "n1", &p, &error) < 0);
	json_decref(item);
	CHECK(queue_plan_make(json_null(), T0, &cfg, "n1", &p, &error) < 0);
}

static void test_dsn_first(void)
{
	static const char *const r[][4] = {
		{ "a@example.com", "delivered", "SUCCESS", "success" },
		{ "b@example.com", "failed", "", "failure" },
		{ "c@example.com", "queued", "", "" },
		{ "d@example.com", "delivered", "SUCCESS", "success" },
	};
	json_t *item = item_new(r, 4), *n;
	struct queue_plan p;
	struct dsn_request req;
	struct dsn_rcpt dr[4];
	const char *error;

	/* Even past expiry, the due report goes first. */
	CHECK(queue_plan_make(item, T0 + 6 * DAY, &cfg, "n1", &p, &error) == 0);
	CHECK_EQ_INT(p.kind, QPLAN_DSN);
	CHECK_EQ_INT(p.dsn_kind, DSN_SUCCESS);
	CHECK(!p.dsn_silent);
	CHECK_EQ_INT(p.nrcpts, 2);
	CHECK_EQ_INT(p.rcpts[0], 0);
	CHECK_EQ_INT(p.rcpts[1], 3);
	n = queue_notified_data(item, &p);
	CHECK_EQ_STR(json_string_value(json_object_get(n, "kind")), "dsn");
	CHECK_EQ_STR(json_string_value(json_object_get(n, "id")), "0123456789abcdef0123456789abcdef");
	CHECK_EQ_INT(json_array_size(json_object_get(n, "rcpts")), 2);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(n, "rcpts"), 1)), "d@example.com");
	json_decref(n);
	CHECK(queue_plan_dsn_request(item, &p, T0 + 10, &req, dr, &error) == 0);
	CHECK_EQ_INT(req.kind, DSN_SUCCESS);
	CHECK_EQ_STR(req.sender, "alice@example.org");
	CHECK_EQ_STR(req.envid, "e1");
	CHECK_EQ_INT(req.arrival_ms, T0);
	CHECK_EQ_INT(req.nrcpts, 2);
	CHECK_EQ_STR(dr[1].addr, "d@example.com");
	queue_plan_free(&p);
	/* A bounce is never reported on: only the notified event. */
	json_object_set_new(item, "from", json_string(""));
	CHECK(queue_plan_make(item, T0, &cfg, "n1", &p, &error) == 0);
	CHECK_EQ_INT(p.kind, QPLAN_DSN);
	CHECK(p.dsn_silent);
	queue_plan_free(&p);
	json_object_set_new(item, "from", json_string("alice@example.org"));
	json_object_set_new(item, "dsn", json_true());
	CHECK(queue_plan_make(item, T0, &cfg, "n1", &p, &error) == 0);
	CHECK(p.dsn_silent);
	queue_plan_free(&p);
	json_decref(item);
}

static void test_expire(void)
{
	static const char *const r[][4] = {
		{ "a@example.com", "deferred", "", "" },
		{ "b@example.com", "delivered", "", "" },
		{ "c@example.net", "queued", "", "" },
	};
	json_t *item = item_new(r, 3), *a, *rr;
	struct queue_plan p;
	const char *error;

	json_object_set_new(json_array_get(json_object_get(item, "rcpts"), 0), "reply",
			    json_string("451 4.7.1 greylisted"));
	/* At the expiry instant it is not expired yet. */
	CHECK(queue_plan_make(item, T0 + 5 * DAY, &cfg, "n1", &p, &error) == 0);
	CHECK(p.kind != QPLAN_EXPIRE);
	queue_plan_free(&p);
	CHECK(queue_plan_make(item, T0 + 5 * DAY + 1, &cfg, "n1", &p, &error) == 0);
	CHECK_EQ_INT(p.kind, QPLAN_EXPIRE);
	a = p.attempt;
	CHECK_EQ_STR(json_string_value(json_object_get(a, "id")), "0123456789abcdef0123456789abcdef");
	CHECK_EQ_STR(json_string_value(json_object_get(a, "node")), "n1");
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "ts")), T0 + 5 * DAY + 1);
	CHECK_EQ_STR(json_string_value(json_object_get(a, "error")), "message expired after 5 days");
	rr = json_object_get(a, "rcpts");
	CHECK_EQ_INT(json_array_size(rr), 2);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(rr, 0), "addr")), "a@example.com");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(rr, 0), "status")), "failed");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(rr, 0), "enhanced")), "4.4.7");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(rr, 0), "reply")),
		     "message expired after 5 days; last error: 451 4.7.1 greylisted");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(rr, 1), "reply")),
		     "message expired after 5 days");
	CHECK(json_is_false(json_object_get(json_array_get(rr, 1), "dsn_passed")));
	queue_plan_free(&p);
	/* A short lifetime is said in its own unit. */
	json_object_set_new(item, "expire", json_integer(T0 + 90 * 1000));
	CHECK(queue_plan_make(item, T0 + 91 * 1000, &cfg, "n1", &p, &error) == 0);
	CHECK_EQ_STR(json_string_value(json_object_get(p.attempt, "error")), "message expired after 1 minute");
	queue_plan_free(&p);
	json_decref(item);
}

static void test_delay(void)
{
	static const char *const r[][4] = {
		{ "a@example.com", "deferred", "", "" },
		{ "b@example.com", "deferred", "NEVER", "" },
		{ "c@example.com", "deferred", "SUCCESS,FAILURE", "" },
		{ "d@example.com", "queued", "failure,delay", "" },
		{ "e@example.com", "delivered", "DELAY", "" },
	};
	json_t *item = item_new(r, 5), *n;
	struct queue_plan p;
	struct dsn_request req;
	struct dsn_rcpt dr[5];
	int64_t warn = T0 + 4 * 3600 * 1000;
	const char *error;

	CHECK(queue_plan_make(item, warn - 1, &cfg, "n1", &p, &error) == 0);
	CHECK_EQ_INT(p.kind, QPLAN_SEND);
	queue_plan_free(&p);
	CHECK(queue_plan_make(item, warn, &cfg, "n1", &p, &error) == 0);
	CHECK_EQ_INT(p.kind, QPLAN_DELAY);
	CHECK_EQ_INT(p.dsn_kind, DSN_DELAY);
	CHECK_EQ_INT(p.nrcpts, 2);
	CHECK_EQ_INT(p.rcpts[0], 0);
	CHECK_EQ_INT(p.rcpts[1], 3);
	n = queue_notified_data(item, &p);
	CHECK_EQ_STR(json_string_value(json_object_get(n, "kind")), "delay");
	json_decref(n);
	CHECK(queue_plan_dsn_request(item, &p, warn, &req, dr, &error) == 0);
	CHECK_EQ_INT(req.kind, DSN_DELAY);
	CHECK_EQ_INT(req.retry_until_ms, T0 + 5 * DAY);
	CHECK_EQ_STR(dr[0].status, "4.0.0");
	queue_plan_free(&p);
	/* Once only. */
	json_object_set_new(item, "delay_notified", json_true());
	CHECK(queue_plan_make(item, warn, &cfg, "n1", &p, &error) == 0);
	CHECK_EQ_INT(p.kind, QPLAN_SEND);
	queue_plan_free(&p);
	/* Never for a bounce, nor when switched off. */
	json_object_set_new(item, "delay_notified", json_false());
	json_object_set_new(item, "from", json_string(""));
	CHECK(queue_plan_make(item, warn, &cfg, "n1", &p, &error) == 0);
	CHECK_EQ_INT(p.kind, QPLAN_SEND);
	queue_plan_free(&p);
	json_object_set_new(item, "from", json_string("alice@example.org"));
	json_object_set_new(item, "delay_warn", json_integer(0));
	CHECK(queue_plan_make(item, warn, &cfg, "n1", &p, &error) == 0);
	CHECK_EQ_INT(p.kind, QPLAN_SEND);
	CHECK_EQ_INT(p.ngroups, 1);
	CHECK_EQ_INT(p.groups[0].n, 4);
	queue_plan_free(&p);
	CHECK(queue_plan_dsn_request(item, &p, warn, &req, dr, &error) < 0);
	json_decref(item);
}

static void test_event_data(void)
{
	char reply[700];
	json_t *r, *a;
	const char *s;

	memset(reply, 'x', sizeof reply);
	/* A 2-octet UTF-8 character straddling octet 512 is dropped whole. */
	reply[511] = (char)0xc3;
	reply[512] = (char)0xa9;
	reply[699] = '\0';
	r = queue_rcpt_result("a@b.example", "deferred", reply, "4.4.1", "mx [192.0.2.1]", 1);
	s = json_string_value(json_object_get(r, "reply"));
	CHECK(s != NULL);
	CHECK_EQ_INT(strlen(s), 511);
	CHECK(json_is_true(json_object_get(r, "dsn_passed")));
	a = queue_attempt_data("id1", "n1", 5, json_pack("[o]", r), 99, NULL);
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "next_try")), 99);
	CHECK_EQ_STR(json_string_value(json_object_get(a, "error")), "");
	CHECK_EQ_INT(json_array_size(json_object_get(a, "rcpts")), 1);
	json_decref(a);
}

static void test_alabel(void)
{
	char out[256];
	const char *error;

	CHECK(queue_domain_alabel("x@Mail.Example.ORG", out, &error) == 0);
	CHECK_EQ_STR(out, "mail.example.org");
	CHECK(queue_domain_alabel("x@\xe4\xbe\x8b\xe3\x81\x88.jp", out, &error) == 0);
	CHECK_EQ_STR(out, "xn--r8jz45g.jp");
	CHECK(queue_domain_alabel("no-at-sign", out, &error) < 0);
	CHECK(queue_domain_alabel("x@a b.example", out, &error) < 0);
	CHECK(strncmp(error, "5.1.2", 5) == 0);
}

int main(void)
{
	test_run("backoff doubles and is capped", test_backoff);
	test_run("send: groups by A-label domain, invalid domains", test_send_groups);
	test_run("nothing pending, held, malformed", test_nothing);
	test_run("due DSN first; silent for bounces", test_dsn_first);
	test_run("expiry: one attempt failing every pending rcpt", test_expire);
	test_run("delay notice: once, DELAY asked", test_delay);
	test_run("attempt and result data", test_event_data);
	test_run("A-labels", test_alabel);
	return test_done();
}

/* test_outbound - the SMTP client against a scripted server on 127.0.0.1
 * (same event loop): pipelining, per-recipient replies, MAIL refused, next
 * host after 421 or a refused connection, stall, drop, garbage, HELO, BDAT,
 * SMTPUTF8/8BITMIME/REQUIRETLS rules, reuse and the concurrency limit. */
#include "gateway/outbound/test_outbound_util.h"

static struct outbound *ob;
static struct tsrv srv, srv2;

static void teardown(void)
{
	probe_ob = NULL;
	outbound_free(&ob);
	settle();
	if (srv.lis != NULL)
		tsrv_stop(&srv);
	if (srv2.lis != NULL)
		tsrv_stop(&srv2);
}

static void start(const struct tsrv_conf *conf, const char *const *kv)
{
	route_reset();
	config_with(kv);
	tsrv_start(&srv, base, conf, NULL);
	add_host("mx.test", srv.port, ROUTE_TLS_MAY);
	ob = make_ob();
}

/* hold_until_data: the server answers nothing before DATA, so only a
 * pipelining client gets through (RFC 2920 3.1). */
static void test_pipelining(void)
{
	struct tsrv_conf conf = { .hold_until_data = 1 };
	struct outbound_msg m = test_msg(2);
	struct outcome o;

	start(&conf, NULL);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.n, 2);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	CHECK_EQ_INT(o.r[1].status, OUTBOUND_DELIVERED);
	CHECK_EQ_STR(o.r[0].reply, "250 2.0.0 queued as X");
	CHECK_EQ_STR(o.r[0].enhanced, "2.0.0");
	CHECK_EQ_STR(o.r[0].remote, "mx.test [127.0.0.1]");
	CHECK_EQ_STR(o.error, "");
	CHECK(o.r[0].dsn_passed == 0 && o.r[1].dsn_passed == 1);
	CHECK(strstr(srv.log.data, "C: EHLO client.test\n") != NULL);
	CHECK(strstr(srv.log.data, "C: MAIL FROM:<s@src.test> SIZE=66 RET=HDRS ENVID=id+201\n") != NULL);
	CHECK(strstr(srv.log.data, "C: RCPT TO:<a@example.test>\n") != NULL);
	CHECK(strstr(srv.log.data, "C: RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.test\n") != NULL);
	CHECK_EQ_STR(srv.data.data, test_body);   /* dot-stuffed on the wire, the same after */
	CHECK_EQ_INT(srv.messages, 1);
	teardown();
}

static void test_rcpt_replies(void)
{
	struct tsrv_conf conf = { .rcpt_addr = { "<b@", "<c@" },
				  .rcpt_reply = { "451 4.3.0 try later", "550 5.1.1 no such user" } };
	struct outbound_msg m = test_msg(4);
	struct outcome o;

	start(&conf, NULL);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	CHECK_EQ_INT(o.r[1].status, OUTBOUND_DEFERRED);
	CHECK_EQ_STR(o.r[1].reply, "451 4.3.0 try later");
	CHECK_EQ_STR(o.r[1].enhanced, "4.3.0");
	CHECK_EQ_INT(o.r[2].status, OUTBOUND_FAILED);
	CHECK_EQ_STR(o.r[2].reply, "550 5.1.1 no such user");
	CHECK_EQ_STR(o.r[2].remote, "mx.test [127.0.0.1]");
	CHECK_EQ_INT(o.r[3].status, OUTBOUND_DELIVERED);
	CHECK_EQ_INT(srv.messages, 1);
	teardown();
}

/* Without PIPELINING (one command at a time): MAIL refused fails all. */
static void test_mail_refused(void)
{
	struct tsrv_conf conf = { .keywords = "8BITMIME", .mail_reply = "550 5.7.1 sender rejected" };
	struct outbound_msg m = test_msg(2);
	struct outcome o;

	start(&conf, NULL);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_FAILED);
	CHECK_EQ_INT(o.r[1].status, OUTBOUND_FAILED);
	CHECK_EQ_STR(o.r[1].enhanced, "5.7.1");
	CHECK(strstr(srv.log.data, "RCPT") == NULL);
	CHECK_EQ_INT(srv.messages, 0);
	teardown();
}

/* Every recipient refused: no message is sent, even pipelined. */
static void test_all_rcpts_refused(void)
{
	struct tsrv_conf conf = { .rcpt_addr = { "<a@", "<b@" },
				  .rcpt_reply = { "550 5.1.1 no", "550 5.1.1 no" } };
	struct outbound_msg m = test_msg(2);
	struct outcome o;

	start(&conf, NULL);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_FAILED);
	CHECK_EQ_INT(o.r[1].status, OUTBOUND_FAILED);
	CHECK_EQ_INT(srv.messages, 0);
	teardown();
}

static void test_next_host_after_421(void)
{
	struct tsrv_conf bad = { .greeting = "421 4.3.2 busy" }, good = { 0 };
	struct outbound_msg m = test_msg(1);
	struct outcome o;

	route_reset();
	config_with(NULL);
	tsrv_start(&srv, base, &bad, NULL);
	tsrv_start(&srv2, base, &good, NULL);
	add_host("mx1.test", srv.port, ROUTE_TLS_MAY);
	add_host("mx2.test", srv2.port, ROUTE_TLS_MAY);
	ob = make_ob();
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	CHECK_EQ_STR(o.r[0].remote, "mx2.test [127.0.0.1]");
	CHECK_EQ_INT(srv.connections, 1);
	CHECK_EQ_INT(srv2.messages, 1);
	teardown();
}

static void test_refused_next_host(void)
{
	struct tsrv_conf good = { 0 };
	struct outbound_msg m = test_msg(1);
	struct outcome o;
	struct route_host *h;

	route_reset();
	config_with(NULL);
	tsrv_start(&srv, base, &good, NULL);
	h = add_host("mx1.test", tsrv_closed_port(), ROUTE_TLS_MAY);
	snprintf(h->addrs[1], sizeof h->addrs[1], "127.0.0.1");   /* two addresses, both refuse */
	h->naddrs = 2;
	add_host("mx2.test", srv.port, ROUTE_TLS_MAY);
	ob = make_ob();
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	CHECK_EQ_STR(o.r[0].remote, "mx2.test [127.0.0.1]");
	/* only a refusing host: deferred with the reason */
	the_route.nhosts = 1;
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DEFERRED);
	CHECK(strstr(o.r[0].reply, "mx1.test [127.0.0.1]: connect: ") != NULL);
	CHECK(strstr(o.error, "connect: ") != NULL);
	teardown();
}

static void test_stall(void)
{
	static const char *const kv[] = { "delivery.command_timeout_s", "1", NULL };
	struct tsrv_conf conf = { .mode = TS_STALL_AFTER_DATA };
	struct outbound_msg m = test_msg(1);
	struct outcome o;

	start(&conf, kv);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DEFERRED);
	CHECK_EQ_STR(o.r[0].reply, "mx.test [127.0.0.1]: timeout after end of data");
	teardown();
}

static void test_drop_mid_data(void)
{
	struct tsrv_conf conf = { .mode = TS_DROP_MID_DATA };
	struct outbound_msg m = test_msg(1);
	struct outcome o;

	start(&conf, NULL);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DEFERRED);
	CHECK(strncmp(o.r[0].reply, "mx.test [127.0.0.1]: connection ", 32) == 0);
	CHECK(strstr(o.r[0].reply, "after end of data") != NULL || strstr(o.r[0].reply, "after DATA") != NULL);
	teardown();
}

static void test_garbage(void)
{
	struct tsrv_conf conf = { .mode = TS_GARBAGE_TO_MAIL };
	struct outbound_msg m = test_msg(1);
	struct outcome o;

	start(&conf, NULL);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DEFERRED);
	CHECK_EQ_STR(o.r[0].reply, "mx.test [127.0.0.1]: bad reply after MAIL FROM: malformed reply line (no reply code)");
	teardown();
}

static void test_helo_and_bdat(void)
{
	struct tsrv_conf helo = { .ehlo_refused = 1 };
	struct tsrv_conf chunking = { .keywords = "PIPELINING\nCHUNKING\n8BITMIME" };
	struct outbound_msg m = test_msg(1);
	struct outcome o;
	char want[64];

	start(&helo, NULL);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	CHECK(strstr(srv.log.data, "C: HELO client.test\nC: MAIL FROM:<s@src.test>\n") != NULL);
	teardown();

	start(&chunking, NULL);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	snprintf(want, sizeof want, "C: BDAT %zu LAST\n", m.len);
	CHECK(strstr(srv.log.data, want) != NULL && strstr(srv.log.data, "C: DATA") == NULL);
	CHECK_EQ_STR(srv.data.data, test_body);
	teardown();
}

/* RFC 6531 3.2, RFC 6152, RFC 8689: refused before MAIL, as failures. */
static void test_extension_rules(void)
{
	struct tsrv_conf plain = { .keywords = "PIPELINING" };
	struct outbound_msg m = test_msg(1);
	struct outcome o;

	start(&plain, NULL);
	m.smtputf8 = 1;
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_FAILED);
	CHECK_EQ_STR(o.r[0].enhanced, "5.6.7");
	m.smtputf8 = 0;
	m.body8bit = 1;
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_FAILED);
	CHECK_EQ_STR(o.r[0].enhanced, "5.6.3");
	CHECK(strstr(srv.log.data, "MAIL") == NULL);
	/* REQUIRETLS over a route that is not verified: never even connects */
	m.body8bit = 0;
	m.requiretls = 1;
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_FAILED);
	CHECK_EQ_STR(o.r[0].enhanced, "5.7.10");
	CHECK_EQ_INT(srv.connections, 1);
	teardown();
}

static void test_route_failures(void)
{
	struct tsrv_conf conf = { 0 };
	struct outbound_msg m = test_msg(2);
	struct outcome o;

	start(&conf, NULL);
	the_status = ROUTE_PERMFAIL;
	snprintf(the_error, sizeof the_error, "5.1.10 null MX: example.test accepts no mail");
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[1].status, OUTBOUND_FAILED);
	CHECK_EQ_STR(o.r[1].enhanced, "5.1.10");
	CHECK_EQ_STR(o.r[1].reply, the_error);
	the_status = ROUTE_TEMPFAIL;
	snprintf(the_error, sizeof the_error, "dnssec: bogus MX for example.test: x");
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DEFERRED);
	CHECK_EQ_STR(o.error, the_error);
	CHECK_EQ_INT(srv.connections, 0);
	teardown();
}

/* Two messages one after the other: one connection, RSET between. */
static void test_reuse(void)
{
	struct tsrv_conf conf = { 0 };
	struct outbound_msg m = test_msg(1);
	struct outcome o;

	start(&conf, NULL);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	CHECK_EQ_INT(outbound_connections(ob), 1);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	CHECK_EQ_INT(srv.connections, 1);
	CHECK_EQ_INT(srv.messages, 2);
	CHECK(strstr(srv.log.data, "C: RSET\n") != NULL);
	teardown();
}

/* delivery.concurrency_per_domain = 1: three sends, one connection at a
 * time, the others wait in FIFO order and reuse it. */
static void test_concurrency(void)
{
	static const char *const kv[] = { "delivery.concurrency_per_domain", "1", NULL };
	struct tsrv_conf conf = { 0 };
	struct outbound_msg m = test_msg(1);
	struct outcome o[3];

	memset(o, 0, sizeof o);
	start(&conf, kv);
	for (int i = 0; i < 3; i++)
		outbound_send(ob, &m, on_done, &o[i]);
	CHECK_EQ_INT(outbound_waiting(ob), 3);
	probe_ob = ob;
	CHECK(wait_all(o, 3) == 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(o[i].r[0].status, OUTBOUND_DELIVERED);
	/* FIFO: done in the order sent; when the first finished, one waited */
	CHECK(o[0].seq < o[1].seq && o[1].seq < o[2].seq);
	CHECK_EQ_INT(o[0].waiting, 1);
	CHECK_EQ_INT(o[2].waiting, 0);
	CHECK_EQ_INT(srv.max_open, 1);
	CHECK_EQ_INT(srv.connections, 1);
	CHECK_EQ_INT(srv.messages, 3);
	teardown();
}

/* outbound_free with a send in flight: DEFERRED "shutting down". */
static void test_shutdown(void)
{
	static const char *const kv[] = { "delivery.command_timeout_s", "30", NULL };
	struct tsrv_conf conf = { .mode = TS_STALL_AFTER_DATA };
	struct outbound_msg m = test_msg(1);
	struct outcome o = { 0 };

	start(&conf, kv);
	outbound_send(ob, &m, on_done, &o);
	for (int i = 0; i < 200 && srv.data.len == 0; i++)
		event_base_loop(base, EVLOOP_ONCE);
	CHECK(srv.data.len > 0);
	outbound_free(&ob);
	CHECK_EQ_INT(o.done, 1);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DEFERRED);
	CHECK_EQ_STR(o.r[0].reply, "shutting down");
	teardown();
}

int main(void)
{
	base = event_base_new();
	test_run("pipelining, DSN parameters, dot-stuffing", test_pipelining);
	test_run("4xx and 5xx to RCPT", test_rcpt_replies);
	test_run("5xx to MAIL without pipelining", test_mail_refused);
	test_run("every RCPT refused", test_all_rcpts_refused);
	test_run("421 greeting: next host", test_next_host_after_421);
	test_run("connection refused: next address, next host", test_refused_next_host);
	test_run("stall after DATA: deferred", test_stall);
	test_run("drop in the middle of DATA: deferred", test_drop_mid_data);
	test_run("garbage reply: deferred", test_garbage);
	test_run("HELO fallback, BDAT", test_helo_and_bdat);
	test_run("SMTPUTF8, 8BITMIME, REQUIRETLS rules", test_extension_rules);
	test_run("route failures", test_route_failures);
	test_run("connection reuse", test_reuse);
	test_run("concurrency limit and FIFO", test_concurrency);
	test_run("shutdown with a send in flight", test_shutdown);
	config_free(&cfg);
	event_base_free(base);
	return test_done();
}

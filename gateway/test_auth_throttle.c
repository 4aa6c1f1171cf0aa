/* test_auth_throttle - login throttling decisions on an injected clock:
 * the per-client limit and its window, the lockout's end, the per-account
 * limit sparing clients that logged in, IPv6 counted per /64, IPv4-mapped
 * addresses, the exempt list, LRU eviction, bad settings; and the node
 * gate's delay: a failure is answered by a timer, never inside the call. */
#include "gateway/auth_gate.h"
#include "gateway/auth_throttle.h"
#include "common/config.h"
#include "tests/unit/testlib.h"

#include <event2/event.h>
#include <stdio.h>

#define A "alice@x.test"
#define B "bob@x.test"

/* A throttle: 3 failures per client, 5 per account, 60 s window, 100 s lockout. */
static struct auth_throttle *throttle_of(unsigned entries, const char *exempt)
{
	struct auth_throttle_settings set = {
		.max_failures_ip = 3, .max_failures_account = 5, .window_s = 60, .lockout_s = 100,
		.max_entries = entries, .exempt = exempt,
	};
	struct auth_throttle *t = NULL;
	const char *error = NULL;

	if (auth_throttle_new(&set, &t, &error) < 0)
		fprintf(stderr, "auth_throttle_new: %s\n", error);
	return t;
}

/* The third failure within the window locks the client out, for every
 * account, until the lockout ends; another client is unaffected. */
static void test_client_limit(void)
{
	struct auth_throttle *t = throttle_of(100, "");

	CHECK(t != NULL);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", A, 1000 + i), AUTH_THROTTLE_ALLOW);
		auth_throttle_failure(t, "192.0.2.1", A, 1000 + i);
	}
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", A, 2000), AUTH_THROTTLE_ALLOW);
	auth_throttle_failure(t, "192.0.2.1", A, 2000);
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", A, 2001), AUTH_THROTTLE_REFUSE_IP);
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", B, 2001), AUTH_THROTTLE_REFUSE_IP);
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", "", 2001), AUTH_THROTTLE_REFUSE_IP);
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.2", A, 2001), AUTH_THROTTLE_ALLOW);
	/* locked until 2000 + 100 s */
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", A, 101999), AUTH_THROTTLE_REFUSE_IP);
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", A, 102000), AUTH_THROTTLE_ALLOW);
	/* a fresh window after the lockout: two more failures are allowed */
	auth_throttle_failure(t, "192.0.2.1", B, 102000);
	auth_throttle_failure(t, "192.0.2.1", B, 102001);
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", B, 102002), AUTH_THROTTLE_ALLOW);
	auth_throttle_free(&t);
	CHECK(t == NULL);
	auth_throttle_free(&t);
}

/* Failures further apart than the window never add up to a lockout. */
static void test_window(void)
{
	struct auth_throttle *t = throttle_of(100, "");

	CHECK(t != NULL);
	for (int i = 0; i < 10; i++) {
		int64_t now = 1000 + (int64_t)i * 31000;   /* two per 60 s window at most */

		CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", "", now), AUTH_THROTTLE_ALLOW);
		auth_throttle_failure(t, "192.0.2.1", "", now);
	}
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", "", 400000), AUTH_THROTTLE_ALLOW);
	/* the window ends exactly window_s after its first failure */
	auth_throttle_failure(t, "198.51.100.1", "", 500000);
	auth_throttle_failure(t, "198.51.100.1", "", 559999);
	auth_throttle_failure(t, "198.51.100.1", "", 560000);   /* new window: 1 */
	CHECK_EQ_INT(auth_throttle_check(t, "198.51.100.1", "", 560001), AUTH_THROTTLE_ALLOW);
	auth_throttle_failure(t, "198.51.100.1", "", 560001);
	auth_throttle_failure(t, "198.51.100.1", "", 560002);
	CHECK_EQ_INT(auth_throttle_check(t, "198.51.100.1", "", 560003), AUTH_THROTTLE_REFUSE_IP);
	auth_throttle_free(&t);
}

/* An account attacked from many clients is refused to new clients, but
 * not to a client that logged in to it within the window. */
static void test_account_limit(void)
{
	struct auth_throttle *t = throttle_of(100, "");
	char ip[32];

	CHECK(t != NULL);
	auth_throttle_success(t, "203.0.113.7", A, 500);
	for (int i = 0; i < 5; i++) {
		snprintf(ip, sizeof ip, "192.0.2.%d", 10 + i);
		CHECK_EQ_INT(auth_throttle_check(t, ip, A, 1000 + i), AUTH_THROTTLE_ALLOW);
		auth_throttle_failure(t, ip, A, 1000 + i);
	}
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.99", A, 2000), AUTH_THROTTLE_REFUSE_ACCOUNT);
	CHECK_EQ_INT(auth_throttle_check(t, "203.0.113.7", A, 2000), AUTH_THROTTLE_ALLOW);
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.99", B, 2000), AUTH_THROTTLE_ALLOW);
	/* the good client's login is remembered for the window only */
	CHECK_EQ_INT(auth_throttle_check(t, "203.0.113.7", A, 60500), AUTH_THROTTLE_REFUSE_ACCOUNT);
	/* the lockout ends 100 s after the fifth failure */
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.99", A, 101004), AUTH_THROTTLE_ALLOW);
	auth_throttle_free(&t);
}

/* Refusals are not failures: a locked-out client hammering an account
 * does not lock the account for others. */
static void test_refusal_not_counted(void)
{
	struct auth_throttle *t = throttle_of(100, "");

	CHECK(t != NULL);
	for (int i = 0; i < 50; i++) {
		if (auth_throttle_check(t, "192.0.2.1", A, 1000 + i) == AUTH_THROTTLE_ALLOW)
			auth_throttle_failure(t, "192.0.2.1", A, 1000 + i);
	}
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", A, 2000), AUTH_THROTTLE_REFUSE_IP);
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.2", A, 2000), AUTH_THROTTLE_ALLOW);
	auth_throttle_free(&t);
}

/* IPv6 clients are their /64; IPv4-mapped IPv6 is the IPv4 client. */
static void test_ipv6_prefix(void)
{
	struct auth_throttle *t = throttle_of(100, "");

	CHECK(t != NULL);
	auth_throttle_failure(t, "2001:db8:1:2::1", "", 1000);
	auth_throttle_failure(t, "2001:db8:1:2:ffff::9", "", 1001);
	auth_throttle_failure(t, "2001:db8:1:2:abcd:1:2:3", "", 1002);
	CHECK_EQ_INT(auth_throttle_check(t, "2001:db8:1:2::77", "", 1003), AUTH_THROTTLE_REFUSE_IP);
	CHECK_EQ_INT(auth_throttle_check(t, "2001:db8:1:3::1", "", 1003), AUTH_THROTTLE_ALLOW);
	auth_throttle_failure(t, "::ffff:192.0.2.5", "", 1000);
	auth_throttle_failure(t, "192.0.2.5", "", 1001);
	auth_throttle_failure(t, "::ffff:192.0.2.5", "", 1002);
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.5", "", 1003), AUTH_THROTTLE_REFUSE_IP);
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.4", "", 1003), AUTH_THROTTLE_ALLOW);
	auth_throttle_free(&t);
}

/* Exempt networks are never counted nor refused; others are. */
static void test_exempt(void)
{
	struct auth_throttle *t = throttle_of(100, " 10.0.0.0/8 , 2001:db8::/32,192.0.2.77, 198.51.100.128/25");

	CHECK(t != NULL);
	CHECK_EQ_INT(auth_throttle_exempt(t, "10.200.3.4"), 1);
	CHECK_EQ_INT(auth_throttle_exempt(t, "::ffff:10.0.0.1"), 1);
	CHECK_EQ_INT(auth_throttle_exempt(t, "11.0.0.1"), 0);
	CHECK_EQ_INT(auth_throttle_exempt(t, "2001:db8:ffff::1"), 1);
	CHECK_EQ_INT(auth_throttle_exempt(t, "2001:db9::1"), 0);
	CHECK_EQ_INT(auth_throttle_exempt(t, "192.0.2.77"), 1);
	CHECK_EQ_INT(auth_throttle_exempt(t, "192.0.2.78"), 0);
	CHECK_EQ_INT(auth_throttle_exempt(t, "198.51.100.200"), 1);
	CHECK_EQ_INT(auth_throttle_exempt(t, "198.51.100.127"), 0);
	CHECK_EQ_INT(auth_throttle_exempt(t, "127.0.0.1"), 0);
	CHECK_EQ_INT(auth_throttle_exempt(t, "not an address"), 0);
	for (int i = 0; i < 10; i++)
		auth_throttle_failure(t, "10.1.1.1", A, 1000 + i);
	CHECK_EQ_INT(auth_throttle_check(t, "10.1.1.1", A, 2000), AUTH_THROTTLE_ALLOW);
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", A, 2000), AUTH_THROTTLE_ALLOW);
	auth_throttle_free(&t);
}

/* Full tables drop their least recently used entry; the flood of one
 * table does not evict the other's. */
static void test_eviction(void)
{
	struct auth_throttle *t = throttle_of(4, "");
	unsigned clients, accounts;
	char name[64];

	CHECK(t != NULL);
	for (int i = 0; i < 3; i++)
		auth_throttle_failure(t, "192.0.2.1", "", 1000 + i);
	CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", "", 1010), AUTH_THROTTLE_REFUSE_IP);
	/* three other clients fill the table; the locked one is still there */
	for (int i = 2; i < 5; i++) {
		snprintf(name, sizeof name, "192.0.2.%d", i);
		auth_throttle_failure(t, name, "", 1020);
	}
	/* a flood of account names fills only the account table */
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof name, "user%d@x.test", i);
		auth_throttle_failure(t, "203.0.113.1", name, 1030);
		if (i == 1)
			/* 203.0.113.1 pushed the oldest client (192.0.2.1) out */
			CHECK_EQ_INT(auth_throttle_check(t, "192.0.2.1", "", 1031), AUTH_THROTTLE_ALLOW);
	}
	auth_throttle_entries(t, &clients, &accounts);
	CHECK_EQ_INT(clients, 4);
	CHECK_EQ_INT(accounts, 4);
	/* the most recently used survive */
	CHECK_EQ_INT(auth_throttle_check(t, "203.0.113.1", "", 1040), AUTH_THROTTLE_REFUSE_IP);
	auth_throttle_free(&t);
}

/* Settings out of range and bad exempt lists are refused. */
static void test_settings(void)
{
	struct auth_throttle_settings set = { .max_failures_ip = 1, .window_s = 1, .lockout_s = 1,
					      .max_entries = 1, .exempt = "" };
	struct auth_throttle *t = NULL;
	const char *error = NULL;
	static const char *bad[] = { "10.0.0.0/33", "10.0.0.0/", "example.org", "2001:db8::/129",
				     "10.0.0.1/8x", "1.2.3.4,,nope" };

	CHECK_EQ_INT(auth_throttle_new(&set, &t, &error), 0);
	auth_throttle_free(&t);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		set.exempt = bad[i];
		error = NULL;
		CHECK_EQ_INT(auth_throttle_new(&set, &t, &error), -1);
		CHECK(error != NULL && t == NULL);
	}
	set.exempt = "";
	set.window_s = 0;
	CHECK_EQ_INT(auth_throttle_new(&set, &t, &error), -1);
	set.window_s = 1;
	set.max_entries = 0;
	CHECK_EQ_INT(auth_throttle_new(&set, &t, &error), -1);
}

static int answered;

/* A delayed failure answer. */
static void on_answer(void *ctx)
{
	(*(int *)ctx)++;
	answered++;
}

/* The gate answers failures from a timer (never inside the call), counts
 * them and refuses a locked client; teardown answers what still waits. */
static void test_gate(void)
{
	struct event_base *base = event_base_new();
	struct evm_config cfg = { 0 };
	struct auth_gate_stats st;
	const char *error = NULL;
	int n = 0, late = 0;

	CHECK(base != NULL);
	cfg.auth_failure_delay_ms = 1;
	cfg.auth_max_failures_ip = 2;
	cfg.auth_max_failures_account = 0;
	cfg.auth_window_s = 60;
	cfg.auth_lockout_s = 60;
	cfg.auth_throttle_size = 10;
	cfg.auth_throttle_exempt = "";
	CHECK_EQ_INT(auth_gate_setup(&cfg, &error), 0);
	CHECK_EQ_INT(auth_gate_allowed("192.0.2.1", A), 1);
	auth_gate_failed(base, "192.0.2.1", A, on_answer, &n);
	CHECK_EQ_INT(n, 0);
	event_base_dispatch(base);
	CHECK_EQ_INT(n, 1);
	auth_gate_failed(base, "192.0.2.1", A, on_answer, &n);
	event_base_dispatch(base);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(auth_gate_allowed("192.0.2.1", A), 0);
	CHECK_EQ_INT(auth_gate_allowed("192.0.2.2", A), 1);
	auth_gate_success("192.0.2.2", A);
	auth_gate_delay(base, on_answer, &n);
	CHECK_EQ_INT(n, 2);
	event_base_dispatch(base);
	CHECK_EQ_INT(n, 3);
	auth_gate_get_stats(&st);
	CHECK_EQ_INT(st.failures, 2);
	CHECK_EQ_INT(st.delayed, 3);
	CHECK_EQ_INT(st.refused_ip, 1);
	CHECK_EQ_INT(st.refused_account, 0);
	CHECK_EQ_INT(st.clients, 1);
	/* still waiting at teardown: answered then */
	auth_gate_delay(base, on_answer, &late);
	auth_gate_teardown();
	CHECK_EQ_INT(late, 1);
	CHECK_EQ_INT(auth_gate_allowed("192.0.2.1", A), 1);
	cfg.auth_throttle_exempt = "bogus";
	CHECK_EQ_INT(auth_gate_setup(&cfg, &error), -1);
	event_base_free(base);
}

int main(void)
{
	test_run("client limit and lockout", test_client_limit);
	test_run("window", test_window);
	test_run("account limit spares good clients", test_account_limit);
	test_run("refusals are not counted", test_refusal_not_counted);
	test_run("IPv6 per /64, IPv4-mapped", test_ipv6_prefix);
	test_run("exempt list", test_exempt);
	test_run("LRU eviction", test_eviction);
	test_run("settings", test_settings);
	test_run("gate: delay, refusal, teardown", test_gate);
	return test_done();
}

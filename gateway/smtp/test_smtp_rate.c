/* test_smtp_rate - the SMTP per-client limits: IPv6 clients keyed by /64
 * like the login throttle, and the table bounded with LRU eviction. */
#include "gateway/smtp/smtp_rate.h"
#include "common/log.h"
#include "tests/unit/testlib.h"

#include <stdio.h>

/* Addresses of one IPv6 /64 share a count; another /64 does not. */
static void test_ipv6_by_64(void)
{
	struct smtp_rate *r = smtp_rate_new_per_minute(2);

	smtp_rate_record(r, "2001:db8:1:2::1", 1000000);
	smtp_rate_record(r, "2001:db8:1:2:ffff::9", 1000000);
	CHECK_EQ_INT(smtp_rate_allowed(r, "2001:db8:1:2:abcd::7", 1000001), 0);
	CHECK_EQ_INT(smtp_rate_allowed(r, "2001:db8:1:3::1", 1000001), 1);
	CHECK_EQ_INT(smtp_rate_keys(r), 1);
	/* IPv4 stays per address; an IPv4-mapped address is that address */
	smtp_rate_record(r, "192.0.2.1", 1000000);
	smtp_rate_record(r, "::ffff:192.0.2.1", 1000000);
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.1", 1000001), 0);
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.2", 1000001), 1);
	smtp_rate_free(&r);
	CHECK(r == NULL);
}

/* The table holds at most max_keys keys; the least recently used goes. */
static void test_bounded_lru(void)
{
	struct smtp_rate *r = smtp_rate_new_per_minute(1);
	char ip[64];

	smtp_rate_set_max_keys(r, 3);
	smtp_rate_record(r, "192.0.2.1", 5000);
	smtp_rate_record(r, "192.0.2.2", 5000);
	smtp_rate_record(r, "192.0.2.3", 5000);
	/* .1 used again: .2 is now the least recently used */
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.1", 5001), 0);
	smtp_rate_record(r, "192.0.2.4", 5001);
	CHECK_EQ_INT(smtp_rate_keys(r), 3);
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.2", 5002), 1);   /* forgotten */
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.1", 5002), 0);
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.3", 5002), 0);
	CHECK_EQ_INT(smtp_rate_allowed(r, "192.0.2.4", 5002), 0);
	/* a flood of clients never grows the table past the bound */
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(ip, sizeof ip, "10.%u.%u.1", i / 256, i % 256);
		smtp_rate_record(r, ip, 6000);
		CHECK(smtp_rate_keys(r) <= 3);
	}
	smtp_rate_set_max_keys(r, 1);
	CHECK_EQ_INT(smtp_rate_keys(r), 1);
	smtp_rate_free(&r);
}

/* The hourly submission rate keys accounts as given (no address parsing). */
static void test_accounts_verbatim(void)
{
	struct smtp_rate *r = smtp_rate_new(1);

	smtp_rate_record(r, "a@x.test", 0);
	CHECK_EQ_INT(smtp_rate_allowed(r, "a@x.test", 1), 0);
	CHECK_EQ_INT(smtp_rate_allowed(r, "b@x.test", 1), 1);
	smtp_rate_free(&r);
}

int main(void)
{
	log_set_level(LOG_WARN);
	test_run("IPv6 clients keyed by /64", test_ipv6_by_64);
	test_run("bounded table, LRU eviction", test_bounded_lru);
	test_run("accounts keyed verbatim", test_accounts_verbatim);
	return test_done();
}

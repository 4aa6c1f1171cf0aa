/* test_route_parse - the pure parts of routing: MX order (RFC 5321 5.1),
 * rdata decoding, TLSA usability (RFC 7672 3.1), relay/route syntax; and
 * the resolver's contract offline (callback later, never inside the call;
 * pending jobs answered "resolver closed" when it is freed). */
#include "gateway/outbound/route_parse.h"
#include "gateway/outbound/route.h"
#include "common/config.h"
#include "tests/unit/testlib.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static void mx_set(struct route_mx *mx, uint16_t pref, const char *name)
{
	mx->pref = pref;
	snprintf(mx->name, sizeof mx->name, "%s", name);
}

static void test_mx_order(void)
{
	struct route_mx mx[6];
	uint32_t seed = 1;
	size_t n;

	mx_set(&mx[0], 20, "c");
	mx_set(&mx[1], 10, "a");
	mx_set(&mx[2], 30, "d");
	mx_set(&mx[3], 10, "b");
	mx_set(&mx[4], 20, "a");      /* a duplicate keeps its lowest place */
	mx_set(&mx[5], 5, "e");
	n = route_mx_order(mx, 6, &seed);
	CHECK_EQ_INT(n, 5);
	CHECK_EQ_STR(mx[0].name, "e");
	CHECK(strcmp(mx[1].name, "a") == 0 || strcmp(mx[1].name, "b") == 0);
	CHECK(strcmp(mx[2].name, "a") == 0 || strcmp(mx[2].name, "b") == 0);
	CHECK_EQ_INT(mx[1].pref, 10);
	CHECK_EQ_INT(mx[2].pref, 10);
	CHECK_EQ_STR(mx[3].name, "c");
	CHECK_EQ_STR(mx[4].name, "d");
}

/* Equal preferences: a fixed seed gives a fixed order, and over seeds
 * every host comes first sometimes (random within one preference). */
static void test_mx_shuffle(void)
{
	int first[3] = { 0, 0, 0 };
	char once[3][8], again[3][8];

	for (uint32_t s = 1; s <= 300; s++) {
		struct route_mx mx[3], mx2[3];
		uint32_t seed = s, seed2 = s;

		for (int i = 0; i < 3; i++) {
			char name[8] = { (char)('a' + i), 0 };

			mx_set(&mx[i], 10, name);
			mx_set(&mx2[i], 10, name);
		}
		CHECK_EQ_INT(route_mx_order(mx, 3, &seed), 3);
		CHECK_EQ_INT(route_mx_order(mx2, 3, &seed2), 3);
		for (int i = 0; i < 3; i++) {
			snprintf(once[i], sizeof once[i], "%s", mx[i].name);
			snprintf(again[i], sizeof again[i], "%s", mx2[i].name);
			CHECK_EQ_STR(once[i], again[i]);
		}
		first[mx[0].name[0] - 'a']++;
	}
	CHECK(first[0] > 0 && first[1] > 0 && first[2] > 0);
}

static void test_rdata(void)
{
	static const unsigned char mx1[] = { 0, 10, 3, 'M', 'x', '1', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	static const unsigned char null_mx[] = { 0, 0, 0 };
	static const unsigned char trunc[] = { 0, 10, 3, 'm', 'x' };
	static const unsigned char extra[] = { 0, 10, 1, 'a', 0, 9 };
	static const unsigned char dot[] = { 0, 10, 3, 'a', '.', 'b', 0 };
	static const unsigned char v4[] = { 127, 0, 0, 1 };
	static const unsigned char v6[16] = { [15] = 1 };
	struct route_mx mx;
	char addr[48];

	CHECK(route_mx_parse(mx1, sizeof mx1, &mx));
	CHECK_EQ_INT(mx.pref, 10);
	CHECK_EQ_STR(mx.name, "mx1.example");
	CHECK(route_mx_parse(null_mx, sizeof null_mx, &mx));
	CHECK_EQ_STR(mx.name, "");
	CHECK(!route_mx_parse(trunc, sizeof trunc, &mx));
	CHECK(!route_mx_parse(extra, sizeof extra, &mx));
	CHECK(!route_mx_parse(dot, sizeof dot, &mx));
	CHECK(!route_mx_parse(mx1, 2, &mx));
	CHECK(route_addr_text(1, v4, 4, addr));
	CHECK_EQ_STR(addr, "127.0.0.1");
	CHECK(route_addr_text(28, v6, 16, addr));
	CHECK_EQ_STR(addr, "::1");
	CHECK(!route_addr_text(1, v6, 16, addr));
}

static void test_tlsa(void)
{
	unsigned char rd[3 + 64];
	struct route_tlsa t;

	memset(rd, 0xab, sizeof rd);
	rd[0] = 3, rd[1] = 1, rd[2] = 1;
	CHECK_EQ_INT(route_tlsa_parse(rd, 3 + 32, &t), 1);
	CHECK_EQ_INT(t.len, 32);
	CHECK_EQ_INT(t.data[31], 0xab);
	rd[0] = 2, rd[1] = 0, rd[2] = 2;
	CHECK_EQ_INT(route_tlsa_parse(rd, 3 + 64, &t), 1);
	CHECK_EQ_INT(t.len, 64);
	CHECK_EQ_INT(route_tlsa_parse(rd, 3 + 32, &t), 0);      /* SHA-512 of the wrong size */
	rd[0] = 1;                                             /* PKIX-EE: unusable for SMTP */
	CHECK_EQ_INT(route_tlsa_parse(rd, 3 + 64, &t), 0);
	rd[0] = 0;
	CHECK_EQ_INT(route_tlsa_parse(rd, 3 + 64, &t), 0);
	rd[0] = 3, rd[1] = 2;                                  /* unknown selector */
	CHECK_EQ_INT(route_tlsa_parse(rd, 3 + 32, &t), 0);
	rd[1] = 1, rd[2] = 0;                                  /* full key: skipped */
	CHECK_EQ_INT(route_tlsa_parse(rd, 3 + 32, &t), 0);
	CHECK_EQ_INT(route_tlsa_parse(rd, 3, &t), -1);
}

static void test_target(void)
{
	char host[ROUTE_NAME_MAX + 1];
	const char *error = NULL;
	uint16_t port = 0;

	CHECK_EQ_INT(route_target_parse("Smtp.Example.com:587", 25, host, &port, &error), 0);
	CHECK_EQ_STR(host, "smtp.example.com");
	CHECK_EQ_INT(port, 587);
	CHECK_EQ_INT(route_target_parse("relay.example", 2525, host, &port, &error), 0);
	CHECK_EQ_INT(port, 2525);
	CHECK_EQ_INT(route_target_parse("[relay.example]:26", 25, host, &port, &error), 0);
	CHECK_EQ_STR(host, "relay.example");
	CHECK_EQ_INT(port, 26);
	CHECK_EQ_INT(route_target_parse("[::1]:2525", 25, host, &port, &error), 0);
	CHECK_EQ_STR(host, "::1");
	CHECK_EQ_INT(route_target_parse("127.0.0.1:10025", 25, host, &port, &error), 0);
	CHECK_EQ_STR(host, "127.0.0.1");
	CHECK_EQ_INT(route_target_parse("::1:25", 25, host, &port, &error), -1);
	CHECK_EQ_INT(route_target_parse("host:0", 25, host, &port, &error), -1);
	CHECK_EQ_INT(route_target_parse("host:65536", 25, host, &port, &error), -1);
	CHECK_EQ_INT(route_target_parse("host:", 25, host, &port, &error), -1);
	CHECK_EQ_INT(route_target_parse("host:2x", 25, host, &port, &error), -1);
	CHECK_EQ_INT(route_target_parse(":25", 25, host, &port, &error), -1);
	CHECK_EQ_INT(route_target_parse("[::1", 25, host, &port, &error), -1);
	CHECK_EQ_INT(route_target_parse("[::1]x", 25, host, &port, &error), -1);
	CHECK_EQ_INT(route_target_parse("bad host:25", 25, host, &port, &error), -1);
	CHECK_EQ_INT(route_target_parse("-bad.example", 25, host, &port, &error), -1);
}

static void test_transport(void)
{
	char target[300];
	const char *error = NULL;
	const char *routes = "a.example=mx.a.example:2525,B.Example.=[10.0.0.1]:25,c.example=c";

	CHECK_EQ_INT(route_transport_find(routes, "a.example", target, sizeof target, &error), 1);
	CHECK_EQ_STR(target, "mx.a.example:2525");
	CHECK_EQ_INT(route_transport_find(routes, "b.example.", target, sizeof target, &error), 1);
	CHECK_EQ_STR(target, "[10.0.0.1]:25");
	CHECK_EQ_INT(route_transport_find(routes, "C.EXAMPLE", target, sizeof target, &error), 1);
	CHECK_EQ_STR(target, "c");
	CHECK_EQ_INT(route_transport_find(routes, "sub.a.example", target, sizeof target, &error), 0);
	CHECK_EQ_INT(route_transport_find("", "a.example", target, sizeof target, &error), 0);
	CHECK_EQ_INT(route_transport_find("a.example", "a.example", target, sizeof target, &error), -1);
	CHECK_EQ_INT(route_transport_find("a.example=", "a.example", target, sizeof target, &error), -1);
	CHECK_EQ_INT(route_transport_find("=x", "a.example", target, sizeof target, &error), -1);
	CHECK_EQ_INT(route_transport_find("a.example=x,,b=y", "b", target, sizeof target, &error), -1);
	CHECK_EQ_INT(route_transport_find("a.example=x,", "b", target, sizeof target, &error), -1);
	CHECK_EQ_INT(route_transport_find("a b=x", "b", target, sizeof target, &error), -1);
}

static void test_names(void)
{
	char out[ROUTE_NAME_MAX + 1];
	enum route_tls tls;

	CHECK(route_domain_normalize("Example.COM.", out));
	CHECK_EQ_STR(out, "example.com");
	CHECK(!route_domain_normalize("", out));
	CHECK(!route_domain_normalize(".", out));
	CHECK(!route_domain_normalize("a..b", out));
	CHECK(!route_domain_normalize("a-.b", out));
	CHECK(!route_domain_normalize("a.b-", out));
	CHECK(!route_domain_normalize("a b", out));
	CHECK(!route_domain_normalize("1234567890123456789012345678901234567890123456789012345678901234.b", out));
	CHECK_EQ_INT(route_tls_parse("Verify", &tls), 0);
	CHECK_EQ_INT(tls, ROUTE_TLS_VERIFY);
	CHECK_EQ_INT(route_tls_parse("dane", &tls), -1);
	CHECK_EQ_STR(route_tls_name(ROUTE_TLS_DANE), "dane");
}

struct answer {
	int calls;
	enum route_status status;
	char error[300];
	struct route r;
};

static void answered(void *ctx, enum route_status status, const struct route *r, const char *error)
{
	struct answer *a = ctx;

	a->calls++;
	a->status = status;
	snprintf(a->error, sizeof a->error, "%s", error ? error : "");
	if (r != NULL)
		a->r = *r;
}

/* A resolver whose DNS server is a UDP socket of ours that never answers:
 * no DNS answer comes during this test (relays given as addresses need
 * none). */
static void test_resolver_offline(void)
{
	struct event_base *base = event_base_new();
	struct evm_config cfg;
	struct route_resolver *rr = NULL;
	struct answer relay = { 0 }, mx = { 0 }, bad = { 0 };
	const char *error = NULL;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof sin;
	int silent = socket(AF_INET, SOCK_DGRAM, 0);
	char resolvers[64];

	CHECK(silent >= 0 && bind(silent, (struct sockaddr *)&sin, sizeof sin) == 0);
	CHECK(getsockname(silent, (struct sockaddr *)&sin, &slen) == 0);
	snprintf(resolvers, sizeof resolvers, "127.0.0.1@%u", ntohs(sin.sin_port));
	setenv("EVMAIL_DNS_RESOLVERS", resolvers, 1);
	setenv("EVMAIL_DELIVERY_ROUTES", "r.example=127.0.0.1:2526", 1);
	setenv("EVMAIL_DELIVERY_RELAY_TLS", "encrypt", 1);
	setenv("EVMAIL_DELIVERY_MTA_STS", "0", 1);
	CHECK_EQ_INT(config_load(NULL, &cfg, &error), 0);
	CHECK_EQ_INT(route_resolver_create(base, &cfg, &rr, &error), 0);
	route_resolve(rr, "R.example", answered, &relay);
	route_resolve(rr, "mx.example", answered, &mx);
	route_resolve(rr, "bad..example", answered, &bad);
	CHECK_EQ_INT(relay.calls + mx.calls + bad.calls, 0);     /* never inside the call */
	while (relay.calls == 0 || bad.calls == 0)
		event_base_loop(base, EVLOOP_ONCE);
	CHECK_EQ_INT(relay.status, ROUTE_OK);
	CHECK_EQ_INT(relay.r.kind, ROUTE_TRANSPORT);
	CHECK_EQ_INT(relay.r.nhosts, 1);
	CHECK_EQ_INT(relay.r.hosts[0].port, 2526);
	CHECK_EQ_INT(relay.r.hosts[0].naddrs, 1);
	CHECK_EQ_STR(relay.r.hosts[0].addrs[0], "127.0.0.1");
	CHECK_EQ_INT(relay.r.hosts[0].tls, ROUTE_TLS_ENCRYPT);
	CHECK_EQ_INT(relay.r.hosts[0].auth, 0);
	CHECK_EQ_INT(bad.status, ROUTE_PERMFAIL);
	CHECK_EQ_INT(mx.calls, 0);
	route_resolver_free(&rr);
	CHECK(rr == NULL);
	CHECK_EQ_INT(mx.calls, 1);
	CHECK_EQ_INT(mx.status, ROUTE_TEMPFAIL);
	CHECK_EQ_STR(mx.error, "4.4.3 resolver closed");
	config_free(&cfg);
	event_base_free(base);
	close(silent);
}

static void test_resolver_config_errors(void)
{
	struct event_base *base = event_base_new();
	struct evm_config cfg;
	struct route_resolver *rr = NULL;
	const char *error = NULL;

	setenv("EVMAIL_DELIVERY_ROUTES", "r.example", 1);
	CHECK_EQ_INT(config_load(NULL, &cfg, &error), 0);
	CHECK_EQ_INT(route_resolver_create(base, &cfg, &rr, &error), -1);
	CHECK(strstr(error, "delivery.routes") != NULL);
	config_free(&cfg);
	setenv("EVMAIL_DELIVERY_ROUTES", "", 1);
	setenv("EVMAIL_DELIVERY_RELAY", "relay:99999", 1);
	CHECK_EQ_INT(config_load(NULL, &cfg, &error), 0);
	CHECK_EQ_INT(route_resolver_create(base, &cfg, &rr, &error), -1);
	CHECK(strstr(error, "delivery.relay") != NULL);
	config_free(&cfg);
	unsetenv("EVMAIL_DELIVERY_RELAY");
	setenv("EVMAIL_DNS_RESOLVERS", "not-an-address", 1);
	CHECK_EQ_INT(config_load(NULL, &cfg, &error), 0);
	CHECK_EQ_INT(route_resolver_create(base, &cfg, &rr, &error), -1);
	CHECK(strstr(error, "dns.resolvers") != NULL);
	config_free(&cfg);
	event_base_free(base);
}

int main(void)
{
	test_run("MX order by preference, duplicates dropped", test_mx_order);
	test_run("MX shuffle within a preference, seeded", test_mx_shuffle);
	test_run("MX, A, AAAA rdata", test_rdata);
	test_run("TLSA usability", test_tlsa);
	test_run("relay/route targets", test_target);
	test_run("transport map", test_transport);
	test_run("names and TLS modes", test_names);
	test_run("resolver offline: later, closed", test_resolver_offline);
	test_run("resolver configuration errors", test_resolver_config_errors);
	return test_done();
}

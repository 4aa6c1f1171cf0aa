/* test_address - tenant names, domains and addresses, every boundary. */
#include "common/address.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

/* A string of n copies of c (static storage, one per slot). */
static const char *rep(int slot, char c, size_t n)
{
	static char bufs[8][1024];

	memset(bufs[slot], c, n);
	bufs[slot][n] = '\0';
	return bufs[slot];
}

/* A valid domain of exactly n octets (n >= 3): labels of up to 63 'a'
 * joined by dots, never ending in an empty or missing label. */
static const char *domain_of_len(int slot, size_t n)
{
	static char bufs[4][1024];
	char *b = bufs[slot];
	size_t len = 0;

	while (len < n) {
		size_t take = n - len;

		if (len > 0) {
			b[len++] = '.';
			take--;
		}
		if (take > 63)
			take = 63;
		if (n - len - take == 1)   /* never leave room for just a dot */
			take--;
		memset(b + len, 'a', take);
		len += take;
	}
	b[len] = '\0';
	return b;
}

static void test_tenant_names(void)
{
	static const char *const valid[] = { "a", "0", "acme", "acme-corp", "a-", "9lives", "x1-2-3" };
	char name64[65];

	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		if (!evm_tenant_name_valid(valid[i]))
			test_fail(__FILE__, __LINE__, valid[i]);
	}
	CHECK(evm_tenant_name_valid(rep(0, 'a', 63)));
	memset(name64, 'a', 64);
	name64[64] = '\0';
	CHECK(!evm_tenant_name_valid(name64));
	CHECK(!evm_tenant_name_valid(""));
	CHECK(!evm_tenant_name_valid(NULL));
	CHECK(!evm_tenant_name_valid("-acme"));
	CHECK(!evm_tenant_name_valid("Acme"));
	CHECK(!evm_tenant_name_valid("ac/me"));
	CHECK(!evm_tenant_name_valid("ac.me"));
	CHECK(!evm_tenant_name_valid("ac me"));
	CHECK(!evm_tenant_name_valid("ac_me"));
	CHECK(!evm_tenant_name_valid("acm\xc3\xa9"));
	CHECK(!evm_tenant_name_valid("ac\tme"));
}

struct norm_case {
	const char *in;
	const char *out;   /* NULL: must be rejected */
};

static const struct norm_case domain_cases[] = {
	{ "example.com", "example.com" },
	{ "EXAMPLE.Com", "example.com" },
	{ "a.b", "a.b" },
	{ "a-b.c-d", "a-b.c-d" },
	{ "a--b.com", "a--b.com" },
	{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
	{ "1.2.3.4", "1.2.3.4" },
	{ "sub.sub.example.org", "sub.sub.example.org" },
	{ "", NULL },
	{ "com", NULL },
	{ "localhost", NULL },
	{ ".example.com", NULL },
	{ "example.com.", NULL },
	{ "example..com", NULL },
	{ ".", NULL },
	{ "..", NULL },
	{ "-a.com", NULL },
	{ "a-.com", NULL },
	{ "a.-com", NULL },
	{ "a.com-", NULL },
	{ "a_b.com", NULL },
	{ "a b.com", NULL },
	{ "a.com ", NULL },
	{ " a.com", NULL },
	{ "a/b.com", NULL },
	{ "a@b.com", NULL },
	{ "a\tb.com", NULL },
	{ "a\nb.com", NULL },
	{ "a\x7f" "b.com", NULL },
	{ "b\xc3\xbc" "cher.de", NULL },
	{ "\xff.com", NULL },
	{ "[127.0.0.1]", NULL },
};

static const struct norm_case address_cases[] = {
	{ "bob@example.com", "bob@example.com" },
	{ "Bob@Example.COM", "bob@example.com" },
	{ "b@a.b", "b@a.b" },
	{ "first.last@example.com", "first.last@example.com" },
	{ "a.b.c.d@example.com", "a.b.c.d@example.com" },
	{ "user+tag@example.com", "user+tag@example.com" },
	{ "!#$%&'*+-/=?^_`{|}~@example.com", "!#$%&'*+-/=?^_`{|}~@example.com" },
	{ "0@0.0", "0@0.0" },
	{ "", NULL },
	{ "@", NULL },
	{ "bob", NULL },
	{ "bob@", NULL },
	{ "@example.com", NULL },
	{ "bob@@example.com", NULL },
	{ "bob@ex@ample.com", NULL },
	{ "b@b@example.com", NULL },
	{ ".bob@example.com", NULL },
	{ "bob.@example.com", NULL },
	{ "bo..b@example.com", NULL },
	{ ".@example.com", NULL },
	{ "bob@localhost", NULL },
	{ "bob@example..com", NULL },
	{ "bob@-example.com", NULL },
	{ "bob@example.com.", NULL },
	{ "\"bob\"@example.com", NULL },
	{ "bo b@example.com", NULL },
	{ "bo(b)@example.com", NULL },
	{ "bo,b@example.com", NULL },
	{ "bo;b@example.com", NULL },
	{ "bo:b@example.com", NULL },
	{ "bo<b>@example.com", NULL },
	{ "bo[b]@example.com", NULL },
	{ "bo\\b@example.com", NULL },
	{ "bo\"b@example.com", NULL },
	{ "bo\tb@example.com", NULL },
	{ "bo\rb@example.com", NULL },
	{ "bo\nb@example.com", NULL },
	{ "bo\x01" "b@example.com", NULL },
	{ "bo\x7f" "b@example.com", NULL },
	{ "j\xc3\xb6rg@example.com", NULL },
	{ "bob@exampl\xc3\xa9.com", NULL },
	{ "\x80@example.com", NULL },
	{ "bob@[127.0.0.1]", NULL },
	{ " bob@example.com", NULL },
	{ "bob@example.com ", NULL },
};

static void run_cases(const struct norm_case *cases, size_t n, int is_address)
{
	char out[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;

	for (size_t i = 0; i < n; i++) {
		int r = is_address ? evm_address_normalize(cases[i].in, out, &error)
				   : evm_domain_normalize(cases[i].in, out, &error);
		char msg[512];

		snprintf(msg, sizeof msg, "case %zu \"%s\" -> %d", i, cases[i].in, r);
		if (cases[i].out == NULL) {
			if (r != -1 || error == NULL)
				test_fail(__FILE__, __LINE__, msg);
		} else if (r != 0 || strcmp(out, cases[i].out) != 0) {
			test_fail(__FILE__, __LINE__, msg);
		}
	}
}

static void test_domain_table(void)
{
	run_cases(domain_cases, sizeof domain_cases / sizeof domain_cases[0], 0);
}

static void test_address_table(void)
{
	run_cases(address_cases, sizeof address_cases / sizeof address_cases[0], 1);
}

static void test_domain_boundaries(void)
{
	char out[EVM_DOMAIN_MAX + 1], in[600];
	const char *error;

	/* Label of 63 is fine, 64 is not. */
	snprintf(in, sizeof in, "%s.com", rep(0, 'a', 63));
	CHECK_EQ_INT(evm_domain_normalize(in, out, &error), 0);
	CHECK_EQ_STR(out, in);
	snprintf(in, sizeof in, "%s.com", rep(0, 'a', 64));
	CHECK_EQ_INT(evm_domain_normalize(in, out, &error), -1);
	snprintf(in, sizeof in, "com.%s", rep(0, 'a', 64));
	CHECK_EQ_INT(evm_domain_normalize(in, out, &error), -1);
	snprintf(in, sizeof in, "com.%s", rep(0, 'A', 63));
	CHECK_EQ_INT(evm_domain_normalize(in, out, &error), 0);
	CHECK_EQ_STR(out + 4, rep(1, 'a', 63));

	/* 253 octets in total is fine, 254 is not. */
	CHECK_EQ_INT(strlen(domain_of_len(0, 253)), 253);
	CHECK_EQ_INT(evm_domain_normalize(domain_of_len(0, 253), out, &error), 0);
	CHECK_EQ_STR(out, domain_of_len(0, 253));
	CHECK_EQ_INT(strlen(domain_of_len(1, 254)), 254);
	CHECK_EQ_INT(evm_domain_normalize(domain_of_len(1, 254), out, &error), -1);
	CHECK_EQ_INT(evm_domain_normalize(domain_of_len(1, 600), out, &error), -1);
	CHECK_EQ_INT(evm_domain_normalize(NULL, out, &error), -1);
}

static void test_address_boundaries(void)
{
	char out[EVM_ADDRESS_MAX + 1], in[1200];
	const char *error;

	/* Local part of 64 is fine, 65 is not. */
	snprintf(in, sizeof in, "%s@example.com", rep(0, 'x', 64));
	CHECK_EQ_INT(evm_address_normalize(in, out, &error), 0);
	CHECK_EQ_STR(out, in);
	snprintf(in, sizeof in, "%s@example.com", rep(0, 'x', 65));
	CHECK_EQ_INT(evm_address_normalize(in, out, &error), -1);
	CHECK_EQ_STR(out, "");

	/* Longest address: 64 + 1 + 253 = EVM_ADDRESS_MAX. */
	snprintf(in, sizeof in, "%s@%s", rep(0, 'X', 64), domain_of_len(0, 253));
	CHECK_EQ_INT(strlen(in), EVM_ADDRESS_MAX);
	CHECK_EQ_INT(evm_address_normalize(in, out, &error), 0);
	CHECK_EQ_INT(strlen(out), EVM_ADDRESS_MAX);
	CHECK_EQ_STR(out + 65, domain_of_len(0, 253));
	CHECK_EQ_STR(evm_address_domain(out), domain_of_len(0, 253));

	/* Domain part of 254. */
	snprintf(in, sizeof in, "a@%s", domain_of_len(0, 254));
	CHECK_EQ_INT(evm_address_normalize(in, out, &error), -1);
	/* Over-long input rejected before scanning all of it. */
	snprintf(in, sizeof in, "%s@example.com", rep(0, 'x', 1000));
	CHECK_EQ_INT(evm_address_normalize(in, out, &error), -1);
	/* Labels inside the domain part. */
	snprintf(in, sizeof in, "a@%s.com", rep(0, 'b', 63));
	CHECK_EQ_INT(evm_address_normalize(in, out, &error), 0);
	snprintf(in, sizeof in, "a@%s.com", rep(0, 'b', 64));
	CHECK_EQ_INT(evm_address_normalize(in, out, &error), -1);
	CHECK_EQ_INT(evm_address_normalize(NULL, out, &error), -1);
}

static void test_address_domain(void)
{
	CHECK_EQ_STR(evm_address_domain("bob@example.com"), "example.com");
	CHECK(evm_address_domain("nobody") == NULL);
}

/* Normalising is idempotent and never accepts a proper prefix it should not
 * crash on: feed every prefix of every valid input. */
static void test_prefixes(void)
{
	char out[EVM_ADDRESS_MAX + 1], out2[EVM_ADDRESS_MAX + 1], in[EVM_ADDRESS_MAX + 2];
	const char *error;

	for (size_t i = 0; i < sizeof address_cases / sizeof address_cases[0]; i++) {
		const char *s = address_cases[i].in;
		size_t n = strlen(s);

		for (size_t k = 0; k <= n && k < sizeof in; k++) {
			memcpy(in, s, k);
			in[k] = '\0';
			if (evm_address_normalize(in, out, &error) == 0) {
				CHECK_EQ_INT(evm_address_normalize(out, out2, &error), 0);
				CHECK_EQ_STR(out, out2);
				CHECK(evm_address_domain(out) != NULL);
			}
			(void)evm_domain_normalize(in, out, &error);
		}
	}
	for (size_t i = 0; i < sizeof domain_cases / sizeof domain_cases[0]; i++) {
		const char *s = domain_cases[i].in;
		size_t n = strlen(s);

		for (size_t k = 0; k <= n; k++) {
			memcpy(in, s, k);
			in[k] = '\0';
			if (evm_domain_normalize(in, out, &error) == 0) {
				CHECK_EQ_INT(evm_domain_normalize(out, out2, &error), 0);
				CHECK_EQ_STR(out, out2);
			}
		}
	}
}

int main(void)
{
	test_run("tenant names", test_tenant_names);
	test_run("domain table", test_domain_table);
	test_run("address table", test_address_table);
	test_run("domain boundaries", test_domain_boundaries);
	test_run("address boundaries", test_address_boundaries);
	test_run("address domain", test_address_domain);
	test_run("every prefix", test_prefixes);
	return test_done();
}

/* test_srs - SRS0 addresses: a known answer computed independently
 * (Python hmac/base64), round trips, case folding, forged and expired
 * addresses, lengths. */
#include "common/srs.h"
#include "tests/unit/testlib.h"

#include <ctype.h>
#include <string.h>

static const unsigned char secret[] = "0123456789abcdef-test-secret";
#define SECRET_LEN (sizeof secret - 1)
#define NOW 1700000000     /* day 19675, stamp 219 = "G3" */

/* The value pinned by: base32(HMAC-SHA256(secret, "g3=example.org=alice")[:5]). */
static void test_known_answer(void)
{
	char out[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;

	CHECK_EQ_INT(srs_forward(secret, SECRET_LEN, "alice@example.org", "fwd.example", NOW, out,
				 &error), 0);
	CHECK_EQ_STR(out, "SRS0=NA2TOWG2=G3=example.org=alice@fwd.example");
}

static void test_round_trip(void)
{
	char fwd[EVM_ADDRESS_MAX + 1], back[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;

	CHECK_EQ_INT(srs_forward(secret, SECRET_LEN, "bob=x+tag@mail.example.com", "fwd.example", NOW,
				 fwd, &error), 0);
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, fwd, NOW, back, &error), 1);
	CHECK_EQ_STR(back, "bob=x+tag@mail.example.com");
	/* A day later and at the maximum age it still reverses. */
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, fwd, NOW + 86400, back, &error), 1);
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, fwd, NOW + 86400 * SRS_MAX_AGE_DAYS, back, &error), 1);
	/* An address in SRS form is wrapped again and unwraps to itself. */
	{
		char twice[EVM_ADDRESS_MAX + 1];
		CHECK_EQ_INT(srs_forward(secret, SECRET_LEN, "SRS0=AAAA=BB=x.org=y@z.org", "fwd.example",
					 NOW, twice, &error), 0);
		CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, twice, NOW, back, &error), 1);
		CHECK_EQ_STR(back, "srs0=aaaa=bb=x.org=y@z.org");
	}
}

/* Relays and our own normalisation may fold the address to lower (or
 * upper) case: base32 has one case, so the hash still matches. */
static void test_case_folding(void)
{
	char fwd[EVM_ADDRESS_MAX + 1], back[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;

	CHECK_EQ_INT(srs_forward(secret, SECRET_LEN, "Alice@Example.ORG", "fwd.example", NOW, fwd,
				 &error), 0);
	CHECK_EQ_STR(fwd, "SRS0=NA2TOWG2=G3=Example.ORG=Alice@fwd.example");
	for (char *c = fwd; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, fwd, NOW, back, &error), 1);
	CHECK_EQ_STR(back, "alice@example.org");
	for (char *c = fwd; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, fwd, NOW, back, &error), 1);
	CHECK_EQ_STR(back, "alice@example.org");
}

static void test_forged(void)
{
	char back[EVM_ADDRESS_MAX + 1] = "untouched";
	const char *error = NULL;
	static const unsigned char other[] = "another-secret-of-enough-length";

	/* One character of the hash changed. */
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, "SRS0=NA2TOWG3=G3=example.org=alice@fwd.example",
				 NOW, back, &error), -1);
	CHECK(strstr(error, "forged") != NULL);
	/* The right hash for another original. */
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, "SRS0=NA2TOWG2=G3=example.org=mallory@fwd.example",
				 NOW, back, &error), -1);
	/* The stamp changed to look younger. */
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, "SRS0=NA2TOWG2=G4=example.org=alice@fwd.example",
				 NOW, back, &error), -1);
	/* Another secret. */
	CHECK_EQ_INT(srs_reverse(other, sizeof other - 1, "SRS0=NA2TOWG2=G3=example.org=alice@fwd.example",
				 NOW, back, &error), -1);
	CHECK_EQ_STR(back, "untouched");
}

static void test_expired(void)
{
	char back[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;
	const char *a = "SRS0=NA2TOWG2=G3=example.org=alice@fwd.example";

	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, a, NOW + 86400 * (SRS_MAX_AGE_DAYS + 1), back,
				 &error), -1);
	CHECK(strstr(error, "expired") != NULL);
	/* A stamp from the future reads as (about 1024 days) old. */
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, a, NOW - 86400, back, &error), -1);
	/* 1024 days later the stamp wraps: the same day number is accepted
	 * again, as in every SRS implementation. */
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, a, NOW + 86400LL * 1024, back, &error), 1);
}

static void test_not_srs_and_malformed(void)
{
	char back[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;

	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, "alice@fwd.example", NOW, back, &error), 0);
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, "srs1=x@fwd.example", NOW, back, &error), 0);
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, "SRS0@fwd.example", NOW, back, &error), 0);
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, "SRS0=@fwd.example", NOW, back, &error), -1);
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, "SRS0=NA2TOWG2=G3=example.org@fwd.example", NOW,
				 back, &error), -1);
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, "SRS0=NA2TOWG2=G3==alice@fwd.example", NOW, back,
				 &error), -1);
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, "SRS0=NA2TOWG!=G3=example.org=alice@fwd.example",
				 NOW, back, &error), -1);
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, "SRS0=NA2TOWG2=G1=example.org=alice@fwd.example",
				 NOW, back, &error), -1);
	CHECK_EQ_INT(srs_reverse(secret, SECRET_LEN, "SRS0=NA2TOWG2-G3=example.org=alice@fwd.example",
				 NOW, back, &error), -1);
}

static void test_limits(void)
{
	char out[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;

	/* 5 + 8 + 1 + 2 + 1 + 11 + 1 + local <= 64: a local part of 35 fits, 36 not. */
	CHECK_EQ_INT(srs_forward(secret, SECRET_LEN, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.org",
				 "fwd.example", NOW, out, &error), 0);
	CHECK_EQ_INT((int)(strchr(out, '@') - out), 64);
	CHECK_EQ_INT(srs_forward(secret, SECRET_LEN, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.org",
				 "fwd.example", NOW, out, &error), -1);
	CHECK_EQ_INT(srs_forward(secret, SECRET_LEN, "", "fwd.example", NOW, out, &error), -1);
	CHECK_EQ_INT(srs_forward(secret, SECRET_LEN, "@example.org", "fwd.example", NOW, out, &error), -1);
	CHECK_EQ_INT(srs_forward(secret, 8, "a@example.org", "fwd.example", NOW, out, &error), -1);
}

int main(void)
{
	test_run("known answer", test_known_answer);
	test_run("round trip", test_round_trip);
	test_run("case folding", test_case_folding);
	test_run("forged", test_forged);
	test_run("expired", test_expired);
	test_run("not SRS, malformed", test_not_srs_and_malformed);
	test_run("limits", test_limits);
	return test_done();
}

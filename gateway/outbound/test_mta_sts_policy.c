/* test_mta_sts_policy - the MTA-STS policy parser fed whole, 1 and 7 bytes
 * at a time (identical results), malformed policies, limits; the TXT record
 * and MX pattern matching (RFC 8461 3.1, 3.2, 4.1). */
#include "gateway/outbound/mta_sts_policy.h"
#include "common/buf.h"
#include "tests/unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses text in chunks of step (0 = at once): "mode max_age mx,mx" or "ERR msg". */
static char *parse(const char *text, size_t len, size_t step)
{
	struct mta_sts_parser p;
	struct mta_sts_policy pol;
	struct buf out = BUF_INIT;
	const char *error = NULL;
	size_t off = 0;

	mta_sts_parser_init(&p);
	while (off < len) {
		size_t n = step == 0 || len - off < step ? len - off : step;

		if (mta_sts_parser_feed(&p, text + off, n, &error) < 0)
			break;
		off += n;
	}
	if (off == len && mta_sts_parser_finish(&p, &pol, &error) == 0) {
		buf_printf(&out, "%s %lld", mta_sts_mode_name(pol.mode), (long long)pol.max_age);
		for (unsigned i = 0; i < pol.nmx; i++)
			buf_printf(&out, "%s%s", i ? "," : " ", pol.mx[i]);
	} else {
		buf_printf(&out, "ERR %s", error);
	}
	return buf_steal(&out);
}

/* The same result whole, 1 and 7 bytes at a time; returns it. */
static char *parse_all(const char *text)
{
	static char last[2048];
	char *whole = parse(text, strlen(text), 0);
	size_t steps[] = { 1, 7 };

	snprintf(last, sizeof last, "%s", whole);
	for (size_t i = 0; i < 2; i++) {
		char *r = parse(text, strlen(text), steps[i]);
		int same = strcmp(r, whole) == 0;

		if (!same)
			fprintf(stderr, "step %zu: '%s' vs whole '%s'\n", steps[i], r, whole);
		free(r);
		if (!same)
			snprintf(last, sizeof last, "STEP MISMATCH");
	}
	free(whole);
	return last;
}

static void test_valid(void)
{
	CHECK_EQ_STR(parse_all("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n"),
		     "enforce 604800 mail.example.com,*.example.net");
	/* CRLF, blanks around values, unknown keys, no final newline, trailing dot. */
	CHECK_EQ_STR(parse_all("version:STSv1\r\nmode:   testing \r\nfoo: bar baz\r\n\r\nMX: MX1.Example.COM.\r\nmax_age: 0"),
		     "testing 0 mx1.example.com");
	CHECK_EQ_STR(parse_all("version: STSv1\nmode: none\nmax_age: 31557600\n"), "none 31557600");
	/* The first of a repeated single-valued key wins. */
	CHECK_EQ_STR(parse_all("version: STSv1\nmode: testing\nmode: enforce\nmx: a.b\nmax_age: 5\nmax_age: 9\n"),
		     "testing 5 a.b");
	/* An unknown key may carry anything printable. */
	CHECK_EQ_STR(parse_all("ext: ~!@#$%^&*()\nversion: STSv1\nmode: enforce\nmx: a.b\nmax_age: 1\n"),
		     "enforce 1 a.b");
}

static void test_malformed(void)
{
	static const struct { const char *in, *err; } cases[] = {
		{ "", "ERR no version (0 lines)" },
		{ "mode: enforce\nmx: a.b\nmax_age: 1\n", "ERR no version (3 lines)" },
		{ "version: STSv2\n", "ERR line 1: version is not STSv1" },
		{ "version: stsv1\n", "ERR line 1: version is not STSv1" },
		{ "version: STSv1\nmx: a.b\nmax_age: 1\n", "ERR no mode (3 lines)" },
		{ "version: STSv1\nmode: Enforce\n", "ERR line 2: mode is not enforce, testing or none" },
		{ "version: STSv1\nmode: enforce\nmx: a.b\n", "ERR no max_age (3 lines)" },
		{ "version: STSv1\nmode: enforce\nmax_age: 1\n", "ERR no mx (3 lines)" },
		{ "version: STSv1\nmode: testing\nmax_age: 1\n", "ERR no mx (3 lines)" },
		{ "max_age: 31557601\n", "ERR line 1: max_age above 31557600" },
		{ "max_age: 99999999999\n", "ERR line 1: max_age is not 1 to 10 digits" },
		{ "max_age: -1\n", "ERR line 1: max_age is not a number" },
		{ "max_age: 1 2\n", "ERR line 1: max_age is not a number" },
		{ "max_age:\n", "ERR line 1: max_age is not 1 to 10 digits" },
		{ "mx: *.*.example.com\n", "ERR line 1: bad mx pattern" },
		{ "mx: mail.*.com\n", "ERR line 1: bad mx pattern" },
		{ "mx: a..b\n", "ERR line 1: bad mx pattern" },
		{ "mx: \n", "ERR line 1: bad mx pattern" },
		{ "mx: a b\n", "ERR line 1: bad mx pattern" },
		{ "just text\n", "ERR line 1: not key: value" },
		{ ": value\n", "ERR line 1: not key: value" },
		{ "k y: v\n", "ERR line 1: bad key" },
		{ "version: STSv1\rmode: enforce\n", "ERR line 1: CR not followed by LF" },
		{ "version: STS\001v1\n", "ERR line 1: control character" },
		{ "a: b\nc: d\x7f\n", "ERR line 2: control character" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = parse_all(cases[i].in);

		if (strcmp(got, cases[i].err) != 0)
			fprintf(stderr, "case %zu: '%s'\n", i, cases[i].in);
		CHECK_EQ_STR(got, cases[i].err);
	}
	/* A NUL octet is a control character too. */
	{
		char *r = parse("a: b\0c\n", 7, 1);

		CHECK_EQ_STR(r, "ERR line 1: control character");
		free(r);
	}
}

static void test_limits(void)
{
	struct buf b = BUF_INIT;
	char *r;

	buf_puts(&b, "version: STSv1\nmode: enforce\nmax_age: 1\n");
	for (int i = 0; i < MTA_STS_MAX_MX; i++)
		buf_printf(&b, "mx: mx%d.example.com\n", i);
	r = parse(b.data, b.len, 7);
	CHECK(strncmp(r, "enforce 1 mx0.example.com,", 26) == 0);
	free(r);
	buf_puts(&b, "mx: one-too-many.example.com\n");
	r = parse(b.data, b.len, 0);
	CHECK_EQ_STR(r, "ERR line 36: too many mx patterns");
	free(r);

	buf_truncate(&b, 0);
	buf_puts(&b, "x: ");
	for (int i = 0; i < MTA_STS_MAX_LINE - 3; i++)
		buf_puts(&b, "y");
	buf_puts(&b, "\nversion: STSv1\nmode: none\nmax_age: 1\n");
	r = parse(b.data, b.len, 1);
	CHECK_EQ_STR(r, "none 1");          /* exactly MTA_STS_MAX_LINE octets */
	free(r);
	buf_truncate(&b, 0);
	for (int i = 0; i < MTA_STS_MAX_LINE + 1; i++)
		buf_puts(&b, "y");
	r = parse(b.data, b.len, 7);
	CHECK_EQ_STR(r, "ERR line 1: longer than 1000 octets");
	free(r);

	buf_truncate(&b, 0);
	for (int i = 0; i < MTA_STS_MAX_LINES + 1; i++)
		buf_puts(&b, "\n");
	r = parse(b.data, b.len, 0);
	CHECK_EQ_STR(r, "ERR more than 1000 lines");
	free(r);
	buf_free(&b);
}

static void test_txt(void)
{
	char id[33];

#define TXT(s) mta_sts_txt_parse(s, strlen(s), id)
	CHECK_EQ_INT(TXT("v=STSv1; id=20160831085700Z;"), 1);
	CHECK_EQ_STR(id, "20160831085700Z");
	CHECK_EQ_INT(TXT("v=STSv1;id=abc"), 1);
	CHECK_EQ_STR(id, "abc");
	CHECK_EQ_INT(TXT("v=STSv1; ext=1; id=x9 ;"), 1);
	CHECK_EQ_STR(id, "x9");
	CHECK_EQ_INT(TXT("v=spf1 -all"), 0);
	CHECK_EQ_INT(TXT("v=STSv10; id=1"), 0);
	CHECK_EQ_INT(TXT(""), 0);
	CHECK_EQ_INT(TXT("v=STSv1"), -1);                 /* no id */
	CHECK_EQ_INT(TXT("v=STSv1; id="), -1);
	CHECK_EQ_INT(TXT("v=STSv1; id=a-b"), -1);
	CHECK_EQ_INT(TXT("v=STSv1; id=123456789012345678901234567890123"), -1);   /* 33 */
	CHECK_EQ_INT(TXT("v=STSv1; id=12345678901234567890123456789012"), 1);     /* 32 */
	CHECK_EQ_INT(TXT("v=STSv1; id=1; id=2"), -1);
	CHECK_EQ_INT(TXT("v=STSv1 id=1"), -1);
	CHECK_EQ_INT(TXT("v=STSv1; =1"), -1);
#undef TXT
}

static void test_match(void)
{
	CHECK(mta_sts_mx_match("mail.example.com", "mail.example.com"));
	CHECK(mta_sts_mx_match("mail.example.com", "MAIL.Example.com"));
	CHECK(!mta_sts_mx_match("mail.example.com", "mail2.example.com"));
	CHECK(mta_sts_mx_match("*.example.com", "mx1.example.com"));
	CHECK(!mta_sts_mx_match("*.example.com", "a.b.example.com"));   /* one label only */
	CHECK(!mta_sts_mx_match("*.example.com", "example.com"));
	CHECK(!mta_sts_mx_match("*.example.com", ".example.com"));
	CHECK(!mta_sts_mx_match("*.example.com", "mx1.example.com.evil"));
	CHECK(!mta_sts_mx_match("*.example.com", "mx1example.com"));
}

int main(void)
{
	test_run("valid policies, whole/1/7 bytes", test_valid);
	test_run("malformed policies", test_malformed);
	test_run("limits", test_limits);
	test_run("_mta-sts TXT record", test_txt);
	test_run("mx pattern matching", test_match);
	return test_done();
}

/* test_ctl_time - RFC 3339 and relative times for --at and --since. */
#include "admin/ctl_time.h"
#include "tests/unit/testlib.h"

#define NOW INT64_C(1765090800000)   /* 2025-12-07T07:00:00Z */

static int64_t parse(const char *s)
{
	const char *error = NULL;
	int64_t ms = -1;

	return ctl_time_parse(s, NOW, &ms, &error) < 0 ? -1 : ms;
}

static void test_rfc3339(void)
{
	CHECK_EQ_INT(parse("1970-01-01T00:00:00Z"), 0);
	CHECK_EQ_INT(parse("2025-12-07T07:00:00Z"), NOW);
	CHECK_EQ_INT(parse("2025-12-07t07:00:00z"), NOW);
	CHECK_EQ_INT(parse("2025-12-07 08:30:00+01:30"), NOW);
	CHECK_EQ_INT(parse("2025-12-07T06:00:00-01:00"), NOW);
	CHECK_EQ_INT(parse("2025-12-07T07:00:00.25Z"), NOW + 250);
	CHECK_EQ_INT(parse("2024-02-29T00:00:00Z"), INT64_C(1709164800000));
	CHECK_EQ_INT(parse("2000-03-01T00:00:00Z"), INT64_C(951868800000));
	CHECK_EQ_INT(parse("2025-02-29T00:00:00Z"), -1);
	CHECK_EQ_INT(parse("2025-12-07T07:00:00"), -1);
	CHECK_EQ_INT(parse("2025-12-07T24:00:00Z"), -1);
	CHECK_EQ_INT(parse("2025-13-07T07:00:00Z"), -1);
	CHECK_EQ_INT(parse("2025-12-07T07:00:00.Z"), -1);
	CHECK_EQ_INT(parse("2025-12-07T07:00:00Zx"), -1);
	CHECK_EQ_INT(parse("2025-12-07"), -1);
	CHECK_EQ_INT(parse(""), -1);
}

static void test_relative(void)
{
	CHECK_EQ_INT(parse("-2h"), NOW - 2 * 3600000);
	CHECK_EQ_INT(parse("-90s"), NOW - 90000);
	CHECK_EQ_INT(parse("-30m"), NOW - 1800000);
	CHECK_EQ_INT(parse("-7d"), NOW - 7 * 86400000LL);
	CHECK_EQ_INT(parse("-0s"), NOW);
	CHECK_EQ_INT(parse("-2"), -1);
	CHECK_EQ_INT(parse("-h"), -1);
	CHECK_EQ_INT(parse("-2hh"), -1);
	CHECK_EQ_INT(parse("-2w"), -1);
	CHECK_EQ_INT(parse("2h"), -1);
	CHECK_EQ_INT(parse("-99999999999999999999h"), -1);
}

int main(void)
{
	test_run("RFC 3339 date-times", test_rfc3339);
	test_run("relative times", test_relative);
	return test_done();
}

/* test_imap_parser_seqset - imap_seqset_parse (RFC 9051 9 sequence-set)
 * and imap_seqset_contains. */
#include "gateway/imap/imap_parser.h"
#include "common/buf.h"
#include "tests/unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>

struct seq_case {
	const char *in;
	unsigned star;
	const char *want;    /* "lo:hi,..." or NULL for a syntax error */
};

static const struct seq_case seq_cases[] = {
	{ "1", 10, "1:1" },
	{ "1:3", 10, "1:3" },
	{ "3:1", 10, "1:3" },
	{ "*", 10, "10:10" },
	{ "1:*", 10, "1:10" },
	{ "*:5", 3, "3:5" },
	{ "*:*", 7, "7:7" },
	{ "1,3,2", 10, "1:3" },
	{ "5:7,1:6", 10, "1:7" },
	{ "9,1,5", 10, "1:1,5:5,9:9" },
	{ "2:4,6:8,4:6", 0, "2:8" },
	{ "10:20,1:2,3,25", 0, "1:3,10:20,25:25" },
	{ "1:5,2:3", 0, "1:5" },
	{ "4294967295", 0, "4294967295:4294967295" },
	{ "4294967295:1", 0, "1:4294967295" },
	{ "4294967294,4294967295,1", 0, "1:1,4294967294:4294967295" },
	{ "1:*", 4294967295u, "1:4294967295" },
	{ "1:*,4294967295", 4294967295u, "1:4294967295" },
	{ "4294967296", 0, NULL },
	{ "99999999999999999999", 0, NULL },
	{ "0", 10, NULL },
	{ "1:0", 10, NULL },
	{ "0:*", 10, NULL },
	{ "01", 10, NULL },
	{ "", 10, NULL },
	{ ",", 10, NULL },
	{ "1,", 10, NULL },
	{ ",1", 10, NULL },
	{ "1,,2", 10, NULL },
	{ "1::2", 10, NULL },
	{ "1:", 10, NULL },
	{ ":1", 10, NULL },
	{ "1:2:3", 10, NULL },
	{ "a", 10, NULL },
	{ "$", 10, NULL },
	{ " 1", 10, NULL },
	{ "1 ", 10, NULL },
	{ "-1", 10, NULL },
	{ "+1", 10, NULL },
	{ "1.5", 10, NULL },
	{ "**", 10, NULL },
	{ "1*", 10, NULL },
};

static void test_seqset_table(void)
{
	for (size_t i = 0; i < sizeof seq_cases / sizeof seq_cases[0]; i++) {
		const struct seq_case *sc = &seq_cases[i];
		static struct imap_range dummy;
		struct imap_range *r = &dummy;   /* must be reset */
		struct buf got = BUF_INIT;
		size_t n = 99;
		int ret = imap_seqset_parse(sc->in, sc->star, &r, &n);

		if (sc->want == NULL) {
			if (ret != -1 || r != NULL || n != 0)
				fprintf(stderr, "  case %zu \"%s\": accepted\n", i, sc->in);
			CHECK_EQ_INT(ret, -1);
			CHECK(r == NULL && n == 0);
			continue;
		}
		if (ret != 0)
			fprintf(stderr, "  case %zu \"%s\": rejected\n", i, sc->in);
		CHECK_EQ_INT(ret, 0);
		for (size_t k = 0; k < n; k++)
			buf_printf(&got, "%s%u:%u", k > 0 ? "," : "", r[k].lo, r[k].hi);
		free(r);
		CHECK_EQ_STR(got.data, sc->want);
		buf_free(&got);
	}
}

static void test_seqset_null(void)
{
	struct imap_range *r;
	size_t n;

	CHECK_EQ_INT(imap_seqset_parse(NULL, 1, &r, &n), -1);
	CHECK(!imap_seqset_contains(NULL, 0, 1));
}

/* contains() agrees with a linear scan, including the edges. */
static void test_seqset_contains(void)
{
	struct imap_range *r;
	size_t n;

	CHECK_EQ_INT(imap_seqset_parse("3:5,9,20:30,4294967295,100:200", 0, &r, &n), 0);
	CHECK_EQ_INT(n, 5);
	for (unsigned v = 0; v < 300; v++) {
		bool want = (v >= 3 && v <= 5) || v == 9 || (v >= 20 && v <= 30) || (v >= 100 && v <= 200);

		CHECK(imap_seqset_contains(r, n, v) == want);
	}
	CHECK(imap_seqset_contains(r, n, 4294967295u));
	CHECK(!imap_seqset_contains(r, n, 4294967294u));
	free(r);
}

/* A long comma list: merged, contains() matches a brute-force set. */
static void test_seqset_long(void)
{
	struct buf in = BUF_INIT;
	static bool member[5001];
	unsigned seed = 42;
	struct imap_range *r;
	size_t n;

	for (int i = 0; i < 2000; i++) {
		unsigned a = (unsigned)rand_r(&seed) % 5000 + 1, b = a + (unsigned)rand_r(&seed) % 4;

		if (b > 5000)
			b = 5000;
		buf_printf(&in, "%s%u:%u", i > 0 ? "," : "", b, a);
		for (unsigned v = a; v <= b; v++)
			member[v] = true;
	}
	CHECK_EQ_INT(imap_seqset_parse(in.data, 0, &r, &n), 0);
	for (size_t k = 1; k < n; k++)
		CHECK(r[k].lo > r[k - 1].hi + 1);
	for (unsigned v = 0; v <= 5001; v++)
		CHECK(imap_seqset_contains(r, n, v) == (v <= 5000 && member[v]));
	free(r);
	buf_free(&in);
}

int main(void)
{
	test_run("seqset table", test_seqset_table);
	test_run("seqset NULL", test_seqset_null);
	test_run("seqset contains", test_seqset_contains);
	test_run("seqset long list", test_seqset_long);
	return test_done();
}

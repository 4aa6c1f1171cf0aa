/* test_imap_mutf7 - modified UTF-7 (RFC 3501 5.1.3) both ways from a
 * table (RFC 3501's own example included), round trips, and the strict
 * decoder's refusals. */
#include "gateway/imap/imap_mutf7.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

static const struct {
	const char *utf8, *mutf7;
} pairs[] = {
	{ "INBOX", "INBOX" },
	{ "", "" },
	{ "a&b", "a&-b" },
	{ "&", "&-" },
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },               /* RFC 3501 5.1.3 */
	{ "Entw\xc3\xbcrfe", "Entw&APw-rfe" },
	{ "\xc3\xa4\xc3\xb6\xc3\xbc", "&AOQA9gD8-" },
	{ "Gel\xc3\xb6scht & Co", "Gel&APY-scht &- Co" },
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },                   /* U+1F600: a surrogate pair */
	{ "x\ty", "x&AAk-y" },                                /* a control character */
	{ "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", "&BB8EQAQ4BDIENQRC-" },
};

static void test_table(void)
{
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		struct buf e = BUF_INIT, d = BUF_INIT;

		CHECK_EQ_INT(imap_mutf7_encode(pairs[i].utf8, &e), 0);
		CHECK_EQ_STR(e.data, pairs[i].mutf7);
		CHECK_EQ_INT(imap_mutf7_decode(pairs[i].mutf7, &d), 0);
		CHECK_EQ_STR(d.data, pairs[i].utf8);
		buf_free(&e);
		buf_free(&d);
	}
}

static void test_invalid(void)
{
	static const char *const bad_mutf7[] = {
		"&", "&AOQ", "&AOQ-&", "caf\xc3\xa9", "&AGE-",     /* 'a' must be direct */
		"&AOQ=-", "&AOR-", "&2D0-", "&3gA-", "&2D3eAA", "&AOQA-", "a\x01", "&A-",
		"&AOQAAA-",                                        /* U+0000 */
	};
	static const char *const bad_utf8[] = {
		"\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "a\x80",
	};
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof bad_mutf7 / sizeof bad_mutf7[0]; i++) {
		b.len = 0;
		if (imap_mutf7_decode(bad_mutf7[i], &b) == 0) {
			fprintf(stderr, "decoded: %s -> %s\n", bad_mutf7[i], b.data);
			CHECK(0);
		}
	}
	for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
		b.len = 0;
		CHECK_EQ_INT(imap_mutf7_encode(bad_utf8[i], &b), -1);
	}
	buf_free(&b);
	CHECK(imap_has_8bit("caf\xc3\xa9"));
	CHECK(!imap_has_8bit("cafe"));
}

/* Every BMP character (but surrogates) and a few astral ones survive a
 * round trip. */
static void test_round_trip(void)
{
	for (uint32_t cp = 1; cp < 0x110000; cp += (cp < 0x10000 ? 1 : 0x1001)) {
		char s[8];
		struct buf e = BUF_INIT, d = BUF_INIT;
		size_t n;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		if (cp < 0x80) {
			s[0] = (char)cp;
			n = 1;
		} else if (cp < 0x800) {
			s[0] = (char)(0xc0 | (cp >> 6));
			s[1] = (char)(0x80 | (cp & 0x3f));
			n = 2;
		} else if (cp < 0x10000) {
			s[0] = (char)(0xe0 | (cp >> 12));
			s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
			s[2] = (char)(0x80 | (cp & 0x3f));
			n = 3;
		} else {
			s[0] = (char)(0xf0 | (cp >> 18));
			s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
			s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
			s[3] = (char)(0x80 | (cp & 0x3f));
			n = 4;
		}
		s[n] = 'z';
		s[n + 1] = '\0';
		if (imap_mutf7_encode(s, &e) != 0 || imap_mutf7_decode(e.data, &d) != 0 ||
		    strcmp(d.data, s) != 0 || imap_has_8bit(e.data)) {
			fprintf(stderr, "U+%04X: %s\n", (unsigned)cp, e.data);
			CHECK(0);
		}
		buf_free(&e);
		buf_free(&d);
	}
}

int main(void)
{
	test_run("table", test_table);
	test_run("invalid input", test_invalid);
	test_run("round trips", test_round_trip);
	return test_done();
}

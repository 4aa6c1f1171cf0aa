/* test_imap_url - the RFC 5092 / RFC 4467 URL parser (imap_url.h): every
 * component, the rump length, limits and malformed URLs; and the argument
 * forms of GETMETADATA, SETMETADATA, GENURLAUTH, RESETKEY and URLFETCH
 * through the IMAP push parser, fed whole, one octet and seven octets at
 * a time. */
#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_parser_transcript.h"
#include "gateway/imap/imap_url.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Chunks of *ctx octets. */
static size_t transcript_seven_octets(void *ctx)
{
	return *(const size_t *)ctx;
}

static int parse(const char *s, struct imap_url *u)
{
	const char *error = NULL;

	return imap_url_parse(s, strlen(s), u, &error);
}

static void test_relative(void)
{
	struct imap_url u;

	CHECK_EQ_INT(parse("/INBOX/;UID=7", &u), 0);
	CHECK(u.user == NULL && u.access == NULL && !u.partial);
	CHECK_EQ_STR(u.mailbox, "INBOX");
	CHECK_EQ_INT(u.uid, 7);
	CHECK_EQ_INT(u.uidvalidity, 0);
	imap_url_free(&u);
	CHECK_EQ_INT(parse("/inbox;uidvalidity=385759045/;uid=20/;section=1.2.MIME/;partial=0.100", &u), 0);
	CHECK_EQ_STR(u.mailbox, "INBOX");
	CHECK_EQ_INT(u.uidvalidity, 385759045);
	CHECK_EQ_INT(u.uid, 20);
	CHECK_EQ_STR(u.section, "1.2.MIME");
	CHECK(u.partial && u.partial_off == 0 && u.partial_len == 100);
	imap_url_free(&u);
	CHECK_EQ_INT(parse("/a%20b/c/;UID=1/;SECTION=HEADER.FIELDS%20(To)", &u), 0);
	CHECK_EQ_STR(u.mailbox, "a b/c");
	CHECK_EQ_STR(u.section, "HEADER.FIELDS (To)");
	imap_url_free(&u);
	CHECK_EQ_INT(parse("/x/;UID=4294967295/;PARTIAL=5", &u), 0);
	CHECK(u.uid == 4294967295u && u.partial && u.partial_off == 5 && u.partial_len == 0);
	imap_url_free(&u);
}

static void test_absolute_urlauth(void)
{
	const char *url = "imap://joe%40ex.com;AUTH=*@imap.ex.com:143/INBOX;UIDVALIDITY=1/;UID=2"
			  ";EXPIRE=2030-01-02T03:04:05.5-01:30;URLAUTH=submit+joe%40ex.com:INTERNAL:" TOKEN;
	struct imap_url u;

	CHECK_EQ_INT(parse(url, &u), 0);
	CHECK_EQ_STR(u.user, "joe@ex.com");
	CHECK_EQ_STR(u.access, "submit+joe@ex.com");
	CHECK_EQ_STR(u.mech, "INTERNAL");
	CHECK_EQ_STR(u.token, TOKEN);
	CHECK(u.expire);
	CHECK_EQ_INT(u.expire_ms, (int64_t)1893558845 * 1000);
	CHECK_EQ_INT(u.rump_len, strstr(url, ":INTERNAL:") - url);
	imap_url_free(&u);
	/* a rump URL (GENURLAUTH's input) */
	CHECK_EQ_INT(parse("IMAP://u@h/Box/;UID=1;URLAUTH=anonymous", &u), 0);
	CHECK(u.mech == NULL && u.token == NULL);
	CHECK_EQ_INT(u.rump_len, strlen("IMAP://u@h/Box/;UID=1;URLAUTH=anonymous"));
	imap_url_free(&u);
	CHECK_EQ_INT(parse("imap://u@h/Box/;UID=1;URLAUTH=authuser:INTERNAL:" TOKEN, &u), 0);
	imap_url_free(&u);
}

static void test_invalid(void)
{
	static const char *const bad[] = {
		"", "/", "/INBOX", "/INBOX/;UID=0", "/INBOX/;UID=01", "/INBOX/;UID=4294967296",
		"/INBOX/;UID=x", "/INBOX;UIDVALIDITY=0/;UID=1", "/INBOX;UIDVALIDITY=1;UID=1",
		"/;UID=1", "/;U", "//;UID=1", "/%00/;UID=1", "/%4/;UID=1", "/%zz/;UID=1", "/a b/;UID=1", "/a\x80/;UID=1",
		"/INBOX/;UID=1/;SECTION=", "/INBOX/;UID=1/;PARTIAL=x", "/INBOX/;UID=1/;PARTIAL=1.0x",
		"/INBOX/;UID=1;URLAUTH=anonymous",                       /* URLAUTH needs an absolute URL */
		"/INBOX/;UID=1;EXPIRE=2030-01-01T00:00:00Z",
		"imap://h/INBOX/;UID=1", "imap://@h/INBOX/;UID=1", "imap://u@/INBOX/;UID=1",
		"imap://u;AUTH=@h/INBOX/;UID=1", "imap://u@h", "imap://u;X=1@h/INBOX/;UID=1",
		"imap://u@h/INBOX/;UID=1;URLAUTH=nobody", "imap://u@h/INBOX/;UID=1;URLAUTH=user+",
		"imap://u@h/INBOX/;UID=1;URLAUTH=authuser:", "imap://u@h/INBOX/;UID=1;URLAUTH=authuser::" TOKEN,
		"imap://u@h/INBOX/;UID=1;URLAUTH=authuser:INTERNAL:abc",
		"imap://u@h/INBOX/;UID=1;URLAUTH=authuser:INTERNAL:" TOKEN "g",
		"imap://u@h/INBOX/;UID=1;URLAUTH=authuser:IN TERNAL:" TOKEN,
		"imap://u@h/INBOX/;UID=1;EXPIRE=2030-13-01T00:00:00Z;URLAUTH=authuser",
		"imap://u@h/INBOX/;UID=1;EXPIRE=2030-01-01T00:00:00;URLAUTH=authuser",
		"imap://u@h/INBOX/;UID=1;EXPIRE=2030-01-01T00:00:00Z",
		"imap://u@h/INBOX/;UID=1;junk",
	};
	struct imap_url u;
	char *huge;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i], &u) == 0) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			imap_url_free(&u);
			CHECK(0);
		}
		CHECK(u.mailbox == NULL && u.user == NULL);
	}
	/* NUL inside, and the length limit */
	{
		const char *error = NULL;

		CHECK_EQ_INT(imap_url_parse("/a\0b/;UID=1", 11, &u, &error), -1);
	}
	huge = malloc(IMAP_URL_MAX + 20);
	memset(huge, 'a', IMAP_URL_MAX + 19);
	huge[0] = '/';
	memcpy(huge + IMAP_URL_MAX - 7, "/;UID=1", 8);
	CHECK_EQ_INT(parse(huge, &u), 0);
	imap_url_free(&u);
	memcpy(huge + IMAP_URL_MAX - 6, "/;UID=1", 8);
	CHECK_EQ_INT(parse(huge, &u), -1);
	free(huge);
}

/* The new command forms through the push parser, in every split. */
static void test_command_forms(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "a GETMETADATA (MAXSIZE 1024 DEPTH infinity) \"\" (/shared/comment /private/x)\r\n",
		  "C a GETMETADATA (MAXSIZE 1024 DEPTH infinity) \"\" (/shared/comment /private/x)\n" },
		{ "a GETMETADATA INBOX /private/comment\r\n", "C a GETMETADATA INBOX /private/comment\n" },
		{ "a SETMETADATA INBOX (/private/comment {3+}\r\nabc /shared/x NIL)\r\n",
		  "C a SETMETADATA INBOX (/private/comment {3}\"abc\" /shared/x NIL)\n" },
		{ "a SETMETADATA \"\" (/private/bin ~{2+}\r\na\0)\r\n",
		  "C a SETMETADATA \"\" (/private/bin ~{2}\"a\\x00\")\n" },
		{ "a GENURLAUTH \"imap://u@h/INBOX/;UID=1;URLAUTH=authuser\" INTERNAL\r\n",
		  "C a GENURLAUTH \"imap://u@h/INBOX/;UID=1;URLAUTH=authuser\" INTERNAL\n" },
		{ "a RESETKEY INBOX INTERNAL\r\n", "C a RESETKEY INBOX INTERNAL\n" },
		{ "a RESETKEY\r\n", "C a RESETKEY\n" },
		{ "a URLFETCH \"imap://u@h/INBOX/;UID=1;URLAUTH=authuser:INTERNAL:" TOKEN "\" {5+}\r\n/x/;U\r\n",
		  "C a URLFETCH \"imap://u@h/INBOX/;UID=1;URLAUTH=authuser:INTERNAL:" TOKEN "\" {5}\"/x/;U\"\n" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *in = cases[i].in;
		size_t len = strlen(in), seven = 7;
		char *whole, *one, *sev;

		if (strstr(in, "~{2+}") != NULL)
			len = strlen(in) + 1 + strlen(in + strlen(in) + 1);   /* the NUL in the literal */
		whole = transcript(in, len, NULL, NULL, NULL);
		one = transcript(in, len, transcript_one_octet, NULL, NULL);
		sev = transcript(in, len, transcript_seven_octets, &seven, NULL);
		CHECK(transcript_same("whole", i, whole, cases[i].want));
		CHECK(transcript_same("bytewise", i, one, cases[i].want));
		CHECK(transcript_same("seven", i, sev, cases[i].want));
		free(whole);
		free(one);
		free(sev);
	}
}

int main(void)
{
	test_run("relative URLs: mailbox, UIDVALIDITY, UID, SECTION, PARTIAL", test_relative);
	test_run("absolute URLs with EXPIRE and URLAUTH; the rump", test_absolute_urlauth);
	test_run("malformed URLs and limits are refused", test_invalid);
	test_run("METADATA and URLAUTH command forms: whole, 1 and 7 octets", test_command_forms);
	return test_done();
}

/* test_mime_corpus - real-world-shaped messages from tests/mime-corpus:
 * asserted structure, offsets checked by slicing the message, and the same
 * summary whether fed whole, byte by byte or in odd pieces. */
#include "common/mime_testutil.h"
#include "tests/unit/testlib.h"

static const char *const corpus[] = {
	"simple.eml", "alternative.eml", "nested.eml", "forward.eml", "subjects.eml",
	"rfc2231.eml", "no-close.eml", "wrong-boundary.eml", "bad-base64.eml",
	"headers-only.eml", "no-blank-line.eml", "bare-lf.eml", "8bit-headers.eml",
	"digest.eml", "html-only.eml",
};

static char *msg;
static size_t msg_len;
static json_t *sum;

/* Loads and parses a corpus message whole; checks offsets and that byte by
 * byte and 7-byte pieces give the same summary. */
static int load(const char *name)
{
	json_t *bytewise, *sevens;
	int ok;

	free(msg);
	json_decref(sum);
	sum = NULL;
	if ((msg = mt_load(name, &msg_len)) == NULL)
		return 0;
	sum = mime_parse(msg, msg_len, NULL);
	bytewise = mt_parse_split(msg, msg_len, 1, NULL);
	sevens = mt_parse_split(msg, msg_len, 7, NULL);
	ok = json_equal(sum, bytewise) && json_equal(sum, sevens) &&
	     mt_check_part(json_object_get(sum, "part"), msg, msg_len) == NULL &&
	     mt_int(sum, "size") == (long long)msg_len &&
	     mt_int(sum, "lines") == mt_count_lines(msg, 0, msg_len);
	if (!ok)
		fprintf(stderr, "%s: %s\n", name,
			mt_check_part(json_object_get(sum, "part"), msg, msg_len));
	json_decref(bytewise);
	json_decref(sevens);
	return ok;
}

/* The bytes of range path ("part.body") as a string (static storage). */
static const char *slice(const char *path)
{
	static char out[8192];
	char p0[128], p1[128];
	long long a, b;

	snprintf(p0, sizeof p0, "%s.0", path);
	snprintf(p1, sizeof p1, "%s.1", path);
	a = mt_int(sum, p0), b = mt_int(sum, p1);
	if (a < 0 || b < a || b - a >= (long long)sizeof out)
		return "(bad range)";
	memcpy(out, msg + a, (size_t)(b - a));
	out[b - a] = '\0';
	return out;
}

static void test_all_whole_equals_bytewise(void)
{
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		if (!load(corpus[i]))
			test_fail(__FILE__, __LINE__, corpus[i]);
	}
}

static void test_simple(void)
{
	CHECK(load("simple.eml"));
	CHECK_EQ_STR(mt_str(sum, "part.type"), "text");
	CHECK_EQ_STR(mt_str(sum, "part.subtype"), "plain");
	CHECK_EQ_STR(mt_str(sum, "part.params.charset"), "us-ascii");
	CHECK_EQ_STR(mt_str(sum, "part.encoding"), "7bit");
	CHECK(strstr(slice("part.header"), "Return-Path: <alice@example.org>\r\n") == slice("part.header"));
	CHECK(strlen(slice("part.header")) > 4);
	CHECK(strcmp(slice("part.header") + strlen(slice("part.header")) - 4, "\r\n\r\n") == 0);
	CHECK_EQ_STR(slice("part.body"), "Hi Bob,\r\n\r\nNoon works for me.   See you there.\r\n\r\n-- \r\nAlice\r\n");
	CHECK_EQ_INT(mt_int(sum, "part.lines"), 6);
	CHECK_EQ_INT(mt_int(sum, "part.size"), 62);
	CHECK_EQ_STR(mt_str(sum, "envelope.subject"), "Re: Lunch plans");
	CHECK_EQ_STR(mt_str(sum, "envelope.date"), "Tue, 1 Aug 2023 12:00:00 +0200");
	CHECK_EQ_STR(mt_str(sum, "envelope.from.0.name"), "Alice Example");
	CHECK_EQ_STR(mt_str(sum, "envelope.from.0.mailbox"), "alice");
	CHECK_EQ_STR(mt_str(sum, "envelope.from.0.host"), "example.org");
	CHECK(json_is_null(mt_get(sum, "envelope.from.0.adl")));
	CHECK(json_equal(mt_get(sum, "envelope.sender"), mt_get(sum, "envelope.from")));
	CHECK(json_equal(mt_get(sum, "envelope.reply_to"), mt_get(sum, "envelope.from")));
	CHECK_EQ_INT(json_array_size(mt_get(sum, "envelope.cc")), 0);
	CHECK_EQ_STR(mt_str(sum, "envelope.message_id"), "<simple-1@example.org>");
	CHECK_EQ_STR(mt_str(sum, "envelope.in_reply_to"), "<orig-1@example.net>");
	CHECK_EQ_STR(mt_str(sum, "headers.message_id.0"), "simple-1@example.org");
	CHECK_EQ_STR(mt_str(sum, "headers.in_reply_to.0"), "orig-1@example.net");
	CHECK_EQ_STR(mt_str(sum, "headers.references.1"), "orig-1@example.net");
	CHECK_EQ_INT(json_array_size(mt_get(sum, "headers.references")), 2);
	CHECK_EQ_STR(mt_str(sum, "headers.to.0.email"), "bob@example.net");
	CHECK_EQ_STR(mt_str(sum, "headers.to.0.name"), "Bob");
	CHECK_EQ_INT(mt_int(sum, "headers.date"), 1690884000000LL);
	CHECK_EQ_STR(mt_str(sum, "thread.base_subject"), "Lunch plans");
	CHECK_EQ_STR(mt_str(sum, "preview"), "Hi Bob, Noon works for me. See you there. -- Alice");
	CHECK(json_is_false(mt_get(sum, "has_attachment")));
	CHECK(json_is_false(mt_get(sum, "truncated")));
	CHECK_EQ_INT(mt_int(sum, "lines"), 18);
}

static void test_alternative(void)
{
	CHECK(load("alternative.eml"));
	CHECK_EQ_STR(mt_str(sum, "part.subtype"), "alternative");
	CHECK_EQ_STR(mt_str(sum, "part.params.boundary"), "=_alt_123");
	CHECK_EQ_INT(json_array_size(mt_get(sum, "part.parts")), 2);
	CHECK_EQ_STR(mt_str(sum, "part.parts.0.encoding"), "quoted-printable");
	CHECK_EQ_STR(slice("part.parts.0.body"),
		     "Thank you for your order! Total: 12=E2=82=AC. Caf=C3=A9 opens at=\r\n nine.\r\n");
	CHECK_EQ_STR(slice("part.parts.1.header"),
		     "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
	CHECK_EQ_STR(slice("part.parts.1.body"),
		     "<html><body><p>Thank you for your <b>order</b>!</p></body></html>\r\n");
	CHECK_EQ_INT(mt_int(sum, "part.parts.0.lines"), 2);
	CHECK_EQ_STR(mt_str(sum, "preview"), "Thank you for your order! Total: 12\xe2\x82\xac. Caf\xc3\xa9 opens at nine.");
	CHECK_EQ_STR(mt_str(sum, "envelope.from.0.name"), "Shop, Example");
	CHECK_EQ_INT(mt_int(sum, "headers.date"), 1690979400000LL);   /* no seconds, -0400 */
	CHECK(json_is_false(mt_get(sum, "has_attachment")));
}

static void test_nested(void)
{
	CHECK(load("nested.eml"));
	CHECK_EQ_STR(mt_str(sum, "part.subtype"), "mixed");
	CHECK_EQ_STR(mt_str(sum, "part.parts.0.subtype"), "related");
	CHECK_EQ_STR(mt_str(sum, "part.parts.0.parts.0.subtype"), "alternative");
	CHECK_EQ_STR(slice("part.parts.0.parts.0.parts.0.body"), "Please find the report attached.");
	CHECK_EQ_INT(mt_int(sum, "part.parts.0.parts.0.parts.0.lines"), 1);
	CHECK_EQ_STR(mt_str(sum, "part.parts.0.parts.0.parts.0.params.charset"), "iso-8859-1");
	CHECK_EQ_STR(mt_str(sum, "part.parts.0.parts.1.type"), "image");
	CHECK_EQ_STR(mt_str(sum, "part.parts.0.parts.1.id"), "<logo@x>");
	CHECK_EQ_STR(mt_str(sum, "part.parts.0.parts.1.disposition.type"), "inline");
	CHECK_EQ_STR(mt_str(sum, "part.parts.0.parts.1.disposition.params.filename"), "logo.png");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.type"), "application");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.subtype"), "pdf");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.encoding"), "base64");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.params.name"), "report.pdf");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.disposition.type"), "attachment");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.disposition.params.size"), "2065");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.description"), "Quarterly report");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.md5"), "Q2hlY2sgSW50ZWdyaXR5IQ==");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.language.1"), "de-CH");
	CHECK(strncmp(slice("part.parts.1.body"), "JVBERi0xLjQK", 12) == 0);
	CHECK(msg[mt_int(sum, "part.parts.1.body.1")] == '\r');
	CHECK(strncmp(msg + mt_int(sum, "part.parts.1.body.1"), "\r\n--outer--", 11) == 0);
	CHECK(json_is_null(mt_get(sum, "part.parts.1.location")));
	CHECK_EQ_STR(mt_str(sum, "preview"), "Please find the report attached.");
	CHECK(json_is_true(mt_get(sum, "has_attachment")));
	CHECK_EQ_INT(json_array_size(mt_get(sum, "envelope.to")), 2);
	/* "undisclosed-recipients:;" is a group with no members */
	CHECK_EQ_STR(mt_str(sum, "envelope.cc.0.mailbox"), "undisclosed-recipients");
	CHECK(json_is_null(mt_get(sum, "envelope.cc.0.host")));
	CHECK(json_is_null(mt_get(sum, "envelope.cc.1.mailbox")));
	CHECK_EQ_INT(json_array_size(mt_get(sum, "headers.cc")), 0);
	CHECK_EQ_INT(mt_int(sum, "headers.date"), 1691054100000LL);
}

static void test_forward(void)
{
	CHECK(load("forward.eml"));
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.type"), "message");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.subtype"), "rfc822");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.message.envelope.subject"), "Meeting notes");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.message.envelope.from.0.mailbox"), "heidi");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.message.envelope.message_id"), "<inner-1@example.org>");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.message.part.params.charset"), "utf-8");
	CHECK_EQ_STR(slice("part.parts.1.message.part.body"), "Notes:\r\n1. Budget\r\n2. Hiring");
	CHECK_EQ_INT(mt_int(sum, "part.parts.1.message.part.lines"), 3);
	CHECK_EQ_INT(mt_int(sum, "part.parts.1.lines"), 10);
	CHECK(strncmp(slice("part.parts.1.body"), "From: Heidi", 11) == 0);
	CHECK_EQ_STR(mt_str(sum, "envelope.subject"), "Fwd: Meeting notes");
	CHECK_EQ_STR(mt_str(sum, "thread.base_subject"), "Meeting notes");
	CHECK_EQ_STR(mt_str(sum, "preview"), "See below.");
	CHECK(json_is_false(mt_get(sum, "has_attachment")));   /* the message is inline */
}

static void test_subjects(void)
{
	CHECK(load("subjects.eml"));
	CHECK_EQ_STR(mt_str(sum, "headers.subject"),
		     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe3\x81\x82\xe3\x82\x8a caf\xc3\xa9 plain =?x-unknown-cs?q?raw?=");
	CHECK_EQ_STR(mt_str(sum, "envelope.subject"),
		     "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= =?UTF-8?B?IOOBguOCig==?= =?utf-8?q?_caf=C3=A9?= plain =?x-unknown-cs?q?raw?=");
	CHECK_EQ_STR(mt_str(sum, "headers.from.0.name"), "Andr\xc3\xa9 Pirard");
	CHECK_EQ_STR(mt_str(sum, "envelope.from.0.name"), "=?ISO-8859-1?Q?Andr=E9?= Pirard");
	CHECK_EQ_STR(mt_str(sum, "headers.to.0.name"), "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd");   /* KOI8-R */
	CHECK_EQ_STR(mt_str(sum, "headers.to.1.name"), "\xe2\x80\x9cQuoted\xe2\x80\x9d");   /* cp1252 */
	CHECK_EQ_STR(mt_str(sum, "headers.cc.0.name"), "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88");
	CHECK_EQ_INT(mt_int(sum, "headers.date"), 1691215323000LL);   /* EST = -0500 */
}

static void test_rfc2231(void)
{
	CHECK(load("rfc2231.eml"));
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.params.name"), "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.disposition.params.filename"),
		     "R\xc3\xa9sum\xc3\xa9 final version.txt");
	CHECK_EQ_STR(slice("part.parts.1.body"), "aGVsbG8=");
	CHECK_EQ_STR(mt_str(sum, "thread.base_subject"), "r\xc3\xa9sum\xc3\xa9");
	CHECK_EQ_INT(mt_int(sum, "headers.date"), 1691316000000LL);   /* two-digit year */
	CHECK(json_is_true(mt_get(sum, "has_attachment")));
}

static void test_broken(void)
{
	CHECK(load("no-close.eml"));
	CHECK_EQ_INT(json_array_size(mt_get(sum, "part.parts")), 2);
	CHECK_EQ_STR(slice("part.parts.1.body"), "second part never closed\r\n");
	CHECK_EQ_INT(mt_int(sum, "part.body.1"), (long long)msg_len);
	CHECK_EQ_INT(mt_int(sum, "part.parts.1.body.1"), (long long)msg_len);

	CHECK(load("wrong-boundary.eml"));
	CHECK_EQ_STR(mt_str(sum, "part.type"), "multipart");
	CHECK_EQ_INT(json_array_size(mt_get(sum, "part.parts")), 0);
	CHECK_EQ_INT(mt_int(sum, "part.body.1"), (long long)msg_len);
	CHECK_EQ_STR(mt_str(sum, "preview"), "");

	CHECK(load("bad-base64.eml"));
	CHECK_EQ_STR(mt_str(sum, "preview"), "Hello world!");

	CHECK(load("headers-only.eml"));
	CHECK_EQ_INT(mt_int(sum, "part.header.1"), (long long)msg_len);
	CHECK_EQ_INT(mt_int(sum, "part.size"), 0);
	CHECK_EQ_INT(mt_int(sum, "part.lines"), 0);
	CHECK_EQ_STR(mt_str(sum, "envelope.subject"), "headers only");

	CHECK(load("no-blank-line.eml"));
	CHECK_EQ_STR(slice("part.header"), "From: nobody@example.com\r\nSubject: no blank line\r\n");
	CHECK_EQ_STR(slice("part.body"), "This line starts the body.\r\nSecond line.\r\n");
	CHECK_EQ_STR(mt_str(sum, "headers.subject"), "no blank line");

	CHECK(load("bare-lf.eml"));
	CHECK_EQ_STR(slice("part.parts.0.body"), "unix line ends");
	CHECK_EQ_STR(slice("part.parts.0.header"), "Content-Type: text/plain\n\n");
	CHECK_EQ_STR(mt_str(sum, "preview"), "unix line ends");

	CHECK(load("8bit-headers.eml"));
	CHECK_EQ_STR(mt_str(sum, "headers.subject"), "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln");
	CHECK_EQ_STR(mt_str(sum, "envelope.subject"), "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln");
	CHECK_EQ_STR(mt_str(sum, "headers.from.0.name"), "J\xc3\xb6rg M\xc3\xbcller");
	CHECK_EQ_STR(mt_str(sum, "headers.to.0.name"), "\xe7\x94\xb0\xe4\xb8\xad");
	CHECK_EQ_STR(mt_str(sum, "preview"), "UTF-8 body: \xe2\x9c\x93");
}

static void test_digest_and_html(void)
{
	CHECK(load("digest.eml"));
	CHECK_EQ_STR(mt_str(sum, "part.parts.0.type"), "message");
	CHECK_EQ_STR(mt_str(sum, "part.parts.0.subtype"), "rfc822");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.message.envelope.subject"), "second");
	CHECK_EQ_STR(slice("part.parts.1.message.part.body"), "two");
	CHECK_EQ_STR(mt_str(sum, "part.parts.1.message.part.params.charset"), "us-ascii");

	CHECK(load("html-only.eml"));
	CHECK_EQ_STR(mt_str(sum, "preview"), "Big sale & more \xe2\x80\x93 50% off Today");
	CHECK_EQ_STR(mt_str(sum, "thread.base_subject"), "Sale");
}

/* Every prefix of some messages parses, keeps its invariants, and gives
 * the same summary fed whole and in 3-byte pieces. */
static void test_prefixes(void)
{
	static const char *const names[] = { "nested.eml", "forward.eml", "rfc2231.eml",
					     "digest.eml", "no-blank-line.eml", "bare-lf.eml" };

	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		size_t len;
		char *d = mt_load(names[k], &len);

		CHECK(d != NULL);
		for (size_t n = 0; n <= len; n++) {
			json_t *a = mime_parse(d, n, NULL), *b = mt_parse_split(d, n, 3, NULL);
			const char *why = mt_check_part(json_object_get(a, "part"), d, n);

			if (why != NULL || !json_equal(a, b)) {
				fprintf(stderr, "%s prefix %zu: %s\n", names[k], n, why ? why : "split differs");
				test_fail(__FILE__, __LINE__, names[k]);
				n = len;
			}
			json_decref(a);
			json_decref(b);
		}
		free(d);
	}
}

int main(void)
{
	test_run("all whole == bytewise", test_all_whole_equals_bytewise);
	test_run("simple", test_simple);
	test_run("alternative", test_alternative);
	test_run("nested", test_nested);
	test_run("forward", test_forward);
	test_run("subjects", test_subjects);
	test_run("rfc2231", test_rfc2231);
	test_run("broken", test_broken);
	test_run("digest and html", test_digest_and_html);
	test_run("prefixes", test_prefixes);
	free(msg);
	json_decref(sum);
	return test_done();
}

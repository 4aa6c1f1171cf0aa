/* test_imap_render - IMAP strings, ENVELOPE and BODYSTRUCTURE / BODY
 * rendered from mime_parse summaries of tests/mime-corpus messages,
 * compared with hand-written RFC 9051 7.5.2 responses. */
#include "gateway/imap/imap_render_testutil.h"
#include "tests/unit/testlib.h"

/* Renders s[0..len) with imap_render_string (static result). */
static const char *str(const char *s, size_t len)
{
	struct buf b = BUF_INIT;

	imap_render_string(&b, s, len);
	return ir_take(&b);
}

static void test_string_quoted(void)
{
	CHECK_EQ_STR(str("hello world", 11), "\"hello world\"");
	CHECK_EQ_STR(str("", 0), "\"\"");
	CHECK_EQ_STR(str("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	CHECK_EQ_STR(str("\\", 1), "\"\\\\\"");
	CHECK_EQ_STR(str("tab\there", 8), "\"tab\there\"");
	CHECK_EQ_STR(str(NULL, 0), "NIL");
	CHECK_EQ_STR(str("NIL", 3), "\"NIL\"");
}

static void test_string_literal(void)
{
	char big[1100];
	const char *r;

	CHECK_EQ_STR(str("a\r\nb", 4), "{4}\r\na\r\nb");
	CHECK_EQ_STR(str("a\nb", 3), "{3}\r\na\nb");
	CHECK_EQ_STR(str("caf\xc3\xa9", 5), "{5}\r\ncaf\xc3\xa9");    /* 8-bit: literal */
	r = str("a\0b", 3);                                         /* NUL: literal */
	CHECK(memcmp(r, "{3}\r\na\0b", 8) == 0);
	memset(big, 'x', sizeof big);
	r = str(big, 1024);
	CHECK(r[0] == '"' && strlen(r) == 1026);
	r = str(big, 1025);
	CHECK(strncmp(r, "{1025}\r\nxxx", 11) == 0 && strlen(r) == 1025 + 8);
}

static void test_nstring(void)
{
	struct buf b = BUF_INIT;

	imap_render_nstring(&b, NULL);
	buf_puts(&b, " ");
	imap_render_nstring(&b, "x\"y");
	CHECK_EQ_STR(ir_take(&b), "NIL \"x\\\"y\"");
}

static void test_uint(void)
{
	struct buf b = BUF_INIT;

	imap_render_uint(&b, 0);
	buf_puts(&b, " ");
	imap_render_uint(&b, 7);
	buf_puts(&b, " ");
	imap_render_uint(&b, 4294967295u);
	buf_puts(&b, " ");
	imap_render_uint(&b, UINT64_MAX);
	CHECK_EQ_STR(ir_take(&b), "0 7 4294967295 18446744073709551615");
}

/* The ENVELOPE of a corpus message (static result). */
static const char *envelope_of(const char *name)
{
	struct ir_msg m;
	static char out[4096];

	if (!ir_open(&m, name, ""))
		return "(missing)";
	snprintf(out, sizeof out, "%s", ir_envelope(&m));
	ir_close(&m);
	return out;
}

static void test_envelope_simple(void)
{
	CHECK_EQ_STR(envelope_of("simple.eml"),
		"(\"Tue, 1 Aug 2023 12:00:00 +0200\" \"Re: Lunch plans\" "
		"((\"Alice Example\" NIL \"alice\" \"example.org\")) "
		"((\"Alice Example\" NIL \"alice\" \"example.org\")) "
		"((\"Alice Example\" NIL \"alice\" \"example.org\")) "
		"((\"Bob\" NIL \"bob\" \"example.net\")) NIL NIL "
		"\"<orig-1@example.net>\" \"<simple-1@example.org>\")");
}

static void test_envelope_quoted_name_and_bare_address(void)
{
	CHECK_EQ_STR(envelope_of("alternative.eml"),
		"(\"Wed, 02 Aug 2023 08:30 -0400\" \"Your order\" "
		"((\"Shop, Example\" NIL \"news\" \"shop.example\")) "
		"((\"Shop, Example\" NIL \"news\" \"shop.example\")) "
		"((\"Shop, Example\" NIL \"news\" \"shop.example\")) "
		"((NIL NIL \"customer\" \"example.com\")) NIL NIL NIL \"<alt-1@shop.example>\")");
}

/* Cc: undisclosed-recipients:; is a group start and end marker. */
static void test_envelope_group(void)
{
	CHECK_EQ_STR(envelope_of("nested.eml"),
		"(\"Thu, 3 Aug 2023 09:15:00 GMT\" \"Report with attachment\" "
		"((\"Carol\" NIL \"carol\" \"example.com\")) "
		"((\"Carol\" NIL \"carol\" \"example.com\")) "
		"((\"Carol\" NIL \"carol\" \"example.com\")) "
		"((\"Dave\" NIL \"dave\" \"example.com\")(\"Eve\" NIL \"eve\" \"example.com\")) "
		"((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL "
		"\"<nested-1@example.com>\")");
}

/* Encoded words stay raw (RFC 9051 7.5.2: ENVELOPE carries header text). */
static void test_envelope_encoded_words_raw(void)
{
	CHECK_EQ_STR(envelope_of("subjects.eml"),
		"(\"Sat, 5 Aug 2023 01:02:03 EST\" "
		"\"=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= =?UTF-8?B?IOOBguOCig==?= "
		"=?utf-8?q?_caf=C3=A9?= plain =?x-unknown-cs?q?raw?=\" "
		"((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"PIRARD\" \"vm1.ulg.ac.be\")) "
		"((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"PIRARD\" \"vm1.ulg.ac.be\")) "
		"((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"PIRARD\" \"vm1.ulg.ac.be\")) "
		"((\"=?KOI8-R?B?6dfBzg==?=\" NIL \"ivan\" \"example.ru\")"
		"(\"=?windows-1252?Q?=93Quoted=94?=\" NIL \"q\" \"example.com\")) "
		"((\"=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\" NIL \"jp\" \"example.jp\")) "
		"NIL NIL \"<subjects-1@example.com>\")");
}

/* 8-bit header text (kept by mime.c as UTF-8) is sent as literals. */
static void test_envelope_8bit_literals(void)
{
	CHECK_EQ_STR(envelope_of("8bit-headers.eml"),
		"(NIL {17}\r\nGr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln "
		"(({13}\r\nJ\xc3\xb6rg M\xc3\xbcller NIL \"joerg\" \"example.de\")) "
		"(({13}\r\nJ\xc3\xb6rg M\xc3\xbcller NIL \"joerg\" \"example.de\")) "
		"(({13}\r\nJ\xc3\xb6rg M\xc3\xbcller NIL \"joerg\" \"example.de\")) "
		"(({6}\r\n\xe7\x94\xb0\xe4\xb8\xad NIL \"tanaka\" \"example.jp\")) NIL NIL NIL NIL)");
}

static void test_envelope_missing(void)
{
	struct buf b = BUF_INIT;
	json_t *e = json_loads("{\"subject\": \"s\", \"from\": [], \"to\": null}", 0, NULL);

	imap_render_envelope(&b, NULL);
	CHECK_EQ_STR(ir_take(&b), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	imap_render_envelope(&b, e);
	json_decref(e);
	CHECK_EQ_STR(ir_take(&b), "(NIL \"s\" NIL NIL NIL NIL NIL NIL NIL NIL)");
}

/* BODYSTRUCTURE (ext != 0) or BODY of a corpus message behind a prefix. */
static const char *body_of(const char *name, int ext)
{
	struct ir_msg m;
	static char out[8192];

	if (!ir_open(&m, name, "Delivered-To: x@y\r\n"))
		return "(missing)";
	snprintf(out, sizeof out, "%s", ir_body(&m, ext));
	ir_close(&m);
	return out;
}

static void test_body_simple(void)
{
	CHECK_EQ_STR(body_of("simple.eml", 1),
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 62 6 NIL NIL NIL NIL)");
	CHECK_EQ_STR(body_of("simple.eml", 0),
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 62 6)");
}

static void test_body_alternative(void)
{
	CHECK_EQ_STR(body_of("alternative.eml", 1),
		"((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 75 2 NIL NIL NIL NIL)"
		"(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 67 1 NIL NIL NIL NIL)"
		" \"alternative\" (\"boundary\" \"=_alt_123\") NIL NIL NIL)");
	CHECK_EQ_STR(body_of("alternative.eml", 0),
		"((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 75 2)"
		"(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 67 1)"
		" \"alternative\")");
}

/* mixed(related(alternative(plain html) png) pdf) with id, description,
 * md5, disposition with parameters and a language list. */
static void test_body_nested_attachment(void)
{
	CHECK_EQ_STR(body_of("nested.eml", 1),
		"((((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \"8bit\" 32 1 NIL NIL NIL NIL)"
		"(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 61 1 NIL NIL NIL NIL)"
		" \"alternative\" (\"boundary\" \"alt\") NIL NIL NIL)"
		"(\"image\" \"png\" (\"name\" \"logo.png\") \"<logo@x>\" NIL \"base64\" 146"
		" NIL (\"inline\" (\"filename\" \"logo.png\")) NIL NIL)"
		" \"related\" (\"boundary\" \"rel\") NIL NIL NIL)"
		"(\"application\" \"pdf\" (\"name\" \"report.pdf\") NIL \"Quarterly report\" \"base64\" 2824"
		" \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"filename\" \"report.pdf\" \"size\" \"2065\"))"
		" (\"en\" \"de-CH\") NIL)"
		" \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)");
	CHECK_EQ_STR(body_of("nested.eml", 0),
		"((((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \"8bit\" 32 1)"
		"(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 61 1) \"alternative\")"
		"(\"image\" \"png\" (\"name\" \"logo.png\") \"<logo@x>\" NIL \"base64\" 146) \"related\")"
		"(\"application\" \"pdf\" (\"name\" \"report.pdf\") NIL \"Quarterly report\" \"base64\" 2824)"
		" \"mixed\")");
}

/* message/rfc822: basic fields, envelope, body, lines. */
static void test_body_message_rfc822(void)
{
	CHECK_EQ_STR(body_of("forward.eml", 1),
		"((\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1 NIL NIL NIL NIL)"
		"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 232"
		" (\"Thu, 3 Aug 2023 16:00:00 +0200\" \"Meeting notes\""
		" ((\"Heidi\" NIL \"heidi\" \"example.org\")) ((\"Heidi\" NIL \"heidi\" \"example.org\"))"
		" ((\"Heidi\" NIL \"heidi\" \"example.org\")) ((\"Frank\" NIL \"frank\" \"example.com\"))"
		" NIL NIL NIL \"<inner-1@example.org>\")"
		" (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 28 3 NIL NIL NIL NIL)"
		" 10 NIL (\"inline\" NIL) NIL NIL)"
		" \"mixed\" (\"boundary\" \"fwd\") NIL NIL NIL)");
	CHECK_EQ_STR(body_of("forward.eml", 0),
		"((\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1)"
		"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 232"
		" (\"Thu, 3 Aug 2023 16:00:00 +0200\" \"Meeting notes\""
		" ((\"Heidi\" NIL \"heidi\" \"example.org\")) ((\"Heidi\" NIL \"heidi\" \"example.org\"))"
		" ((\"Heidi\" NIL \"heidi\" \"example.org\")) ((\"Frank\" NIL \"frank\" \"example.com\"))"
		" NIL NIL NIL \"<inner-1@example.org>\")"
		" (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 28 3) 10)"
		" \"mixed\")");
}

/* multipart/digest children default to message/rfc822. */
static void test_body_digest(void)
{
	CHECK_EQ_STR(body_of("digest.eml", 0),
		"((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 42"
		" (NIL \"first\" ((NIL NIL \"a\" \"example.com\")) ((NIL NIL \"a\" \"example.com\"))"
		" ((NIL NIL \"a\" \"example.com\")) NIL NIL NIL NIL NIL)"
		" (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1) 4)"
		"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 43"
		" (NIL \"second\" ((NIL NIL \"b\" \"example.com\")) ((NIL NIL \"b\" \"example.com\"))"
		" ((NIL NIL \"b\" \"example.com\")) NIL NIL NIL NIL NIL)"
		" (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1) 4)"
		" \"digest\")");
}

/* RFC 2231 parameters are decoded to UTF-8 by mime.c: literals here. */
static void test_body_rfc2231_8bit_params(void)
{
	CHECK_EQ_STR(body_of("rfc2231.eml", 1),
		"((\"text\" \"plain\" NIL NIL NIL \"7bit\" 12 1 NIL NIL NIL NIL)"
		"(\"application\" \"octet-stream\" (\"name\" {13}\r\n\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt)"
		" NIL NIL \"base64\" 8 NIL (\"attachment\" (\"filename\" {26}\r\nR\xc3\xa9sum\xc3\xa9 final version.txt))"
		" NIL NIL) \"mixed\" (\"boundary\" \"simple\") NIL NIL NIL)");
}

/* A whole message of type message/rfc822. */
static void test_body_top_level_message(void)
{
	static const char blob[] = "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nhi";
	struct ir_msg m;

	ir_make(&m, "", blob, sizeof blob - 1);
	CHECK_EQ_STR(ir_body(&m, 1),
		"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 20 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL)"
		" (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 1 NIL NIL NIL NIL) 3"
		" NIL NIL NIL NIL)");
	ir_close(&m);
}

/* A multipart with no children is text/plain; message/rfc822 without a
 * parsed message is a basic part; a missing part is an empty text/plain. */
static void test_body_degenerate(void)
{
	struct buf b = BUF_INIT;
	json_t *s = json_loads("{\"part\": {\"type\": \"multipart\", \"subtype\": \"mixed\","
		" \"params\": {\"boundary\": \"zz\"}, \"encoding\": \"7bit\", \"size\": 15, \"lines\": 1,"
		" \"parts\": []}}", 0, NULL);

	CHECK(s != NULL);
	imap_render_bodystructure(&b, s, 0, false);
	json_decref(s);
	CHECK_EQ_STR(ir_take(&b), "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 1)");
	s = json_loads("{\"part\": {\"type\": \"message\", \"subtype\": \"rfc822\", \"params\": {},"
		" \"encoding\": \"base64\", \"size\": 8, \"lines\": 1}}", 0, NULL);
	imap_render_bodystructure(&b, s, 0, false);
	json_decref(s);
	CHECK_EQ_STR(ir_take(&b), "(\"message\" \"rfc822\" NIL NIL NIL \"base64\" 8)");
	imap_render_bodystructure(&b, NULL, 0, false);
	CHECK_EQ_STR(ir_take(&b), "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
}

/* The same bytes from a fresh summary and one stored with sorted keys. */
static void test_body_stable_after_storage(void)
{
	static const char *const names[] = { "nested.eml", "rfc2231.eml", "forward.eml", "digest.eml",
					     "wrong-boundary.eml", "no-close.eml", "bare-lf.eml" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct ir_msg m;
		char *enc, *fresh;
		json_t *stored;

		CHECK(ir_open(&m, names[i], ""));
		fresh = strdup(ir_body(&m, 1));
		enc = json_dumps(m.sum, JSON_SORT_KEYS | JSON_COMPACT);
		stored = json_loads(enc, 0, NULL);
		json_decref(m.sum);
		m.sum = stored;
		CHECK_EQ_STR(ir_body(&m, 1), fresh);
		free(enc);
		free(fresh);
		ir_close(&m);
	}
}

int main(void)
{
	test_run("string_quoted", test_string_quoted);
	test_run("string_literal", test_string_literal);
	test_run("nstring", test_nstring);
	test_run("uint", test_uint);
	test_run("envelope_simple", test_envelope_simple);
	test_run("envelope_quoted_name_and_bare_address", test_envelope_quoted_name_and_bare_address);
	test_run("envelope_group", test_envelope_group);
	test_run("envelope_encoded_words_raw", test_envelope_encoded_words_raw);
	test_run("envelope_8bit_literals", test_envelope_8bit_literals);
	test_run("envelope_missing", test_envelope_missing);
	test_run("body_simple", test_body_simple);
	test_run("body_alternative", test_body_alternative);
	test_run("body_nested_attachment", test_body_nested_attachment);
	test_run("body_message_rfc822", test_body_message_rfc822);
	test_run("body_digest", test_body_digest);
	test_run("body_rfc2231_8bit_params", test_body_rfc2231_8bit_params);
	test_run("body_top_level_message", test_body_top_level_message);
	test_run("body_degenerate", test_body_degenerate);
	test_run("body_stable_after_storage", test_body_stable_after_storage);
	return test_done();
}

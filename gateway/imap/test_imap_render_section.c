/* test_imap_render_section - section specs (imap_section_parse) and
 * BODY[section] / BINARY[section] octets (RFC 9051 6.4.5, RFC 3516) from
 * corpus messages stored behind a non-empty prefix. */
#include "gateway/imap/imap_render_testutil.h"
#include "tests/unit/testlib.h"

#define PREFIX "Delivered-To: x@y\r\n"

static struct ir_msg m;

/* BODY[spec] of m; checks the return code and the octets. */
#define FETCH_IS(spec, rc, expect) do { int rc_; const char *got_ = ir_fetch(&m, spec, 0, &rc_, NULL); \
	CHECK_EQ_INT(rc_, rc); CHECK_EQ_STR(got_, expect); } while (0)

static void test_parse_valid(void)
{
	struct imap_section s;

	CHECK(imap_section_parse("", 0, NULL, &s) == 0);
	CHECK(s.kind == IMAP_SECTION_ALL && s.depth == 0 && !s.partial);
	CHECK(imap_section_parse("header", 6, NULL, &s) == 0 && s.kind == IMAP_SECTION_HEADER);
	CHECK(imap_section_parse("TEXT", 4, NULL, &s) == 0 && s.kind == IMAP_SECTION_TEXT);
	CHECK(imap_section_parse("1.2.30", 6, NULL, &s) == 0);
	CHECK(s.kind == IMAP_SECTION_ALL && s.depth == 3 && s.part[0] == 1 && s.part[1] == 2 && s.part[2] == 30);
	CHECK(imap_section_parse("4.1.MIME", 8, NULL, &s) == 0 && s.kind == IMAP_SECTION_MIME && s.depth == 2);
	CHECK(imap_section_parse("3.Header", 8, NULL, &s) == 0 && s.kind == IMAP_SECTION_HEADER && s.depth == 1);
	CHECK(imap_section_parse("2.TEXT", 6, NULL, &s) == 0 && s.kind == IMAP_SECTION_TEXT);
	CHECK(imap_section_parse("4294967295", 10, NULL, &s) == 0 && s.part[0] == 4294967295u);
}

static void test_parse_header_fields(void)
{
	struct imap_section s;
	const char *spec = "HEADER.FIELDS (From Subject x-Spam-Flag)";

	CHECK(imap_section_parse(spec, strlen(spec), NULL, &s) == 0);
	CHECK(s.kind == IMAP_SECTION_HEADER_FIELDS && s.nfields == 3);
	CHECK_EQ_STR(s.fields[0], "FROM");
	CHECK_EQ_STR(s.fields[1], "SUBJECT");
	CHECK_EQ_STR(s.fields[2], "X-SPAM-FLAG");
	imap_section_free(&s);
	CHECK(s.nfields == 0);
	spec = "1.2.header.fields.not (\"Received\" ( to";   /* unbalanced */
	CHECK(imap_section_parse(spec, strlen(spec), NULL, &s) == -1);
	spec = "1.2.header.fields.not (\"Re\\\\ceived\"  To )";
	CHECK(imap_section_parse(spec, strlen(spec), NULL, &s) == 0);
	CHECK(s.kind == IMAP_SECTION_HEADER_FIELDS_NOT && s.depth == 2 && s.nfields == 2);
	CHECK_EQ_STR(s.fields[0], "RE\\CEIVED");
	CHECK_EQ_STR(s.fields[1], "TO");
	imap_section_free(&s);
}

static void test_parse_invalid(void)
{
	static const char *const bad[] = {
		"MIME", "0", "01", "1.0", "1.", ".1", "1..2", "1.FOO", "HEADERS", "HEADER ",
		"TEXT.1", "1 ", " 1", "HEADER.FIELDS", "HEADER.FIELDS ()", "HEADER.FIELDS (From",
		"HEADER.FIELDS(From)", "HEADER.FIELDS  (From)", "HEADER.FIELDS (Fr:om)",
		"HEADER.FIELDS (\"\")", "HEADER.FIELDS (From) x", "HEADER.FIELDS (\"From)",
		"HEADER.FIELDS (Fr\"om)", "HEADER.FIELDS ({4}\r\nFrom)", "HEADER.FIELDS (Fr\xc3\xb6m)",
		"4294967296", "1.MIME.TEXT", "HEADER.FIELDS.NOTX (From)", "1.2.3.HEADER.FIELDS",
	};
	struct imap_section s;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (imap_section_parse(bad[i], strlen(bad[i]), NULL, &s) != -1)
			test_fail(__FILE__, __LINE__, bad[i]);
	}
	CHECK(imap_section_parse("1\0", 2, NULL, &s) == -1);
	CHECK(s.nfields == 0);
}

/* Depth and field count limits: at the limit is fine, past it is BAD. */
static void test_parse_limits(void)
{
	struct imap_section s;
	struct buf b = BUF_INIT;

	for (int i = 0; i < IMAP_SECTION_DEPTH_MAX; i++)
		buf_puts(&b, i == 0 ? "1" : ".1");
	CHECK(imap_section_parse(b.data, b.len, NULL, &s) == 0 && s.depth == IMAP_SECTION_DEPTH_MAX);
	buf_puts(&b, ".MIME");
	CHECK(imap_section_parse(b.data, b.len, NULL, &s) == 0 && s.kind == IMAP_SECTION_MIME);
	buf_truncate(&b, b.len - 5);
	buf_puts(&b, ".1");
	CHECK(imap_section_parse(b.data, b.len, NULL, &s) == -1);
	buf_truncate(&b, 0);
	buf_puts(&b, "HEADER.FIELDS (");
	for (int i = 0; i < IMAP_SECTION_FIELDS_MAX; i++)
		buf_printf(&b, "%sX-%d", i == 0 ? "" : " ", i);
	buf_puts(&b, ")");
	CHECK(imap_section_parse(b.data, b.len, NULL, &s) == 0 && s.nfields == IMAP_SECTION_FIELDS_MAX);
	imap_section_free(&s);
	buf_truncate(&b, b.len - 1);
	buf_puts(&b, " X-LAST)");
	CHECK(imap_section_parse(b.data, b.len, NULL, &s) == -1);
	CHECK(s.nfields == 0);
	buf_free(&b);
}

static void test_parse_partial(void)
{
	struct imap_section s;

	CHECK(imap_section_parse("", 0, "<0.100>", &s) == 0);
	CHECK(s.partial && s.offset == 0 && s.length == 100);
	CHECK(imap_section_parse("1.TEXT", 6, "<512.1>", &s) == 0);
	CHECK(s.partial && s.offset == 512 && s.length == 1);
	CHECK(imap_section_parse("", 0, "", &s) == 0 && !s.partial);
	CHECK(imap_section_parse("", 0, "<99999999999.9223372036854775807>", &s) == 0);
	CHECK(s.offset == 99999999999ull && s.length == 9223372036854775807ull);
	CHECK(imap_section_parse("", 0, "<0.9223372036854775808>", &s) == -1);   /* number64 */
	CHECK(imap_section_parse("", 0, "<18446744073709551616.1>", &s) == -1);
	CHECK(imap_section_parse("", 0, "<0.0>", &s) == -1);
	CHECK(imap_section_parse("", 0, "<0.010>", &s) == -1);
	CHECK(imap_section_parse("", 0, "<5>", &s) == -1);
	CHECK(imap_section_parse("", 0, "0.100", &s) == -1);
	CHECK(imap_section_parse("", 0, "<.5>", &s) == -1);
	CHECK(imap_section_parse("", 0, "<1.2>x", &s) == -1);
	CHECK(imap_section_parse("", 0, "<1.2", &s) == -1);
	CHECK(imap_section_parse("", 0, "<-1.2>", &s) == -1);
	/* a bad partial frees header names parsed before it */
	CHECK(imap_section_parse("HEADER.FIELDS (A B)", 19, "<x>", &s) == -1 && s.nfields == 0);
}

/* forward.eml: multipart/mixed (text/plain, message/rfc822 (text/plain)). */
static void test_fetch_top_level(void)
{
	size_t n;
	char *blob = ir_load("forward.eml", &n);
	struct buf want = BUF_INIT;

	CHECK(blob != NULL);
	ir_make(&m, PREFIX, blob, n);
	buf_puts(&want, PREFIX);
	buf_append(&want, blob, n);
	FETCH_IS("", 0, want.data);                                  /* BODY[]: prefix included */
	buf_truncate(&want, strlen(PREFIX) + 232);
	FETCH_IS("HEADER", 0, want.data);                            /* prefix + blob header */
	FETCH_IS("TEXT", 0, blob + 232);                             /* blob body */
	FETCH_IS("HEADER.FIELDS (From Subject)", 0,
		 "From: Frank <frank@example.com>\r\nSubject: Fwd: Meeting notes\r\n\r\n");
	FETCH_IS("HEADER.FIELDS (subject FROM)", 0,                  /* header order, not list order */
		 "From: Frank <frank@example.com>\r\nSubject: Fwd: Meeting notes\r\n\r\n");
	FETCH_IS("HEADER.FIELDS (Delivered-To)", 0, PREFIX "\r\n");    /* the prefix is header */
	FETCH_IS("HEADER.FIELDS (X-None)", 0, "\r\n");
	FETCH_IS("HEADER.FIELDS.NOT (Delivered-To From To Subject Date Message-ID)", 0,
		 "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"fwd\"\r\n\r\n");
	buf_free(&want);
	free(blob);
}

static void test_fetch_parts(void)
{
	FETCH_IS("1", 0, "See below.");
	FETCH_IS("1.MIME", 0, "Content-Type: text/plain\r\n\r\n");
	FETCH_IS("2.MIME", 0, "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n");
	FETCH_IS("3", 1, "");
	FETCH_IS("1.1", 1, "");
	FETCH_IS("1.HEADER", 1, "");          /* text/plain has no message header */
	FETCH_IS("1.TEXT", 1, "");
	FETCH_IS("2.2", 1, "");
	FETCH_IS("2.1.1", 1, "");
	FETCH_IS("99.1.HEADER.FIELDS (From)", 1, "");
}

/* Sub-sections of the message/rfc822 part 2. */
static void test_fetch_rfc822_subsections(void)
{
	static const char inner_header[] =
		"From: Heidi <heidi@example.org>\r\nTo: Frank <frank@example.com>\r\n"
		"Subject: Meeting notes\r\nDate: Thu, 3 Aug 2023 16:00:00 +0200\r\n"
		"Message-ID: <inner-1@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
	static const char inner_text[] = "Notes:\r\n1. Budget\r\n2. Hiring";

	FETCH_IS("2", 0, "From: Heidi <heidi@example.org>\r\nTo: Frank <frank@example.com>\r\n"
		 "Subject: Meeting notes\r\nDate: Thu, 3 Aug 2023 16:00:00 +0200\r\n"
		 "Message-ID: <inner-1@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
		 "Notes:\r\n1. Budget\r\n2. Hiring");
	FETCH_IS("2.HEADER", 0, inner_header);
	FETCH_IS("2.TEXT", 0, inner_text);
	FETCH_IS("2.1", 0, inner_text);       /* part 1 of a non-multipart message: its body */
	FETCH_IS("2.HEADER.FIELDS (SUBJECT message-id)", 0,
		 "Subject: Meeting notes\r\nMessage-ID: <inner-1@example.org>\r\n\r\n");
	FETCH_IS("2.HEADER.FIELDS.NOT (From To Date Message-ID)", 0,
		 "Subject: Meeting notes\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
	FETCH_IS("2.HEADER.FIELDS (Delivered-To)", 0, "\r\n");   /* the prefix is not inner */
	ir_close(&m);
}

/* nested.eml: mixed(related(alternative(plain html) png) pdf). */
static void test_fetch_nested(void)
{
	size_t n;
	char *blob = ir_load("nested.eml", &n);
	int rc;
	const char *got;

	CHECK(blob != NULL);
	ir_make(&m, PREFIX, blob, n);
	FETCH_IS("1.1.1", 0, "Please find the report attached.");
	FETCH_IS("1.1.2", 0, "<p>Please find the report attached.<img src=\"cid:logo@x\"></p>");
	FETCH_IS("1.2.MIME", 0, "Content-Type: image/png; name=\"logo.png\"\r\n"
		 "Content-Transfer-Encoding: base64\r\nContent-ID: <logo@x>\r\n"
		 "Content-Disposition: inline; filename=\"logo.png\"\r\n\r\n");
	FETCH_IS("1.MIME", 0, "Content-Type: multipart/related; boundary=\"rel\"\r\n\r\n");
	/* BODY[1] of a multipart: the part's body, offsets shifted past the
	 * prefix, which is not in it */
	got = ir_fetch(&m, "1", 0, &rc, NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(strlen(got), 625);
	CHECK(memcmp(got, blob + 350, 625) == 0);
	CHECK(strncmp(got, "--rel\r\nContent-Type: multipart/alternative", 42) == 0);
	CHECK(strcmp(got + 625 - 9, "--rel--\r\n") == 0);
	got = ir_fetch(&m, "2", 0, &rc, NULL);
	CHECK(rc == 0 && strncmp(got, "JVBERi0xLjQK", 12) == 0 && strlen(got) == 2824);
	FETCH_IS("1.1.3", 1, "");
	FETCH_IS("3", 1, "");
	FETCH_IS("2.HEADER", 1, "");
	free(blob);
}

/* BINARY of base64 parts: the PNG and the PDF (2064 octets, as Python's
 * base64 module decodes the same body). */
static void test_binary_base64(void)
{
	int rc;
	size_t len;
	const char *got;

	got = ir_fetch(&m, "1.2", 1, &rc, &len);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(len, 108);
	CHECK(memcmp(got, "\x89PNG\r\n\x1a\n\0\0", 10) == 0);
	got = ir_fetch(&m, "2", 1, &rc, &len);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(len, 2064);
	CHECK(memcmp(got, "%PDF-1.4\n", 9) == 0 && memcmp(got + len - 6, "%%EOF\n", 6) == 0);
	/* 7bit and 8bit pass through */
	got = ir_fetch(&m, "1.1.1", 1, &rc, &len);
	CHECK(rc == 0 && strcmp(got, "Please find the report attached.") == 0);
	got = ir_fetch(&m, "1", 1, &rc, &len);
	CHECK(rc == 0 && len == 625);
	got = ir_fetch(&m, "", 1, &rc, &len);
	CHECK(rc == 0 && len == m.len && memcmp(got, PREFIX, strlen(PREFIX)) == 0);
	got = ir_fetch(&m, "9", 1, &rc, &len);
	CHECK(rc == 1 && len == 0);
	got = ir_fetch(&m, "1.MIME", 1, &rc, &len);   /* not a BINARY section */
	CHECK(rc == -1);
	ir_close(&m);
}

static void test_binary_qp(void)
{
	int rc;
	size_t len;
	const char *got;

	CHECK(ir_open(&m, "alternative.eml", PREFIX));
	got = ir_fetch(&m, "1", 1, &rc, &len);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(got, "Thank you for your order! Total: 12\xe2\x82\xac. Caf\xc3\xa9 opens at nine.\r\n");
	got = ir_fetch(&m, "2", 1, &rc, &len);
	CHECK_EQ_STR(got, "<html><body><p>Thank you for your <b>order</b>!</p></body></html>\r\n");
	ir_close(&m);
}

/* RFC 2045 6.7 corner cases: trailing whitespace, soft breaks with
 * whitespace after '=', stray '=', lower-case hex, a missing final CRLF. */
static void test_binary_qp_edges(void)
{
	static const char blob[] = "Content-Transfer-Encoding: Quoted-Printable\r\n\r\n"
				   "a=3Db  \r\nc=\r\nd=  \r\n=zz=4\r\n=c3=a9 x\t=\nend  ";
	int rc;
	const char *got;

	ir_make(&m, PREFIX, blob, sizeof blob - 1);
	got = ir_fetch(&m, "1", 1, &rc, NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_STR(got, "a=b\r\ncd=zz=4\r\n\xc3\xa9 x\tend");
	ir_close(&m);
}

static void test_binary_unknown_cte(void)
{
	static const char blob[] = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
				   "Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n--b--\r\n";
	int rc;

	ir_make(&m, "", blob, sizeof blob - 1);
	ir_fetch(&m, "1", 1, &rc, NULL);
	CHECK_EQ_INT(rc, -2);
	FETCH_IS("1", 0, "begin 644 x");     /* BODY[1] still works */
	ir_close(&m);
}

/* A message whose body is message/rfc822: 1 is the inner message, 1.1
 * its body, 1.HEADER its header. */
static void test_fetch_top_level_message(void)
{
	static const char blob[] = "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nhi";

	ir_make(&m, PREFIX, blob, sizeof blob - 1);
	FETCH_IS("1", 0, "Subject: inner\r\n\r\nhi");
	FETCH_IS("1.1", 0, "hi");
	FETCH_IS("1.HEADER", 0, "Subject: inner\r\n\r\n");
	FETCH_IS("1.TEXT", 0, "hi");
	FETCH_IS("1.MIME", 0, PREFIX "Content-Type: message/rfc822\r\n\r\n");
	FETCH_IS("HEADER", 0, PREFIX "Content-Type: message/rfc822\r\n\r\n");
	FETCH_IS("TEXT", 0, "Subject: inner\r\n\r\nhi");
	FETCH_IS("1.2", 1, "");
	FETCH_IS("1.1.1", 1, "");
	ir_close(&m);
}

/* Folded fields come back folded; whitespace before ':' still matches;
 * a simple message's part 1 is its body. */
static void test_fetch_folded_fields(void)
{
	static const char blob[] = "Subject: one\r\n two\r\n\tthree\r\nX-Spam  : yes\r\n"
				   "Received: a\r\n b\r\n\r\nbody\r\n";

	ir_make(&m, PREFIX, blob, sizeof blob - 1);
	FETCH_IS("HEADER.FIELDS (subject x-spam)", 0, "Subject: one\r\n two\r\n\tthree\r\nX-Spam  : yes\r\n\r\n");
	FETCH_IS("HEADER.FIELDS.NOT (Subject X-Spam)", 0, PREFIX "Received: a\r\n b\r\n\r\n");
	FETCH_IS("1", 0, "body\r\n");
	FETCH_IS("TEXT", 0, "body\r\n");
	FETCH_IS("1.MIME", 0, PREFIX "Subject: one\r\n two\r\n\tthree\r\nX-Spam  : yes\r\n"
		 "Received: a\r\n b\r\n\r\n");
	ir_close(&m);
}

/* Bare LF lines come back as stored; no blank line, none appended. */
static void test_fetch_odd_line_ends(void)
{
	CHECK(ir_open(&m, "bare-lf.eml", ""));
	FETCH_IS("HEADER.FIELDS (Subject)", 0, "Subject: bare LF\n\n");
	FETCH_IS("1", 0, "unix line ends");
	ir_close(&m);
	CHECK(ir_open(&m, "headers-only.eml", PREFIX));
	FETCH_IS("HEADER.FIELDS (Subject)", 0, "Subject: headers only");
	FETCH_IS("TEXT", 0, "");
	FETCH_IS("1", 0, "");
	ir_close(&m);
	CHECK(ir_open(&m, "digest.eml", PREFIX));
	FETCH_IS("1", 0, "From: a@example.com\r\nSubject: first\r\n\r\none");
	FETCH_IS("1.MIME", 0, "\r\n");
	FETCH_IS("1.HEADER.FIELDS (subject)", 0, "Subject: first\r\n\r\n");
	FETCH_IS("2.1", 0, "two");
	ir_close(&m);
}

/* A summary that does not fit the message is an error, not a crash. */
static void test_fetch_bad_summary(void)
{
	static const char msg[] = "Subject: x\r\n\r\nhi";
	struct imap_section s;
	struct buf b = BUF_INIT;
	json_t *sum = json_loads("{\"part\": {\"type\": \"text\", \"subtype\": \"plain\","
		" \"header\": [0, 14], \"body\": [14, 99]}}", 0, NULL);

	CHECK(imap_section_parse("TEXT", 4, NULL, &s) == 0);
	CHECK_EQ_INT(imap_section_fetch(msg, sizeof msg - 1, 0, sum, &s, &b), -1);
	CHECK(imap_section_parse("1", 1, NULL, &s) == 0);
	CHECK_EQ_INT(imap_binary_fetch(msg, sizeof msg - 1, 0, sum, &s, &b), -1);
	CHECK_EQ_INT(imap_section_fetch(msg, sizeof msg - 1, 0, NULL, &s, &b), 1);
	CHECK(imap_section_parse("HEADER", 6, NULL, &s) == 0);
	CHECK_EQ_INT(imap_section_fetch(msg, sizeof msg - 1, 99, sum, &s, &b), -1);
	json_decref(sum);
	CHECK(b.len == 0);
	buf_free(&b);
}

/* A header line that is no field (mime.c would end the header there, but a
 * summary need not come from it) is dropped with its continuation. */
static void test_fetch_not_a_field(void)
{
	static const char msg[] = "A: 1\r\nnot a field\r\n cont\r\nB: 2\r\n\r\nx";
	struct imap_section s;
	struct buf b = BUF_INIT;
	json_t *sum = json_loads("{\"part\": {\"type\": \"text\", \"subtype\": \"plain\","
		" \"header\": [0, 35], \"body\": [35, 36]}}", 0, NULL);

	CHECK(imap_section_parse("HEADER.FIELDS.NOT (A)", 21, NULL, &s) == 0);
	CHECK_EQ_INT(imap_section_fetch(msg, sizeof msg - 1, 0, sum, &s, &b), 0);
	imap_section_free(&s);
	json_decref(sum);
	CHECK_EQ_STR(ir_take(&b), "B: 2\r\n\r\n");
}

int main(void)
{
	test_run("parse_valid", test_parse_valid);
	test_run("parse_header_fields", test_parse_header_fields);
	test_run("parse_invalid", test_parse_invalid);
	test_run("parse_limits", test_parse_limits);
	test_run("parse_partial", test_parse_partial);
	test_run("fetch_top_level", test_fetch_top_level);
	test_run("fetch_parts", test_fetch_parts);
	test_run("fetch_rfc822_subsections", test_fetch_rfc822_subsections);
	test_run("fetch_nested", test_fetch_nested);
	test_run("binary_base64", test_binary_base64);
	test_run("binary_qp", test_binary_qp);
	test_run("binary_qp_edges", test_binary_qp_edges);
	test_run("binary_unknown_cte", test_binary_unknown_cte);
	test_run("fetch_top_level_message", test_fetch_top_level_message);
	test_run("fetch_folded_fields", test_fetch_folded_fields);
	test_run("fetch_odd_line_ends", test_fetch_odd_line_ends);
	test_run("fetch_bad_summary", test_fetch_bad_summary);
	test_run("fetch_not_a_field", test_fetch_not_a_field);
	ir_close(&m);
	return test_done();
}

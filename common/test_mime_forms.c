/* test_mime_forms - JMAP header forms (RFC 8621 4.1.2) and the header
 * field list (4.1.3), with the RFC's own examples where it gives some. */
#include "common/mime_forms.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

/* A form of a raw value, encoded compactly (static). */
static const char *form(const char *raw, enum mime_form f)
{
	static char out[4096];
	json_t *j = mime_header_form(raw, strlen(raw), f);
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);

	snprintf(out, sizeof out, "%s", s != NULL ? s : "(unencodable)");
	free(s);
	json_decref(j);
	return out;
}

static void test_fields(void)
{
	const char block[] = "From: Joe <joe@x.test>\r\nSubject: hi\r\n there\r\nX-Empty:\r\n"
			     " not a field\r\nbroken line\r\nTo : a@b\r\n\r\nBody: no\r\n";
	json_t *l = mime_header_fields(block, sizeof block - 1);
	char *s = json_dumps(l, JSON_COMPACT | JSON_PRESERVE_ORDER);

	CHECK_EQ_STR(s, "[{\"name\":\"From\",\"value\":\" Joe <joe@x.test>\"},"
			"{\"name\":\"Subject\",\"value\":\" hi\\r\\n there\"},"
			"{\"name\":\"X-Empty\",\"value\":\"\\r\\n not a field\"},"
			"{\"name\":\"To\",\"value\":\" a@b\"}]");
	free(s);
	json_decref(l);
	/* Bare LF, no blank line, a last field without its line end. */
	l = mime_header_fields("A: 1\nB: 2", 9);
	s = json_dumps(l, JSON_COMPACT | JSON_PRESERVE_ORDER);
	CHECK_EQ_STR(s, "[{\"name\":\"A\",\"value\":\" 1\"},{\"name\":\"B\",\"value\":\" 2\"}]");
	free(s);
	json_decref(l);
	l = mime_header_fields("", 0);
	CHECK_EQ_INT(json_array_size(l), 0);
	json_decref(l);
}

static void test_text(void)
{
	CHECK_EQ_STR(form(" =?utf-8?q?caf=C3=A9?=\r\n  au lait ", MIME_FORM_TEXT), "\"café  au lait\"");
	CHECK_EQ_STR(form("  plain ", MIME_FORM_TEXT), "\"plain\"");
	/* Not UTF-8: read as Windows-1252. */
	CHECK_EQ_STR(form(" caf\xe9", MIME_FORM_TEXT), "\"café\"");
	CHECK_EQ_STR(form(" hi\r\n there", MIME_FORM_RAW), "\" hi\\r\\n there\"");
}

static void test_addresses(void)
{
	CHECK_EQ_STR(form(" \"Joe Q. Public\" <john.q.public@example.com>, Mary <mary@x.test>",
			  MIME_FORM_ADDRESSES),
		     "[{\"name\":\"Joe Q. Public\",\"email\":\"john.q.public@example.com\"},"
		     "{\"name\":\"Mary\",\"email\":\"mary@x.test\"}]");
	CHECK_EQ_STR(form(" jdoe@one.test (John Doe)", MIME_FORM_ADDRESSES),
		     "[{\"name\":\"John Doe\",\"email\":\"jdoe@one.test\"}]");
	/* RFC 8621 4.1.2.4: groups, and ungrouped addresses in a null group. */
	CHECK_EQ_STR(form(" A Group: Ed <ed@x.test>, jo@y.test; z@w.test", MIME_FORM_GROUPED_ADDRESSES),
		     "[{\"name\":\"A Group\",\"addresses\":[{\"name\":\"Ed\",\"email\":\"ed@x.test\"},"
		     "{\"name\":null,\"email\":\"jo@y.test\"}]},"
		     "{\"name\":null,\"addresses\":[{\"name\":null,\"email\":\"z@w.test\"}]}]");
	CHECK_EQ_STR(form(" A Group: Ed <ed@x.test>, jo@y.test; z@w.test", MIME_FORM_ADDRESSES),
		     "[{\"name\":\"Ed\",\"email\":\"ed@x.test\"},{\"name\":null,\"email\":\"jo@y.test\"},"
		     "{\"name\":null,\"email\":\"z@w.test\"}]");
	CHECK_EQ_STR(form(" Undisclosed recipients:;", MIME_FORM_GROUPED_ADDRESSES),
		     "[{\"name\":\"Undisclosed recipients\",\"addresses\":[]}]");
	CHECK_EQ_STR(form("", MIME_FORM_ADDRESSES), "[]");
}

static void test_ids_dates_urls(void)
{
	CHECK_EQ_STR(form(" <a@b.test>\r\n <c@d.test>", MIME_FORM_MESSAGE_IDS), "[\"a@b.test\",\"c@d.test\"]");
	CHECK_EQ_STR(form(" garbage", MIME_FORM_MESSAGE_IDS), "null");
	CHECK_EQ_STR(form(" Tue, 1 Jul 2003 10:52:37 +0200", MIME_FORM_DATE), "\"2003-07-01T08:52:37Z\"");
	CHECK_EQ_STR(form(" 31 Feb 2003 10:52:37 +0200", MIME_FORM_DATE), "null");
	CHECK_EQ_STR(form(" soon", MIME_FORM_DATE), "null");
	CHECK_EQ_STR(form(" <http://x.test/a>, (comment) <mailto:b@c.test?subject=a%20b>", MIME_FORM_URLS),
		     "[\"http://x.test/a\",\"mailto:b@c.test?subject=a%20b\"]");
	CHECK_EQ_STR(form(" <http://x.test/\r\n  folded>", MIME_FORM_URLS), "[\"http://x.test/folded\"]");
	CHECK_EQ_STR(form(" http://x.test", MIME_FORM_URLS), "null");
	CHECK_EQ_STR(form(" <http://x.test", MIME_FORM_URLS), "null");
	CHECK_EQ_STR(form(" <a:b> junk", MIME_FORM_URLS), "null");
	CHECK_EQ_STR(form("", MIME_FORM_URLS), "null");
}

static void test_allowed(void)
{
	enum mime_form f = MIME_FORM_RAW;

	CHECK_EQ_INT(mime_form_parse("asGroupedAddresses", &f), 0);
	CHECK_EQ_INT(f, MIME_FORM_GROUPED_ADDRESSES);
	CHECK_EQ_INT(mime_form_parse("asURLs", &f), 0);
	CHECK_EQ_INT(f, MIME_FORM_URLS);
	CHECK_EQ_INT(mime_form_parse("asFoo", &f), -1);
	CHECK_EQ_INT(mime_form_parse("asurls", &f), -1);
	CHECK_EQ_INT(mime_form_allowed("FROM", MIME_FORM_ADDRESSES), 1);
	CHECK_EQ_INT(mime_form_allowed("from", MIME_FORM_GROUPED_ADDRESSES), 1);
	CHECK_EQ_INT(mime_form_allowed("Subject", MIME_FORM_ADDRESSES), 0);
	CHECK_EQ_INT(mime_form_allowed("Subject", MIME_FORM_TEXT), 1);
	CHECK_EQ_INT(mime_form_allowed("Date", MIME_FORM_DATE), 1);
	CHECK_EQ_INT(mime_form_allowed("Date", MIME_FORM_TEXT), 0);
	CHECK_EQ_INT(mime_form_allowed("References", MIME_FORM_MESSAGE_IDS), 1);
	CHECK_EQ_INT(mime_form_allowed("List-Post", MIME_FORM_URLS), 1);
	CHECK_EQ_INT(mime_form_allowed("List-Id", MIME_FORM_URLS), 0);
	CHECK_EQ_INT(mime_form_allowed("Received", MIME_FORM_TEXT), 0);
	CHECK_EQ_INT(mime_form_allowed("Received", MIME_FORM_RAW), 1);
	CHECK_EQ_INT(mime_form_allowed("X-Anything", MIME_FORM_DATE), 1);
	CHECK_EQ_INT(mime_form_allowed("X-Anything", MIME_FORM_URLS), 1);
}

int main(void)
{
	test_run("header field list", test_fields);
	test_run("asText and asRaw", test_text);
	test_run("asAddresses and asGroupedAddresses", test_addresses);
	test_run("asMessageIds, asDate, asURLs", test_ids_dates_urls);
	test_run("form names and where each is allowed", test_allowed);
	return test_done();
}

/* test_jmap_mime_write - the MIME writer and the Email builder: header
 * fields folded and encoded so that the MIME parser reads back exactly
 * what was written (RFC 2047, RFC 2231), CRLF everywhere and no header
 * line over 998 octets, bodies back byte for byte through Email/get's
 * own readers (jmap_email_body.h), the multipart shapes of RFC 8621 4.6,
 * and every invalidProperties / blobNotFound / tooLarge path. */
#include "gateway/jmap/jmap_email_body.h"
#include "gateway/jmap/jmap_email_build.h"
#include "gateway/jmap/jmap_email_header.h"
#include "gateway/jmap/jmap_mime_write.h"
#include "common/mime.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

static const char bin[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe=_evm--";
#define BIN_LEN (sizeof bin - 1)

/* The fake blob store: "Gbin" is binary data, "Gmsg" a message. */
static int fetch(void *ctx, const char *id, char **data_r, size_t *len_r, const char **error_r)
{
	(void)ctx;
	if (strcmp(id, "Gbin") == 0) {
		*data_r = malloc(BIN_LEN);
		memcpy(*data_r, bin, BIN_LEN);
		*len_r = BIN_LEN;
		return 1;
	}
	if (strcmp(id, "Gmsg") == 0) {
		*data_r = strdup("Subject: inner\r\n\r\n--=_evm0000 is not a boundary\r\n");
		*len_r = strlen(*data_r);
		return 1;
	}
	if (strcmp(id, "Gfail") == 0) {
		*error_r = "disk";
		return -1;
	}
	return 0;
}

static const struct jmap_email_build_params params = {
	.fetch = fetch, .now_ms = 1700000000000, .message_id = "id1@acme.test", .max_size = 100000,
};

/* CRLF only, header lines at most 998 octets, and (fold) at most 78 where
 * a line has a space to fold at. */
static int well_formed(const char *m, size_t len, int fold)
{
	size_t line = 0, hdr_end = len;
	const char *e = strstr(m, "\r\n\r\n");

	if (e != NULL)
		hdr_end = (size_t)(e - m);
	for (size_t i = 0; i < len; i++) {
		if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
			return 0;
		if (m[i] == '\r' && (i + 1 >= len || m[i + 1] != '\n'))
			return 0;
		if (m[i] == '\r') {
			if (i < hdr_end && (line > 998 || (fold && line > 78 && memchr(m + i - line, ' ', line) != NULL &&
							       memchr(m + i - line + 1, ' ', line - 1) != NULL)))
				return 0;
			line = 0;
			i++;
			continue;
		}
		line++;
	}
	return 1;
}

static void test_fields(void)
{
	struct buf b = BUF_INIT;
	const char *error = NULL;
	json_t *s, *addrs;
	char subject[400], date[40];
	int64_t ms;
	int off;

	/* Non-ASCII, double spaces, and a long one: each comes back as it was. */
	const char *texts[] = { "Grüße aus Köln, 東京 too", "two  spaces and a tab\there ", "plain =?x?Q?y?= trap",
				subject };
	memset(subject, 0, sizeof subject);
	for (int i = 0; i < 60; i++)
		strcat(subject, i % 7 == 3 ? "élan " : "word ");
	strcat(subject, "end");
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		buf_truncate(&b, 0);
		CHECK_EQ_INT(jmap_mime_field_text(&b, "Subject", texts[i], &error), 0);
		buf_puts(&b, "\r\nx\r\n");
		CHECK(well_formed(b.data, b.len, 1));
		s = mime_parse(b.data, b.len, NULL);
		CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(s, "headers"), "subject")), texts[i]);
		json_decref(s);
	}
	/* Addresses: a quoted name, an encoded one, a plain one. */
	addrs = json_pack("[{s:s,s:s},{s:s,s:s},{s:n,s:s}]", "name", "Doe, John \"JD\"", "email", "jd@x.test",
			  "name", "Jürgen Groß", "email", "jg@x.test", "name", "email", "bare@x.test");
	buf_truncate(&b, 0);
	CHECK_EQ_INT(jmap_mime_field_addresses(&b, "To", addrs, &error), 0);
	buf_puts(&b, "\r\n");
	s = mime_parse(b.data, b.len, NULL);
	{
		json_t *to = json_object_get(json_object_get(s, "headers"), "to");

		CHECK_EQ_INT(json_array_size(to), 3);
		CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(to, 0), "name")), "Doe, John \"JD\"");
		CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(to, 1), "name")), "Jürgen Groß");
		CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(to, 2), "email")), "bare@x.test");
	}
	json_decref(s);
	json_decref(addrs);
	/* Groups, one with an encoded name: white space before its ':'. */
	addrs = json_pack("[{s:s,s:[{s:s,s:s}]},{s:s,s:[]},{s:n,s:[{s:n,s:s}]}]", "name", "Équipe", "addresses",
			  "name", "A", "email", "a@x.test", "name", "Empty", "addresses", "name", "addresses", "name",
			  "email", "solo@x.test");
	buf_truncate(&b, 0);
	CHECK_EQ_INT(jmap_mime_field_groups(&b, "To", addrs, &error), 0);
	CHECK(strstr(b.data, "?= : A <a@x.test>;, Empty:;, solo@x.test\r\n") != NULL);
	buf_puts(&b, "\r\n");
	s = mime_parse(b.data, b.len, NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(s, "headers"), "to")), 2);
	json_decref(s);
	json_decref(addrs);
	/* Invalid emails and raw values are refused, out unchanged. */
	addrs = json_pack("[{s:s}]", "email", "no at sign");
	buf_truncate(&b, 0);
	CHECK_EQ_INT(jmap_mime_field_addresses(&b, "To", addrs, &error), -1);
	CHECK_EQ_INT(b.len, 0);
	json_decref(addrs);
	CHECK_EQ_INT(jmap_mime_field_raw(&b, "X-A", " a\nb", 4, &error), -1);
	CHECK_EQ_INT(jmap_mime_field_raw(&b, "X-A", " a\r\nb", 5, &error), -1);
	CHECK_EQ_INT(jmap_mime_field_raw(&b, "X-A", " a\r\n b", 6, &error), 0);
	CHECK_EQ_INT(jmap_mime_field_text(&b, "Bad Name", "x", &error), -1);
	/* Dates: RFC 3339 in, RFC 5322 with the same zone out. */
	CHECK_EQ_INT(jmap_mime_parse_date("2024-02-29T23:30:00+05:30", &ms, &off), 0);
	jmap_mime_format_date(ms, off, date);
	CHECK_EQ_STR(date, "Thu, 29 Feb 2024 23:30:00 +0530");
	CHECK_EQ_INT(jmap_mime_parse_date("2023-02-29T00:00:00Z", &ms, &off), -1);
	CHECK_EQ_INT(jmap_mime_parse_date("2023-01-01 00:00:00Z", &ms, &off), -1);
	jmap_mime_format_date(0, 0, date);
	CHECK_EQ_STR(date, "Thu, 01 Jan 1970 00:00:00 +0000");
	buf_free(&b);
}

/* The text of the EmailBodyValue of part id in message m. */
static char *value_of(const struct jmap_body_msg *m, json_t *root, const char *id)
{
	json_t *part = jmap_body_find(root, id), *v;
	char *s;

	if (part == NULL)
		return strdup("(no part)");
	v = jmap_body_value(m, part, 0);
	s = strdup(json_string_value(json_object_get(v, "value")));
	json_decref(v);
	return s;
}

static void test_email_lists(void)
{
	struct buf b = BUF_INIT;
	json_t *err = NULL, *s, *root, *props, *t, *h, *a, *email;
	struct jmap_body_msg m;
	struct buf content = BUF_INIT;
	char *v;

	email = json_loads("{\"mailboxIds\":{\"x\":true},\"subject\":\"Héllo wörld\","
			   "\"from\":[{\"name\":\"Ann\",\"email\":\"ann@acme.test\"}],"
			   "\"to\":[{\"name\":null,\"email\":\"bob@acme.test\"}],"
			   "\"header:X-Tag:asText\":\"ünï\","
			   "\"textBody\":[{\"partId\":\"t\"}],"
			   "\"htmlBody\":[{\"partId\":\"h\",\"type\":\"text/html\"}],"
			   "\"attachments\":[{\"blobId\":\"Gbin\",\"type\":\"image/png\",\"disposition\":\"attachment\","
			   "\"name\":\"résumé très long nom de fichier pour voir les continuations RFC 2231.png\"}],"
			   "\"bodyValues\":{\"t\":{\"value\":\"line one\\nline two é\\n\"},"
			   "\"h\":{\"value\":\"<p>hi</p>\"}}}", 0, NULL);
	CHECK(email != NULL);
	CHECK_EQ_INT(jmap_email_build(email, &params, &b, &err), 0);
	CHECK(err == NULL);
	CHECK(well_formed(b.data, b.len, 1));
	s = mime_parse(b.data, b.len, NULL);
	root = json_object_get(s, "part");
	CHECK_EQ_STR(json_string_value(json_object_get(root, "subtype")), "mixed");
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(s, "headers"), "subject")), "Héllo wörld");
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(json_object_get(s, "headers"), "message_id"), 0)),
		     "id1@acme.test");
	CHECK(strstr(b.data, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n") != NULL);
	CHECK(strstr(b.data, "MIME-Version: 1.0\r\n") != NULL);
	m.raw = b.data;
	m.raw_len = b.len;
	m.base = 0;
	m.blob_prefix = "mX";
	props = jmap_body_default_props();
	jmap_body_lists(&m, root, props, &t, &h, &a);
	CHECK_EQ_INT(json_array_size(t), 1);
	CHECK_EQ_INT(json_array_size(h), 1);
	CHECK_EQ_INT(json_array_size(a), 1);
	v = value_of(&m, root, json_string_value(json_object_get(json_array_get(t, 0), "partId")));
	CHECK_EQ_STR(v, "line one\r\nline two é\r\n");
	free(v);
	v = value_of(&m, root, json_string_value(json_object_get(json_array_get(h, 0), "partId")));
	CHECK_EQ_STR(v, "<p>hi</p>");
	free(v);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(a, 0), "name")),
		     "résumé très long nom de fichier pour voir les continuations RFC 2231.png");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(a, 0), "type")), "image/png");
	jmap_body_content(&m, jmap_body_find(root, json_string_value(json_object_get(json_array_get(a, 0), "partId"))),
			  &content);
	CHECK_EQ_INT(content.len, BIN_LEN);
	CHECK(memcmp(content.data, bin, BIN_LEN) == 0);
	{
		struct jmap_header_prop hp;
		json_t *x;

		CHECK(jmap_header_prop_parse("header:X-Tag:asText", &hp));
		x = jmap_header_prop_value(&hp, b.data, strstr(b.data, "\r\n\r\n") - b.data + 4);
		CHECK_EQ_STR(json_string_value(x), "ünï");
		json_decref(x);
	}
	json_decref(t);
	json_decref(h);
	json_decref(a);
	json_decref(props);
	json_decref(s);
	json_decref(email);
	buf_free(&content);
	buf_free(&b);
}

static void test_structure(void)
{
	struct buf b = BUF_INIT;
	json_t *err = NULL, *s, *root, *email;
	struct jmap_body_msg m;
	char *v;

	/* bodyStructure: a message/rfc822 whose text looks like a boundary,
	 * a text part from a bodyValue without a final line break. */
	email = json_loads("{\"sentAt\":\"2024-01-02T03:04:05-08:00\",\"messageId\":[\"mine@x\"],"
			   "\"bodyStructure\":{\"type\":\"multipart/mixed\",\"subParts\":["
			   "{\"partId\":\"a\",\"header:X-Part:asRaw\":\" raw\"},"
			   "{\"blobId\":\"Gmsg\",\"type\":\"message/rfc822\"},"
			   "{\"type\":\"multipart/alternative\",\"subParts\":[{\"partId\":\"b\"}]}]},"
			   "\"bodyValues\":{\"a\":{\"value\":\"no line end\"},\"b\":{\"value\":\"" "=?x?= =3D\"}}}", 0, NULL);
	CHECK(email != NULL);
	CHECK_EQ_INT(jmap_email_build(email, &params, &b, &err), 0);
	CHECK(well_formed(b.data, b.len, 1));
	CHECK(strstr(b.data, "Date: Tue, 02 Jan 2024 03:04:05 -0800\r\n") != NULL);
	CHECK(strstr(b.data, "Message-ID: <mine@x>\r\n") != NULL);
	CHECK(strstr(b.data, "id1@acme.test") == NULL);
	CHECK(strstr(b.data, "X-Part: raw\r\n") != NULL);
	s = mime_parse(b.data, b.len, NULL);
	root = json_object_get(s, "part");
	CHECK_EQ_INT(json_array_size(json_object_get(root, "parts")), 3);
	m.raw = b.data;
	m.raw_len = b.len;
	m.base = 0;
	m.blob_prefix = "mX";
	v = value_of(&m, root, "1");
	CHECK_EQ_STR(v, "no line end");
	free(v);
	v = value_of(&m, root, "3.1");
	CHECK_EQ_STR(v, "=?x?= =3D");
	free(v);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(root, "parts"), 1), "subtype")),
		     "rfc822");
	json_decref(s);
	json_decref(email);
	buf_free(&b);
}

/* The properties of an invalidProperties error, as one string. */
static const char *fails(const char *json, const char *type)
{
	static char out[256];
	struct buf b = BUF_INIT;
	json_t *email = json_loads(json, 0, NULL), *err = NULL;
	char *props;

	snprintf(out, sizeof out, "(built)");
	if (email == NULL)
		return "(bad json)";
	if (jmap_email_build(email, &params, &b, &err) < 0) {
		props = json_dumps(json_object_get(err, strcmp(type, "blobNotFound") == 0 ? "notFound" : "properties"),
				   JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(out, sizeof out, "%s %s", json_string_value(json_object_get(err, "type")),
			 props ? props : "-");
		free(props);
		if (b.len != 0)
			snprintf(out, sizeof out, "(wrote on failure)");
	}
	json_decref(err);
	json_decref(email);
	buf_free(&b);
	return out;
}

static void test_errors(void)
{
	CHECK_EQ_STR(fails("{\"headers\":[],\"id\":\"x\"}", ""), "invalidProperties [\"headers\",\"id\"]");
	CHECK_EQ_STR(fails("{\"from\":[],\"header:From:asAddresses\":[]}", ""),
		     "invalidProperties [\"header:From:asAddresses\"]");
	CHECK_EQ_STR(fails("{\"header:Content-Type\":\" text/plain\"}", ""), "invalidProperties [\"header:Content-Type\"]");
	CHECK_EQ_STR(fails("{\"header:Subject:asAddresses\":[]}", ""), "invalidProperties [\"header:Subject:asAddresses\"]");
	CHECK_EQ_STR(fails("{\"subject\":5}", ""), "invalidProperties [\"subject\"]");
	CHECK_EQ_STR(fails("{\"sentAt\":\"yesterday\"}", ""), "invalidProperties [\"sentAt\"]");
	CHECK_EQ_STR(fails("{\"to\":[{\"email\":\"a b@c\"}]}", ""), "invalidProperties [\"to\"]");
	CHECK_EQ_STR(fails("{\"textBody\":[{\"partId\":\"t\",\"type\":\"text/html\"}],\"bodyValues\":{\"t\":{\"value\":\"x\"}}}", ""),
		     "invalidProperties [\"textBody\"]");
	CHECK_EQ_STR(fails("{\"textBody\":[{\"partId\":\"zz\"}]}", ""), "invalidProperties [\"bodyValues\"]");
	CHECK_EQ_STR(fails("{\"textBody\":[{\"partId\":\"t\",\"charset\":\"latin1\"}],\"bodyValues\":{\"t\":{\"value\":\"x\"}}}", ""),
		     "invalidProperties [\"textBody\"]");
	CHECK_EQ_STR(fails("{\"textBody\":[{\"partId\":\"t\"}],\"bodyValues\":{\"t\":{\"value\":\"x\",\"isTruncated\":true}}}", ""),
		     "invalidProperties [\"textBody\"]");
	CHECK_EQ_STR(fails("{\"bodyStructure\":{\"partId\":\"t\"},\"textBody\":[]}", ""), "invalidProperties [\"bodyStructure\"]");
	CHECK_EQ_STR(fails("{\"bodyStructure\":{\"blobId\":\"Gbin\",\"partId\":\"t\"}}", ""),
		     "invalidProperties [\"bodyStructure\"]");
	CHECK_EQ_STR(fails("{\"bodyStructure\":{\"type\":\"text/plain\",\"subParts\":[]}}", ""),
		     "invalidProperties [\"bodyStructure\"]");
	CHECK_EQ_STR(fails("{\"bodyStructure\":{\"blobId\":\"Gbin\",\"header:Content-Transfer-Encoding\":\" x\"}}", ""),
		     "invalidProperties [\"bodyStructure\"]");
	CHECK_EQ_STR(fails("{\"bodyStructure\":{\"blobId\":\"Gbin\",\"headers\":[]}}", ""),
		     "invalidProperties [\"bodyStructure\"]");
	CHECK_EQ_STR(fails("{\"bodyStructure\":{\"blobId\":\"Gbin\",\"type\":\"no-slash\"}}", ""),
		     "invalidProperties [\"bodyStructure\"]");
	/* Found by fuzz_jmap_mime_write: a line break in a disposition. */
	CHECK_EQ_STR(fails("{\"attachments\":[{\"blobId\":\"Gbin\",\"disposition\":\"in\\nline\"}]}", ""),
		     "invalidProperties [\"attachments\"]");
	CHECK_EQ_STR(fails("{\"attachments\":[{\"blobId\":\"Gnone\"},{\"blobId\":\"Gother\"}]}", "blobNotFound"),
		     "blobNotFound [\"Gnone\",\"Gother\"]");
	CHECK_EQ_STR(fails("{\"attachments\":[{\"blobId\":\"Gfail\"}]}", ""), "serverFail -");
	/* Nesting deeper than max_depth. */
	{
		char deep[2048] = "{\"bodyStructure\":";

		for (int i = 0; i < 12; i++)
			strcat(deep, "{\"subParts\":[");
		strcat(deep, "{\"blobId\":\"Gbin\"}");
		for (int i = 0; i < 12; i++)
			strcat(deep, "]}");
		strcat(deep, "}");
		CHECK_EQ_STR(fails(deep, ""), "invalidProperties [\"bodyStructure\"]");
	}
	/* Bigger than max_size. */
	{
		struct buf big = BUF_INIT;

		buf_puts(&big, "{\"textBody\":[{\"partId\":\"t\"}],\"bodyValues\":{\"t\":{\"value\":\"");
		for (int i = 0; i < 12000; i++)
			buf_puts(&big, "0123456789");
		buf_puts(&big, "\"}}}");
		CHECK_EQ_STR(fails(big.data, ""), "tooLarge -");
		buf_free(&big);
	}
	/* An empty object is a valid, empty message. */
	CHECK_EQ_STR(fails("{\"mailboxIds\":{}}", ""), "(built)");
}

int main(void)
{
	test_run("fields", test_fields);
	test_run("email_lists", test_email_lists);
	test_run("structure", test_structure);
	test_run("errors", test_errors);
	return test_done();
}

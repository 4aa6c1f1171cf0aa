/* test_jmap_email_get - Email/get (RFC 8621 4.2) against a view filled by
 * the real appliers: every metadata property, the convenience and
 * header:*:as* properties (last instance, null when absent), the body
 * properties and bodyValues options, copies in two mailboxes whose flags
 * disagree, threads, and every error a client can provoke. */
#include "gateway/jmap/test_jmap_email_util.h"
#include "tests/unit/testlib.h"

#define M1                                                                                         \
	"From: Ann <ann@x.test>\r\nTo: Bob <bob@acme.test>\r\nCc: carl@x.test\r\n"                      \
	"Subject: =?utf-8?q?Caf=C3=A9_menu?=\r\nDate: Tue, 14 Nov 2023 10:00:00 +0200\r\n"             \
	"Message-ID: <m1@x.test>\r\nX-Custom: one\r\nX-Custom:  two\r\n"                                \
	"Content-Type: multipart/mixed; boundary=X\r\n\r\n"                                             \
	"--X\r\nContent-Type: multipart/alternative; boundary=Y\r\n\r\n"                                \
	"--Y\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" \
	"caf=C3=A9 au lait and more words\r\n"                                                          \
	"--Y\r\nContent-Type: text/html\r\n\r\n<p>cafe</p>\r\n--Y--\r\n"                                \
	"--X\r\nContent-Type: image/png; name=\"pic.png\"\r\nContent-Transfer-Encoding: base64\r\n"     \
	"Content-Disposition: attachment\r\n\r\naGVsbG8gd29ybGQ=\r\n--X--\r\n"

#define M2                                                                                  \
	"From: Bob <bob@acme.test>\r\nTo: ann@x.test\r\nSubject: first subject\r\n"              \
	"In-Reply-To: <m1@x.test>\r\nReferences: <m0@x.test> <m1@x.test>\r\n"                    \
	"Message-ID: <m2@x.test>\r\nSubject: second subject\r\n\r\nthanks\r\n"

#define M3 "From: Dee <dee@y.test>\r\nSubject: report\r\nMessage-ID: <m3@y.test>\r\n\r\nsee attached\r\n"

static char e1[33], e2[33], e3[33], e4[33], work[33], inbox[33];

static void fill(void)
{
	uint32_t uid_work;

	snprintf(work, sizeof work, "%s", "33333333333333333333333333333333");
	snprintf(e1, sizeof e1, "%s", deliver_flags("INBOX", M1, 1700000001000, "\\Seen", 0));
	snprintf(inbox, sizeof inbox, "%s", mailbox_id("INBOX"));
	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", work, "name", "Work"));
	snprintf(e2, sizeof e2, "%s", deliver("INBOX", M2, 1700000002000));
	snprintf(e3, sizeof e3, "%s", deliver(work, M3, 1700000003000));
	uid_work = last_uid();
	/* A copy in INBOX; flags that disagree: \Flagged on the INBOX copy,
	 * $Label (any case) on the Work copy, \Deleted on it too. */
	run("message.copy", json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", work, "uids", uid_work, uid_work,
				      "to_mailbox_id", inbox));
	store(inbox, 3, "add", "[\"\\\\Flagged\"]");
	store(work, uid_work, "add", "[\"$Label\", \"\\\\Deleted\"]");
	snprintf(e4, sizeof e4, "%s",
		 deliver_flags("INBOX", "Subject: big\r\n\r\nnot here yet\r\n", 1700000004000, NULL, 1));
}

static json_t *first(json_t *a)
{
	return json_array_get(json_object_get(a, "list"), 0);
}

static void test_default(void)
{
	json_t *a, *m;
	char blob[40];

	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"]},\"c\"]]", e1);
	CHECK(a != NULL);
	CHECK_EQ_STR(resp_name(), "Email/get");
	m = first(a);
	CHECK(m != NULL);
	/* 4.2 default properties, nothing else */
	CHECK_EQ_INT(json_object_size(m), 24);
	CHECK_EQ_STR(sget(m, "id"), e1);
	snprintf(blob, sizeof blob, "m%s", e1);
	CHECK_EQ_STR(sget(m, "blobId"), blob);
	CHECK_EQ_STR(sget(m, "threadId"), e1);
	CHECK_EQ_STR(jdump(json_object_get(m, "keywords")), "{\"$seen\":true}");
	CHECK_EQ_INT(json_object_size(json_object_get(m, "mailboxIds")), 1);
	CHECK(json_is_true(json_object_get(json_object_get(m, "mailboxIds"), inbox)));
	CHECK_EQ_INT(json_integer_value(json_object_get(m, "size")), (json_int_t)strlen(M1));
	CHECK_EQ_STR(sget(m, "receivedAt"), "2023-11-14T22:13:21Z");
	/* a Date (RFC 8620 1.4): the same instant; common/mime_forms gives it in Z */
	CHECK_EQ_STR(sget(m, "sentAt"), "2023-11-14T08:00:00Z");
	CHECK_EQ_STR(sget(m, "subject"), "Caf\xc3\xa9 menu");
	CHECK_EQ_STR(jdump(json_object_get(m, "from")), "[{\"email\":\"ann@x.test\",\"name\":\"Ann\"}]");
	CHECK_EQ_STR(jdump(json_object_get(m, "cc")), "[{\"email\":\"carl@x.test\",\"name\":null}]");
	CHECK(json_is_null(json_object_get(m, "bcc")));        /* absent: null, not [] */
	CHECK(json_is_null(json_object_get(m, "sender")));
	CHECK_EQ_STR(jdump(json_object_get(m, "messageId")), "[\"m1@x.test\"]");
	CHECK(json_is_null(json_object_get(m, "inReplyTo")));
	CHECK(json_is_true(json_object_get(m, "hasAttachment")));
	CHECK(strncmp(sget(m, "preview"), "caf\xc3\xa9 au lait", 12) == 0);
	CHECK_EQ_STR(jdump(json_object_get(m, "bodyValues")), "{}");
	CHECK_EQ_STR(sget(json_array_get(json_object_get(m, "textBody"), 0), "partId"), "1.1");
	CHECK_EQ_STR(sget(json_array_get(json_object_get(m, "htmlBody"), 0), "partId"), "1.2");
	CHECK_EQ_STR(sget(json_array_get(json_object_get(m, "attachments"), 0), "name"), "pic.png");
	CHECK_EQ_INT(json_array_size(json_object_get(m, "attachments")), 1);
	CHECK_EQ_STR(sget(a, "state"), sget(a, "state"));
	CHECK_EQ_INT(json_array_size(json_object_get(a, "notFound")), 0);
}

static void test_bodies(void)
{
	json_t *a, *m, *v;

	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"],\"properties\":[\"bodyValues\","
		 "\"bodyStructure\"],\"bodyProperties\":[\"partId\",\"type\"],\"fetchTextBodyValues\":true,"
		 "\"maxBodyValueBytes\":4}, \"c\"]]", e1);
	m = first(a);
	CHECK(m != NULL);
	CHECK_EQ_INT(json_object_size(m), 3);   /* and id */
	v = json_object_get(json_object_get(m, "bodyValues"), "1.1");
	/* 4 octets cut on a character boundary: "caf" and not half of é */
	CHECK_EQ_STR(jdump(v), "{\"isEncodingProblem\":false,\"isTruncated\":true,\"value\":\"caf\"}");
	CHECK_EQ_INT(json_object_size(json_object_get(m, "bodyValues")), 1);
	CHECK_EQ_STR(jdump(json_object_get(m, "bodyStructure")),
		     "{\"partId\":null,\"subParts\":[{\"partId\":null,\"subParts\":[{\"partId\":\"1.1\",\"subParts\":null,"
		     "\"type\":\"text/plain\"},{\"partId\":\"1.2\",\"subParts\":null,\"type\":\"text/html\"}],"
		     "\"type\":\"multipart/alternative\"},{\"partId\":\"2\",\"subParts\":null,\"type\":\"image/png\"}],"
		     "\"type\":\"multipart/mixed\"}");
	/* HTML values: the html part only; all: every text part. */
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"],\"properties\":[\"bodyValues\"],"
		 "\"fetchHTMLBodyValues\":true}, \"c\"]]", e1);
	/* (the CRLF before a boundary is the boundary's, RFC 2046 5.1.1) */
	CHECK_EQ_STR(jdump(json_object_get(first(a), "bodyValues")),
		     "{\"1.2\":{\"isEncodingProblem\":false,\"isTruncated\":false,\"value\":\"<p>cafe</p>\"}}");
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"],\"properties\":[\"bodyValues\"],"
		 "\"fetchAllBodyValues\":true}, \"c\"]]", e1);
	v = json_object_get(first(a), "bodyValues");
	CHECK_EQ_INT(json_object_size(v), 2);
	CHECK(strstr(sget(json_object_get(v, "1.1"), "value"), "au lait and more") != NULL);
	/* A single-part message: its part is "1". */
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"],\"properties\":[\"bodyValues\","
		 "\"textBody\",\"attachments\",\"hasAttachment\"],\"fetchAllBodyValues\":true}, \"c\"]]", e2);
	m = first(a);
	CHECK_EQ_STR(sget(json_object_get(json_object_get(m, "bodyValues"), "1"), "value"), "thanks\r\n");
	{
		char part_blob[48];

		snprintf(part_blob, sizeof part_blob, "m%s_1", e2);
		CHECK_EQ_STR(sget(json_array_get(json_object_get(m, "textBody"), 0), "blobId"), part_blob);
	}
	CHECK(json_is_false(json_object_get(m, "hasAttachment")));
	CHECK_EQ_INT(json_array_size(json_object_get(m, "attachments")), 0);
}

static void test_headers(void)
{
	json_t *a, *m;

	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"],\"properties\":[\"subject\","
		 "\"header:Subject:all\",\"header:subject:asText:all\",\"references\",\"inReplyTo\","
		 "\"header:X-Missing\",\"header:X-Missing:all\",\"header:From:asGroupedAddresses\"]},\"c\"]]", e2);
	m = first(a);
	CHECK(m != NULL);
	/* 4.1.3: the last instance; :all every one in order, raw or as text */
	CHECK_EQ_STR(sget(m, "subject"), "second subject");
	CHECK_EQ_STR(jdump(json_object_get(m, "header:Subject:all")), "[\" first subject\",\" second subject\"]");
	CHECK_EQ_STR(jdump(json_object_get(m, "header:subject:asText:all")), "[\"first subject\",\"second subject\"]");
	CHECK_EQ_STR(jdump(json_object_get(m, "references")), "[\"m0@x.test\",\"m1@x.test\"]");
	CHECK_EQ_STR(jdump(json_object_get(m, "inReplyTo")), "[\"m1@x.test\"]");
	CHECK(json_is_null(json_object_get(m, "header:X-Missing")));
	CHECK_EQ_STR(jdump(json_object_get(m, "header:X-Missing:all")), "[]");
	CHECK_EQ_STR(jdump(json_object_get(m, "header:From:asGroupedAddresses")),
		     "[{\"addresses\":[{\"email\":\"bob@acme.test\",\"name\":\"Bob\"}],\"name\":null}]");
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"],\"properties\":[\"headers\","
		 "\"header:X-Custom\",\"header:X-Custom:all\"]},\"c\"]]", e1);
	m = first(a);
	CHECK_EQ_STR(sget(m, "header:X-Custom"), "  two");
	CHECK_EQ_INT(json_array_size(json_object_get(m, "header:X-Custom:all")), 2);
	CHECK_EQ_INT(json_array_size(json_object_get(m, "headers")), 9);
	CHECK_EQ_STR(sget(json_array_get(json_object_get(m, "headers"), 0), "name"), "From");
	CHECK_EQ_STR(sget(json_array_get(json_object_get(m, "headers"), 0), "value"), " Ann <ann@x.test>");
}

static void test_copies_threads(void)
{
	json_t *a, *m;

	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\",\"%s\"],\"properties\":[\"mailboxIds\","
		 "\"keywords\",\"threadId\"]},\"c\"]]", e3, e2);
	CHECK(a != NULL);
	m = first(a);
	CHECK_EQ_STR(sget(m, "id"), e3);
	CHECK_EQ_INT(json_object_size(json_object_get(m, "mailboxIds")), 2);
	CHECK(json_is_true(json_object_get(json_object_get(m, "mailboxIds"), work)));
	/* the union of the copies' flags, lower-case, \Deleted is none */
	CHECK_EQ_STR(jdump(json_object_get(m, "keywords")), "{\"$flagged\":true,\"$label\":true}");
	/* the reply is in the first message's thread */
	CHECK_EQ_STR(sget(json_array_get(json_object_get(a, "list"), 1), "threadId"), e1);
	/* Expunging one copy leaves the other: one mailbox, its flags only. */
	run("message.expunge", json_pack("{s:s, s:[[i,i]]}", "mailbox_id", inbox, "uids", 3, 3));
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"],\"properties\":[\"mailboxIds\","
		 "\"keywords\"]},\"c\"]]", e3);
	m = first(a);
	CHECK_EQ_STR(jdump(json_object_get(m, "mailboxIds")), "{\"33333333333333333333333333333333\":true}");
	CHECK_EQ_STR(jdump(json_object_get(m, "keywords")), "{\"$label\":true}");
}

static void test_errors(void)
{
	json_t *a;

	/* unknown and duplicate ids */
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\",\"nope\",\"%s\",\"nope\","
		 "\"ffffffffffffffffffffffffffffffff\"],\"properties\":[\"id\"]},\"c\"]]", e1, e1);
	CHECK(a != NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "list")), 1);
	CHECK_EQ_STR(jdump(json_object_get(a, "notFound")), "[\"nope\",\"ffffffffffffffffffffffffffffffff\"]");
	/* ids null: every email (4 <= maxObjectsInGet 6), in id order */
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"properties\":[\"size\"]},\"c\"]]");
	CHECK_EQ_INT(json_array_size(json_object_get(a, "list")), 4);
	CHECK(strcmp(sget(json_array_get(json_object_get(a, "list"), 0), "id"),
		     sget(json_array_get(json_object_get(a, "list"), 1), "id")) < 0);
	/* properties and forms */
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[],\"properties\":[\"bogus\"]},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[],\"properties\":[\"header:From:asDate\"]},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[],\"properties\":[\"header:X:asBogus\"]},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[],\"bodyProperties\":[\"keywords\"]},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[],\"maxBodyValueBytes\":-1},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "requestTooLarge");
	a = call("[[\"Email/get\",{\"accountId\":\"a000000000000000000000000\",\"ids\":[]},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "accountNotFound");
	/* A message whose blob is not complete here: its metadata and
	 * summary answer, its body waits (serverUnavailable). */
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"],\"properties\":[\"preview\","
		 "\"keywords\",\"size\"]},\"c\"]]", e4);
	CHECK_EQ_STR(resp_name(), "Email/get");
	CHECK_EQ_STR(sget(first(a), "preview"), "not here yet");
	a = call("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"],\"properties\":[\"subject\"]},\"c\"]]", e4);
	CHECK_EQ_STR(sget(a, "type"), "serverUnavailable");
	/* More emails than maxObjectsInGet: ids null is too large. */
	deliver("INBOX", "Subject: 5\r\n\r\n5\r\n", 1700000005000);
	deliver("INBOX", "Subject: 6\r\n\r\n6\r\n", 1700000006000);
	deliver("INBOX", "Subject: 7\r\n\r\n7\r\n", 1700000007000);
	a = call("[[\"Email/get\",{\"accountId\":\"$A\"},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "requestTooLarge");
}

int main(void)
{
	email_setup(test_tmpdir("jmap-email-get"), 6);
	fill();
	test_run("Email/get: default properties", test_default);
	test_run("Email/get: bodyStructure, bodyValues options", test_bodies);
	test_run("Email/get: header forms, last instance, absent", test_headers);
	test_run("Email/get: copies in two mailboxes, keyword union, threads", test_copies_threads);
	test_run("Email/get: notFound, ids null, every error", test_errors);
	email_teardown();
	return test_done();
}

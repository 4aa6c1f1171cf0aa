/* test_jmap_email_body - Email body parts, bodyStructure, the textBody /
 * htmlBody / attachments algorithm of RFC 8621 4.1.4, body values and
 * header properties, over messages parsed by the real MIME parser. */
#include "gateway/jmap/jmap_email_body.h"
#include "gateway/jmap/jmap_email_header.h"
#include "common/buf.h"
#include "common/mime.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

static json_t *summary;
static struct jmap_body_msg msg;

static void load(const char *raw)
{
	json_decref(summary);
	summary = mime_parse(raw, strlen(raw), NULL);
	msg.raw = raw;
	msg.raw_len = strlen(raw);
	msg.base = 0;
	msg.blob_prefix = "mE";
}

static json_t *root(void)
{
	return json_object_get(summary, "part");
}

/* The part ids of a list, joined by spaces (static). */
static const char *ids(json_t *list)
{
	static char out[256];
	json_t *p;
	size_t i;

	out[0] = '\0';
	json_array_foreach(list, i, p) {
		strcat(out, i ? " " : "");
		strcat(out, json_is_string(json_object_get(p, "partId")) ?
				json_string_value(json_object_get(p, "partId")) : "null");
	}
	return out;
}

static char l_text[256], l_html[256], l_att[256];

static void lists(void)
{
	json_t *props = jmap_body_default_props(), *t, *h, *a;

	jmap_body_lists(&msg, root(), props, &t, &h, &a);
	snprintf(l_text, sizeof l_text, "%s", ids(t));
	snprintf(l_html, sizeof l_html, "%s", ids(h));
	snprintf(l_att, sizeof l_att, "%s", ids(a));
	json_decref(t);
	json_decref(h);
	json_decref(a);
	json_decref(props);
}

static const char *dump(json_t *j)
{
	static char out[2048];
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	snprintf(out, sizeof out, "%s", s ? s : "(null)");
	free(s);
	json_decref(j);
	return out;
}

static void test_single(void)
{
	json_t *props = json_pack("[s,s,s,s,s,s]", "partId", "blobId", "size", "type", "charset", "subParts");

	load("From: a@b.test\r\nSubject: hi\r\n\r\nhello\r\n");
	CHECK_EQ_STR(dump(jmap_body_part(&msg, root(), "", props)),
		     "{\"blobId\":\"mE_1\",\"charset\":\"us-ascii\",\"partId\":\"1\",\"size\":7,"
		     "\"subParts\":null,\"type\":\"text/plain\"}");
	json_decref(props);
	lists();
	CHECK_EQ_STR(l_text, "1");
	CHECK_EQ_STR(l_html, "1");
	CHECK_EQ_STR(l_att, "");
}

#define MIXED                                                                                 \
	"From: a@b.test\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n"                     \
	"--X\r\nContent-Type: multipart/alternative; boundary=Y\r\n\r\n"                          \
	"--Y\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" \
	"caf=C3=A9 au lait\r\n"                                                                   \
	"--Y\r\nContent-Type: text/html\r\n\r\n<p>cafe</p>\r\n--Y--\r\n"                          \
	"--X\r\nContent-Type: image/png; name=\"=?utf-8?q?b=C3=A9.png?=\"\r\n"                    \
	"Content-Transfer-Encoding: base64\r\nContent-ID: <img1@x>\r\n"                           \
	"Content-Disposition: attachment\r\n\r\naGVsbG8gd29ybGQ=\r\n"                             \
	"--X\r\nContent-Type: text/plain; name=notes.txt\r\n\r\nnotes\r\n--X--\r\n"

static void test_mixed(void)
{
	json_t *props = json_pack("[s,s,s,s,s,s]", "partId", "blobId", "size", "name", "cid", "disposition");
	json_t *img;
	char prefix[32], part[32];
	struct buf b = BUF_INIT;

	load(MIXED);
	lists();
	CHECK_EQ_STR(l_text, "1.1");
	CHECK_EQ_STR(l_html, "1.2");
	/* The image is an attachment; the named text part after the first
	 * is too (4.1.4). */
	CHECK_EQ_STR(l_att, "2 3");
	img = jmap_body_find(root(), "2");
	CHECK(img != NULL);
	CHECK_EQ_STR(dump(jmap_body_part(&msg, img, "2", props)),
		     "{\"blobId\":\"mE_2\",\"cid\":\"img1@x\",\"disposition\":\"attachment\","
		     "\"name\":\"bé.png\",\"partId\":\"2\",\"size\":11}");
	CHECK(jmap_body_find(root(), "1") == NULL);      /* a multipart */
	CHECK(jmap_body_find(root(), "1.2") != NULL);
	CHECK(jmap_body_find(root(), "4") == NULL);
	CHECK(jmap_body_find(root(), "1.") == NULL);
	CHECK(jmap_body_find(root(), "x") == NULL);
	/* A part's blob id leads back to its decoded content. */
	CHECK_EQ_INT(jmap_body_blob_part("mE_1-2", prefix, sizeof prefix, part, sizeof part), 0);
	CHECK_EQ_STR(prefix, "mE");
	CHECK_EQ_STR(part, "1.2");
	CHECK_EQ_INT(jmap_body_blob_part("mE_2", prefix, sizeof prefix, part, sizeof part), 0);
	jmap_body_content(&msg, jmap_body_find(root(), part), &b);
	CHECK_EQ_INT(b.len, 11);
	CHECK(memcmp(b.data, "hello world", 11) == 0);
	buf_free(&b);
	CHECK_EQ_INT(jmap_body_blob_part("mE", prefix, sizeof prefix, part, sizeof part), -1);
	CHECK_EQ_INT(jmap_body_blob_part("mE_", prefix, sizeof prefix, part, sizeof part), -1);
	CHECK_EQ_INT(jmap_body_blob_part("mE_1.2", prefix, sizeof prefix, part, sizeof part), -1);
	json_decref(props);
	/* bodyStructure: the multipart root has no part or blob id. */
	props = json_pack("[s,s,s]", "partId", "type", "subParts");
	CHECK_EQ_STR(dump(jmap_body_part(&msg, root(), "", props)),
		     "{\"partId\":null,\"subParts\":[{\"partId\":null,\"subParts\":["
		     "{\"partId\":\"1.1\",\"subParts\":null,\"type\":\"text/plain\"},"
		     "{\"partId\":\"1.2\",\"subParts\":null,\"type\":\"text/html\"}],"
		     "\"type\":\"multipart/alternative\"},"
		     "{\"partId\":\"2\",\"subParts\":null,\"type\":\"image/png\"},"
		     "{\"partId\":\"3\",\"subParts\":null,\"type\":\"text/plain\"}],"
		     "\"type\":\"multipart/mixed\"}");
	json_decref(props);
}

static void test_alternatives(void)
{
	/* Only HTML in an alternative: it is the text body as well. */
	load("Content-Type: multipart/alternative; boundary=Y\r\n\r\n"
	     "--Y\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--Y--\r\n");
	lists();
	CHECK_EQ_STR(l_text, "1");
	CHECK_EQ_STR(l_html, "1");
	/* related: only the first part is a body, the image is attached. */
	load("Content-Type: multipart/related; boundary=R\r\n\r\n"
	     "--R\r\nContent-Type: text/html\r\n\r\n<img src=cid:i>\r\n"
	     "--R\r\nContent-Type: image/gif\r\nContent-ID: <i>\r\n\r\nGIF\r\n--R--\r\n");
	lists();
	CHECK_EQ_STR(l_text, "1");
	CHECK_EQ_STR(l_html, "1");
	CHECK_EQ_STR(l_att, "2");
	/* mixed text + inline image: a body part in both lists, and no
	 * attachment since both lists hold it. */
	load("Content-Type: multipart/mixed; boundary=M\r\n\r\n"
	     "--M\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
	     "--M\r\nContent-Type: image/jpeg\r\nContent-Disposition: inline\r\n\r\nJPG\r\n--M--\r\n");
	lists();
	CHECK_EQ_STR(l_text, "1 2");
	CHECK_EQ_STR(l_html, "1 2");
	CHECK_EQ_STR(l_att, "");
	/* An attached message is one attachment, not walked into. */
	load("Content-Type: multipart/mixed; boundary=M\r\n\r\n"
	     "--M\r\nContent-Type: text/plain\r\n\r\nfwd\r\n"
	     "--M\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody\r\n--M--\r\n");
	lists();
	CHECK_EQ_STR(l_text, "1");
	CHECK_EQ_STR(l_att, "2");
}

static void test_values(void)
{
	json_t *plain;

	load(MIXED);
	plain = jmap_body_find(root(), "1.1");
	CHECK_EQ_STR(dump(jmap_body_value(&msg, plain, 0)),
		     "{\"isEncodingProblem\":false,\"isTruncated\":false,\"value\":\"café au lait\"}");
	/* Cut on a character boundary: 4 octets would split the é. */
	CHECK_EQ_STR(dump(jmap_body_value(&msg, plain, 4)),
		     "{\"isEncodingProblem\":false,\"isTruncated\":true,\"value\":\"caf\"}");
	CHECK_EQ_STR(dump(jmap_body_value(&msg, plain, 5)),
		     "{\"isEncodingProblem\":false,\"isTruncated\":true,\"value\":\"café\"}");
	load("Content-Type: text/plain; charset=x-unknown-zz\r\n\r\nabc\r\n");
	CHECK_EQ_STR(dump(jmap_body_value(&msg, root(), 0)),
		     "{\"isEncodingProblem\":true,\"isTruncated\":false,\"value\":\"abc\\r\\n\"}");
	/* A summary whose offsets do not fit the message (wrong prefix). */
	msg.base = 1000;
	CHECK_EQ_STR(dump(jmap_body_value(&msg, root(), 0)),
		     "{\"isEncodingProblem\":true,\"isTruncated\":false,\"value\":\"\"}");
}

static void test_header_props(void)
{
	struct jmap_header_prop hp;
	const char block[] = "Subject: =?utf-8?q?h=C3=A9?=\r\nX-A: 1\r\nX-A: 2\r\nFrom: Ann <a@b.test>\r\n\r\n";

	CHECK_EQ_INT(jmap_header_prop_parse("header:Subject:asText", &hp), 1);
	CHECK_EQ_STR(dump(jmap_header_prop_value(&hp, block, sizeof block - 1)), "\"hé\"");
	CHECK_EQ_INT(jmap_header_prop_parse("header:x-a", &hp), 1);
	CHECK_EQ_STR(dump(jmap_header_prop_value(&hp, block, sizeof block - 1)), "\" 2\"");
	CHECK_EQ_INT(jmap_header_prop_parse("header:X-A:all", &hp), 1);
	CHECK_EQ_STR(dump(jmap_header_prop_value(&hp, block, sizeof block - 1)), "[\" 1\",\" 2\"]");
	CHECK_EQ_INT(jmap_header_prop_parse("header:From:asAddresses:all", &hp), 1);
	CHECK_EQ_STR(dump(jmap_header_prop_value(&hp, block, sizeof block - 1)),
		     "[[{\"email\":\"a@b.test\",\"name\":\"Ann\"}]]");
	CHECK_EQ_INT(jmap_header_prop_parse("header:X-None", &hp), 1);
	CHECK_EQ_STR(dump(jmap_header_prop_value(&hp, block, sizeof block - 1)), "null");
	/* Invalid: a form the field may not take, unknown form, bad names. */
	CHECK_EQ_INT(jmap_header_prop_parse("header:Subject:asAddresses", &hp), 0);
	CHECK_EQ_INT(jmap_header_prop_parse("header:Subject:asBogus", &hp), 0);
	CHECK_EQ_INT(jmap_header_prop_parse("header:Subject:all:asText", &hp), 0);
	CHECK_EQ_INT(jmap_header_prop_parse("header:", &hp), 0);
	CHECK_EQ_INT(jmap_header_prop_parse("header:A B", &hp), 0);
	CHECK_EQ_INT(jmap_header_prop_parse("headers", &hp), 0);
	CHECK_EQ_INT(jmap_body_prop_valid("subParts"), 1);
	CHECK_EQ_INT(jmap_body_prop_valid("header:Date:asDate"), 1);
	CHECK_EQ_INT(jmap_body_prop_valid("bodyValues"), 0);
}

int main(void)
{
	test_run("a single-part message", test_single);
	test_run("mixed: lists, parts, blob ids, bodyStructure", test_mixed);
	test_run("alternative, related, inline media, attached message", test_alternatives);
	test_run("body values: decoding, truncation, problems", test_values);
	test_run("header properties", test_header_props);
	json_decref(summary);
	return test_done();
}

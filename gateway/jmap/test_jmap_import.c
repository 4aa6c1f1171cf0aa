/* test_jmap_import - Email/import, Email/parse (RFC 8621 4.8, 4.9) and the
 * Quota methods (RFC 9425) through the engine on a real node (embedded
 * log, projector): imports into several mailboxes with keywords and a
 * receivedAt, read back from the store as IMAP sees it; duplicates,
 * quota, empty and unreadable blobs, bad mailboxes and keywords, ifInState;
 * parsed Emails with their header properties, body lists and values, and
 * part blobs; quota states that follow usage and the limit. */
#include "gateway/jmap/jmap_blob.h"
#include "projector/mail.h"

#include "gateway/jmap/test_jmap_node.h"

#define MSG                                                                                     \
	"From: Ann <ann@example.org>\r\nTo: bob@acme.test, Cy <cy@acme.test>\r\n"                  \
	"Subject: =?utf-8?q?caf=C3=A9?=\r\nDate: Thu, 30 Oct 2014 14:12:00 +0800\r\n"               \
	"Message-ID: <m1@example.org>\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n"         \
	"--X\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello there\r\n"                      \
	"--X\r\nContent-Type: message/rfc822\r\n\r\n"                                               \
	"From: inner@example.org\r\nSubject: inner\r\n\r\ninner body\r\n--X--\r\n"

static struct tjn_user bob, amy, cy;
static char inbox[33], work[33], upload_id[80];

struct stored {
	int done, status;
	char id[JMAP_BLOB_ID_MAX + 1];
};

static void stored_cb(void *ctx, int status, const char *blob_id, const char *error)
{
	struct stored *s = ctx;

	(void)error;
	s->done = 1;
	s->status = status;
	snprintf(s->id, sizeof s->id, "%s", blob_id != NULL ? blob_id : "");
}

static const char *upload(struct tjn_user *u, const char *data, size_t len)
{
	static struct stored s;

	memset(&s, 0, sizeof s);
	jmap_blob_upload(&u->req, "message/rfc822", data, len, stored_cb, &s);
	loop_until(&s.done);
	return s.status == 0 ? s.id : "(failed)";
}

static void mailbox_id(struct tjn_user *u, const char *name, char out[33])
{
	json_t *m = NULL;
	const char *error = NULL;

	if (mail_mailbox_by_name(node.view, u->req.address, name, &m, &error) != 1)
		abort();
	snprintf(out, 33, "%s", sget(m, "id"));
	json_decref(m);
}

/* Email/import of one EmailImport object (JSON) as u. */
static json_t *import1(struct tjn_user *u, const char *obj)
{
	char q[2048];

	snprintf(q, sizeof q, "[[\"Email/import\",{\"accountId\":\"%s\",\"emails\":{\"k\":%s}},\"i\"]]",
		 u->req.account_id, obj);
	return request(u, q);
}

static char email_id[33];

static void test_import(void)
{
	char obj[1024], empty[80];
	json_t *a, *e, *msgs = NULL, *m;
	const char *error = NULL;
	char state[64];

	snprintf(upload_id, sizeof upload_id, "%s", upload(&bob, MSG, strlen(MSG)));
	snprintf(obj, sizeof obj, "{\"blobId\":\"%s\",\"mailboxIds\":{\"%s\":true,\"%s\":true},"
		 "\"keywords\":{\"$Seen\":true,\"Project\":true},\"receivedAt\":\"2020-01-02T03:04:05Z\"}",
		 upload_id, inbox, work);
	a = import1(&bob, obj);
	CHECK(a != NULL);
	CHECK_EQ_STR(resp_name(0), "Email/import");
	e = json_object_get(json_object_get(a, "created"), "k");
	CHECK(e != NULL);
	snprintf(email_id, sizeof email_id, "%s", sget(e, "id"));
	CHECK_EQ_INT(strlen(email_id), 32);
	CHECK(sget(e, "blobId")[0] == 'm' && strcmp(sget(e, "blobId") + 1, email_id) == 0);
	CHECK_EQ_INT(strlen(sget(e, "threadId")), 32);
	CHECK_EQ_INT(json_integer_value(json_object_get(e, "size")), strlen(MSG));
	CHECK(strcmp(sget(a, "oldState"), sget(a, "newState")) != 0);
	CHECK(json_is_null(json_object_get(a, "notCreated")));
	snprintf(state, sizeof state, "%s", sget(a, "newState"));
	/* In both mailboxes, as IMAP sees it: \Seen, the keyword, the date. */
	CHECK(mail_messages(node.view, bob.req.address, work, 0, &msgs, &error) >= 0);
	CHECK_EQ_INT(json_array_size(msgs), 1);
	m = json_array_get(msgs, 0);
	CHECK_EQ_STR(dump(json_object_get(m, "flags")), "[\"\\\\Seen\"]");
	CHECK_EQ_STR(dump(json_object_get(m, "keywords")), "[\"project\"]");
	CHECK_EQ_INT(json_integer_value(json_object_get(m, "internal_date")), 1577934245000LL);
	CHECK_EQ_STR(sget(m, "email_id"), email_id);
	json_decref(msgs);
	CHECK(mail_messages(node.view, bob.req.address, inbox, 0, &msgs, &error) >= 0);
	CHECK_EQ_INT(json_array_size(msgs), 1);
	json_decref(msgs);
	/* Once is enough: the same bytes again are alreadyExists. */
	a = import1(&bob, obj);
	e = json_object_get(json_object_get(a, "notCreated"), "k");
	CHECK_EQ_STR(sget(e, "type"), "alreadyExists");
	CHECK_EQ_STR(sget(e, "existingId"), email_id);
	/* The attached message (a part blob) is a message of its own. */
	snprintf(obj, sizeof obj, "{\"blobId\":\"m%s_2\",\"mailboxIds\":{\"%s\":true}}", email_id, inbox);
	a = import1(&bob, obj);
	e = json_object_get(json_object_get(a, "created"), "k");
	CHECK(e != NULL);
	CHECK_EQ_INT(json_integer_value(json_object_get(e, "size")),
		     strlen("From: inner@example.org\r\nSubject: inner\r\n\r\ninner body"));   /* RFC 2046 5.1.1: the CRLF before a boundary is the boundary's */
	CHECK(strcmp(sget(e, "id"), email_id) != 0);
	/* Errors, one per creation. */
	/* Another account's blob is not found. */
	{
		char amy_inbox[33];

		mailbox_id(&amy, "INBOX", amy_inbox);
		snprintf(obj, sizeof obj, "{\"blobId\":\"%s\",\"mailboxIds\":{\"%s\":true}}", upload_id, amy_inbox);
		e = json_object_get(json_object_get(import1(&amy, obj), "notCreated"), "k");
		CHECK_EQ_STR(sget(e, "type"), "invalidProperties");
		CHECK_EQ_STR(dump(json_object_get(e, "properties")), "[\"blobId\"]");
	}
	snprintf(obj, sizeof obj, "{\"blobId\":\"%s\",\"mailboxIds\":{\"%032d\":true}}", upload_id, 5);
	e = json_object_get(json_object_get(import1(&bob, obj), "notCreated"), "k");
	CHECK_EQ_STR(sget(e, "type"), "invalidProperties");
	CHECK_EQ_STR(dump(json_object_get(e, "properties")), "[\"mailboxIds\"]");
	snprintf(obj, sizeof obj, "{\"blobId\":\"%s\",\"mailboxIds\":{\"%s\":true},\"keywords\":{\"a(b\":true}}",
		 upload_id, inbox);
	e = json_object_get(json_object_get(import1(&bob, obj), "notCreated"), "k");
	CHECK_EQ_STR(dump(json_object_get(e, "properties")), "[\"keywords\"]");
	snprintf(obj, sizeof obj, "{\"blobId\":\"%s\",\"mailboxIds\":{\"%s\":true},\"receivedAt\":\"2020-01-02\"}",
		 upload_id, inbox);
	e = json_object_get(json_object_get(import1(&bob, obj), "notCreated"), "k");
	CHECK_EQ_STR(dump(json_object_get(e, "properties")), "[\"receivedAt\"]");
	snprintf(empty, sizeof empty, "%s", upload(&bob, "", 0));
	snprintf(obj, sizeof obj, "{\"blobId\":\"%s\",\"mailboxIds\":{\"%s\":true}}", empty, inbox);
	CHECK_EQ_STR(sget(json_object_get(json_object_get(import1(&bob, obj), "notCreated"), "k"), "type"),
		     "invalidEmail");
	snprintf(obj, sizeof obj, "{\"blobId\":\"b%064d\",\"mailboxIds\":{\"%s\":true}}", 3, inbox);
	e = json_object_get(json_object_get(import1(&bob, obj), "notCreated"), "k");
	CHECK_EQ_STR(dump(json_object_get(e, "properties")), "[\"blobId\"]");
	/* ifInState: the Email state. */
	{
		char q[1024];

		snprintf(q, sizeof q, "[[\"Email/import\",{\"accountId\":\"%s\",\"ifInState\":\"1\",\"emails\":{}},\"i\"]]",
			 bob.req.account_id);
		CHECK_EQ_STR(sget(request(&bob, q), "type"), "stateMismatch");
	}
}

static void test_import_quota(void)
{
	char obj[1024], id[80], box[33];
	json_t *e;

	/* amy's quota is 100 octets: the message is larger. */
	mailbox_id(&amy, "INBOX", box);
	snprintf(id, sizeof id, "%s", upload(&amy, MSG, strlen(MSG)));
	snprintf(obj, sizeof obj, "{\"blobId\":\"%s\",\"mailboxIds\":{\"%s\":true}}", id, box);
	e = json_object_get(json_object_get(import1(&amy, obj), "notCreated"), "k");
	CHECK_EQ_STR(sget(e, "type"), "overQuota");
}

static void test_parse(void)
{
	char q[2048];
	json_t *a, *p, *inner, *tb;

	snprintf(q, sizeof q, "[[\"Email/parse\",{\"accountId\":\"%s\",\"blobIds\":[\"%s\",\"m%s_2\",\"b%064d\"],"
		 "\"fetchTextBodyValues\":true},\"p\"]]",
		 bob.req.account_id, upload_id, email_id, 4);
	a = request(&bob, q);
	CHECK(a != NULL);
	CHECK_EQ_STR(resp_name(0), "Email/parse");
	CHECK_EQ_INT(json_array_size(json_object_get(a, "notFound")), 1);
	CHECK(json_is_null(json_object_get(a, "notParsable")));
	p = json_object_get(json_object_get(a, "parsed"), upload_id);
	CHECK(p != NULL);
	CHECK_EQ_STR(sget(p, "subject"), "café");
	CHECK_EQ_STR(sget(p, "sentAt"), "2014-10-30T06:12:00Z");   /* asDate: in UTC */
	CHECK_EQ_STR(dump(json_object_get(p, "from")), "[{\"email\":\"ann@example.org\",\"name\":\"Ann\"}]");
	CHECK_EQ_INT(json_array_size(json_object_get(p, "to")), 2);
	CHECK_EQ_STR(dump(json_object_get(p, "messageId")), "[\"m1@example.org\"]");
	CHECK(json_is_null(json_object_get(p, "inReplyTo")));
	CHECK(json_is_true(json_object_get(p, "hasAttachment")));
	CHECK(strncmp(sget(p, "preview"), "hello there", 11) == 0);
	tb = json_object_get(p, "textBody");
	CHECK_EQ_INT(json_array_size(tb), 1);
	CHECK_EQ_STR(sget(json_array_get(tb, 0), "partId"), "1");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(p, "bodyValues"), "1")),
		     "{\"isEncodingProblem\":false,\"isTruncated\":false,\"value\":\"hello there\"}");
	/* The attachment's blob is a part of the parsed blob. */
	CHECK_EQ_INT(json_array_size(json_object_get(p, "attachments")), 1);
	{
		char expect[128];

		snprintf(expect, sizeof expect, "%s_2", upload_id);
		CHECK_EQ_STR(sget(json_array_get(json_object_get(p, "attachments"), 0), "blobId"), expect);
	}
	/* An attached message parses as one. */
	snprintf(q, sizeof q, "m%s_2", email_id);
	inner = json_object_get(json_object_get(a, "parsed"), q);
	CHECK(inner != NULL);
	CHECK_EQ_STR(sget(inner, "subject"), "inner");
	CHECK(json_object_get(inner, "id") == NULL);   /* not a default property */
}

static void test_parse_props(void)
{
	char q[2048];
	json_t *a, *p, *bs;

	snprintf(q, sizeof q, "[[\"Email/parse\",{\"accountId\":\"%s\",\"blobIds\":[\"%s\"],\"properties\":[\"id\","
		 "\"threadId\",\"mailboxIds\",\"size\",\"blobId\",\"header:X-None\",\"headers\",\"bodyStructure\"],"
		 "\"bodyProperties\":[\"partId\",\"type\"]},\"p2\"]]", bob.req.account_id, upload_id);
	a = request(&bob, q);
	p = json_object_get(json_object_get(a, "parsed"), upload_id);
	CHECK(p != NULL);
	CHECK(json_is_null(json_object_get(p, "id")) && json_is_null(json_object_get(p, "threadId")) &&
	      json_is_null(json_object_get(p, "mailboxIds")));
	CHECK(json_object_get(p, "id") != NULL);
	CHECK_EQ_INT(json_integer_value(json_object_get(p, "size")), strlen(MSG));
	CHECK_EQ_STR(sget(p, "blobId"), upload_id);
	CHECK(json_is_null(json_object_get(p, "header:X-None")));
	CHECK_EQ_INT(json_array_size(json_object_get(p, "headers")), 6);
	bs = json_object_get(p, "bodyStructure");
	CHECK_EQ_STR(sget(bs, "type"), "multipart/mixed");
	CHECK_EQ_INT(json_array_size(json_object_get(bs, "subParts")), 2);
	CHECK_EQ_STR(sget(json_array_get(json_object_get(bs, "subParts"), 1), "type"), "message/rfc822");
	/* Errors: unknown properties, missing blobIds, an empty blob. */
	snprintf(q, sizeof q, "[[\"Email/parse\",{\"accountId\":\"%s\",\"blobIds\":[],\"properties\":[\"bogus\"]},\"p\"]]",
		 bob.req.account_id);
	CHECK_EQ_STR(sget(request(&bob, q), "type"), "invalidArguments");
	snprintf(q, sizeof q, "[[\"Email/parse\",{\"accountId\":\"%s\"},\"p\"]]", bob.req.account_id);
	CHECK_EQ_STR(sget(request(&bob, q), "type"), "invalidArguments");
	snprintf(q, sizeof q, "[[\"Email/parse\",{\"accountId\":\"%s\",\"blobIds\":[\"%s\"]},\"p\"]]",
		 bob.req.account_id, upload(&bob, "", 0));
	CHECK_EQ_INT(json_array_size(json_object_get(request(&bob, q), "notParsable")), 1);
}

static void test_quota(void)
{
	char q[1024], state[64], obj[512], id[80];
	json_t *a, *quota;

	snprintf(q, sizeof q, "[[\"Quota/get\",{\"accountId\":\"%s\",\"ids\":null},\"q\"]]", bob.req.account_id);
	a = request(&bob, q);
	CHECK(a != NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "list")), 1);
	quota = json_array_get(json_object_get(a, "list"), 0);
	CHECK_EQ_STR(sget(quota, "id"), "mail-octets");
	CHECK_EQ_STR(sget(quota, "resourceType"), "octets");
	CHECK_EQ_STR(sget(quota, "scope"), "account");
	CHECK_EQ_INT(json_integer_value(json_object_get(quota, "hardLimit")), 1000000);
	CHECK_EQ_STR(dump(json_object_get(quota, "types")), "[\"Mail\"]");
	CHECK(json_integer_value(json_object_get(quota, "used")) > (json_int_t)strlen(MSG));
	snprintf(state, sizeof state, "%s", sget(a, "state"));
	/* No change, then usage only, then the limit. */
	snprintf(q, sizeof q, "[[\"Quota/changes\",{\"accountId\":\"%s\",\"sinceState\":\"%s\"},\"q\"]]",
		 bob.req.account_id, state);
	a = request(&bob, q);
	CHECK_EQ_STR(sget(a, "newState"), state);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "updated")), 0);
	snprintf(id, sizeof id, "%s", upload(&bob, "Subject: more\r\n\r\nx\r\n", 20));
	snprintf(obj, sizeof obj, "{\"blobId\":\"%s\",\"mailboxIds\":{\"%s\":true}}", id, inbox);
	CHECK(json_object_get(json_object_get(import1(&bob, obj), "created"), "k") != NULL);
	a = request(&bob, q);
	CHECK_EQ_STR(dump(json_object_get(a, "updated")), "[\"mail-octets\"]");
	CHECK_EQ_STR(dump(json_object_get(a, "updatedProperties")), "[\"used\"]");
	submit(EVM_TOPIC_MAIL, bob.req.address, "account.quota", json_pack("{s:I}", "quota", (json_int_t)2000000));
	a = request(&bob, q);
	CHECK_EQ_STR(dump(json_object_get(a, "updated")), "[\"mail-octets\"]");
	CHECK(json_is_null(json_object_get(a, "updatedProperties")));
	snprintf(q, sizeof q, "[[\"Quota/changes\",{\"accountId\":\"%s\",\"sinceState\":\"999999999-0\"},\"q\"]]",
		 bob.req.account_id);
	CHECK_EQ_STR(sget(request(&bob, q), "type"), "cannotCalculateChanges");
	/* Query, with filters and sorts; queryChanges from "no quota". */
	snprintf(q, sizeof q, "[[\"Quota/query\",{\"accountId\":\"%s\",\"filter\":{\"operator\":\"AND\",\"conditions\":"
		 "[{\"scope\":\"account\"},{\"type\":\"Mail\"}]},\"sort\":[{\"property\":\"used\"}]},\"q\"],"
		 "[\"Quota/query\",{\"accountId\":\"%s\",\"filter\":{\"name\":\"nobody\"}},\"q2\"],"
		 "[\"Quota/queryChanges\",{\"accountId\":\"%s\",\"sinceQueryState\":\"0\"},\"q3\"]]",
		 bob.req.account_id, bob.req.account_id, bob.req.account_id);
	a = request(&bob, q);
	CHECK_EQ_STR(dump(json_object_get(a, "ids")), "[\"mail-octets\"]");
	CHECK_EQ_STR(sget(a, "queryState"), "1");
	CHECK_EQ_STR(dump(json_object_get(request_n(&bob, q, 1), "ids")), "[]");
	CHECK_EQ_STR(dump(json_object_get(request_n(&bob, q, 2), "added")), "[{\"id\":\"mail-octets\",\"index\":0}]");
	snprintf(q, sizeof q, "[[\"Quota/query\",{\"accountId\":\"%s\",\"filter\":{\"bogus\":1}},\"q\"]]",
		 bob.req.account_id);
	CHECK_EQ_STR(sget(request(&bob, q), "type"), "unsupportedFilter");
	/* cy has no quota: no Quota object. */
	snprintf(q, sizeof q, "[[\"Quota/get\",{\"accountId\":\"%s\",\"ids\":[\"mail-octets\"]},\"q\"]]",
		 cy.req.account_id);
	a = request(&cy, q);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "list")), 0);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "notFound")), 1);
}

int main(void)
{
	setup("jmap-import");
	add_user(&bob, "bob@acme.test", 1000000);
	add_user(&amy, "amy@acme.test", 100);
	add_user(&cy, "cy@acme.test", 0);
	submit(EVM_TOPIC_MAIL, bob.req.address, "mailbox.create",
	       json_pack("{s:s, s:s, s:s}", "mailbox_id", "11111111111111111111111111111111", "name", "Work",
			 "special_use", ""));
	mailbox_id(&bob, "INBOX", inbox);
	mailbox_id(&bob, "Work", work);
	test_run("Email/import: mailboxes, keywords, receivedAt, errors", test_import);
	test_run("Email/import: over quota", test_import_quota);
	test_run("Email/parse: header properties, body lists and values", test_parse);
	test_run("Email/parse: store properties null, structure, errors", test_parse_props);
	test_run("Quota/get, changes, query, queryChanges", test_quota);
	json_decref(last.body);
	teardown();
	return test_done();
}

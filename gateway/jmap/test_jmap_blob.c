/* test_jmap_blob - JMAP blobs on a real node (embedded log, projector):
 * uploads answered once applied, the read access matrix (an own upload,
 * another account's upload id, forged ids, an email's raw message and
 * its parts, a part of an upload), and Blob/upload, Blob/get and
 * Blob/lookup (RFC 9404) through the engine, with their errors. */
#include "gateway/jmap/jmap_blob.h"
#include "projector/mail.h"

#include "gateway/jmap/test_jmap_node.h"

#define HELLO_SHA "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define FOX "The quick brown fox jumped over the lazy dog."

#define MIXED                                                                                   \
	"From: Ann <ann@example.org>\r\nTo: bob@acme.test\r\nSubject: files\r\n"                    \
	"Message-ID: <m1@example.org>\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n"         \
	"--X\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"                                    \
	"--X\r\nContent-Type: application/octet-stream; name=a.bin\r\n"                            \
	"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n--X--\r\n"

static struct tjn_user bob, amy;

struct stored {
	int done, status;
	char id[JMAP_BLOB_ID_MAX + 1];
	char error[256];
};

static void stored_cb(void *ctx, int status, const char *blob_id, const char *error)
{
	struct stored *s = ctx;

	s->done++;
	s->status = status;
	snprintf(s->id, sizeof s->id, "%s", blob_id != NULL ? blob_id : "");
	snprintf(s->error, sizeof s->error, "%s", error != NULL ? error : "");
}

/* Uploads data as u; the new id (static) or "(failed)". */
static const char *upload(struct tjn_user *u, const char *type, const char *data, size_t len)
{
	static struct stored s;

	memset(&s, 0, sizeof s);
	jmap_blob_upload(&u->req, type, data, len, stored_cb, &s);
	if (s.done != 0) {
		fprintf(stderr, "the callback ran inside jmap_blob_upload\n");
		abort();
	}
	loop_until(&s.done);
	return s.status == 0 ? s.id : "(failed)";
}

/* Reads a blob as u: "<type>|<data>", "(none)" or "(error)" (static). */
static const char *readb(struct tjn_user *u, const char *id)
{
	static char out[1024];
	const char *error = NULL;
	char *data = NULL, *type = NULL;
	size_t len = 0;
	int r = jmap_blob_read(&node, u->req.address, id, &data, &len, &type, &error);

	if (r <= 0)
		snprintf(out, sizeof out, "%s", r == 0 ? "(none)" : "(error)");
	else
		snprintf(out, sizeof out, "%s|%.*s", type != NULL ? type : "null", (int)len, data);
	free(data);
	free(type);
	return out;
}

static char email_id[33];

/* ["s"] as dump() writes it (static). */
static const char *list1(const char *s)
{
	static char out[256];

	snprintf(out, sizeof out, "[\"%s\"]", s);
	return out;
}

static void test_upload_read(void)
{
	char q[1024], id[JMAP_BLOB_ID_MAX + 1], forged[80], inbox[33];
	json_t *a, *mbox = NULL;
	const char *error = NULL;

	snprintf(id, sizeof id, "%s", upload(&bob, "text/plain", "hello world", 11));
	CHECK_EQ_STR(id, "b" HELLO_SHA);
	CHECK_EQ_STR(readb(&bob, id), "text/plain|hello world");
	/* Another account's upload id is not found, as a forged one. */
	CHECK_EQ_STR(readb(&amy, id), "(none)");
	snprintf(forged, sizeof forged, "b%064d", 0);
	CHECK_EQ_STR(readb(&bob, forged), "(none)");
	snprintf(forged, sizeof forged, "m%032d", 7);
	CHECK_EQ_STR(readb(&bob, forged), "(none)");
	CHECK_EQ_STR(readb(&bob, "bB94D"), "(none)");
	CHECK_EQ_STR(readb(&bob, "../etc/passwd"), "(none)");
	CHECK_EQ_STR(readb(&bob, "b" HELLO_SHA "_1"), "text/plain|hello world");
	CHECK_EQ_STR(readb(&bob, "b" HELLO_SHA "_2"), "(none)");
	/* The same bytes uploaded by amy are amy's too; no type is null. */
	CHECK_EQ_STR(upload(&amy, NULL, "hello world", 11), "b" HELLO_SHA);
	CHECK_EQ_STR(readb(&amy, id), "null|hello world");
	/* An empty upload has no chunks, only its record. */
	CHECK_EQ_STR(upload(&bob, "", "", 0), "b" EMPTY_SHA);
	CHECK_EQ_STR(readb(&bob, "b" EMPTY_SHA), "null|");
	/* A media type that is not printable ASCII is refused. */
	CHECK_EQ_STR(upload(&bob, "text/plain\r\nX: y", "x", 1), "(failed)");
	/* An email: its raw message and its parts, for bob only. */
	snprintf(id, sizeof id, "%s", upload(&bob, "message/rfc822", MIXED, strlen(MIXED)));
	CHECK_EQ_INT(mail_mailbox_by_name(node.view, bob.req.address, "INBOX", &mbox, &error), 1);
	snprintf(inbox, sizeof inbox, "%s", sget(mbox, "id"));
	json_decref(mbox);
	snprintf(q, sizeof q, "[[\"Email/import\",{\"accountId\":\"%s\",\"emails\":{\"e\":{\"blobId\":\"%s\","
		 "\"mailboxIds\":{\"%s\":true}}}},\"c\"]]", bob.req.account_id, id, inbox);
	a = request(&bob, q);
	CHECK(a != NULL);
	snprintf(email_id, sizeof email_id, "%s", sget(json_object_get(json_object_get(a, "created"), "e"), "id"));
	CHECK_EQ_INT(strlen(email_id), 32);
	snprintf(forged, sizeof forged, "m%s", email_id);
	CHECK(strncmp(readb(&bob, forged), "message/rfc822|From: Ann", 24) == 0);
	CHECK_EQ_INT(strlen(readb(&bob, forged)), strlen("message/rfc822|") + strlen(MIXED));
	snprintf(forged, sizeof forged, "m%s_2", email_id);
	CHECK_EQ_STR(readb(&bob, forged), "application/octet-stream|hello world");
	snprintf(forged, sizeof forged, "m%s_1", email_id);
	CHECK_EQ_STR(readb(&bob, forged), "text/plain|see attached");
	snprintf(forged, sizeof forged, "m%s_9", email_id);
	CHECK_EQ_STR(readb(&bob, forged), "(none)");
	snprintf(forged, sizeof forged, "m%s_2", email_id);
	CHECK_EQ_STR(readb(&amy, forged), "(none)");
	/* The upload's own parts (it is a message too). */
	snprintf(forged, sizeof forged, "%s_2", id);
	CHECK_EQ_STR(readb(&bob, forged), "application/octet-stream|hello world");
}

static void test_blob_upload_get(void)
{
	char q[2048];
	json_t *a, *created, *nc, *item;

	snprintf(q, sizeof q, "[[\"Blob/upload\",{\"accountId\":\"%s\",\"create\":{"
		 "\"a\":{\"data\":[{\"data:asText\":\"The quick \"},{\"data:asBase64\":\"YnJvd24gZm94IGp1bXBlZCBvdmVyIHRoZSBsYXp5IGRvZy4=\"}],\"type\":\"text/plain\"},"
		 "\"b\":{\"data\":[{\"blobId\":\"#a\",\"offset\":4,\"length\":9}]},"
		 "\"c\":{\"data\":[{\"blobId\":\"#a\",\"offset\":40,\"length\":10}]},"
		 "\"d\":{\"data\":[{\"data:asBase64\":\"!!!!\"}]},"
		 "\"e\":{\"data\":[{\"data:asText\":\"x\",\"blobId\":\"#a\"}]},"
		 "\"f\":{\"data\":[{\"blobId\":\"b%064d\"}]},"
		 "\"g\":{\"data\":[],\"type\":null,\"bogus\":1}}},\"u\"],"
		 "[\"Blob/get\",{\"accountId\":\"%s\",\"ids\":[\"#a\",\"#b\",\"nope\"],"
		 "\"properties\":[\"data:asText\",\"digest:sha\",\"digest:sha-256\",\"size\"]},\"g\"],"
		 "[\"Blob/get\",{\"accountId\":\"%s\",\"ids\":[\"#a\"],\"offset\":4,\"length\":9,"
		 "\"properties\":[\"data\",\"digest:sha\"]},\"g2\"],"
		 "[\"Blob/get\",{\"accountId\":\"%s\",\"ids\":[\"#a\"],\"offset\":40,\"length\":10},\"g3\"]]",
		 bob.req.account_id, 0, bob.req.account_id, bob.req.account_id, bob.req.account_id);
	a = request(&bob, q);
	CHECK(a != NULL);
	CHECK_EQ_STR(resp_name(0), "Blob/upload");
	created = json_object_get(a, "created");
	nc = json_object_get(a, "notCreated");
	CHECK_EQ_INT(json_object_size(created), 2);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(created, "a"), "size")), 45);
	CHECK_EQ_STR(sget(json_object_get(created, "a"), "type"), "text/plain");
	CHECK(json_is_null(json_object_get(json_object_get(created, "b"), "type")));
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(created, "b"), "size")), 9);
	CHECK_EQ_STR(sget(json_object_get(nc, "c"), "type"), "invalidProperties");   /* past the end */
	CHECK_EQ_STR(sget(json_object_get(nc, "d"), "type"), "invalidProperties");   /* bad base64 */
	CHECK_EQ_STR(sget(json_object_get(nc, "e"), "type"), "invalidProperties");   /* two kinds */
	CHECK_EQ_STR(sget(json_object_get(nc, "f"), "type"), "invalidProperties");   /* no such blob */
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "g"), "properties")), "[\"bogus\"]");
	/* Blob/get by creation ids, with digests (base64, RFC 9404 4.2). */
	a = request_n(&bob, q, 1);
	CHECK_EQ_STR(resp_name(1), "Blob/get");
	CHECK_EQ_INT(json_array_size(json_object_get(a, "list")), 2);
	CHECK_EQ_STR(dump(json_object_get(a, "notFound")), "[\"nope\"]");
	item = json_array_get(json_object_get(a, "list"), 0);
	CHECK_EQ_STR(sget(item, "data:asText"), FOX);
	CHECK_EQ_STR(sget(item, "digest:sha"), "wIVPufsDxBzOOALLDSIFKebu+U4=");
	CHECK_EQ_STR(sget(item, "digest:sha-256"), "aLEoK5HeLAVMNmKcuN1EfxLwltPjxYeXjcIkhERjNIM=");
	CHECK_EQ_INT(json_integer_value(json_object_get(item, "size")), 45);
	CHECK_EQ_STR(sget(json_array_get(json_object_get(a, "list"), 1), "data:asText"), "quick bro");
	/* offset and length select the octets of data and digests. */
	item = json_array_get(json_object_get(request_n(&bob, q, 2), "list"), 0);
	CHECK_EQ_STR(sget(item, "data:asText"), "quick bro");
	CHECK_EQ_STR(sget(item, "digest:sha"), "QiRAPtfyX8K6tm1iOAtZ87Xj3Ww=");
	CHECK(json_object_get(item, "size") == NULL);   /* not asked */
	CHECK(json_object_get(item, "isTruncated") == NULL);
	item = json_array_get(json_object_get(request_n(&bob, q, 3), "list"), 0);
	CHECK_EQ_STR(sget(item, "data:asText"), " dog.");
	CHECK(json_is_true(json_object_get(item, "isTruncated")));
	CHECK_EQ_INT(json_integer_value(json_object_get(item, "size")), 45);   /* the default: data, size */
}

static void test_blob_get_errors(void)
{
	char q[1024];
	json_t *a, *item;
	char id[JMAP_BLOB_ID_MAX + 1];

	/* Octets that are not UTF-8: "data" falls back to base64. */
	snprintf(id, sizeof id, "%s", upload(&bob, "application/octet-stream", "\xff\xfe\x00\x01", 4));
	snprintf(q, sizeof q, "[[\"Blob/get\",{\"accountId\":\"%s\",\"ids\":[\"%s\"],\"properties\":[\"data\",\"data:asText\"]},\"g\"]]",
		 bob.req.account_id, id);
	item = json_array_get(json_object_get(request(&bob, q), "list"), 0);
	CHECK_EQ_STR(sget(item, "data:asBase64"), "//4AAQ==");
	CHECK(json_is_null(json_object_get(item, "data:asText")));
	CHECK(json_is_true(json_object_get(item, "isEncodingProblem")));
	/* Another account's blob is not found; an unknown property or digest
	 * is invalid; ids are required. */
	a = request(&amy, q);
	CHECK_EQ_STR(resp_name(0), "error");
	CHECK_EQ_STR(sget(a, "type"), "accountNotFound");
	snprintf(q, sizeof q, "[[\"Blob/get\",{\"accountId\":\"%s\",\"ids\":[\"%s\"]},\"g\"]]", amy.req.account_id, id);
	CHECK_EQ_STR(dump(json_object_get(request(&amy, q), "notFound")), list1(id));
	snprintf(q, sizeof q, "[[\"Blob/get\",{\"accountId\":\"%s\",\"ids\":[\"%s\"],\"properties\":[\"digest:md5\"]},\"g\"]]",
		 bob.req.account_id, id);
	CHECK_EQ_STR(sget(request(&bob, q), "type"), "invalidArguments");
	snprintf(q, sizeof q, "[[\"Blob/get\",{\"accountId\":\"%s\"},\"g\"]]", bob.req.account_id);
	CHECK_EQ_STR(sget(request(&bob, q), "type"), "invalidArguments");
	snprintf(q, sizeof q, "[[\"Blob/upload\",{\"accountId\":\"%s\"},\"g\"]]", bob.req.account_id);
	CHECK_EQ_STR(sget(request(&bob, q), "type"), "invalidArguments");
}

static void test_blob_lookup(void)
{
	char q[1024], none[70];
	json_t *a, *list, *m;

	snprintf(none, sizeof none, "b%064d", 1);
	snprintf(q, sizeof q, "[[\"Blob/lookup\",{\"accountId\":\"%s\",\"typeNames\":[\"Email\",\"Mailbox\",\"Thread\"],"
		 "\"ids\":[\"m%s_2\",\"b" HELLO_SHA "\",\"%s\"]},\"l\"]]", bob.req.account_id, email_id, none);
	a = request(&bob, q);
	CHECK(a != NULL);
	CHECK_EQ_STR(resp_name(0), "Blob/lookup");
	list = json_object_get(a, "list");
	CHECK_EQ_INT(json_array_size(list), 2);
	CHECK_EQ_STR(dump(json_object_get(a, "notFound")), list1(none));
	m = json_object_get(json_array_get(list, 0), "matchedIds");
	CHECK_EQ_STR(dump(json_object_get(m, "Email")), list1(email_id));
	CHECK_EQ_INT(json_array_size(json_object_get(m, "Mailbox")), 1);
	CHECK_EQ_INT(json_array_size(json_object_get(m, "Thread")), 1);
	/* An upload no email was imported from references nothing. */
	m = json_object_get(json_array_get(list, 1), "matchedIds");
	CHECK_EQ_STR(dump(m), "{\"Email\":[],\"Mailbox\":[],\"Thread\":[]}");
	snprintf(q, sizeof q, "[[\"Blob/lookup\",{\"accountId\":\"%s\",\"typeNames\":[\"Calendar\"],\"ids\":[]},\"l\"]]",
		 bob.req.account_id);
	CHECK_EQ_STR(sget(request(&bob, q), "type"), "unknownDataType");
}

int main(void)
{
	setup("jmap-blob");
	add_user(&bob, "bob@acme.test", 0);
	add_user(&amy, "amy@acme.test", 0);
	test_run("uploads and the read access matrix", test_upload_read);
	test_run("Blob/upload and Blob/get: sources, references, ranges, digests", test_blob_upload_get);
	test_run("Blob/get: encoding problems and errors", test_blob_get_errors);
	test_run("Blob/lookup: emails, mailboxes, threads of a blob", test_blob_lookup);
	json_decref(last.body);
	teardown();
	return test_done();
}

/* test_jmap_submission - Identity and EmailSubmission (RFC 8621 6, 7) on
 * a node with the embedded log: identities from the directory (the
 * account and its alias) with overrides, created ones (forbiddenFrom,
 * update, destroy, /changes, a "*@domain" one), a draft sent to a local
 * recipient (in its INBOX, without the Bcc field) and a remote one (in
 * the outbound queue), onSuccessUpdateEmail moving the draft to Sent
 * with $draft removed, onSuccessDestroyEmail, every SetError of 7.5,
 * /get with deliveryStatus, /changes, /query, /queryChanges, and update
 * and destroy of a submission. */
#define TJN_USING_MORE ",\"urn:ietf:params:jmap:submission\""
#include "gateway/jmap/test_jmap_node.h"
#include "gateway/jmap/jmap_submission.h"
#include "projector/mail.h"
#include "projector/queue.h"

#include <stdarg.h>

static struct tjn_user bob, ann, carl;
static char created[JMAP_ACCOUNT_ID_LEN + 1];   /* bob's created identity */
static char drafts[33], sent_box[33], bob_ident[JMAP_ACCOUNT_ID_LEN + 1];

/* request_n with the calls printf(fmt, ...) and "$A" the account id. */
__attribute__((format(printf, 3, 4))) static json_t *call_n(struct tjn_user *u, size_t n, const char *fmt, ...)
{
	struct buf calls = BUF_INIT, out = BUF_INIT;
	json_t *r;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&calls, fmt, ap);
	va_end(ap);
	for (const char *s = calls.data; *s; s++) {
		if (s[0] == '$' && s[1] == 'A') {
			buf_puts(&out, u->req.account_id);
			s++;
		} else {
			buf_append(&out, s, 1);
		}
	}
	r = request_n(u, out.data, n);
	buf_free(&calls);
	buf_free(&out);
	return r;
}

static void mailbox_id(struct tjn_user *u, const char *name, char out[33])
{
	json_t *m = NULL;
	const char *error = NULL;

	CHECK_EQ_INT(mail_mailbox_by_name(node.view, u->req.address, name, &m, &error), 1);
	snprintf(out, 33, "%s", sget(m, "id"));
	json_decref(m);
}

/* A draft of u in its Drafts (from, to, bcc: JSON address lists, or
 * NULL); returns its email id (static). */
static const char *draft(struct tjn_user *u, const char *from, const char *to, const char *bcc, const char *body)
{
	static char id[33];
	char dr[33];
	json_t *a;

	mailbox_id(u, "Drafts", dr);
	a = call_n(u, 0,
		   "[[\"Email/set\",{\"accountId\":\"$A\",\"create\":{\"d\":{\"mailboxIds\":{\"%s\":true},"
		   "\"keywords\":{\"$draft\":true,\"$seen\":true}%s%s%s%s%s%s,\"subject\":\"Hello\","
		   "\"bodyValues\":{\"b\":{\"value\":\"%s\"}},\"textBody\":[{\"partId\":\"b\",\"type\":\"text/plain\"}]}}},\"c\"]]",
		   dr, from ? ",\"from\":" : "", from ? from : "", to ? ",\"to\":" : "", to ? to : "",
		   bcc ? ",\"bcc\":" : "", bcc ? bcc : "", body);
	snprintf(id, sizeof id, "%s", sget(json_object_get(json_object_get(a, "created"), "d"), "id"));
	return id;
}

/* The SetError type of creation "s" in the last EmailSubmission/set. */
static const char *create_error(json_t *a)
{
	return sget(json_object_get(json_object_get(a, "notCreated"), "s"), "type");
}

static void test_identity(void)
{
	json_t *a, *list;
	char state[64];

	a = call_n(&bob, 0, "[[\"Identity/get\",{\"accountId\":\"$A\"},\"c\"]]");
	list = json_object_get(a, "list");
	CHECK_EQ_INT((int)json_array_size(list), 2);
	CHECK_EQ_STR(sget(json_array_get(list, 0), "email"), "bob@acme.test");
	CHECK_EQ_STR(sget(json_array_get(list, 0), "name"), "X");
	CHECK_EQ_STR(sget(json_array_get(list, 0), "id"), bob_ident);
	CHECK(json_is_false(json_object_get(json_array_get(list, 0), "mayDelete")));
	CHECK(json_is_null(json_object_get(json_array_get(list, 0), "replyTo")));
	CHECK_EQ_STR(sget(json_array_get(list, 1), "email"), "sales@acme.test");
	snprintf(state, sizeof state, "%s", sget(a, "state"));
	/* Only the account's own identities. */
	a = call_n(&ann, 0, "[[\"Identity/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"]},\"c\"]]", bob_ident);
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "list")), 0);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(a, "notFound"), 0)), bob_ident);
	/* RFC 8621 6.3: create with the account's address or an alias;
	 * another account's address is forbiddenFrom. */
	a = call_n(&bob, 0,
		   "[[\"Identity/set\",{\"accountId\":\"$A\",\"create\":{"
		   "\"n\":{\"email\":\"Bob@ACME.test\",\"name\":\"Bob at work\",\"textSignature\":\"-- B\"},"
		   "\"o\":{\"email\":\"ann@acme.test\"},\"w\":{\"email\":\"*@acme.test\"},"
		   "\"m\":{\"email\":\"sales@acme.test\",\"mayDelete\":true},"
		   "\"l\":{\"email\":\"sales@acme.test\",\"name\":\"%0300d\"}},"
		   "\"update\":{\"%s\":{\"name\":\"B\",\"bcc\":[{\"email\":\"arch@acme.test\"}]}}},\"c\"],"
		   "[\"Identity/set\",{\"accountId\":\"$A\",\"destroy\":[\"%s\"]},\"d\"]]", 0, bob_ident, bob_ident);
	snprintf(created, sizeof created, "%s", sget(json_object_get(json_object_get(a, "created"), "n"), "id"));
	CHECK_EQ_INT((int)strlen(created), JMAP_ACCOUNT_ID_LEN);
	CHECK(json_is_true(json_object_get(json_object_get(json_object_get(a, "created"), "n"), "mayDelete")));
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "created"), "n"), "email"), "bob@acme.test");
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "notCreated"), "o"), "type"), "forbiddenFrom");
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "notCreated"), "w"), "type"), "forbiddenFrom");
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "notCreated"), "m"), "type"), "invalidProperties");
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "notCreated"), "l"), "type"), "invalidProperties");
	CHECK(json_object_get(json_object_get(a, "updated"), bob_ident) != NULL);
	CHECK(strcmp(sget(a, "newState"), state) != 0);
	CHECK_EQ_STR(sget(json_object_get(json_object_get(json_array_get(json_array_get(json_object_get(last.body, "methodResponses"), 1), 1), "notDestroyed"), bob_ident), "type"), "forbidden");
	/* The default with its override, then the created one. */
	a = call_n(&bob, 0, "[[\"Identity/get\",{\"accountId\":\"$A\"},\"c\"]]");
	list = json_object_get(a, "list");
	CHECK_EQ_INT((int)json_array_size(list), 3);
	CHECK_EQ_STR(sget(json_array_get(list, 0), "name"), "B");
	CHECK_EQ_STR(sget(json_array_get(json_object_get(json_array_get(list, 0), "bcc"), 0), "email"), "arch@acme.test");
	CHECK(json_is_false(json_object_get(json_array_get(list, 0), "mayDelete")));
	CHECK_EQ_STR(sget(json_array_get(list, 2), "id"), created);
	CHECK_EQ_STR(sget(json_array_get(list, 2), "textSignature"), "-- B");
	/* Update the created one; email is immutable. */
	a = call_n(&bob, 0, "[[\"Identity/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"textSignature\":\"-- Bob\","
		   "\"email\":\"bob@acme.test\"},\"%s\":{\"email\":\"sales@acme.test\"}}},\"c\"]]", created, bob_ident);
	CHECK(json_object_get(json_object_get(a, "updated"), created) != NULL);
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "notUpdated"), bob_ident), "type"), "invalidProperties");
	a = call_n(&bob, 0, "[[\"Identity/changes\",{\"accountId\":\"$A\",\"sinceState\":\"%s\"},\"c\"]]", state);
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "created")), 1);
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "updated")), 1);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(a, "created"), 0)), created);
	call_n(&bob, 0, "[[\"Identity/changes\",{\"accountId\":\"$A\",\"sinceState\":\"h00\"},\"c\"]]");
	CHECK_EQ_STR(resp_name(0), "error");
}

/* A catch-all alias lets the account create a "*@domain" identity; a
 * created identity can be destroyed. */
static void test_identity_wildcard(void)
{
	char state[64], wid[JMAP_ACCOUNT_ID_LEN + 1];
	json_t *a;

	submit(EVM_TOPIC_DIRECTORY, "", "alias.add", json_pack("{s:s, s:s}", "alias", "@acme.test", "target",
							       "bob@acme.test"));
	a = call_n(&bob, 0, "[[\"Identity/set\",{\"accountId\":\"$A\",\"create\":{\"w\":{\"email\":\"*@ACME.test\"}}},\"c\"]]");
	snprintf(wid, sizeof wid, "%s", sget(json_object_get(json_object_get(a, "created"), "w"), "id"));
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "created"), "w"), "email"), "*@acme.test");
	snprintf(state, sizeof state, "%s", sget(a, "newState"));
	a = call_n(&bob, 0, "[[\"Identity/set\",{\"accountId\":\"$A\",\"destroy\":[\"%s\",\"%s\",\"c0\"]}, \"c\"]]",
		   wid, created);
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "destroyed")), 2);
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "notDestroyed"), "c0"), "type"), "notFound");
	a = call_n(&bob, 0, "[[\"Identity/changes\",{\"accountId\":\"$A\",\"sinceState\":\"%s\"},\"c\"]]", state);
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "destroyed")), 2);
	a = call_n(&bob, 0, "[[\"Identity/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"]},\"c\"]]", created);
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "notFound")), 1);
}

/* The local recipient's INBOX: its last message's body. */
static char *inbox_last(struct tjn_user *u)
{
	char inbox[33];
	json_t *msgs = NULL, *m;
	const char *error = NULL;
	char *data = NULL;
	size_t len = 0;

	mailbox_id(u, "INBOX", inbox);
	if (mail_messages(node.view, u->req.address, inbox, 0, &msgs, &error) < 0)
		return strdup("");
	m = json_array_get(msgs, json_array_size(msgs) - 1);
	if (m == NULL || mail_message_body(node.view, u->req.address, inbox, (uint32_t)json_integer_value(json_object_get(m, "uid")),
					   &data, &len, &error) != 1) {
		json_decref(msgs);
		return strdup("");
	}
	json_decref(msgs);
	return data;
}

static char sub1[33], email1[33], state0[64];

static void test_send(void)
{
	json_t *a, *items = NULL, *ds;
	const char *error = NULL;
	char *body;

	a = call_n(&bob, 0, "[[\"EmailSubmission/get\",{\"accountId\":\"$A\"},\"c\"]]");
	snprintf(state0, sizeof state0, "%s", sget(a, "state"));
	/* A draft and its submission in one request ("#d" and "#s"): to a
	 * local account, Bcc a remote one; then moved to Sent, $draft gone. */
	a = call_n(&bob, 1,
		   "[[\"Email/set\",{\"accountId\":\"$A\",\"create\":{\"d\":{\"mailboxIds\":{\"%s\":true},"
		   "\"keywords\":{\"$draft\":true},\"from\":[{\"email\":\"bob@acme.test\"}],"
		   "\"to\":[{\"email\":\"ann@acme.test\"}],\"bcc\":[{\"email\":\"zed@remote.example\"}],"
		   "\"subject\":\"Report\",\"bodyValues\":{\"b\":{\"value\":\"The report.\"}},"
		   "\"textBody\":[{\"partId\":\"b\",\"type\":\"text/plain\"}]}}},\"c0\"],"
		   "[\"EmailSubmission/set\",{\"accountId\":\"$A\",\"create\":{\"s\":{\"identityId\":\"%s\","
		   "\"emailId\":\"#d\"}},\"onSuccessUpdateEmail\":{\"#s\":{\"mailboxIds/%s\":null,"
		   "\"mailboxIds/%s\":true,\"keywords/$draft\":null}}},\"c1\"]]",
		   drafts, bob_ident, drafts, sent_box);
	CHECK_EQ_STR(resp_name(1), "EmailSubmission/set");
	CHECK_EQ_STR(resp_name(2), "Email/set");
	snprintf(sub1, sizeof sub1, "%s", sget(json_object_get(json_object_get(a, "created"), "s"), "id"));
	CHECK_EQ_INT((int)strlen(sub1), 32);
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "created"), "s"), "undoStatus"), "final");
	snprintf(email1, sizeof email1, "%s",
		 sget(json_object_get(json_object_get(json_array_get(json_array_get(json_object_get(last.body, "methodResponses"), 0), 1), "created"), "d"), "id"));
	CHECK(json_object_get(json_object_get(json_array_get(json_array_get(json_object_get(last.body, "methodResponses"), 2), 1), "updated"), email1) != NULL);
	/* The local copy arrived, without the Bcc field. */
	body = inbox_last(&ann);
	CHECK(strstr(body, "Subject: Report") != NULL);
	CHECK(strstr(body, "zed@remote.example") == NULL);
	CHECK(strstr(body, "Bcc:") == NULL);
	CHECK(strstr(body, "Message-ID:") != NULL || strstr(body, "Message-Id:") != NULL);
	free(body);
	/* The remote one is queued. */
	CHECK_EQ_INT(queue_list(node.view, 0, &items, &error), 0);
	CHECK_EQ_INT((int)json_array_size(items), 1);
	CHECK_EQ_STR(sget(json_array_get(json_object_get(json_array_get(items, 0), "rcpts"), 0), "addr"),
		     "zed@remote.example");
	CHECK_EQ_STR(sget(json_array_get(items, 0), "from"), "bob@acme.test");
	json_decref(items);
	/* The draft is in Sent, not Drafts, without $draft. */
	a = call_n(&bob, 0, "[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"],"
		   "\"properties\":[\"mailboxIds\",\"keywords\"]},\"c\"]]", email1);
	a = json_array_get(json_object_get(a, "list"), 0);
	CHECK(json_object_get(json_object_get(a, "mailboxIds"), sent_box) != NULL);
	CHECK(json_object_get(json_object_get(a, "mailboxIds"), drafts) == NULL);
	CHECK(json_object_get(json_object_get(a, "keywords"), "$draft") == NULL);
	/* EmailSubmission/get: the envelope made from To and Bcc, and the
	 * delivery status of each recipient. */
	a = call_n(&bob, 0, "[[\"EmailSubmission/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\",\"%s\"]},\"c\"]]", sub1,
		   "00000000000000000000000000000000");
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "notFound")), 1);
	a = json_array_get(json_object_get(a, "list"), 0);
	CHECK_EQ_STR(sget(a, "emailId"), email1);
	CHECK_EQ_STR(sget(a, "identityId"), bob_ident);
	CHECK_EQ_STR(sget(a, "undoStatus"), "final");
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "envelope"), "mailFrom"), "email"), "bob@acme.test");
	CHECK_EQ_INT((int)json_array_size(json_object_get(json_object_get(a, "envelope"), "rcptTo")), 2);
	ds = json_object_get(a, "deliveryStatus");
	CHECK_EQ_STR(sget(json_object_get(ds, "ann@acme.test"), "delivered"), "yes");
	CHECK_EQ_STR(sget(json_object_get(ds, "zed@remote.example"), "delivered"), "queued");
	/* Changes and queries. */
	a = call_n(&bob, 0, "[[\"EmailSubmission/changes\",{\"accountId\":\"$A\",\"sinceState\":\"%s\"},\"c\"]]", state0);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(a, "created"), 0)), sub1);
	a = call_n(&bob, 0, "[[\"EmailSubmission/query\",{\"accountId\":\"$A\",\"filter\":{\"emailIds\":[\"%s\"],"
		   "\"undoStatus\":\"final\",\"after\":\"2000-01-01T00:00:00Z\"},\"sort\":[{\"property\":\"sentAt\"}]},\"c\"]]",
		   email1);
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "ids")), 1);
	a = call_n(&bob, 0, "[[\"EmailSubmission/query\",{\"accountId\":\"$A\",\"filter\":{\"before\":\"2000-01-01T00:00:00Z\"}},\"c\"]]");
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "ids")), 0);
	call_n(&bob, 0, "[[\"EmailSubmission/query\",{\"accountId\":\"$A\",\"sort\":[{\"property\":\"size\"}]},\"c\"]]");
	CHECK_EQ_STR(resp_name(0), "error");
	a = call_n(&bob, 0, "[[\"EmailSubmission/queryChanges\",{\"accountId\":\"$A\",\"sinceQueryState\":\"%s\"},\"c\"]]",
		   state0);
	CHECK_EQ_STR(sget(json_array_get(json_object_get(a, "added"), 0), "id"), sub1);
	call_n(&bob, 0, "[[\"EmailSubmission/queryChanges\",{\"accountId\":\"$A\",\"sinceQueryState\":\"x\"},\"c\"]]");
	CHECK_EQ_STR(resp_name(0), "error");
}

static void test_errors(void)
{
	const char *error = NULL;
	char email[33], big[2100];
	json_t *a;

	snprintf(email, sizeof email, "%s", draft(&bob, "[{\"email\":\"bob@acme.test\"}]", "[{\"email\":\"ann@acme.test\"}]",
						  NULL, "x"));
	CHECK_EQ_INT((int)strlen(email), 32);
#define SUBMIT(extra, ...) call_n(&bob, 0, "[[\"EmailSubmission/set\",{\"accountId\":\"$A\",\"create\":{\"s\":{" extra "}}},\"c\"]]", __VA_ARGS__)
	a = SUBMIT("\"identityId\":\"i000\",\"emailId\":\"%s\"", email);
	CHECK_EQ_STR(create_error(a), "invalidProperties");
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\"", bob_ident, "0123456789abcdef0123456789abcdef");
	CHECK_EQ_STR(create_error(a), "invalidProperties");
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\",\"undoStatus\":\"pending\"", bob_ident, email);
	CHECK_EQ_STR(create_error(a), "invalidProperties");
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\",\"sendAt\":\"2020-01-01T00:00:00Z\"", bob_ident, email);
	CHECK_EQ_STR(create_error(a), "invalidProperties");
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\",\"envelope\":{\"mailFrom\":{\"email\":\"bob@acme.test\"},"
		   "\"rcptTo\":[]}", bob_ident, email);
	CHECK_EQ_STR(create_error(a), "noRecipients");
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\",\"envelope\":{\"mailFrom\":{\"email\":\"bob@acme.test\"},"
		   "\"rcptTo\":[{\"email\":\"a@acme.test\",\"parameters\":{\"NOTIFY\":\"NEVER\"}}]}", bob_ident, email);
	CHECK_EQ_STR(create_error(a), "invalidProperties");
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\",\"envelope\":{\"mailFrom\":{\"email\":\"bob@acme.test\"},"
		   "\"rcptTo\":[{\"email\":\"nobody@acme.test\"},{\"email\":\"ann@acme.test\"}]}", bob_ident, email);
	CHECK_EQ_STR(create_error(a), "invalidRecipients");
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(json_object_get(json_object_get(a, "notCreated"), "s"),
									    "invalidRecipients"), 0)), "nobody@acme.test");
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\",\"envelope\":{\"mailFrom\":{\"email\":\"ann@acme.test\"},"
		   "\"rcptTo\":[{\"email\":\"ann@acme.test\"}]}", bob_ident, email);
	CHECK_EQ_STR(create_error(a), "forbiddenMailFrom");
	/* tooManyRecipients: over limits.recipients. */
	CHECK_EQ_INT(config_set(&cfg, "limits.recipients", "2", &error), 0);
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\",\"envelope\":{\"mailFrom\":{\"email\":\"bob@acme.test\"},"
		   "\"rcptTo\":[{\"email\":\"a@x.example\"},{\"email\":\"b@x.example\"},{\"email\":\"c@x.example\"}]}",
		   bob_ident, email);
	CHECK_EQ_STR(create_error(a), "tooManyRecipients");
	CHECK_EQ_INT((int)json_integer_value(json_object_get(json_object_get(json_object_get(a, "notCreated"), "s"),
							     "maxRecipients")), 2);
	CHECK_EQ_INT(config_set(&cfg, "limits.recipients", "100", &error), 0);
	/* tooLarge: over limits.message_size. */
	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(email, sizeof email, "%s", draft(&bob, "[{\"email\":\"bob@acme.test\"}]", "[{\"email\":\"ann@acme.test\"}]",
						  NULL, big));
	CHECK_EQ_INT(config_set(&cfg, "limits.message_size", "1024", &error), 0);
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\"", bob_ident, email);
	CHECK_EQ_STR(create_error(a), "tooLarge");
	CHECK_EQ_INT(config_set(&cfg, "limits.message_size", "52428800", &error), 0);
	/* invalidEmail: no From field. */
	snprintf(email, sizeof email, "%s", draft(&bob, NULL, "[{\"email\":\"ann@acme.test\"}]", NULL, "x"));
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\"", bob_ident, email);
	CHECK_EQ_STR(create_error(a), "invalidEmail");
	/* forbiddenFrom: the From field is someone else's. */
	snprintf(email, sizeof email, "%s", draft(&bob, "[{\"email\":\"ann@acme.test\"}]", "[{\"email\":\"ann@acme.test\"}]",
						  NULL, "x"));
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\"", bob_ident, email);
	CHECK_EQ_STR(create_error(a), "forbiddenFrom");
	/* Sent as the alias identity: allowed. */
	snprintf(email, sizeof email, "%s", draft(&bob, "[{\"email\":\"sales@acme.test\"}]",
						  "[{\"email\":\"ann@acme.test\"}]", NULL, "x"));
	a = call_n(&bob, 0, "[[\"Identity/get\",{\"accountId\":\"$A\"},\"c\"]]");
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\"", sget(json_array_get(json_object_get(a, "list"), 1), "id"),
		   email);
	CHECK(json_object_get(json_object_get(a, "created"), "s") != NULL);
	/* Sent with a created identity: its email is the envelope's. */
	snprintf(email, sizeof email, "%s", draft(&bob, "[{\"email\":\"bob@acme.test\"}]",
						  "[{\"email\":\"ann@acme.test\"}]", NULL, "x"));
	a = SUBMIT("\"identityId\":\"%s\",\"emailId\":\"%s\"", created, email);
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "created"), "s"), "undoStatus"), "final");
	/* forbiddenToSend: a disabled account. */
	snprintf(email, sizeof email, "%s", draft(&carl, "[{\"email\":\"carl@acme.test\"}]",
						  "[{\"email\":\"ann@acme.test\"}]", NULL, "x"));
	submit(EVM_TOPIC_DIRECTORY, "", "account.update",
	       json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", "carl@acme.test", "display_name", "C", "quota",
			 (json_int_t)0, "state", "disabled", "password_hash", TJN_HASH));
	{
		char cid[JMAP_ACCOUNT_ID_LEN + 1];

		jmap_identity_id("carl@acme.test", cid);
		a = call_n(&carl, 0, "[[\"EmailSubmission/set\",{\"accountId\":\"$A\",\"create\":{\"s\":{"
			   "\"identityId\":\"%s\",\"emailId\":\"%s\"}}},\"c\"]]", cid, email);
	}
	CHECK_EQ_STR(create_error(a), "forbiddenToSend");
#undef SUBMIT
	/* Update: only undoStatus, and nothing can be unsent. */
	a = call_n(&bob, 0, "[[\"EmailSubmission/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"undoStatus\":\"canceled\"},"
		   "\"00000000000000000000000000000000\":{}}},\"c\"]]", sub1);
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "notUpdated"), sub1), "type"), "cannotUnsend");
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "notUpdated"), "00000000000000000000000000000000"), "type"),
		     "notFound");
}

static void test_destroy(void)
{
	char email[33], sid[33];
	json_t *a;

	/* onSuccessDestroyEmail: the draft goes once it is sent. */
	snprintf(email, sizeof email, "%s", draft(&bob, "[{\"email\":\"bob@acme.test\"}]", "[{\"email\":\"ann@acme.test\"}]",
						  NULL, "bye"));
	a = call_n(&bob, 0, "[[\"EmailSubmission/set\",{\"accountId\":\"$A\",\"create\":{\"s\":{\"identityId\":\"%s\","
		   "\"emailId\":\"%s\"}},\"onSuccessDestroyEmail\":[\"#s\"]},\"c\"]]", bob_ident, email);
	snprintf(sid, sizeof sid, "%s", sget(json_object_get(json_object_get(a, "created"), "s"), "id"));
	CHECK_EQ_STR(resp_name(1), "Email/set");
	a = json_array_get(json_array_get(json_object_get(last.body, "methodResponses"), 1), 1);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(a, "destroyed"), 0)), email);
	a = call_n(&bob, 0, "[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"]},\"c\"]]", email);
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "notFound")), 1);
	/* A failed creation does not run its onSuccess action. */
	a = call_n(&bob, 0, "[[\"EmailSubmission/set\",{\"accountId\":\"$A\",\"create\":{\"s\":{\"identityId\":\"i0\","
		   "\"emailId\":\"%s\"}},\"onSuccessDestroyEmail\":[\"#s\"]},\"c\"]]", email1);
	CHECK_EQ_STR(create_error(a), "invalidProperties");
	CHECK_EQ_STR(resp_name(1), "(none)");
	/* Destroying a submission forgets it. */
	a = call_n(&bob, 0, "[[\"EmailSubmission/set\",{\"accountId\":\"$A\",\"destroy\":[\"%s\",\"%s\"]},\"c\"]]", sid,
		   "00000000000000000000000000000000");
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(a, "destroyed"), 0)), sid);
	CHECK_EQ_STR(sget(json_object_get(json_object_get(a, "notDestroyed"), "00000000000000000000000000000000"), "type"),
		     "notFound");
	a = call_n(&bob, 0, "[[\"EmailSubmission/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"]},\"c\"]]", sid);
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "notFound")), 1);
	a = call_n(&bob, 0, "[[\"EmailSubmission/changes\",{\"accountId\":\"$A\",\"sinceState\":\"%s\"},\"c\"]]", state0);
	CHECK(json_array_size(json_object_get(a, "created")) >= 2);
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "destroyed")), 0);   /* created and destroyed since */
}

static void test_all(void)
{
	setup("jmap_submission");
	add_user(&bob, "bob@acme.test", 0);
	add_user(&ann, "ann@acme.test", 0);
	add_user(&carl, "carl@acme.test", 0);
	submit(EVM_TOPIC_DIRECTORY, "", "alias.add", json_pack("{s:s, s:s}", "alias", "sales@acme.test", "target",
							       "bob@acme.test"));
	jmap_identity_id("bob@acme.test", bob_ident);
	mailbox_id(&bob, "Drafts", drafts);
	mailbox_id(&bob, "Sent", sent_box);
	test_identity();
	test_send();
	test_errors();
	test_destroy();
	test_identity_wildcard();
	teardown();
}

int main(void)
{
	test_run("identity and submission on a node", test_all);
	json_decref(last.body);
	return test_done();
}

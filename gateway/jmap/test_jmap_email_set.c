/* test_jmap_email_set - Email/set and Email/copy on a node with the
 * embedded log: creation written as MIME, stored as a blob and appended,
 * read back equal through the store and Email/get's body readers;
 * keywords and mailboxIds as IMAP's store/copy/move/expunge (the view's
 * message records checked after each), destroy, every SetError, "#cid"
 * mailboxes, ifInState; and an IMAP change showing in Email/changes. */
#include "gateway/jmap/test_jmap_set_node.h"
#include "gateway/jmap/jmap_email_body.h"
#include "common/mime.h"

static char inbox[33], work[33], email1[33], email2[33];

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The flags of an email's copies, "mailbox-name: flag flag|..." sorted
 * (what IMAP FETCH FLAGS shows). */
static const char *copies(const char *email)
{
	static char out[1024];
	json_t *locs = json_array(), *l;
	const char *error = NULL;
	char *items[16];
	size_t i, k, n = 0;

	out[0] = '\0';
	mail_jmap_email_locations(node.view, req.address, email, locs, &error);
	json_array_foreach(locs, i, l) {
		json_t *msg = NULL, *mb = NULL, *f;
		char one[256];

		if (n == 16)
			break;
		mail_mailbox_get(node.view, req.address, json_string_value(json_array_get(l, 0)), &mb, &error);
		mail_message_get(node.view, req.address, json_string_value(json_array_get(l, 0)),
				 (uint32_t)json_integer_value(json_array_get(l, 1)), &msg, &error);
		snprintf(one, sizeof one, "%s:", sget(mb, "name"));
		json_array_foreach(json_object_get(msg, "flags"), k, f)
			snprintf(one + strlen(one), sizeof one - strlen(one), " %s", json_string_value(f));
		json_array_foreach(json_object_get(msg, "keywords"), k, f)
			snprintf(one + strlen(one), sizeof one - strlen(one), " %s", json_string_value(f));
		items[n++] = strdup(one);
		json_decref(msg);
		json_decref(mb);
	}
	qsort(items, n, sizeof *items, cmp_str);
	for (i = 0; i < n; i++) {
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "|" : "", items[i]);
		free(items[i]);
	}
	json_decref(locs);
	return out;
}

static void setup_mailboxes(void)
{
	json_t *m = NULL;
	const char *error = NULL;

	jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"create\":{\"w\":{\"name\":\"Work\"}}},\"c\"]]");
	snprintf(work, sizeof work, "%s", sget(rargs(0), "created/w/id"));
	mail_mailbox_by_name(node.view, req.address, "INBOX", &m, &error);
	snprintf(inbox, sizeof inbox, "%s", sget(m, "id"));
	json_decref(m);
}

static void test_create(void)
{
	json_t *a, *msgs = NULL, *summary = NULL, *props, *t, *h, *att;
	const char *error = NULL;
	char *raw = NULL;
	size_t len = 0;
	struct jmap_body_msg m;

	setup_mailboxes();
	/* A new mailbox and an email in it and INBOX, in one request. */
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"create\":{\"n\":{\"name\":\"New\"}}},\"c0\"],"
		  "[\"Email/set\",{\"accountId\":\"$A\",\"create\":{\"e\":{"
		  "\"mailboxIds\":{\"#n\":true,\"%s\":true},\"keywords\":{\"$seen\":true,\"$Custom\":true},"
		  "\"receivedAt\":\"2024-03-01T10:00:00Z\","
		  "\"from\":[{\"name\":\"Zoë\",\"email\":\"zoe@x.test\"}],\"to\":[{\"email\":\"bob@acme.test\"}],"
		  "\"subject\":\"Déjà vu\",\"textBody\":[{\"partId\":\"1\"}],"
		  "\"bodyValues\":{\"1\":{\"value\":\"Hello\\nthere é\\n\"}}}}},\"c1\"]]", inbox);
	CHECK(a != NULL);
	CHECK_EQ_STR(rname(1), "Email/set");
	a = rargs(1);
	CHECK(json_is_null(json_object_get(a, "notCreated")));
	snprintf(email1, sizeof email1, "%s", sget(a, "created/e/id"));
	CHECK_EQ_INT(strlen(email1), 32);
	{
		char blob[40];

		snprintf(blob, sizeof blob, "m%s", email1);
		CHECK_EQ_STR(sget(a, "created/e/blobId"), blob);
	}
	CHECK_EQ_STR(sget(a, "created/e/threadId"), email1);
	CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(a, "created"), "e"), "size")) > 100);
	/* IMAP sees two copies, \Seen and the keyword, the date. */
	CHECK_EQ_STR(copies(email1), "INBOX: \\Seen $custom|New: \\Seen $custom");
	CHECK(mail_messages(node.view, req.address, inbox, 0, &msgs, &error) >= 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(msgs, 0), "internal_date")), 1709287200000);
	/* The stored bytes read back as what was created. */
	CHECK_EQ_INT(mail_message_body(node.view, req.address, inbox, 1, &raw, &len, &error), 1);
	CHECK_EQ_INT(mail_summary_get(node.view, req.address, email1, &summary, &error), 1);
	CHECK_EQ_STR(sget(json_object_get(summary, "headers"), "subject"), "Déjà vu");
	CHECK_EQ_STR(sget(json_array_get(json_object_get(json_object_get(summary, "headers"), "from"), 0), "name"), "Zoë");
	m.raw = raw;
	m.raw_len = len;
	m.base = 0;
	m.blob_prefix = "m";
	props = jmap_body_default_props();
	jmap_body_lists(&m, json_object_get(summary, "part"), props, &t, &h, &att);
	CHECK_EQ_INT(json_array_size(t), 1);
	{
		json_t *v = jmap_body_value(&m, jmap_body_find(json_object_get(summary, "part"), "1"), 0);

		CHECK_EQ_STR(sget(v, "value"), "Hello\r\nthere é\r\n");
		json_decref(v);
	}
	json_decref(t);
	json_decref(h);
	json_decref(att);
	json_decref(props);
	json_decref(summary);
	json_decref(msgs);
	free(raw);

	/* A second email whose parts are blobs of the first: the whole
	 * message as message/rfc822 and its text part. */
	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"create\":{\"f\":{\"mailboxIds\":{\"%s\":true},"
		  "\"subject\":\"Fwd\",\"inReplyTo\":[\"x@y\"],"
		  "\"attachments\":[{\"blobId\":\"m%s\",\"type\":\"message/rfc822\"},"
		  "{\"blobId\":\"m%s_1\",\"type\":\"text/plain\",\"name\":\"hello.txt\",\"disposition\":\"attachment\"}]}}},\"c\"]]",
		  work, email1, email1);
	CHECK(json_is_null(json_object_get(a, "notCreated")));
	snprintf(email2, sizeof email2, "%s", sget(a, "created/f/id"));
	CHECK_EQ_STR(copies(email2), "Work:");
	summary = NULL;
	CHECK_EQ_INT(mail_summary_get(node.view, req.address, email2, &summary, &error), 1);
	{
		json_t *parts = json_object_get(json_object_get(summary, "part"), "parts");
		struct buf content = BUF_INIT;

		/* No text or HTML body: a multipart/mixed of the two. */
		CHECK_EQ_STR(sget(json_object_get(summary, "part"), "subtype"), "mixed");
		CHECK_EQ_INT(json_array_size(parts), 2);
		CHECK_EQ_STR(sget(json_array_get(parts, 0), "subtype"), "rfc822");
		raw = NULL;
		CHECK_EQ_INT(mail_message_body(node.view, req.address, work, 1, &raw, &len, &error), 1);
		m.raw = raw;
		m.raw_len = len;
		jmap_body_content(&m, json_array_get(parts, 1), &content);
		CHECK(content.len == strlen("Hello\r\nthere é\r\n") && memcmp(content.data, "Hello\r\nthere é\r\n", content.len) == 0);
		buf_free(&content);
		free(raw);
	}
	json_decref(summary);
}

static void test_create_errors(void)
{
	json_t *a, *nc;

	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"create\":{"
		  "\"nomb\":{\"subject\":\"x\"},"
		  "\"badmb\":{\"mailboxIds\":{\"00000000000000000000000000000000\":true}},"
		  "\"falsemb\":{\"mailboxIds\":{\"%s\":false}},"
		  "\"badkw\":{\"mailboxIds\":{\"%s\":true},\"keywords\":{\"a(b\":true}},"
		  "\"badrcv\":{\"mailboxIds\":{\"%s\":true},\"receivedAt\":\"2024-03-01T10:00:00+01:00\"},"
		  "\"blob\":{\"mailboxIds\":{\"%s\":true},\"attachments\":[{\"blobId\":\"m00000000000000000000000000000000\"}]},"
		  "\"other\":{\"mailboxIds\":{\"%s\":true},\"attachments\":[{\"blobId\":\"b1234\"}]},"
		  "\"hdr\":{\"mailboxIds\":{\"%s\":true},\"headers\":[]}}},\"c\"]]",
		  inbox, inbox, inbox, inbox, inbox, inbox);
	CHECK(a != NULL);
	nc = json_object_get(a, "notCreated");
	CHECK_EQ_INT(json_object_size(nc), 8);
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "nomb"), "properties")), "[\"mailboxIds\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "badmb"), "properties")), "[\"mailboxIds\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "falsemb"), "properties")), "[\"mailboxIds\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "badkw"), "properties")), "[\"keywords\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "badrcv"), "properties")), "[\"receivedAt\"]");
	CHECK_EQ_STR(sget(nc, "blob/type"), "blobNotFound");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "blob"), "notFound")), "[\"m00000000000000000000000000000000\"]");
	CHECK_EQ_STR(sget(nc, "other/type"), "blobNotFound");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "hdr"), "properties")), "[\"headers\"]");
	CHECK_EQ_STR(sget(a, "oldState"), sget(a, "newState"));
}

static void test_quota(void)
{
	json_t *a;
	char big[3000];

	/* The account "tiny" can hold 1000 octets. */
	act_as("tiny@acme.test");
	json_decref(imap_event(req.address, "mailbox.provision", json_pack("{s:I}", "quota", (json_int_t)1000)));
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	a = jcall("[[\"Mailbox/get\",{\"accountId\":\"$A\",\"properties\":[\"name\"]},\"c\"]]");
	{
		json_t *m;
		size_t i;
		const char *tin = NULL;

		json_array_foreach(json_object_get(a, "list"), i, m)
			if (strcmp(sget(m, "name"), "INBOX") == 0)
				tin = sget(m, "id");
		CHECK(tin != NULL);
		a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"create\":{\"q\":{\"mailboxIds\":{\"%s\":true},"
			  "\"textBody\":[{\"partId\":\"1\"}],\"bodyValues\":{\"1\":{\"value\":\"%s\"}}}}},\"c\"]]", tin, big);
	}
	CHECK_EQ_STR(sget(json_object_get(a, "notCreated"), "q/type"), "overQuota");
	act_as("bob@acme.test");
}

static void test_update(void)
{
	json_t *a;
	char state[64], p[64];

	/* Keywords as a whole: $seen and $flagged; $custom goes. */
	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"keywords\":{\"$seen\":true,\"$flagged\":true}}}},"
		  "\"c\"]]", email1);
	CHECK(a != NULL);
	CHECK(json_object_get(json_object_get(a, "updated"), email1) != NULL);
	CHECK_EQ_STR(copies(email1), "INBOX: \\Flagged \\Seen|New: \\Flagged \\Seen");
	/* \Deleted set over IMAP stays through a JMAP keywords change. */
	json_decref(imap_event(req.address, "message.store",
			       json_pack("{s:s, s:[[i,i]], s:s, s:[s]}", "mailbox_id", inbox, "uids", 1, 1, "action", "add",
					 "flags", "\\Deleted")));
	snprintf(state, sizeof state, "%s", sget(a, "newState"));
	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"keywords/$seen\":null,\"keywords/$answered\":true,"
		  "\"keywords/x~1y\":true}}},\"c\"],[\"Email/changes\",{\"accountId\":\"$A\",\"sinceState\":\"%s\"},\"d\"]]",
		  email1, state);
	CHECK_EQ_STR(copies(email1), "INBOX: \\Answered \\Deleted \\Flagged x/y|New: \\Answered \\Flagged x/y");
	/* The IMAP store before it is an Email change too. */
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(rargs(1), "updated"), 0)), email1);
	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"keywords\":{}}}},\"c\"]]", email1);
	CHECK_EQ_STR(copies(email1), "INBOX: \\Deleted|New:");
	/* mailboxIds: one added (a copy), then one in one out (a move). */
	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"mailboxIds/%s\":true}}},\"c\"]]", email1, work);
	CHECK_EQ_STR(copies(email1), "INBOX: \\Deleted|New:|Work:");
	{
		json_t *m = NULL;
		const char *error = NULL;
		char archive[33];

		mail_mailbox_by_name(node.view, req.address, "Archive", &m, &error);
		snprintf(archive, sizeof archive, "%s", sget(m, "id"));
		json_decref(m);
		m = NULL;
		mail_mailbox_by_name(node.view, req.address, "New", &m, &error);
		a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"mailboxIds/%s\":null,"
			  "\"mailboxIds/%s\":true}}},\"c\"]]", email1, sget(m, "id"), archive);
		json_decref(m);
	}
	CHECK(json_is_null(json_object_get(a, "notUpdated")));
	CHECK_EQ_STR(copies(email1), "Archive:|INBOX: \\Deleted|Work:");
	/* A whole mailboxIds: only Work (copy, then both others expunged). */
	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"mailboxIds\":{\"%s\":true}}}},\"c\"]]",
		  email1, work);
	CHECK_EQ_STR(copies(email1), "Work:");
	/* Errors. */
	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"update\":{"
		  "\"%s\":{\"subject\":\"new\"},"
		  "\"%s\":{\"keywords\":{\"a\":true},\"keywords/b\":true},"
		  "\"0000000000000000000000000000000a\":{\"keywords\":{}}}},\"c\"]]",
		  email1, email2);
	snprintf(p, sizeof p, "%s/type", email1);
	CHECK_EQ_STR(sget(json_object_get(a, "notUpdated"), p), "invalidProperties");
	snprintf(p, sizeof p, "%s/type", email2);
	CHECK_EQ_STR(sget(json_object_get(a, "notUpdated"), p), "invalidPatch");
	CHECK_EQ_STR(sget(json_object_get(a, "notUpdated"), "0000000000000000000000000000000a/type"), "notFound");
	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"update\":{"
		  "\"%s\":{\"mailboxIds\":{}},"
		  "\"%s\":{\"mailboxIds/00000000000000000000000000000000\":true}}},\"c\"]]", email1, email2);
	snprintf(p, sizeof p, "%s/properties", email1);
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(a, "notUpdated"), email1), "properties")),
		     "[\"mailboxIds\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(a, "notUpdated"), email2), "properties")),
		     "[\"mailboxIds/00000000000000000000000000000000\"]");
	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"keywords/a(\":true}}},\"c\"]]", email1);
	CHECK_EQ_STR(sget(json_object_get(a, "notUpdated"), p), "(none)");
	snprintf(p, sizeof p, "%s/type", email1);
	CHECK_EQ_STR(sget(json_object_get(a, "notUpdated"), p), "invalidProperties");
	CHECK_EQ_STR(copies(email1), "Work:");
}

static void test_destroy(void)
{
	json_t *a;
	char state[64], p[64];

	a = jcall("[[\"Email/get\",{\"accountId\":\"$A\",\"ids\":[]},\"c\"]]");
	/* ifInState wrong: nothing happens. */
	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"ifInState\":\"1\",\"destroy\":[\"%s\"]},\"c\"]]", email1);
	CHECK_EQ_STR(sget(a, "type"), "stateMismatch");
	CHECK_EQ_STR(copies(email1), "Work:");
	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"keywords\":{}}},\"destroy\":[\"%s\",\"%s\"]},"
		  "\"c\"]]", email2, email2, email1);
	CHECK(a != NULL);
	snprintf(state, sizeof state, "%s", sget(a, "oldState"));
	snprintf(p, sizeof p, "%s/type", email2);
	CHECK_EQ_STR(sget(json_object_get(a, "notUpdated"), p), "willDestroy");
	CHECK_EQ_INT(json_array_size(json_object_get(a, "destroyed")), 2);
	CHECK_EQ_STR(copies(email1), "");
	CHECK_EQ_STR(copies(email2), "");
	a = jcall("[[\"Email/changes\",{\"accountId\":\"$A\",\"sinceState\":\"%s\"},\"c\"]]", state);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "destroyed")), 2);
	a = jcall("[[\"Email/set\",{\"accountId\":\"$A\",\"destroy\":[\"%s\",\"#nope\"]},\"c\"]]", email1);
	snprintf(p, sizeof p, "%s/type", email1);
	CHECK_EQ_STR(sget(json_object_get(a, "notDestroyed"), p), "notFound");
	CHECK_EQ_STR(sget(json_object_get(a, "notDestroyed"), "#nope/type"), "notFound");
}

static void test_copy(void)
{
	json_t *a;
	static const char *const caps[] = { JMAP_CAP_MAIL, NULL };

	a = jcall("[[\"Email/copy\",{\"fromAccountId\":\"$A\",\"accountId\":\"$A\",\"create\":{\"c\":{\"id\":\"%s\","
		  "\"mailboxIds\":{\"%s\":true}}}},\"c\"]]", email1, inbox);
	CHECK_EQ_STR(rname(0), "error");
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");
	a = jcall("[[\"Email/copy\",{\"fromAccountId\":\"a000000000000000000000000\",\"accountId\":\"$A\","
		  "\"create\":{\"c\":{\"id\":\"x\"}}},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "fromAccountNotFound");
	a = jcall("[[\"Email/copy\",{\"fromAccountId\":\"$A\",\"accountId\":\"$A\"},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");
	a = jcall("[[\"Email/copy\",{\"fromAccountId\":\"$A\",\"accountId\":\"$A\",\"create\":{\"c\":{}}},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");
	/* A shared account whose owner shares nothing (any more): the
	 * from-account is not found, and as the target too, whatever the
	 * Session said when the request started. */
	accounts[1].id = "shared1";
	accounts[1].name = "team@acme.test";
	accounts[1].owner = "team@acme.test";
	accounts[1].capabilities = caps;
	user.naccounts = 2;
	a = jcall("[[\"Email/copy\",{\"fromAccountId\":\"shared1\",\"accountId\":\"$A\","
		  "\"create\":{\"c\":{\"id\":\"%s\",\"mailboxIds\":{\"%s\":true}}}},\"c\"]]", email1, inbox);
	CHECK_EQ_STR(rname(0), "error");
	CHECK_EQ_STR(sget(a, "type"), "fromAccountNotFound");
	a = jcall("[[\"Email/copy\",{\"fromAccountId\":\"$A\",\"accountId\":\"shared1\","
		  "\"create\":{\"c\":{\"id\":\"%s\",\"mailboxIds\":{\"%s\":true}}}},\"c\"]]", email1, inbox);
	CHECK_EQ_STR(sget(a, "type"), "accountNotFound");
	a = jcall("[[\"Email/set\",{\"accountId\":\"shared1\",\"destroy\":[\"%s\"]},\"c\"]]", email1);
	CHECK_EQ_STR(sget(a, "type"), "accountNotFound");
	accounts[1].owner = NULL;
	user.naccounts = 1;
}

int main(void)
{
	node_setup("jmap-email-set");
	test_run("create", test_create);
	test_run("create_errors", test_create_errors);
	test_run("quota", test_quota);
	test_run("update", test_update);
	test_run("destroy", test_destroy);
	test_run("copy", test_copy);
	node_teardown();
	return test_done();
}

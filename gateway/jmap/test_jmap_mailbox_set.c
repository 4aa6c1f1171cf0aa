/* test_jmap_mailbox_set - Mailbox/set, Mailbox/query and
 * Mailbox/queryChanges on a node with the embedded log: creates with
 * "#cid" parents in any order, renames and moves, subscriptions, destroys
 * with and without onDestroyRemoveEmails, every SetError, ifInState,
 * role and sortOrder set and cleared (mailbox.update), and the view (what
 * IMAP reads) after each write. */
#include "gateway/jmap/test_jmap_set_node.h"

static char id_a[33], id_b[33], id_c[33];

/* The id of the mailbox of that IMAP name, or "" when there is none. */
static const char *mailbox_id(const char *name)
{
	static char id[33];
	json_t *m = NULL;
	const char *error = NULL;

	id[0] = '\0';
	if (mail_mailbox_by_name(node.view, req.address, name, &m, &error) == 1)
		snprintf(id, sizeof id, "%s", json_string_value(json_object_get(m, "id")));
	json_decref(m);
	return id;
}

static int subscribed(const char *name)
{
	json_t *subs = NULL, *v;
	const char *error = NULL;
	size_t i;
	int found = 0;

	mail_subscriptions(node.view, req.address, &subs, &error);
	json_array_foreach(subs, i, v)
		found |= strcmp(json_string_value(v), name) == 0;
	json_decref(subs);
	return found;
}

static void test_create(void)
{
	json_t *a;

	/* The child is listed first: it still waits for its parent. */
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"create\":{"
		  "\"kid\":{\"name\":\"Kid\",\"parentId\":\"#top\"},"
		  "\"top\":{\"name\":\"Tóp\",\"isSubscribed\":true,\"role\":\"flagged\",\"sortOrder\":0}}},\"c1\"],"
		  "[\"Mailbox/get\",{\"accountId\":\"$A\",\"ids\":[\"#kid\"]},\"c2\"]]");
	CHECK(a != NULL);
	CHECK_EQ_STR(rname(0), "Mailbox/set");
	CHECK(json_is_null(json_object_get(a, "notCreated")));
	snprintf(id_a, sizeof id_a, "%s", sget(a, "created/top/id"));
	snprintf(id_b, sizeof id_b, "%s", sget(a, "created/kid/id"));
	CHECK_EQ_INT(strlen(id_a), 32);
	CHECK(strcmp(sget(a, "oldState"), sget(a, "newState")) != 0);
	CHECK_EQ_STR(sget(a, "created/kid/role"), "(null)");
	CHECK(json_is_false(json_object_get(json_object_get(json_object_get(a, "created"), "kid"), "isSubscribed")));
	/* What IMAP sees: the paths, the special use, the subscription. */
	CHECK_EQ_STR(mailbox_id("Tóp"), id_a);
	CHECK_EQ_STR(mailbox_id("Tóp/Kid"), id_b);
	CHECK(subscribed("Tóp"));
	CHECK(!subscribed("Tóp/Kid"));
	/* Mailbox/get of the same request resolves "#kid". */
	CHECK_EQ_STR(rname(1), "Mailbox/get");
	CHECK_EQ_STR(sget(json_array_get(json_object_get(rargs(1), "list"), 0), "parentId"), id_a);
	CHECK_EQ_STR(sget(json_array_get(json_object_get(rargs(1), "list"), 0), "name"), "Kid");
	a = jcall("[[\"Mailbox/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"]},\"c\"]]", id_a);
	CHECK_EQ_STR(sget(json_array_get(json_object_get(a, "list"), 0), "role"), "flagged");
}

static void test_create_errors(void)
{
	json_t *a, *nc;

	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"create\":{"
		  "\"slash\":{\"name\":\"a/b\"},"
		  "\"sort\":{\"name\":\"s\",\"sortOrder\":-5},"
		  "\"inbox\":{\"name\":\"i\",\"role\":\"inbox\"},"
		  "\"dup_role\":{\"name\":\"t\",\"role\":\"trash\"},"
		  "\"bad_role\":{\"name\":\"t\",\"role\":\"important\"},"
		  "\"exists\":{\"name\":\"Tóp\"},"
		  "\"inbox2\":{\"name\":\"INBOX\"},"
		  "\"noparent\":{\"name\":\"x\",\"parentId\":\"00000000000000000000000000000000\"},"
		  "\"badref\":{\"name\":\"x\",\"parentId\":\"#nothing\"},"
		  "\"noname\":{\"isSubscribed\":true},"
		  "\"empty\":{\"name\":\"\"},"
		  "\"server\":{\"name\":\"x\",\"totalEmails\":0},"
		  "\"unknown\":{\"name\":\"x\",\"color\":\"red\"}}},\"c\"]]");
	CHECK(a != NULL);
	nc = json_object_get(a, "notCreated");
	CHECK_EQ_INT(json_object_size(nc), 13);
	CHECK(json_is_null(json_object_get(a, "created")));
	CHECK_EQ_STR(sget(nc, "slash/type"), "invalidProperties");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "slash"), "properties")), "[\"name\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "sort"), "properties")), "[\"sortOrder\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "inbox"), "properties")), "[\"role\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "dup_role"), "properties")), "[\"role\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "bad_role"), "properties")), "[\"role\"]");
	CHECK_EQ_STR(sget(nc, "exists/type"), "alreadyExists");
	CHECK_EQ_STR(sget(nc, "exists/existingId"), id_a);
	/* INBOX exists whatever its case: the store refuses it. */
	CHECK_EQ_STR(sget(nc, "inbox2/type"), "alreadyExists");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "noparent"), "properties")), "[\"parentId\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "badref"), "properties")), "[\"parentId\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "noname"), "properties")), "[\"name\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "empty"), "properties")), "[\"name\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "server"), "properties")), "[\"totalEmails\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "unknown"), "properties")), "[\"color\"]");
	/* Nothing was written: the state did not move. */
	CHECK_EQ_STR(sget(a, "oldState"), sget(a, "newState"));
}

static void test_update(void)
{
	json_t *a, *nu;
	char state[64];

	/* Rename the parent: the child moves with it (IMAP RENAME). */
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"name\":\"Top2\"}}},\"c\"]]", id_a);
	CHECK(a != NULL);
	CHECK(json_object_get(json_object_get(a, "updated"), id_a) != NULL);
	CHECK_EQ_STR(mailbox_id("Top2/Kid"), id_b);
	/* The subscription moved with the name. */
	CHECK(subscribed("Top2"));
	CHECK(!subscribed("Tóp"));
	/* Move the child to the top, subscribe it; ifInState right. */
	snprintf(state, sizeof state, "%s", sget(a, "newState"));
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"ifInState\":\"%s\",\"update\":{\"%s\":"
		  "{\"parentId\":null,\"isSubscribed\":true}}},\"c\"]]", state, id_b);
	CHECK(a != NULL);
	CHECK_EQ_STR(mailbox_id("Kid"), id_b);
	CHECK(subscribed("Kid"));
	/* A subscription alone changes the Mailbox state (and /changes). */
	snprintf(state, sizeof state, "%s", sget(a, "newState"));
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"isSubscribed\":false}}},\"c\"],"
		  "[\"Mailbox/changes\",{\"accountId\":\"$A\",\"sinceState\":\"%s\"},\"d\"]]", id_b, state);
	CHECK(!subscribed("Kid"));
	CHECK(strcmp(sget(a, "newState"), state) != 0);
	CHECK_EQ_INT(json_array_size(json_object_get(rargs(1), "updated")), 1);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(rargs(1), "updated"), 0)), id_b);
	/* ifInState wrong: stateMismatch, nothing done. */
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"ifInState\":\"%s\",\"update\":{\"%s\":{\"name\":\"Z\"}}},\"c\"]]",
		  state, id_b);
	CHECK_EQ_STR(rname(0), "error");
	CHECK_EQ_STR(sget(a, "type"), "stateMismatch");
	CHECK_EQ_STR(mailbox_id("Kid"), id_b);
	/* Every update error. */
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{"
		  "\"%s\":{\"name\":\"Inbox2\"},"
		  "\"%s\":{\"name\":\"Kid\"},"
		  "\"00000000000000000000000000000000\":{\"name\":\"q\"},"
		  "\"#nope\":{\"name\":\"q\"}}},\"c\"]]",
		  mailbox_id("INBOX"), id_a);
	nu = json_object_get(a, "notUpdated");
	CHECK(nu != NULL);
	CHECK_EQ_INT(json_object_size(nu), 4);
	CHECK_EQ_STR(sget(nu, "00000000000000000000000000000000/type"), "notFound");
	CHECK_EQ_STR(sget(nu, "#nope/type"), "notFound");
	{
		char path[64];

		snprintf(path, sizeof path, "%s/type", mailbox_id("INBOX"));
		CHECK_EQ_STR(sget(nu, path), "forbidden");
		snprintf(path, sizeof path, "%s/type", id_a);
		CHECK_EQ_STR(sget(nu, path), "alreadyExists");
		snprintf(path, sizeof path, "%s/existingId", id_a);
		CHECK_EQ_STR(sget(nu, path), id_b);
	}
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"parentId\":\"%s\"}}},\"c\"]]",
		  id_a, id_a);
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(a, "notUpdated"), id_a), "properties")),
		     "[\"parentId\"]");
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"sortOrder\":4294967296,\"name\":\"n\"}}},\"c\"]]",
		  id_a);
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(a, "notUpdated"), id_a), "properties")),
		     "[\"sortOrder\"]");
	CHECK_EQ_STR(mailbox_id("Top2"), id_a);
	/* A mailbox cannot go below itself; role changes are refused. */
	jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"create\":{\"c\":{\"name\":\"C\",\"parentId\":\"%s\"}},"
	      "\"update\":{\"%s\":{\"parentId\":\"#c\"}}},\"c\"]]", id_a, id_a);
	a = rargs(0);
	snprintf(id_c, sizeof id_c, "%s", sget(a, "created/c/id"));
	CHECK_EQ_STR(mailbox_id("Top2/C"), id_c);
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(a, "notUpdated"), id_a), "properties")),
		     "[\"parentId\"]");
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"role\":\"trash\"},"
		  "\"%s\":{\"role\":\"flagged\",\"sortOrder\":0,\"id\":\"%s\"}}},\"c\"]]", id_c, id_a, id_a);
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(a, "notUpdated"), id_c), "properties")),
		     "[\"role\"]");
	CHECK(json_object_get(json_object_get(a, "updated"), id_a) != NULL);
}

static void test_destroy(void)
{
	json_t *a, *nd, *msgs = NULL;
	const char *error = NULL;
	char blob[65];

	/* A message in C (as SMTP delivery or IMAP APPEND would put it). */
	snprintf(blob, sizeof blob, "%064d", 7);
	json_decref(imap_event(req.address, "message.append",
			       json_pack("{s:s, s:s, s:I, s:s, s:I, s:{}, s:[], s:[]}", "mailbox_id", id_c, "blob_id", blob,
					 "blob_size", (json_int_t)10, "prefix", "", "internal_date", (json_int_t)1,
					 "summary", "flags", "keywords")));
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"destroy\":[\"%s\",\"%s\",\"%s\",\"0000000000000000000000000000000f\"]}"
		  ",\"c\"]]", id_a, id_c, mailbox_id("INBOX"));
	nd = json_object_get(a, "notDestroyed");
	{
		char p[64];

		snprintf(p, sizeof p, "%s/type", id_a);
		CHECK_EQ_STR(sget(nd, p), "mailboxHasChild");
		snprintf(p, sizeof p, "%s/type", id_c);
		CHECK_EQ_STR(sget(nd, p), "mailboxHasEmail");
		snprintf(p, sizeof p, "%s/type", mailbox_id("INBOX"));
		CHECK_EQ_STR(sget(nd, p), "forbidden");
		CHECK_EQ_STR(sget(nd, "0000000000000000000000000000000f/type"), "notFound");
	}
	/* With onDestroyRemoveEmails, the child then the parent in one call. */
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"onDestroyRemoveEmails\":true,\"destroy\":[\"%s\",\"%s\"]}"
		  ",\"c\"]]", id_c, id_a);
	CHECK(json_is_null(json_object_get(a, "notDestroyed")));
	CHECK_EQ_INT(json_array_size(json_object_get(a, "destroyed")), 2);
	CHECK_EQ_STR(mailbox_id("Top2"), "");
	CHECK_EQ_STR(mailbox_id("Top2/C"), "");
	CHECK(!subscribed("Top2"));
	CHECK_EQ_INT(mail_messages(node.view, req.address, id_c, 0, &msgs, &error), 0);
	CHECK_EQ_INT(json_array_size(msgs), 0);
	json_decref(msgs);
	/* An update and a destroy of one mailbox: willDestroy. */
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"name\":\"K2\"}},\"destroy\":[\"%s\"]},\"c\"]]",
		  id_b, id_b);
	{
		char p[64];

		snprintf(p, sizeof p, "%s/type", id_b);
		CHECK_EQ_STR(sget(json_object_get(a, "notUpdated"), p), "willDestroy");
	}
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(a, "destroyed"), 0)), id_b);
}

/* The ids of a Mailbox/query answer as "name,name,..." by the view. */
static const char *names(json_t *a)
{
	static char out[1024];
	json_t *v, *all = NULL;
	const char *error = NULL;
	size_t i, k;

	out[0] = '\0';
	mail_mailboxes(node.view, req.address, &all, &error);
	json_array_foreach(json_object_get(a, "ids"), i, v) {
		json_t *m;

		json_array_foreach(all, k, m)
			if (strcmp(sget(m, "id"), json_string_value(v)) == 0)
				snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "," : "", sget(m, "name"));
	}
	json_decref(all);
	return out;
}

static void test_query(void)
{
	json_t *a;
	char state[64], p_id[33];

	jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"create\":{\"p\":{\"name\":\"projects\",\"isSubscribed\":true},"
	      "\"q\":{\"name\":\"beta\",\"parentId\":\"#p\"},\"r\":{\"name\":\"Alpha\",\"parentId\":\"#p\"}}},\"c\"]]");
	snprintf(p_id, sizeof p_id, "%s", sget(rargs(0), "created/p/id"));
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"sort\":[{\"property\":\"name\"}]},\"c\"]]");
	CHECK(a != NULL);
	CHECK_EQ_STR(names(a), "projects/Alpha,Archive,projects/beta,Drafts,INBOX,Junk,projects,Sent,Trash");
	CHECK(json_is_true(json_object_get(a, "canCalculateChanges")));
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"sortAsTree\":true,\"sort\":[{\"property\":\"name\","
		  "\"isAscending\":false}]},\"c\"]]");
	CHECK_EQ_STR(names(a), "Trash,Sent,projects,projects/beta,projects/Alpha,Junk,INBOX,Drafts,Archive");
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"filter\":{\"hasAnyRole\":true},"
		  "\"sort\":[{\"property\":\"name\"}]},\"c\"]]");
	CHECK_EQ_STR(names(a), "Archive,Drafts,INBOX,Junk,Sent,Trash");
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"filter\":{\"role\":\"junk\"}},\"c\"]]");
	CHECK_EQ_STR(names(a), "Junk");
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"filter\":{\"parentId\":\"%s\"},"
		  "\"sort\":[{\"property\":\"sortOrder\"},{\"property\":\"name\"}]},\"c\"]]", p_id);
	CHECK_EQ_STR(names(a), "projects/Alpha,projects/beta");
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"filter\":{\"operator\":\"AND\",\"conditions\":["
		  "{\"name\":\"AR\"},{\"operator\":\"NOT\",\"conditions\":[{\"role\":null}]}]},"
		  "\"sort\":[{\"property\":\"name\"}]},\"c\"]]");
	CHECK_EQ_STR(names(a), "Archive");
	/* filterAsTree: a child of an excluded parent is excluded too. */
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"filterAsTree\":true,\"filter\":{\"name\":\"a\"},"
		  "\"sort\":[{\"property\":\"name\"}]},\"c\"]]");
	CHECK_EQ_STR(names(a), "Archive,Drafts,Trash");
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"filter\":{\"isSubscribed\":true,\"parentId\":null},"
		  "\"sort\":[{\"property\":\"name\"}],\"calculateTotal\":true,\"limit\":2,\"position\":1},\"c\"]]");
	CHECK_EQ_STR(names(a), "Drafts,INBOX");
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "total")), 7);
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"filter\":{\"color\":\"red\"}},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "unsupportedFilter");
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"filter\":{\"hasAnyRole\":\"yes\"}},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "unsupportedFilter");
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"sort\":[{\"property\":\"totalEmails\"}]},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "unsupportedSort");
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"sortAsTree\":1},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");

	/* queryChanges: a new mailbox, a rename, a subscription. */
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"filter\":{\"parentId\":\"%s\"},"
		  "\"sort\":[{\"property\":\"name\"}]},\"c\"]]", p_id);
	snprintf(state, sizeof state, "%s", sget(a, "queryState"));
	jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"create\":{\"g\":{\"name\":\"gamma\",\"parentId\":\"%s\"}}},\"c\"]]",
	      p_id);
	a = jcall("[[\"Mailbox/queryChanges\",{\"accountId\":\"$A\",\"filter\":{\"parentId\":\"%s\"},"
		  "\"sort\":[{\"property\":\"name\"}],\"sinceQueryState\":\"%s\",\"calculateTotal\":true},\"c\"]]",
		  p_id, state);
	CHECK(a != NULL);
	CHECK_EQ_STR(rname(0), "Mailbox/queryChanges");
	CHECK_EQ_INT(json_array_size(json_object_get(a, "removed")), 0);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "added")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(json_object_get(a, "added"), 0), "index")), 2);
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "total")), 3);
	CHECK_EQ_STR(sget(a, "oldQueryState"), state);
	/* A rename of the parent touches the children: each is removed and
	 * added back at its place (the parent is removed too: RFC 8620 5.6
	 * allows ids that may not have been in the results). */
	jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"name\":\"proj\"}}},\"c\"]]", p_id);
	a = jcall("[[\"Mailbox/queryChanges\",{\"accountId\":\"$A\",\"filter\":{\"parentId\":\"%s\"},"
		  "\"sort\":[{\"property\":\"name\"}],\"sinceQueryState\":\"%s\"},\"c\"]]", p_id, state);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "removed")), 3);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "added")), 3);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(json_object_get(a, "added"), i), "index")), i);
	a = jcall("[[\"Mailbox/queryChanges\",{\"accountId\":\"$A\",\"sinceQueryState\":\"%s\",\"maxChanges\":2},\"c\"]]",
		  state);
	CHECK_EQ_STR(sget(a, "type"), "tooManyChanges");
	a = jcall("[[\"Mailbox/queryChanges\",{\"accountId\":\"$A\",\"sinceQueryState\":\"999999999\"},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "cannotCalculateChanges");
	a = jcall("[[\"Mailbox/queryChanges\",{\"accountId\":\"$A\",\"sinceQueryState\":\"x\"},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "cannotCalculateChanges");
	a = jcall("[[\"Mailbox/queryChanges\",{\"accountId\":\"$A\"},\"c\"]]");
	CHECK_EQ_STR(sget(a, "type"), "invalidArguments");
}

/* The special use IMAP LIST shows for the mailbox of that name. */
static const char *special_use(const char *name)
{
	static char su[32];
	json_t *m = NULL;
	const char *error = NULL;

	su[0] = '\0';
	if (mail_mailbox_by_name(node.view, req.address, name, &m, &error) == 1)
		snprintf(su, sizeof su, "%s", sget(m, "special_use"));
	json_decref(m);
	return su;
}

static void test_role_sort(void)
{
	json_t *a, *nc;
	char state[64], out_id[33], sent_id[33];

	snprintf(sent_id, sizeof sent_id, "%s", mailbox_id("Sent"));
	a = jcall("[[\"Mailbox/get\",{\"accountId\":\"$A\",\"ids\":[]},\"c\"]]");
	snprintf(state, sizeof state, "%s", sget(a, "state"));
	/* Create with a sortOrder; a role another mailbox has is refused. */
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"create\":{\"o\":{\"name\":\"Out\",\"sortOrder\":3},"
		  "\"d\":{\"name\":\"D2\",\"role\":\"drafts\"}}},\"c\"],"
		  "[\"Mailbox/get\",{\"accountId\":\"$A\",\"ids\":[\"#o\"]},\"g\"]]");
	nc = json_object_get(a, "notCreated");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(nc, "d"), "properties")), "[\"role\"]");
	snprintf(out_id, sizeof out_id, "%s", sget(a, "created/o/id"));
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(json_object_get(rargs(1), "list"), 0),
							"sortOrder")), 3);
	/* The role moves: cleared on Sent (null), then given to Out. */
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"role\":\"sent\"}}},\"c\"]]",
		  out_id);
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(a, "notUpdated"), out_id), "properties")),
		     "[\"role\"]");
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"role\":null}}},\"c\"],"
		  "[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"role\":\"sent\",\"sortOrder\":1}}},\"d\"],"
		  "[\"Mailbox/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\",\"%s\"],"
		  "\"properties\":[\"role\",\"sortOrder\"]},\"g\"]]",
		  sent_id, out_id, out_id, sent_id);
	CHECK(json_object_get(json_object_get(rargs(0), "updated"), sent_id) != NULL);
	CHECK(json_object_get(json_object_get(rargs(1), "updated"), out_id) != NULL);
	/* What IMAP LIST (SPECIAL-USE) reads. */
	CHECK_EQ_STR(special_use("Out"), "\\Sent");
	CHECK_EQ_STR(special_use("Sent"), "");
	a = rargs(2);
	CHECK_EQ_STR(sget(json_array_get(json_object_get(a, "list"), 0), "role"), "sent");
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(json_object_get(a, "list"), 0), "sortOrder")), 1);
	CHECK(json_is_null(json_object_get(json_array_get(json_object_get(a, "list"), 1), "role")));
	/* Both are Mailbox changes. */
	a = jcall("[[\"Mailbox/changes\",{\"accountId\":\"$A\",\"sinceState\":\"%s\"},\"c\"]]", state);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "created")), 1);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "updated")), 1);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(a, "updated"), 0)), sent_id);
	/* RFC 8621 2: sortOrder, then name. */
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"filter\":{\"hasAnyRole\":true},"
		  "\"sort\":[{\"property\":\"sortOrder\"}]},\"c\"]]");
	CHECK_EQ_STR(names(a), "Archive,Drafts,INBOX,Junk,Trash,Out");
	a = jcall("[[\"Mailbox/query\",{\"accountId\":\"$A\",\"filter\":{\"hasAnyRole\":true},"
		  "\"sort\":[{\"property\":\"sortOrder\",\"isAscending\":false}]},\"c\"]]");
	CHECK_EQ_STR(names(a), "Out,Archive,Drafts,INBOX,Junk,Trash");
	/* INBOX keeps its role; a role no store keeps is refused. */
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"role\":null},"
		  "\"%s\":{\"role\":\"important\"}}},\"c\"]]", mailbox_id("INBOX"), sent_id);
	CHECK_EQ_INT(json_object_size(json_object_get(a, "notUpdated")), 2);
	/* sortOrder back to 0: stored as absent. */
	a = jcall("[[\"Mailbox/set\",{\"accountId\":\"$A\",\"update\":{\"%s\":{\"sortOrder\":0}}},\"c\"],"
		  "[\"Mailbox/get\",{\"accountId\":\"$A\",\"ids\":[\"%s\"]},\"g\"]]", out_id, out_id);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(json_object_get(rargs(1), "list"), 0),
							"sortOrder")), 0);
	CHECK_EQ_STR(special_use("Out"), "\\Sent");
}

int main(void)
{
	node_setup("jmap-mailbox-set");
	test_run("create", test_create);
	test_run("create_errors", test_create_errors);
	test_run("update", test_update);
	test_run("destroy", test_destroy);
	test_run("query", test_query);
	test_run("role and sortOrder", test_role_sort);
	node_teardown();
	return test_done();
}

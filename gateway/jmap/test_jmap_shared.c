/* test_jmap_shared - the pure parts of shared accounts: RFC 8621 2.4
 * myRights from RFC 4314 rights, the rights check of a call's scope, and
 * the filtering of an email's mailboxIds by it. */
#include "gateway/jmap/jmap_shared.h"
#include "projector/mail_acl.h"
#include "tests/unit/testlib.h"

/* myRights of rights letters (valid ones: a bad letter is no right). */
static json_t *rights_of(const char *letters)
{
	unsigned bits = 0;

	if (mail_rights_parse(letters, &bits) < 0)
		bits = 0;
	return jmap_shared_rights(bits);
}

static int may(json_t *rights, const char *name)
{
	return json_is_true(json_object_get(rights, name));
}

static void test_rights(void)
{
	json_t *r = rights_of("lr");

	CHECK(may(r, "mayReadItems"));
	CHECK(!may(r, "mayAddItems") && !may(r, "mayRemoveItems") && !may(r, "maySetSeen"));
	CHECK(!may(r, "maySetKeywords") && !may(r, "mayCreateChild") && !may(r, "mayRename"));
	CHECK(!may(r, "mayDelete") && !may(r, "maySubmit"));
	CHECK_EQ_INT((int)json_object_size(r), 9);
	json_decref(r);
	r = rights_of("lrswi");
	CHECK(may(r, "maySetSeen") && may(r, "maySetKeywords") && may(r, "mayAddItems"));
	CHECK(!may(r, "mayRemoveItems"));
	json_decref(r);
	/* mayRemoveItems needs both t and e. */
	r = rights_of("lrt");
	CHECK(!may(r, "mayRemoveItems"));
	json_decref(r);
	r = rights_of("lrte");
	CHECK(may(r, "mayRemoveItems"));
	json_decref(r);
	/* d is x t e (RFC 4314 2.1.1); mailbox changes stay the owner's. */
	r = rights_of("lrdkxa");
	CHECK(may(r, "mayRemoveItems") && !may(r, "mayDelete") && !may(r, "mayRename"));
	CHECK(!may(r, "mayCreateChild"));
	json_decref(r);
}

static void test_allows(void)
{
	json_t *scope = json_pack("{s:i, s:i}", "m1", MAIL_R_READ | MAIL_R_SEEN, "m2",
				  MAIL_R_READ | MAIL_R_DELMSG | MAIL_R_EXPUNGE);

	CHECK(jmap_shared_allows(NULL, "anything", MAIL_R_EVERY));
	CHECK(jmap_shared_allows(scope, "m1", MAIL_R_SEEN));
	CHECK(!jmap_shared_allows(scope, "m1", MAIL_R_SEEN | MAIL_R_WRITE));
	CHECK(jmap_shared_allows(scope, "m2", MAIL_R_DELMSG | MAIL_R_EXPUNGE));
	CHECK(!jmap_shared_allows(scope, "m2", MAIL_R_INSERT));
	CHECK(!jmap_shared_allows(scope, "m3", 0));
	json_decref(scope);
}

static void test_filter(void)
{
	json_t *scope = json_pack("{s:i}", "m1", MAIL_R_READ);
	json_t *boxes = json_pack("{s:b, s:b}", "m1", 1, "m2", 1);

	jmap_shared_filter(NULL, boxes);
	CHECK_EQ_INT((int)json_object_size(boxes), 2);
	jmap_shared_filter(scope, boxes);
	CHECK_EQ_INT((int)json_object_size(boxes), 1);
	CHECK(json_object_get(boxes, "m1") != NULL);
	json_decref(boxes);
	json_decref(scope);
}

int main(void)
{
	test_run("myRights from RFC 4314 rights", test_rights);
	test_run("rights of a scope", test_allows);
	test_run("mailboxIds filtered by a scope", test_filter);
	return test_done();
}

/* test_jmap_identity_changes - Identity/changes over the default
 * identities the directory derives (jmap_submission.h): an alias added
 * to or removed from the account moves the Identity state (Identity/get,
 * push states), /changes across it is cannotCalculateChanges, /changes
 * from the new state reports only stored changes, an alias of another
 * account changes nothing, and the push subscribers of the alias's target
 * are woken by the directory change. */
#define TJN_USING_MORE ",\"urn:ietf:params:jmap:submission\""
#include "gateway/jmap/test_jmap_node.h"
#include "gateway/jmap/jmap_push.h"
#include "gateway/jmap/jmap_submission.h"

static struct tjn_user bob, ann;

/* Runs one call with "$A" replaced by u's account id. */
static json_t *call(struct tjn_user *u, const char *method, const char *args_fmt, const char *arg)
{
	char args[1024], calls[2048];
	const char *p;
	size_t n = 0;

	snprintf(args, sizeof args, args_fmt, arg);
	for (p = args; *p && n + JMAP_ACCOUNT_ID_LEN + 1 < sizeof calls / 2; p++) {
		if (p[0] == '$' && p[1] == 'A') {
			n += (size_t)snprintf(calls + n, sizeof calls - n, "%s", u->req.account_id);
			p++;
		} else {
			calls[n++] = *p;
		}
	}
	calls[n] = '\0';
	snprintf(args, sizeof args, "%s", calls);
	snprintf(calls, sizeof calls, "[[\"%s\",%s,\"c\"]]", method, args);
	return request(u, calls);
}

static int woken;

static void on_change(void *ctx, const char *account)
{
	(void)ctx;
	(void)account;
	woken++;
}

static void test_defaults_move_the_state(void)
{
	char s0[JMAP_STATE_MAX], s1[JMAP_STATE_MAX], s2[JMAP_STATE_MAX], s3[JMAP_STATE_MAX];
	int64_t push0[MAIL_J_TYPES], push1[MAIL_J_TYPES];
	struct projector_sub *sub;
	json_t *a;

	a = call(&bob, "Identity/get", "{\"accountId\":\"$A\"%s}", "");
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "list")), 1);
	snprintf(s0, sizeof s0, "%s", sget(a, "state"));
	CHECK_EQ_INT(jmap_push_states(node.view, bob.req.address, push0), 0);

	/* An alias of bob: a new default identity, a new state everywhere. */
	sub = projector_subscribe(node.projector, bob.req.address, on_change, NULL);
	woken = 0;
	submit(EVM_TOPIC_DIRECTORY, "", "alias.add",
	       json_pack("{s:s, s:s}", "alias", "sales@acme.test", "target", "bob@acme.test"));
	{
		int64_t deadline = evm_mono_ms() + TJN_WAIT_MS;

		/* The notification runs on the loop after the commit. */
		while (woken == 0 && evm_mono_ms() < deadline) {
			struct timeval tick = { 0, 5000 };

			event_base_loopexit(node.base, &tick);
			event_base_dispatch(node.base);
		}
	}
	CHECK(woken > 0);
	projector_unsubscribe(&sub);
	a = call(&bob, "Identity/get", "{\"accountId\":\"$A\"%s}", "");
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "list")), 2);
	CHECK_EQ_STR(sget(json_array_get(json_object_get(a, "list"), 1), "email"), "sales@acme.test");
	snprintf(s1, sizeof s1, "%s", sget(a, "state"));
	CHECK(strcmp(s0, s1) != 0);
	CHECK_EQ_INT(jmap_push_states(node.view, bob.req.address, push1), 0);
	CHECK(push0[MAIL_J_IDENTITY] != push1[MAIL_J_IDENTITY]);
	CHECK(push0[MAIL_J_EMAIL] == push1[MAIL_J_EMAIL]);

	/* RFC 8620 5.2: the defaults changed, the client fetches again. */
	a = call(&bob, "Identity/changes", "{\"accountId\":\"$A\",\"sinceState\":\"%s\"}", s0);
	CHECK_EQ_STR(resp_name(0), "error");
	CHECK_EQ_STR(sget(a, "type"), "cannotCalculateChanges");
	/* From the new state: nothing, and then the stored changes. */
	a = call(&bob, "Identity/changes", "{\"accountId\":\"$A\",\"sinceState\":\"%s\"}", s1);
	CHECK_EQ_STR(resp_name(0), "Identity/changes");
	CHECK_EQ_STR(sget(a, "newState"), s1);
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "updated")), 0);
	a = call(&bob, "Identity/set", "{\"accountId\":\"$A\",\"create\":{\"n\":{\"email\":\"sales@acme.test\"%s}}}",
		 ",\"name\":\"Sales\"");
	CHECK(json_object_get(json_object_get(a, "created"), "n") != NULL);
	snprintf(s2, sizeof s2, "%s", sget(a, "newState"));
	CHECK(strcmp(s2, s1) != 0);
	a = call(&bob, "Identity/changes", "{\"accountId\":\"$A\",\"sinceState\":\"%s\"}", s1);
	CHECK_EQ_STR(resp_name(0), "Identity/changes");
	CHECK_EQ_INT((int)json_array_size(json_object_get(a, "created")), 1);
	CHECK_EQ_STR(sget(a, "newState"), s2);
	a = call(&bob, "Identity/get", "{\"accountId\":\"$A\",\"ids\":[]%s}", "");
	CHECK_EQ_STR(sget(a, "state"), s2);

	/* An alias of another account leaves bob's state as it was. */
	submit(EVM_TOPIC_DIRECTORY, "", "alias.add",
	       json_pack("{s:s, s:s}", "alias", "info@acme.test", "target", "ann@acme.test"));
	a = call(&bob, "Identity/get", "{\"accountId\":\"$A\",\"ids\":[]%s}", "");
	CHECK_EQ_STR(sget(a, "state"), s2);

	/* The alias removed: the state moves again, the identity is gone. */
	submit(EVM_TOPIC_DIRECTORY, "", "alias.remove",
	       json_pack("{s:s, s:s}", "alias", "sales@acme.test", "target", "bob@acme.test"));
	a = call(&bob, "Identity/get", "{\"accountId\":\"$A\"%s}", "");
	snprintf(s3, sizeof s3, "%s", sget(a, "state"));
	CHECK(strcmp(s3, s2) != 0);
	CHECK(strcmp(s3, s1) != 0);
	call(&bob, "Identity/changes", "{\"accountId\":\"$A\",\"sinceState\":\"%s\"}", s2);
	CHECK_EQ_STR(resp_name(0), "error");
	/* A state that is none of ours stays cannotCalculateChanges. */
	a = call(&bob, "Identity/changes", "{\"accountId\":\"$A\",\"sinceState\":\"%s\"}", "x1");
	CHECK_EQ_STR(sget(a, "type"), "cannotCalculateChanges");
}

static void test_all(void)
{
	setup("jmap_identity_changes");
	add_user(&bob, "bob@acme.test", 0);
	add_user(&ann, "ann@acme.test", 0);
	test_defaults_move_the_state();
	teardown();
}

int main(void)
{
	test_run("identity changes from the directory", test_all);
	json_decref(last.body);
	return test_done();
}

/* test_jmap_api - the engine end to end with fake methods: Core/echo,
 * unknownMethod, the result reference chain of RFC 8620 3.7, createdIds,
 * request limits, asynchronous handlers finished from a timer, several
 * responses to one call, cancellation. */
#include "gateway/jmap/test_jmap_fake.h"

#define REQ(calls) "{" USING_CORE_MAIL ",\"methodCalls\":[" calls "]}"

static void test_echo(void)
{
	struct jmap_api *api = fake_api();
	struct test_result r = jrun(api, "{\"using\":[\"urn:ietf:params:jmap:core\"],\"methodCalls\":"
				       "[[\"Core/echo\",{\"hello\":true,\"high\":[1,\"é\",null]},\"b3ff\"]]}");

	CHECK_EQ_INT(r.status, 200);
	CHECK_JSON(r.body, "{\"methodResponses\":[[\"Core/echo\",{\"hello\":true,\"high\":[1,\"é\",null]},"
		   "\"b3ff\"]],\"sessionState\":\"s1\"}");
	json_decref(r.body);
	jmap_api_free(&api);
}

static void test_unknown_method(void)
{
	struct jmap_api *api = fake_api();
	struct test_result r;

	r = jrun(api, REQ("[\"Nope/get\",{},\"c1\"],[\"Core/echo\",{},\"c2\"]"));
	CHECK_JSON(test_resp(&r, 0), "[\"error\",{\"type\":\"unknownMethod\"},\"c1\"]");
	/* The next call still runs. */
	CHECK_EQ_STR(test_resp_name(&r, 1), "Core/echo");
	json_decref(r.body);
	/* A method whose capability is not in "using" is unknown. */
	r = jrun(api, "{\"using\":[\"urn:ietf:params:jmap:mail\"],\"methodCalls\":"
		     "[[\"Core/echo\",{},\"c1\"]]}");
	CHECK_EQ_STR(test_resp_type(&r, 0), "unknownMethod");
	json_decref(r.body);
	r = jrun(api, "{\"using\":[\"urn:ietf:params:jmap:core\"],\"methodCalls\":"
		     "[[\"Foo/get\",{\"accountId\":\"u1\"},\"c1\"]]}");
	CHECK_EQ_STR(test_resp_type(&r, 0), "unknownMethod");
	json_decref(r.body);
	jmap_api_free(&api);
}

/* RFC 8620 3.7, the example: Email/query -> Email/get -> Thread/get ->
 * Email/get through "#ids", with "*" over arrays and flattening. */
static void test_rfc_chain(void)
{
	struct jmap_api *api = fake_api();
	struct test_result r = jrun(api, REQ(
		"[\"Email/query\",{\"accountId\":\"u1\",\"filter\":{\"inMailbox\":\"id_of_inbox\"},"
		"\"sort\":[{\"property\":\"receivedAt\",\"isAscending\":false}],\"collapseThreads\":true,"
		"\"position\":0,\"limit\":10,\"calculateTotal\":true},\"t0\"],"
		"[\"Email/get\",{\"accountId\":\"u1\",\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/query\","
		"\"path\":\"/ids\"},\"properties\":[\"threadId\"]},\"t1\"],"
		"[\"Thread/get\",{\"accountId\":\"u1\",\"#ids\":{\"resultOf\":\"t1\",\"name\":\"Email/get\","
		"\"path\":\"/list/*/threadId\"}},\"t2\"],"
		"[\"Email/get\",{\"accountId\":\"u1\",\"#ids\":{\"resultOf\":\"t2\",\"name\":\"Thread/get\","
		"\"path\":\"/list/*/emailIds\"},\"properties\":[\"from\",\"receivedAt\",\"subject\"]},\"t3\"]"));

	CHECK_EQ_INT(r.status, 200);
	CHECK_JSON(json_object_get(test_resp_args(&r, 1), "list"),
		   "[{\"id\":\"m1\",\"threadId\":\"T1\"},{\"id\":\"m2\",\"threadId\":\"T2\"}]");
	CHECK_JSON(json_object_get(test_resp_args(&r, 2), "list"),
		   "[{\"emailIds\":[\"m1\",\"m3\"],\"id\":\"T1\"},{\"emailIds\":[\"m2\"],\"id\":\"T2\"}]");
	CHECK_JSON(json_object_get(test_resp_args(&r, 3), "list"),
		   "[{\"id\":\"m1\",\"threadId\":\"T1\"},{\"id\":\"m3\",\"threadId\":\"T1\"},"
		   "{\"id\":\"m2\",\"threadId\":\"T2\"}]");
	CHECK_EQ_STR(test_resp_name(&r, 3), "Email/get");
	CHECK_EQ_STR(json_string_value(json_array_get(test_resp(&r, 3), 2)), "t3");
	json_decref(r.body);
	jmap_api_free(&api);
}

static void test_bad_references(void)
{
	struct jmap_api *api = fake_api();
	struct test_result r = jrun(api, REQ(
		"[\"Fail/op\",{},\"f\"],"
		"[\"Email/get\",{\"accountId\":\"u1\",\"#ids\":{\"resultOf\":\"f\",\"name\":\"Fail/op\","
		"\"path\":\"/ids\"}},\"a\"],"
		"[\"Email/get\",{\"accountId\":\"u1\",\"#ids\":{\"resultOf\":\"zz\",\"name\":\"Email/get\","
		"\"path\":\"/ids\"}},\"b\"],"
		"[\"Email/get\",{\"accountId\":\"u1\",\"ids\":[],\"#ids\":{\"resultOf\":\"f\",\"name\":\"error\","
		"\"path\":\"/type\"}},\"c\"]"));

	CHECK_JSON(test_resp(&r, 0), "[\"error\",{\"description\":\"the disk is on fire\","
		   "\"type\":\"serverFail\"},\"f\"]");
	CHECK_EQ_STR(test_resp_type(&r, 1), "invalidResultReference");
	CHECK_EQ_STR(test_resp_type(&r, 2), "invalidResultReference");
	CHECK_EQ_STR(test_resp_type(&r, 3), "invalidArguments");
	CHECK(json_is_string(json_object_get(test_resp_args(&r, 1), "description")));
	json_decref(r.body);
	jmap_api_free(&api);
}

/* RFC 8620 3.3: createdIds given in the request are used and returned with
 * this request's creations; without it, creations still resolve in the
 * request but no createdIds is returned. */
static void test_created_ids(void)
{
	struct jmap_api *api = fake_api();
	struct test_result r = jrun(api,
		"{" USING_CORE_MAIL ",\"createdIds\":{\"k1\":\"id1\"},\"methodCalls\":["
		"[\"Foo/set\",{\"accountId\":\"u1\",\"create\":{\"c1\":{}},\"update\":{\"#k1\":{}}},\"s\"],"
		"[\"Foo/get\",{\"accountId\":\"u1\",\"ids\":[\"#c1\",\"#k1\",\"#zz\"]},\"g\"]]}");

	CHECK_EQ_INT(r.status, 200);
	CHECK_JSON(json_object_get(test_resp_args(&r, 0), "created"), "{\"c1\":{\"id\":\"srv-c1\"}}");
	CHECK_JSON(json_object_get(test_resp_args(&r, 0), "updated"), "{\"id1\":null}");
	CHECK_JSON(json_object_get(test_resp_args(&r, 1), "list"),
		   "[{\"id\":\"srv-c1\"},{\"id\":\"id1\"},{\"id\":\"#zz\"}]");
	CHECK_JSON(json_object_get(r.body, "createdIds"), "{\"c1\":\"srv-c1\",\"k1\":\"id1\"}");
	json_decref(r.body);

	r = jrun(api, REQ(
		"[\"Foo/set\",{\"accountId\":\"u1\",\"create\":{\"c1\":{}}},\"s\"],"
		"[\"Foo/get\",{\"accountId\":\"u1\",\"ids\":[\"#c1\"]},\"g\"]"));
	CHECK_JSON(json_object_get(test_resp_args(&r, 1), "list"), "[{\"id\":\"srv-c1\"}]");
	CHECK(json_object_get(r.body, "createdIds") == NULL);
	json_decref(r.body);

	/* An empty createdIds is given back too. */
	r = jrun(api, "{" USING_CORE_MAIL ",\"createdIds\":{},\"methodCalls\":[]}");
	CHECK_JSON(r.body, "{\"createdIds\":{},\"methodResponses\":[],\"sessionState\":\"s1\"}");
	json_decref(r.body);
	jmap_api_free(&api);
}

static void test_request_limits(void)
{
	struct jmap_api *api = fake_api();
	struct jmap_run_params p = { .user = &test_user, .session_state = "s1" };
	struct test_result r = { 0 };
	static const char body[] = "{\"using\":[],\"methodCalls\":[]}";
	char big[5000];

	r = jrun(api, REQ("[\"Core/echo\",{},\"1\"],[\"Core/echo\",{},\"2\"],[\"Core/echo\",{},\"3\"],"
			      "[\"Core/echo\",{},\"4\"],[\"Core/echo\",{},\"5\"]"));
	CHECK_EQ_INT(r.status, 400);
	CHECK_JSON(r.body, "{\"detail\":\"more than 4 method calls in one request\",\"limit\":"
		   "\"maxCallsInRequest\",\"status\":400,\"type\":\"urn:ietf:params:jmap:error:limit\"}");
	json_decref(r.body);

	snprintf(big, sizeof big, "{\"using\":[],\"methodCalls\":[],\"x\":\"%04200d\"}", 0);
	r = jrun(api, big);
	CHECK_EQ_STR(test_resp_type(&r, 0), JMAP_PROBLEM_LIMIT);
	CHECK_EQ_STR(json_string_value(json_object_get(r.body, "limit")), "maxSizeRequest");
	json_decref(r.body);

	r = jrun(api, "{\"using\":[\"urn:ietf:params:jmap:contacts\"],\"methodCalls\":[]}");
	CHECK_EQ_STR(test_resp_type(&r, 0), JMAP_PROBLEM_UNKNOWN_CAPABILITY);
	json_decref(r.body);

	/* RFC 8620 3.6.1: a body that is not application/json is notJSON. */
	r = (struct test_result){ 0 };
	jmap_api_run(api, &p, "text/plain", body, strlen(body), test_done_cb, &r);
	event_base_dispatch(test_base);
	CHECK_EQ_INT(r.done, 1);
	CHECK_EQ_STR(test_resp_type(&r, 0), JMAP_PROBLEM_NOT_JSON);
	json_decref(r.body);
	/* No content type at all (WebSocket) is fine. */
	r = (struct test_result){ 0 };
	jmap_api_run(api, &p, NULL, body, strlen(body), test_done_cb, &r);
	event_base_dispatch(test_base);
	CHECK_EQ_INT(r.status, 200);
	json_decref(r.body);
	jmap_api_free(&api);
}

/* Handlers that finish from a timer: the calls still run in order and the
 * next starts only when the previous is finished. */
static void test_async(void)
{
	struct jmap_api *api = fake_api();
	struct test_result r;

	slow_log[0] = '\0';
	r = jrun(api, REQ("[\"Slow/op\",{\"n\":1},\"a\"],[\"Core/echo\",{\"x\":1},\"b\"],"
			      "[\"Slow/op\",{\"#n\":{\"resultOf\":\"a\",\"name\":\"Slow/op\",\"path\":\"/n\"}},\"c\"],"
			      "[\"Slow/op\",{\"n\":\"bad\"},\"d\"]"));
	CHECK_EQ_INT(r.status, 200);
	CHECK_JSON(json_object_get(r.body, "methodResponses"),
		   "[[\"Slow/op\",{\"n\":1},\"a\"],[\"Core/echo\",{\"x\":1},\"b\"],"
		   "[\"Slow/op\",{\"n\":1},\"c\"],"
		   "[\"error\",{\"description\":\"n: is not an Int\",\"type\":\"invalidArguments\"},\"d\"]]");
	CHECK_EQ_STR(slow_log, "1,1,");
	json_decref(r.body);
	jmap_api_free(&api);
}

/* maxConcurrentRequests (2 here) counts one user's runs in flight. */
static void test_concurrency(void)
{
	static const struct jmap_user bob = { .username = "bob", .accounts = test_accounts, .naccounts = 1 };
	static const char slow[] = REQ("[\"Slow/op\",{\"n\":7},\"a\"]");
	struct jmap_api *api = fake_api();
	struct jmap_run_params pa = { .user = &test_user, .session_state = "s1" };
	struct jmap_run_params pb = { .user = &bob, .session_state = "s1" };
	struct test_result r[4] = { { 0 } };

	slow_log[0] = '\0';
	jmap_api_run(api, &pa, NULL, slow, strlen(slow), test_done_cb, &r[0]);
	jmap_api_run(api, &pa, NULL, slow, strlen(slow), test_done_cb, &r[1]);
	jmap_api_run(api, &pa, NULL, slow, strlen(slow), test_done_cb, &r[2]);
	jmap_api_run(api, &pb, NULL, slow, strlen(slow), test_done_cb, &r[3]);
	event_base_dispatch(test_base);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(r[i].done, 1);
	CHECK_EQ_INT(r[0].status, 200);
	CHECK_EQ_INT(r[1].status, 200);
	CHECK_EQ_INT(r[2].status, 400);
	CHECK_EQ_STR(json_string_value(json_object_get(r[2].body, "limit")), "maxConcurrentRequests");
	CHECK_EQ_INT(r[3].status, 200);
	for (int i = 0; i < 4; i++)
		json_decref(r[i].body);
	/* The places are given back. */
	r[0] = jrun(api, slow);
	CHECK_EQ_INT(r[0].status, 200);
	json_decref(r[0].body);
	jmap_api_free(&api);
}

/* Cancelled runs never call back; a handler in progress still finishes. */
static void test_cancel(void)
{
	static const char slow[] = REQ("[\"Slow/op\",{\"n\":1},\"a\"],[\"Slow/op\",{\"n\":2},\"b\"]");
	static const char echo[] = REQ("[\"Core/echo\",{},\"a\"]");
	struct jmap_api *api = fake_api();
	struct jmap_run_params p = { .user = &test_user, .session_state = "s1" };
	struct test_result r = { 0 };
	struct jmap_account *acct = malloc(sizeof *acct);
	struct jmap_user *user = malloc(sizeof *user);
	struct jmap_run *run;

	/* The caller's user is gone as soon as it cancelled (ASan sees any use). */
	*acct = test_accounts[0];
	*user = (struct jmap_user){ .username = "alice@example.com", .accounts = acct, .naccounts = 1 };
	p.user = user;
	slow_log[0] = '\0';
	run = jmap_api_run(api, &p, NULL, slow, strlen(slow), test_done_cb, &r);
	jmap_run_cancel(&run);
	free(acct);
	free(user);
	p.user = &test_user;
	CHECK(run == NULL);
	run = jmap_api_run(api, &p, NULL, echo, strlen(echo), test_done_cb, &r);
	jmap_run_cancel(&run);
	event_base_dispatch(test_base);
	CHECK_EQ_INT(r.done, 0);
	CHECK_EQ_STR(slow_log, "1,");   /* the second call never started */
	r = jrun(api, echo);
	CHECK_EQ_INT(r.status, 200);
	json_decref(r.body);
	jmap_api_free(&api);
}

/* One call, two responses with its id (RFC 8621 7.5); a reference finds
 * the first of them (RFC 8620 3.7 step 1). */
static void test_two_responses(void)
{
	struct jmap_api *api = fake_api();
	struct test_result r = jrun(api, REQ(
		"[\"Foo/set\",{\"accountId\":\"u1\",\"implicit\":true},\"s\"],"
		"[\"Core/echo\",{\"#a\":{\"resultOf\":\"s\",\"name\":\"Foo/set\",\"path\":\"/newState\"}},\"e\"],"
		"[\"Core/echo\",{\"#a\":{\"resultOf\":\"s\",\"name\":\"Email/set\",\"path\":\"/accountId\"}},\"f\"]"));

	CHECK_EQ_STR(test_resp_name(&r, 0), "Foo/set");
	CHECK_JSON(test_resp(&r, 1), "[\"Email/set\",{\"accountId\":\"u1\"},\"s\"]");
	CHECK_JSON(test_resp(&r, 2), "[\"Core/echo\",{\"a\":\"st2\"},\"e\"]");
	CHECK_EQ_STR(test_resp_type(&r, 3), "invalidResultReference");
	json_decref(r.body);
	jmap_api_free(&api);
}

int main(void)
{
	test_run("Core/echo", test_echo);
	test_run("unknownMethod", test_unknown_method);
	test_run("RFC 8620 3.7 reference chain", test_rfc_chain);
	test_run("bad references", test_bad_references);
	test_run("createdIds", test_created_ids);
	test_run("request-level limits and errors", test_request_limits);
	test_run("asynchronous handlers", test_async);
	test_run("maxConcurrentRequests", test_concurrency);
	test_run("cancel", test_cancel);
	test_run("several responses to one call", test_two_responses);
	event_base_free(test_base);
	return test_done();
}

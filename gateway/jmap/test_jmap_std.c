/* test_jmap_std - the argument checks and the standard method shapes of
 * RFC 8620 5 through the engine: every method-level error with its exact
 * type, and the /get, /changes, /set, /query, /queryChanges responses. */
#include "gateway/jmap/test_jmap_fake.h"

#define REQ(calls) "{" USING_CORE_MAIL ",\"methodCalls\":[" calls "]}"

/* The error type (or the name) of the only response to one call. */
static char *one(struct jmap_api *api, const char *call)
{
	char body[2048];
	struct test_result r;
	char *s;

	snprintf(body, sizeof body, REQ("%s"), call);
	r = jrun(api, body);
	if (r.status != 200)
		s = strdup(test_resp_type(&r, 0));
	else if (strcmp(test_resp_name(&r, 0), "error") == 0)
		s = strdup(test_resp_type(&r, 0));
	else
		s = test_dump(test_resp_args(&r, 0));
	json_decref(r.body);
	return s;
}

#define CHECK_ONE(api, call, expect) do { char *g_ = one(api, call); int ok_ = strcmp(g_, expect) == 0; \
	if (!ok_) { fprintf(stderr, "  %s\n  -> %s\n", call, g_); } free(g_); CHECK(ok_); } while (0)

static void test_account_ids(void)
{
	struct jmap_api *api = fake_api();
	struct test_result a, b;

	CHECK_ONE(api, "[\"Foo/get\",{},\"c\"]", "invalidArguments");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":7},\"c\"]", "invalidArguments");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"nobody\"},\"c\"]", "accountNotFound");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"not an id\"},\"c\"]", "accountNotFound");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"other\"},\"c\"]", "accountNotSupportedByMethod");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"shared\"},\"c\"]", "{\"list\":[]}");
	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"shared\"},\"c\"]", "accountReadOnly");
	/* Another user's account and an id that never existed answer alike. */
	a = jrun(api, REQ("[\"Foo/get\",{\"accountId\":\"bobs-account\"},\"c\"]"));
	b = jrun(api, REQ("[\"Foo/get\",{\"accountId\":\"x0\"},\"c\"]"));
	CHECK(json_equal(a.body, b.body));
	json_decref(a.body);
	json_decref(b.body);
	jmap_api_free(&api);
}

static void test_get(void)
{
	struct jmap_api *api = fake_api();

	/* maxObjectsInGet is 3 here. */
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"u1\",\"ids\":[\"a\",\"b\",\"c\"]},\"c\"]",
		  "{\"list\":[{\"id\":\"a\"},{\"id\":\"b\"},{\"id\":\"c\"}]}");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"u1\",\"ids\":[\"a\",\"b\",\"c\",\"d\"]},\"c\"]",
		  "requestTooLarge");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"u1\",\"ids\":\"a\"},\"c\"]", "invalidArguments");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"u1\",\"ids\":[\"a b\"]},\"c\"]", "invalidArguments");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"u1\",\"ids\":[1]},\"c\"]", "invalidArguments");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"u1\",\"ids\":null},\"c\"]", "{\"list\":[]}");
	/* properties: known names only; "id" is always there. */
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"u1\",\"properties\":[\"name\"]},\"c\"]",
		  "{\"list\":[],\"properties\":[\"id\",\"name\"]}");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"u1\",\"properties\":[\"name\",\"id\"]},\"c\"]",
		  "{\"list\":[],\"properties\":[\"name\",\"id\"]}");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"u1\",\"properties\":[\"size\"]},\"c\"]",
		  "invalidArguments");
	CHECK_ONE(api, "[\"Foo/get\",{\"accountId\":\"u1\",\"properties\":\"name\"},\"c\"]",
		  "invalidArguments");
	CHECK_ONE(api, "[\"Email/get\",{\"accountId\":\"u1\",\"ids\":[\"m2\",\"nope\"]},\"c\"]",
		  "{\"accountId\":\"u1\",\"list\":[{\"id\":\"m2\",\"threadId\":\"T2\"}],"
		  "\"notFound\":[\"nope\"],\"state\":\"e1\"}");
	jmap_api_free(&api);
}

static void test_changes(void)
{
	struct jmap_api *api = fake_api();

	CHECK_ONE(api, "[\"Foo/changes\",{\"accountId\":\"u1\",\"sinceState\":\"st1\"},\"c\"]",
		  "{\"accountId\":\"u1\",\"created\":[\"n1\"],\"destroyed\":[\"d1\"],\"hasMoreChanges\":false,"
		  "\"newState\":\"st2\",\"oldState\":\"st1\",\"updated\":[]}");
	CHECK_ONE(api, "[\"Foo/changes\",{\"accountId\":\"u1\",\"sinceState\":\"st1\",\"maxChanges\":1},\"c\"]",
		  "{\"accountId\":\"u1\",\"created\":[\"n1\"],\"destroyed\":[\"d1\"],\"hasMoreChanges\":true,"
		  "\"newState\":\"st2\",\"oldState\":\"st1\",\"updated\":[]}");
	CHECK_ONE(api, "[\"Foo/changes\",{\"accountId\":\"u1\"},\"c\"]", "invalidArguments");
	CHECK_ONE(api, "[\"Foo/changes\",{\"accountId\":\"u1\",\"sinceState\":1},\"c\"]", "invalidArguments");
	CHECK_ONE(api, "[\"Foo/changes\",{\"accountId\":\"u1\",\"sinceState\":\"a\",\"maxChanges\":0},\"c\"]",
		  "invalidArguments");
	CHECK_ONE(api, "[\"Foo/changes\",{\"accountId\":\"u1\",\"sinceState\":\"a\",\"maxChanges\":-1},\"c\"]",
		  "invalidArguments");
	CHECK_ONE(api, "[\"Foo/changes\",{\"accountId\":\"u1\",\"sinceState\":\"a\",\"maxChanges\":1.5},\"c\"]",
		  "invalidArguments");
	CHECK_ONE(api, "[\"Foo/changes\",{\"accountId\":\"u1\",\"sinceState\":\"ancient\"},\"c\"]",
		  "cannotCalculateChanges");
	jmap_api_free(&api);
}

static void test_set(void)
{
	struct jmap_api *api = fake_api();

	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"u1\"},\"c\"]",
		  "{\"accountId\":\"u1\",\"created\":null,\"destroyed\":null,\"newState\":\"st2\","
		  "\"notCreated\":null,\"notDestroyed\":null,\"notUpdated\":null,\"oldState\":\"st1\","
		  "\"updated\":null}");
	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"u1\",\"create\":{\"k\":{\"bad\":1}},"
		  "\"update\":{\"missing\":{},\"x1\":{}}},\"c\"]",
		  "{\"accountId\":\"u1\",\"created\":null,\"destroyed\":null,\"newState\":\"st2\","
		  "\"notCreated\":{\"k\":{\"properties\":[\"bad\"],\"type\":\"invalidProperties\"}},"
		  "\"notDestroyed\":null,\"notUpdated\":{\"missing\":{\"type\":\"notFound\"}},"
		  "\"oldState\":\"st1\",\"updated\":{\"x1\":null}}");
	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"u1\",\"destroy\":[\"missing\",\"#nope\",\"y1\"]},\"c\"]",
		  "{\"accountId\":\"u1\",\"created\":null,\"destroyed\":[\"y1\"],\"newState\":\"st2\","
		  "\"notCreated\":null,"
		  "\"notDestroyed\":{\"#nope\":{\"type\":\"notFound\"},\"missing\":{\"type\":\"notFound\"}},"
		  "\"notUpdated\":null,\"oldState\":\"st1\",\"updated\":null}");
	/* Three objects pass the limit, four do not (below). */
	/* ifInState (RFC 8620 5.3). */
	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"u1\",\"ifInState\":\"st1\"},\"c\"]",
		  "{\"accountId\":\"u1\",\"created\":null,\"destroyed\":null,\"newState\":\"st2\","
		  "\"notCreated\":null,\"notDestroyed\":null,\"notUpdated\":null,\"oldState\":\"st1\","
		  "\"updated\":null}");
	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"u1\",\"ifInState\":\"st0\"},\"c\"]", "stateMismatch");
	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"u1\",\"ifInState\":5},\"c\"]", "invalidArguments");
	/* maxObjectsInSet (3 here) counts create, update and destroy together. */
	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"u1\",\"create\":{\"a\":{},\"b\":{}},"
		  "\"destroy\":[\"x\",\"y\"]},\"c\"]", "requestTooLarge");
	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"u1\",\"create\":[]},\"c\"]", "invalidArguments");
	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"u1\",\"create\":{\"a b\":{}}},\"c\"]", "invalidArguments");
	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"u1\",\"create\":{\"a\":1}},\"c\"]", "invalidArguments");
	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"u1\",\"update\":{\"a\":null}},\"c\"]", "invalidArguments");
	CHECK_ONE(api, "[\"Foo/set\",{\"accountId\":\"u1\",\"destroy\":{}},\"c\"]", "invalidArguments");
	jmap_api_free(&api);
}

static void test_query(void)
{
	struct jmap_api *api = fake_api();

#define Q(args) "[\"Foo/query\",{\"accountId\":\"u1\"" args "},\"c\"]"
#define HEAD "{\"accountId\":\"u1\",\"canCalculateChanges\":true,"
	/* The server caps at 3 and says so when it does. */
	CHECK_ONE(api, Q(""), HEAD "\"ids\":[\"a\",\"b\",\"c\"],\"limit\":3,\"position\":0,\"queryState\":\"q9\"}");
	CHECK_ONE(api, Q(",\"limit\":2"), HEAD "\"ids\":[\"a\",\"b\"],\"position\":0,\"queryState\":\"q9\"}");
	CHECK_ONE(api, Q(",\"position\":3,\"limit\":3,\"calculateTotal\":true"),
		  HEAD "\"ids\":[\"d\",\"e\"],\"position\":3,\"queryState\":\"q9\",\"total\":5}");
	/* A negative position counts from the end, clamped at 0. */
	CHECK_ONE(api, Q(",\"position\":-2,\"limit\":3"),
		  HEAD "\"ids\":[\"d\",\"e\"],\"position\":3,\"queryState\":\"q9\"}");
	CHECK_ONE(api, Q(",\"position\":-9,\"limit\":1"), HEAD "\"ids\":[\"a\"],\"position\":0,\"queryState\":\"q9\"}");
	CHECK_ONE(api, Q(",\"position\":10,\"limit\":1"), HEAD "\"ids\":[],\"position\":10,\"queryState\":\"q9\"}");
	/* An anchor replaces position; its offset may go back. */
	CHECK_ONE(api, Q(",\"position\":4,\"anchor\":\"c\",\"anchorOffset\":-1,\"limit\":2"),
		  HEAD "\"ids\":[\"b\",\"c\"],\"position\":1,\"queryState\":\"q9\"}");
	CHECK_ONE(api, Q(",\"anchor\":\"c\",\"anchorOffset\":-5,\"limit\":1"),
		  HEAD "\"ids\":[\"a\"],\"position\":0,\"queryState\":\"q9\"}");
	CHECK_ONE(api, Q(",\"anchor\":\"zz\""), "anchorNotFound");
	CHECK_ONE(api, Q(",\"anchor\":\"#c\""), "invalidArguments");
	CHECK_ONE(api, Q(",\"limit\":-1"), "invalidArguments");
	CHECK_ONE(api, Q(",\"position\":\"1\""), "invalidArguments");
	CHECK_ONE(api, Q(",\"position\":9007199254740992"), "invalidArguments");
	CHECK_ONE(api, Q(",\"calculateTotal\":1"), "invalidArguments");
	/* Filters: operators checked here, conditions by the method. */
	CHECK_ONE(api, Q(",\"filter\":{\"name\":\"x\"},\"limit\":1"),
		  HEAD "\"ids\":[\"a\"],\"position\":0,\"queryState\":\"q9\"}");
	CHECK_ONE(api, Q(",\"filter\":{\"operator\":\"NOT\",\"conditions\":[{\"name\":\"x\"},"
			 "{\"operator\":\"OR\",\"conditions\":[]}]},\"limit\":1"),
		  HEAD "\"ids\":[\"a\"],\"position\":0,\"queryState\":\"q9\"}");
	CHECK_ONE(api, Q(",\"filter\":{\"body\":\"x\"}"), "unsupportedFilter");
	CHECK_ONE(api, Q(",\"filter\":{\"operator\":\"AND\",\"conditions\":[{\"size\":1}]}"), "unsupportedFilter");
	CHECK_ONE(api, Q(",\"filter\":{\"operator\":\"XOR\",\"conditions\":[]}"), "invalidArguments");
	CHECK_ONE(api, Q(",\"filter\":{\"operator\":\"AND\"}"), "invalidArguments");
	CHECK_ONE(api, Q(",\"filter\":[]"), "invalidArguments");
	/* Sorts. */
	CHECK_ONE(api, Q(",\"sort\":[{\"property\":\"name\",\"isAscending\":false,"
			 "\"collation\":\"i;ascii-casemap\"}],\"limit\":1"),
		  HEAD "\"ids\":[\"a\"],\"position\":0,\"queryState\":\"q9\"}");
	CHECK_ONE(api, Q(",\"sort\":[{\"property\":\"size\"}]"), "unsupportedSort");
	CHECK_ONE(api, Q(",\"sort\":[{\"property\":\"name\",\"collation\":\"i;octet\"}]"), "unsupportedSort");
	CHECK_ONE(api, Q(",\"sort\":[{\"property\":\"name\",\"isAscending\":\"no\"}]"), "invalidArguments");
	CHECK_ONE(api, Q(",\"sort\":[{\"isAscending\":true}]"), "invalidArguments");
	CHECK_ONE(api, Q(",\"sort\":{\"property\":\"name\"}"), "invalidArguments");
#undef Q
#undef HEAD
	jmap_api_free(&api);
}

static void test_query_changes(void)
{
	struct jmap_api *api = fake_api();

#define QC(args) "[\"Foo/queryChanges\",{\"accountId\":\"u1\"" args "},\"c\"]"
	CHECK_ONE(api, QC(",\"sinceQueryState\":\"q1\""),
		  "{\"accountId\":\"u1\",\"added\":[{\"id\":\"b\",\"index\":0},{\"id\":\"c\",\"index\":1}],"
		  "\"newQueryState\":\"q9\",\"oldQueryState\":\"q1\",\"removed\":[\"a\"]}");
	CHECK_ONE(api, QC(",\"sinceQueryState\":\"q1\",\"maxChanges\":3,\"calculateTotal\":true,"
			  "\"upToId\":\"c\",\"filter\":{\"name\":\"n\"}"),
		  "{\"accountId\":\"u1\",\"added\":[{\"id\":\"b\",\"index\":0},{\"id\":\"c\",\"index\":1}],"
		  "\"newQueryState\":\"q9\",\"oldQueryState\":\"q1\",\"removed\":[\"a\"],\"total\":5}");
	/* RFC 8620 5.6: each removed and added item is one change. */
	CHECK_ONE(api, QC(",\"sinceQueryState\":\"q1\",\"maxChanges\":2"), "tooManyChanges");
	CHECK_ONE(api, QC(""), "invalidArguments");
	CHECK_ONE(api, QC(",\"sinceQueryState\":\"q1\",\"upToId\":7"), "invalidArguments");
	CHECK_ONE(api, QC(",\"sinceQueryState\":\"q1\",\"filter\":{\"x\":1}"), "unsupportedFilter");
#undef QC
	jmap_api_free(&api);
}

int main(void)
{
	test_run("accountId checks", test_account_ids);
	test_run("/get", test_get);
	test_run("/changes", test_changes);
	test_run("/set", test_set);
	test_run("/query", test_query);
	test_run("/queryChanges", test_query_changes);
	event_base_free(test_base);
	return test_done();
}

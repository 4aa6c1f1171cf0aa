/* test_jmap_session - the Session resource (RFC 8620 2): its members, the
 * URL templates it insists on, primaryAccounts, and a state that depends
 * on its inputs and nothing else. */
#include "gateway/jmap/jmap_session.h"
#include "gateway/jmap/test_jmap_util.h"

static const struct jmap_session_urls urls = {
	.api = "https://mail.example.com/jmap/api/",
	.download = "https://mail.example.com/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
	.upload = "https://mail.example.com/jmap/upload/{accountId}/",
	.event_source = "https://mail.example.com/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}",
};

static void test_members(void)
{
	struct jmap_api *api = test_api();
	const char *error = NULL;
	json_t *s = NULL, *core;
	char state[JMAP_SESSION_STATE_SIZE];

	CHECK(jmap_session_build(api, &test_user, &urls, &s, &error) == 0);
	core = json_object_get(json_object_get(s, "capabilities"), JMAP_CAP_CORE);
	CHECK_JSON(core, "{\"collationAlgorithms\":[\"i;ascii-casemap\"],\"maxCallsInRequest\":4,"
		   "\"maxConcurrentRequests\":2,\"maxConcurrentUpload\":4,\"maxObjectsInGet\":3,"
		   "\"maxObjectsInSet\":3,\"maxSizeRequest\":4096,\"maxSizeUpload\":50000000}");
	CHECK(json_object_get(json_object_get(s, "capabilities"), CAP_MAIL) != NULL);
	CHECK_JSON(json_object_get(s, "accounts"),
		   "{\"other\":{\"accountCapabilities\":{\"urn:ietf:params:jmap:core\":{}},\"isPersonal\":false,"
		   "\"isReadOnly\":false,\"name\":\"other\"},"
		   "\"shared\":{\"accountCapabilities\":{\"urn:ietf:params:jmap:core\":{},"
		   "\"urn:ietf:params:jmap:mail\":{\"maxMailboxDepth\":10}},\"isPersonal\":false,"
		   "\"isReadOnly\":true,\"name\":\"team@example.com\"},"
		   "\"u1\":{\"accountCapabilities\":{\"urn:ietf:params:jmap:core\":{},"
		   "\"urn:ietf:params:jmap:mail\":{\"maxMailboxDepth\":10}},\"isPersonal\":true,"
		   "\"isReadOnly\":false,\"name\":\"alice@example.com\"}}");
	CHECK_JSON(json_object_get(s, "primaryAccounts"),
		   "{\"urn:ietf:params:jmap:core\":\"u1\",\"urn:ietf:params:jmap:mail\":\"u1\"}");
	CHECK_EQ_STR(json_string_value(json_object_get(s, "username")), "alice@example.com");
	CHECK_EQ_STR(json_string_value(json_object_get(s, "apiUrl")), urls.api);
	CHECK_EQ_STR(json_string_value(json_object_get(s, "downloadUrl")), urls.download);
	CHECK_EQ_STR(json_string_value(json_object_get(s, "uploadUrl")), urls.upload);
	CHECK_EQ_STR(json_string_value(json_object_get(s, "eventSourceUrl")), urls.event_source);
	CHECK(jmap_session_state(api, &test_user, &urls, state, &error) == 0);
	CHECK_EQ_INT(strlen(state), JMAP_SESSION_STATE_SIZE - 1);
	CHECK_EQ_STR(json_string_value(json_object_get(s, "state")), state);
	json_decref(s);
	jmap_api_free(&api);
}

/* The state of user u with urls ur, or "ERR". */
static void state_of(const struct jmap_user *u, const struct jmap_session_urls *ur,
		     char out[JMAP_SESSION_STATE_SIZE])
{
	struct jmap_api *api = test_api();
	const char *error;

	if (jmap_session_state(api, u, ur, out, &error) < 0)
		strcpy(out, "ERR");
	jmap_api_free(&api);
}

static void test_state(void)
{
	struct jmap_account accts[3];
	struct jmap_user u = test_user;
	struct jmap_session_urls ur = urls;
	char a[JMAP_SESSION_STATE_SIZE], b[JMAP_SESSION_STATE_SIZE];

	/* Same inputs, from a fresh engine: the same state. */
	state_of(&test_user, &urls, a);
	state_of(&test_user, &urls, b);
	CHECK_EQ_STR(a, b);
	CHECK(strcmp(a, "ERR") != 0);
	/* Anything else different: another state. */
	memcpy(accts, test_accounts, sizeof accts);
	accts[1].is_read_only = 0;
	u.accounts = accts;
	state_of(&u, &urls, b);
	CHECK(strcmp(a, b) != 0);
	u = test_user;
	u.naccounts = 2;
	state_of(&u, &urls, b);
	CHECK(strcmp(a, b) != 0);
	u.naccounts = 3;
	u.username = "bob@example.com";
	state_of(&u, &urls, b);
	CHECK(strcmp(a, b) != 0);
	ur.api = "https://mail.example.com/jmap/api2/";
	state_of(&test_user, &ur, b);
	CHECK(strcmp(a, b) != 0);
}

static void test_errors(void)
{
	struct jmap_account accts[3];
	struct jmap_user u = test_user;
	struct jmap_session_urls ur = urls;
	static const char *const bad_caps[] = { "urn:nope", NULL };
	char s[JMAP_SESSION_STATE_SIZE];

	ur.download = "https://x/download/{accountId}/{blobId}/{name}";     /* no {type} */
	state_of(&test_user, &ur, s);
	CHECK_EQ_STR(s, "ERR");
	ur = urls;
	ur.upload = "https://x/upload/";
	state_of(&test_user, &ur, s);
	CHECK_EQ_STR(s, "ERR");
	ur = urls;
	ur.event_source = "https://x/es?types={types}&ping={ping}";
	state_of(&test_user, &ur, s);
	CHECK_EQ_STR(s, "ERR");
	ur = urls;
	ur.api = NULL;
	state_of(&test_user, &ur, s);
	CHECK_EQ_STR(s, "ERR");

	memcpy(accts, test_accounts, sizeof accts);
	u.accounts = accts;
	accts[2].id = "u1";                      /* two accounts, one id */
	state_of(&u, &urls, s);
	CHECK_EQ_STR(s, "ERR");
	accts[2].id = "not an id";
	state_of(&u, &urls, s);
	CHECK_EQ_STR(s, "ERR");
	accts[2].id = "other";
	accts[2].capabilities = bad_caps;
	state_of(&u, &urls, s);
	CHECK_EQ_STR(s, "ERR");
}

/* primaryAccounts prefers a personal account, else the first. */
static void test_primary(void)
{
	static const struct jmap_account accts[] = {
		{ .id = "s1", .name = "s1", .capabilities = caps_mail },
		{ .id = "p1", .name = "p1", .is_personal = 1, .capabilities = caps_core },
	};
	struct jmap_user u = { .username = "carol", .accounts = accts, .naccounts = 2 };
	struct jmap_api *api = test_api();
	const char *error;
	json_t *s;

	CHECK(jmap_session_build(api, &u, &urls, &s, &error) == 0);
	CHECK_JSON(json_object_get(s, "primaryAccounts"),
		   "{\"urn:ietf:params:jmap:core\":\"p1\",\"urn:ietf:params:jmap:mail\":\"s1\"}");
	json_decref(s);
	jmap_api_free(&api);
}

int main(void)
{
	test_run("session members", test_members);
	test_run("state from the inputs only", test_state);
	test_run("bad inputs", test_errors);
	test_run("primaryAccounts", test_primary);
	if (test_base != NULL)
		event_base_free(test_base);
	return test_done();
}

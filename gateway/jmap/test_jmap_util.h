/* test_jmap_util - a loop, an engine and a user for the JMAP unit tests:
 * run one request to its end and look at the response. Header-only; each
 * test binary includes it once. */
#ifndef EVM_TEST_JMAP_UTIL_H
#define EVM_TEST_JMAP_UTIL_H

#include "gateway/jmap/jmap_api.h"
#include "tests/unit/testlib.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#define CAP_MAIL "urn:ietf:params:jmap:mail"
#define CAP_OTHER "urn:example:other"
#define USING_CORE_MAIL "\"using\":[\"urn:ietf:params:jmap:core\",\"urn:ietf:params:jmap:mail\"]"

static const char *const caps_mail[] = { JMAP_CAP_CORE, CAP_MAIL, NULL };
static const char *const caps_core[] = { JMAP_CAP_CORE, NULL };

/* u1 is the user's own account, shared is read-only, other has no Mail. */
static const struct jmap_account test_accounts[] = {
	{ .id = "u1", .name = "alice@example.com", .is_personal = 1, .capabilities = caps_mail },
	{ .id = "shared", .name = "team@example.com", .is_read_only = 1, .capabilities = caps_mail },
	{ .id = "other", .name = "other", .capabilities = caps_core },
};

static const struct jmap_user test_user = {
	.username = "alice@example.com",
	.accounts = test_accounts,
	.naccounts = 3,
};

struct test_result {
	int done;                  /* times the callback ran */
	int status;
	json_t *body;              /* copy */
};

/* The run's callback: keeps a copy of the result. */
static inline void test_done_cb(void *arg, int status, json_t *body)
{
	struct test_result *r = arg;

	r->done++;
	r->status = status;
	r->body = json_deep_copy(body);
}

static struct event_base *test_base;

/* An engine with the Mail capability (test limits: 4 calls, 3 objects in
 * get and set, 2 requests at once, 4096 octets, depth 8). */
static inline struct jmap_api *test_api(void)
{
	static const char *const coll[] = { "i;ascii-casemap", NULL };
	struct jmap_settings s;
	struct jmap_api *api;

	jmap_settings_default(&s);
	s.max_calls_in_request = 4;
	s.max_objects_in_get = 3;
	s.max_objects_in_set = 3;
	s.max_concurrent_requests = 2;
	s.max_size_request = 4096;
	s.max_depth = 8;
	s.collation_algorithms = coll;
	if (test_base == NULL)
		test_base = event_base_new();
	api = jmap_api_new(test_base, &s);
	jmap_api_add_capability(api, CAP_MAIL, json_object(), json_pack("{s:i}", "maxMailboxDepth", 10));
	jmap_api_add_capability(api, CAP_OTHER, json_object(), NULL);
	return api;
}

/* Runs body as user to its end; the result (body NULL if the callback did
 * not run exactly once). */
static inline struct test_result jrun_as(struct jmap_api *api, const struct jmap_user *user,
				      const char *body)
{
	struct jmap_run_params p = { .user = user, .session_state = "s1" };
	struct test_result r = { 0 };

	jmap_api_run(api, &p, "application/json; charset=utf-8", body, strlen(body), test_done_cb, &r);
	if (r.done != 0)
		abort();  /* never inside jmap_api_run */
	event_base_dispatch(test_base);
	if (r.done != 1) {
		json_decref(r.body);
		r.body = NULL;
	}
	return r;
}

static inline struct test_result jrun(struct jmap_api *api, const char *body)
{
	return jrun_as(api, &test_user, body);
}

/* methodResponses[i] of a 200 result, or NULL. */
static inline json_t *test_resp(const struct test_result *r, size_t i)
{
	if (r->status != 200)
		return NULL;
	return json_array_get(json_object_get(r->body, "methodResponses"), i);
}

/* Name of response i, "" when there is none. */
static inline const char *test_resp_name(const struct test_result *r, size_t i)
{
	const char *s = json_string_value(json_array_get(test_resp(r, i), 0));

	return s != NULL ? s : "";
}

/* The "type" of an error response i, or of the problem of a 400. */
static inline const char *test_resp_type(const struct test_result *r, size_t i)
{
	const char *s;

	if (r->status != 200)
		s = json_string_value(json_object_get(r->body, "type"));
	else
		s = json_string_value(json_object_get(json_array_get(test_resp(r, i), 1), "type"));
	return s != NULL ? s : "";
}

/* Arguments of response i. */
static inline json_t *test_resp_args(const struct test_result *r, size_t i)
{
	return json_array_get(test_resp(r, i), 1);
}

/* The compact JSON of v with sorted keys, malloc'ed. */
static inline char *test_dump(const json_t *v)
{
	char *s = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;

	return s != NULL ? s : strdup("(null)");
}

/* CHECK_EQ_STR on the dump of v, freeing it. */
#define CHECK_JSON(v, expect) do { char *d_ = test_dump(v); int ok_ = strcmp(d_, expect) == 0; \
	if (!ok_) { char m_[1024]; snprintf(m_, sizeof m_, "%s is %s, not %s", #v, d_, expect); \
		free(d_); test_fail(__FILE__, __LINE__, m_); return; } free(d_); } while (0)

#endif

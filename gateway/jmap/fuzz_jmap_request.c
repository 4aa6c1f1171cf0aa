/* fuzz_jmap_request - libFuzzer target: arbitrary bytes as an API request
 * body through the whole engine (reader, request checks, result
 * references, dispatch) with Core/echo and fake /get, /set and /query
 * methods built on jmap_std.h.
 *
 * Besides not crashing: the callback runs exactly once; a 200 is a
 * Response whose every invocation is [String, Object, String]; anything
 * else is a 400 problem of one of the four RFC 8620 3.6.1 types; and the
 * body fed whole or in pieces of 1 and of n octets gives the same result. */
#include "gateway/jmap/jmap_std.h"

#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void foo_get(struct jmap_call *call, json_t *args, void *ctx)
{
	static const char *const known[] = { "id", "name", NULL };
	struct jmap_get_args a;

	if (jmap_get_args_parse(call, args, known, &a) < 0)
		return;
	jmap_call_reply(call, jmap_get_response(a.account->id, "s", a.ids != NULL ? json_incref(a.ids)
					       : json_array(), json_array()));
	jmap_get_args_free(&a);
}

static void foo_set(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_set_args a;
	struct jmap_set_result r;
	const char *cid;
	json_t *v;

	if (jmap_set_args_parse(call, args, "s", &a) < 0)
		return;
	jmap_set_result_init(&r);
	json_object_foreach(a.create, cid, v)
		jmap_set_created(&r, call, cid, json_pack("{s:s}", "id", "new1"));
	jmap_call_reply(call, jmap_set_response(&r, a.account->id, "s", "t"));
	jmap_set_args_free(&a);
}

static void foo_query(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_query_args a;
	json_t *all = json_pack("[s,s,s]", "a", "b", "c"), *resp;

	if (jmap_query_args_parse(call, args, NULL, NULL, NULL, &a) == 0 &&
	    jmap_query_response(call, &a, "q", 0, all, 2, &resp) == 0)
		jmap_call_reply(call, resp);
	json_decref(all);
}

struct result {
	int done;
	char *dump;
};

static void done_cb(void *arg, int status, json_t *body)
{
	struct result *r = arg;
	const char *type = json_string_value(json_object_get(body, "type"));
	json_t *inv;
	size_t i;

	r->done++;
	if (status == 200) {
		check(json_is_array(json_object_get(body, "methodResponses")));
		json_array_foreach(json_object_get(body, "methodResponses"), i, inv) {
			check(json_array_size(inv) == 3 && json_is_string(json_array_get(inv, 0)) &&
			      json_is_object(json_array_get(inv, 1)) && json_is_string(json_array_get(inv, 2)));
		}
	} else {
		check(status == 400 && type != NULL &&
		      (strcmp(type, JMAP_PROBLEM_NOT_JSON) == 0 || strcmp(type, JMAP_PROBLEM_NOT_REQUEST) == 0 ||
		       strcmp(type, JMAP_PROBLEM_LIMIT) == 0 ||
		       strcmp(type, JMAP_PROBLEM_UNKNOWN_CAPABILITY) == 0));
	}
	r->dump = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	check(r->dump != NULL);
}

static struct event_base *base;
static struct jmap_api *api;
static const char *const caps[] = { JMAP_CAP_CORE, "urn:ietf:params:jmap:mail", NULL };
static const struct jmap_account accounts[] = {
	{ .id = "u1", .name = "u1", .is_personal = 1, .capabilities = caps },
	{ .id = "ro", .name = "ro", .is_read_only = 1, .capabilities = caps },
};
static const struct jmap_user user = { .username = "fuzz", .accounts = accounts, .naccounts = 2 };

/* The result of data fed in pieces of step octets (0: jmap_api_run). */
static char *run(const uint8_t *data, size_t size, size_t step)
{
	struct jmap_run_params p = { .user = &user, .session_state = "s0" };
	struct result r = { 0 };

	if (step == 0) {
		jmap_api_run(api, &p, "application/json", data, size, done_cb, &r);
	} else {
		struct jmap_reader *rd = jmap_reader_new(jmap_api_settings(api));
		struct jmap_request *req = NULL;
		json_t *problem = NULL;
		int ret = 0;

		for (size_t off = 0; ret == 0 && off < size; off += step)
			ret = jmap_reader_feed(rd, data + off, size - off < step ? size - off : step, &problem);
		if (ret == 0)
			ret = jmap_reader_finish(rd, jmap_api_capabilities(api), &req, &problem);
		jmap_reader_free(&rd);
		if (ret < 0) {
			done_cb(&r, 400, problem);
			json_decref(problem);
			return r.dump;
		}
		jmap_api_execute(api, &p, req, done_cb, &r);
	}
	check(r.done == 0);
	event_base_dispatch(base);
	check(r.done == 1);
	return r.dump;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a, *b, *c;

	if (api == NULL) {
		struct jmap_settings s;

		jmap_settings_default(&s);
		s.max_size_request = 65536;
		s.max_calls_in_request = 8;
		s.max_depth = 16;
		base = event_base_new();
		api = jmap_api_new(base, &s);
		jmap_api_add_capability(api, "urn:ietf:params:jmap:mail", json_object(), NULL);
		jmap_method_register(api, "Foo/get", "urn:ietf:params:jmap:mail", foo_get, NULL);
		jmap_method_register(api, "Foo/set", "urn:ietf:params:jmap:mail", foo_set, NULL);
		jmap_method_register(api, "Foo/query", "urn:ietf:params:jmap:mail", foo_query, NULL);
	}
	a = run(data, size, 0);
	b = run(data, size, 1);
	c = run(data, size, size > 0 ? (size_t)(data[0] % 13) + 1 : 1);
	check(strcmp(a, b) == 0 && strcmp(a, c) == 0);
	free(a);
	free(b);
	free(c);
	return 0;
}

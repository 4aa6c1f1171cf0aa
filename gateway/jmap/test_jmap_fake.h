/* test_jmap_fake - fake Mail-like methods for the engine tests: the
 * Email/query -> Email/get -> Thread/get chain of RFC 8620 3.7, an
 * asynchronous method finished from a timer, and Foo/get, /set, /changes,
 * /query and /queryChanges built on jmap_std.h. Header-only. */
#ifndef EVM_TEST_JMAP_FAKE_H
#define EVM_TEST_JMAP_FAKE_H

#include "gateway/jmap/jmap_std.h"
#include "gateway/jmap/test_jmap_util.h"

#include <event2/event.h>
#include <stdio.h>

/* The fake mailbox: message -> thread, thread -> messages. */
static const char *const fake_msgs[][2] = { { "m1", "T1" }, { "m2", "T2" }, { "m3", "T1" } };

/* Order in which the asynchronous calls finished, e.g. "1,2,". */
static char slow_log[64];

static void fake_email_query(struct jmap_call *call, json_t *args, void *ctx)
{
	const struct jmap_account *a;

	if (jmap_arg_account(call, args, "accountId", JMAP_READ, &a) < 0)
		return;
	jmap_call_reply(call, json_pack("{s:s, s:s, s:b, s:i, s:[s,s]}", "accountId", a->id,
					"queryState", "q1", "canCalculateChanges", 0, "position", 0,
					"ids", "m1", "m2"));
}

static void fake_email_get(struct jmap_call *call, json_t *args, void *ctx)
{
	static const char *const known[] = { "id", "threadId", "from", "receivedAt", "subject", NULL };
	struct jmap_get_args a;
	json_t *list = json_array(), *nf = json_array(), *id;
	size_t i;

	if (jmap_get_args_parse(call, args, known, &a) < 0) {
		json_decref(list);
		json_decref(nf);
		return;
	}
	json_array_foreach(a.ids, i, id) {
		const char *thread = NULL;

		for (size_t k = 0; k < 3; k++) {
			if (strcmp(fake_msgs[k][0], json_string_value(id)) == 0)
				thread = fake_msgs[k][1];
		}
		if (thread != NULL)
			json_array_append_new(list, json_pack("{s:O, s:s}", "id", id, "threadId", thread));
		else
			json_array_append(nf, id);
	}
	jmap_call_reply(call, jmap_get_response(a.account->id, "e1", list, nf));
	jmap_get_args_free(&a);
}

static void fake_thread_get(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_get_args a;
	json_t *list = json_array(), *id, *emails;
	size_t i;

	if (jmap_get_args_parse(call, args, NULL, &a) < 0) {
		json_decref(list);
		return;
	}
	json_array_foreach(a.ids, i, id) {
		emails = json_array();
		for (size_t k = 0; k < 3; k++) {
			if (strcmp(fake_msgs[k][1], json_string_value(id)) == 0)
				json_array_append_new(emails, json_string(fake_msgs[k][0]));
		}
		json_array_append_new(list, json_pack("{s:O, s:o}", "id", id, "emailIds", emails));
	}
	jmap_call_reply(call, jmap_get_response(a.account->id, "th1", list, json_array()));
	jmap_get_args_free(&a);
}

struct slow_op {
	struct jmap_call *call;
	json_int_t n;
};

/* The timer fired: finish the call now, on a later loop turn. */
static void slow_fire(evutil_socket_t fd, short what, void *arg)
{
	struct slow_op *op = arg;
	size_t len = strlen(slow_log);

	/* The run's own copy of the user is still there ("?" if not). */
	snprintf(slow_log + len, sizeof slow_log - len, "%lld%s,", (long long)op->n,
		 jmap_call_account(op->call, "u1") != NULL ? "" : "?");
	jmap_call_reply(op->call, json_pack("{s:I}", "n", op->n));
	free(op);
}

/* Slow/op {n}: answers {n} from a timer, as a write waiting for the log. */
static void fake_slow(struct jmap_call *call, json_t *args, void *ctx)
{
	struct slow_op *op = calloc(1, sizeof *op);
	struct timeval tv = { 0, 1000 };

	op->call = call;
	if (jmap_arg_int(call, args, "n", 0, &op->n) < 0) {
		free(op);
		return;
	}
	event_base_once(jmap_call_base(call), -1, EV_TIMEOUT, slow_fire, op, &tv);
}

static void fake_fail(struct jmap_call *call, json_t *args, void *ctx)
{
	jmap_call_error(call, "serverFail", "the disk is on fire");
}

static void fake_foo_get(struct jmap_call *call, json_t *args, void *ctx)
{
	static const char *const known[] = { "id", "name", NULL };
	struct jmap_get_args a;
	json_t *list = json_array(), *id;
	size_t i;

	if (jmap_get_args_parse(call, args, known, &a) < 0) {
		json_decref(list);
		return;
	}
	json_array_foreach(a.ids, i, id)
		json_array_append_new(list, json_pack("{s:O}", "id", id));
	jmap_call_reply(call, json_pack("{s:o, s:o*}", "list", list, "properties", a.properties));
	a.properties = NULL;
	jmap_get_args_free(&a);
}

/* Foo/set: creates "srv-<cid>"; "missing" is not found; "implicit": true
 * adds an Email/set response as EmailSubmission/set does. */
static void fake_foo_set(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_set_args a;
	struct jmap_set_result r;
	const char *cid, *key, *id;
	json_t *v;
	size_t i;
	char newid[300];

	if (jmap_set_args_parse(call, args, "st1", &a) < 0)
		return;
	jmap_set_result_init(&r);
	json_object_foreach(a.create, cid, v) {
		if (json_object_get(v, "bad") != NULL) {
			jmap_set_not_created(&r, cid, jmap_set_error("invalidProperties", NULL,
								     json_pack("[s]", "bad")));
			continue;
		}
		snprintf(newid, sizeof newid, "srv-%s", cid);
		jmap_set_created(&r, call, cid, json_pack("{s:s}", "id", newid));
	}
	json_object_foreach(a.update, key, v) {
		if (jmap_call_resolve_id(call, key, &id) && strcmp(id, "missing") != 0)
			jmap_set_updated(&r, id, NULL);
		else
			jmap_set_not_updated(&r, key, jmap_set_error("notFound", NULL, NULL));
	}
	json_array_foreach(a.destroy, i, v) {
		if (strcmp(json_string_value(v), "missing") == 0 || json_string_value(v)[0] == '#')
			jmap_set_not_destroyed(&r, json_string_value(v), jmap_set_error("notFound", NULL, NULL));
		else
			jmap_set_destroyed(&r, json_string_value(v));
	}
	jmap_call_add(call, jmap_call_name(call), jmap_set_response(&r, a.account->id, "st1", "st2"));
	if (json_is_true(json_object_get(args, "implicit")))
		jmap_call_add(call, "Email/set", json_pack("{s:s}", "accountId", a.account->id));
	jmap_set_args_free(&a);
	jmap_call_done(call);
}

static void fake_foo_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_changes_args a;

	if (jmap_changes_args_parse(call, args, &a) < 0)
		return;
	if (strcmp(a.since_state, "ancient") == 0) {
		jmap_call_error(call, "cannotCalculateChanges", NULL);
		return;
	}
	jmap_call_reply(call, jmap_changes_response(a.account->id, a.since_state, "st2",
						    a.max_changes == 1, json_pack("[s]", "n1"),
						    json_array(), json_pack("[s]", "d1")));
}

/* Filters: only {"name": String}; sorts: only "name". */
static int fake_cond(void *ctx, const json_t *cond, const char **error_r)
{
	if (json_object_size(cond) == 1 && json_is_string(json_object_get(cond, "name")))
		return 0;
	*error_r = "only name filters";
	return -1;
}

static int fake_sort(void *ctx, const json_t *c, const char **error_r)
{
	if (strcmp(json_string_value(json_object_get(c, "property")), "name") == 0)
		return 0;
	*error_r = "only name sorts";
	return -1;
}

static void fake_foo_query(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_query_args a;
	json_t *all = json_pack("[s,s,s,s,s]", "a", "b", "c", "d", "e"), *resp;

	if (jmap_query_args_parse(call, args, fake_cond, fake_sort, NULL, &a) == 0 &&
	    jmap_query_response(call, &a, "q9", 1, all, 3, &resp) == 0)
		jmap_call_reply(call, resp);
	json_decref(all);
}

static void fake_foo_query_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_query_changes_args a;
	struct jmap_query_changes qc;

	if (jmap_query_changes_args_parse(call, args, fake_cond, fake_sort, NULL, &a) < 0)
		return;
	jmap_query_changes_init(&qc, a.max_changes);
	if (jmap_query_changes_removed(&qc, "a") < 0 || jmap_query_changes_added(&qc, "b", 0) < 0 ||
	    jmap_query_changes_added(&qc, "c", 1) < 0) {
		jmap_query_changes_free(&qc);
		jmap_call_error(call, "tooManyChanges", NULL);
		return;
	}
	jmap_call_reply(call, jmap_query_changes_response(&qc, a.account->id, a.since_query_state, "q9",
							  a.calculate_total ? 5 : -1));
}

/* test_api() with every fake registered. */
static struct jmap_api *fake_api(void)
{
	struct jmap_api *api = test_api();

	jmap_method_register(api, "Email/query", CAP_MAIL, fake_email_query, NULL);
	jmap_method_register(api, "Email/get", CAP_MAIL, fake_email_get, NULL);
	jmap_method_register(api, "Thread/get", CAP_MAIL, fake_thread_get, NULL);
	jmap_method_register(api, "Slow/op", CAP_MAIL, fake_slow, NULL);
	jmap_method_register(api, "Fail/op", CAP_MAIL, fake_fail, NULL);
	jmap_method_register(api, "Foo/get", CAP_MAIL, fake_foo_get, NULL);
	jmap_method_register(api, "Foo/set", CAP_MAIL, fake_foo_set, NULL);
	jmap_method_register(api, "Foo/changes", CAP_MAIL, fake_foo_changes, NULL);
	jmap_method_register(api, "Foo/query", CAP_MAIL, fake_foo_query, NULL);
	jmap_method_register(api, "Foo/queryChanges", CAP_MAIL, fake_foo_query_changes, NULL);
	return api;
}

#endif

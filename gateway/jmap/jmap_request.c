/* jmap_request - the type signature of a Request (RFC 8620 3.3), the
 * request-level errors (3.6.1) and the small shared pieces of
 * jmap_request.h: Id syntax, problem details, defaults. */
#include "gateway/jmap/jmap_request.h"
#include "gateway/jmap/jmap_private.h"
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const default_collations[] = { "i;ascii-casemap", "i;unicode-casemap", NULL };

void jmap_settings_default(struct jmap_settings *s)
{
	*s = (struct jmap_settings){
		.max_size_upload = 50000000,
		.max_concurrent_upload = 4,
		.max_size_request = 10000000,
		.max_concurrent_requests = 4,
		.max_calls_in_request = 16,
		.max_objects_in_get = 500,
		.max_objects_in_set = 500,
		.max_depth = 64,
		.collation_algorithms = default_collations,
	};
}

json_t *jmap_json_text(const char *s)
{
	json_t *v = json_string(s);
	char *copy;

	if (v != NULL)
		return v;
	/* Not UTF-8 (a client's text cut in the middle of a character): keep
	 * the ASCII, mark the rest. */
	copy = xstrdup(s);
	for (char *c = copy; *c != '\0'; c++) {
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	}
	v = json_string(copy);
	free(copy);
	return v;
}

json_t *jmap_problem(const char *type, const char *limit, const char *detail)
{
	json_t *p = json_pack("{s:s, s:i}", "type", type, "status", 400);

	json_object_set_new(p, "detail", jmap_json_text(detail));

	if (limit != NULL)
		json_object_set_new(p, "limit", json_string(limit));
	return p;
}

int jmap_is_id(const char *s)
{
	size_t n = 0;

	/* RFC 8620 1.2: the URL-safe base64 alphabet (RFC 4648 5) without '='. */
	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return n >= 1 && n <= 255;
}

int jmap_content_type_is_json(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof want - 1;

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* notRequest with a detail; always -1. */
static int not_request(json_t **problem_r, const char *detail)
{
	*problem_r = jmap_problem(JMAP_PROBLEM_NOT_REQUEST, NULL, detail);
	return -1;
}

/* One Invocation (RFC 8620 3.2): [String name, String[*] arguments, String id]. */
static int check_invocation(json_t *inv)
{
	return json_is_array(inv) && json_array_size(inv) == 3 &&
	       json_is_string(json_array_get(inv, 0)) && json_is_object(json_array_get(inv, 1)) &&
	       json_is_string(json_array_get(inv, 2));
}

/* createdIds: Id[Id] (RFC 8620 3.3). */
static int check_created_ids(json_t *ids)
{
	const char *k;
	json_t *v;

	if (!json_is_object(ids))
		return 0;
	json_object_foreach(ids, k, v) {
		if (!jmap_is_id(k) || !json_is_string(v) || !jmap_is_id(json_string_value(v)))
			return 0;
	}
	return 1;
}

/* The type signature of a Request (RFC 8620 3.3) but for the calls
 * themselves: NULL, or what is wrong. */
static const char *check_shape(json_t *root)
{
	json_t *using = json_object_get(root, "using"), *created = json_object_get(root, "createdIds"), *v;
	size_t i;

	if (!json_is_object(root))
		return "the request is not a JSON object";
	if (!json_is_array(using))
		return "\"using\" is missing or not an array";
	json_array_foreach(using, i, v) {
		if (!json_is_string(v))
			return "\"using\" holds a value that is not a string";
	}
	if (!json_is_array(json_object_get(root, "methodCalls")))
		return "\"methodCalls\" is missing or not an array";
	if (created != NULL && !check_created_ids(created))
		return "\"createdIds\" is not a map of Ids to Ids";
	return NULL;
}

/* The request-level error of a parsed body, in the order a client can fix
 * them: not a Request, too many calls, a call of the wrong shape, an
 * unknown capability. 0, or -1 with *problem_r. */
static int check_request(const struct jmap_settings *s, const json_t *known_caps, json_t *root,
			 json_t **problem_r)
{
	const char *why = check_shape(root);
	json_t *calls = json_object_get(root, "methodCalls"), *v;
	char detail[200];
	size_t i;

	if (why != NULL)
		return not_request(problem_r, why);
	if (json_array_size(calls) > s->max_calls_in_request) {
		snprintf(detail, sizeof detail, "more than %u method calls in one request",
			 s->max_calls_in_request);
		*problem_r = jmap_problem(JMAP_PROBLEM_LIMIT, "maxCallsInRequest", detail);
		return -1;
	}
	json_array_foreach(calls, i, v) {
		if (!check_invocation(v)) {
			snprintf(detail, sizeof detail,
				 "methodCalls[%zu] is not [name, arguments object, call id]", i);
			return not_request(problem_r, detail);
		}
	}
	json_array_foreach(json_object_get(root, "using"), i, v) {
		if (json_object_get(known_caps, json_string_value(v)) == NULL) {
			snprintf(detail, sizeof detail, "the server does not support \"%.120s\"",
				 json_string_value(v));
			*problem_r = jmap_problem(JMAP_PROBLEM_UNKNOWN_CAPABILITY, NULL, detail);
			return -1;
		}
	}
	return 0;
}

int jmap_request_check(const struct jmap_settings *s, const json_t *known_caps, json_t *root,
		       struct jmap_request **req_r, json_t **problem_r)
{
	struct jmap_request *req;

	if (check_request(s, known_caps, root, problem_r) < 0) {
		json_decref(root);
		return -1;
	}
	req = xcalloc(1, sizeof *req);
	req->root = root;
	req->using = json_object_get(root, "using");
	req->method_calls = json_object_get(root, "methodCalls");
	req->created_ids = json_object_get(root, "createdIds");
	*req_r = req;
	return 0;
}

void jmap_request_free(struct jmap_request **req)
{
	if (*req == NULL)
		return;
	json_decref((*req)->root);
	free(*req);
	*req = NULL;
}

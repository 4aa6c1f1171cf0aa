/* jmap_args - see jmap_args.h */
#include "gateway/jmap/jmap_args.h"
#include "gateway/jmap/jmap_private.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char args_msg[200];

int jmap_arg_invalid(struct jmap_call *call, const char *name, const char *what)
{
	snprintf(args_msg, sizeof args_msg, "%s: %s", name, what);
	jmap_call_error(call, "invalidArguments", args_msg);
	return -1;
}

/* 1 when the NULL-terminated list has s. */
static int listed(const char *const *list, const char *s)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		if (strcmp(list[i], s) == 0)
			return 1;
	}
	return 0;
}

int jmap_arg_account(struct jmap_call *call, const json_t *args, const char *name,
		     enum jmap_access access, const struct jmap_account **acct_r)
{
	int from = strcmp(name, "fromAccountId") == 0;
	const struct jmap_account *a;
	const char *id;

	if (jmap_arg_string(call, args, name, 1, &id) < 0)
		return -1;
	a = jmap_call_account(call, id);
	if (a == NULL) {
		jmap_call_error(call, from ? "fromAccountNotFound" : "accountNotFound", NULL);
		return -1;
	}
	/* A shared account is served only by methods that filter by what is
	 * shared (jmap_method_serves_shared). */
	if (!listed(a->capabilities, jmap_call_capability(call)) ||
	    (a->owner != NULL && !call->method->serves_shared)) {
		jmap_call_error(call, from ? "fromAccountNotSupportedByMethod" : "accountNotSupportedByMethod",
				NULL);
		return -1;
	}
	if (access == JMAP_WRITE && a->is_read_only) {
		jmap_call_error(call, "accountReadOnly", NULL);
		return -1;
	}
	if (!from)
		call->target = a;
	*acct_r = a;
	return 0;
}

int jmap_arg_string(struct jmap_call *call, const json_t *args, const char *name, int required,
		    const char **v_r)
{
	json_t *v = json_object_get(args, name);

	if (v == NULL || json_is_null(v)) {
		if (required)
			return jmap_arg_invalid(call, name, "is required");
		*v_r = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return jmap_arg_invalid(call, name, "is not a string");
	*v_r = json_string_value(v);
	return 0;
}

int jmap_arg_id(struct jmap_call *call, const json_t *args, const char *name, const char **v_r)
{
	if (jmap_arg_string(call, args, name, 0, v_r) < 0)
		return -1;
	if (*v_r != NULL && !jmap_is_id(*v_r))
		return jmap_arg_invalid(call, name, "is not an Id");
	return 0;
}

int jmap_arg_bool(struct jmap_call *call, const json_t *args, const char *name, int dflt, int *v_r)
{
	json_t *v = json_object_get(args, name);

	if (v == NULL || json_is_null(v))
		*v_r = dflt;
	else if (json_is_boolean(v))
		*v_r = json_is_true(v);
	else
		return jmap_arg_invalid(call, name, "is not a boolean");
	return 0;
}

int jmap_arg_int(struct jmap_call *call, const json_t *args, const char *name, json_int_t dflt,
		 json_int_t *v_r)
{
	json_t *v = json_object_get(args, name);

	if (v == NULL || json_is_null(v)) {
		*v_r = dflt;
		return 0;
	}
	/* RFC 8620 1.3: an integer in the range -2^53+1 to 2^53-1. */
	if (!json_is_integer(v) || json_integer_value(v) > JMAP_INT_MAX ||
	    json_integer_value(v) < -JMAP_INT_MAX)
		return jmap_arg_invalid(call, name, "is not an Int");
	*v_r = json_integer_value(v);
	return 0;
}

int jmap_arg_uint(struct jmap_call *call, const json_t *args, const char *name, json_int_t dflt,
		  json_int_t *v_r)
{
	json_t *v = json_object_get(args, name);

	if (v == NULL || json_is_null(v)) {
		*v_r = dflt;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > JMAP_INT_MAX)
		return jmap_arg_invalid(call, name, "is not an UnsignedInt");
	*v_r = json_integer_value(v);
	return 0;
}

/* 1 when s is an Id or "#" and an Id (a creation id reference). */
static int id_or_ref(const char *s)
{
	return jmap_is_id(s[0] == '#' ? s + 1 : s);
}

int jmap_arg_ids(struct jmap_call *call, const json_t *args, const char *name, size_t max,
		 json_t **ids_r)
{
	json_t *v = json_object_get(args, name), *item, *out;
	const char *id;
	size_t i;

	*ids_r = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return jmap_arg_invalid(call, name, "is not an array of Ids");
	if (json_array_size(v) > max) {
		snprintf(args_msg, sizeof args_msg, "%s: more than %zu ids", name, max);
		jmap_call_error(call, "requestTooLarge", args_msg);
		return -1;
	}
	out = json_array();
	json_array_foreach(v, i, item) {
		if (!json_is_string(item) || !id_or_ref(json_string_value(item))) {
			json_decref(out);
			return jmap_arg_invalid(call, name, "holds a value that is not an Id");
		}
		if (jmap_call_resolve_id(call, json_string_value(item), &id) == 1)
			json_array_append_new(out, json_string(id));
		else
			json_array_append(out, item);
	}
	*ids_r = out;
	return 0;
}

int jmap_arg_properties(struct jmap_call *call, const json_t *args, const char *name,
			const char *const *known, json_t **props_r)
{
	json_t *v = json_object_get(args, name), *item, *out;
	int has_id = 0;
	size_t i;

	*props_r = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return jmap_arg_invalid(call, name, "is not an array of strings");
	json_array_foreach(v, i, item) {
		if (!json_is_string(item))
			return jmap_arg_invalid(call, name, "holds a value that is not a string");
		if (!listed(known, json_string_value(item))) {
			snprintf(args_msg, sizeof args_msg, "%s: unknown property \"%.80s\"", name,
				 json_string_value(item));
			jmap_call_error(call, "invalidArguments", args_msg);
			return -1;
		}
		has_id |= strcmp(json_string_value(item), "id") == 0;
	}
	out = json_copy(v);
	if (!has_id && listed(known, "id"))
		json_array_insert_new(out, 0, json_string("id"));
	*props_r = out;
	return 0;
}

int jmap_arg_if_in_state(struct jmap_call *call, const json_t *args, const char *state)
{
	const char *want;

	if (jmap_arg_string(call, args, "ifInState", 0, &want) < 0)
		return -1;
	/* RFC 8620 5.3: the whole call is rejected when the state differs. */
	if (want != NULL && strcmp(want, state) != 0) {
		jmap_call_error(call, "stateMismatch", NULL);
		return -1;
	}
	return 0;
}

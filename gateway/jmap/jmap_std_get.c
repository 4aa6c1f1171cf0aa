/* jmap_std_get - /get (RFC 8620 5.1) and /changes (5.2) arguments and
 * responses; see jmap_std.h. */
#include "gateway/jmap/jmap_std.h"

#include <string.h>

int jmap_get_args_parse(struct jmap_call *call, const json_t *args, const char *const *known,
			struct jmap_get_args *a)
{
	const struct jmap_settings *s = jmap_call_settings(call);

	memset(a, 0, sizeof *a);
	if (jmap_arg_account(call, args, "accountId", JMAP_READ, &a->account) < 0)
		return -1;
	/* RFC 8620 5.1: more ids than maxObjectsInGet is requestTooLarge. */
	if (jmap_arg_ids(call, args, "ids", s->max_objects_in_get, &a->ids) < 0)
		return -1;
	if (jmap_arg_properties(call, args, "properties", known, &a->properties) < 0) {
		jmap_get_args_free(a);
		return -1;
	}
	return 0;
}

void jmap_get_args_free(struct jmap_get_args *a)
{
	json_decref(a->ids);
	json_decref(a->properties);
	a->ids = a->properties = NULL;
}

json_t *jmap_get_response(const char *account_id, const char *state, json_t *list, json_t *not_found)
{
	return json_pack("{s:s, s:s, s:o, s:o}", "accountId", account_id, "state", state, "list", list,
			 "notFound", not_found);
}

int jmap_changes_args_parse(struct jmap_call *call, const json_t *args, struct jmap_changes_args *a)
{
	memset(a, 0, sizeof *a);
	if (jmap_arg_account(call, args, "accountId", JMAP_READ, &a->account) < 0 ||
	    jmap_arg_string(call, args, "sinceState", 1, &a->since_state) < 0 ||
	    jmap_arg_uint(call, args, "maxChanges", 0, &a->max_changes) < 0)
		return -1;
	/* RFC 8620 5.2: when given, maxChanges MUST be greater than 0. */
	if (json_is_integer(json_object_get(args, "maxChanges")) && a->max_changes == 0)
		return jmap_arg_invalid(call, "maxChanges", "must be greater than 0");
	return 0;
}

json_t *jmap_changes_response(const char *account_id, const char *old_state, const char *new_state,
			      int has_more, json_t *created, json_t *updated, json_t *destroyed)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:o}", "accountId", account_id, "oldState",
			 old_state, "newState", new_state, "hasMoreChanges", has_more, "created", created,
			 "updated", updated, "destroyed", destroyed);
}

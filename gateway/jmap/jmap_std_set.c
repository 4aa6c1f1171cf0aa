/* jmap_std_set - /set (RFC 8620 5.3) arguments, per-object outcomes and
 * the response; see jmap_std.h. */
#include "gateway/jmap/jmap_std.h"
#include "gateway/jmap/jmap_private.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char set_msg[160];

/* A map whose keys are Ids (or "#" and an Id when refs) and whose values
 * are objects; absent or null gives NULL. */
static int id_map(struct jmap_call *call, const json_t *args, const char *name, int refs,
		  json_t **map_r)
{
	json_t *v = json_object_get(args, name), *obj;
	const char *k;

	*map_r = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return jmap_arg_invalid(call, name, "is not a map of ids to objects");
	json_object_foreach(v, k, obj) {
		if (!jmap_is_id(refs && k[0] == '#' ? k + 1 : k) || !json_is_object(obj))
			return jmap_arg_invalid(call, name, "is not a map of ids to objects");
	}
	*map_r = v;
	return 0;
}

int jmap_set_args_parse(struct jmap_call *call, const json_t *args, const char *state,
			struct jmap_set_args *a)
{
	const struct jmap_settings *s = jmap_call_settings(call);
	size_t n;

	memset(a, 0, sizeof *a);
	if (jmap_arg_account(call, args, "accountId", JMAP_WRITE, &a->account) < 0 ||
	    jmap_arg_if_in_state(call, args, state) < 0 ||
	    id_map(call, args, "create", 0, &a->create) < 0 ||
	    id_map(call, args, "update", 1, &a->update) < 0 ||
	    jmap_arg_ids(call, args, "destroy", SIZE_MAX, &a->destroy) < 0)
		return -1;
	/* RFC 8620 5.3: maxObjectsInSet counts create, update and destroy. */
	n = json_object_size(a->create) + json_object_size(a->update) + json_array_size(a->destroy);
	if (n > s->max_objects_in_set) {
		snprintf(set_msg, sizeof set_msg, "more than %u objects in one /set",
			 s->max_objects_in_set);
		jmap_set_args_free(a);
		jmap_call_error(call, "requestTooLarge", set_msg);
		return -1;
	}
	return 0;
}

void jmap_set_args_free(struct jmap_set_args *a)
{
	json_decref(a->destroy);
	a->destroy = NULL;
}

void jmap_set_result_init(struct jmap_set_result *r)
{
	r->created = json_object();
	r->updated = json_object();
	r->destroyed = json_array();
	r->not_created = json_object();
	r->not_updated = json_object();
	r->not_destroyed = json_object();
}

void jmap_set_result_free(struct jmap_set_result *r)
{
	json_decref(r->created);
	json_decref(r->updated);
	json_decref(r->destroyed);
	json_decref(r->not_created);
	json_decref(r->not_updated);
	json_decref(r->not_destroyed);
	memset(r, 0, sizeof *r);
}

void jmap_set_created(struct jmap_set_result *r, struct jmap_call *call, const char *cid, json_t *obj)
{
	const char *id = json_string_value(json_object_get(obj, "id"));

	if (id != NULL)
		jmap_call_set_created(call, cid, id);
	json_object_set_new(r->created, cid, obj);
}

void jmap_set_updated(struct jmap_set_result *r, const char *id, json_t *changed)
{
	json_object_set_new(r->updated, id, changed != NULL ? changed : json_null());
}

void jmap_set_destroyed(struct jmap_set_result *r, const char *id)
{
	json_array_append_new(r->destroyed, json_string(id));
}

json_t *jmap_set_error(const char *type, const char *description, json_t *properties)
{
	json_t *e = json_pack("{s:s}", "type", type);

	if (description != NULL)
		json_object_set_new(e, "description", jmap_json_text(description));
	if (properties != NULL)
		json_object_set_new(e, "properties", properties);
	return e;
}

void jmap_set_not_created(struct jmap_set_result *r, const char *cid, json_t *err)
{
	json_object_set_new(r->not_created, cid, err);
}

void jmap_set_not_updated(struct jmap_set_result *r, const char *id, json_t *err)
{
	json_object_set_new(r->not_updated, id, err);
}

void jmap_set_not_destroyed(struct jmap_set_result *r, const char *id, json_t *err)
{
	json_object_set_new(r->not_destroyed, id, err);
}

/* The value, or null when it is empty (RFC 8620 5.3: "null if none"). */
static json_t *or_null(json_t *v)
{
	if ((json_is_object(v) && json_object_size(v) > 0) || (json_is_array(v) && json_array_size(v) > 0))
		return json_incref(v);
	return json_null();
}

json_t *jmap_set_response(struct jmap_set_result *r, const char *account_id, const char *old_state,
			  const char *new_state)
{
	json_t *resp = json_pack("{s:s, s:s?, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "accountId",
				 account_id, "oldState", old_state, "newState", new_state,
				 "created", or_null(r->created), "updated", or_null(r->updated),
				 "destroyed", or_null(r->destroyed), "notCreated",
				 or_null(r->not_created), "notUpdated", or_null(r->not_updated),
				 "notDestroyed", or_null(r->not_destroyed));

	jmap_set_result_free(r);
	return resp;
}

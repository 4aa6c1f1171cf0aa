/* jmap_call - the handler's side of a method call (jmap_api.h): its
 * context, createdIds, and the responses that finish it. */
#include "gateway/jmap/jmap_api.h"
#include "gateway/jmap/jmap_private.h"
#include "common/log.h"

#include <string.h>

const char *jmap_call_name(const struct jmap_call *call)
{
	return call->name;
}

const char *jmap_call_id(const struct jmap_call *call)
{
	return call->id;
}

const char *jmap_call_capability(const struct jmap_call *call)
{
	return call->method->capability;
}

const struct jmap_user *jmap_call_user(const struct jmap_call *call)
{
	return call->run->params.user;
}

const struct jmap_settings *jmap_call_settings(const struct jmap_call *call)
{
	return &call->run->api->settings;
}

const char *jmap_call_session_state(const struct jmap_call *call)
{
	return call->run->params.session_state;
}

void *jmap_call_request_ctx(const struct jmap_call *call)
{
	return call->run->params.request_ctx;
}

struct event_base *jmap_call_base(const struct jmap_call *call)
{
	return call->run->api->base;
}

const struct jmap_account *jmap_call_account(const struct jmap_call *call, const char *id)
{
	const struct jmap_user *u = call->run->params.user;

	for (size_t i = 0; u != NULL && i < u->naccounts; i++) {
		if (strcmp(u->accounts[i].id, id) == 0)
			return &u->accounts[i];
	}
	return NULL;
}

const struct jmap_account *jmap_call_target(const struct jmap_call *call)
{
	return call->target;
}

const char *jmap_call_created_id(const struct jmap_call *call, const char *cid)
{
	return json_string_value(json_object_get(call->run->created_ids, cid));
}

void jmap_call_set_created(struct jmap_call *call, const char *cid, const char *id)
{
	json_object_set_new(call->run->created_ids, cid, json_string(id));
}

int jmap_call_resolve_id(const struct jmap_call *call, const char *ref, const char **id_r)
{
	/* RFC 8620 5.3: "#" and a creation id stand for the id it was created as. */
	if (ref[0] == '#') {
		*id_r = jmap_call_created_id(call, ref + 1);
		return *id_r != NULL;
	}
	*id_r = ref;
	return 1;
}

/* Aborts on a second finish or a response after it: the engine has moved on. */
static void check_open(const struct jmap_call *call, const char *what)
{
	if (call->finished)
		log_panic("jmap: %s on call %s (%s) that is already finished", what, call->id, call->name);
}

void jmap_call_add(struct jmap_call *call, const char *name, json_t *args)
{
	check_open(call, "jmap_call_add");
	if (args == NULL)
		log_panic("jmap: %s answered call %s with no arguments", call->name, call->id);
	json_array_append_new(call->run->responses, json_pack("[s, o, s]", name, args, call->id));
}

void jmap_call_done(struct jmap_call *call)
{
	check_open(call, "jmap_call_done");
	call->finished = 1;
	jmap_run_call_finished(call->run);
}

void jmap_call_reply(struct jmap_call *call, json_t *args)
{
	jmap_call_add(call, call->name, args);
	jmap_call_done(call);
}

void jmap_call_error(struct jmap_call *call, const char *type, const char *description)
{
	json_t *err = json_pack("{s:s}", "type", type);

	if (description != NULL)
		json_object_set_new(err, "description", jmap_json_text(description));
	jmap_call_add(call, "error", err);
	jmap_call_done(call);
}

/* jmap_api - the engine's tables: capabilities, the method registry, and
 * Core/echo (RFC 8620 4). The run of a request is jmap_run.c, the handler
 * side of a call jmap_call.c. */
#include "gateway/jmap/jmap_api.h"
#include "gateway/jmap/jmap_private.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

/* The core capability object (RFC 8620 2) from the limits. */
static json_t *core_capability(const struct jmap_settings *s)
{
	json_t *coll = json_array();

	for (size_t i = 0; s->collation_algorithms != NULL && s->collation_algorithms[i] != NULL; i++)
		json_array_append_new(coll, json_string(s->collation_algorithms[i]));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
			 "maxSizeUpload", (json_int_t)s->max_size_upload,
			 "maxConcurrentUpload", (json_int_t)s->max_concurrent_upload,
			 "maxSizeRequest", (json_int_t)s->max_size_request,
			 "maxConcurrentRequests", (json_int_t)s->max_concurrent_requests,
			 "maxCallsInRequest", (json_int_t)s->max_calls_in_request,
			 "maxObjectsInGet", (json_int_t)s->max_objects_in_get,
			 "maxObjectsInSet", (json_int_t)s->max_objects_in_set,
			 "collationAlgorithms", coll);
}

/* Core/echo (RFC 8620 4): the arguments, exactly as given. */
static void core_echo(struct jmap_call *call, json_t *args, void *ctx)
{
	jmap_call_reply(call, json_deep_copy(args));
}

struct jmap_api *jmap_api_new(struct event_base *base, const struct jmap_settings *s)
{
	struct jmap_api *api = xcalloc(1, sizeof *api);

	api->base = base;
	api->settings = *s;
	api->capabilities = json_object();
	api->account_caps = json_object();
	api->active = json_object();
	jmap_api_add_capability(api, JMAP_CAP_CORE, core_capability(s), NULL);
	jmap_method_register(api, "Core/echo", JMAP_CAP_CORE, core_echo, NULL);
	return api;
}

void jmap_api_free(struct jmap_api **api)
{
	struct jmap_api *a = *api;

	if (a == NULL)
		return;
	if (json_object_size(a->active) != 0)
		log_panic("jmap_api_free: requests still running");
	for (size_t i = 0; i < a->nmethods; i++) {
		free(a->methods[i].name);
		free(a->methods[i].capability);
	}
	free(a->methods);
	json_decref(a->capabilities);
	json_decref(a->account_caps);
	json_decref(a->active);
	free(a);
	*api = NULL;
}

int jmap_api_busy(const struct jmap_api *api)
{
	return json_object_size(api->active) != 0;
}

const struct jmap_settings *jmap_api_settings(const struct jmap_api *api)
{
	return &api->settings;
}

void jmap_api_add_capability(struct jmap_api *api, const char *uri, json_t *session_caps,
			     json_t *account_caps)
{
	json_object_set_new(api->capabilities, uri, session_caps);
	json_object_set_new(api->account_caps, uri, account_caps != NULL ? account_caps : json_object());
}

const json_t *jmap_api_capabilities(const struct jmap_api *api)
{
	return api->capabilities;
}

void jmap_method_serves_shared(struct jmap_api *api, const char *name)
{
	for (size_t i = 0; i < api->nmethods; i++) {
		if (strcmp(api->methods[i].name, name) == 0) {
			api->methods[i].serves_shared = 1;
			return;
		}
	}
	log_panic("jmap: method %s marked as serving shared accounts is not registered", name);
}

const json_t *jmap_api_account_capability(const struct jmap_api *api, const char *uri)
{
	return json_object_get(api->account_caps, uri);
}

void jmap_method_register(struct jmap_api *api, const char *name, const char *capability,
			  jmap_method_fn *fn, void *ctx)
{
	if (json_object_get(api->capabilities, capability) == NULL)
		log_panic("jmap: method %s registered with unknown capability %s", name, capability);
	for (size_t i = 0; i < api->nmethods; i++) {
		if (strcmp(api->methods[i].name, name) == 0)
			log_panic("jmap: method %s registered twice", name);
	}
	api->methods = xrealloc(api->methods, (api->nmethods + 1) * sizeof *api->methods);
	api->methods[api->nmethods++] = (struct jmap_method){
		.name = xstrdup(name),
		.capability = xstrdup(capability),
		.fn = fn,
		.ctx = ctx,
	};
}

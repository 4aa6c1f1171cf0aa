/* jmap_pushsub - PushSubscription/get (RFC 8620 7.2.1) and what /set
 * shares with it. Subscriptions belong to the authenticated user, not to
 * an account: no accountId, no state (7.2.1, 7.2.2). They are stored by
 * pushsub.* events in the user's mail partition
 * (projector/mail_pushsub.c) and pushed by gateway/pushsub_sender.h. */
#include "gateway/jmap/jmap_pushsub_private.h"
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_std.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/mail.h"

#include <string.h>

/* Every property; url and keys only to be refused (7.2.1). */
static const char *const psub_props[] = {
	"id", "deviceClientId", "url", "keys", "verificationCode", "expires", "types", NULL,
};

int jmap_pushsub_lapsed(json_t *rec, int64_t now_ms)
{
	json_t *e = json_object_get(rec, "expires");

	return json_is_integer(e) && json_integer_value(e) <= now_ms;
}

json_t *jmap_pushsub_object(json_t *rec)
{
	json_t *exp = json_object_get(rec, "expires"), *types = json_object_get(rec, "types");
	char date[32];

	if (json_is_integer(exp))
		jmap_utcdate_format(json_integer_value(exp), date, sizeof date);
	/* The code is the client's to set (7.2): until it did, none. */
	return json_pack("{s:O, s:O, s:O, s:o, s:O}", "id", json_object_get(rec, "id"), "deviceClientId",
			 json_object_get(rec, "device_client_id"), "verificationCode",
			 json_is_true(json_object_get(rec, "verified")) ? json_object_get(rec, "verification_code")
									: json_null(),
			 "expires", json_is_integer(exp) ? json_string(date) : json_null(), "types",
			 json_is_array(types) ? types : json_null());
}

int jmap_pushsub_load(struct jmap_call *call, const char *id, json_t **rec_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const char *error = NULL;
	int r;

	*rec_r = NULL;
	if (!jmap_is_id(id))
		return 0;
	if ((r = mail_pushsub_get(req->node->view, req->address, id, rec_r, &error)) < 0) {
		log_error("jmap: push subscriptions of %s: %s", req->address, error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		return -1;
	}
	if (r == 1 && jmap_pushsub_lapsed(*rec_r, evm_now_ms())) {
		json_decref(*rec_r);
		*rec_r = NULL;
		return 0;
	}
	return r;
}

/* An object limited to the asked properties (with "id"). */
static json_t *only(json_t *obj, json_t *props)
{
	json_t *o, *v;
	size_t i;

	if (props == NULL)
		return json_incref(obj);
	o = json_object();
	json_array_foreach(props, i, v)
		json_object_set(o, json_string_value(v), json_object_get(obj, json_string_value(v)));
	return o;
}

/* RFC 8620 7.2.1: /get without accountId and state; url and keys are
 * never returned, and asking for them is forbidden. */
static void pushsub_get(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	json_t *ids = NULL, *props = NULL, *all = NULL, *list, *not_found, *rec, *v;
	int64_t now = evm_now_ms();
	const char *error = NULL;
	size_t i, j;

	(void)ctx;
	if (jmap_arg_ids(call, args, "ids", jmap_call_settings(call)->max_objects_in_get, &ids) < 0)
		return;
	if (jmap_arg_properties(call, args, "properties", psub_props, &props) < 0) {
		json_decref(ids);
		return;
	}
	json_array_foreach(props, i, v) {
		if (strcmp(json_string_value(v), "url") == 0 || strcmp(json_string_value(v), "keys") == 0) {
			jmap_call_error(call, "forbidden", "url and keys are never returned (RFC 8620 7.2.1)");
			json_decref(ids);
			json_decref(props);
			return;
		}
	}
	if (mail_pushsub_list(req->node->view, req->address, &all, &error) < 0) {
		log_error("jmap: push subscriptions of %s: %s", req->address, error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		json_decref(ids);
		json_decref(props);
		return;
	}
	list = json_array();
	not_found = json_array();
	if (ids == NULL) {
		json_array_foreach(all, i, rec) {
			if (!jmap_pushsub_lapsed(rec, now)) {
				json_t *obj = jmap_pushsub_object(rec);

				json_array_append_new(list, only(obj, props));
				json_decref(obj);
			}
		}
	} else {
		json_array_foreach(ids, i, v) {
			json_t *found = NULL;

			json_array_foreach(all, j, rec)
				if (json_equal(json_object_get(rec, "id"), v) && !jmap_pushsub_lapsed(rec, now))
					found = rec;
			if (found != NULL) {
				json_t *obj = jmap_pushsub_object(found);

				json_array_append_new(list, only(obj, props));
				json_decref(obj);
			} else {
				json_array_append(not_found, v);
			}
		}
	}
	json_decref(all);
	json_decref(ids);
	json_decref(props);
	jmap_call_reply(call, json_pack("{s:o, s:o}", "list", list, "notFound", not_found));
}

void jmap_pushsub_register(struct jmap_api *api)
{
	/* RFC 8620 7.2: part of the core capability. */
	jmap_method_register(api, "PushSubscription/get", JMAP_CAP_CORE, pushsub_get, NULL);
	jmap_method_register(api, "PushSubscription/set", JMAP_CAP_CORE, jmap_pushsub_set, NULL);
}

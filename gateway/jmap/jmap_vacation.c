/* jmap_vacation - VacationResponse/get and /set (RFC 8621 8): the one
 * "singleton" object of an account, stored by vacation.set events
 * (projector/mail_vacation.c); replies are sent by gateway/vacation.c. */
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_std.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>

#define SINGLETON "singleton"

static const char *const vac_props[] = {
	"id", "isEnabled", "fromDate", "toDate", "subject", "textBody", "htmlBody", NULL,
};

static json_t *date_or_null(json_t *ms)
{
	char buf[32];

	if (!json_is_integer(ms))
		return json_null();
	jmap_utcdate_format(json_integer_value(ms), buf, sizeof buf);
	return json_string(buf);
}

static json_t *str_or_null(json_t *v)
{
	return json_is_string(v) ? json_incref(v) : json_null();
}

/* The VacationResponse of the stored record (NULL: the default, off). */
static json_t *object_of(json_t *vac)
{
	return json_pack("{s:s, s:b, s:o, s:o, s:o, s:o, s:o}", "id", SINGLETON, "isEnabled",
			 json_is_true(json_object_get(vac, "enabled")), "fromDate",
			 date_or_null(json_object_get(vac, "from_date")), "toDate",
			 date_or_null(json_object_get(vac, "to_date")), "subject",
			 str_or_null(json_object_get(vac, "subject")), "textBody",
			 str_or_null(json_object_get(vac, "text_body")), "htmlBody",
			 str_or_null(json_object_get(vac, "html_body")));
}

/* The stored record: 0 with *vac_r (NULL when none), or -1 after
 * finishing the call with serverFail. */
static int load(struct jmap_call *call, json_t **vac_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const char *error = NULL;

	if (mail_vacation_get(req->node->view, req->address, vac_r, &error) < 0) {
		log_error("jmap: vacation of %s: %s", req->address, error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		return -1;
	}
	return 0;
}

static void vacation_get(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_get_args a;
	json_t *vac = NULL, *obj, *list = json_array(), *not_found = json_array(), *v;
	char state[JMAP_STATE_MAX];
	size_t i;

	(void)ctx;
	if (jmap_get_args_parse(call, args, vac_props, &a) < 0) {
		json_decref(list);
		json_decref(not_found);
		return;
	}
	if (jmap_mail_state(call, MAIL_J_VACATION, state) < 0 || load(call, &vac) < 0) {
		json_decref(list);
		json_decref(not_found);
		jmap_get_args_free(&a);
		return;
	}
	obj = object_of(vac);
	if (a.properties != NULL) {
		json_t *only = json_object();

		json_array_foreach(a.properties, i, v)
			json_object_set(only, json_string_value(v), json_object_get(obj, json_string_value(v)));
		json_object_set_new(only, "id", json_string(SINGLETON));
		json_decref(obj);
		obj = only;
	}
	if (a.ids == NULL) {
		json_array_append(list, obj);
	} else {
		int sent = 0;

		json_array_foreach(a.ids, i, v) {
			if (strcmp(json_string_value(v), SINGLETON) == 0 && !sent) {
				json_array_append(list, obj);
				sent = 1;
			} else if (strcmp(json_string_value(v), SINGLETON) != 0) {
				json_array_append(not_found, v);
			}
		}
	}
	json_decref(obj);
	json_decref(vac);
	jmap_call_reply(call, jmap_get_response(a.account->id, state, list, not_found));
	jmap_get_args_free(&a);
}

/* One /set in flight: its result waits for the log. */
struct vset {
	struct jmap_set_result r;
	char account_id[JMAP_ACCOUNT_ID_LEN + 1];
	char old_state[JMAP_STATE_MAX];
};

/* Applies a PatchObject (top-level properties only) to the current
 * object: 0 with the event data, or -1 with the SetError. */
static int patch(json_t *cur, json_t *p, json_t **data_r, json_t **err_r)
{
	json_t *bad = json_array(), *v;
	const char *k;
	int64_t from = -1, to = -1;

	json_object_foreach(p, k, v) {
		if (strcmp(k, "isEnabled") == 0 && json_is_boolean(v))
			json_object_set(cur, k, v);
		else if ((strcmp(k, "fromDate") == 0 || strcmp(k, "toDate") == 0) &&
			 (json_is_null(v) || (json_is_string(v) &&
					      jmap_utcdate_parse(json_string_value(v), &from) == 0)))
			json_object_set(cur, k, v);
		else if ((strcmp(k, "subject") == 0 || strcmp(k, "textBody") == 0 || strcmp(k, "htmlBody") == 0) &&
			 (json_is_null(v) || (json_is_string(v) && json_string_length(v) <= 64 * 1024 &&
					      strlen(json_string_value(v)) == json_string_length(v))))
			json_object_set(cur, k, v);
		else if (!(strcmp(k, "id") == 0 && json_is_string(v) && strcmp(json_string_value(v), SINGLETON) == 0))
			json_array_append_new(bad, json_string(k));
	}
	if (json_array_size(bad) > 0) {
		*err_r = jmap_set_error("invalidProperties", NULL, bad);
		return -1;
	}
	json_decref(bad);
	*data_r = json_pack("{s:O}", "enabled", json_object_get(cur, "isEnabled"));
	v = json_object_get(cur, "fromDate");
	if (json_is_string(v) && jmap_utcdate_parse(json_string_value(v), &from) == 0)
		json_object_set_new(*data_r, "from_date", json_integer(from));
	v = json_object_get(cur, "toDate");
	if (json_is_string(v) && jmap_utcdate_parse(json_string_value(v), &to) == 0)
		json_object_set_new(*data_r, "to_date", json_integer(to));
	if (json_is_string(json_object_get(cur, "subject")))
		json_object_set(*data_r, "subject", json_object_get(cur, "subject"));
	if (json_is_string(json_object_get(cur, "textBody")))
		json_object_set(*data_r, "text_body", json_object_get(cur, "textBody"));
	if (json_is_string(json_object_get(cur, "htmlBody")))
		json_object_set(*data_r, "html_body", json_object_get(cur, "htmlBody"));
	return 0;
}

static void finish(struct jmap_call *call, struct vset *vs)
{
	char state[JMAP_STATE_MAX];

	if (jmap_mail_state(call, MAIL_J_VACATION, state) == 0)
		jmap_call_reply(call, jmap_set_response(&vs->r, vs->account_id, vs->old_state, state));
	jmap_set_result_free(&vs->r);
	free(vs);
}

static void written(struct jmap_call *call, void *ctx, int status, json_t *outcome, const char *error)
{
	struct vset *vs = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));

	if (status == 0 && st != NULL && strcmp(st, "accepted") == 0) {
		jmap_set_updated(&vs->r, SINGLETON, NULL);
	} else {
		log_warn("jmap: vacation.set not applied: %s", status < 0 ? error : "rejected");
		jmap_set_not_updated(&vs->r, SINGLETON,
				     jmap_set_error(status < 0 ? "serverFail" : "invalidProperties",
						    status < 0 ? "the write did not complete" :
								 json_string_value(json_object_get(outcome, "reason")),
						    NULL));
	}
	finish(call, vs);
}

static void vacation_set(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_set_args a;
	struct vset *vs;
	json_t *vac = NULL, *cur, *v, *data = NULL, *err = NULL, *p = NULL;
	const char *k;
	size_t i;

	(void)ctx;
	vs = xcalloc(1, sizeof *vs);
	jmap_set_result_init(&vs->r);
	if (jmap_mail_state(call, MAIL_J_VACATION, vs->old_state) < 0 ||
	    jmap_set_args_parse(call, args, vs->old_state, &a) < 0) {
		jmap_set_result_free(&vs->r);
		free(vs);
		return;
	}
	snprintf(vs->account_id, sizeof vs->account_id, "%s", a.account->id);
	/* RFC 8620 5.3 "singleton": there is one, never another, never none. */
	json_object_foreach(a.create, k, v)
		jmap_set_not_created(&vs->r, k, jmap_set_error("singleton", NULL, NULL));
	json_array_foreach(a.destroy, i, v)
		jmap_set_not_destroyed(&vs->r, json_string_value(v), jmap_set_error("singleton", NULL, NULL));
	json_object_foreach(a.update, k, v) {
		if (strcmp(k, SINGLETON) != 0)
			jmap_set_not_updated(&vs->r, k, jmap_set_error("notFound", NULL, NULL));
		else
			p = v;
	}
	if (p == NULL || load(call, &vac) < 0) {
		if (p != NULL) {   /* load() answered */
			jmap_set_result_free(&vs->r);
			free(vs);
		} else {
			finish(call, vs);
		}
		jmap_set_args_free(&a);
		return;
	}
	cur = object_of(vac);
	json_decref(vac);
	if (patch(cur, p, &data, &err) < 0) {
		jmap_set_not_updated(&vs->r, SINGLETON, err);
		json_decref(cur);
		jmap_set_args_free(&a);
		finish(call, vs);
		return;
	}
	json_decref(cur);
	jmap_set_args_free(&a);
	jmap_mail_submit(call, "vacation.set", data, written, vs);
}

void jmap_vacation_register(struct jmap_api *api)
{
	jmap_method_register(api, "VacationResponse/get", JMAP_CAP_VACATION, vacation_get, NULL);
	jmap_method_register(api, "VacationResponse/set", JMAP_CAP_VACATION, vacation_set, NULL);
}

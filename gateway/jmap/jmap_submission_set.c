/* jmap_submission_set - EmailSubmission/set (RFC 8621 7.5): creates sent
 * one after another (jmap_submission_send.c), updates (undoStatus only:
 * everything here is "final", so "canceled" is cannotUnsend), destroys
 * (submission.destroy: the record goes, the mail stays sent), then the
 * implicit Email/set of onSuccessUpdateEmail / onSuccessDestroyEmail for
 * the submissions that succeeded, answered after this method's response.
 * Also the Submission capability and the registration of the Identity
 * and EmailSubmission methods. */
#include "gateway/jmap/jmap_submission.h"
#include "gateway/jmap/jmap_set_methods.h"
#include "gateway/jmap/jmap_std.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/mail_submission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One EmailSubmission/set in flight. */
struct subset {
	struct jmap_call *call;
	struct jmap_set_args a;
	struct jmap_set_result r;
	char old_state[JMAP_STATE_MAX];
	json_t *on_update, *on_destroy;   /* borrowed from the arguments, or NULL */
	json_t *creates;                  /* creation ids in order */
	size_t next;                      /* the next creation / destroy */
	char key[256];                    /* the object in progress */
	char key_email[33];               /* the email of the submission being destroyed */
	json_t *succeeded;                /* submission id -> its email id */
	int wrote;                        /* something was sent or written */
};

static void subset_free(struct subset *ss)
{
	jmap_set_result_free(&ss->r);
	jmap_set_args_free(&ss->a);
	json_decref(ss->creates);
	json_decref(ss->succeeded);
	free(ss);
}

/* A failure mid-way ends the method (RFC 8620 3.6.2). */
static void stop(struct subset *ss, const char *error)
{
	log_warn("jmap: EmailSubmission/set on %s: %s", ss->key, error);
	jmap_call_error(ss->call, ss->wrote ? "serverPartialFail" : "serverUnavailable",
			ss->wrote ? "a submission failed after others were made: resynchronise"
				  : "the submission could not be made, try again");
	subset_free(ss);
}

/* The email of submission key ("#cid" or an id), when that submission
 * succeeded in this call; NULL otherwise. */
static const char *email_of(struct subset *ss, const char *key)
{
	const char *id;

	if (!jmap_call_resolve_id(ss->call, key, &id))
		return NULL;
	return json_string_value(json_object_get(ss->succeeded, id));
}

/* RFC 8621 7.5: after every create, update and destroy, one implicit
 * Email/set for what the succeeded submissions asked; its response
 * follows ours. */
static void finish(struct subset *ss)
{
	char state[JMAP_STATE_MAX];
	json_t *update = json_object(), *destroy = json_array(), *v, *resp;
	const char *k, *email;
	size_t i;

	if (jmap_mail_state(ss->call, MAIL_J_SUBMISSION, state) < 0) {
		json_decref(update);
		json_decref(destroy);
		subset_free(ss);
		return;
	}
	json_object_foreach(ss->on_update, k, v)
		if ((email = email_of(ss, k)) != NULL)
			json_object_set(update, email, v);
	json_array_foreach(ss->on_destroy, i, v)
		if ((email = email_of(ss, json_string_value(v))) != NULL) {
			json_object_del(update, email);
			json_array_append_new(destroy, json_string(email));
		}
	resp = jmap_set_response(&ss->r, ss->a.account->id, ss->old_state, state);
	if (json_object_size(update) == 0 && json_array_size(destroy) == 0) {
		json_decref(update);
		json_decref(destroy);
		jmap_call_reply(ss->call, resp);
	} else {
		jmap_call_add(ss->call, "EmailSubmission/set", resp);
		jmap_email_set_implicit(ss->call, ss->a.account, update, destroy);
	}
	subset_free(ss);
}

static void next_destroy(struct subset *ss);

static void destroyed(struct jmap_call *call, void *ctx, int status, json_t *outcome, const char *error)
{
	struct subset *ss = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));

	(void)call;
	if (status < 0) {
		stop(ss, error);
		return;
	}
	ss->wrote = 1;
	if (st != NULL && strcmp(st, "accepted") == 0) {
		jmap_set_destroyed(&ss->r, ss->key);
		json_object_set_new(ss->succeeded, ss->key, json_string(ss->key_email));
	} else
		jmap_set_not_destroyed(&ss->r, ss->key, jmap_set_error("notFound", NULL, NULL));
	next_destroy(ss);
}

/* Destroys one after another: the record goes (submission.destroy). */
static void next_destroy(struct subset *ss)
{
	struct jmap_mail_req *req = jmap_mail_req(ss->call);
	const char *error = NULL, *id;
	json_t *rec = NULL;
	int r;

	while ((id = json_string_value(json_array_get(ss->a.destroy, ss->next))) != NULL) {
		ss->next++;
		snprintf(ss->key, sizeof ss->key, "%s", id);
		if ((r = mail_submission_get(req->node->view, req->address, id, &rec, &error)) < 0) {
			stop(ss, error);
			return;
		}
		if (r == 0) {
			jmap_set_not_destroyed(&ss->r, id, jmap_set_error("notFound", NULL, NULL));
			continue;
		}
		snprintf(ss->key_email, sizeof ss->key_email, "%s", json_string_value(json_object_get(rec, "email_id")));
		json_decref(rec);
		jmap_mail_submit(ss->call, "submission.destroy", json_pack("{s:s}", "id", id), destroyed, ss);
		return;
	}
	finish(ss);
}

/* Updates: nothing to write, as nothing can change (RFC 8621 7.5: only
 * undoStatus may be set, to "canceled", and only while pending). */
static int updates(struct subset *ss)
{
	struct jmap_mail_req *req = jmap_mail_req(ss->call);
	const char *k, *id, *p, *error = NULL;
	json_t *patch, *v, *rec = NULL;
	int r;

	json_object_foreach(ss->a.update, k, patch) {
		json_t *bad = NULL;

		if (!jmap_call_resolve_id(ss->call, k, &id) ||
		    (r = mail_submission_get(req->node->view, req->address, id, &rec, &error)) == 0) {
			jmap_set_not_updated(&ss->r, k, jmap_set_error("notFound", NULL, NULL));
			continue;
		}
		if (r < 0) {
			stop(ss, error);
			return -1;
		}
		json_object_foreach(patch, p, v) {
			if (strcmp(p, "undoStatus") == 0 && json_is_string(v) &&
			    strcmp(json_string_value(v), "canceled") == 0) {
				jmap_set_not_updated(&ss->r, id, jmap_set_error("cannotUnsend",
										"the message was sent at once", NULL));
				bad = json_null();
				break;
			}
			if (!(strcmp(p, "undoStatus") == 0 && json_is_string(v) &&
			      strcmp(json_string_value(v), "final") == 0)) {
				if (bad == NULL)
					bad = json_array();
				json_array_append_new(bad, json_string(p));
			}
		}
		if (json_is_array(bad))
			jmap_set_not_updated(&ss->r, id, jmap_set_error("invalidProperties", NULL, json_incref(bad)));
		else if (bad == NULL) {
			jmap_set_updated(&ss->r, id, NULL);
			json_object_set(ss->succeeded, id, json_object_get(rec, "email_id"));
		}
		json_decref(bad);
		json_decref(rec);
		rec = NULL;
	}
	return 0;
}

static void next_create(struct subset *ss);

static void created(struct jmap_call *call, void *ctx, int status, json_t *record, json_t *err, const char *error)
{
	struct subset *ss = ctx;
	const char *id = json_string_value(json_object_get(record, "id"));
	char sent_at[32];

	if (status < 0) {
		ss->wrote |= status == -2;
		stop(ss, error);
		return;
	}
	if (status > 0) {
		jmap_set_not_created(&ss->r, ss->key, err);
	} else {
		ss->wrote = 1;
		jmap_utcdate_format(json_integer_value(json_object_get(record, "send_at")), sent_at, sizeof sent_at);
		json_object_set(ss->succeeded, id, json_object_get(record, "email_id"));
		jmap_set_created(&ss->r, call, ss->key,
				 json_pack("{s:s, s:O, s:s, s:s}", "id", id, "threadId",
					   json_object_get(record, "thread_id"), "sendAt", sent_at, "undoStatus",
					   "final"));
	}
	next_create(ss);
}

/* Creates one after another, so each is sent and recorded before the
 * next is checked. */
static void next_create(struct subset *ss)
{
	const char *cid = json_string_value(json_array_get(ss->creates, ss->next));

	if (cid == NULL) {
		ss->next = 0;
		if (updates(ss) == 0)
			next_destroy(ss);
		return;
	}
	ss->next++;
	snprintf(ss->key, sizeof ss->key, "%s", cid);
	jmap_submission_send(ss->call, json_object_get(ss->a.create, cid), created, ss);
}

/* onSuccessUpdateEmail: null or a map of submission ids (or "#cid") to
 * PatchObjects; onSuccessDestroyEmail: null or a list of them. */
static int on_success_args(struct jmap_call *call, json_t *args, struct subset *ss)
{
	json_t *u = json_object_get(args, "onSuccessUpdateEmail"), *d = json_object_get(args, "onSuccessDestroyEmail");
	const char *k;
	json_t *v;
	size_t i;

	if (u != NULL && !json_is_null(u)) {
		if (!json_is_object(u))
			return jmap_arg_invalid(call, "onSuccessUpdateEmail", "is not a map of ids to PatchObjects");
		json_object_foreach(u, k, v)
			if (!json_is_object(v))
				return jmap_arg_invalid(call, "onSuccessUpdateEmail", "is not a map of ids to PatchObjects");
		ss->on_update = u;
	}
	if (d != NULL && !json_is_null(d)) {
		if (!json_is_array(d))
			return jmap_arg_invalid(call, "onSuccessDestroyEmail", "is not a list of ids");
		json_array_foreach(d, i, v)
			if (!json_is_string(v))
				return jmap_arg_invalid(call, "onSuccessDestroyEmail", "is not a list of ids");
		ss->on_destroy = d;
	}
	return 0;
}

void jmap_submission_set(struct jmap_call *call, json_t *args, void *ctx)
{
	struct subset *ss = xcalloc(1, sizeof *ss);
	const char *k;
	json_t *v;

	(void)ctx;
	ss->call = call;
	jmap_set_result_init(&ss->r);
	ss->creates = json_array();
	ss->succeeded = json_object();
	if (jmap_mail_state(call, MAIL_J_SUBMISSION, ss->old_state) < 0 ||
	    jmap_set_args_parse(call, args, ss->old_state, &ss->a) < 0 || on_success_args(call, args, ss) < 0) {
		subset_free(ss);
		return;
	}
	json_object_foreach(ss->a.create, k, v)
		json_array_append_new(ss->creates, json_string(k));
	next_create(ss);
}

void jmap_submission_register(struct jmap_api *api)
{
	/* RFC 8621 1.3.2: nothing is held back for later (maxDelayedSend 0),
	 * and no SMTP extension is offered to envelope parameters. */
	jmap_api_add_capability(api, JMAP_CAP_SUBMISSION, json_object(),
				json_pack("{s:i, s:{}}", "maxDelayedSend", 0, "submissionExtensions"));
	jmap_identity_register(api);
	jmap_method_register(api, "EmailSubmission/get", JMAP_CAP_SUBMISSION, jmap_submission_get, NULL);
	jmap_method_register(api, "EmailSubmission/changes", JMAP_CAP_SUBMISSION, jmap_submission_changes, NULL);
	jmap_method_register(api, "EmailSubmission/query", JMAP_CAP_SUBMISSION, jmap_submission_query, NULL);
	jmap_method_register(api, "EmailSubmission/queryChanges", JMAP_CAP_SUBMISSION,
			     jmap_submission_query_changes, NULL);
	jmap_method_register(api, "EmailSubmission/set", JMAP_CAP_SUBMISSION, jmap_submission_set, NULL);
}

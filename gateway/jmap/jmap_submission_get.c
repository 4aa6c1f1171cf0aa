/* jmap_submission_get - EmailSubmission/get and /changes (RFC 8621
 * 7.1, 7.2) over the account's submission records
 * (projector/mail_submission.h).
 *
 * undoStatus is always "final" (sent at once, maxDelayedSend 0).
 * deliveryStatus is read at get time: a local recipient was stored when
 * the submission was made ("yes"); a remote one is what the outbound
 * queue item says now (projector/queue.h). A delivery attempt does not
 * change the EmailSubmission state: it is an event of the queue topic,
 * not of the account's mail partition, so a client sees new delivery
 * results by fetching again, not through /changes or push. */
#include "gateway/jmap/jmap_submission.h"
#include "gateway/jmap/jmap_std.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/mail_submission.h"
#include "projector/queue.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const sub_props[] = {
	"id", "identityId", "emailId", "threadId", "envelope", "sendAt", "undoStatus", "deliveryStatus",
	"dsnBlobIds", "mdnBlobIds", NULL,
};

static int has_ci(const json_t *arr, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcasecmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* The queue's word for a recipient as RFC 8621 7 DeliveryStatus. */
static json_t *queued_status(json_t *item, const char *addr)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(item, "rcpts"), i, r) {
		const char *a = json_string_value(json_object_get(r, "addr"));
		const char *st = json_string_value(json_object_get(r, "status"));
		const char *reply = json_string_value(json_object_get(r, "reply"));

		if (a == NULL || st == NULL || strcasecmp(a, addr) != 0)
			continue;
		if (reply == NULL || reply[0] == '\0')
			reply = "250 2.0.0 Queued";
		return json_pack("{s:s, s:s, s:s}", "smtpReply", reply, "delivered",
				 strcmp(st, "delivered") == 0 ? "yes" : strcmp(st, "failed") == 0 ? "no" : "queued",
				 "displayed", "unknown");
	}
	return NULL;
}

/* deliveryStatus: one entry per envelope recipient. An item gone from the
 * queue had every recipient final and no report left to send: it is no
 * longer known which way it went ("unknown"). 0, or -1 on a view error. */
static int delivery_status(struct jmap_mail_req *req, json_t *rec, json_t **ds_r, const char **error_r)
{
	const char *qid = json_string_value(json_object_get(rec, "queue_id"));
	json_t *item = NULL, *a;
	size_t i;

	*ds_r = json_object();
	if (qid[0] != '\0' && queue_item_get(req->node->view, qid, &item, error_r) < 0) {
		json_decref(*ds_r);
		return -1;
	}
	json_array_foreach(json_object_get(json_object_get(rec, "envelope"), "rcptTo"), i, a) {
		const char *e = json_string_value(json_object_get(a, "email"));
		json_t *st = NULL;

		if (has_ci(json_object_get(rec, "local"), e))
			st = json_pack("{s:s, s:s, s:s}", "smtpReply", "250 2.0.0 Delivered", "delivered", "yes",
				       "displayed", "unknown");
		else if (item != NULL)
			st = queued_status(item, e);
		if (st == NULL)
			st = json_pack("{s:s, s:s, s:s}", "smtpReply", "", "delivered", "unknown", "displayed",
				       "unknown");
		json_object_set_new(*ds_r, e, st);
	}
	json_decref(item);
	return 0;
}

/* The EmailSubmission of a record (RFC 8621 7). */
static int object_of(struct jmap_mail_req *req, json_t *rec, json_t **obj_r, const char **error_r)
{
	json_t *ds;
	char sent[32];

	if (delivery_status(req, rec, &ds, error_r) < 0)
		return -1;
	jmap_utcdate_format(json_integer_value(json_object_get(rec, "send_at")), sent, sizeof sent);
	*obj_r = json_pack("{s:O, s:O, s:O, s:O, s:O, s:s, s:s, s:o, s:[], s:[]}", "id", json_object_get(rec, "id"),
			   "identityId", json_object_get(rec, "identity_id"), "emailId",
			   json_object_get(rec, "email_id"), "threadId", json_object_get(rec, "thread_id"),
			   "envelope", json_object_get(rec, "envelope"), "sendAt", sent, "undoStatus", "final",
			   "deliveryStatus", ds, "dsnBlobIds", "mdnBlobIds");
	return 0;
}

static void fail(struct jmap_call *call, const char *what, const char *error)
{
	log_error("jmap: %s for %s: %s", what, jmap_mail_address(call), error);
	jmap_call_error(call, "serverFail", "the view cannot be read");
}

void jmap_submission_get(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_get_args a;
	json_t *recs = NULL, *list = json_array(), *not_found = json_array(), *v, *obj, *p;
	char state[JMAP_STATE_MAX];
	const char *error = NULL;
	size_t i, k;
	int r = 0;

	(void)ctx;
	if (jmap_get_args_parse(call, args, sub_props, &a) < 0 || jmap_mail_state(call, MAIL_J_SUBMISSION, state) < 0)
		goto done;
	if (a.ids == NULL) {
		r = mail_submissions(req->node->view, req->address, &recs, &error);
	} else {
		recs = json_array();
		json_array_foreach(a.ids, i, v) {
			json_t *rec = NULL;

			if ((r = mail_submission_get(req->node->view, req->address, json_string_value(v), &rec, &error)) < 0)
				break;
			if (r == 0)
				json_array_append(not_found, v);
			else
				json_array_append_new(recs, rec);
			r = 0;
		}
	}
	json_array_foreach(recs, i, v) {
		if (r < 0 || (r = object_of(req, v, &obj, &error)) < 0)
			break;
		if (a.properties != NULL) {
			json_t *only = json_object();

			json_array_foreach(a.properties, k, p)
				json_object_set(only, json_string_value(p), json_object_get(obj, json_string_value(p)));
			json_decref(obj);
			obj = only;
		}
		json_array_append_new(list, obj);
	}
	json_decref(recs);
	if (r < 0) {
		fail(call, "EmailSubmission/get", error);
	} else {
		jmap_call_reply(call, jmap_get_response(a.account->id, state, list, not_found));
		list = not_found = NULL;
	}
	jmap_get_args_free(&a);
done:
	json_decref(list);
	json_decref(not_found);
}

void jmap_submission_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	(void)ctx;
	jmap_mail_changes(call, args, MAIL_J_SUBMISSION);
}

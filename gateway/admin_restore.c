/* admin_restore - point-in-time restore of an account's mail:
 *
 *   POST /admin/restore  {"account": ADDRESS, "at": MS,
 *                         "mailbox": NAME (optional; absent: every mailbox),
 *                         "into": NAME (optional, with "mailbox")}
 *
 * History is never rewritten: what existed at "at" and is gone now is
 * appended again, as new events. The account's mail partition is read
 * from its start on a worker thread (admin_logscan.h) into a mail_replay
 * (projector/mail_replay.h: deterministic, from the log and the
 * outcomes only). Then, on the loop, for each mailbox of the time:
 *   target = "into" when given; else the same mailbox (by id) if it still
 *   exists, whatever it is called now; else a mailbox of its name then,
 *   created (mailbox.create, no special use: another mailbox may hold it
 *   now) when there is none;
 *   a message of the time is gone when no message with its email_id is in
 *   the mailbox now nor in the target; each gone one is appended to the
 *   target (message.append with its blob, prefix, flags, keywords,
 *   internal date, summary): IMAP clients see a new message with a new
 *   UID (RFC 9051 2.3.1.1). One whose blob is no longer complete on this
 *   node (storage GC removed it) is skipped and reported; the body of one
 *   that is restored is stored again first, as a new upload (a "blob"
 *   step, deliver_blob.h), so a collection of the old one decided
 *   meanwhile cannot take it (projector/blob_gc.h).
 * The events carry actor "admin:restore", so the audit trail shows them.
 * They are submitted one after the other (command.h: each is in the log
 * and applied before the next), and the answer lists what happened:
 *   {"account", "at", "mailboxes": [{"mailbox" (name then), "into",
 *    "created": bool, "restored", "skipped", "failed"}],
 *    "restored": [{"mailbox", "uid", "email_id"}],
 *    "skipped": [{"mailbox", "blob_id", "reason"}],
 *    "failed": [{"mailbox", "type", "reason"}]}
 * 404 when the account is unknown or "mailbox" did not exist at "at". */
#include "gateway/admin_logscan.h"
#include "gateway/command.h"
#include "gateway/deliver_blob.h"
#include "gateway/mgmt_http.h"
#include "common/address.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/directory.h"
#include "projector/mail.h"
#include "projector/mail_replay.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#define RESTORE_COMMAND_TIMEOUT_MS 30000
#define RESTORE_ACTOR "admin:restore"

struct restore {
	struct node *node;
	struct http_request *req;      /* NULL once the client went away */
	char account[EVM_ADDRESS_MAX + 1];
	char tenant[EVM_EVENT_NAME_MAX + 1];
	int64_t at;
	char *mailbox, *into;          /* NULL: every mailbox / its own target */
	struct mail_replay *replay;    /* the worker's until the scan is done */
	json_t *steps;                 /* [{"type", "data" or "blob_id" (type "blob"), "report" (index), "mailbox"}] */
	size_t next;
	json_t *report;
};

/* Frees the job (its request is answered or gone). */
static void restore_free(struct restore *r)
{
	mail_replay_free(&r->replay);
	json_decref(r->steps);
	json_decref(r->report);
	free(r->mailbox);
	free(r->into);
	free(r);
}

/* Worker thread: the account's applied events into the replay. */
static int on_event(void *ctx, const struct evlog_record *rec, const struct evm_event *ev,
		    const json_t *outcome, int duplicate, const char **error_r)
{
	struct restore *r = ctx;

	(void)rec;
	(void)error_r;
	if (!duplicate && outcome != NULL)
		mail_replay_feed(r->replay, ev, outcome);
	return 0;
}

/* The client went away: the restore goes on, nobody is answered. */
static void on_cancel(void *ctx, struct http_request *req)
{
	struct restore *r = ctx;

	(void)req;
	r->req = NULL;
}

/* Answers (if anyone still asks) and frees. */
static void finish(struct restore *r, int code, json_t *body)
{
	if (r->req != NULL) {
		http_request_on_cancel(r->req, NULL, NULL);
		mgmt_reply_json(r->req, code, body);
	} else {
		json_decref(body);
	}
	restore_free(r);
}

/* Answers {"error": message}. */
static void finish_error(struct restore *r, int code, const char *message)
{
	finish(r, code, json_pack("{s:s}", "error", message));
}

/* The email ids of a mailbox now, added to set (absent mailbox: none). */
static int add_present(struct restore *r, const char *mailbox_id, json_t *set, const char **error_r)
{
	json_t *msgs = NULL, *m;
	size_t i;

	if (mailbox_id == NULL)
		return 0;
	if (mail_messages(r->node->view, r->account, mailbox_id, 0, &msgs, error_r) < 0)
		return -1;
	json_array_foreach(msgs, i, m) {
		const char *e = json_string_value(json_object_get(m, "email_id"));
		if (e != NULL)
			json_object_set_new(set, e, json_true());
	}
	json_decref(msgs);
	return 0;
}

/* The id of the mailbox called name now (borrowed from now), or NULL. */
static const char *now_by_name(json_t *now, const char *name)
{
	size_t i;
	json_t *m;

	json_array_foreach(now, i, m) {
		if (strcmp(json_string_value(json_object_get(m, "name")), name) == 0)
			return json_string_value(json_object_get(m, "id"));
	}
	return NULL;
}

/* The name of mailbox id now (borrowed), or NULL when it is gone. */
static const char *now_by_id(json_t *now, const char *id)
{
	size_t i;
	json_t *m;

	json_array_foreach(now, i, m) {
		if (strcmp(json_string_value(json_object_get(m, "id")), id) == 0)
			return json_string_value(json_object_get(m, "name"));
	}
	return NULL;
}

/* message.append data for a message of the time, into mailbox_id. */
static json_t *append_data(json_t *msg, const char *mailbox_id)
{
	json_t *d = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "mailbox_id", mailbox_id,
			      "blob_id", json_object_get(msg, "blob_id"), "blob_size",
			      json_object_get(msg, "blob_size"), "prefix", json_object_get(msg, "prefix"),
			      "flags", json_object_get(msg, "flags"), "keywords", json_object_get(msg, "keywords"),
			      "internal_date", json_object_get(msg, "internal_date"), "summary",
			      json_object_get(msg, "summary"));

	if (d != NULL && json_object_get(msg, "dsn") != NULL)
		json_object_set(d, "dsn", json_object_get(msg, "dsn"));
	return d;
}

/* 1 when every chunk of the blob is on this node, 0 not, -1 error. */
static int blob_here(struct view *view, const char *blob_id, const char **error_r)
{
	char *data = NULL;
	size_t len = 0;
	int ret = mail_blob_read(view, blob_id, &data, &len, error_r);

	free(data);
	return ret;
}

/* Plans one mailbox of the time: its target, creation and appends. */
static int plan_mailbox(struct restore *r, json_t *then, json_t *now, const char *into, const char **error_r)
{
	const char *src_id = json_string_value(json_object_get(then, "id"));
	const char *name_then = json_string_value(json_object_get(then, "name"));
	const char *src_now = now_by_id(now, src_id) ? src_id : NULL;
	const char *target_name, *target_id;
	char new_id[EVM_ID_HEX_LEN + 1];
	json_t *present = json_object(), *msgs = NULL, *m, *rep;
	size_t i, index = json_array_size(json_object_get(r->report, "mailboxes"));
	int created = 0, ret = -1;

	if (into != NULL)
		target_name = into;
	else if (src_now != NULL)
		target_name = now_by_id(now, src_id);
	else
		target_name = name_then;
	target_id = into == NULL && src_now != NULL ? src_id : now_by_name(now, target_name);
	if (target_id == NULL) {
		evm_random_id(new_id);
		target_id = new_id;
		created = 1;
		json_array_append_new(r->steps, json_pack("{s:s, s:{s:s, s:s, s:s}, s:I, s:s}", "type",
							  "mailbox.create", "data", "mailbox_id", new_id, "name",
							  target_name, "special_use", "", "report", (json_int_t)index,
							  "mailbox", target_name));
	}
	rep = json_pack("{s:s, s:s, s:b, s:i, s:i, s:i}", "mailbox", name_then, "into", target_name, "created",
			created, "restored", 0, "skipped", 0, "failed", 0);
	json_array_append_new(json_object_get(r->report, "mailboxes"), rep);
	if (add_present(r, src_now, present, error_r) < 0 ||
	    add_present(r, created ? NULL : target_id, present, error_r) < 0)
		goto out;
	msgs = mail_replay_messages(r->replay, src_id);
	json_array_foreach(msgs, i, m) {
		const char *blob = json_string_value(json_object_get(m, "blob_id"));
		const char *email = json_string_value(json_object_get(m, "email_id"));
		int here;

		if (email != NULL && json_object_get(present, email) != NULL)
			continue;   /* still there */
		if ((here = blob_here(r->node->view, blob, error_r)) < 0)
			goto out;
		if (here == 0) {
			json_object_set_new(rep, "skipped", json_integer(json_integer_value(json_object_get(rep, "skipped")) + 1));
			json_array_append_new(json_object_get(r->report, "skipped"),
					      json_pack("{s:s, s:s, s:s}", "mailbox", name_then, "blob_id", blob, "reason",
							"the message's blob is no longer stored"));
			continue;
		}
		json_array_append_new(r->steps, json_pack("{s:s, s:s, s:I, s:s}", "type", "blob", "blob_id", blob,
							  "report", (json_int_t)index, "mailbox", target_name));
		json_array_append_new(r->steps, json_pack("{s:s, s:o, s:I, s:s}", "type", "message.append", "data",
							  append_data(m, target_id), "report", (json_int_t)index,
							  "mailbox", target_name));
	}
	ret = 0;
out:
	json_decref(present);
	json_decref(msgs);
	return ret;
}

static void run_next(struct restore *r);

/* Adds 1 to member of the step's mailbox report. */
static void count(struct restore *r, json_t *step, const char *member)
{
	json_t *rep = json_array_get(json_object_get(r->report, "mailboxes"),
				     (size_t)json_integer_value(json_object_get(step, "report")));

	json_object_set_new(rep, member, json_integer(json_integer_value(json_object_get(rep, member)) + 1));
}

/* One step was applied (or its fate is unknown). */
static void step_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct restore *r = ctx;
	json_t *step = json_array_get(r->steps, r->next - 1);
	const char *type = json_string_value(json_object_get(step, "type"));
	const char *mbox = json_string_value(json_object_get(step, "mailbox"));
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;

	if (st == NULL || strcmp(st, "accepted") != 0) {
		const char *why = status < 0 ? error : json_string_value(json_object_get(outcome, "reason"));
		json_array_append_new(json_object_get(r->report, "failed"),
				      json_pack("{s:s, s:s, s:s}", "mailbox", mbox, "type", type, "reason",
						why ? why : "rejected"));
		count(r, step, "failed");
	} else if (strcmp(type, "message.append") == 0) {
		json_array_append_new(json_object_get(r->report, "restored"),
				      json_pack("{s:s, s:O, s:O}", "mailbox", mbox, "uid",
						json_object_get(outcome, "uid"), "email_id",
						json_object_get(outcome, "email_id")));
		count(r, step, "restored");
	}
	run_next(r);
}

/* A restored body's new upload is applied here (or the wait ended). */
static void blob_applied(void *ctx, int status)
{
	struct restore *r = ctx;

	if (status < 0)
		log_warn("admin: restore of %s: a stored body is not applied yet; its append goes on",
			 r->account);
	run_next(r);
}

/* A restored body's chunks are in the log (or not). */
static void blob_stored(void *ctx, int status, const char *error, int32_t partition, int64_t last_offset)
{
	struct restore *r = ctx;

	if (status < 0) {
		log_warn("admin: restore of %s: body not stored again (%s); its append goes on", r->account,
			 error);
		run_next(r);
		return;
	}
	projector_wait(r->node->projector, EVM_TOPIC_BLOB, partition, last_offset, RESTORE_COMMAND_TIMEOUT_MS,
		       blob_applied, r, NULL);
}

/* A "blob" step: stores the body again under a new upload id. */
static void run_blob(struct restore *r, json_t *step)
{
	const char *blob_id = json_string_value(json_object_get(step, "blob_id")), *error = NULL;
	char *data = NULL;
	size_t len = 0;

	if (mail_blob_read(r->node->view, blob_id, &data, &len, &error) <= 0 || len == 0) {
		/* Gone since the plan (or empty): the append says what happens. */
		free(data);
		run_next(r);
		return;
	}
	deliver_blob_store(r->node, RESTORE_ACTOR, r->account, blob_id, data, len, blob_stored, r);
	free(data);
}

/* Submits the next step, or answers when all are done. */
static void run_next(struct restore *r)
{
	json_t *step = json_array_get(r->steps, r->next);
	const char *error = NULL;
	struct evm_event ev;

	if (step == NULL) {
		log_info("admin: restore of %s at %lld: %zu restored, %zu skipped, %zu failed", r->account,
			 (long long)r->at, json_array_size(json_object_get(r->report, "restored")),
			 json_array_size(json_object_get(r->report, "skipped")),
			 json_array_size(json_object_get(r->report, "failed")));
		finish(r, 200, json_incref(r->report));
		return;
	}
	r->next++;
	if (strcmp(json_string_value(json_object_get(step, "type")), "blob") == 0) {
		run_blob(r, step);
		return;
	}
	if (evm_event_init(&ev, json_string_value(json_object_get(step, "type")), r->tenant, r->account,
			   RESTORE_ACTOR, json_incref(json_object_get(step, "data")), &error) < 0) {
		step_done(r, -1, NULL, error);
		return;
	}
	command_submit(r->node, &ev, EVM_TOPIC_MAIL, r->account, RESTORE_COMMAND_TIMEOUT_MS, step_done, r);
}

/* Loop: the partition was read; plan and start. */
static void on_done(void *ctx, int status, const char *error)
{
	struct restore *r = ctx;
	json_t *then = NULL, *now = NULL, *m;
	char id[33];
	size_t i;

	if (status < 0) {
		finish_error(r, 503, error);
		return;
	}
	if (mail_mailboxes(r->node->view, r->account, &now, &error) < 0) {
		finish_error(r, 500, error);
		return;
	}
	then = mail_replay_mailboxes(r->replay);
	if (r->mailbox != NULL) {
		if (mail_replay_mailbox_by_name(r->replay, r->mailbox, id) != 1) {
			finish_error(r, 404, "no such mailbox at that time");
			goto out;
		}
		json_array_foreach(then, i, m) {
			if (strcmp(json_string_value(json_object_get(m, "id")), id) == 0 &&
			    plan_mailbox(r, m, now, r->into, &error) < 0)
				goto fail;
		}
	} else {
		json_array_foreach(then, i, m) {
			if (plan_mailbox(r, m, now, NULL, &error) < 0)
				goto fail;
		}
	}
	run_next(r);
	goto out;
fail:
	finish_error(r, 500, error);
out:
	json_decref(then);
	json_decref(now);
}

/* An optional string member: 0 (absent: *v_r NULL), -1 wrong type. */
static int opt_str(json_t *body, const char *name, char **v_r)
{
	json_t *v = json_object_get(body, name);

	*v_r = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > MAIL_MAILBOX_NAME_MAX)
		return -1;
	*v_r = xstrdup(json_string_value(v));
	return 0;
}

/* POST /admin/restore: checks the body and the account, starts the scan. */
void admin_restore_handle(struct node *node, struct http_request *req)
{
	struct evbuffer *in = http_request_body(req);
	size_t len = evbuffer_get_length(in);
	struct restore *r = xcalloc(1, sizeof *r);
	json_t *body = json_loadb((const char *)evbuffer_pullup(in, (ev_ssize_t)len), len, 0, NULL);
	const char *addr = json_string_value(json_object_get(body, "account"));
	const char *error = NULL, *tenant;
	json_t *at = json_object_get(body, "at"), *acc = NULL;

	if (addr == NULL || !json_is_integer(at) || opt_str(body, "mailbox", &r->mailbox) < 0 ||
	    opt_str(body, "into", &r->into) < 0 || (r->into != NULL && r->mailbox == NULL)) {
		mgmt_reply_error(req, 400, "body: {\"account\", \"at\" (ms), \"mailbox\"?, \"into\"? (with mailbox)}");
		goto fail;
	}
	if (evm_address_normalize(addr, r->account, &error) < 0 ||
	    directory_account_get(node->view, r->account, &acc, &error) != 1 ||
	    (tenant = json_string_value(json_object_get(acc, "tenant"))) == NULL) {
		mgmt_reply_error(req, 404, "no such account");
		goto fail;
	}
	snprintf(r->tenant, sizeof r->tenant, "%s", tenant);
	r->node = node;
	r->req = req;
	r->at = json_integer_value(at);
	r->replay = mail_replay_new(r->account, r->at);
	r->steps = json_array();
	r->report = json_pack("{s:s, s:I, s:[], s:[], s:[], s:[]}", "account", r->account, "at", (json_int_t)r->at,
			      "mailboxes", "restored", "skipped", "failed");
	if (admin_logscan_start(node, r->account, on_event, on_done, r, &error) < 0) {
		mgmt_reply_error(req, strncmp(error, "busy", 4) == 0 ? 409 : 503, error);
		goto fail;
	}
	http_request_on_cancel(req, on_cancel, r);
	json_decref(body);
	json_decref(acc);
	return;
fail:
	json_decref(body);
	json_decref(acc);
	restore_free(r);
}

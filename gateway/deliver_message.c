/* deliver_message - one inbound message to its local recipients (see
 * deliver.h): the body once as a blob (once per target account when some
 * target has a content key, deliver_blob.h), then one message.append per
 * target through the command path, each answered with the projector's
 * outcome. */
#include "gateway/deliver.h"
#include "gateway/command.h"
#include "gateway/deliver_blob.h"
#include "gateway/submit/submit.h"
#include "gateway/vacation.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/mime.h"
#include "projector/keyring.h"
#include "projector/mail.h"

#include <event2/event.h>
#include <inttypes.h>
#include <string.h>

#define DELIVER_APPEND_TIMEOUT_MS 30000

struct delivery;

/* One target's append in flight. */
struct delivery_rcpt {
	struct delivery *d;
	size_t index;
};

/* Everything deliver_message keeps from the request until the callback. */
struct delivery {
	struct node *node;
	deliver_done_cb *cb;
	void *ctx;
	char actor[EVM_EVENT_NAME_MAX + 1];
	char blob_id[DELIVER_BLOB_ID_LEN + 1];
	size_t blob_size;
	int64_t internal_date;
	json_t *summary;
	json_t *dsn;                         /* copy of req->dsn or NULL */
	int junk;                            /* req->junk */
	struct deliver_target *targets;
	struct delivery_rcpt *rcpts;
	struct deliver_result *results;
	size_t ntargets;
	size_t pending;                      /* appends not answered yet */
	int blob_waiting;                    /* the blob is not applied here yet */
	size_t uploads;                      /* blob uploads whose report has not come */
	int upload_failed;
	char upload_error[256];              /* the first upload's failure */
	int64_t blob_last_offset;            /* highest last chunk of every upload */
	int appends_over;                    /* every append answered */
	struct event *defer;
	int single_reply;
	int grace_pass;                      /* over-quota targets appended again */
	char *over_quota_ok;                 /* per target: append with over_quota_ok */
	char *mail_from;                     /* for a vacation reply (gateway/vacation.h) */
	int auto_reply_ok;                   /* the message may get one (RFC 3834) */
};

static void set_result(struct deliver_result *r, int ok, const char *code, const char *enhanced,
		       const char *text)
{
	r->ok = ok;
	snprintf(r->code, sizeof r->code, "%s", code);
	snprintf(r->enhanced, sizeof r->enhanced, "%s", enhanced);
	snprintf(r->text, sizeof r->text, "%s", text);
}

static void set_tempfail(struct deliver_result *r)
{
	set_result(r, 0, "451", "4.3.0", "Temporary failure storing the message, try again later");
}

/* A write that failed or whose fate is unknown: 451 4.3.0, or 452 4.3.1
 * when the log's or the view's storage is full (RFC 3463 3.4, "mail
 * system full"): the client is told the disk is the problem either way. */
static void set_write_failed(struct deliver_result *r, struct node *node, const char *error)
{
	if (node_storage_full(node, error))
		set_result(r, 0, "452", "4.3.1", "Insufficient system storage, try again later");
	else
		set_tempfail(r);
}

/* Answers the caller, logs the delivery and frees it. */
static void delivery_finish(struct delivery *d)
{
	struct buf codes = BUF_INIT;
	size_t stored = 0;

	for (size_t i = 0; i < d->ntargets; i++) {
		buf_printf(&codes, "%s%s", i ? "," : "", d->results[i].code);
		stored += d->results[i].ok != 0;
	}
	log_info("deliver: %s blob %s size %zu recipients %zu stored %zu result %s", d->actor,
		 d->blob_id[0] ? d->blob_id : "-", d->blob_size, d->ntargets, stored,
		 d->ntargets ? codes.data : "-");
	buf_free(&codes);
	d->cb(d->ctx, d->results, d->ntargets);
	for (size_t i = 0; d->auto_reply_ok && i < d->ntargets; i++)
		if (d->results[i].ok)
			vacation_consider(d->node, d->targets[i].account, d->targets[i].tenant,
					  d->targets[i].rcpt, d->mail_from, d->summary);
	free(d->mail_from);
	if (d->defer != NULL)
		event_free(d->defer);
	json_decref(d->summary);
	json_decref(d->dsn);
	free(d->targets);
	free(d->rcpts);
	free(d->results);
	free(d->over_quota_ok);
	free(d);
}

static void delivery_deferred(evutil_socket_t fd, short what, void *ctx)
{
	delivery_finish(ctx);
}

/* Maps the projector's outcome of a message.append to an SMTP reply. */
static void map_outcome(struct deliver_result *r, struct node *node, int status, json_t *outcome,
			const char *error)
{
	const char *st, *code, *reason, *email_id;
	json_t *uid;
	char text[sizeof r->text];

	if (status < 0) {
		set_write_failed(r, node, error);
		return;
	}
	st = json_string_value(json_object_get(outcome, "status"));
	if (st != NULL && strcmp(st, "accepted") == 0) {
		email_id = json_string_value(json_object_get(outcome, "email_id"));
		uid = json_object_get(outcome, "uid");
		if (email_id != NULL && json_is_integer(uid))
			snprintf(text, sizeof text, "Ok: stored as %s/%" JSON_INTEGER_FORMAT, email_id,
				 json_integer_value(uid));
		else
			snprintf(text, sizeof text, "Ok: stored");
		set_result(r, 1, "250", "2.0.0", text);
		return;
	}
	code = json_string_value(json_object_get(outcome, "code"));
	reason = json_string_value(json_object_get(outcome, "reason"));
	if (code != NULL && strcmp(code, "quota") == 0) {
		set_result(r, 0, "552", "5.2.2", "Mailbox full");
	} else if (code != NULL && strcmp(code, "not-found") == 0) {
		set_result(r, 0, "550", "5.1.1", "No such mailbox");
	} else {
		snprintf(text, sizeof text, "Rejected: %s", reason ? reason : code ? code : "unknown");
		set_result(r, 0, "554", "5.0.0", text);
	}
}

static void submit_append(struct delivery *d, size_t i);

/* Every append is answered: finish, unless the blob is still being
 * applied here (the caller hears back once both are). */
static void appends_over(struct delivery *d)
{
	d->appends_over = 1;
	if (!d->blob_waiting)
		delivery_finish(d);
}

/* Single reply (SMTP): when some target stored the message and others were
 * refused only for quota, append those again with over_quota_ok, since the
 * client is about to hear 250 for all. Returns 1 when a pass started. */
static int grace_pass(struct delivery *d)
{
	size_t stored = 0, quota = 0;

	if (!d->single_reply || d->grace_pass)
		return 0;
	for (size_t i = 0; i < d->ntargets; i++) {
		if (d->results[i].ok)
			stored++;
		else if (strcmp(d->results[i].code, "552") == 0)
			quota++;
	}
	if (stored == 0 || quota == 0)
		return 0;
	d->grace_pass = 1;
	d->pending = quota + 1;
	for (size_t i = 0; i < d->ntargets; i++) {
		if (!d->results[i].ok && strcmp(d->results[i].code, "552") == 0) {
			log_warn("deliver: blob %s: %s is over quota but the message was accepted for "
				 "other recipients; storing it over quota", d->blob_id,
				 d->targets[i].account);
			d->over_quota_ok[i] = 1;
			submit_append(d, i);
		}
	}
	if (--d->pending == 0)
		appends_over(d);
	return 1;
}

static void append_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct delivery_rcpt *rc = ctx;
	struct delivery *d = rc->d;

	const char *reason;

	map_outcome(&d->results[rc->index], d->node, status, outcome, error);
	if (status == 0 && !d->results[rc->index].ok) {
		reason = json_string_value(json_object_get(outcome, "reason"));
		log_info("deliver: blob %s to %s rejected: %s", d->blob_id,
			 d->targets[rc->index].account, reason ? reason : "(no reason)");
	}
	if (--d->pending == 0 && !grace_pass(d))
		appends_over(d);
}

/* The rcpts entry for rcpt (normalised): by exact key, else by a key
 * that normalises to it (the caller may key by the address as given). */
static json_t *dsn_rcpt(json_t *rcpts, const char *rcpt, const char **key_r)
{
	char norm[EVM_ADDRESS_MAX + 1];
	const char *key, *ignored;
	json_t *v;

	if ((v = json_object_get(rcpts, rcpt)) != NULL) {
		*key_r = rcpt;
		return v;
	}
	json_object_foreach(rcpts, key, v) {
		if (evm_address_normalize(key, norm, &ignored) == 0 && strcmp(norm, rcpt) == 0) {
			*key_r = key;
			return v;
		}
	}
	return NULL;
}

/* The DSN parameters of one recipient: {"ret","envid","rcpts":{rcpt:{..}}}
 * restricted to rcpt; NULL when the request had none. */
static json_t *dsn_for(json_t *dsn, const char *rcpt)
{
	json_t *out, *mine;
	const char *key = NULL;

	if (!json_is_object(dsn))
		return NULL;
	out = json_object();
	if (json_object_get(dsn, "ret") != NULL)
		json_object_set(out, "ret", json_object_get(dsn, "ret"));
	if (json_object_get(dsn, "envid") != NULL)
		json_object_set(out, "envid", json_object_get(dsn, "envid"));
	mine = dsn_rcpt(json_object_get(dsn, "rcpts"), rcpt, &key);
	if (mine != NULL)
		json_object_set_new(out, "rcpts", json_pack("{s:O}", key, mine));
	return out;
}

/* The name of account's \Junk mailbox into name (INBOX when it has none). */
static void junk_mailbox(struct node *node, const char *account, char *name, size_t size)
{
	json_t *list = NULL, *mb;
	const char *error = NULL, *use, *n;
	size_t i;

	snprintf(name, size, "INBOX");
	if (mail_mailboxes(node->view, account, &list, &error) < 0) {
		log_warn("deliver: mailboxes of %s: %s", account, error);
		return;
	}
	json_array_foreach(list, i, mb) {
		use = json_string_value(json_object_get(mb, "special_use"));
		n = json_string_value(json_object_get(mb, "name"));
		if (use != NULL && n != NULL && strcmp(use, "\\Junk") == 0 && strlen(n) < size) {
			snprintf(name, size, "%s", n);
			break;
		}
	}
	json_decref(list);
}

/* Submits target i's message.append; on a local failure answers it at once
 * (we are on the loop, inside the blob callback, so that is allowed). */
static void submit_append(struct delivery *d, size_t i)
{
	const struct deliver_target *t = &d->targets[i];
	struct evm_event ev;
	const char *error = NULL;
	json_t *data, *dsn;
	char prefix[EVM_ADDRESS_MAX + 32], mailbox[1024] = "INBOX";

	snprintf(prefix, sizeof prefix, "Delivered-To: %s\r\n", t->rcpt);
	if (d->junk)
		junk_mailbox(d->node, t->account, mailbox, sizeof mailbox);
	data = json_pack("{s:s, s:s, s:I, s:s, s:[], s:o, s:I, s:O}", "mailbox", mailbox,
			 "blob_id", d->blob_id, "blob_size", (json_int_t)d->blob_size, "prefix", prefix,
			 "flags", "keywords", d->junk ? json_pack("[s]", "$Junk") : json_array(), "internal_date", (json_int_t)d->internal_date,
			 "summary", d->summary);
	if (data != NULL && (dsn = dsn_for(d->dsn, t->rcpt)) != NULL)
		json_object_set_new(data, "dsn", dsn);
	if (data != NULL && d->over_quota_ok[i])
		json_object_set_new(data, "over_quota_ok", json_true());
	if (data == NULL ||
	    evm_event_init(&ev, "message.append", t->tenant, t->account, d->actor, data, &error) < 0) {
		log_error("deliver: cannot build message.append for %s: %s", t->account,
			  error ? error : "json");
		set_tempfail(&d->results[i]);
		if (--d->pending == 0)
			appends_over(d);
		return;
	}
	command_submit(d->node, &ev, EVM_TOPIC_MAIL, t->account, DELIVER_APPEND_TIMEOUT_MS,
		       append_done, &d->rcpts[i]);
}

/* The local projector has the body (or gave up waiting): answer once the
 * appends are answered too. */
static void blob_applied(void *ctx, int status)
{
	struct delivery *d = ctx;

	if (status < 0)
		log_warn("deliver: blob %s is durable but not yet applied here; answering anyway",
			 d->blob_id);
	d->blob_waiting = 0;
	if (d->appends_over)
		delivery_finish(d);
}

/* Every chunk of every upload reported. The appends go to the log at
 * once, and the answer waits until the local projector applied both them
 * and the last chunk, so this node can serve the body as soon as the
 * client is answered (read-your-writes for bodies too; other nodes catch
 * up with the blob partition on their own): the two waits overlap instead
 * of following each other. Or fail every target (no append names a blob
 * that is not durable). Every upload of one blob id is in one partition. */
static void blob_stored(void *ctx, int status, const char *error, int32_t partition,
			int64_t last_offset)
{
	struct delivery *d = ctx;

	if (status < 0 && !d->upload_failed) {
		d->upload_failed = 1;
		snprintf(d->upload_error, sizeof d->upload_error, "%s", error ? error : "unknown error");
	}
	if (status == 0 && last_offset > d->blob_last_offset)
		d->blob_last_offset = last_offset;
	if (--d->uploads > 0)
		return;
	if (d->upload_failed) {
		log_warn("deliver: blob %s not stored: %s", d->blob_id, d->upload_error);
		for (size_t i = 0; i < d->ntargets; i++)
			set_write_failed(&d->results[i], d->node, d->upload_error);
		delivery_finish(d);
		return;
	}
	d->blob_waiting = 1;
	projector_wait(d->node->projector, EVM_TOPIC_BLOB, partition, d->blob_last_offset,
		       DELIVER_APPEND_TIMEOUT_MS, blob_applied, d, NULL);
	/* One extra count while submitting: a target that fails locally is
	 * answered at once, and the last answer must not free d mid-loop. */
	d->pending = d->ntargets + 1;
	for (size_t i = 0; i < d->ntargets; i++)
		submit_append(d, i);
	if (--d->pending == 0)
		appends_over(d);
}

/* 1 when some target account has a content key (or the lookup failed: the
 * sealing then reports it), so each account gets its own sealed copy. */
static int targets_keyed(struct delivery *d)
{
	char kid[KEYRING_KID_LEN + 1];
	const char *error = NULL;

	if (d->node->keyring == NULL)
		return 0;
	for (size_t i = 0; i < d->ntargets; i++) {
		int ret = keyring_current_kid(d->node->view, d->targets[i].account, kid, &error);
		if (ret < 0)
			log_warn("deliver: key of %s: %s", d->targets[i].account, error);
		if (ret != 0)
			return 1;
	}
	return 0;
}

/* 1 when target i is the first of its account (aliases may repeat one). */
static int first_of_account(const struct delivery *d, size_t i)
{
	for (size_t j = 0; j < i; j++) {
		if (strcmp(d->targets[j].account, d->targets[i].account) == 0)
			return 0;
	}
	return 1;
}

/* Uploads the body: once per distinct target account when some has a key
 * (erasing one account must not make another's copy unreadable), else
 * once, owned by the one target account or by none. */
static void store_body(struct delivery *d, const struct buf *blob)
{
	size_t n = 0;
	int keyed = d->ntargets > 1 && targets_keyed(d);

	d->blob_last_offset = -1;
	for (size_t i = 0; i < d->ntargets; i++)
		n += (size_t)first_of_account(d, i);
	/* The count is complete before the first upload is queued (each
	 * reports on a later loop turn anyway). */
	d->uploads = keyed ? n : 1;
	if (!keyed) {
		deliver_blob_store(d->node, d->actor, n == 1 ? d->targets[0].account : "", d->blob_id,
				   blob->data, blob->len, blob_stored, d);
		return;
	}
	for (size_t i = 0; i < d->ntargets; i++) {
		if (first_of_account(d, i))
			deliver_blob_store(d->node, d->actor, d->targets[i].account, d->blob_id, blob->data,
					   blob->len, blob_stored, d);
	}
}

void deliver_message(struct node *node, const struct deliver_request *req,
		     deliver_done_cb *cb, void *ctx)
{
	struct delivery *d = xcalloc(1, sizeof *d);
	struct buf blob = BUF_INIT;

	d->node = node;
	d->cb = cb;
	d->ctx = ctx;
	d->internal_date = evm_now_ms();
	snprintf(d->actor, sizeof d->actor, "%s", req->actor ? req->actor : "smtp");
	d->ntargets = req->ntargets;
	d->single_reply = req->single_reply;
	d->over_quota_ok = xcalloc(d->ntargets ? d->ntargets : 1, 1);
	d->results = xcalloc(d->ntargets ? d->ntargets : 1, sizeof *d->results);
	for (size_t i = 0; i < d->ntargets; i++)
		set_tempfail(&d->results[i]);
	if (d->ntargets == 0) {
		d->defer = evtimer_new(node->base, delivery_deferred, d);
		event_active(d->defer, EV_TIMEOUT, 0);
		return;
	}
	d->targets = xcalloc(d->ntargets, sizeof *d->targets);
	memcpy(d->targets, req->targets, d->ntargets * sizeof *d->targets);
	d->rcpts = xcalloc(d->ntargets, sizeof *d->rcpts);
	for (size_t i = 0; i < d->ntargets; i++) {
		d->rcpts[i].d = d;
		d->rcpts[i].index = i;
	}
	if (req->dsn != NULL)
		d->dsn = json_deep_copy(req->dsn);
	d->junk = req->junk;

	/* RFC 5321 4.4: Return-Path first, then the trace fields. */
	buf_reserve(&blob, 32 + strlen(req->mail_from ? req->mail_from : "") +
			   strlen(req->received ? req->received : "") + req->len);
	buf_printf(&blob, "Return-Path: <%s>\r\n", req->mail_from ? req->mail_from : "");
	if (req->received != NULL)
		buf_puts(&blob, req->received);
	buf_append(&blob, req->data, req->len);
	d->blob_size = blob.len;
	deliver_blob_id(blob.data, blob.len, d->blob_id);
	d->summary = mime_parse(blob.data, blob.len, NULL);
	d->mail_from = xstrdup(req->mail_from ? req->mail_from : "");
	d->auto_reply_ok = vacation_eligible(d->mail_from, req->data, submit_header_len(req->data, req->len));
	store_body(d, &blob);
	buf_free(&blob);
}

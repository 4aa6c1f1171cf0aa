/* jmap_email_copy - Email/copy (RFC 8621 4.7, RFC 8620 5.4) between the
 * user's own account and an account shared with them by ACL
 * (jmap_shared.h), either way.
 *
 * fromAccountId MUST differ from accountId (RFC 8620 5.4); within one
 * account a copy is an Email/set mailboxIds change. Each creation names
 * an email the from-account can see (in a shared account: a copy in a
 * shared mailbox) and becomes a new message.append in the target account
 * referencing the same stored blob and prefix (bodies are stored once,
 * by content), then a message.copy to each further mailbox, like
 * Email/import. One content is one email id, so the copy has the
 * original's id; a target already holding it answers alreadyExists
 * (RFC 8620 5.4). keywords and receivedAt default to the original's.
 * Into a shared account the writes act "as" the user and need i (and the
 * flags' rights) on each mailbox, checked here and by the owner's
 * projector.
 *
 * When the target account has a content key (projector/keyring.h), the
 * body is stored again under it first (deliver_blob.h), so erasing the
 * from-account's owner never takes the copy's body, in a replay too.
 *
 * onSuccessDestroyOriginal destroys the copied originals with an
 * implicit Email/set in the from-account, answered after the Email/copy
 * response; destroyFromIfInState is its ifInState (RFC 8620 5.4). */
#include "gateway/jmap/jmap_email_copy_private.h"
#include "gateway/jmap/jmap_private.h"
#include "gateway/jmap/jmap_request.h"
#include "gateway/jmap/jmap_set_methods.h"
#include "gateway/jmap/jmap_shared.h"
#include "gateway/jmap/jmap_std.h"
#include "gateway/deliver_blob.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/keyring.h"
#include "projector/mail.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void next_creation(struct copy_call *cc);

static void cc_free(struct copy_call *cc)
{
	json_decref(cc->from_scope);
	json_decref(cc->to_scope);
	json_decref(cc->originals);
	json_decref(cc->boxes);
	json_decref(cc->pending);
	jmap_set_result_free(&cc->r);
	jmap_mail_req_unref(&cc->req);
	free(cc);
}

/* The state of type Email of address as a string. 0, or -1 with *error_r. */
static int state_of(struct copy_call *cc, const char *address, char out[JMAP_STATE_MAX], const char **error_r)
{
	int64_t st = 0;

	if (mail_jmap_state(cc->req->node->view, address, MAIL_J_EMAIL, &st, error_r) < 0)
		return -1;
	snprintf(out, JMAP_STATE_MAX, "%" PRId64, st);
	return 0;
}

/* The method ends without an answer per creation. */
static void fail(struct copy_call *cc, const char *type, const char *desc)
{
	jmap_call_error(cc->call, type, desc);
	cc_free(cc);
}

/* The creation is written: RFC 8621 4.7 answers id, blobId, threadId, size. */
static void created(struct copy_call *cc)
{
	const char *error = NULL;
	char tid[33], blob_id[34];
	int64_t rcv;
	int r = mail_jmap_email_thread(cc->req->node->view, cc->to_addr, cc->email_id, tid, &rcv, &error);

	if (r < 0) {
		log_error("jmap: Email/copy for %s: %s", cc->req->address, error);
		fail(cc, "serverFail", "the view cannot be read");
		return;
	}
	snprintf(blob_id, sizeof blob_id, "m%s", cc->email_id);
	jmap_set_created(&cc->r, cc->call, json_object_iter_key(cc->iter),
			 json_pack("{s:s, s:s, s:s?, s:I}", "id", cc->email_id, "blobId", blob_id, "threadId",
				   r > 0 ? tid : NULL, "size", cc->size));
	json_array_append(cc->originals, json_object_get(json_object_iter_value(cc->iter), "id"));
	cc->iter = json_object_iter_next(cc->create, cc->iter);
	next_creation(cc);
}

static void copy_next(struct copy_call *cc);

static void copied(struct jmap_call *call, void *ctx, int status, json_t *outcome, const char *error)
{
	struct copy_call *cc = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));

	(void)call;
	if (status < 0) {
		log_warn("jmap: Email/copy for %s: %s", cc->req->address, error);
		fail(cc, "serverUnavailable", "the copy could not be completed, try again");
		return;
	}
	/* A mailbox gone since it was checked: the email is in the others. */
	if (st == NULL || strcmp(st, "accepted") != 0)
		log_warn("jmap: Email/copy for %s refused: %s", cc->req->address,
			 json_string_value(json_object_get(outcome, "reason")));
	copy_next(cc);
}

/* message.copy from the first mailbox to each other one. */
static void copy_next(struct copy_call *cc)
{
	if (cc->next_box >= json_array_size(cc->boxes)) {
		created(cc);
		return;
	}
	jmap_mail_submit(cc->call, "message.copy",
			 json_pack("{s:O, s:[[I,I]], s:O}", "mailbox_id", json_array_get(cc->boxes, 0), "uids", cc->uid,
				   cc->uid, "to_mailbox_id", json_array_get(cc->boxes, cc->next_box++)),
			 copied, cc);
}

static void appended(struct jmap_call *call, void *ctx, int status, json_t *outcome, const char *error)
{
	struct copy_call *cc = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));
	const char *code = json_string_value(json_object_get(outcome, "code"));

	(void)call;
	if (status < 0) {
		log_warn("jmap: Email/copy for %s: %s", cc->req->address, error);
		fail(cc, "serverUnavailable", "the copy could not be completed, try again");
		return;
	}
	if (st == NULL || strcmp(st, "accepted") != 0) {
		if (code != NULL && strcmp(code, "quota") == 0)
			jmap_copy_not_created(cc, "overQuota", "the account's quota is full", NULL);
		else if (code != NULL && strcmp(code, "forbidden") == 0)
			jmap_copy_not_created(cc, "forbidden", "the mailbox's owner did not grant this right (RFC 4314)", NULL);
		else
			jmap_copy_not_created(cc, "invalidProperties", "mailboxIds: the mailbox is gone", "mailboxIds");
		cc->iter = json_object_iter_next(cc->create, cc->iter);
		next_creation(cc);
		return;
	}
	cc->uid = json_integer_value(json_object_get(outcome, "uid"));
	cc->next_box = 1;
	copy_next(cc);
}

/* The response, then the implicit Email/set destroying the originals
 * (RFC 8620 5.4) when asked and anything was copied. */
static void finish(struct copy_call *cc)
{
	char state[JMAP_STATE_MAX], from_state[JMAP_STATE_MAX];
	const char *error = NULL;
	json_t *resp;

	if (jmap_mail_state(cc->call, MAIL_J_EMAIL, state) < 0) {
		cc_free(cc);
		return;
	}
	resp = jmap_set_response(&cc->r, cc->to->id, cc->old_state, state);
	json_object_del(resp, "updated");
	json_object_del(resp, "destroyed");
	json_object_del(resp, "notUpdated");
	json_object_del(resp, "notDestroyed");
	json_object_set_new(resp, "fromAccountId", json_string(cc->from->id));
	if (!cc->destroy_original || json_array_size(cc->originals) == 0) {
		jmap_call_reply(cc->call, resp);
		cc_free(cc);
		return;
	}
	jmap_call_add(cc->call, "Email/copy", resp);
	if (cc->destroy_if != NULL) {
		if (state_of(cc, cc->from_addr, from_state, &error) < 0) {
			log_error("jmap: Email/copy for %s: %s", cc->req->address, error);
			jmap_call_add(cc->call, "error", json_pack("{s:s}", "type", "serverFail"));
			jmap_call_done(cc->call);
			cc_free(cc);
			return;
		}
		if (strcmp(from_state, cc->destroy_if) != 0) {
			jmap_call_add(cc->call, "error", json_pack("{s:s}", "type", "stateMismatch"));
			jmap_call_done(cc->call);
			cc_free(cc);
			return;
		}
	}
	/* The implicit /set works in the from-account (its address, state
	 * and scope are the call target's). */
	cc->call->target = cc->from;
	jmap_email_set_implicit(cc->call, cc->from, NULL, json_incref(cc->originals));
	cc_free(cc);
}

/* The body is stored again for the target account (or not): the append. */
static void resealed(void *ctx, int status, const char *error, int32_t partition, int64_t last_offset)
{
	struct copy_call *cc = ctx;
	json_t *data = cc->pending;

	(void)partition;
	(void)last_offset;
	cc->pending = NULL;
	if (status < 0) {
		json_decref(data);
		appended(cc->call, cc, -1, NULL, error);
		return;
	}
	jmap_mail_submit(cc->call, "message.append", data, appended, cc);
}

/* With a content key in the target account, stores data's body again
 * under it (resealed then appends): 1; 0 when there is nothing to do. */
static int reseal_body(struct copy_call *cc, json_t *data)
{
	const char *blob_id = json_string_value(json_object_get(data, "blob_id")), *error = NULL;
	struct node *node = cc->req->node;
	char kid[KEYRING_KID_LEN + 1], *body = NULL;
	size_t len = 0;

	if (node->keyring == NULL || keyring_current_kid(node->view, cc->to_addr, kid, &error) == 0 ||
	    blob_id == NULL || mail_blob_read(node->view, blob_id, &body, &len, &error) <= 0 || len == 0) {
		free(body);
		return 0;
	}
	cc->pending = data;
	deliver_blob_store(node, cc->req->actor, cc->to_addr, blob_id, body, len, resealed, cc);
	free(body);
	return 1;
}

/* Copies the creations from cc->iter on, then answers. */
static void next_creation(struct copy_call *cc)
{
	for (; cc->iter != NULL; cc->iter = json_object_iter_next(cc->create, cc->iter)) {
		const char *error = NULL;
		json_t *data = NULL;
		int r;

		json_decref(cc->boxes);
		cc->boxes = NULL;
		if ((r = jmap_copy_prepare(cc, json_object_iter_value(cc->iter), &data, &error)) < 0) {
			log_error("jmap: Email/copy for %s: %s", cc->req->address, error ? error : "?");
			fail(cc, "serverFail", "the view cannot be read");
			return;
		}
		if (r > 0) {
			if (!reseal_body(cc, data))
				jmap_mail_submit(cc->call, "message.append", data, appended, cc);
			return;
		}
	}
	finish(cc);
}

/* The create map: creation id -> {id, mailboxIds, keywords?, receivedAt?}
 * (RFC 8620 5.4, RFC 8621 4.7). */
static int check_create(struct jmap_call *call, const json_t *create)
{
	const char *k;
	json_t *obj;

	if (!json_is_object(create) || json_object_size(create) == 0)
		return jmap_arg_invalid(call, "create", "is required: a map of creation ids to Email objects");
	json_object_foreach((json_t *)create, k, obj) {
		if (!jmap_is_id(k) || !json_is_object(obj) || !json_is_string(json_object_get(obj, "id")) ||
		    !jmap_is_id(json_string_value(json_object_get(obj, "id"))))
			return jmap_arg_invalid(call, "create", "each Email names the id of the email to copy");
	}
	if (json_object_size(create) > jmap_call_settings(call)->max_objects_in_set) {
		jmap_call_error(call, "requestTooLarge", "more objects than maxObjectsInSet");
		return -1;
	}
	return 0;
}

void jmap_email_copy(struct jmap_call *call, json_t *args, void *ctx)
{
	const struct jmap_account *to, *from;
	const char *if_from = NULL, *destroy_if = NULL, *error = NULL;
	json_t *create = json_object_get(args, "create"), *from_scope = NULL, *to_scope = NULL;
	char state[JMAP_STATE_MAX], from_state[JMAP_STATE_MAX];
	struct copy_call *cc;
	int destroy_original = 0;

	(void)ctx;
	if (jmap_arg_account(call, args, "fromAccountId", JMAP_READ, &from) < 0 ||
	    jmap_arg_account(call, args, "accountId", JMAP_WRITE, &to) < 0 ||
	    jmap_arg_string(call, args, "ifFromInState", 0, &if_from) < 0 ||
	    jmap_arg_bool(call, args, "onSuccessDestroyOriginal", 0, &destroy_original) < 0 ||
	    jmap_arg_string(call, args, "destroyFromIfInState", 0, &destroy_if) < 0 ||
	    check_create(call, create) < 0)
		return;
	if (strcmp(from->id, to->id) == 0) {
		jmap_arg_invalid(call, "fromAccountId",
				 "must differ from accountId (RFC 8620 5.4); within one account, change mailboxIds "
				 "with Email/set");
		return;
	}
	if (jmap_shared_scope_of(call, from, "fromAccountNotFound", &from_scope) < 0)
		return;
	if (jmap_shared_scope(call, &to_scope) < 0 || jmap_mail_state(call, MAIL_J_EMAIL, state) < 0 ||
	    jmap_arg_if_in_state(call, args, state) < 0)
		goto out;
	cc = xcalloc(1, sizeof *cc);
	cc->call = call;
	cc->req = jmap_mail_req(call);
	jmap_mail_req_ref(cc->req);   /* a cancelled run's callbacks still read it */
	cc->from = from;
	cc->to = to;
	cc->from_addr = from->owner != NULL ? from->owner : cc->req->address;
	cc->to_addr = jmap_mail_address(call);
	if (if_from != NULL) {
		if (state_of(cc, cc->from_addr, from_state, &error) < 0) {
			log_error("jmap: Email/copy for %s: %s", cc->req->address, error);
			jmap_call_error(call, "serverFail", "the view cannot be read");
			cc_free(cc);
			goto out;
		}
		if (strcmp(if_from, from_state) != 0) {
			jmap_call_error(call, "stateMismatch", "ifFromInState");
			cc_free(cc);
			goto out;
		}
	}
	cc->from_scope = from_scope;
	cc->to_scope = to_scope;
	cc->create = create;
	cc->iter = json_object_iter(create);
	cc->destroy_original = destroy_original;
	cc->destroy_if = destroy_if;
	cc->originals = json_array();
	snprintf(cc->old_state, sizeof cc->old_state, "%s", state);
	jmap_set_result_init(&cc->r);
	next_creation(cc);
	return;
out:
	json_decref(from_scope);
	json_decref(to_scope);
}

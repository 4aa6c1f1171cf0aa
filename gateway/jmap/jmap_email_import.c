/* jmap_email_import - Email/import (RFC 8621 4.8): a blob the account can
 * read becomes an Email, written like IMAP APPEND (gateway/imap/
 * imap_cmd_append.c): the bytes in the blob topic (already there for an
 * upload), one message.append to the first mailbox with the MIME summary,
 * then a message.copy to each other mailbox; each answered after the local
 * projector applied it. Creations run one after the other.
 *
 * One content is one Email (projector/mail_jmap.h): importing bytes the
 * account already holds is alreadyExists with existingId (4.8 allows a
 * server to forbid duplicates). A write whose fate is unknown ends the
 * method with serverUnavailable: the client retries, and what was already
 * imported then answers alreadyExists with its id. receivedAt defaults to
 * the time of the import.
 *
 * In an account shared by ACL (jmap_shared.h) the blob is the user's own
 * (an upload is the uploader's), the mailboxes must be shared with i (and
 * the rights of the keywords, jmap_shared_may_append), and the writes go
 * to the owner's partition as the user; alreadyExists only for a copy in
 * a shared mailbox (the others do not exist for the user). */
#include "gateway/jmap/jmap_blob_private.h"
#include "gateway/jmap/jmap_blob_args.h"
#include "gateway/jmap/jmap_shared.h"
#include "gateway/jmap/jmap_std.h"
#include "gateway/deliver_blob.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/mime.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>

struct import_call {
	struct jmap_call *call;
	struct jmap_mail_req *req;
	const char *account_id;
	const char *owner;            /* whose account: jmap_mail_address */
	json_t *scope;                /* jmap_shared_scope: NULL in the own account */
	char old_state[JMAP_STATE_MAX];
	json_t *emails;               /* borrowed from the arguments */
	void *iter;
	struct jmap_set_result r;
	/* the creation in progress */
	char *data;
	size_t len;
	char blob[DELIVER_BLOB_ID_LEN + 1];
	char email_id[33];
	struct jmap_import_args args;
	size_t next_box;              /* the next mailbox to copy to */
	json_int_t uid;
	int pending;                  /* the append and the blob's last chunk */
	int write_status;
	json_t *outcome;
};

static void next_creation(struct import_call *ic);

static void creation_clear(struct import_call *ic)
{
	free(ic->data);
	ic->data = NULL;
	jmap_import_args_free(&ic->args);
	json_decref(ic->outcome);
	ic->outcome = NULL;
}

static void ic_free(struct import_call *ic)
{
	creation_clear(ic);
	jmap_set_result_free(&ic->r);
	json_decref(ic->scope);
	jmap_mail_req_unref(&ic->req);
	free(ic);
}

static void not_created(struct import_call *ic, const char *type, const char *desc, const char *prop)
{
	jmap_set_not_created(&ic->r, json_object_iter_key(ic->iter),
			     jmap_set_error(type, desc, prop != NULL ? json_pack("[s]", prop) : NULL));
}

/* The method ends without an answer per creation. */
static void fail(struct import_call *ic, const char *type, const char *desc)
{
	jmap_call_error(ic->call, type, desc);
	ic_free(ic);
}

/* Checks one EmailImport and reads its blob: 1 ready to store, 0 when the
 * creation failed (recorded), -1 on a view error. */
static int prepare(struct import_call *ic, json_t *obj, const char **error_r)
{
	struct jmap_mail_req *req = ic->req;
	const char *prop = NULL, *desc = NULL, *error = NULL, *refused = NULL;
	json_t *locs;
	char *type = NULL;
	int r;

	if ((r = jmap_import_args_parse(ic->call, obj, &ic->args, &prop, &desc, &error)) <= 0) {
		if (r == 0)
			not_created(ic, "invalidProperties", desc, prop);
		*error_r = error;
		return r;
	}
	if (jmap_shared_may_append(ic->scope, ic->args.mailboxes, ic->args.flags, ic->args.keywords, &refused) < 0) {
		if (strcmp(refused, "forbidden") == 0)
			not_created(ic, "forbidden", "the mailbox's owner did not grant this right (RFC 4314)", NULL);
		else
			not_created(ic, "invalidProperties", "mailboxIds: not a mailbox of this account", "mailboxIds");
		return 0;
	}
	if ((r = jmap_blob_read(req->node, req->address, ic->args.blob_id, &ic->data, &ic->len, &type, &error)) <= 0) {
		if (r == 0)
			not_created(ic, "invalidProperties", "blobId: no such blob", "blobId");
		*error_r = error;
		return r;
	}
	free(type);
	/* Our parser reads anything as a message; only nothing is none. */
	if (ic->len == 0) {
		not_created(ic, "invalidEmail", "the blob is empty", NULL);
		return 0;
	}
	deliver_blob_id(ic->data, ic->len, ic->blob);
	jmap_blob_email_id(ic->blob, "", ic->email_id);
	/* In a shared account only a copy in a shared mailbox exists. */
	locs = json_pack("[s]", ic->email_id);
	r = jmap_shared_filter_emails(req->node->view, ic->owner, ic->scope, locs, &error) < 0 ? -1 : 0;
	if (r == 0 && json_array_size(locs) > 0) {
		json_t *copies = json_array();

		r = mail_jmap_email_locations(req->node->view, ic->owner, ic->email_id, copies, &error);
		json_decref(copies);
	}
	json_decref(locs);
	if (r != 0) {
		if (r > 0)
			jmap_set_not_created(&ic->r, json_object_iter_key(ic->iter),
					     json_pack("{s:s, s:s}", "type", "alreadyExists", "existingId",
						       ic->email_id));
		*error_r = error;
		return r > 0 ? 0 : -1;
	}
	if ((r = mail_over_quota(req->node->view, ic->owner, ic->len, &error)) != 0) {
		if (r > 0)
			not_created(ic, "overQuota", "the account's quota is full", NULL);
		*error_r = error;
		return r > 0 ? 0 : -1;
	}
	return 1;
}

/* The Email of a finished import (RFC 8621 4.8: id, blobId, threadId, size). */
static void created(struct import_call *ic)
{
	struct jmap_mail_req *req = ic->req;
	const char *error = NULL;
	char tid[33], blob_id[34];
	int64_t rcv;
	int r = mail_jmap_email_thread(req->node->view, ic->owner, ic->email_id, tid, &rcv, &error);

	if (r < 0) {
		log_error("jmap: Email/import for %s: %s", req->address, error);
		fail(ic, "serverFail", "the view cannot be read");
		return;
	}
	snprintf(blob_id, sizeof blob_id, "m%s", ic->email_id);
	jmap_set_created(&ic->r, ic->call, json_object_iter_key(ic->iter),
			 json_pack("{s:s, s:s, s:s?, s:I}", "id", ic->email_id, "blobId", blob_id, "threadId",
				   r > 0 ? tid : NULL, "size", (json_int_t)ic->len));
	creation_clear(ic);
	ic->iter = json_object_iter_next(ic->emails, ic->iter);
	next_creation(ic);
}

static void copy_next(struct import_call *ic);

static void copied(struct jmap_call *call, void *ctx, int status, json_t *outcome, const char *error)
{
	struct import_call *ic = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));

	(void)call;
	if (status < 0) {
		log_warn("jmap: Email/import copy for %s: %s", ic->req->address, error);
		fail(ic, "serverUnavailable", "the import could not be completed, try again");
		return;
	}
	/* The mailbox went away since it was checked: the email is imported
	 * in the others. */
	if (st == NULL || strcmp(st, "accepted") != 0)
		log_warn("jmap: Email/import copy for %s refused: %s", ic->req->address,
			 json_string_value(json_object_get(outcome, "reason")));
	copy_next(ic);
}

/* message.copy from the first mailbox to each other one (like IMAP COPY). */
static void copy_next(struct import_call *ic)
{
	const char *first = json_string_value(json_array_get(ic->args.mailboxes, 0));

	if (ic->next_box >= json_array_size(ic->args.mailboxes)) {
		created(ic);
		return;
	}
	jmap_mail_submit(ic->call, "message.copy",
			 json_pack("{s:s, s:[[I,I]], s:s}", "mailbox_id", first, "uids", ic->uid, ic->uid,
				   "to_mailbox_id", json_string_value(json_array_get(ic->args.mailboxes, ic->next_box++))),
			 copied, ic);
}

/* The append is applied, and the blob too: on to the copies. */
static void append_done(struct import_call *ic)
{
	const char *st = json_string_value(json_object_get(ic->outcome, "status"));
	const char *code = json_string_value(json_object_get(ic->outcome, "code"));

	if (ic->write_status < 0) {
		fail(ic, "serverUnavailable", "the import could not be completed, try again");
		return;
	}
	if (st == NULL || strcmp(st, "accepted") != 0) {
		if (code != NULL && strcmp(code, "quota") == 0)
			not_created(ic, "overQuota", "the account's quota is full", NULL);
		else
			not_created(ic, "invalidProperties", "mailboxIds: the mailbox is gone", "mailboxIds");
		creation_clear(ic);
		ic->iter = json_object_iter_next(ic->emails, ic->iter);
		next_creation(ic);
		return;
	}
	ic->uid = json_integer_value(json_object_get(ic->outcome, "uid"));
	ic->next_box = 1;
	copy_next(ic);
}

static void appended(struct jmap_call *call, void *ctx, int status, json_t *outcome, const char *error)
{
	struct import_call *ic = ctx;

	(void)call;
	if (status < 0)
		log_warn("jmap: Email/import for %s: %s", ic->req->address, error);
	ic->write_status = status < 0 ? -1 : ic->write_status;
	ic->outcome = json_incref(outcome);
	if (--ic->pending == 0)
		append_done(ic);
}

static void chunks_applied(void *ctx, int status)
{
	struct import_call *ic = ctx;

	if (status < 0)
		ic->write_status = -1;
	if (--ic->pending == 0)
		append_done(ic);
}

/* message.append of the blob (already durable at partition/offset when
 * offset >= 0: that apply is awaited too). */
static void append(struct import_call *ic, int32_t partition, int64_t offset)
{
	json_t *data = json_pack("{s:s, s:s, s:I, s:s, s:O, s:O, s:I, s:o}", "mailbox_id",
				 json_string_value(json_array_get(ic->args.mailboxes, 0)), "blob_id", ic->blob,
				 "blob_size", (json_int_t)ic->len, "prefix", "", "flags", ic->args.flags, "keywords",
				 ic->args.keywords, "internal_date", (json_int_t)ic->args.received, "summary",
				 mime_parse(ic->data, ic->len, NULL));

	ic->pending = offset >= 0 ? 2 : 1;
	ic->write_status = 0;
	if (offset >= 0)
		projector_wait(ic->req->node->projector, EVM_TOPIC_BLOB, partition, offset, JMAP_WRITE_TIMEOUT_MS,
			       chunks_applied, ic, NULL);
	jmap_mail_submit(ic->call, "message.append", data, appended, ic);
}

static void blob_stored(void *ctx, int status, const char *error, int32_t partition, int64_t last_offset)
{
	struct import_call *ic = ctx;

	if (status < 0) {
		log_warn("jmap: Email/import blob for %s: %s", ic->req->address, error);
		fail(ic, "serverUnavailable", "the message could not be stored, try again");
		return;
	}
	append(ic, partition, last_offset);
}

/* Imports the creations from ic->iter on, then answers. */
static void next_creation(struct import_call *ic)
{
	struct jmap_mail_req *req = ic->req;
	char state[JMAP_STATE_MAX];

	for (; ic->iter != NULL; ic->iter = json_object_iter_next(ic->emails, ic->iter)) {
		struct jmap_blob_ref ref;
		const char *error = NULL;
		int r = prepare(ic, json_object_iter_value(ic->iter), &error);

		if (r < 0) {
			log_error("jmap: Email/import for %s: %s", req->address, error ? error : "?");
			fail(ic, "serverFail", "the view cannot be read");
			return;
		}
		if (r == 0) {
			creation_clear(ic);
			continue;
		}
		/* An upload's bytes are in the blob topic and applied here
		 * already; any other blob's bytes (a message, a part) are
		 * stored as their own blob first, and so is an upload into
		 * a shared account when keys seal bodies: the upload is
		 * sealed for the user, the message is the owner's
		 * (projector/keyring.h). */
		if (jmap_blob_ref_parse(ic->args.blob_id, &ref) == 0 &&
		    ref.upload && !ref.part && strcmp(ref.hex, ic->blob) == 0 &&
		    (req->node->keyring == NULL || strcmp(jmap_mail_address(ic->call), req->address) == 0))
			append(ic, 0, -1);
		else
			deliver_blob_store(req->node, req->actor, jmap_mail_address(ic->call), ic->blob, ic->data, ic->len,
					   blob_stored, ic);
		return;
	}
	if (jmap_mail_state(ic->call, MAIL_J_EMAIL, state) < 0) {
		ic_free(ic);
		return;
	}
	{
		json_t *resp = jmap_set_response(&ic->r, ic->account_id, ic->old_state, state);

		json_object_del(resp, "updated");
		json_object_del(resp, "destroyed");
		json_object_del(resp, "notUpdated");
		json_object_del(resp, "notDestroyed");
		jmap_call_reply(ic->call, resp);
	}
	ic_free(ic);
}

static void email_import(struct jmap_call *call, json_t *args, void *ctx)
{
	const struct jmap_account *acct;
	json_t *emails = json_object_get(args, "emails");
	struct import_call *ic;
	json_t *scope = NULL;
	char state[JMAP_STATE_MAX];

	(void)ctx;
	if (jmap_arg_account(call, args, "accountId", JMAP_WRITE, &acct) < 0 ||
	    jmap_mail_state(call, MAIL_J_EMAIL, state) < 0 || jmap_arg_if_in_state(call, args, state) < 0)
		return;
	if (!json_is_object(emails)) {
		jmap_arg_invalid(call, "emails", "is required: an object of EmailImport");
		return;
	}
	if (json_object_size(emails) > jmap_call_settings(call)->max_objects_in_set) {
		jmap_call_error(call, "requestTooLarge", "more emails than maxObjectsInSet");
		return;
	}
	if (jmap_shared_scope(call, &scope) < 0)
		return;
	ic = xcalloc(1, sizeof *ic);
	ic->owner = jmap_mail_address(call);
	ic->scope = scope;
	ic->call = call;
	ic->req = jmap_mail_req(call);
	jmap_mail_req_ref(ic->req);   /* a cancelled run's callbacks still read it */
	ic->account_id = acct->id;
	snprintf(ic->old_state, sizeof ic->old_state, "%s", state);
	ic->emails = emails;
	ic->iter = json_object_iter(emails);
	jmap_set_result_init(&ic->r);
	next_creation(ic);
}

void jmap_email_import_register(struct jmap_api *api)
{
	jmap_method_register(api, "Email/import", JMAP_CAP_MAIL, email_import, NULL);
}

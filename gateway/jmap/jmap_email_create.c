/* jmap_email_create - see jmap_email_create.h (RFC 8621 4.6). */
#include "gateway/jmap/jmap_email_create.h"
#include "gateway/jmap/jmap_email_blobref.h"
#include "gateway/jmap/jmap_email_build.h"
#include "gateway/jmap/jmap_email_set_private.h"
#include "gateway/jmap/jmap_keywords.h"
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_mime_write.h"
#include "gateway/jmap/jmap_shared.h"
#include "gateway/deliver_blob.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/mime.h"
#include "projector/mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest message Email/set writes when the node sets no limit. */
#define EMAIL_CREATE_MAX (50 * 1024 * 1024)

int jmap_email_mailbox_ids(struct jmap_call *call, const json_t *ids, json_t **out_r, const char **error_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const char *k, *id;
	json_t *v, *mbox = NULL;
	int r;

	*out_r = NULL;
	*error_r = NULL;
	if (!json_is_object(ids))
		return -1;
	*out_r = json_array();
	json_object_foreach((json_t *)ids, k, v) {
		/* RFC 8621 4.1.1: the value of every id is true; "#cid" names a
		 * mailbox created earlier in the request (RFC 8620 5.3). */
		if (!json_is_true(v) || !jmap_call_resolve_id(call, k, &id) || strlen(id) != 32)
			goto bad;
		if ((r = mail_mailbox_get(req->node->view, jmap_mail_address(call), id, &mbox, error_r)) <= 0)
			goto bad;
		json_decref(mbox);
		mbox = NULL;
		json_array_append_new(*out_r, json_string(id));
	}
	return 0;
bad:
	json_decref(*out_r);
	*out_r = NULL;
	return -1;
}

static void invalid(struct jmap_setrun *sr, const char *cid, const char *prop, const char *why)
{
	jmap_setrun_fail(sr, JMAP_OP_CREATE, cid, jmap_set_error("invalidProperties", why, json_pack("[s]", prop)));
}

/* receivedAt (UTCDate, RFC 8620 1.4): ms, or -1 when it is not one. */
static int received_at(const json_t *v, int64_t *ms_r)
{
	const char *s = json_string_value(v);
	size_t n = s != NULL ? strlen(s) : 0;
	int off;

	if (s == NULL || n < 20 || (s[n - 1] != 'Z' && s[n - 1] != 'z') || jmap_mime_parse_date(s, ms_r, &off) < 0)
		return -1;
	return 0;
}

/* A Message-ID of our own: random, at the account's domain. */
static void new_message_id(const char *address, char out[128])
{
	char rnd[EVM_ID_HEX_LEN + 1];
	const char *at = strrchr(address, '@');

	evm_random_id(rnd);
	snprintf(out, 128, "%s@%s", rnd, at != NULL && at[1] != '\0' ? at + 1 : "localhost");
}

int jmap_email_create_plan(struct jmap_setrun *sr, const char *cid, json_t *obj, struct jmap_set_plan *p)
{
	struct jmap_call *call = jmap_setrun_call(sr);
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_email_build_params bp = { .fetch = jmap_email_blob_fetch, .fetch_ctx = req };
	json_t *mailboxes = NULL, *flags = NULL, *sys = NULL, *kws = NULL, *err = NULL, *summary, *v;
	struct buf msg = BUF_INIT;
	const char *error = NULL;
	const char *refused = NULL;
	char msgid[128];
	int64_t received = evm_now_ms();
	size_t i;
	int ret = -1;

	if (jmap_email_mailbox_ids(call, json_object_get(obj, "mailboxIds"), &mailboxes, &error) < 0 ||
	    json_array_size(mailboxes) == 0) {
		if (error != NULL) {
			log_error("jmap: Email/set for %s: %s", req->address, error);
			jmap_setrun_fail(sr, JMAP_OP_CREATE, cid, jmap_set_error("serverFail", NULL, NULL));
		} else {
			invalid(sr, cid, "mailboxIds", "at least one existing mailbox of this account is required");
		}
		goto out;
	}
	v = json_object_get(obj, "keywords");
	if ((flags = v != NULL ? jmap_keywords_flags(v) : json_array()) == NULL) {
		invalid(sr, cid, "keywords", "not a Keywords object");
		goto out;
	}
	if ((v = json_object_get(obj, "receivedAt")) != NULL && received_at(v, &received) < 0) {
		invalid(sr, cid, "receivedAt", "not a UTCDate");
		goto out;
	}
	jmap_flags_split(flags, &sys, &kws);
	/* In a shared account: i on every mailbox, and the rights of the
	 * keywords (RFC 4314 4), checked again by the owner's projector. */
	if (jmap_shared_may_append(jmap_eset_scope(sr), mailboxes, sys, kws, &refused) < 0) {
		if (strcmp(refused, "forbidden") == 0)
			jmap_setrun_fail(sr, JMAP_OP_CREATE, cid,
					 jmap_set_error("forbidden", "the mailbox's owner did not grant this right "
						        "(RFC 4314)", NULL));
		else
			invalid(sr, cid, "mailboxIds", "at least one existing mailbox of this account is required");
		goto out;
	}
	new_message_id(req->address, msgid);
	bp.now_ms = evm_now_ms();
	bp.message_id = msgid;
	bp.max_size = req->node->cfg != NULL && req->node->cfg->limits_message_size > 0 ?
			      (size_t)req->node->cfg->limits_message_size : EMAIL_CREATE_MAX;
	if (jmap_email_build(obj, &bp, &msg, &err) < 0) {
		jmap_setrun_fail(sr, JMAP_OP_CREATE, cid, err);
		goto out;
	}
	/* The store's summary of exactly the bytes stored (common/mime.h). */
	summary = mime_parse(msg.data, msg.len, NULL);
	deliver_blob_id(msg.data, msg.len, p->blob_id);
	p->events = json_array();
	json_array_foreach(mailboxes, i, v)
		json_array_append_new(p->events,
				      json_pack("[s,{s:O, s:s, s:I, s:s, s:O, s:O, s:I, s:O}]", "message.append",
						"mailbox_id", v, "blob_id", p->blob_id, "blob_size", (json_int_t)msg.len,
						"prefix", "", "flags", sys, "keywords", kws, "internal_date",
						(json_int_t)received, "summary", summary));
	json_decref(summary);
	p->blob_len = msg.len;
	p->blob = buf_steal(&msg);
	p->note = json_pack("{s:I}", "size", (json_int_t)p->blob_len);
	ret = 0;
out:
	buf_free(&msg);
	json_decref(mailboxes);
	json_decref(flags);
	json_decref(sys);
	json_decref(kws);
	return ret;
}

void jmap_email_create_done(struct jmap_setrun *sr, const char *cid, const struct jmap_set_plan *p,
			    json_t *results)
{
	struct jmap_mail_req *req = jmap_mail_req(jmap_setrun_call(sr));
	const char *email = json_string_value(json_object_get(json_array_get(results, 0), "email_id"));
	const char *owner = jmap_mail_address(jmap_setrun_call(sr)), *error = NULL;
	char tid[33], blob[40];
	int64_t rcv;
	json_t *obj;

	if (email == NULL || mail_jmap_email_thread(req->node->view, owner, email, tid, &rcv, &error) <= 0) {
		log_error("jmap: Email/set for %s: the created email is not in the view: %s", req->address,
			  error ? error : "no thread");
		jmap_setrun_fail(sr, JMAP_OP_CREATE, cid, jmap_set_error("serverFail", NULL, NULL));
		return;
	}
	/* RFC 8621 4.6: the server-set id, blobId, threadId and size. */
	snprintf(blob, sizeof blob, "m%s", email);
	obj = json_pack("{s:s, s:s, s:s, s:O}", "id", email, "blobId", blob, "threadId", tid, "size",
			json_object_get(p->note, "size"));
	jmap_set_created(jmap_setrun_result(sr), jmap_setrun_call(sr), cid, obj);
}

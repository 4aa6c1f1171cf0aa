/* imap_copy_cross - COPY and MOVE between two accounts' mailboxes (a
 * mailbox shared with us, RFC 4314, and one of our own, or two owners'):
 * the two mailboxes live in different partitions, so no single
 * message.copy can do it. Each message becomes one message.append in the
 * target's partition naming the same blob (blobs are content-addressed and
 * global), with its prefix, flags, keywords, internal date and MIME
 * summary, one after the other.
 *
 * RFC 9051 6.4.7: a COPY that fails leaves the target as it was, so when
 * an append fails the ones already made are expunged again before the NO.
 * MOVE (RFC 6851) expunges the sources once every copy is made; should that
 * expunge fail the copies stay and the NO says so (as REPLACE does, RFC
 * 8508 3.1), so a message is never lost.
 *
 * Crypto-shredding (projector/keyring.h): when the target's owner has a
 * content key, each body is stored again under it (deliver_blob.h) before
 * its append, so erasing the source's owner never takes the copy's body
 * (in a replay too). */
#include "gateway/imap/imap_copy_cross.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_msgrec.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_acl.h"
#include "gateway/imap/imap_condstore.h"
#include "gateway/deliver_blob.h"
#include "gateway/node.h"
#include "common/log.h"
#include "projector/keyring.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>

struct xcopy {
	int move;
	char target[33];                /* the target mailbox id */
	json_t *items;                  /* [{message.append data}], in source UID order */
	json_t *src;                    /* [[lo,hi]...] of the sources copied */
	json_t *dst;                    /* [[lo,hi]...] of the copies made */
	size_t next;
	json_int_t uidvalidity;
	char owner[EVM_ADDRESS_MAX + 1];   /* the target's account */
	int reseal;                     /* it has a key: bodies stored again under it */
	json_t *pending;                /* the append waiting for its body's upload */
};

static void xcopy_free(void *p)
{
	struct xcopy *x = p;

	if (x == NULL)
		return;
	json_decref(x->items);
	json_decref(x->src);
	json_decref(x->dst);
	json_decref(x->pending);
	free(x);
}

/* The command is over: s->op goes. */
static void xcopy_end(struct imap_session *s)
{
	void *op = s->op;

	s->op = NULL;
	s->op_free = NULL;
	xcopy_free(op);
}

static void append_next(struct imap_session *s);

/* "[COPYUID v src dst] " of what was copied. */
static void copyuid(struct xcopy *x, struct buf *out)
{
	if (json_array_size(x->dst) == 0)
		return;
	buf_printf(out, "[COPYUID %" JSON_INTEGER_FORMAT " ", x->uidvalidity);
	imap_ranges_string(x->src, out);
	buf_puts(out, " ");
	imap_ranges_string(x->dst, out);
	buf_puts(out, "] ");
}

/* MOVE's expunge of the sources answered. */
static void sources_expunged(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	const char *st = json_string_value(json_object_get(outcome, "status"));

	xcopy_end(s);
	if (status < 0 || st == NULL || strcmp(st, "accepted") != 0) {
		log_warn("imap[%s]: MOVE: the copies are made, the sources stay: %s", s->id,
			 error ? error : st ? st : "?");
		imap_no(s, "[UNAVAILABLE] MOVE copied the messages but could not remove them from the source%s",
			imap_unavailable_why(s, error));
		return;
	}
	s->changed = 1;   /* the EXPUNGEs come from the reply hook */
	imap_ok(s, "MOVE completed");
}

/* A failed COPY's undo answered: the NO that was waiting. */
static void copies_removed(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	const char *st = json_string_value(json_object_get(outcome, "status"));

	xcopy_end(s);
	if (status < 0 || st == NULL || strcmp(st, "accepted") != 0)
		log_warn("imap[%s]: COPY failed and its partial copies could not be removed: %s", s->id,
			 error ? error : st ? st : "?");
	imap_no(s, "[UNAVAILABLE] %s failed part way; nothing was copied", s->cur != NULL ? s->cur->name : "COPY");
}

/* One append answered: the next, or the end. */
static void appended(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	struct xcopy *x = s->op;
	const char *st = json_string_value(json_object_get(outcome, "status"));
	json_t *src_uid = json_object_get(json_array_get(x->items, x->next - 1), "_src");

	if (status < 0 || st == NULL || strcmp(st, "accepted") != 0) {
		if (json_array_size(x->dst) == 0) {
			xcopy_end(s);
			imap_outcome_ok(s, status, outcome, error, s->cur != NULL ? s->cur->name : "COPY");
			return;
		}
		/* RFC 9051 6.4.7: the target as it was before the COPY */
		imap_submit(s, "message.expunge",
			    json_pack("{s:s, s:O}", "mailbox_id", x->target, "uids", x->dst), copies_removed);
		return;
	}
	x->uidvalidity = json_integer_value(json_object_get(outcome, "uidvalidity"));
	imap_ranges_add(x->src, (uint32_t)json_integer_value(src_uid));
	imap_ranges_add(x->dst, (uint32_t)json_integer_value(json_object_get(outcome, "uid")));
	append_next(s);
}

/* The body is stored again under the target owner's key (or not): its
 * append, answered once the body is applied here too. */
static void resealed(void *ctx, int status, const char *error, int32_t partition, int64_t last_offset)
{
	struct imap_session *s = ctx;
	struct xcopy *x = s->op;

	if (x != NULL && s->op_free == xcopy_free && x->pending != NULL && s->conn != NULL && !s->closing) {
		json_t *data = x->pending;

		x->pending = NULL;
		if (status < 0) {
			log_warn("imap[%s]: COPY: a body not stored for %s: %s", s->id, x->owner, error);
			json_decref(data);
			appended(s, -1, NULL, error);
		} else {
			imap_submit_after(s, "message.append", data, EVM_TOPIC_BLOB, partition, last_offset,
					  appended);
		}
	}
	imap_session_unref(s);
}

/* Stores data's body again for the target's owner; 0, or -1 when the view
 * has no such body (the append then says what happens). */
static int reseal_body(struct imap_session *s, struct xcopy *x, json_t *data)
{
	const char *blob_id = json_string_value(json_object_get(data, "blob_id")), *error = NULL;
	char *body = NULL;
	size_t len = 0;

	if (blob_id == NULL || mail_blob_read(s->node->view, blob_id, &body, &len, &error) <= 0 || len == 0) {
		free(body);
		return -1;
	}
	x->pending = data;
	imap_session_ref(s);
	deliver_blob_store(s->node, s->actor, x->owner, blob_id, body, len, resealed, s);
	free(body);
	return 0;
}

static void append_next(struct imap_session *s)
{
	struct xcopy *x = s->op;
	struct buf code = BUF_INIT;
	json_t *data;

	if (x->next < json_array_size(x->items)) {
		data = json_deep_copy(json_array_get(x->items, x->next++));
		json_object_del(data, "_src");
		if (!x->reseal || reseal_body(s, x, data) < 0)
			imap_submit(s, "message.append", data, appended);
		return;
	}
	copyuid(x, &code);
	if (x->move) {
		if (code.len > 0)
			imap_line(s, "* OK %sMoved", code.data);
		buf_free(&code);
		imap_submit(s, "message.expunge",
			    json_pack("{s:s, s:O}", "mailbox_id", s->mbox->id, "uids", x->src), sources_expunged);
		return;
	}
	xcopy_end(s);
	imap_ok(s, "%sCOPY completed", code.data ? code.data : "");
	buf_free(&code);
}

/* The message.append data of message idx of the selected mailbox, or NULL
 * when it is gone from the view. */
static json_t *append_data(struct imap_session *s, struct imap_recs *recs, const size_t *idx, size_t n,
			   size_t k, json_t *target_box)
{
	json_t *rec = imap_recs_get(s, recs, idx[k], imap_idx_run(idx, n, k)), *sum = NULL, *flags, *kw;
	const char *prefix, *error = NULL;

	if (rec == NULL || mail_summary_get(s->node->view, s->mbox->owner,
					    json_string_value(json_object_get(rec, "email_id")), &sum, &error) <= 0)
		return NULL;
	prefix = json_string_value(json_object_get(rec, "prefix"));
	prefix = prefix != NULL ? prefix : "";
	flags = json_deep_copy(json_object_get(rec, "flags"));
	kw = json_deep_copy(json_object_get(rec, "keywords"));
	if (!json_is_array(flags))
		flags = (json_decref(flags), json_array());
	if (!json_is_array(kw))
		kw = (json_decref(kw), json_array());
	/* RFC 4314 4: flags the target's rights do not allow are dropped */
	imap_acl_filter_flags(imap_acl_box_rights(target_box), flags, kw);
	return json_pack("{s:s, s:O, s:I, s:s, s:o, s:o, s:O, s:o, s:I}", "mailbox_id",
			 json_string_value(json_object_get(target_box, "id")), "blob_id",
			 json_object_get(rec, "blob_id"), "blob_size",
			 (json_int_t)(json_integer_value(json_object_get(rec, "size")) - (json_int_t)strlen(prefix)),
			 "prefix", prefix, "flags", flags, "keywords", kw, "internal_date",
			 json_object_get(rec, "internal_date"), "summary", sum, "_src",
			 (json_int_t)s->mbox->msgs[idx[k]].uid);
}

void imap_copy_cross(struct imap_session *s, const size_t *idx, size_t n, json_t *target_box, int move)
{
	struct imap_recs recs = { 0 };
	struct xcopy *x = xcalloc(1, sizeof *x);
	char kid[KEYRING_KID_LEN + 1];
	const char *error = NULL;

	x->move = move;
	snprintf(x->target, sizeof x->target, "%s", json_string_value(json_object_get(target_box, "id")));
	snprintf(x->owner, sizeof x->owner, "%s", imap_acl_box_owner(s, target_box));
	/* (a failed lookup reseals too: the sealing then reports it) */
	x->reseal = s->node->keyring != NULL && keyring_current_kid(s->node->view, x->owner, kid, &error) != 0;
	x->items = json_array();
	x->src = json_array();
	x->dst = json_array();
	for (size_t k = 0; k < n; k++) {
		json_t *d = append_data(s, &recs, idx, n, k, target_box);

		if (d != NULL)
			json_array_append_new(x->items, d);
	}
	imap_recs_free(&recs);
	if (json_array_size(x->items) == 0) {
		xcopy_free(x);
		imap_no(s, "[EXPUNGEISSUED] The messages were expunged meanwhile");
		return;
	}
	s->op = x;
	s->op_free = xcopy_free;
	append_next(s);
}

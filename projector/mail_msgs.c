/* mail_msgs - message records of a mailbox: gathering a UID set, writing,
 * removing with counters and tombstones (see mail_internal.h). */
#include "projector/blob_internal.h"
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct collect {
	const struct mail_uidset *set;
	json_t *list;
	size_t plen;
	int corrupt;
};

static int collect_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct collect *c = vctx;
	json_t *msg;
	char digits[11];
	uint32_t uid;

	if (klen - c->plen != 10) {
		c->corrupt = 1;
		return 1;
	}
	memcpy(digits, key + c->plen, 10);
	digits[10] = '\0';
	uid = (uint32_t)strtoul(digits, NULL, 10);
	if (c->set != NULL && !mail_uidset_has(c->set, uid))
		return 0;
	msg = evm_json_loadb(val, vlen, 0, NULL);
	if (!json_is_object(msg)) {
		json_decref(msg);
		c->corrupt = 1;
		return 1;
	}
	json_array_append_new(c->list, msg);
	return 0;
}

int mail_msgs_collect(struct mail_acct *a, const char *mailbox_id, const struct mail_uidset *set,
		      int64_t count, json_t *list, const char **error_r)
{
	uint64_t span = 0;
	json_t *msg;
	int r;

	if (!a->provisioned || count == 0)
		return 0;
	if (set != NULL) {
		for (size_t i = 0; i < set->n; i++)
			span += (uint64_t)set->r[i][1] - set->r[i][0] + 1;
	}
	if (set == NULL || span > (uint64_t)count) {
		struct collect c = { set, list, 0, 0 };

		mail_key_uid(&a->key, a->address, MAIL_K_MSG, mailbox_id, 0);
		c.plen = a->key.len;
		if (view_batch_scan(a->ctx->batch, a->key.data, a->key.len, collect_cb, &c, error_r) < 0)
			return -1;
		if (c.corrupt) {
			log_error("mail: a message record of %s/%s is corrupt", a->address, mailbox_id);
			*error_r = MAIL_CORRUPT;
			return -1;
		}
		return 0;
	}
	/* Fewer UIDs asked than messages held: look each one up. */
	for (size_t i = 0; i < set->n; i++) {
		for (uint64_t uid = set->r[i][0]; uid <= set->r[i][1]; uid++) {
			mail_key_uid(&a->key, a->address, MAIL_K_MSG, mailbox_id, (uint32_t)uid);
			if ((r = mail_batch_get_json(a->ctx->batch, &a->key, &msg, error_r)) < 0)
				return -1;
			if (r == 1)
				json_array_append_new(list, msg);
		}
	}
	return 0;
}

/* The modseq index key of a message: mseq/ (live) or mexp/ (expunged)
 * <mailbox>/<modseq 20 digits>/<uid 10 digits> (mail_keys.h). */
static void mseq_key(struct mail_acct *a, const char *kind, const char *mailbox_id, int64_t modseq,
		     uint32_t uid)
{
	mail_key(&a->key, a->address, kind, mailbox_id);
	buf_printf(&a->key, "/%020" PRId64 "/%010" PRIu32, modseq, uid);
}

/* The save-date index key of a message (projector/retention.h): sdat/
 * <mailbox>/<save date 20 digits>/<uid 10 digits>; the record's "savedate",
 * or its "internal_date" in a record without one. */
static void sdat_key(struct mail_acct *a, const char *mailbox_id, json_t *msg, uint32_t uid)
{
	json_t *d = json_object_get(msg, "savedate");

	if (!json_is_integer(d))
		d = json_object_get(msg, "internal_date");
	mseq_key(a, MAIL_K_SDAT, mailbox_id, json_is_integer(d) ? json_integer_value(d) : 0, uid);
}

/* The index value of a live message: "<flag bits>[ keyword...]". */
static void mseq_value(json_t *msg, struct buf *out)
{
	json_t *v;
	size_t i;

	buf_printf(out, "%u", mail_flags_bits(json_object_get(msg, "flags")));
	json_array_foreach(json_object_get(msg, "keywords"), i, v)
		buf_printf(out, " %s", json_string_value(v));
}

int mail_msg_put(struct mail_acct *a, const char *mailbox_id, json_t *msg, int64_t old_modseq,
		 const char **error_r)
{
	uint32_t uid = (uint32_t)json_integer_value(json_object_get(msg, "uid"));
	const char *email_id = json_string_value(json_object_get(msg, "email_id"));
	struct buf val = BUF_INIT;

	mail_key_uid(&a->key, a->address, MAIL_K_MSG, mailbox_id, uid);
	mail_batch_put_json(a->ctx->batch, &a->key, msg);
	if (old_modseq > 0) {
		mseq_key(a, MAIL_K_MSEQ, mailbox_id, old_modseq, uid);
		mail_batch_delete(a->ctx->batch, &a->key);
	}
	mseq_value(msg, &val);
	mseq_key(a, MAIL_K_MSEQ, mailbox_id, json_integer_value(json_object_get(msg, "modseq")), uid);
	mail_batch_put_str(a->ctx->batch, &a->key, val.data);
	buf_free(&val);
	if (email_id == NULL) {
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	/* JMAP: the email's keywords or mailboxes changed (mail_jmap.h). A new
	 * message is one more reference to its body (blob_gc.h). */
	if (old_modseq == 0) {
		const char *blob_id = json_string_value(json_object_get(msg, "blob_id"));

		if (blob_id == NULL) {
			*error_r = MAIL_CORRUPT;
			return -1;
		}
		if (blob_ref_account(a->ctx, blob_id, a->address, 1, error_r) < 0)
			return -1;
		mail_jmap_loc(a, email_id, mailbox_id, uid, 1);
		sdat_key(a, mailbox_id, msg, uid);
		mail_batch_put_str(a->ctx->batch, &a->key, "");
	}
	return mail_jmap_touch(a, MAIL_J_EMAIL, email_id, 0, error_r);
}

void mail_msg_delete(struct mail_acct *a, const char *mailbox_id, const char *email_id, uint32_t uid,
		     int64_t modseq)
{
	mail_key_uid(&a->key, a->address, MAIL_K_MSG, mailbox_id, uid);
	mail_batch_delete(a->ctx->batch, &a->key);
	mseq_key(a, MAIL_K_MSEQ, mailbox_id, modseq, uid);
	mail_batch_delete(a->ctx->batch, &a->key);
	mail_jmap_loc(a, email_id, mailbox_id, uid, 0);
}

void mail_tombstone_put(struct mail_acct *a, const char *mailbox_id, uint32_t uid, int64_t modseq)
{
	mail_key_uid(&a->key, a->address, MAIL_K_GONE, mailbox_id, uid);
	mail_batch_put_int(a->ctx->batch, &a->key, modseq);
	mseq_key(a, MAIL_K_MEXP, mailbox_id, modseq, uid);
	mail_batch_put_int(a->ctx->batch, &a->key, a->ctx->ev->ts);
}

int mail_msgs_remove(struct mail_acct *a, const char *mailbox_id, json_t *mbox, json_t *msgs,
		     int tombstones, const char **error_r)
{
	size_t i;
	json_t *msg;

	json_array_foreach(msgs, i, msg) {
		int64_t uid, size, modseq;
		const char *email_id, *blob_id;

		if (mail_rec_int(msg, "uid", &uid, error_r) < 0 ||
		    mail_rec_int(msg, "modseq", &modseq, error_r) < 0 ||
		    mail_rec_int(msg, "size", &size, error_r) < 0 ||
		    (email_id = mail_rec_str(msg, "email_id", error_r)) == NULL ||
		    (blob_id = mail_rec_str(msg, "blob_id", error_r)) == NULL)
			return -1;
		mail_msg_delete(a, mailbox_id, email_id, (uint32_t)uid, modseq);
		sdat_key(a, mailbox_id, msg, (uint32_t)uid);
		mail_batch_delete(a->ctx->batch, &a->key);
		if (blob_ref_account(a->ctx, blob_id, a->address, -1, error_r) < 0)
			return -1;
		if (tombstones)
			mail_tombstone_put(a, mailbox_id, (uint32_t)uid, a->modseq);
		mail_rec_add(mbox, "messages", -1);
		mail_rec_add(mbox, "size", -size);
		if (!(mail_flags_bits(json_object_get(msg, "flags")) & MAIL_F_SEEN))
			mail_rec_add(mbox, "unseen", -1);
		mail_acct_usage_add(a, -1, -size);
		if (mail_email_ref(a, email_id, mailbox_id, NULL, 0, -1, error_r) < 0)
			return -1;
	}
	if (tombstones && json_array_size(msgs) > 0) {
		mail_rec_set(mbox, "highestmodseq", a->modseq);
		/* What the sync and the pruner read instead of scanning mexp/
		 * (mail_keys.h): the newest tombstone's modseq, and, when no
		 * tombstone was left, this one's time as the first's. */
		mail_rec_set(mbox, "expunged_modseq", a->modseq);
		if (json_integer_value(json_object_get(mbox, "prune_next")) == MAIL_PRUNE_NONE)
			mail_rec_set(mbox, "prune_next", a->ctx->ev->ts);
	}
	return 0;
}

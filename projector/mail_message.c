/* mail_message - appliers of message.append, message.store, message.copy,
 * message.move and message.expunge (projector/mail.h). UIDs, MODSEQs and
 * email ids come from the log: UID = the mailbox's uidnext, MODSEQ =
 * offset + 1, email_id = SHA-256(blob_id + prefix). */
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"

#include <stdlib.h>
#include <string.h>

/* An accepted command that changes nothing else still provisions. */
static void touch(struct mail_acct *a)
{
	if (!a->provisioned)
		mail_acct_begin_write(a);
}

/* Opens the account and the mailbox of field: 1 found, else the status
 * to return (rejected "not-found", or failed). */
static enum apply_status open_mbox(struct apply_ctx *ctx, struct mail_acct *a, const char *id,
				   json_t **mbox_r, const char **error_r)
{
	int r;

	if ((r = mail_mbox_get(a, id, mbox_r, error_r)) <= 0)
		return r == 0 ? apply_reject(ctx, "not-found", "no mailbox %s", id) : APPLY_FAILED;
	return APPLY_ACCEPTED;
}

/* message.append: see mail.h. The mailbox is named by mailbox_id or, for
 * delivery, by name ("mailbox", normally "INBOX"). */
enum apply_status mail_apply_append(struct apply_ctx *ctx, const char **error_r)
{
	const struct evm_event *ev = ctx->ev;
	char name[MAIL_MAILBOX_NAME_MAX + 1], idbuf[MAIL_ID_LEN + 1], email_id[MAIL_ID_LEN + 1];
	const char *id = NULL, *blob_id, *prefix = "", *error = NULL;
	json_t *summary = json_object_get(ev->data, "summary"), *dsn = json_object_get(ev->data, "dsn");
	json_t *kw = NULL, *mbox = NULL, *msg;
	int64_t blob_size, date, size, used, uidnext, unseen;
	struct mail_acct a;
	enum apply_status st = APPLY_REJECTED;
	unsigned sys, kwsys;
	int r, over_quota_ok;

	memset(&a, 0, sizeof a);
	if (json_object_get(ev->data, "mailbox_id") != NULL) {
		if (json_object_get(ev->data, "mailbox") != NULL) {
			apply_reject(ctx, "invalid", "both mailbox_id and mailbox given");
			goto out;
		}
		if ((id = mail_field_id(ctx, "mailbox_id")) == NULL)
			goto out;
	} else if (mail_field_name(ctx, "mailbox", name) < 0) {
		goto out;
	}
	if ((blob_id = evm_data_str(ev, "blob_id", MAIL_BLOB_ID_LEN, &error)) == NULL ||
	    !mail_hex_valid(blob_id, MAIL_BLOB_ID_LEN)) {
		apply_reject(ctx, "invalid", "blob_id: not 64 lower-case hex digits");
		goto out;
	}
	if (evm_data_int(ev, "blob_size", 0, MAIL_BLOB_SIZE_MAX, &blob_size, &error) < 0) {
		apply_reject(ctx, "invalid", "blob_size: %s", error);
		goto out;
	}
	if (json_object_get(ev->data, "prefix") != NULL &&
	    (prefix = evm_data_str(ev, "prefix", MAIL_PREFIX_MAX, &error)) == NULL) {
		apply_reject(ctx, "invalid", "prefix: %s", error);
		goto out;
	}
	if (evm_data_int(ev, "internal_date", 0, MAIL_DATE_MAX, &date, &error) < 0) {
		apply_reject(ctx, "invalid", "internal_date: %s", error);
		goto out;
	}
	if (!json_is_object(summary)) {
		apply_reject(ctx, "invalid", "summary: not an object");
		goto out;
	}
	if (json_object_get(ev->data, "over_quota_ok") != NULL &&
	    !json_is_boolean(json_object_get(ev->data, "over_quota_ok"))) {
		apply_reject(ctx, "invalid", "over_quota_ok: not a boolean");
		goto out;
	}
	over_quota_ok = json_is_true(json_object_get(ev->data, "over_quota_ok"));
	if (dsn != NULL && !json_is_object(dsn)) {
		apply_reject(ctx, "invalid", "dsn: not an object");
		goto out;
	}
	/* flags holds system flags only, keywords keywords only. */
	if (mail_field_flags(ctx, "flags", 1, 1, 0, &sys, &kw) < 0)
		goto out;
	json_decref(kw);
	if (mail_field_flags(ctx, "keywords", 1, 0, 1, &kwsys, &kw) < 0)
		goto out;
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	if (id == NULL) {
		if ((r = mail_mbox_by_name(&a, name, idbuf, error_r)) <= 0) {
			st = r == 0 ? apply_reject(ctx, "not-found", "no mailbox %s", name) : APPLY_FAILED;
			goto out;
		}
		id = idbuf;
	}
	if ((st = open_mbox(ctx, &a, id, &mbox, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	if (mail_rec_int(mbox, "uidnext", &uidnext, error_r) < 0 ||
	    mail_rec_int(mbox, "unseen", &unseen, error_r) < 0 ||
	    mail_rec_int(a.usage, "quota_used", &used, error_r) < 0)
		goto out;
	size = (int64_t)strlen(prefix) + blob_size;
	if (a.quota > 0 && used + size > a.quota && !over_quota_ok) {
		st = apply_reject(ctx, "quota", "%lld + %lld octets exceed the quota of %lld",
				  (long long)used, (long long)size, (long long)a.quota);
		goto out;
	}
	if (uidnext > (int64_t)MAIL_UID_MAX) {
		st = apply_reject(ctx, "conflict", "the mailbox's UIDs are exhausted");
		goto out;
	}
	mail_hash_id(blob_id, prefix, email_id);
	mail_acct_begin_write(&a);
	msg = json_pack("{s:I, s:I, s:o, s:O, s:I, s:I, s:s, s:s, s:s, s:I}",
			"uid", (json_int_t)uidnext, "modseq", (json_int_t)a.modseq,
			"flags", mail_flags_json(sys), "keywords", kw,
			"internal_date", (json_int_t)date, "size", (json_int_t)size,
			"blob_id", blob_id, "prefix", prefix, "email_id", email_id,
			"savedate", (json_int_t)ev->ts);
	/* RFC 3461 parameters travel with the message (for the DSNs the
	 * delivery role will send); copies keep them. */
	if (dsn != NULL)
		json_object_set(msg, "dsn", dsn);
	r = mail_msg_put(&a, id, msg, 0, error_r);
	json_decref(msg);
	if (r < 0)
		goto out;
	mail_rec_set(mbox, "uidnext", uidnext + 1);
	mail_rec_add(mbox, "messages", 1);
	mail_rec_add(mbox, "size", size);
	if (!(sys & MAIL_F_SEEN))
		mail_rec_set(mbox, "unseen", unseen + 1);
	mail_rec_set(mbox, "highestmodseq", a.modseq);
	if (mail_mbox_put(&a, mbox, error_r) < 0)
		goto out;
	mail_acct_usage_add(&a, 1, size);
	mail_acct_put_usage(&a);
	if (mail_email_ref(&a, email_id, id, summary, date, 1, error_r) < 0)
		goto out;
	mail_result(ctx, "mailbox_id", json_string(id));
	mail_result(ctx, "uid", json_integer(uidnext));
	mail_result(ctx, "uidvalidity", json_incref(json_object_get(mbox, "uidvalidity")));
	mail_result(ctx, "modseq", json_integer(a.modseq));
	mail_result(ctx, "email_id", json_string(email_id));
	st = APPLY_ACCEPTED;
out:
	json_decref(kw);
	json_decref(mbox);
	mail_acct_close(&a);
	return st;
}

/* message.store: add, remove or set flags and keywords on the UIDs of a
 * mailbox; with unchanged_since, messages changed after it are left alone
 * and reported (RFC 7162 3.1.3). */
enum apply_status mail_apply_store(struct apply_ctx *ctx, const char **error_r)
{
	const struct evm_event *ev = ctx->ev;
	const char *id, *action, *error = NULL;
	struct mail_uidset set = { NULL, 0 };
	struct mail_acct a;
	enum apply_status st = APPLY_REJECTED;
	json_t *kw = NULL, *mbox = NULL, *msgs = json_array(), *changed = json_array(), *msg;
	uint32_t *modified = NULL;
	int64_t *olds = NULL;     /* the modseqs of changed's messages before */
	size_t nmod = 0, i;
	int64_t since = -1, count, unseen;
	unsigned sys;

	memset(&a, 0, sizeof a);
	if ((id = mail_field_id(ctx, "mailbox_id")) == NULL || mail_field_uids(ctx, "uids", &set) < 0)
		goto out;
	if ((action = evm_data_str(ev, "action", 8, &error)) == NULL ||
	    (strcmp(action, "add") != 0 && strcmp(action, "remove") != 0 && strcmp(action, "set") != 0)) {
		apply_reject(ctx, "invalid", "action: not \"add\", \"remove\" or \"set\"");
		goto out;
	}
	if (mail_field_flags(ctx, "flags", 0, 1, 1, &sys, &kw) < 0)
		goto out;
	if (json_object_get(ev->data, "unchanged_since") != NULL &&
	    evm_data_int(ev, "unchanged_since", 0, INT64_MAX, &since, &error) < 0) {
		apply_reject(ctx, "invalid", "unchanged_since: %s", error);
		goto out;
	}
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	if ((st = open_mbox(ctx, &a, id, &mbox, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	if (mail_rec_int(mbox, "messages", &count, error_r) < 0 ||
	    mail_rec_int(mbox, "unseen", &unseen, error_r) < 0 ||
	    mail_msgs_collect(&a, id, &set, count, msgs, error_r) < 0)
		goto out;
	modified = xcalloc(json_array_size(msgs) + 1, sizeof *modified);
	olds = xcalloc(json_array_size(msgs) + 1, sizeof *olds);
	/* Decide every message first: a rejection must come before any write. */
	json_array_foreach(msgs, i, msg) {
		int64_t uid, modseq;
		unsigned old_sys, new_sys;
		json_t *old_kw = json_object_get(msg, "keywords"), *new_kw;

		if (mail_rec_int(msg, "uid", &uid, error_r) < 0 ||
		    mail_rec_int(msg, "modseq", &modseq, error_r) < 0)
			goto out;
		if (since >= 0 && modseq > since) {
			modified[nmod++] = (uint32_t)uid;
			continue;
		}
		old_sys = mail_flags_bits(json_object_get(msg, "flags"));
		if (strcmp(action, "add") == 0) {
			new_sys = old_sys | sys;
			new_kw = mail_kw_union(old_kw, kw);
		} else if (strcmp(action, "remove") == 0) {
			new_sys = old_sys & ~sys;
			new_kw = mail_kw_minus(old_kw, kw);
		} else {
			new_sys = sys;
			new_kw = json_incref(kw);
		}
		if (json_array_size(new_kw) > MAIL_KEYWORDS_MAX) {
			json_decref(new_kw);
			st = apply_reject(ctx, "invalid", "UID %lld would have more than %d keywords",
					  (long long)uid, MAIL_KEYWORDS_MAX);
			goto out;
		}
		if (new_sys == old_sys && json_equal(new_kw, old_kw)) {
			json_decref(new_kw);
			continue;
		}
		if ((old_sys & MAIL_F_SEEN) && !(new_sys & MAIL_F_SEEN))
			unseen++;
		else if (!(old_sys & MAIL_F_SEEN) && (new_sys & MAIL_F_SEEN))
			unseen--;
		json_object_set_new(msg, "flags", mail_flags_json(new_sys));
		json_object_set_new(msg, "keywords", new_kw);
		json_object_set_new(msg, "modseq", json_integer(a.modseq));
		olds[json_array_size(changed)] = modseq;
		json_array_append(changed, msg);
	}
	if (json_array_size(changed) > 0) {
		mail_acct_begin_write(&a);
		st = APPLY_FAILED;
		json_array_foreach(changed, i, msg)
			if (mail_msg_put(&a, id, msg, olds[i], error_r) < 0)
				goto out;
		mail_rec_set(mbox, "unseen", unseen);
		mail_rec_set(mbox, "highestmodseq", a.modseq);
		if (mail_mbox_put(&a, mbox, error_r) < 0)
			goto out;
	} else {
		touch(&a);
	}
	mail_result(ctx, "modseq", json_incref(json_object_get(mbox, "highestmodseq")));
	mail_result(ctx, "modified", mail_ranges(modified, nmod));
	st = APPLY_ACCEPTED;
out:
	mail_uidset_free(&set);
	free(modified);
	free(olds);
	json_decref(kw);
	json_decref(mbox);
	json_decref(msgs);
	json_decref(changed);
	mail_acct_close(&a);
	return st;
}

/* message.copy and message.move: the messages of uids in mailbox_id get
 * new UIDs in to_mailbox_id, in UID order (RFC 4315 COPYUID). A move then
 * expunges the originals (RFC 6851) and needs no quota. */
static enum apply_status copy_or_move(struct apply_ctx *ctx, int move, const char **error_r)
{
	const char *src_id, *dst_id;
	struct mail_uidset set = { NULL, 0 };
	struct mail_acct a;
	enum apply_status st = APPLY_REJECTED;
	json_t *src = NULL, *dst = NULL, *msgs = json_array(), *msg;
	uint32_t *src_uids = NULL;
	int64_t count, uidnext, used, total = 0, unseen;
	size_t n, i;
	int r;

	memset(&a, 0, sizeof a);
	if ((src_id = mail_field_id(ctx, "mailbox_id")) == NULL || mail_field_uids(ctx, "uids", &set) < 0 ||
	    (dst_id = mail_field_id(ctx, "to_mailbox_id")) == NULL)
		goto out;
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	if ((st = open_mbox(ctx, &a, src_id, &src, error_r)) != APPLY_ACCEPTED)
		goto out;
	if (strcmp(src_id, dst_id) == 0)
		dst = json_incref(src);
	else if ((st = open_mbox(ctx, &a, dst_id, &dst, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	if (mail_rec_int(src, "messages", &count, error_r) < 0 ||
	    mail_rec_int(dst, "uidnext", &uidnext, error_r) < 0 ||
	    mail_rec_int(a.usage, "quota_used", &used, error_r) < 0 ||
	    mail_msgs_collect(&a, src_id, &set, count, msgs, error_r) < 0)
		goto out;
	n = json_array_size(msgs);
	src_uids = xcalloc(n + 1, sizeof *src_uids);
	json_array_foreach(msgs, i, msg) {
		int64_t uid, size;

		if (mail_rec_int(msg, "uid", &uid, error_r) < 0 ||
		    mail_rec_int(msg, "size", &size, error_r) < 0 ||
		    mail_rec_str(msg, "email_id", error_r) == NULL)
			goto out;
		src_uids[i] = (uint32_t)uid;
		total += size;
	}
	if (!move && n > 0 && a.quota > 0 && used + total > a.quota) {
		st = apply_reject(ctx, "quota", "%lld + %lld octets exceed the quota of %lld",
				  (long long)used, (long long)total, (long long)a.quota);
		goto out;
	}
	if (uidnext + (int64_t)n - 1 > (int64_t)MAIL_UID_MAX) {
		st = apply_reject(ctx, "conflict", "the target mailbox's UIDs are exhausted");
		goto out;
	}
	if (n == 0) {
		touch(&a);
	} else {
		mail_acct_begin_write(&a);
		st = APPLY_FAILED;
		json_array_foreach(msgs, i, msg) {
			json_t *copy = json_deep_copy(msg);
			int64_t size = json_integer_value(json_object_get(msg, "size"));

			json_object_set_new(copy, "uid", json_integer(uidnext + (int64_t)i));
			json_object_set_new(copy, "modseq", json_integer(a.modseq));
			json_object_set_new(copy, "savedate", json_integer(ctx->ev->ts));
			r = mail_msg_put(&a, dst_id, copy, 0, error_r);
			json_decref(copy);
			if (r < 0)
				goto out;
			mail_rec_add(dst, "messages", 1);
			mail_rec_add(dst, "size", size);
			if (!(mail_flags_bits(json_object_get(msg, "flags")) & MAIL_F_SEEN)) {
				if (mail_rec_int(dst, "unseen", &unseen, error_r) < 0)
					goto out;
				mail_rec_set(dst, "unseen", unseen + 1);
			}
			mail_acct_usage_add(&a, 1, size);
			if (mail_email_ref(&a, json_string_value(json_object_get(msg, "email_id")), dst_id, NULL,
					   json_integer_value(json_object_get(msg, "internal_date")), 1,
					   error_r) < 0)
				goto out;
		}
		mail_rec_set(dst, "uidnext", uidnext + (int64_t)n);
		mail_rec_set(dst, "highestmodseq", a.modseq);
		if (move && mail_msgs_remove(&a, src_id, src, msgs, 1, error_r) < 0)
			goto out;
		if (mail_mbox_put(&a, dst, error_r) < 0 ||
		    (dst != src && mail_mbox_put(&a, src, error_r) < 0))
			goto out;
		mail_acct_put_usage(&a);
	}
	mail_result(ctx, "uidvalidity", json_incref(json_object_get(dst, "uidvalidity")));
	mail_result(ctx, "src", mail_ranges(src_uids, n));
	mail_result(ctx, "dst", n == 0 ? json_array() :
		    json_pack("[[I,I]]", (json_int_t)uidnext, (json_int_t)(uidnext + (int64_t)n - 1)));
	mail_result(ctx, "modseq", json_incref(json_object_get(dst, "highestmodseq")));
	st = APPLY_ACCEPTED;
out:
	mail_uidset_free(&set);
	free(src_uids);
	json_decref(src);
	json_decref(dst);
	json_decref(msgs);
	mail_acct_close(&a);
	return st;
}

enum apply_status mail_apply_copy(struct apply_ctx *ctx, const char **error_r)
{
	return copy_or_move(ctx, 0, error_r);
}

enum apply_status mail_apply_move(struct apply_ctx *ctx, const char **error_r)
{
	return copy_or_move(ctx, 1, error_r);
}

/* message.expunge {mailbox_id, uids}: removes those messages, leaving
 * tombstones (uid -> modseq) for QRESYNC VANISHED (RFC 7162 3.2.10). */
enum apply_status mail_apply_expunge(struct apply_ctx *ctx, const char **error_r)
{
	const char *id;
	struct mail_uidset set = { NULL, 0 };
	struct mail_acct a;
	enum apply_status st = APPLY_REJECTED;
	json_t *mbox = NULL, *msgs = json_array(), *msg;
	uint32_t *uids = NULL;
	int64_t count;
	size_t i;

	memset(&a, 0, sizeof a);
	if ((id = mail_field_id(ctx, "mailbox_id")) == NULL || mail_field_uids(ctx, "uids", &set) < 0)
		goto out;
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	if ((st = open_mbox(ctx, &a, id, &mbox, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	if (mail_rec_int(mbox, "messages", &count, error_r) < 0 ||
	    mail_msgs_collect(&a, id, &set, count, msgs, error_r) < 0)
		goto out;
	uids = xcalloc(json_array_size(msgs) + 1, sizeof *uids);
	json_array_foreach(msgs, i, msg)
		uids[i] = (uint32_t)json_integer_value(json_object_get(msg, "uid"));
	if (json_array_size(msgs) == 0) {
		touch(&a);
	} else {
		mail_acct_begin_write(&a);
		st = APPLY_FAILED;
		if (mail_msgs_remove(&a, id, mbox, msgs, 1, error_r) < 0 ||
		    mail_mbox_put(&a, mbox, error_r) < 0)
			goto out;
		mail_acct_put_usage(&a);
	}
	mail_result(ctx, "modseq", json_incref(json_object_get(mbox, "highestmodseq")));
	mail_result(ctx, "expunged", mail_ranges(uids, json_array_size(msgs)));
	st = APPLY_ACCEPTED;
out:
	mail_uidset_free(&set);
	free(uids);
	json_decref(mbox);
	json_decref(msgs);
	mail_acct_close(&a);
	return st;
}

/* mail_mailbox - appliers of mailbox.provision, mailbox.create,
 * mailbox.rename, mailbox.delete and mailbox.subscribe (projector/mail.h). */
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"
#include "projector/mail_acl.h"

#include <stdlib.h>
#include <string.h>

static const char *const special_uses[] = {
	"", "\\Drafts", "\\Sent", "\\Junk", "\\Trash", "\\Archive", "\\All", "\\Flagged",
};

/* An accepted command that changes nothing else still provisions. */
static void touch(struct mail_acct *a)
{
	if (!a->provisioned)
		mail_acct_begin_write(a);
}

/* The optional (provision) or required (account.quota) quota field:
 * 1 present, 0 absent, -1 rejected. */
static int quota_field(struct apply_ctx *ctx, int required, int64_t *quota_r)
{
	const char *error = NULL;

	if (!required && json_object_get(ctx->ev->data, "quota") == NULL)
		return 0;
	if (evm_data_int(ctx->ev, "quota", 0, INT64_MAX, quota_r, &error) < 0) {
		apply_reject(ctx, "invalid", "quota: %s", error);
		return -1;
	}
	return 1;
}

/* mailbox.provision {quota}: the default mailboxes (once), and the quota. */
enum apply_status mail_apply_provision(struct apply_ctx *ctx, const char **error_r)
{
	struct mail_acct a;
	enum apply_status st;
	int64_t quota = 0;
	int has_quota;

	if ((has_quota = quota_field(ctx, 0, &quota)) < 0)
		return APPLY_REJECTED;
	if ((st = mail_acct_open(ctx, &a, error_r)) == APPLY_ACCEPTED) {
		mail_result(ctx, "provisioned", json_boolean(!a.provisioned));
		touch(&a);
		if (has_quota && quota != a.quota) {
			mail_acct_set_quota(&a, quota);
			apply_changed(ctx, a.address);
		}
	}
	mail_acct_close(&a);
	return st;
}

/* account.quota {quota}: the account's quota in bytes, 0 = unlimited. Mail
 * already stored is kept even when it exceeds a lowered quota. */
enum apply_status mail_apply_quota(struct apply_ctx *ctx, const char **error_r)
{
	struct mail_acct a;
	enum apply_status st;
	int64_t quota;

	if (quota_field(ctx, 1, &quota) < 0)
		return APPLY_REJECTED;
	if ((st = mail_acct_open(ctx, &a, error_r)) == APPLY_ACCEPTED) {
		touch(&a);
		if (quota != a.quota) {
			mail_acct_set_quota(&a, quota);
			apply_changed(ctx, a.address);
		}
		mail_result(ctx, "quota", json_integer(quota));
	}
	mail_acct_close(&a);
	return st;
}

/* mailbox.create {mailbox_id, name, special_use}: the name and the id must
 * be free. UIDVALIDITY from this event's offset. */
enum apply_status mail_apply_mailbox_create(struct apply_ctx *ctx, const char **error_r)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1], other[MAIL_ID_LEN + 1];
	const char *id, *su = "", *error = NULL, *as;
	struct mail_acct a;
	enum apply_status st;
	json_t *mbox = NULL;
	size_t i;
	int r;

	if ((id = mail_field_id(ctx, "mailbox_id")) == NULL || mail_field_name(ctx, "name", name) < 0)
		return APPLY_REJECTED;
	if (json_object_get(ctx->ev->data, "special_use") != NULL &&
	    (su = evm_data_str(ctx->ev, "special_use", 16, &error)) == NULL)
		return apply_reject(ctx, "invalid", "special_use: %s", error);
	for (i = 0; i < sizeof special_uses / sizeof special_uses[0]; i++) {
		if (strcmp(su, special_uses[i]) == 0)
			break;
	}
	if (i == sizeof special_uses / sizeof special_uses[0])
		return apply_reject(ctx, "invalid", "special_use: not an RFC 6154 attribute we keep");
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	if ((r = mail_mbox_by_name(&a, name, other, error_r)) != 0) {
		if (r > 0)
			st = apply_reject(ctx, "exists", "mailbox %s exists", name);
		goto out;
	}
	if ((r = mail_mbox_get(&a, id, &mbox, error_r)) != 0) {
		if (r > 0)
			st = apply_reject(ctx, "exists", "mailbox id %s exists", id);
		goto out;
	}
	mail_acct_begin_write(&a);
	mbox = mail_mbox_new(id, name, su, mail_uidvalidity(ctx->offset), a.modseq);
	if (mail_mbox_put(&a, mbox, error_r) < 0)
		goto out;
	mail_key(&a.key, a.address, MAIL_K_NAME, name);
	mail_batch_put_str(ctx->batch, &a.key, id);
	/* Created by a sharee (k on the parent, mail_acl_check): its ACL
	 * starts with every right for the creator (mail_acl.h). */
	as = json_string_value(json_object_get(ctx->ev->data, "as"));
	if (as != NULL && strcmp(as, a.address) != 0)
		mail_acl_grant(&a, id, as, MAIL_R_EVERY);
	mail_result(ctx, "mailbox_id", json_string(id));
	mail_result(ctx, "uidvalidity", json_integer(mail_uidvalidity(ctx->offset)));
	st = APPLY_ACCEPTED;
out:
	json_decref(mbox);
	mail_acct_close(&a);
	return st;
}

/* Names of the mailboxes below name (the part after "name/"), sorted. */
static int children(struct mail_acct *a, const char *name, json_t *out, const char **error_r)
{
	if (!a->provisioned)
		return 0;   /* the default mailboxes have no children */
	mail_key(&a->key, a->address, MAIL_K_NAME, name);
	buf_puts(&a->key, "/");
	return mail_batch_names(a->ctx->batch, &a->key, out, error_r);
}

/* mailbox.rename {mailbox_id, name}: children move with it (RFC 9051
 * 6.3.6). Renaming INBOX (which RFC 9051 defines as moving its messages)
 * is refused; so is a new name below the old one. */
enum apply_status mail_apply_mailbox_rename(struct apply_ctx *ctx, const char **error_r)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1], found[MAIL_ID_LEN + 1];
	const char *id, *old;
	struct mail_acct a;
	enum apply_status st;
	json_t *mbox = NULL, *kids = json_array(), *ids = json_array(), *olds = json_array(),
	       *news = json_array(), *v;
	struct buf newname = BUF_INIT;
	size_t i, j, oldlen;
	int r;

	if ((id = mail_field_id(ctx, "mailbox_id")) == NULL || mail_field_name(ctx, "name", name) < 0) {
		st = APPLY_REJECTED;
		goto out_noacct;
	}
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	if ((r = mail_mbox_get(&a, id, &mbox, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no mailbox %s", id);
		goto out;
	}
	if ((old = mail_rec_str(mbox, "name", error_r)) == NULL)
		goto out;
	oldlen = strlen(old);
	if (strcmp(old, "INBOX") == 0) {
		st = apply_reject(ctx, "forbidden", "INBOX cannot be renamed");
		goto out;
	}
	if (strncmp(name, old, oldlen) == 0 && name[oldlen] == '/') {
		st = apply_reject(ctx, "invalid", "cannot rename %s below itself", old);
		goto out;
	}
	if ((r = mail_mbox_by_name(&a, name, found, error_r)) != 0) {
		if (r > 0)
			st = apply_reject(ctx, "exists", "mailbox %s exists", name);
		goto out;
	}
	/* What moves: the mailbox and every child, old name -> new name. */
	json_array_append_new(ids, json_string(id));
	json_array_append_new(olds, json_string(old));
	json_array_append_new(news, json_string(name));
	if (children(&a, old, kids, error_r) < 0)
		goto out;
	json_array_foreach(kids, i, v) {
		buf_truncate(&newname, 0);
		buf_printf(&newname, "%s/%s", old, json_string_value(v));
		if ((r = mail_mbox_by_name(&a, newname.data, found, error_r)) <= 0) {
			if (r == 0)
				*error_r = MAIL_CORRUPT;
			goto out;
		}
		json_array_append_new(ids, json_string(found));
		json_array_append_new(olds, json_string(newname.data));
		buf_truncate(&newname, 0);
		buf_printf(&newname, "%s/%s", name, json_string_value(v));
		if (newname.len > MAIL_MAILBOX_NAME_MAX) {
			st = apply_reject(ctx, "invalid", "the new name of child %s is too long",
					  json_string_value(v));
			goto out;
		}
		json_array_append_new(news, json_string(newname.data));
	}
	/* A new child name may be taken by a mailbox outside what moves. */
	for (i = 1; i < json_array_size(news); i++) {
		int moving = 0;

		if ((r = mail_mbox_by_name(&a, json_string_value(json_array_get(news, i)), found, error_r)) < 0)
			goto out;
		for (j = 0; r > 0 && j < json_array_size(ids); j++)
			moving |= strcmp(found, json_string_value(json_array_get(ids, j))) == 0;
		if (r > 0 && !moving) {
			st = apply_reject(ctx, "exists", "mailbox %s exists",
					  json_string_value(json_array_get(news, i)));
			goto out;
		}
	}
	mail_acct_begin_write(&a);
	json_array_foreach(olds, i, v) {
		mail_key(&a.key, a.address, MAIL_K_NAME, json_string_value(v));
		mail_batch_delete(ctx->batch, &a.key);
	}
	json_array_foreach(ids, i, v) {
		json_t *m = NULL;
		const char *newn = json_string_value(json_array_get(news, i));

		if ((r = mail_mbox_get(&a, json_string_value(v), &m, error_r)) <= 0) {
			if (r == 0)
				*error_r = MAIL_CORRUPT;
			goto out;
		}
		json_object_set_new(m, "name", json_string(newn));
		r = mail_mbox_put(&a, m, error_r);
		json_decref(m);
		if (r < 0)
			goto out;
		mail_key(&a.key, a.address, MAIL_K_NAME, newn);
		mail_batch_put_str(ctx->batch, &a.key, json_string_value(v));
	}
	mail_result(ctx, "mailbox_id", json_string(id));
	mail_result(ctx, "name", json_string(name));
	st = APPLY_ACCEPTED;
out:
	mail_acct_close(&a);
out_noacct:
	json_decref(mbox);
	json_decref(kids);
	json_decref(ids);
	json_decref(olds);
	json_decref(news);
	buf_free(&newname);
	return st;
}

/* mailbox.delete {mailbox_id}: not INBOX, not while it has children. Its
 * messages go (quota is freed), its tombstones, METADATA and access key
 * too. Subscriptions stay
 * (RFC 9051 6.3.7: the server does not remove them unilaterally). */
enum apply_status mail_apply_mailbox_delete(struct apply_ctx *ctx, const char **error_r)
{
	const char *id, *name;
	struct mail_acct a;
	enum apply_status st;
	json_t *mbox = NULL, *kids = json_array(), *msgs = json_array(), *v;
	int64_t count;
	size_t i;
	int r;

	if ((id = mail_field_id(ctx, "mailbox_id")) == NULL) {
		st = APPLY_REJECTED;
		goto out_noacct;
	}
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	if ((r = mail_mbox_get(&a, id, &mbox, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no mailbox %s", id);
		goto out;
	}
	if ((name = mail_rec_str(mbox, "name", error_r)) == NULL ||
	    mail_rec_int(mbox, "messages", &count, error_r) < 0)
		goto out;
	if (strcmp(name, "INBOX") == 0) {
		st = apply_reject(ctx, "forbidden", "INBOX cannot be deleted");
		goto out;
	}
	if (children(&a, name, kids, error_r) < 0)
		goto out;
	if (json_array_size(kids) > 0) {
		st = apply_reject(ctx, "not-empty", "mailbox %s has children", name);
		goto out;
	}
	if (mail_msgs_collect(&a, id, NULL, count, msgs, error_r) < 0)
		goto out;
	mail_acct_begin_write(&a);
	if (mail_msgs_remove(&a, id, mbox, msgs, 0, error_r) < 0)
		goto out;
	mail_acct_put_usage(&a);
	json_array_clear(kids);
	mail_key_uid(&a.key, a.address, MAIL_K_GONE, id, 0);
	if (mail_batch_names(ctx->batch, &a.key, kids, error_r) < 0)
		goto out;
	json_array_foreach(kids, i, v) {
		mail_key_uid(&a.key, a.address, MAIL_K_GONE, id, 0);
		buf_puts(&a.key, json_string_value(v));
		mail_batch_delete(ctx->batch, &a.key);
	}
	if (mail_meta_drop_mailbox(&a, id, error_r) < 0)
		goto out;
	/* Its grants and their sharee index entries (mail_acl.h). */
	if (mail_acl_drop(&a, id, error_r) < 0)
		goto out;
	/* The expunge index goes with the tombstones (mail_keys.h). */
	json_array_clear(kids);
	mail_key_uid(&a.key, a.address, MAIL_K_MEXP, id, 0);
	if (mail_batch_names(ctx->batch, &a.key, kids, error_r) < 0)
		goto out;
	json_array_foreach(kids, i, v) {
		mail_key_uid(&a.key, a.address, MAIL_K_MEXP, id, 0);
		buf_puts(&a.key, json_string_value(v));
		mail_batch_delete(ctx->batch, &a.key);
	}
	mail_key(&a.key, a.address, MAIL_K_NAME, name);
	mail_batch_delete(ctx->batch, &a.key);
	mail_key(&a.key, a.address, MAIL_K_MBOX, id);
	mail_batch_delete(ctx->batch, &a.key);
	if (mail_jmap_touch(&a, MAIL_J_MAILBOX, id, 1, error_r) < 0)
		goto out;
	mail_result(ctx, "mailbox_id", json_string(id));
	st = APPLY_ACCEPTED;
out:
	mail_acct_close(&a);
out_noacct:
	json_decref(mbox);
	json_decref(kids);
	json_decref(msgs);
	return st;
}

/* mailbox.subscribe {name, subscribed}: the name need not exist. */
enum apply_status mail_apply_subscribe(struct apply_ctx *ctx, const char **error_r)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1], id[MAIL_ID_LEN + 1];
	json_t *sub = json_object_get(ctx->ev->data, "subscribed");
	struct mail_acct a;
	enum apply_status st;
	char *val = NULL;
	int r;

	if (mail_field_name(ctx, "name", name) < 0)
		return APPLY_REJECTED;
	if (!json_is_boolean(sub))
		return apply_reject(ctx, "invalid", "subscribed: not a boolean");
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	touch(&a);
	mail_key(&a.key, a.address, MAIL_K_SUB, name);
	if ((r = view_batch_get(ctx->batch, a.key.data, a.key.len, &val, NULL, error_r)) < 0) {
		st = APPLY_FAILED;
		goto out;
	}
	free(val);
	if (r == 0 && json_is_true(sub)) {
		mail_batch_put_str(ctx->batch, &a.key, "");
		apply_changed(ctx, a.address);
	} else if (r == 1 && !json_is_true(sub)) {
		mail_batch_delete(ctx->batch, &a.key);
		apply_changed(ctx, a.address);
	}
	/* JMAP's isSubscribed is a property of the mailbox of that name
	 * (RFC 8621 2): its change is the mailbox's (mail_jmap.h). */
	if ((r == 0) == json_is_true(sub) && (r = mail_mbox_by_name(&a, name, id, error_r)) != 0) {
		if (r < 0 || mail_jmap_touch(&a, MAIL_J_MAILBOX, id, 0, error_r) < 0) {
			st = APPLY_FAILED;
			goto out;
		}
	}
	mail_result(ctx, "name", json_string(name));
	mail_result(ctx, "subscribed", json_boolean(json_is_true(sub)));
out:
	mail_acct_close(&a);
	return st;
}

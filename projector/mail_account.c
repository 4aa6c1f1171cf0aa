/* mail_account - opening an account for an applier, provisioning, usage,
 * mailbox records and shared summaries (see mail_internal.h). */
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

/* The mailboxes every account starts with (mail.h). */
static const struct {
	const char *name, *special_use;
} default_mailboxes[] = {
	{ "INBOX", "" },        { "Drafts", "\\Drafts" }, { "Sent", "\\Sent" },
	{ "Junk", "\\Junk" },   { "Trash", "\\Trash" },   { "Archive", "\\Archive" },
};

uint32_t mail_uidvalidity(int64_t offset)
{
	uint32_t v = (uint32_t)((uint64_t)(offset + 1) & 0xffffffffu);

	return v == 0 ? 1 : v;
}

json_t *mail_mbox_new(const char *id, const char *name, const char *special_use,
		      uint32_t uidvalidity, int64_t modseq)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "id", id, "name", name,
			 "special_use", special_use, "uidvalidity", (json_int_t)uidvalidity,
			 "uidnext", (json_int_t)1, "highestmodseq", (json_int_t)modseq,
			 "messages", (json_int_t)0, "unseen", (json_int_t)0, "size", (json_int_t)0);
}

/* The six default mailboxes, as the event at ctx would create them. */
static json_t *virtual_mailboxes(const struct apply_ctx *ctx)
{
	json_t *list = json_array();
	char id[MAIL_ID_LEN + 1], suffix[MAIL_MAILBOX_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof default_mailboxes / sizeof default_mailboxes[0]; i++) {
		snprintf(suffix, sizeof suffix, "/%s", default_mailboxes[i].name);
		mail_hash_id(ctx->ev->id, suffix, id);
		json_array_append_new(list, mail_mbox_new(id, default_mailboxes[i].name,
							  default_mailboxes[i].special_use,
							  mail_uidvalidity(ctx->offset), ctx->offset + 1));
	}
	return list;
}

/* The account is the envelope's (mail.h): its mail state only, never the
 * directory, so the outcome depends on this partition alone. */
enum apply_status mail_acct_open(struct apply_ctx *ctx, struct mail_acct *a, const char **error_r)
{
	char norm[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;
	int64_t v;
	int r;

	memset(a, 0, sizeof *a);
	a->ctx = ctx;
	a->address = ctx->ev->account;
	a->modseq = ctx->offset + 1;
	if (a->address == NULL || evm_address_normalize(a->address, norm, &error) < 0 ||
	    strcmp(norm, a->address) != 0)
		return apply_reject(ctx, "invalid", "event account is not an address in normal form");
	mail_key(&a->key, a->address, MAIL_K_QUOTA, NULL);
	if ((r = mail_batch_get_int(ctx->batch, &a->key, &a->quota, error_r)) < 0)
		return APPLY_FAILED;
	if (r == 0)
		a->quota = 0;
	mail_key(&a->key, a->address, MAIL_K_USAGE, NULL);
	if ((r = mail_batch_get_json(ctx->batch, &a->key, &a->usage, error_r)) < 0)
		return APPLY_FAILED;
	if (r == 1) {
		a->provisioned = 1;
		if (mail_rec_int(a->usage, "messages", &v, error_r) < 0 ||
		    mail_rec_int(a->usage, "quota_used", &v, error_r) < 0)
			return APPLY_FAILED;
	} else {
		a->usage = json_pack("{s:I, s:I}", "messages", (json_int_t)0, "quota_used", (json_int_t)0);
		a->virt = virtual_mailboxes(ctx);
	}
	/* Submitted by a sharee: its rights on the owner's mailboxes first
	 * (mail_acl.h). */
	if (json_object_get(ctx->ev->data, "as") != NULL)
		return mail_acl_check(a, error_r);
	return APPLY_ACCEPTED;
}

void mail_acct_set_quota(struct mail_acct *a, int64_t quota)
{
	mail_key(&a->key, a->address, MAIL_K_QUOTA, NULL);
	if (quota == 0)
		mail_batch_delete(a->ctx->batch, &a->key);
	else
		mail_batch_put_int(a->ctx->batch, &a->key, quota);
	a->quota = quota;
}

void mail_acct_close(struct mail_acct *a)
{
	json_decref(a->usage);
	json_decref(a->virt);
	buf_free(&a->key);
	a->usage = a->virt = NULL;
}

void mail_acct_put_usage(struct mail_acct *a)
{
	mail_key(&a->key, a->address, MAIL_K_USAGE, NULL);
	mail_batch_put_json(a->ctx->batch, &a->key, a->usage);
}

void mail_acct_usage_add(struct mail_acct *a, int64_t messages, int64_t bytes)
{
	mail_rec_add(a->usage, "messages", messages);
	mail_rec_add(a->usage, "quota_used", bytes);
}

void mail_acct_begin_write(struct mail_acct *a)
{
	size_t i;
	json_t *m;

	apply_changed(a->ctx, a->address);
	if (a->provisioned)
		return;
	json_array_foreach(a->virt, i, m) {
		const char *id = json_string_value(json_object_get(m, "id"));
		const char *name = json_string_value(json_object_get(m, "name"));

		mail_mbox_write(a, m);
		mail_jmap_created(a, MAIL_J_MAILBOX, id);
		mail_key(&a->key, a->address, MAIL_K_NAME, name);
		mail_batch_put_str(a->ctx->batch, &a->key, id);
		/* The default mailboxes start subscribed. */
		mail_key(&a->key, a->address, MAIL_K_SUB, name);
		mail_batch_put_str(a->ctx->batch, &a->key, "");
	}
	mail_acct_put_usage(a);
	json_decref(a->virt);
	a->virt = NULL;
	a->provisioned = 1;
}

int mail_mbox_get(struct mail_acct *a, const char *id, json_t **mbox_r, const char **error_r)
{
	size_t i;
	json_t *m;

	*mbox_r = NULL;
	if (!a->provisioned) {
		json_array_foreach(a->virt, i, m) {
			if (strcmp(json_string_value(json_object_get(m, "id")), id) == 0) {
				*mbox_r = json_deep_copy(m);
				return 1;
			}
		}
		return 0;
	}
	mail_key(&a->key, a->address, MAIL_K_MBOX, id);
	return mail_batch_get_json(a->ctx->batch, &a->key, mbox_r, error_r);
}

int mail_mbox_by_name(struct mail_acct *a, const char *name, char id_out[MAIL_ID_LEN + 1],
		      const char **error_r)
{
	char *val = NULL;
	size_t vlen = 0, i;
	json_t *m;
	int r;

	if (!a->provisioned) {
		json_array_foreach(a->virt, i, m) {
			if (strcmp(json_string_value(json_object_get(m, "name")), name) == 0) {
				snprintf(id_out, MAIL_ID_LEN + 1, "%s", json_string_value(json_object_get(m, "id")));
				return 1;
			}
		}
		return 0;
	}
	mail_key(&a->key, a->address, MAIL_K_NAME, name);
	r = view_batch_get(a->ctx->batch, a->key.data, a->key.len, &val, &vlen, error_r);
	if (r <= 0)
		return r;
	if (vlen != MAIL_ID_LEN || !mail_hex_valid(val, MAIL_ID_LEN)) {
		free(val);
		log_error("mail: name index %s does not hold a mailbox id", a->key.data);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	memcpy(id_out, val, MAIL_ID_LEN + 1);
	free(val);
	return 1;
}

void mail_mbox_write(struct mail_acct *a, json_t *mbox)
{
	mail_key(&a->key, a->address, MAIL_K_MBOX, json_string_value(json_object_get(mbox, "id")));
	mail_batch_put_json(a->ctx->batch, &a->key, mbox);
}

int mail_mbox_put(struct mail_acct *a, json_t *mbox, const char **error_r)
{
	if (mail_prune_mailbox(a, mbox, error_r) < 0)
		return -1;
	mail_mbox_write(a, mbox);
	return mail_jmap_touch(a, MAIL_J_MAILBOX, json_string_value(json_object_get(mbox, "id")), 0,
			       error_r);
}

/* Calls fn for each Message-ID of a summary that the index keeps. */
static void each_msgid(struct mail_acct *a, json_t *summary, const char *email_id, int put)
{
	json_t *ids = json_object_get(json_object_get(summary, "headers"), "message_id"), *v;
	size_t i;

	json_array_foreach(ids, i, v) {
		const char *s = json_string_value(v);

		if (i >= MAIL_MSGID_INDEX_MAX)
			break;
		if (s == NULL || s[0] == '\0' || strlen(s) != json_string_length(v) ||
		    strlen(s) > MAIL_MSGID_LEN_MAX)
			continue;
		mail_key(&a->key, a->address, MAIL_K_MID, NULL);
		mail_key_escape(&a->key, s);
		buf_puts(&a->key, "/");
		buf_puts(&a->key, email_id);
		if (put)
			mail_batch_put_str(a->ctx->batch, &a->key, "");
		else
			mail_batch_delete(a->ctx->batch, &a->key);
	}
}

int mail_email_ref(struct mail_acct *a, const char *email_id, const char *mailbox_id, json_t *summary,
		   int64_t received, int64_t delta, const char **error_r)
{
	struct view_batch *b = a->ctx->batch;
	int64_t refs = 0;
	json_t *stored = NULL;
	int r;

	/* A copy leaves its mailbox while the email's thread record is there
	 * (it uses a->key: before the reference key is set). */
	if (delta < 0 && mail_jmap_email_placed(a, email_id, mailbox_id, 0, error_r) < 0)
		return -1;
	mail_key(&a->key, a->address, MAIL_K_EREF, email_id);
	if ((r = mail_batch_get_int(b, &a->key, &refs, error_r)) < 0)
		return -1;
	if (r == 0)
		refs = 0;
	if (refs + delta < 0 || (refs == 0 && summary == NULL)) {
		log_error("mail: summary %s of %s has %lld references, cannot add %lld", email_id,
			  a->address, (long long)refs, (long long)delta);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	if (refs + delta > 0) {
		mail_batch_put_int(b, &a->key, refs + delta);
		if (refs == 0) {
			/* The thread first: it looks up the parents' Message-IDs,
			 * and the email's own must not answer for them. */
			if (mail_jmap_email_new(a, email_id, summary, received, error_r) < 0)
				return -1;
			mail_key(&a->key, a->address, MAIL_K_EMAIL, email_id);
			mail_batch_put_json(b, &a->key, summary);
			each_msgid(a, summary, email_id, 1);
		}
		if (delta > 0 && mail_jmap_email_placed(a, email_id, mailbox_id, 1, error_r) < 0)
			return -1;
		return mail_jmap_touch(a, MAIL_J_EMAIL, email_id, 0, error_r);
	}
	/* The last reference: drop the summary and its index entries. */
	mail_batch_delete(b, &a->key);
	mail_key(&a->key, a->address, MAIL_K_EMAIL, email_id);
	if ((r = mail_batch_get_json(b, &a->key, &stored, error_r)) < 0)
		return -1;
	if (r == 1) {
		mail_batch_delete(b, &a->key);
		each_msgid(a, stored, email_id, 0);
		json_decref(stored);
	}
	if (mail_jmap_email_gone(a, email_id, error_r) < 0)
		return -1;
	return mail_jmap_touch(a, MAIL_J_EMAIL, email_id, 1, error_r);
}

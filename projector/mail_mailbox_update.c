/* mail_mailbox_update - the applier of mailbox.update (projector/mail.h):
 * a mailbox's special use (RFC 6154, JMAP's role, RFC 8621 2) and its sort
 * order (JMAP sortOrder) after creation. IMAP's METADATA
 * "/private/specialuse" (RFC 6154 4) and JMAP Mailbox/set both write it,
 * so both protocols see one value. */
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"

#include <stdlib.h>
#include <string.h>

static const char *const special_uses[] = {
	"", "\\Drafts", "\\Sent", "\\Junk", "\\Trash", "\\Archive", "\\All", "\\Flagged",
};

int mail_special_use_valid(const char *su)
{
	for (size_t i = 0; su != NULL && i < sizeof special_uses / sizeof special_uses[0]; i++) {
		if (strcmp(su, special_uses[i]) == 0)
			return 1;
	}
	return 0;
}

/* The id of another mailbox of the account with special use su into
 * other: 1 found, 0 none, -1 error. Mailboxes in id order (the view's
 * key order), so the answer depends on the view alone. */
static int special_use_taken(struct mail_acct *a, const char *id, const char *su,
			     char other[MAIL_ID_LEN + 1], const char **error_r)
{
	json_t *ids = json_array(), *v, *m = NULL;
	size_t i;
	int r = 0;

	if (!a->provisioned) {
		json_array_foreach(a->virt, i, m) {
			if (strcmp(json_string_value(json_object_get(m, "id")), id) != 0 &&
			    strcmp(json_string_value(json_object_get(m, "special_use")), su) == 0) {
				snprintf(other, MAIL_ID_LEN + 1, "%s", json_string_value(json_object_get(m, "id")));
				r = 1;
				break;
			}
		}
		json_decref(ids);
		return r;
	}
	mail_key(&a->key, a->address, MAIL_K_MBOX, NULL);
	if (mail_batch_names(a->ctx->batch, &a->key, ids, error_r) < 0) {
		json_decref(ids);
		return -1;
	}
	json_array_foreach(ids, i, v) {
		const char *s;

		if (strcmp(json_string_value(v), id) == 0)
			continue;
		if ((r = mail_mbox_get(a, json_string_value(v), &m, error_r)) <= 0) {
			if (r == 0)
				*error_r = MAIL_CORRUPT;
			r = -1;
			break;
		}
		s = json_string_value(json_object_get(m, "special_use"));
		r = s != NULL && strcmp(s, su) == 0;
		json_decref(m);
		m = NULL;
		if (r) {
			snprintf(other, MAIL_ID_LEN + 1, "%s", json_string_value(v));
			break;
		}
	}
	json_decref(ids);
	return r;
}

/* mailbox.update {mailbox_id, special_use?, sort_order?}: at least one of
 * the two. A special use other than "" is one mailbox's at most (RFC 8621
 * 2: no two mailboxes share a role): "exists" otherwise; INBOX keeps none
 * (its role is "inbox"). sort_order 0 is stored as absent. */
enum apply_status mail_apply_mailbox_update(struct apply_ctx *ctx, const char **error_r)
{
	json_t *jsu = json_object_get(ctx->ev->data, "special_use");
	json_t *jso = json_object_get(ctx->ev->data, "sort_order");
	const char *id, *su = NULL, *name, *cur, *error = NULL;
	char other[MAIL_ID_LEN + 1];
	int64_t sort = -1, old_sort;
	struct mail_acct a;
	enum apply_status st;
	json_t *mbox = NULL;
	int r, changed = 0;

	if ((id = mail_field_id(ctx, "mailbox_id")) == NULL)
		return APPLY_REJECTED;
	if (jsu == NULL && jso == NULL)
		return apply_reject(ctx, "invalid", "nothing to update: special_use or sort_order expected");
	if (jsu != NULL && ((su = evm_data_str(ctx->ev, "special_use", 16, &error)) == NULL ||
			    !mail_special_use_valid(su)))
		return apply_reject(ctx, "invalid", "special_use: %s",
				    error != NULL ? error : "not an RFC 6154 attribute we keep");
	if (jso != NULL && evm_data_int(ctx->ev, "sort_order", 0, UINT32_MAX, &sort, &error) < 0)
		return apply_reject(ctx, "invalid", "sort_order: %s", error);
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	if ((r = mail_mbox_get(&a, id, &mbox, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no mailbox %s", id);
		goto out;
	}
	if ((name = mail_rec_str(mbox, "name", error_r)) == NULL ||
	    (cur = mail_rec_str(mbox, "special_use", error_r)) == NULL)
		goto out;
	if (su != NULL && su[0] != '\0' && strcmp(name, "INBOX") == 0) {
		st = apply_reject(ctx, "invalid", "INBOX has no special use");
		goto out;
	}
	if (su != NULL && su[0] != '\0' && strcmp(su, cur) != 0) {
		if ((r = special_use_taken(&a, id, su, other, error_r)) != 0) {
			if (r > 0)
				st = apply_reject(ctx, "exists", "mailbox %s has the special use %s", other, su);
			goto out;
		}
	}
	old_sort = json_integer_value(json_object_get(mbox, "sort_order"));
	if (su != NULL && strcmp(su, cur) != 0) {
		json_object_set_new(mbox, "special_use", json_string(su));
		changed = 1;
	}
	if (sort >= 0 && sort != old_sort) {
		if (sort == 0)
			json_object_del(mbox, "sort_order");
		else
			json_object_set_new(mbox, "sort_order", json_integer(sort));
		changed = 1;
	}
	if (changed) {
		mail_acct_begin_write(&a);
		if (mail_mbox_put(&a, mbox, error_r) < 0)
			goto out;
	}
	mail_result(ctx, "mailbox_id", json_string(id));
	mail_result(ctx, "special_use", json_string(json_string_value(json_object_get(mbox, "special_use"))));
	mail_result(ctx, "sort_order", json_integer(json_integer_value(json_object_get(mbox, "sort_order"))));
	st = APPLY_ACCEPTED;
out:
	json_decref(mbox);
	mail_acct_close(&a);
	return st;
}

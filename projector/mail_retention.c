/* mail_retention - the mailbox.retention applier, the rule matching and
 * the save-date index reader (projector/retention.h). */
#include "projector/retention.h"
#include "projector/mail_internal.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

/* mailbox.retention {mailbox_id | name, max_age_ms?}: sets or clears the
 * mailbox's own rule in its record. Writes nothing when unchanged. */
enum apply_status mail_apply_mailbox_retention(struct apply_ctx *ctx, const char **error_r)
{
	json_t *jage = json_object_get(ctx->ev->data, "max_age_ms"), *mbox = NULL, *cur;
	const char *id = NULL, *error = NULL;
	char name[MAIL_MAILBOX_NAME_MAX + 1], byname[MAIL_ID_LEN + 1];
	int64_t age = -1;
	struct mail_acct a;
	enum apply_status st;
	int r, by_id = json_object_get(ctx->ev->data, "mailbox_id") != NULL;

	if (by_id == (json_object_get(ctx->ev->data, "name") != NULL))
		return apply_reject(ctx, "invalid", "exactly one of mailbox_id and name expected");
	if (by_id ? (id = mail_field_id(ctx, "mailbox_id")) == NULL : mail_field_name(ctx, "name", name) < 0)
		return APPLY_REJECTED;
	if (jage != NULL && !json_is_null(jage) &&
	    evm_data_int(ctx->ev, "max_age_ms", 0, RETENTION_MAX_MS, &age, &error) < 0)
		return apply_reject(ctx, "invalid", "max_age_ms: %s", error);
	memset(&a, 0, sizeof a);
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	if (!by_id) {
		if ((r = mail_mbox_by_name(&a, name, byname, error_r)) <= 0) {
			if (r == 0)
				st = apply_reject(ctx, "not-found", "no mailbox %s", name);
			goto out;
		}
		id = byname;
	}
	if ((r = mail_mbox_get(&a, id, &mbox, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no mailbox %s", id);
		goto out;
	}
	cur = json_object_get(mbox, "retention_ms");
	if (age >= 0 ? !json_is_integer(cur) || json_integer_value(cur) != age : cur != NULL) {
		if (age >= 0)
			json_object_set_new(mbox, "retention_ms", json_integer(age));
		else
			json_object_del(mbox, "retention_ms");
		mail_acct_begin_write(&a);
		mail_mbox_write(&a, mbox);
	}
	mail_result(ctx, "mailbox_id", json_string(id));
	mail_result(ctx, "max_age_ms", age >= 0 ? json_integer(age) : json_null());
	st = APPLY_ACCEPTED;
out:
	json_decref(mbox);
	mail_acct_close(&a);
	return st;
}

/* A rule of the tenant's set: its age, or -1 when unset or malformed. */
static int64_t tenant_rule(json_t *rules, const char *name)
{
	json_t *v = json_object_get(rules, name);

	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > RETENTION_MAX_MS)
		return -1;
	return json_integer_value(v);
}

int64_t retention_max_age(json_t *tenant_rules, json_t *mbox, const char **source_r)
{
	json_t *own = json_object_get(mbox, "retention_ms");
	const char *su = json_string_value(json_object_get(mbox, "special_use")), *source = "";
	const char *role = NULL;
	int64_t best = -1, v;

	if (json_is_integer(own) && json_integer_value(own) >= 0 && json_integer_value(own) <= RETENTION_MAX_MS) {
		if (source_r != NULL)
			*source_r = "mailbox";
		return json_integer_value(own);
	}
	/* RFC 6154 2: the special-use attributes of Trash and Junk. */
	if (su != NULL && strcmp(su, "\\Trash") == 0)
		role = "trash";
	else if (su != NULL && strcmp(su, "\\Junk") == 0)
		role = "junk";
	if (role != NULL && (v = tenant_rule(tenant_rules, role)) > 0) {
		best = v;
		source = role;
	}
	if ((v = tenant_rule(tenant_rules, "all")) > 0 && (best < 0 || v < best)) {
		best = v;
		source = "all";
	}
	if (source_r != NULL)
		*source_r = source;
	return best;
}

struct expired {
	uint32_t *uids;
	size_t max, n, plen;
	int64_t cutoff;
	int corrupt;
};

/* One sdat/ entry "<20 digits>/<10 digits>" after the prefix: stops at
 * the first one not older than the cutoff. */
static int expired_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct expired *x = vctx;
	int64_t saved;
	uint32_t uid;

	(void)val;
	(void)vlen;
	if (mail_key_num_uid(key + x->plen, klen - x->plen, &saved, &uid) < 0) {
		x->corrupt = 1;
		return 1;
	}
	if (saved >= x->cutoff)
		return 1;
	x->uids[x->n++] = uid;
	return x->n >= x->max;
}

int retention_expired(struct view *view, const char *account, const char *mailbox_id, int64_t cutoff_ms,
		      uint32_t *uids, size_t max, size_t *n_r, const char **error_r)
{
	struct expired x = { uids, max > RETENTION_UIDS_MAX ? RETENTION_UIDS_MAX : max, 0, 0, cutoff_ms, 0 };
	struct buf key = BUF_INIT;
	int ret = 0;

	*n_r = 0;
	if (x.max == 0 || strchr(mailbox_id, '/') != NULL)
		return 0;
	mail_key(&key, account, MAIL_K_SDAT, mailbox_id);
	buf_append(&key, "/", 1);
	x.plen = key.len;
	if (view_scan(view, key.data, key.len, expired_cb, &x, error_r) < 0) {
		ret = -1;
	} else if (x.corrupt) {
		log_error("retention: a save-date index entry of %s/%s is malformed", account, mailbox_id);
		*error_r = MAIL_CORRUPT;
		ret = -1;
	}
	buf_free(&key);
	*n_r = x.n;
	return ret;
}

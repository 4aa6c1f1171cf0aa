/* mail_read - the read API of projector/mail.h over the committed view.
 *
 * Account addresses are normalised first; an address, id or name that
 * cannot be valid is simply not found. mail_mailboxes is a listing (0 or
 * -1, sorted by name); the other calls return 1 found, 0 not found (for
 * mail_messages and mail_vanished: the mailbox), -1 error. Reads are not
 * one snapshot: a listing reads each record as it is at that moment. */
#include "projector/mail_internal.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <stdlib.h>
#include <string.h>

/* The account in normal form: 0, or -1 when it cannot be an address. */
static int norm_account(const char *account, char out[EVM_ADDRESS_MAX + 1])
{
	const char *ignored;

	return account != NULL && evm_address_normalize(account, out, &ignored) == 0 ? 0 : -1;
}

static int get_json(struct view *view, const struct buf *key, json_t **obj_r, const char **error_r)
{
	char *val = NULL;
	size_t vlen = 0;
	json_t *obj;
	int r;

	*obj_r = NULL;
	r = view_get(view, key->data, key->len, &val, &vlen, error_r);
	if (r <= 0)
		return r;
	obj = evm_json_loadb(val, vlen, 0, NULL);
	free(val);
	if (!json_is_object(obj)) {
		json_decref(obj);
		log_error("mail: record %s in the view is not a JSON object", key->data);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	*obj_r = obj;
	return 1;
}

static int exists(struct view *view, const struct buf *key, const char **error_r)
{
	char *val = NULL;
	int r = view_get(view, key->data, key->len, &val, NULL, error_r);

	free(val);
	return r;
}

/* Scan state: JSON records, or key suffixes. */
struct scan {
	json_t *list;
	size_t plen;
	int names;
	int corrupt;
};

static int scan_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct scan *s = vctx;
	json_t *obj;

	if (s->names) {
		json_t *pair = json_pack("[s%, s%]", key + s->plen, klen - s->plen, val, vlen);

		if (pair == NULL) {
			s->corrupt = 1;
			return 1;
		}
		json_array_append_new(s->list, pair);
		return 0;
	}
	obj = evm_json_loadb(val, vlen, 0, NULL);
	if (!json_is_object(obj)) {
		json_decref(obj);
		s->corrupt = 1;
		return 1;
	}
	json_array_append_new(s->list, obj);
	return 0;
}

/* Records (names = 0) or [suffix, value] pairs under prefix. */
static int scan_into(struct view *view, const struct buf *prefix, int names, json_t *list,
		     const char **error_r)
{
	struct scan s = { list, prefix->len, names, 0 };

	if (view_scan(view, prefix->data, prefix->len, scan_cb, &s, error_r) < 0)
		return -1;
	if (s.corrupt) {
		log_error("mail: a record under %s is corrupt", prefix->data);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	return 0;
}

static int is_subscribed(struct view *view, const char *acct, json_t *mbox, const char **error_r)
{
	struct buf key = BUF_INIT;
	int r;

	mail_key(&key, acct, MAIL_K_SUB, json_string_value(json_object_get(mbox, "name")));
	r = exists(view, &key, error_r);
	buf_free(&key);
	if (r >= 0)
		json_object_set_new(mbox, "subscribed", json_boolean(r));
	return r;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
		      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

int mail_mailboxes(struct view *view, const char *account, json_t **list_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct buf key = BUF_INIT;
	json_t *list = json_array(), *subs = json_array(), *m, **v;
	size_t i, n;

	*list_r = NULL;
	if (norm_account(account, acct) < 0) {
		*list_r = list;
		json_decref(subs);
		return 0;
	}
	mail_key(&key, acct, MAIL_K_MBOX, NULL);
	if (scan_into(view, &key, 0, list, error_r) < 0)
		goto fail;
	mail_key(&key, acct, MAIL_K_SUB, NULL);
	if (scan_into(view, &key, 1, subs, error_r) < 0)
		goto fail;
	json_array_foreach(list, i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));
		size_t j;
		json_t *s;
		int sub = 0;

		if (name == NULL) {
			*error_r = MAIL_CORRUPT;
			goto fail;
		}
		json_array_foreach(subs, j, s) {
			if (strcmp(json_string_value(json_array_get(s, 0)), name) == 0)
				sub = 1;
		}
		json_object_set_new(m, "subscribed", json_boolean(sub));
	}
	n = json_array_size(list);
	v = xcalloc(n + 1, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(list, i));
	qsort(v, n, sizeof *v, cmp_name);
	json_array_clear(list);
	for (i = 0; i < n; i++)
		json_array_append_new(list, v[i]);
	free(v);
	buf_free(&key);
	json_decref(subs);
	*list_r = list;
	return 0;
fail:
	buf_free(&key);
	json_decref(subs);
	json_decref(list);
	return -1;
}

/* The record of mailbox_id into *mailbox_r, acct its normalised account. */
static int mailbox_record(struct view *view, const char *account, const char *mailbox_id,
			  char acct[EVM_ADDRESS_MAX + 1], json_t **mailbox_r, const char **error_r)
{
	struct buf key = BUF_INIT;
	int r;

	*mailbox_r = NULL;
	if (norm_account(account, acct) < 0 || mailbox_id == NULL || !mail_hex_valid(mailbox_id, MAIL_ID_LEN))
		return 0;
	mail_key(&key, acct, MAIL_K_MBOX, mailbox_id);
	r = get_json(view, &key, mailbox_r, error_r);
	buf_free(&key);
	return r;
}

int mail_mailbox_record(struct view *view, const char *account, const char *mailbox_id,
			json_t **mailbox_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];

	return mailbox_record(view, account, mailbox_id, acct, mailbox_r, error_r);
}

int mail_mailbox_get(struct view *view, const char *account, const char *mailbox_id,
		     json_t **mailbox_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	int r = mailbox_record(view, account, mailbox_id, acct, mailbox_r, error_r);

	if (r == 1 && is_subscribed(view, acct, *mailbox_r, error_r) < 0) {
		json_decref(*mailbox_r);
		*mailbox_r = NULL;
		return -1;
	}
	return r;
}

int mail_mailbox_by_name(struct view *view, const char *account, const char *name,
			 json_t **mailbox_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1], canon[MAIL_MAILBOX_NAME_MAX + 1];
	const char *ignored;
	struct buf key = BUF_INIT;
	char *val = NULL;
	size_t vlen = 0;
	int r;

	*mailbox_r = NULL;
	if (norm_account(account, acct) < 0 || name == NULL || mail_name_canonical(name, canon, &ignored) < 0)
		return 0;
	mail_key(&key, acct, MAIL_K_NAME, canon);
	r = view_get(view, key.data, key.len, &val, &vlen, error_r);
	buf_free(&key);
	if (r <= 0)
		return r;
	r = mail_mailbox_get(view, acct, val, mailbox_r, error_r);
	free(val);
	return r;
}

/* The messages of a mailbox with uid >= uid_min, appended to list. */
static int messages_filtered(struct view *view, const char *acct, const char *mailbox_id,
			     uint32_t uid_min, json_t *list, const char **error_r)
{
	struct buf key = BUF_INIT;
	json_t *all = json_array(), *m;
	size_t i;
	int r;

	mail_key_uid(&key, acct, MAIL_K_MSG, mailbox_id, 0);
	r = scan_into(view, &key, 0, all, error_r);
	buf_free(&key);
	if (r == 0) {
		json_array_foreach(all, i, m) {
			if (json_integer_value(json_object_get(m, "uid")) >= (json_int_t)uid_min)
				json_array_append(list, m);
		}
	}
	json_decref(all);
	return r;
}

int mail_messages(struct view *view, const char *account, const char *mailbox_id,
		  uint32_t uid_min, json_t **list_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	json_t *mbox = NULL, *list;
	int r;

	*list_r = NULL;
	if ((r = mail_mailbox_get(view, account, mailbox_id, &mbox, error_r)) <= 0)
		return r;
	json_decref(mbox);
	norm_account(account, acct);
	list = json_array();
	if (messages_filtered(view, acct, mailbox_id, uid_min, list, error_r) < 0) {
		json_decref(list);
		return -1;
	}
	*list_r = list;
	return 1;
}

int mail_message_get(struct view *view, const char *account, const char *mailbox_id,
		     uint32_t uid, json_t **message_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct buf key = BUF_INIT;
	int r;

	*message_r = NULL;
	if (norm_account(account, acct) < 0 || mailbox_id == NULL ||
	    !mail_hex_valid(mailbox_id, MAIL_ID_LEN) || uid == 0)
		return 0;
	mail_key_uid(&key, acct, MAIL_K_MSG, mailbox_id, uid);
	r = get_json(view, &key, message_r, error_r);
	buf_free(&key);
	return r;
}

int mail_summary_get(struct view *view, const char *account, const char *email_id,
		     json_t **summary_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct buf key = BUF_INIT;
	int r;

	*summary_r = NULL;
	if (norm_account(account, acct) < 0 || email_id == NULL || !mail_hex_valid(email_id, MAIL_ID_LEN))
		return 0;
	mail_key(&key, acct, MAIL_K_EMAIL, email_id);
	r = get_json(view, &key, summary_r, error_r);
	buf_free(&key);
	return r;
}

int mail_account_usage(struct view *view, const char *account, json_t **usage_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct buf key = BUF_INIT;
	int r;

	*usage_r = NULL;
	if (norm_account(account, acct) < 0)
		return 0;
	mail_key(&key, acct, MAIL_K_USAGE, NULL);
	r = get_json(view, &key, usage_r, error_r);
	buf_free(&key);
	return r;
}

/* The subscribed names, existing or not (RFC 5258 \NonExistent). */
int mail_subscriptions(struct view *view, const char *account, json_t **names_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct buf key = BUF_INIT;
	json_t *subs = json_array(), *p;
	size_t i;
	int r;

	*names_r = json_array();
	if (norm_account(account, acct) < 0) {
		json_decref(subs);
		return 0;
	}
	mail_key(&key, acct, MAIL_K_SUB, NULL);
	r = scan_into(view, &key, 1, subs, error_r);
	buf_free(&key);
	if (r == 0) {
		json_array_foreach(subs, i, p)
			json_array_append(*names_r, json_array_get(p, 0));
	}
	json_decref(subs);
	return r;
}

/* The quota of the account's mail state (bytes, 0 = unlimited). */
int mail_account_quota(struct view *view, const char *account, uint64_t *quota_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1], *val = NULL, *end;
	struct buf key = BUF_INIT;
	long long quota;
	int r;

	*quota_r = 0;
	if (norm_account(account, acct) < 0)
		return 0;
	mail_key(&key, acct, MAIL_K_QUOTA, NULL);
	r = view_get(view, key.data, key.len, &val, NULL, error_r);
	buf_free(&key);
	if (r <= 0)
		return r;
	quota = strtoll(val, &end, 10);
	if (*end == '\0' && end != val && quota > 0)
		*quota_r = (uint64_t)quota;
	free(val);
	return 1;
}

int mail_over_quota(struct view *view, const char *account, uint64_t size, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1], *val = NULL, *end;
	struct buf key = BUF_INIT;
	json_t *usage = NULL;
	long long quota;
	uint64_t used;
	int r;

	if (norm_account(account, acct) < 0)
		return 0;
	mail_key(&key, acct, MAIL_K_QUOTA, NULL);
	r = view_get(view, key.data, key.len, &val, NULL, error_r);
	buf_free(&key);
	if (r <= 0)
		return r;
	quota = strtoll(val, &end, 10);
	r = *end == '\0' && end != val && quota > 0;
	free(val);
	if (!r)
		return 0;
	mail_key(&key, acct, MAIL_K_USAGE, NULL);
	r = get_json(view, &key, &usage, error_r);
	buf_free(&key);
	if (r < 0)
		return -1;
	used = r > 0 ? (uint64_t)json_integer_value(json_object_get(usage, "quota_used")) : 0;
	json_decref(usage);
	return used + size > (uint64_t)quota;
}

int mail_vanished(struct view *view, const char *account, const char *mailbox_id,
		  uint64_t since, json_t **ranges_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct buf key = BUF_INIT;
	json_t *mbox = NULL, *pairs = json_array(), *p;
	uint32_t *uids;
	size_t i, n = 0;
	int r;

	*ranges_r = NULL;
	if ((r = mail_mailbox_get(view, account, mailbox_id, &mbox, error_r)) <= 0) {
		json_decref(pairs);
		return r;
	}
	json_decref(mbox);
	norm_account(account, acct);
	mail_key_uid(&key, acct, MAIL_K_GONE, mailbox_id, 0);
	r = scan_into(view, &key, 1, pairs, error_r);
	buf_free(&key);
	if (r < 0) {
		json_decref(pairs);
		return -1;
	}
	uids = xcalloc(json_array_size(pairs) + 1, sizeof *uids);
	json_array_foreach(pairs, i, p) {
		unsigned long long uid = strtoull(json_string_value(json_array_get(p, 0)), NULL, 10);
		unsigned long long modseq = strtoull(json_string_value(json_array_get(p, 1)), NULL, 10);

		if (modseq > since)
			uids[n++] = (uint32_t)uid;
	}
	*ranges_r = mail_ranges(uids, n);
	free(uids);
	json_decref(pairs);
	return 1;
}

int mail_message_body(struct view *view, const char *account, const char *mailbox_id,
		      uint32_t uid, char **data_r, size_t *len_r, const char **error_r)
{
	json_t *msg = NULL;
	int r;

	*data_r = NULL;
	*len_r = 0;
	if ((r = mail_message_get(view, account, mailbox_id, uid, &msg, error_r)) <= 0)
		return r;
	r = mail_message_body_rec(view, msg, data_r, len_r, error_r);
	json_decref(msg);
	return r;
}

int mail_message_body_rec(struct view *view, json_t *msg, char **data_r, size_t *len_r, const char **error_r)
{
	const char *blob_id, *prefix;
	char *blob = NULL, *out;
	size_t blen = 0, plen;
	int r;

	*data_r = NULL;
	*len_r = 0;
	if ((blob_id = mail_rec_str(msg, "blob_id", error_r)) == NULL ||
	    (prefix = mail_rec_str(msg, "prefix", error_r)) == NULL)
		return -1;
	if ((r = mail_blob_read(view, blob_id, &blob, &blen, error_r)) <= 0)
		return r;
	plen = strlen(prefix);
	out = xmalloc(plen + blen + 1);
	memcpy(out, prefix, plen);
	memcpy(out + plen, blob, blen);
	out[plen + blen] = '\0';
	free(blob);
	*data_r = out;
	*len_r = plen + blen;
	return 1;
}

/* mail_meta - appliers of mailbox.metadata (RFC 5464 METADATA) and
 * mailbox.urlauth_key (RFC 4467 mailbox access keys), their cleanup when a
 * mailbox is deleted, and their read API (projector/mail.h). */
#include "projector/mail_internal.h"
#include "common/base64.h"
#include "common/scram.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The owner component of meta/ and ukey/ keys: a mailbox id, or
 * MAIL_META_SERVER for "" (the server's entries / the account key). */
static const char *owner_of(const char *mailbox_id)
{
	return mailbox_id[0] == '\0' ? MAIL_META_SERVER : mailbox_id;
}

int mail_meta_entry_valid(const char *name, size_t len)
{
	size_t i;

	/* RFC 5464 3.2: "/private/..." or "/shared/..." with at least one
	 * more component; no '*' or '%', no "//", no trailing '/'. */
	if (len > MAIL_META_NAME_MAX || name[len] != '\0')
		return 0;
	if (strncmp(name, "/private/", 9) != 0 && strncmp(name, "/shared/", 8) != 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c >= 0x7f || c == '*' || c == '%' || isupper(c))
			return 0;
		if (c == '/' && (i + 1 == len || name[i + 1] == '/'))
			return 0;
	}
	return 1;
}

/* The "mailbox_id" field: 32 hex digits or "" (server). NULL if rejected. */
static const char *field_owner(struct apply_ctx *ctx)
{
	json_t *v = json_object_get(ctx->ev->data, "mailbox_id");

	if (json_is_string(v) && json_string_length(v) == 0)
		return "";
	return mail_field_id(ctx, "mailbox_id");
}

/* 1 when the mailbox exists (or id is "", the server), 0 after rejecting
 * "not-found", -1 on a view error. */
static int owner_exists(struct mail_acct *a, const char *id, const char **error_r)
{
	json_t *mbox = NULL;
	int r;

	if (id[0] == '\0')
		return 1;
	if ((r = mail_mbox_get(a, id, &mbox, error_r)) == 0)
		apply_reject(a->ctx, "not-found", "no mailbox %s", id);
	json_decref(mbox);
	return r;
}

/* Validates entries {name: base64 | null}: 0, or -1 (rejected). */
static int check_entries(struct apply_ctx *ctx, json_t *entries)
{
	const char *name;
	json_t *v;

	if (!json_is_object(entries) || json_object_size(entries) == 0 ||
	    json_object_size(entries) > MAIL_META_SET_MAX) {
		apply_reject(ctx, "invalid", "entries: an object of 1..%d entries", MAIL_META_SET_MAX);
		return -1;
	}
	json_object_foreach(entries, name, v) {
		if (!mail_meta_entry_valid(name, strlen(name))) {
			apply_reject(ctx, "invalid", "entries: bad entry name");
			return -1;
		}
		if (json_is_null(v))
			continue;
		if (!json_is_string(v) || json_string_length(v) > (MAIL_META_VALUE_MAX + 2) / 3 * 4) {
			apply_reject(ctx, "invalid", "entries: value over the maxsize %d", MAIL_META_VALUE_MAX);
			return -1;
		}
	}
	return 0;
}

/* mailbox.metadata {mailbox_id | "", entries}: sets (base64 value) or
 * removes (null) entries, all or none (RFC 5464 4.3). Rejected "quota"
 * when the mailbox would hold more than MAIL_META_ENTRIES_MAX entries
 * (RFC 5464 4.3 TOOMANY), "invalid" when a value is over
 * MAIL_META_VALUE_MAX octets (MAXSIZE). Entry names are stored lower-case
 * (RFC 5464 3.2: case-insensitive); the writer lower-cases them. */
enum apply_status mail_apply_metadata(struct apply_ctx *ctx, const char **error_r)
{
	json_t *entries = json_object_get(ctx->ev->data, "entries"), *names = json_array(), *v, *n;
	const char *id, *name;
	unsigned char *bytes = NULL;
	struct mail_acct a;
	enum apply_status st;
	size_t count, blen;
	int r;

	if ((id = field_owner(ctx)) == NULL || check_entries(ctx, entries) < 0) {
		json_decref(names);
		return APPLY_REJECTED;
	}
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	if ((r = owner_exists(&a, id, error_r)) <= 0) {
		if (r == 0)
			st = APPLY_REJECTED;
		goto out;
	}
	mail_key(&a.key, a.address, MAIL_K_META, owner_of(id));
	buf_puts(&a.key, "/");
	if (mail_batch_names(ctx->batch, &a.key, names, error_r) < 0)
		goto out;
	/* the count after the change: names sorted, so a lookup per entry */
	count = json_array_size(names);
	json_object_foreach(entries, name, v) {
		int present = 0;
		size_t i;

		json_array_foreach(names, i, n) {
			present |= strcmp(json_string_value(n), name) == 0;
		}
		if (json_is_null(v) && present)
			count--;
		else if (!json_is_null(v) && !present)
			count++;
	}
	if (count > MAIL_META_ENTRIES_MAX) {
		st = apply_reject(ctx, "quota", "toomany: at most %d entries per mailbox", MAIL_META_ENTRIES_MAX);
		goto out;
	}
	bytes = xmalloc(MAIL_META_VALUE_MAX + 3);
	json_object_foreach(entries, name, v) {
		if (json_is_null(v))
			continue;
		if (evm_b64_decode(json_string_value(v), json_string_length(v), bytes, &blen) < 0 ||
		    blen > MAIL_META_VALUE_MAX) {
			st = apply_reject(ctx, "invalid", "entries: not base64 of at most %d octets",
					  MAIL_META_VALUE_MAX);
			goto out;
		}
	}
	mail_acct_begin_write(&a);
	json_object_foreach(entries, name, v) {
		mail_key(&a.key, a.address, MAIL_K_META, owner_of(id));
		buf_printf(&a.key, "/%s", name);
		if (json_is_null(v)) {
			mail_batch_delete(ctx->batch, &a.key);
			continue;
		}
		evm_b64_decode(json_string_value(v), json_string_length(v), bytes, &blen);
		view_batch_put(ctx->batch, a.key.data, a.key.len, bytes, blen);
	}
	apply_changed(ctx, a.address);
	mail_result(ctx, "mailbox_id", json_string(id));
	mail_result(ctx, "entries", json_integer((json_int_t)count));
	st = APPLY_ACCEPTED;
out:
	free(bytes);
	json_decref(names);
	mail_acct_close(&a);
	return st;
}

/* Deletes every key under mail/<acct>/<kind><owner>[/] (prefix: "/" for
 * meta/, "" for the single ukey/ record). */
static int drop_under(struct mail_acct *a, const char *kind, const char *owner, const char **error_r)
{
	json_t *names = json_array(), *v;
	size_t i;

	mail_key(&a->key, a->address, kind, owner);
	buf_puts(&a->key, "/");
	if (mail_batch_names(a->ctx->batch, &a->key, names, error_r) < 0) {
		json_decref(names);
		return -1;
	}
	json_array_foreach(names, i, v) {
		mail_key(&a->key, a->address, kind, owner);
		buf_printf(&a->key, "/%s", json_string_value(v));
		mail_batch_delete(a->ctx->batch, &a->key);
	}
	json_decref(names);
	return 0;
}

int mail_meta_drop_mailbox(struct mail_acct *a, const char *mailbox_id, const char **error_r)
{
	/* RFC 5464 3.2: a deleted mailbox's metadata goes with it; RFC 4467
	 * 3: so does its access key (a new mailbox gets a new id). */
	if (drop_under(a, MAIL_K_META, mailbox_id, error_r) < 0)
		return -1;
	mail_key(&a->key, a->address, MAIL_K_UKEY, mailbox_id);
	mail_batch_delete(a->ctx->batch, &a->key);
	return 0;
}

/* mailbox.urlauth_key {mailbox_id | "", key (64 hex)}: the mailbox's
 * access key (RFC 4467 3, RESETKEY mailbox), or with "" the account's base
 * key, which also drops every mailbox's own key (RESETKEY). The key comes
 * from the writer's RAND_bytes: the log holds it. */
enum apply_status mail_apply_urlauth_key(struct apply_ctx *ctx, const char **error_r)
{
	const char *id, *key, *error = NULL;
	json_t *names = json_array(), *v;
	struct mail_acct a;
	enum apply_status st;
	size_t i;
	int r;

	if ((id = field_owner(ctx)) == NULL) {
		json_decref(names);
		return APPLY_REJECTED;
	}
	if ((key = evm_data_str(ctx->ev, "key", 64, &error)) == NULL || strlen(key) != 64 ||
	    !mail_hex_valid(key, 64)) {
		json_decref(names);
		return apply_reject(ctx, "invalid", "key: 64 hex digits expected%s%s", error ? ": " : "",
				    error ? error : "");
	}
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		goto out;
	st = APPLY_FAILED;
	if ((r = owner_exists(&a, id, error_r)) <= 0) {
		if (r == 0)
			st = APPLY_REJECTED;
		goto out;
	}
	if (id[0] == '\0') {
		mail_key(&a.key, a.address, MAIL_K_UKEY, NULL);
		if (mail_batch_names(ctx->batch, &a.key, names, error_r) < 0)
			goto out;
	}
	mail_acct_begin_write(&a);
	json_array_foreach(names, i, v) {
		mail_key(&a.key, a.address, MAIL_K_UKEY, json_string_value(v));
		mail_batch_delete(ctx->batch, &a.key);
	}
	mail_key(&a.key, a.address, MAIL_K_UKEY, owner_of(id));
	mail_batch_put_str(ctx->batch, &a.key, key);
	apply_changed(ctx, a.address);
	mail_result(ctx, "mailbox_id", json_string(id));
	st = APPLY_ACCEPTED;
out:
	json_decref(names);
	mail_acct_close(&a);
	return st;
}

/* ---- read API ---- */

/* Sets key to mail/<acct>/meta/<owner>/ (+ entry); -1 for a bad account. */
static int meta_key(struct buf *key, const char *account, const char *mailbox_id, const char *entry)
{
	char acct[EVM_ADDRESS_MAX + 1];
	const char *ignored;

	if (account == NULL || evm_address_normalize(account, acct, &ignored) < 0)
		return -1;
	mail_key(key, acct, MAIL_K_META, owner_of(mailbox_id));
	buf_puts(key, "/");
	if (entry != NULL)
		buf_puts(key, entry);
	return 0;
}

int mail_metadata_get(struct view *view, const char *account, const char *mailbox_id,
		      const char *entry, char **val_r, size_t *len_r, const char **error_r)
{
	struct buf key = BUF_INIT;
	int r = 0;

	*val_r = NULL;
	*len_r = 0;
	if (meta_key(&key, account, mailbox_id, entry) == 0)
		r = view_get(view, key.data, key.len, val_r, len_r, error_r);
	buf_free(&key);
	return r;
}

struct meta_names {
	json_t *names;
	size_t plen;
};

/* Collects the entry names (after the prefix). */
static int meta_names_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct meta_names *m = ctx;

	(void)val;
	(void)vlen;
	json_array_append_new(m->names, json_stringn(key + m->plen, klen - m->plen));
	return json_array_size(m->names) > MAIL_META_ENTRIES_MAX * 4;
}

int mail_metadata_names(struct view *view, const char *account, const char *mailbox_id,
			json_t **names_r, const char **error_r)
{
	struct buf key = BUF_INIT;
	struct meta_names m;
	int r = 0;

	*names_r = json_array();
	if (meta_key(&key, account, mailbox_id, NULL) == 0) {
		m.names = *names_r;
		m.plen = key.len;
		r = view_scan(view, key.data, key.len, meta_names_cb, &m, error_r);
	}
	buf_free(&key);
	return r;
}

int mail_urlauth_key(struct view *view, const char *account, const char *mailbox_id,
		     char hex_r[65], const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1], *val = NULL;
	struct buf key = BUF_INIT;
	size_t len = 0;
	const char *ignored;
	int r;

	hex_r[0] = '\0';
	if (account == NULL || evm_address_normalize(account, acct, &ignored) < 0)
		return 0;
	mail_key(&key, acct, MAIL_K_UKEY, owner_of(mailbox_id));
	r = view_get(view, key.data, key.len, &val, &len, error_r);
	buf_free(&key);
	if (r <= 0)
		return r;
	if (len != 64 || !mail_hex_valid(val, 64)) {
		free(val);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	memcpy(hex_r, val, 65);
	free(val);
	return 1;
}

/* directory_account - appliers of account.create, account.update and
 * account.remove, whose directory part account.erase shares (see
 * projector/directory.h for the rules). */
#include "projector/directory_internal.h"
#include "common/record_json.h"
#include "common/scram.h"

#include <string.h>

/* The optional scram_sha256 object of the event data, validated strictly
 * (common/scram.h): 0 with *rec_r (NULL when absent), or -1 (rejected). */
static int scram_field(struct apply_ctx *ctx, json_t **rec_r)
{
	json_t *rec = json_object_get(ctx->ev->data, "scram_sha256");
	const char *error = NULL;

	*rec_r = NULL;
	if (rec == NULL)
		return 0;
	if (evm_scram_record_parse(rec, NULL, NULL, NULL, NULL, NULL, &error) < 0) {
		apply_reject(ctx, "invalid", "scram_sha256: %s", error);
		return -1;
	}
	*rec_r = rec;
	return 0;
}

/* "name": and a string value, then a comma. */
static void member_str(struct buf *out, const char *name, const char *value)
{
	buf_puts(out, name);
	record_json_string(out, value, strlen(value));
	buf_puts(out, ",");
}

static void member_int(struct buf *out, const char *name, int64_t value)
{
	buf_puts(out, name);
	record_json_int(out, (json_int_t)value);
	buf_puts(out, ",");
}

/* The members in Jansson's sorted key order (bytewise: "display_name"
 * before "domain"); test_directory_record compares the bytes with
 * json_dumps of the json_pack'ed record. */
void dir_account_record(struct buf *out, const struct dir_account_fields *f, json_t *scram,
			const char *tenant, const char *domain, int64_t created, int64_t updated)
{
	buf_puts(out, "{");
	member_str(out, "\"address\":", f->address);
	member_int(out, "\"created\":", created);
	member_str(out, "\"display_name\":", f->display_name);
	member_str(out, "\"domain\":", domain);
	member_str(out, "\"password_hash\":", f->password_hash);
	member_int(out, "\"quota\":", f->quota);
	if (scram != NULL) {
		buf_puts(out, "\"scram_sha256\":");
		record_json_append(out, scram);
		buf_puts(out, ",");
	}
	member_str(out, "\"state\":", f->state);
	member_str(out, "\"tenant\":", tenant);
	buf_puts(out, "\"updated\":");
	record_json_int(out, (json_int_t)updated);
	buf_puts(out, "}");
}

/* Puts the account record under key. */
static void put_account(struct apply_ctx *ctx, const struct buf *key, const struct dir_account_fields *f,
			json_t *scram, const char *tenant, const char *domain, int64_t created)
{
	struct buf rec = BUF_INIT;

	buf_reserve(&rec, 256);
	dir_account_record(&rec, f, scram, tenant, domain, created, ctx->ev->ts);
	view_batch_put(ctx->batch, key->data, key->len, rec.data, rec.len);
	buf_free(&rec);
}

/* account.create: the domain must exist (it gives the tenant) and the
 * address be neither an account nor an alias. */
enum apply_status dir_apply_account_create(struct apply_ctx *ctx, const char **error_r)
{
	struct dir_account_fields f;
	struct buf key = BUF_INIT;
	enum apply_status st = APPLY_FAILED;
	const char *domain, *tenant;
	json_t *dom = NULL, *scram;
	int r;

	if (dir_account_fields(ctx, &f) < 0 || scram_field(ctx, &scram) < 0)
		return APPLY_REJECTED;
	domain = evm_address_domain(f.address);
	dir_key(&key, KEY_DOMAIN, domain, NULL);
	if ((r = dir_batch_get_json(ctx->batch, &key, &dom, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no domain %s", domain);
		goto out;
	}
	if ((tenant = dir_json_str(dom, "tenant", error_r)) == NULL)
		goto out;
	if (!dir_tenant_allowed(ctx, tenant)) {
		st = APPLY_REJECTED;
		goto out;
	}
	dir_key(&key, KEY_ACCOUNT, f.address, NULL);
	if ((r = dir_batch_exists(ctx->batch, &key, error_r)) != 0) {
		if (r > 0)
			st = apply_reject(ctx, "exists", "account %s exists", f.address);
		goto out;
	}
	dir_key(&key, KEY_ALIAS, f.address, NULL);
	if ((r = dir_batch_exists(ctx->batch, &key, error_r)) != 0) {
		if (r > 0)
			st = apply_reject(ctx, "exists", "%s is an alias", f.address);
		goto out;
	}
	dir_key(&key, KEY_ACCOUNT, f.address, NULL);
	put_account(ctx, &key, &f, scram, tenant, domain, ctx->ev->ts);
	dir_key(&key, KEY_DOMAIN_ACCOUNT, domain, f.address);
	dir_batch_put_empty(ctx->batch, &key);
	dir_result(ctx, "tenant", tenant, "address", f.address, (char *)NULL);
	apply_changed(ctx, f.address);
	st = APPLY_ACCEPTED;
out:
	json_decref(dom);
	buf_free(&key);
	return st;
}

/* account.update: the full new state of an existing account; tenant,
 * domain and creation time are kept. */
enum apply_status dir_apply_account_update(struct apply_ctx *ctx, const char **error_r)
{
	struct dir_account_fields f;
	struct buf key = BUF_INIT;
	enum apply_status st = APPLY_FAILED;
	const char *tenant, *domain;
	json_t *old = NULL, *created, *scram;
	int r;

	if (dir_account_fields(ctx, &f) < 0 || scram_field(ctx, &scram) < 0)
		return APPLY_REJECTED;
	dir_key(&key, KEY_ACCOUNT, f.address, NULL);
	if ((r = dir_batch_get_json(ctx->batch, &key, &old, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no account %s", f.address);
		goto out;
	}
	if ((tenant = dir_json_str(old, "tenant", error_r)) == NULL ||
	    (domain = dir_json_str(old, "domain", error_r)) == NULL)
		goto out;
	created = json_object_get(old, "created");
	if (!json_is_integer(created)) {
		*error_r = "corrupt directory record in the view";
		goto out;
	}
	if (!dir_tenant_allowed(ctx, tenant)) {
		st = APPLY_REJECTED;
		goto out;
	}
	put_account(ctx, &key, &f, scram, tenant, domain, json_integer_value(created));
	dir_result(ctx, "tenant", tenant, "address", f.address, (char *)NULL);
	apply_changed(ctx, f.address);
	st = APPLY_ACCEPTED;
out:
	json_decref(old);
	buf_free(&key);
	return st;
}

/* account.remove {address}: the account must exist. Aliases that name it
 * as a target are left alone (a target may be any address). */
enum apply_status dir_apply_account_remove(struct apply_ctx *ctx, const char **error_r)
{
	const char *address;

	if ((address = dir_field_address(ctx, "address")) == NULL)
		return APPLY_REJECTED;
	return dir_account_remove(ctx, address, error_r);
}

/* What account.remove (and account.erase) does to the directory. */
enum apply_status dir_account_remove(struct apply_ctx *ctx, const char *address, const char **error_r)
{
	struct buf key = BUF_INIT;
	enum apply_status st = APPLY_FAILED;
	const char *tenant, *domain;
	json_t *old = NULL;
	int r;

	dir_key(&key, KEY_ACCOUNT, address, NULL);
	if ((r = dir_batch_get_json(ctx->batch, &key, &old, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no account %s", address);
		goto out;
	}
	if ((tenant = dir_json_str(old, "tenant", error_r)) == NULL ||
	    (domain = dir_json_str(old, "domain", error_r)) == NULL)
		goto out;
	if (!dir_tenant_allowed(ctx, tenant)) {
		st = APPLY_REJECTED;
		goto out;
	}
	dir_batch_delete(ctx->batch, &key);
	dir_key(&key, KEY_DOMAIN_ACCOUNT, domain, address);
	dir_batch_delete(ctx->batch, &key);
	dir_result(ctx, "tenant", tenant, "address", address, (char *)NULL);
	apply_changed(ctx, address);
	st = APPLY_ACCEPTED;
out:
	json_decref(old);
	buf_free(&key);
	return st;
}

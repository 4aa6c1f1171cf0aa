/* directory_account - appliers of account.create, account.update and
 * account.remove, whose directory part account.erase shares (see
 * projector/directory.h for the rules). */
#include "projector/directory_internal.h"
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

/* The stored account record; created and updated are event times. */
static json_t *account_record(const struct dir_account_fields *f, json_t *scram, const char *tenant,
			      const char *domain, int64_t created, int64_t updated)
{
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I}",
				"address", f->address, "tenant", tenant, "domain", domain,
				"display_name", f->display_name, "quota", (json_int_t)f->quota,
				"state", f->state, "password_hash", f->password_hash,
				"created", (json_int_t)created, "updated", (json_int_t)updated);

	if (rec != NULL && scram != NULL)
		json_object_set_new(rec, "scram_sha256", json_deep_copy(scram));
	return rec;
}

/* account.create: the domain must exist (it gives the tenant) and the
 * address be neither an account nor an alias. */
enum apply_status dir_apply_account_create(struct apply_ctx *ctx, const char **error_r)
{
	struct dir_account_fields f;
	struct buf key = BUF_INIT;
	enum apply_status st = APPLY_FAILED;
	const char *domain, *tenant;
	json_t *dom = NULL, *rec, *scram;
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
	rec = account_record(&f, scram, tenant, domain, ctx->ev->ts, ctx->ev->ts);
	dir_key(&key, KEY_ACCOUNT, f.address, NULL);
	dir_batch_put_json(ctx->batch, &key, rec);
	json_decref(rec);
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
	json_t *old = NULL, *created, *rec, *scram;
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
	rec = account_record(&f, scram, tenant, domain, json_integer_value(created), ctx->ev->ts);
	dir_batch_put_json(ctx->batch, &key, rec);
	json_decref(rec);
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

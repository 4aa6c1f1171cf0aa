/* directory_tenant - appliers of tenant.create, tenant.delete, domain.add
 * and domain.remove (see projector/directory.h for the rules). */
#include "projector/directory_internal.h"

#include <string.h>

/* tenant.create {name}: the tenant must not exist. */
enum apply_status dir_apply_tenant_create(struct apply_ctx *ctx, const char **error_r)
{
	struct buf key = BUF_INIT;
	const char *name;
	json_t *obj;
	int r;

	if ((name = dir_field_tenant(ctx, "name")) == NULL)
		return APPLY_REJECTED;
	if (!dir_tenant_allowed(ctx, name))
		return APPLY_REJECTED;
	dir_key(&key, KEY_TENANT, name, NULL);
	if ((r = dir_batch_exists(ctx->batch, &key, error_r)) != 0) {
		buf_free(&key);
		return r < 0 ? APPLY_FAILED : apply_reject(ctx, "exists", "tenant %s exists", name);
	}
	obj = json_pack("{s:s, s:I}", "name", name, "created", (json_int_t)ctx->ev->ts);
	dir_batch_put_json(ctx->batch, &key, obj);
	json_decref(obj);
	buf_free(&key);
	dir_result(ctx, "tenant", name, (char *)NULL);
	return APPLY_ACCEPTED;
}

/* tenant.delete {name}: the tenant must exist and own no domain. */
enum apply_status dir_apply_tenant_delete(struct apply_ctx *ctx, const char **error_r)
{
	struct buf key = BUF_INIT, prefix = BUF_INIT;
	enum apply_status st = APPLY_FAILED;
	const char *name;
	int r;

	if ((name = dir_field_tenant(ctx, "name")) == NULL)
		return APPLY_REJECTED;
	if (!dir_tenant_allowed(ctx, name))
		return APPLY_REJECTED;
	dir_key(&key, KEY_TENANT, name, NULL);
	dir_key(&prefix, KEY_TENANT_DOMAIN, name, "");
	if ((r = dir_batch_exists(ctx->batch, &key, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no tenant %s", name);
		goto out;
	}
	if ((r = dir_batch_any(ctx->batch, &prefix, error_r)) != 0) {
		if (r > 0)
			st = apply_reject(ctx, "not-empty", "tenant %s still has domains", name);
		goto out;
	}
	dir_batch_delete(ctx->batch, &key);
	dir_result(ctx, "tenant", name, (char *)NULL);
	st = APPLY_ACCEPTED;
out:
	buf_free(&key);
	buf_free(&prefix);
	return st;
}

/* domain.add {domain, tenant}: the tenant must exist, the domain be free
 * (in any tenant). */
enum apply_status dir_apply_domain_add(struct apply_ctx *ctx, const char **error_r)
{
	struct buf key = BUF_INIT;
	enum apply_status st = APPLY_FAILED;
	const char *domain, *tenant;
	json_t *obj;
	int r;

	if ((domain = dir_field_domain(ctx, "domain")) == NULL ||
	    (tenant = dir_field_tenant(ctx, "tenant")) == NULL)
		return APPLY_REJECTED;
	if (!dir_tenant_allowed(ctx, tenant))
		return APPLY_REJECTED;
	dir_key(&key, KEY_TENANT, tenant, NULL);
	if ((r = dir_batch_exists(ctx->batch, &key, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no tenant %s", tenant);
		goto out;
	}
	dir_key(&key, KEY_DOMAIN, domain, NULL);
	if ((r = dir_batch_exists(ctx->batch, &key, error_r)) != 0) {
		if (r > 0)
			st = apply_reject(ctx, "exists", "domain %s exists", domain);
		goto out;
	}
	obj = json_pack("{s:s, s:s, s:I}", "domain", domain, "tenant", tenant,
			"created", (json_int_t)ctx->ev->ts);
	dir_batch_put_json(ctx->batch, &key, obj);
	json_decref(obj);
	dir_key(&key, KEY_TENANT_DOMAIN, tenant, domain);
	dir_batch_put_empty(ctx->batch, &key);
	dir_result(ctx, "tenant", tenant, "domain", domain, (char *)NULL);
	st = APPLY_ACCEPTED;
out:
	buf_free(&key);
	return st;
}

/* domain.remove {domain, tenant}: the domain must be the tenant's and have
 * no accounts and no aliases. A domain of another tenant is "not-found",
 * as if it did not exist. */
enum apply_status dir_apply_domain_remove(struct apply_ctx *ctx, const char **error_r)
{
	struct buf key = BUF_INIT;
	enum apply_status st = APPLY_FAILED;
	const char *domain, *tenant, *owner;
	json_t *obj = NULL;
	int r;

	if ((domain = dir_field_domain(ctx, "domain")) == NULL ||
	    (tenant = dir_field_tenant(ctx, "tenant")) == NULL)
		return APPLY_REJECTED;
	if (!dir_tenant_allowed(ctx, tenant))
		return APPLY_REJECTED;
	dir_key(&key, KEY_DOMAIN, domain, NULL);
	if ((r = dir_batch_get_json(ctx->batch, &key, &obj, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no domain %s", domain);
		goto out;
	}
	if ((owner = dir_json_str(obj, "tenant", error_r)) == NULL)
		goto out;
	if (strcmp(owner, tenant) != 0) {
		st = apply_reject(ctx, "not-found", "no domain %s in tenant %s", domain, tenant);
		goto out;
	}
	dir_key(&key, KEY_DOMAIN_ACCOUNT, domain, "");
	if ((r = dir_batch_any(ctx->batch, &key, error_r)) != 0) {
		if (r > 0)
			st = apply_reject(ctx, "not-empty", "domain %s still has accounts", domain);
		goto out;
	}
	dir_key(&key, KEY_DOMAIN_ALIAS, domain, "");
	if ((r = dir_batch_any(ctx->batch, &key, error_r)) != 0) {
		if (r > 0)
			st = apply_reject(ctx, "not-empty", "domain %s still has aliases", domain);
		goto out;
	}
	dir_key(&key, KEY_DKIM, domain, "");
	if ((r = dir_batch_any(ctx->batch, &key, error_r)) != 0) {
		if (r > 0)
			st = apply_reject(ctx, "not-empty", "domain %s still has DKIM keys", domain);
		goto out;
	}
	dir_key(&key, KEY_DOMAIN, domain, NULL);
	dir_batch_delete(ctx->batch, &key);
	dir_key(&key, KEY_TENANT_DOMAIN, tenant, domain);
	dir_batch_delete(ctx->batch, &key);
	dir_result(ctx, "tenant", tenant, "domain", domain, (char *)NULL);
	st = APPLY_ACCEPTED;
out:
	json_decref(obj);
	buf_free(&key);
	return st;
}

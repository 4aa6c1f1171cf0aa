/* directory_alias - appliers of alias.add and alias.remove (see
 * projector/directory.h for the rules). An alias record holds its targets
 * sorted by byte order, so its bytes depend only on the set. The alias
 * "@domain" is the domain's catch-all; otherwise it is an alias like any
 * other (same record, same index, same rules). */
#include "projector/directory_internal.h"

#include <string.h>

/* Validated data common to both appliers. */
struct alias_fields {
	const char *alias;
	const char *target;
	const char *domain;
};

/* The alias field: an address, or "@domain" (empty local part), the
 * domain's catch-all, which receives mail for every address of the domain
 * that is neither an account nor an alias. Both in normal form. */
static const char *alias_field(struct apply_ctx *ctx)
{
	char norm[EVM_DOMAIN_MAX + 1];
	const char *error = NULL;
	const char *s = evm_data_str(ctx->ev, "alias", EVM_ADDRESS_MAX, &error);

	if (s == NULL || s[0] != '@')
		return dir_field_address(ctx, "alias");
	if (evm_domain_normalize(s + 1, norm, &error) < 0) {
		apply_reject(ctx, "invalid", "alias: catch-all %s", error);
		return NULL;
	}
	if (strcmp(norm, s + 1) != 0) {
		apply_reject(ctx, "invalid", "alias: domain not in normal (lower-case) form");
		return NULL;
	}
	return s;
}

static int alias_fields(struct apply_ctx *ctx, struct alias_fields *f)
{
	if ((f->alias = alias_field(ctx)) == NULL ||
	    (f->target = dir_field_address(ctx, "target")) == NULL)
		return -1;
	f->domain = f->alias[0] == '@' ? f->alias + 1 : evm_address_domain(f->alias);
	return 0;
}

/* Index of target in the sorted array targets, or where it would go:
 * *found_r tells which. -1 when an element is not a string (corrupt). */
static int target_index(json_t *targets, const char *target, int *found_r)
{
	size_t i;
	json_t *v;

	*found_r = 0;
	json_array_foreach(targets, i, v) {
		const char *s = json_string_value(v);
		int c;

		if (s == NULL)
			return -1;
		c = strcmp(s, target);
		if (c == 0)
			*found_r = 1;
		if (c >= 0)
			return (int)i;
	}
	return (int)json_array_size(targets);
}

/* alias.add {alias, target}: the alias's domain must exist (it gives the
 * tenant), the alias must not be an account, and the target not already
 * one of its targets. */
enum apply_status dir_apply_alias_add(struct apply_ctx *ctx, const char **error_r)
{
	struct alias_fields f;
	struct buf key = BUF_INIT;
	enum apply_status st = APPLY_FAILED;
	const char *tenant;
	json_t *dom = NULL, *rec = NULL, *targets;
	int r, idx, found;

	if (alias_fields(ctx, &f) < 0)
		return APPLY_REJECTED;
	if (strcmp(f.alias, f.target) == 0)
		return apply_reject(ctx, "invalid", "alias %s cannot point at itself", f.alias);
	dir_key(&key, KEY_DOMAIN, f.domain, NULL);
	if ((r = dir_batch_get_json(ctx->batch, &key, &dom, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no domain %s", f.domain);
		goto out;
	}
	if ((tenant = dir_json_str(dom, "tenant", error_r)) == NULL)
		goto out;
	if (!dir_tenant_allowed(ctx, tenant)) {
		st = APPLY_REJECTED;
		goto out;
	}
	dir_key(&key, KEY_ACCOUNT, f.alias, NULL);
	if ((r = dir_batch_exists(ctx->batch, &key, error_r)) != 0) {
		if (r > 0)
			st = apply_reject(ctx, "exists", "%s is an account", f.alias);
		goto out;
	}
	dir_key(&key, KEY_ALIAS, f.alias, NULL);
	if ((r = dir_batch_get_json(ctx->batch, &key, &rec, error_r)) < 0)
		goto out;
	if (r == 0) {
		rec = json_pack("{s:s, s:s, s:s, s:[]}", "alias", f.alias, "tenant", tenant,
				"domain", f.domain, "targets");
	}
	targets = json_object_get(rec, "targets");
	if (!json_is_array(targets) || (idx = target_index(targets, f.target, &found)) < 0) {
		*error_r = "corrupt directory record in the view";
		goto out;
	}
	if (found) {
		st = apply_reject(ctx, "exists", "%s is already a target of %s", f.target, f.alias);
		goto out;
	}
	if (json_array_size(targets) >= DIR_ALIAS_TARGETS_MAX) {
		st = apply_reject(ctx, "quota", "alias %s has %d targets already", f.alias,
				  DIR_ALIAS_TARGETS_MAX);
		goto out;
	}
	json_array_insert_new(targets, (size_t)idx, json_string(f.target));
	dir_batch_put_json(ctx->batch, &key, rec);
	if (r == 0) {
		dir_key(&key, KEY_DOMAIN_ALIAS, f.domain, f.alias);
		dir_batch_put_empty(ctx->batch, &key);
	}
	dir_result(ctx, "tenant", tenant, "alias", f.alias, "target", f.target, (char *)NULL);
	/* The target's default identities changed: its push wakes. */
	apply_changed(ctx, f.target);
	st = APPLY_ACCEPTED;
out:
	json_decref(rec);
	json_decref(dom);
	buf_free(&key);
	return st;
}

/* alias.remove {alias, target}: the target must be one of the alias's;
 * removing the last target removes the alias. */
enum apply_status dir_apply_alias_remove(struct apply_ctx *ctx, const char **error_r)
{
	struct alias_fields f;
	struct buf key = BUF_INIT;
	enum apply_status st = APPLY_FAILED;
	const char *tenant;
	json_t *rec = NULL, *targets;
	int r, idx, found;

	if (alias_fields(ctx, &f) < 0)
		return APPLY_REJECTED;
	dir_key(&key, KEY_ALIAS, f.alias, NULL);
	if ((r = dir_batch_get_json(ctx->batch, &key, &rec, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no alias %s", f.alias);
		goto out;
	}
	if ((tenant = dir_json_str(rec, "tenant", error_r)) == NULL)
		goto out;
	if (!dir_tenant_allowed(ctx, tenant)) {
		st = APPLY_REJECTED;
		goto out;
	}
	targets = json_object_get(rec, "targets");
	if (!json_is_array(targets) || (idx = target_index(targets, f.target, &found)) < 0) {
		*error_r = "corrupt directory record in the view";
		goto out;
	}
	if (!found) {
		st = apply_reject(ctx, "not-found", "%s is not a target of %s", f.target, f.alias);
		goto out;
	}
	/* The result is set before the record changes: tenant points into it. */
	dir_result(ctx, "tenant", tenant, "alias", f.alias, "target", f.target, (char *)NULL);
	json_array_remove(targets, (size_t)idx);
	if (json_array_size(targets) == 0) {
		dir_batch_delete(ctx->batch, &key);
		dir_key(&key, KEY_DOMAIN_ALIAS, f.domain, f.alias);
		dir_batch_delete(ctx->batch, &key);
	} else {
		dir_batch_put_json(ctx->batch, &key, rec);
	}
	apply_changed(ctx, f.target);
	st = APPLY_ACCEPTED;
out:
	json_decref(rec);
	buf_free(&key);
	return st;
}

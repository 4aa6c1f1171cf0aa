/* directory_retention - the tenant.retention applier (projector/
 * retention.h): a tenant's retention rules, kept in its record. */
#include "projector/directory_internal.h"
#include "projector/retention.h"

#include <string.h>

/* The rules tenant.retention may carry, and their names in the record. */
static const struct {
	const char *field, *rule;
} retention_fields[] = {
	{ "trash_ms", "trash" },
	{ "junk_ms", "junk" },
	{ "all_ms", "all" },
};

/* tenant.retention {name, trash_ms?, junk_ms?, all_ms?}: replaces the
 * tenant's rule set (none given: cleared). Writes nothing when unchanged. */
enum apply_status dir_apply_tenant_retention(struct apply_ctx *ctx, const char **error_r)
{
	struct buf key = BUF_INIT;
	enum apply_status st = APPLY_FAILED;
	json_t *rules = json_object(), *obj = NULL, *cur;
	const char *name, *error = NULL;
	int r;

	if ((name = dir_field_tenant(ctx, "name")) == NULL) {
		st = APPLY_REJECTED;
		goto out;
	}
	for (size_t i = 0; i < sizeof retention_fields / sizeof retention_fields[0]; i++) {
		int64_t ms;

		if (json_object_get(ctx->ev->data, retention_fields[i].field) == NULL)
			continue;
		if (evm_data_int(ctx->ev, retention_fields[i].field, 1, RETENTION_MAX_MS, &ms, &error) < 0) {
			st = apply_reject(ctx, "invalid", "%s: %s", retention_fields[i].field, error);
			goto out;
		}
		json_object_set_new(rules, retention_fields[i].rule, json_integer(ms));
	}
	if (!dir_tenant_allowed(ctx, name)) {
		st = APPLY_REJECTED;
		goto out;
	}
	dir_key(&key, KEY_TENANT, name, NULL);
	if ((r = dir_batch_get_json(ctx->batch, &key, &obj, error_r)) <= 0) {
		if (r == 0)
			st = apply_reject(ctx, "not-found", "no tenant %s", name);
		goto out;
	}
	cur = json_object_get(obj, "retention");
	if (cur != NULL ? !json_equal(cur, rules) : json_object_size(rules) > 0) {
		if (json_object_size(rules) > 0)
			json_object_set(obj, "retention", rules);
		else
			json_object_del(obj, "retention");
		dir_batch_put_json(ctx->batch, &key, obj);
	}
	dir_result(ctx, "tenant", name, (char *)NULL);
	st = APPLY_ACCEPTED;
out:
	json_decref(rules);
	json_decref(obj);
	buf_free(&key);
	return st;
}

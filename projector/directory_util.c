/* directory_util - see directory_internal.h */
#include "projector/directory_internal.h"
#include "common/record_json.h"
#include "common/log.h"
#include "common/password.h"
#include "common/json_fast.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void dir_key(struct buf *k, const char *prefix, const char *a, const char *b)
{
	buf_truncate(k, 0);
	buf_puts(k, prefix);
	buf_puts(k, a);
	if (b != NULL) {
		buf_puts(k, "/");
		buf_puts(k, b);
	}
}

int dir_batch_get_json(struct view_batch *b, const struct buf *key, json_t **obj_r,
		       const char **error_r)
{
	char *val = NULL;
	size_t vlen = 0;
	json_t *obj;
	int r;

	*obj_r = NULL;
	r = view_batch_get(b, key->data, key->len, &val, &vlen, error_r);
	if (r <= 0)
		return r;
	obj = evm_json_loadb(val, vlen, 0, NULL);
	free(val);
	if (obj == NULL || !json_is_object(obj)) {
		json_decref(obj);
		log_error("directory: record %s in the view is not a JSON object", key->data);
		*error_r = "corrupt directory record in the view";
		return -1;
	}
	*obj_r = obj;
	return 1;
}

int dir_batch_exists(struct view_batch *b, const struct buf *key, const char **error_r)
{
	char *val = NULL;
	size_t vlen;
	int r = view_batch_get(b, key->data, key->len, &val, &vlen, error_r);

	free(val);
	return r;
}

static int any_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	*(int *)ctx = 1;
	return 1;
}

int dir_batch_any(struct view_batch *b, const struct buf *prefix, const char **error_r)
{
	int found = 0;

	if (view_batch_scan(b, prefix->data, prefix->len, any_cb, &found, error_r) < 0)
		return -1;
	return found;
}

/* The bytes of json_dumps(obj, DIR_JSON_FLAGS), see record_json.h. */
void dir_batch_put_json(struct view_batch *b, const struct buf *key, json_t *obj)
{
	struct buf s = BUF_INIT;

	buf_reserve(&s, 256);   /* most records: no regrowth */
	record_json_append(&s, obj);
	view_batch_put(b, key->data, key->len, s.data, s.len);
	buf_free(&s);
}

void dir_batch_put_empty(struct view_batch *b, const struct buf *key)
{
	view_batch_put(b, key->data, key->len, "", 0);
}

void dir_batch_delete(struct view_batch *b, const struct buf *key)
{
	view_batch_delete(b, key->data, key->len);
}

/* A string field no longer than max; NULL with an "invalid" rejection. */
static const char *field_str(struct apply_ctx *ctx, const char *field, size_t max)
{
	const char *error = NULL;
	const char *s = evm_data_str(ctx->ev, field, max, &error);

	if (s == NULL)
		apply_reject(ctx, "invalid", "%s: %s", field, error);
	return s;
}

const char *dir_field_tenant(struct apply_ctx *ctx, const char *field)
{
	const char *s = field_str(ctx, field, 63);

	if (s != NULL && !evm_tenant_name_valid(s)) {
		apply_reject(ctx, "invalid", "%s: not a valid tenant name", field);
		return NULL;
	}
	return s;
}

const char *dir_field_domain(struct apply_ctx *ctx, const char *field)
{
	char norm[EVM_DOMAIN_MAX + 1];
	const char *error = NULL;
	const char *s = field_str(ctx, field, EVM_DOMAIN_MAX);

	if (s == NULL)
		return NULL;
	if (evm_domain_normalize(s, norm, &error) < 0) {
		apply_reject(ctx, "invalid", "%s: %s", field, error);
		return NULL;
	}
	if (strcmp(norm, s) != 0) {
		apply_reject(ctx, "invalid", "%s: domain not in normal (lower-case) form", field);
		return NULL;
	}
	return s;
}

const char *dir_field_address(struct apply_ctx *ctx, const char *field)
{
	char norm[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;
	const char *s = field_str(ctx, field, EVM_ADDRESS_MAX);

	if (s == NULL)
		return NULL;
	if (evm_address_normalize(s, norm, &error) < 0) {
		apply_reject(ctx, "invalid", "%s: %s", field, error);
		return NULL;
	}
	if (strcmp(norm, s) != 0) {
		apply_reject(ctx, "invalid", "%s: address not in normal (lower-case) form", field);
		return NULL;
	}
	return s;
}

/* Display names are text for humans: any UTF-8 (Jansson has checked the
 * encoding) but no control characters. */
static int display_name_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	}
	return 1;
}

int dir_account_fields(struct apply_ctx *ctx, struct dir_account_fields *f)
{
	const char *address, *error = NULL;

	memset(f, 0, sizeof *f);
	if ((address = dir_field_address(ctx, "address")) == NULL)
		return -1;
	snprintf(f->address, sizeof f->address, "%s", address);
	if ((f->display_name = field_str(ctx, "display_name", DIR_DISPLAY_NAME_MAX)) == NULL)
		return -1;
	if (!display_name_ok(f->display_name)) {
		apply_reject(ctx, "invalid", "display_name: contains control characters");
		return -1;
	}
	if (evm_data_int(ctx->ev, "quota", 0, INT64_MAX, &f->quota, &error) < 0) {
		apply_reject(ctx, "invalid", "quota: %s", error);
		return -1;
	}
	if ((f->state = field_str(ctx, "state", 16)) == NULL)
		return -1;
	if (strcmp(f->state, "active") != 0 && strcmp(f->state, "disabled") != 0) {
		apply_reject(ctx, "invalid", "state: must be \"active\" or \"disabled\"");
		return -1;
	}
	if ((f->password_hash = field_str(ctx, "password_hash", 512)) == NULL)
		return -1;
	if (!evm_password_hash_valid(f->password_hash)) {
		apply_reject(ctx, "invalid", "password_hash: not a crypt(3) hash we accept");
		return -1;
	}
	return 0;
}

int dir_tenant_allowed(struct apply_ctx *ctx, const char *tenant)
{
	const char *env = ctx->ev->tenant;

	if (env != NULL && env[0] != '\0' && strcmp(env, tenant) != 0) {
		apply_reject(ctx, "forbidden", "event tenant %s may not change tenant %s's directory",
			     env, tenant);
		return 0;
	}
	return 1;
}

const char *dir_json_str(json_t *obj, const char *member, const char **error_r)
{
	const char *s = json_string_value(json_object_get(obj, member));

	if (s == NULL) {
		log_error("directory: stored record lacks string member %s", member);
		*error_r = "corrupt directory record in the view";
	}
	return s;
}

void dir_result(struct apply_ctx *ctx, ...)
{
	va_list ap;
	const char *name, *value;

	if (ctx->result == NULL)
		return;
	va_start(ap, ctx);
	while ((name = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		json_object_set_new(ctx->result, name, json_string(value));
	}
	va_end(ap);
}

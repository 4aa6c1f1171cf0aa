/* directory_internal - helpers shared by the directory appliers and the
 * read API. Not for use outside projector/directory_*.c.
 *
 * Helpers named dir_field_* read one data field of ctx->ev, validate it
 * completely and, when it is malformed, record an "invalid" rejection on
 * ctx and return NULL (or -1). The callers then return APPLY_REJECTED. */
#ifndef EVM_DIRECTORY_INTERNAL_H
#define EVM_DIRECTORY_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "common/address.h"
#include "common/buf.h"
#include "projector/applier.h"
#include "projector/keys.h"
#include "projector/view.h"

#define DIR_DISPLAY_NAME_MAX 256
/* Targets one alias may have: bounds the size of an alias record. */
#define DIR_ALIAS_TARGETS_MAX 1000
/* Serialisation of every stored record: deterministic bytes. */
#define DIR_JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

/* The validated data of account.create and account.update. */
struct dir_account_fields {
	char address[EVM_ADDRESS_MAX + 1];
	const char *display_name;
	int64_t quota;
	const char *state;
	const char *password_hash;
};

/* Appends the stored account record: the bytes of json_dumps(JSON_COMPACT
 * | JSON_SORT_KEYS) of {address, tenant, domain, display_name, quota,
 * state, password_hash, created, updated} plus scram_sha256 when not NULL;
 * created and updated are event times. */
void dir_account_record(struct buf *out, const struct dir_account_fields *f, json_t *scram,
			const char *tenant, const char *domain, int64_t created, int64_t updated);

/* The appliers (tables in directory_appliers.c). */
applier_fn dir_apply_tenant_create;
applier_fn dir_apply_tenant_delete;
applier_fn dir_apply_domain_add;
applier_fn dir_apply_domain_remove;
applier_fn dir_apply_account_create;
applier_fn dir_apply_account_update;
applier_fn dir_apply_account_remove;
applier_fn dir_apply_alias_add;
applier_fn dir_apply_alias_remove;
applier_fn dir_apply_dkim_set;
applier_fn dir_apply_dkim_remove;
applier_fn dir_apply_tenant_retention;    /* directory_retention.c */
applier_fn dir_apply_account_key;         /* directory_keys.c */
applier_fn dir_apply_account_erase;

/* account.remove of address (an already validated field): not-found,
 * forbidden, or the account and its domain index dropped with the result
 * {tenant, address}. Shared by account.remove and account.erase. */
enum apply_status dir_account_remove(struct apply_ctx *ctx, const char *address, const char **error_r);

/* Sets *k to prefix + a (+ '/' + b when b is not NULL). */
void dir_key(struct buf *k, const char *prefix, const char *a, const char *b);

/* Batch reads. 1 found, 0 not found, -1 view error or a stored record that
 * is not a JSON object (the view is corrupt: also an error). */
int dir_batch_get_json(struct view_batch *b, const struct buf *key, json_t **obj_r,
		       const char **error_r);
int dir_batch_exists(struct view_batch *b, const struct buf *key, const char **error_r);
/* 1 when some key starts with prefix, 0 when none, -1 on error. */
int dir_batch_any(struct view_batch *b, const struct buf *prefix, const char **error_r);
void dir_batch_put_json(struct view_batch *b, const struct buf *key, json_t *obj);
void dir_batch_put_empty(struct view_batch *b, const struct buf *key);
void dir_batch_delete(struct view_batch *b, const struct buf *key);

/* A tenant name field. */
const char *dir_field_tenant(struct apply_ctx *ctx, const char *field);
/* A domain field, which must already be in normal form. */
const char *dir_field_domain(struct apply_ctx *ctx, const char *field);
/* An address field, which must already be in normal form. */
const char *dir_field_address(struct apply_ctx *ctx, const char *field);
/* Every field of account.create / account.update. Returns 0 or -1
 * (rejected). */
int dir_account_fields(struct apply_ctx *ctx, struct dir_account_fields *f);

/* The envelope's tenant, when set, must be the tenant the entity belongs
 * to: 1 allowed, 0 rejected with "forbidden". */
int dir_tenant_allowed(struct apply_ctx *ctx, const char *tenant);

/* A string member of a stored record; NULL (with *error_r) when missing,
 * which means the view is corrupt. */
const char *dir_json_str(json_t *obj, const char *member, const char **error_r);

/* Sets result members: each pair is (name, value), NULL-terminated. */
void dir_result(struct apply_ctx *ctx, ...) __attribute__((sentinel));

#endif

/* applier - the registry of appliers and the helpers they share. */
#include "projector/applier.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Every aggregate's table. Lookup is a linear scan over a few dozen
 * entries: cheaper than hashing at this size, and order-independent. */
static const struct applier *const applier_tables[] = {
	directory_appliers,
	mail_appliers,
	blob_appliers,
	queue_appliers,
};

const struct applier *applier_find(const char *type)
{
	for (size_t t = 0; t < sizeof applier_tables / sizeof applier_tables[0]; t++) {
		for (const struct applier *a = applier_tables[t]; a->type != NULL; a++) {
			if (strcmp(a->type, type) == 0)
				return a;
		}
	}
	return NULL;
}

enum apply_status apply_reject(struct apply_ctx *ctx, const char *code, const char *fmt, ...)
{
	va_list ap;

	ctx->reject_code = code;
	va_start(ap, fmt);
	vsnprintf(ctx->reject_reason, sizeof ctx->reject_reason, fmt, ap);
	va_end(ap);
	return APPLY_REJECTED;
}

void apply_changed(struct apply_ctx *ctx, const char *account)
{
	size_t i;
	json_t *v;

	if (account == NULL || account[0] == '\0')
		return;
	json_array_foreach(ctx->changed, i, v) {
		if (strcmp(json_string_value(v), account) == 0)
			return;
	}
	json_array_append_new(ctx->changed, json_string(account));
}

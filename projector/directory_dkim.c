/* directory_dkim - DKIM signing keys of a domain (projector/directory.h):
 * the appliers of dkim.set and dkim.remove, and their read API.
 *
 * One record per (domain, selector) at dir/dkim/<domain>/<selector>:
 * {domain, selector, tenant, algorithm, private_key, public_key}. The
 * applier checks the form of every field (it does not parse the key: the
 * signer does, and refuses a key it cannot use); dkim.set replaces the
 * record of the same selector. */
#include "projector/directory.h"
#include "common/base64.h"
#include "projector/directory_internal.h"
#include "common/log.h"
#include "common/scram.h"
#include "common/json_fast.h"

#include <stdlib.h>
#include <string.h>

#define DKIM_SELECTOR_MAX 63
#define DKIM_PRIVATE_KEY_MAX 16384
#define DKIM_PUBLIC_KEY_MAX 2048

/* RFC 6376 3.1: selector = sub-domain *("." sub-domain); here lower case,
 * each label of letters, digits and inner hyphens. */
static int selector_valid(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > DKIM_SELECTOR_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
			label++;
		} else {
			return 0;
		}
	}
	return label > 0 && s[n - 1] != '-';
}

/* A string field of at most max octets; NULL after an "invalid" rejection. */
static const char *str_field(struct apply_ctx *ctx, const char *field, size_t max)
{
	const char *error = NULL;
	const char *s = evm_data_str(ctx->ev, field, max, &error);

	if (s == NULL)
		apply_reject(ctx, "invalid", "%s: %s", field, error);
	return s;
}

/* The domain's record must exist: its tenant into *tenant_r (a copy). */
static enum apply_status domain_tenant(struct apply_ctx *ctx, const char *domain, char **tenant_r,
				       const char **error_r)
{
	struct buf key = BUF_INIT;
	json_t *dom = NULL;
	const char *tenant;
	int r;

	dir_key(&key, KEY_DOMAIN, domain, NULL);
	r = dir_batch_get_json(ctx->batch, &key, &dom, error_r);
	buf_free(&key);
	if (r <= 0)
		return r == 0 ? apply_reject(ctx, "not-found", "no domain %s", domain) : APPLY_FAILED;
	if ((tenant = dir_json_str(dom, "tenant", error_r)) == NULL) {
		json_decref(dom);
		return APPLY_FAILED;
	}
	*tenant_r = xstrdup(tenant);
	json_decref(dom);
	if (!dir_tenant_allowed(ctx, *tenant_r)) {
		free(*tenant_r);
		*tenant_r = NULL;
		return APPLY_REJECTED;
	}
	return APPLY_ACCEPTED;
}

/* dkim.set {domain, selector, algorithm, private_key, public_key}. */
enum apply_status dir_apply_dkim_set(struct apply_ctx *ctx, const char **error_r)
{
	const char *domain, *selector, *alg, *priv, *pub;
	unsigned char *raw;
	size_t rawlen = 0;
	char *tenant = NULL;
	struct buf key = BUF_INIT;
	enum apply_status st;
	json_t *rec;
	int ok;

	if ((domain = dir_field_domain(ctx, "domain")) == NULL ||
	    (selector = str_field(ctx, "selector", DKIM_SELECTOR_MAX)) == NULL ||
	    (alg = str_field(ctx, "algorithm", 32)) == NULL ||
	    (priv = str_field(ctx, "private_key", DKIM_PRIVATE_KEY_MAX)) == NULL ||
	    (pub = str_field(ctx, "public_key", DKIM_PUBLIC_KEY_MAX)) == NULL)
		return APPLY_REJECTED;
	if (!selector_valid(selector))
		return apply_reject(ctx, "invalid", "selector: not a lower-case DNS label sequence");
	if (strcmp(alg, "ed25519-sha256") != 0 && strcmp(alg, "rsa-sha256") != 0)
		return apply_reject(ctx, "invalid", "algorithm: ed25519-sha256 or rsa-sha256");
	if (strncmp(priv, "-----BEGIN ", 11) != 0 || strstr(priv, "PRIVATE KEY-----") == NULL)
		return apply_reject(ctx, "invalid", "private_key: not a PEM private key");
	raw = xmalloc(strlen(pub) / 4 * 3 + 1);
	ok = pub[0] != '\0' && evm_b64_decode(pub, strlen(pub), raw, &rawlen) == 0 &&
	     (strcmp(alg, "ed25519-sha256") != 0 || rawlen == 32);
	free(raw);
	if (!ok)
		return apply_reject(ctx, "invalid", "public_key: not the base64 of a %s key", alg);
	if ((st = domain_tenant(ctx, domain, &tenant, error_r)) != APPLY_ACCEPTED)
		return st;
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "domain", domain, "selector", selector,
			"tenant", tenant, "algorithm", alg, "private_key", priv, "public_key", pub);
	dir_key(&key, KEY_DKIM, domain, selector);
	dir_batch_put_json(ctx->batch, &key, rec);
	json_decref(rec);
	buf_free(&key);
	dir_result(ctx, "tenant", tenant, "domain", domain, "selector", selector, "algorithm", alg,
		   (char *)NULL);
	free(tenant);
	return APPLY_ACCEPTED;
}

/* dkim.remove {domain, selector}: the key must exist. */
enum apply_status dir_apply_dkim_remove(struct apply_ctx *ctx, const char **error_r)
{
	const char *domain, *selector;
	struct buf key = BUF_INIT;
	enum apply_status st;
	char *tenant = NULL;
	int r;

	if ((domain = dir_field_domain(ctx, "domain")) == NULL ||
	    (selector = str_field(ctx, "selector", DKIM_SELECTOR_MAX)) == NULL)
		return APPLY_REJECTED;
	if (!selector_valid(selector))
		return apply_reject(ctx, "invalid", "selector: not a lower-case DNS label sequence");
	if ((st = domain_tenant(ctx, domain, &tenant, error_r)) != APPLY_ACCEPTED)
		return st;
	dir_key(&key, KEY_DKIM, domain, selector);
	r = dir_batch_exists(ctx->batch, &key, error_r);
	if (r > 0) {
		dir_batch_delete(ctx->batch, &key);
		dir_result(ctx, "tenant", tenant, "domain", domain, "selector", selector, (char *)NULL);
		st = APPLY_ACCEPTED;
	} else {
		st = r == 0 ? apply_reject(ctx, "not-found", "no DKIM key %s for %s", selector, domain)
			    : APPLY_FAILED;
	}
	buf_free(&key);
	free(tenant);
	return st;
}

/* Scan state of directory_dkim_keys. */
struct dkim_collect {
	json_t *list;
	int with_private;
	int corrupt;
};

static int collect_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct dkim_collect *c = vctx;
	json_t *obj = evm_json_loadb(val, vlen, 0, NULL);

	if (obj == NULL || !json_is_object(obj)) {
		json_decref(obj);
		log_error("directory: record %.*s in the view is not a JSON object", (int)klen, key);
		c->corrupt = 1;
		return 1;
	}
	if (!c->with_private)
		json_object_del(obj, "private_key");
	json_array_append_new(c->list, obj);
	return 0;
}

int directory_dkim_keys(struct view *view, const char *domain, int with_private, json_t **list_r,
			const char **error_r)
{
	struct dkim_collect c = { json_array(), with_private, 0 };
	char norm[EVM_DOMAIN_MAX + 1];
	struct buf prefix = BUF_INIT;
	const char *ignored;
	int r;

	*list_r = NULL;
	if (domain != NULL) {
		if (evm_domain_normalize(domain, norm, &ignored) < 0) {
			*list_r = c.list;
			return 0;
		}
		dir_key(&prefix, KEY_DKIM, norm, "");
	} else {
		buf_puts(&prefix, KEY_DKIM);
	}
	r = view_scan(view, prefix.data, prefix.len, collect_cb, &c, error_r);
	buf_free(&prefix);
	if (r == 0 && c.corrupt) {
		*error_r = "corrupt directory record in the view";
		r = -1;
	}
	if (r < 0) {
		json_decref(c.list);
		return -1;
	}
	*list_r = c.list;
	return 0;
}

int directory_dkim_get(struct view *view, const char *domain, const char *selector,
		       int with_private, json_t **key_r, const char **error_r)
{
	json_t *list = NULL, *v;
	size_t i;

	*key_r = NULL;
	if (directory_dkim_keys(view, domain, with_private, &list, error_r) < 0)
		return -1;
	json_array_foreach(list, i, v) {
		const char *sel = json_string_value(json_object_get(v, "selector"));
		if (sel != NULL && strcmp(sel, selector) == 0) {
			*key_r = json_incref(v);
			break;
		}
	}
	json_decref(list);
	return *key_r != NULL;
}

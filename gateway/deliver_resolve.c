/* deliver_resolve - RCPT address -> the local accounts that receive it
 * (see deliver.h). Lookup order for a normalised address in one of our
 * domains: the account; an alias (its local, active accounts, one level);
 * for "user+tag@domain" the same for "user@domain"; the domain's catch-all
 * alias "@domain". */
#include "gateway/deliver.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/json_fast.h"
#include "projector/directory.h"
#include "projector/keys.h"

#include <stdlib.h>
#include <string.h>

/* The targets gathered so far. */
struct resolve {
	struct view *view;
	const char *rcpt;                 /* normalised RCPT, for Delivered-To */
	struct deliver_target *targets;   /* DELIVER_MAX_EXPANSION entries */
	size_t n;
};

/* Adds account unless it is there already. -1 when the list is full. */
static int add_target(struct resolve *r, const char *account, const char *tenant)
{
	struct deliver_target *t;

	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->targets[i].account, account) == 0)
			return 0;
	}
	if (r->n >= DELIVER_MAX_EXPANSION) {
		log_warn("deliver: %s expands to more than %d accounts; the rest are dropped", r->rcpt,
			 DELIVER_MAX_EXPANSION);
		return -1;
	}
	t = &r->targets[r->n++];
	snprintf(t->account, sizeof t->account, "%s", account);
	snprintf(t->tenant, sizeof t->tenant, "%s", tenant);
	snprintf(t->rcpt, sizeof t->rcpt, "%s", r->rcpt);
	return 0;
}

/* An account record that can receive mail: 1 active (with its address
 * and tenant), 0 disabled or malformed. */
static int account_active(json_t *acct, const char **address_r, const char **tenant_r)
{
	const char *state = json_string_value(json_object_get(acct, "state"));
	const char *address = json_string_value(json_object_get(acct, "address"));
	const char *tenant = json_string_value(json_object_get(acct, "tenant"));

	if (state == NULL || strcmp(state, "active") != 0 || address == NULL ||
	    strlen(address) > EVM_ADDRESS_MAX || tenant == NULL ||
	    strlen(tenant) >= sizeof ((struct deliver_target *)NULL)->tenant)
		return 0;
	*address_r = address;
	*tenant_r = tenant;
	return 1;
}

/* Adds the alias record's targets that are active local accounts. Targets
 * that are aliases themselves are not followed (one level). */
static enum deliver_rcpt_status expand_alias(struct resolve *r, json_t *alias)
{
	json_t *targets = json_object_get(alias, "targets"), *v, *acct;
	const char *error = NULL, *address, *tenant;
	size_t i, before = r->n;
	int ret;

	json_array_foreach(targets, i, v) {
		const char *target = json_string_value(v);

		if (target == NULL)
			continue;
		ret = directory_account_get(r->view, target, &acct, &error);
		if (ret < 0) {
			log_warn("deliver: account %s: %s", target, error);
			return RCPT_TEMPFAIL;
		}
		if (ret > 0 && account_active(acct, &address, &tenant) &&
		    add_target(r, address, tenant) < 0) {
			json_decref(acct);
			break;
		}
		json_decref(acct);
	}
	return r->n > before ? RCPT_OK : RCPT_UNKNOWN;
}

/* address as an account or an alias. -1: neither. */
static int lookup(struct resolve *r, const char *address, enum deliver_rcpt_status *st_r)
{
	json_t *obj = NULL;
	const char *error = NULL, *acct, *tenant;
	int ret;

	ret = directory_account_get(r->view, address, &obj, &error);
	if (ret > 0) {
		if (account_active(obj, &acct, &tenant)) {
			(void)add_target(r, acct, tenant);
			*st_r = RCPT_OK;
		} else {
			*st_r = RCPT_DISABLED;
		}
		json_decref(obj);
		return 0;
	}
	if (ret == 0)
		ret = directory_alias_get(r->view, address, &obj, &error);
	if (ret < 0) {
		log_warn("deliver: lookup of %s: %s", address, error);
		*st_r = RCPT_TEMPFAIL;
		return 0;
	}
	if (ret == 0)
		return -1;
	*st_r = expand_alias(r, obj);
	json_decref(obj);
	return 0;
}

/* The catch-all alias "@domain". directory_alias_get() only takes
 * addresses, so the record is read at its key (projector/keys.h). */
static int lookup_catch_all(struct resolve *r, const char *domain, enum deliver_rcpt_status *st_r)
{
	struct buf key = BUF_INIT;
	char *val = NULL;
	size_t vlen = 0;
	const char *error = NULL;
	json_t *obj;
	int ret;

	buf_printf(&key, "%s@%s", KEY_ALIAS, domain);
	ret = view_get(r->view, key.data, key.len, &val, &vlen, &error);
	buf_free(&key);
	if (ret < 0) {
		log_warn("deliver: catch-all of %s: %s", domain, error);
		*st_r = RCPT_TEMPFAIL;
		return 0;
	}
	if (ret == 0)
		return -1;
	obj = evm_json_loadb(val, vlen, 0, NULL);
	free(val);
	if (!json_is_object(obj)) {
		json_decref(obj);
		log_error("deliver: catch-all record of %s is not a JSON object", domain);
		*st_r = RCPT_TEMPFAIL;
		return 0;
	}
	*st_r = expand_alias(r, obj);
	json_decref(obj);
	return 0;
}

/* True when s is well-formed UTF-8 (RFC 3629) with at least one non-ASCII
 * character and no control characters. */
static int is_utf8_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int non_ascii = 0;

	while (*p != '\0') {
		size_t n;
		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return 0;
			p++;
			continue;
		}
		non_ascii = 1;
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 3;
		else
			return 0;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		}
		p += n + 1;
	}
	return non_ascii;
}

/* An internationalised address (RFC 6531 3.3, SMTPUTF8): valid, but no
 * account has one (names are ASCII), so it is "no such user" in one of our
 * domains and "not ours" elsewhere (a U-label domain is never ours). */
static enum deliver_rcpt_status resolve_utf8(struct view *view, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@'), *error = NULL;
	char domain[EVM_DOMAIN_MAX + 1];
	json_t *dom = NULL;
	int ret;

	if (at == NULL || at == rcpt || strlen(rcpt) > EVM_ADDRESS_MAX || !is_utf8_text(rcpt))
		return RCPT_INVALID;
	if (evm_domain_normalize(at + 1, domain, &error) < 0)
		return is_utf8_text(at + 1) ? RCPT_NOT_LOCAL : RCPT_INVALID;
	ret = directory_domain_get(view, domain, &dom, &error);
	json_decref(dom);
	if (ret < 0) {
		log_warn("deliver: domain %s: %s", domain, error);
		return RCPT_TEMPFAIL;
	}
	return ret > 0 ? RCPT_UNKNOWN : RCPT_NOT_LOCAL;
}

enum deliver_rcpt_status deliver_resolve(struct view *view, const char *rcpt,
					 struct deliver_target **targets_r, size_t *n_r)
{
	char norm[EVM_ADDRESS_MAX + 1], base[EVM_ADDRESS_MAX + 1];
	struct resolve r = { view, norm, NULL, 0 };
	enum deliver_rcpt_status st = RCPT_UNKNOWN;
	const char *error = NULL, *domain, *plus;
	json_t *dom = NULL;
	int ret;

	*targets_r = NULL;
	*n_r = 0;
	if (rcpt == NULL)
		return RCPT_INVALID;
	if (evm_address_normalize(rcpt, norm, &error) < 0)
		return resolve_utf8(view, rcpt);
	domain = evm_address_domain(norm);
	ret = directory_domain_get(view, domain, &dom, &error);
	json_decref(dom);
	if (ret < 0) {
		log_warn("deliver: domain %s: %s", domain, error);
		return RCPT_TEMPFAIL;
	}
	if (ret == 0)
		return RCPT_NOT_LOCAL;

	r.targets = xcalloc(DELIVER_MAX_EXPANSION, sizeof *r.targets);
	if (lookup(&r, norm, &st) < 0) {
		/* "user+tag@domain" -> "user@domain" (first '+', non-empty user). */
		plus = strchr(norm, '+');
		ret = -1;
		if (plus != NULL && plus != norm && plus < domain) {
			snprintf(base, sizeof base, "%.*s@%s", (int)(plus - norm), norm, domain);
			ret = lookup(&r, base, &st);
		}
		if (ret < 0 && lookup_catch_all(&r, domain, &st) < 0)
			st = RCPT_UNKNOWN;
	}
	if (st != RCPT_OK || r.n == 0) {
		free(r.targets);
		return st == RCPT_OK ? RCPT_UNKNOWN : st;
	}
	*targets_r = r.targets;
	*n_r = r.n;
	return RCPT_OK;
}

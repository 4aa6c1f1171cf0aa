/* forward_resolve - which remote addresses an inbound RCPT is forwarded
 * to (see forward.h): SRS bounces and the remote targets of aliases. */
#include "gateway/forward/forward.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/srs.h"
#include "projector/directory.h"

#include <stdlib.h>
#include <string.h>

/* 1 when domain is one of ours (its tenant in tenant, 64 octets), 0 not,
 * -1 on a view error. */
static int our_domain(struct view *view, const char *domain, char *tenant)
{
	const char *error = NULL, *t;
	json_t *dom = NULL;
	int r = directory_domain_get(view, domain, &dom, &error);

	if (r < 0)
		log_warn("forward: domain %s: %s", domain, error);
	if (r > 0 && tenant != NULL) {
		t = json_string_value(json_object_get(dom, "tenant"));
		snprintf(tenant, 64, "%s", t != NULL ? t : "");
	}
	json_decref(dom);
	return r;
}

/* Appends a target once; -1 when the list is full. */
static int add(struct forward_target **t, size_t *n, const char *addr, const char *domain,
	       const char *tenant)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*t)[i].addr, addr) == 0)
			return 0;
	}
	if (*n >= FORWARD_MAX_TARGETS)
		return -1;
	*t = xrealloc(*t, (*n + 1) * sizeof **t);
	snprintf((*t)[*n].addr, sizeof (*t)[*n].addr, "%s", addr);
	snprintf((*t)[*n].domain, sizeof (*t)[*n].domain, "%s", domain);
	snprintf((*t)[*n].tenant, sizeof (*t)[*n].tenant, "%s", tenant);
	(*n)++;
	return 0;
}

/* The remote targets of the alias at address: 1 an alias, 0 not one,
 * -1 on a view error. */
static int alias_targets(struct view *view, const char *address, const char *domain,
			 const char *tenant, struct forward_target **t, size_t *n)
{
	const char *error = NULL;
	json_t *alias = NULL, *v;
	size_t i;
	int r = directory_alias_get(view, address, &alias, &error);

	if (r < 0) {
		log_warn("forward: alias %s: %s", address, error);
		return -1;
	}
	if (r == 0)
		return 0;
	json_array_foreach(json_object_get(alias, "targets"), i, v) {
		const char *target = json_string_value(v), *at = target ? strrchr(target, '@') : NULL;

		if (at == NULL)
			continue;
		r = our_domain(view, at + 1, NULL);
		if (r < 0) {
			json_decref(alias);
			return -1;
		}
		if (r == 0 && add(t, n, target, domain, tenant) < 0) {
			log_warn("forward: %s has more than %d remote targets; the rest are dropped", address,
				 FORWARD_MAX_TARGETS);
			break;
		}
	}
	json_decref(alias);
	return 1;
}

/* 1 when address is an account (then "user+tag" is not cut), 0 not, -1 error. */
static int is_account(struct view *view, const char *address)
{
	const char *error = NULL;
	json_t *acct = NULL;
	int r = directory_account_get(view, address, &acct, &error);

	json_decref(acct);
	if (r < 0)
		log_warn("forward: account %s: %s", address, error);
	return r;
}

int forward_resolve(struct view *view, int64_t now_s, const char *rcpt,
		    struct forward_target **targets_r, size_t *n_r, char *local_r,
		    const char **reply_r)
{
	char norm[EVM_ADDRESS_MAX + 1], orig[EVM_ADDRESS_MAX + 1], base[EVM_ADDRESS_MAX + 1];
	char tenant[64], otenant[64];
	const char *error = NULL, *domain, *plus;
	int r;

	*targets_r = NULL;
	*n_r = 0;
	local_r[0] = '\0';
	if (!forward_enabled() || rcpt == NULL || evm_address_normalize(rcpt, norm, &error) < 0)
		return 0;
	domain = evm_address_domain(norm);
	r = our_domain(view, domain, tenant);
	if (r <= 0)
		goto done;
	r = forward_srs_reverse(norm, now_s, orig, &error);
	if (r < 0) {
		log_info("forward: refused %s: %s", norm, error);
		*reply_r = "550 5.1.1 Recipient address rejected: invalid SRS address";
		return -1;
	}
	if (r > 0) {
		r = our_domain(view, evm_address_domain(orig), otenant);
		if (r == 0 && add(targets_r, n_r, orig, domain, tenant) < 0)
			r = -1;
		else if (r > 0)
			snprintf(local_r, EVM_ADDRESS_MAX + 1, "%s", orig);
		goto done;
	}
	/* As deliver_resolve: "user+tag" -> "user" when "user+tag" is neither
	 * an alias nor an account. */
	r = alias_targets(view, norm, domain, tenant, targets_r, n_r);
	plus = strchr(norm, '+');
	if (r == 0 && plus != NULL && plus != norm && plus < domain && (r = is_account(view, norm)) == 0) {
		snprintf(base, sizeof base, "%.*s@%s", (int)(plus - norm), norm, domain);
		r = alias_targets(view, base, domain, tenant, targets_r, n_r);
	}
done:
	if (r < 0) {
		free(*targets_r);
		*targets_r = NULL;
		*n_r = 0;
		*reply_r = "451 4.3.0 Temporary lookup failure, try again later";
		return -1;
	}
	return 0;
}

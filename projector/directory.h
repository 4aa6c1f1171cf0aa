/* directory - tenants, domains, accounts and aliases: event data and the
 * read API over the committed view.
 *
 * Events (topic directory; key = the event id, see below; envelope tenant
 * = the tenant; actor = who asked). Names are normalised by the writer
 * (lower case) and validated again by the applier:
 *   tenant.create   {name}
 *   tenant.delete   {name}                    rejected while it has domains
 *   domain.add      {domain, tenant}          tenant must exist, domain free
 *   domain.remove   {domain, tenant}          rejected while accounts/aliases
 *   account.create  {address, display_name, quota, state, password_hash}
 *                   domain must exist; address must not be an account or
 *                   alias; tenant := the domain's tenant
 *   account.update  {address, display_name, quota, state, password_hash}
 *                   the account's full new state; must exist
 *   account.remove  {address}
 *   alias.add       {alias, target}           alias's domain ours, alias not
 *                   an account, target a valid address, not already there
 *   alias.remove    {alias, target}
 *                   the alias "@domain" is the domain's catch-all (RFC 5321
 *                   mail to any unknown local part of the domain)
 *   dkim.set        {domain, selector, algorithm, private_key, public_key}
 *                   a DKIM signing key (RFC 6376, RFC 8463): the domain
 *                   must exist (else not-found); selector lower-case DNS
 *                   labels (<= 63 octets); algorithm "ed25519-sha256" or
 *                   "rsa-sha256"; private_key PEM; public_key the base64 of
 *                   the DNS record's p= value. Replaces the key of the same
 *                   selector. domain.remove is rejected while keys remain.
 *   dkim.remove     {domain, selector}        the key must exist
 *   tenant.retention {name, trash_ms?, junk_ms?, all_ms?}
 *                   the tenant's retention rules (projector/retention.h),
 *                   in its record as "retention"
 *   account.key     {address, kid, kek, wrapped}
 *   account.erase   {address}   crypto-shredding (projector/keyring.h;
 *                   appliers in directory_keys.c)
 * quota: bytes, 0 = unlimited. state: "active" or "disabled".
 * password_hash: a crypt(3) string (yescrypt "$y$..."), never plain text.
 * scram_sha256 (optional, account.create/update): {salt (base64, 8-64
 *   octets), iterations (4096..1000000), stored_key, server_key (base64,
 *   32 octets each)} for SASL SCRAM-SHA-256 (RFC 5802, RFC 7677; made by
 *   evmailctl with common/scram.h), validated strictly; an account.update
 *   without it drops it (stale keys must not outlive a password change).
 *
 * Why records are keyed by event id, not entity id: the records are commands
 * whose outcome depends on what came before (a create is rejected when the
 * address is taken). If compaction kept only the last record per entity, a
 * rejected command could survive in place of the accepted one it lost to,
 * and a replay would accept it: two nodes would disagree. With unique keys
 * compaction removes nothing, and every replay sees the same history.
 *
 * Read functions read committed state (thread-safe). Listings are arrays
 * sorted by name. Account objects from listings omit password_hash and
 * scram_sha256. */
#ifndef EVM_DIRECTORY_H
#define EVM_DIRECTORY_H

#include <jansson.h>

#include "projector/view.h"

int directory_tenant_get(struct view *view, const char *name, json_t **tenant_r, const char **error_r);
int directory_tenants(struct view *view, json_t **list_r, const char **error_r);
int directory_domain_get(struct view *view, const char *domain, json_t **domain_r, const char **error_r);
/* tenant NULL: every domain. */
int directory_domains(struct view *view, const char *tenant, json_t **list_r, const char **error_r);
/* Includes password_hash and scram_sha256. 1 found, 0 not, -1 error. */
int directory_account_get(struct view *view, const char *address, json_t **account_r, const char **error_r);
/* domain and tenant are optional filters (NULL: all). */
int directory_accounts(struct view *view, const char *domain, const char *tenant,
		       json_t **list_r, const char **error_r);
int directory_alias_get(struct view *view, const char *alias, json_t **alias_r, const char **error_r);
int directory_aliases(struct view *view, const char *domain, const char *tenant,
		      json_t **list_r, const char **error_r);
/* DKIM keys of domain (NULL: every domain), sorted by domain then
 * selector: {domain, selector, tenant, algorithm, public_key} and, with
 * with_private, private_key. 0 (an unknown domain has none) or -1. */
int directory_dkim_keys(struct view *view, const char *domain, int with_private, json_t **list_r,
			const char **error_r);
/* One key: 1 found, 0 not, -1 error. */
int directory_dkim_get(struct view *view, const char *domain, const char *selector,
		       int with_private, json_t **key_r, const char **error_r);

#endif

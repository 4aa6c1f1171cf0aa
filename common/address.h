/* address - names the directory accepts, normalised.
 *
 * Tenant names: 1-63 of [a-z0-9-], starting with a letter or digit.
 * Domains (RFC 1035 LDH, RFC 5321 4.1.2): labels of 1-63 [a-z0-9-] not
 * starting or ending with '-', at least two labels, at most 253 octets;
 * folded to lower case. Addresses: local@domain with a dot-atom local part
 * (RFC 5322 3.2.3 atext and dots, no leading/trailing/double dot), at most
 * 64 octets, folded to lower case (evmail treats local parts
 * case-insensitively, as users expect). Quoted local parts and UTF-8
 * (SMTPUTF8) local parts are not accepted for accounts yet. */
#ifndef EVM_ADDRESS_H
#define EVM_ADDRESS_H

#include <stddef.h>

#define EVM_DOMAIN_MAX 253
#define EVM_LOCAL_MAX 64
#define EVM_ADDRESS_MAX (EVM_LOCAL_MAX + 1 + EVM_DOMAIN_MAX)

int evm_tenant_name_valid(const char *name);
/* out must hold EVM_DOMAIN_MAX + 1. Returns 0 or -1 with *error_r. */
int evm_domain_normalize(const char *in, char *out, const char **error_r);
/* out must hold EVM_ADDRESS_MAX + 1. */
int evm_address_normalize(const char *in, char *out, const char **error_r);
/* Pointer to the domain part of a normalised address. */
const char *evm_address_domain(const char *address);

#endif

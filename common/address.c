/* address - see address.h */
#include "common/address.h"

#include <string.h>

#define EVM_LABEL_MAX 63
#define EVM_TENANT_MAX 63

static int is_lower_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static unsigned char fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* RFC 5322 3.2.3 atext (ASCII only), already folded to lower case. */
static int is_atext(unsigned char c)
{
	if (is_lower_alnum(c))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* evm_tenant_name_valid - 1-63 of [a-z0-9-], first a letter or digit. */
int evm_tenant_name_valid(const char *name)
{
	size_t n;

	if (name == NULL || !is_lower_alnum((unsigned char)name[0]))
		return 0;
	for (n = 0; name[n] != '\0'; n++) {
		if (n >= EVM_TENANT_MAX)
			return 0;
		if (!is_lower_alnum((unsigned char)name[n]) && name[n] != '-')
			return 0;
	}
	return 1;
}

/* Validates and folds the len octets at in as an LDH domain into out (which
 * holds EVM_DOMAIN_MAX + 1). in need not be NUL-terminated. */
static int domain_normalize_n(const char *in, size_t len, char *out, const char **error_r)
{
	size_t label_len = 0, labels = 1;

	if (len == 0) {
		*error_r = "domain is empty";
		return -1;
	}
	if (len > EVM_DOMAIN_MAX) {
		*error_r = "domain longer than 253 octets";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = fold((unsigned char)in[i]);

		if (c == '.') {
			if (label_len == 0) {
				*error_r = "domain has an empty label";
				return -1;
			}
			if (out[i - 1] == '-') {
				*error_r = "domain label ends with '-'";
				return -1;
			}
			label_len = 0;
			labels++;
		} else if (is_lower_alnum(c) || c == '-') {
			if (c == '-' && label_len == 0) {
				*error_r = "domain label starts with '-'";
				return -1;
			}
			if (++label_len > EVM_LABEL_MAX) {
				*error_r = "domain label longer than 63 octets";
				return -1;
			}
		} else {
			*error_r = "domain has a character outside [A-Za-z0-9.-]";
			return -1;
		}
		out[i] = (char)c;
	}
	if (label_len == 0) {
		*error_r = "domain has an empty label";
		return -1;
	}
	if (out[len - 1] == '-') {
		*error_r = "domain label ends with '-'";
		return -1;
	}
	if (labels < 2) {
		*error_r = "domain needs at least two labels";
		return -1;
	}
	out[len] = '\0';
	return 0;
}

/* evm_domain_normalize - validate an LDH domain and fold it to lower case. */
int evm_domain_normalize(const char *in, char *out, const char **error_r)
{
	size_t len;

	if (in == NULL) {
		*error_r = "domain is missing";
		return -1;
	}
	len = strnlen(in, EVM_DOMAIN_MAX + 1);
	if (len > EVM_DOMAIN_MAX) {
		*error_r = "domain longer than 253 octets";
		return -1;
	}
	if (domain_normalize_n(in, len, out, error_r) < 0) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* evm_address_normalize - validate local@domain (dot-atom local part) and
 * fold both parts to lower case. */
int evm_address_normalize(const char *in, char *out, const char **error_r)
{
	const char *at;
	size_t len, local_len;

	out[0] = '\0';
	if (in == NULL) {
		*error_r = "address is missing";
		return -1;
	}
	len = strnlen(in, EVM_ADDRESS_MAX + 1);
	if (len > EVM_ADDRESS_MAX) {
		*error_r = "address too long";
		return -1;
	}
	at = memchr(in, '@', len);
	if (at == NULL) {
		*error_r = "address has no '@'";
		return -1;
	}
	local_len = (size_t)(at - in);
	if (local_len == 0) {
		*error_r = "address has an empty local part";
		return -1;
	}
	if (local_len > EVM_LOCAL_MAX) {
		*error_r = "local part longer than 64 octets";
		return -1;
	}
	for (size_t i = 0; i < local_len; i++) {
		unsigned char c = fold((unsigned char)in[i]);

		if (c == '.') {
			if (i == 0 || i == local_len - 1 || out[i - 1] == '.') {
				*error_r = "local part has a leading, trailing or double dot";
				out[0] = '\0';
				return -1;
			}
		} else if (!is_atext(c)) {
			/* A second '@' lands here too: it can only be in the domain. */
			*error_r = "local part has a character outside RFC 5322 atext";
			out[0] = '\0';
			return -1;
		}
		out[i] = (char)c;
	}
	out[local_len] = '@';
	if (memchr(at + 1, '@', len - local_len - 1) != NULL) {
		*error_r = "address has more than one '@'";
		out[0] = '\0';
		return -1;
	}
	if (domain_normalize_n(at + 1, len - local_len - 1, out + local_len + 1, error_r) < 0) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* evm_address_domain - the part after the '@'; NULL when there is none
 * (never for an address evm_address_normalize accepted). */
const char *evm_address_domain(const char *address)
{
	const char *at = strrchr(address, '@');

	return at == NULL ? NULL : at + 1;
}

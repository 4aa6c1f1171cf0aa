/* fuzz_address - libFuzzer target for evm_address_normalize and
 * evm_domain_normalize (not built by CMake).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       common/fuzz_address.c common/address.c -o /tmp/fuzz_address
 *   /tmp/fuzz_address -max_total_time=30 -max_len=400
 *
 * Besides not crashing, checks the properties callers rely on: accepted
 * output is within bounds, lower case, idempotent, and its domain part is
 * itself a valid domain. */
#include "common/address.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond)
{
	if (!cond)
		abort();
}

static int has_upper(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 'A' && *s <= 'Z')
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	char out[EVM_ADDRESS_MAX + 1], again[EVM_ADDRESS_MAX + 1];
	char dom[EVM_DOMAIN_MAX + 1], dom2[EVM_DOMAIN_MAX + 1];
	const char *error = NULL;
	const char *d;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';

	if (evm_address_normalize(in, out, &error) == 0) {
		check(strlen(out) <= EVM_ADDRESS_MAX);
		check(strlen(out) == strlen(in));
		check(!has_upper(out));
		check(evm_address_normalize(out, again, &error) == 0);
		check(strcmp(out, again) == 0);
		d = evm_address_domain(out);
		check(d != NULL && d > out + 1 && (size_t)(d - out - 1) <= EVM_LOCAL_MAX);
		check(evm_domain_normalize(d, dom, &error) == 0 && strcmp(dom, d) == 0);
	} else {
		check(error != NULL);
	}

	error = NULL;
	if (evm_domain_normalize(in, dom, &error) == 0) {
		check(strlen(dom) <= EVM_DOMAIN_MAX && strlen(dom) == strlen(in));
		check(!has_upper(dom) && strchr(dom, '.') != NULL);
		check(evm_domain_normalize(dom, dom2, &error) == 0 && strcmp(dom, dom2) == 0);
	} else {
		check(error != NULL);
	}
	(void)evm_tenant_name_valid(in);
	free(in);
	return 0;
}

/* fuzz_srs - libFuzzer target for srs_reverse (an address from the
 * network: RCPT TO of a bounce).
 *
 * Besides not crashing, checks that an accepted address is a normalised
 * address that forwards back to an address reversing to itself. */
#include "common/srs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char secret[] = "fuzzing-secret-0123456789";
	char *in = malloc(size + 1), out[EVM_ADDRESS_MAX + 1], fwd[EVM_ADDRESS_MAX + 1];
	char again[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;
	int r;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	r = srs_reverse(secret, sizeof secret - 1, in, 1700000000, out, &error);
	check(r >= -1 && r <= 1);
	if (r < 0)
		check(error != NULL);
	if (r == 1) {
		check(strlen(out) <= EVM_ADDRESS_MAX);
		if (srs_forward(secret, sizeof secret - 1, out, "fwd.example", 1700000000, fwd, &error) == 0) {
			check(srs_reverse(secret, sizeof secret - 1, fwd, 1700000000, again, &error) == 1);
			check(strcmp(again, out) == 0);
		}
	}
	free(in);
	return 0;
}

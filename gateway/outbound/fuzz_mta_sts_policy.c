/* fuzz_mta_sts_policy - libFuzzer target for the MTA-STS policy parser and
 * the _mta-sts TXT record parser (built with -DEVMAIL_FUZZ=ON).
 *
 * The input is parsed as a policy whole and in chunks whose sizes come from
 * the first byte; both must agree (result, mode, max_age, patterns), every
 * pattern must be valid text, and max_age in range. Then the input is
 * parsed as a TXT record, and each accepted pattern is matched against the
 * input's first line. Aborts on any disagreement. */
#include "gateway/outbound/mta_sts_policy.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int run(const unsigned char *d, size_t n, size_t step, struct mta_sts_policy *pol)
{
	struct mta_sts_parser p;
	const char *error = NULL;
	size_t off = 0;

	mta_sts_parser_init(&p);
	while (off < n) {
		size_t k = n - off < step ? n - off : step;

		if (mta_sts_parser_feed(&p, d + off, k, &error) < 0) {
			if (error == NULL || error[0] == '\0')
				abort();
			return -1;
		}
		off += k;
	}
	if (mta_sts_parser_finish(&p, pol, &error) < 0) {
		if (error == NULL || error[0] == '\0')
			abort();
		return -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct mta_sts_policy a, b;
	size_t step;
	int ra, rb;
	char id[33], *txt;

	if (size < 1 || size > 70000)
		return 0;
	step = (size_t)(data[0] % 16) + 1;
	data++, size--;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	ra = run(data, size, size ? size : 1, &a);
	rb = run(data, size, step, &b);
	if (ra != rb)
		abort();
	if (ra == 0) {
		if (a.mode != b.mode || a.max_age != b.max_age || a.nmx != b.nmx ||
		    a.max_age < 0 || a.max_age > MTA_STS_MAX_AGE || a.nmx > MTA_STS_MAX_MX)
			abort();
		for (unsigned i = 0; i < a.nmx; i++) {
			if (strcmp(a.mx[i], b.mx[i]) != 0 || strlen(a.mx[i]) == 0 || strlen(a.mx[i]) > 253)
				abort();
		}
	}
	txt = malloc(size + 1);
	memcpy(txt, data, size);
	txt[size] = '\0';
	if (mta_sts_txt_parse(txt, size, id) == 1 && (strlen(id) == 0 || strlen(id) > 32))
		abort();
	for (unsigned i = 0; ra == 0 && i < a.nmx; i++) {
		char *nl = strchr(txt, '\n');

		if (nl != NULL)
			*nl = '\0';
		(void)mta_sts_mx_match(a.mx[i], txt);
	}
	free(txt);
	return 0;
}

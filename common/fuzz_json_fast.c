/* fuzz_json_fast - libFuzzer differential target: evm_json_loadb against
 * Jansson's json_loadb on the same bytes, with flags 0 and
 * JSON_REJECT_DUPLICATES. Aborts when one accepts and the other does not,
 * or when the trees differ (dump with order and 17 significant digits, or
 * json_equal). */
#include "common/json_fast.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17) | JSON_COMPACT)

static void check(int cond)
{
	if (!cond)
		abort();
}

static void compare(const char *buf, size_t len, size_t flags)
{
	json_error_t err;
	json_t *a = json_loadb(buf, len, flags, &err), *b = evm_json_loadb(buf, len, flags, &err);
	char *da, *db;

	check((a == NULL) == (b == NULL));
	if (a == NULL)
		return;
	da = json_dumps(a, DUMP_FLAGS);
	db = json_dumps(b, DUMP_FLAGS);
	check(da != NULL && db != NULL && strcmp(da, db) == 0);
	check(json_equal(a, b));
	free(da);
	free(db);
	json_decref(a);
	json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	compare(buf, size, 0);
	compare(buf, size, JSON_REJECT_DUPLICATES);
	free(buf);
	return 0;
}

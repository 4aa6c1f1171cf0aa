/* test_projector_seen - the bulk apply's filter of written event ids
 * (projector_seen.c) never says "no" for an id it was given, says "no"
 * for most others, and without a filter says "maybe" to everything. */
#include "projector/projector_internal.h"
#include "common/buf.h"
#include "tests/unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>

static void test_filter(void)
{
	struct projector *p = xcalloc(1, sizeof *p);
	char id[EVM_ID_HEX_LEN + 1];
	int maybes = 0;

	CHECK(proj_seen_maybe(p, "0123456789abcdef0123456789abcdef"));
	proj_seen_add(p, "0123456789abcdef0123456789abcdef");   /* no filter: nothing */
	proj_seen_begin(p, 20000);
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(id, sizeof id, "%032x", i * 2);
		proj_seen_add(p, id);
	}
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(id, sizeof id, "%032x", i * 2);
		CHECK(proj_seen_maybe(p, id));
		snprintf(id, sizeof id, "%032x", i * 2 + 1);
		maybes += proj_seen_maybe(p, id);
	}
	/* 10 bits and 7 probes per id: about 1 % false "maybe"s. */
	CHECK(maybes < 20000 / 20);
	/* A new bulk apply starts empty. */
	proj_seen_begin(p, 10);
	CHECK(!proj_seen_maybe(p, "00000000000000000000000000000000"));
	proj_seen_end(p);
	CHECK(proj_seen_maybe(p, "00000000000000000000000000000000"));
	free(p);
}

int main(void)
{
	test_run("the filter of written ids has no false no", test_filter);
	return test_done();
}

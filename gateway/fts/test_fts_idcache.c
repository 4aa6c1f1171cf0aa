/* test_fts_idcache - the node's email ids by mailbox and UID: kept and
 * found in any order, only well-formed ids, mailboxes apart (owner,
 * mailbox id, UIDVALIDITY), and the bound: the least recently searched
 * mailboxes go. */
#include "gateway/fts/fts_idcache.h"
#include "tests/unit/testlib.h"

#include <stdio.h>
#include <string.h>

static const char ID1[] = "0123456789abcdef0123456789abcdef";
static const char ID2[] = "fedcba9876543210fedcba9876543210";

static void test_get_put(void)
{
	struct evm_fts_idcache *c = evm_fts_idcache_new();
	struct evm_fts_ids *b = evm_fts_idcache_box(c, "bob@x.test", "m1", 7);
	char hex[33];

	CHECK_EQ_INT(evm_fts_ids_get(b, 5, hex), 0);
	evm_fts_ids_put(b, 5, ID1);
	evm_fts_ids_put(b, 2, ID2);           /* before: inserted in order */
	evm_fts_ids_put(b, 9, ID2);
	evm_fts_ids_put(b, 5, ID2);           /* known: kept as it was */
	evm_fts_ids_put(b, 3, "0123");        /* malformed: not kept */
	evm_fts_ids_put(b, 4, "0123456789ABCDEF0123456789abcdef");
	evm_fts_ids_put(b, 6, NULL);
	CHECK_EQ_INT(evm_fts_idcache_size(c), 3);
	CHECK(evm_fts_ids_get(b, 5, hex) == 1 && strcmp(hex, ID1) == 0);
	CHECK(evm_fts_ids_get(b, 2, hex) == 1 && strcmp(hex, ID2) == 0);
	CHECK(evm_fts_ids_get(b, 9, hex) == 1 && strcmp(hex, ID2) == 0);
	CHECK_EQ_INT(evm_fts_ids_get(b, 3, hex), 0);
	CHECK_EQ_INT(evm_fts_ids_get(b, 4, hex), 0);
	CHECK_EQ_INT(evm_fts_ids_get(b, 10, hex), 0);
	/* other owner, mailbox or UIDVALIDITY: another entry */
	CHECK_EQ_INT(evm_fts_ids_get(evm_fts_idcache_box(c, "bob@x.test", "m1", 8), 5, hex), 0);
	CHECK_EQ_INT(evm_fts_ids_get(evm_fts_idcache_box(c, "bob@x.test", "m2", 7), 5, hex), 0);
	CHECK_EQ_INT(evm_fts_ids_get(evm_fts_idcache_box(c, "bob@x.tes", "tm1", 7), 5, hex), 0);
	b = evm_fts_idcache_box(c, "bob@x.test", "m1", 7);
	CHECK(evm_fts_ids_get(b, 5, hex) == 1 && strcmp(hex, ID1) == 0);
	/* many, descending, then every one found */
	for (uint32_t u = 5000; u >= 1000; u--)
		evm_fts_ids_put(b, u, (u & 1) ? ID1 : ID2);
	for (uint32_t u = 1000; u <= 5000; u++)
		CHECK(evm_fts_ids_get(b, u, hex) == 1 && strcmp(hex, (u & 1) ? ID1 : ID2) == 0);
	evm_fts_idcache_free(&c);
	CHECK(c == NULL);
}

static void test_bound(void)
{
	struct evm_fts_idcache *c = evm_fts_idcache_new();
	struct evm_fts_ids *a = evm_fts_idcache_box(c, "a@x.test", "big", 1), *b;
	char hex[33];

	for (uint32_t u = 1; u <= EVM_FTS_IDS_MAX; u++)
		evm_fts_ids_put(a, u, ID1);
	b = evm_fts_idcache_box(c, "b@x.test", "small", 1);
	for (uint32_t u = 1; u <= 10; u++)
		evm_fts_ids_put(b, u, ID2);
	CHECK_EQ_INT(evm_fts_idcache_size(c), EVM_FTS_IDS_MAX + 10);
	/* the next search: the least recent (a) goes, b stays */
	b = evm_fts_idcache_box(c, "b@x.test", "small", 1);
	CHECK_EQ_INT(evm_fts_idcache_size(c), 10);
	CHECK(evm_fts_ids_get(b, 10, hex) == 1 && strcmp(hex, ID2) == 0);
	a = evm_fts_idcache_box(c, "a@x.test", "big", 1);
	CHECK_EQ_INT(evm_fts_ids_get(a, 1, hex), 0);
	/* the mailbox being searched is never the one to go */
	for (uint32_t u = 1; u <= EVM_FTS_IDS_MAX + 5; u++)
		evm_fts_ids_put(a, u, ID1);
	a = evm_fts_idcache_box(c, "a@x.test", "big", 1);
	CHECK_EQ_INT(evm_fts_idcache_size(c), EVM_FTS_IDS_MAX + 5);
	CHECK(evm_fts_ids_get(a, 3, hex) == 1);
	evm_fts_idcache_free(&c);
}

int main(void)
{
	test_run("get_put", test_get_put);
	test_run("bound", test_bound);
	return test_done();
}

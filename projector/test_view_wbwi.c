/* test_view_wbwi - the batch's merged iterator stops at its upper bound
 * (view_wbwi.h): past the last key of a prefix it is invalid, not at the
 * next live key behind thousands of the batch's deletions, and it sees
 * exactly the batch's writes over the database's keys. */
#include "projector/view_wbwi.h"
#include "tests/unit/testlib.h"

#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DELETED 3000

static rocksdb_t *open_db(const char *name)
{
	rocksdb_options_t *o = rocksdb_options_create();
	char path[1100], *err = NULL;
	rocksdb_t *db;

	rocksdb_options_set_create_if_missing(o, 1);
	snprintf(path, sizeof path, "%s/db", test_tmpdir(name));
	db = rocksdb_open(o, path, &err);
	rocksdb_options_destroy(o);
	if (err != NULL) {
		fprintf(stderr, "rocksdb_open: %s\n", err);
		free(err);
		return NULL;
	}
	return db;
}

/* Keys from the iterator's position while they start with prefix, as
 * "key;key;", and the key it stands at after them ("" when invalid). */
static void walk(rocksdb_iterator_t *it, const char *prefix, char *out, size_t size, char after[32])
{
	size_t o = 0, plen = strlen(prefix);

	out[0] = '\0';
	for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen;
		const char *k = rocksdb_iter_key(it, &klen);

		if (klen < plen || memcmp(k, prefix, plen) != 0)
			break;
		o += (size_t)snprintf(out + o, size - o, "%.*s;", (int)klen, k);
	}
	after[0] = '\0';
	if (rocksdb_iter_valid(it)) {
		size_t klen;
		const char *k = rocksdb_iter_key(it, &klen);

		snprintf(after, 32, "%.*s", (int)klen, k);
	}
}

static void test_bound_over_deletions(void)
{
	rocksdb_t *db = open_db("view-wbwi");
	rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	rocksdb_writebatch_wi_t *wb = rocksdb_writebatch_wi_create(0, 1);
	rocksdb_iterator_t *it;
	char key[32], out[256], *err = NULL;
	void *bound = NULL;
	char after[32];

	CHECK(db != NULL);
	rocksdb_put(db, wo, "t/a/1", 5, "x", 1, &err);
	rocksdb_put(db, wo, "t/a/3", 5, "x", 1, &err);
	for (int i = 0; i < DELETED; i++) {
		snprintf(key, sizeof key, "t/b/%05d", i);
		rocksdb_put(db, wo, key, strlen(key), "x", 1, &err);
	}
	CHECK(err == NULL);
	/* The batch: one of its own under the prefix, one deleted there,
	 * every t/b/ key deleted, and a live key behind them. */
	rocksdb_writebatch_wi_put(wb, "t/a/2", 5, "y", 1);
	rocksdb_writebatch_wi_delete(wb, "t/a/3", 5);
	for (int i = 0; i < DELETED; i++) {
		snprintf(key, sizeof key, "t/b/%05d", i);
		rocksdb_writebatch_wi_delete(wb, key, strlen(key));
	}
	rocksdb_writebatch_wi_put(wb, "t/c", 3, "z", 1);

	rocksdb_readoptions_set_iterate_upper_bound(ro, "t/a0", 4);
	it = view_wbwi_iterator(db, wb, rocksdb_create_iterator(db, ro), "t/a0", 4, &bound);
	rocksdb_iter_seek(it, "t/a/", 4);
	walk(it, "t/a/", out, sizeof out, after);
	CHECK_EQ_STR(out, "t/a/1;t/a/2;");
	/* Without the bound the merge walked the 3,000 deletions to t/c.
	 * RocksDB 7.8 stops on the first entry at or past the bound (here
	 * the deletion t/b/00000) and calls that valid; later versions end
	 * the iteration. Either way nothing past the bound is walked. */
	CHECK(strcmp(after, "") == 0 || strcmp(after, "t/b/00000") == 0);
	rocksdb_iter_get_error(it, &err);
	CHECK(err == NULL);
	rocksdb_iter_destroy(it);
	view_wbwi_bound_free(bound);

	/* No bound (ulen 0): the whole merge, deletions hidden. */
	rocksdb_readoptions_destroy(ro);
	ro = rocksdb_readoptions_create();
	it = view_wbwi_iterator(db, wb, rocksdb_create_iterator(db, ro), NULL, 0, &bound);
	CHECK(bound == NULL);
	rocksdb_iter_seek(it, "t/", 2);
	walk(it, "t/", out, sizeof out, after);
	CHECK_EQ_STR(out, "t/a/1;t/a/2;t/c;");
	CHECK_EQ_STR(after, "");
	rocksdb_iter_destroy(it);
	view_wbwi_bound_free(bound);

	rocksdb_writebatch_wi_destroy(wb);
	rocksdb_readoptions_destroy(ro);
	rocksdb_writeoptions_destroy(wo);
	rocksdb_close(db);
}

int main(void)
{
	test_run("the batch iterator stops at its bound over deletions", test_bound_over_deletions);
	return test_done();
}

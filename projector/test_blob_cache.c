/* test_blob_cache - the body cache of blob.store = log (blob_store.h):
 * put, get, eviction of the least recently used, a blob over the bound, a
 * corrupt file, a crash's temporary files, the order rebuilt from mtimes. */
#include "projector/blob_store.h"
#include "common/ids.h"
#include "tests/unit/testlib.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 64 hex digits naming the test's blob n (not a real hash). */
static const char *fake_id(int n)
{
	static char id[65];

	snprintf(id, sizeof id, "%02x%062d", n, 0);
	return id;
}

/* Sets the mtime of the cache file of id to sec. */
static void set_mtime(const char *dir, const char *id, time_t sec)
{
	char path[1024];
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

	snprintf(path, sizeof path, "%s/%.2s/%s", dir, id, id);
	CHECK(utimensat(AT_FDCWD, path, ts, 0) == 0);
}

/* Cache: put, get, LRU eviction, a blob over the bound, usage. */
static void test_cache(void)
{
	const char *dir = test_tmpdir("cache-1"), *error = NULL;
	struct blob_cache *c = NULL;
	char a[41], b[41], d[41], id_a[65], id_b[65], id_d[65], *data = NULL;
	size_t len = 0;
	uint64_t bytes, files;

	memset(a, 'a', 40), memset(b, 'b', 40), memset(d, 'd', 40);
	a[40] = b[40] = d[40] = '\0';
	evm_sha256_hex(a, 40, id_a);
	evm_sha256_hex(b, 40, id_b);
	evm_sha256_hex(d, 40, id_d);
	CHECK_EQ_INT(blob_cache_open(dir, 100, &c, &error), 0);
	CHECK_EQ_INT(blob_cache_get(c, id_a, &data, &len), 0);
	CHECK_EQ_INT(blob_cache_put(c, id_a, a, 40, &error), 0);
	CHECK_EQ_INT(blob_cache_put(c, id_b, b, 40, &error), 0);
	CHECK_EQ_INT(blob_cache_get(c, id_a, &data, &len), 1);   /* a is now the newest */
	CHECK_EQ_INT(len, 40);
	CHECK(memcmp(data, a, 40) == 0);
	free(data);
	CHECK_EQ_INT(blob_cache_put(c, id_d, d, 40, &error), 0);  /* 120 > 100: b goes */
	CHECK_EQ_INT(blob_cache_has(c, id_b), 0);
	CHECK_EQ_INT(blob_cache_has(c, id_a), 1);
	CHECK_EQ_INT(blob_cache_has(c, id_d), 1);
	CHECK_EQ_INT(blob_cache_get(c, id_b, &data, &len), 0);
	blob_cache_usage(c, &bytes, &files);
	CHECK_EQ_INT(bytes, 80);
	CHECK_EQ_INT(files, 2);
	/* Dropped: gone from the index and the disk. */
	blob_cache_drop(c, id_d);
	CHECK_EQ_INT(blob_cache_has(c, id_d), 0);
	{
		char path[1024];

		snprintf(path, sizeof path, "%s/%.2s/%s", dir, id_d, id_d);
		CHECK(access(path, F_OK) != 0);
	}
	blob_cache_drop(c, id_d);   /* twice: nothing */
	CHECK_EQ_INT(blob_cache_put(c, id_d, d, 40, &error), 0);
	/* Larger than the bound: not stored, nothing evicted. */
	{
		char big[101];

		memset(big, 'x', sizeof big);
		CHECK_EQ_INT(blob_cache_put(c, fake_id(1), big, sizeof big, &error), 0);
		CHECK_EQ_INT(blob_cache_has(c, fake_id(1)), 0);
		CHECK_EQ_INT(blob_cache_has(c, id_d), 1);
		CHECK_EQ_INT(blob_cache_has(c, id_a), 1);
	}
	blob_cache_close(&c);
	CHECK(c == NULL);
	/* A cache of 0 octets keeps nothing. */
	CHECK_EQ_INT(blob_cache_open(test_tmpdir("cache-0"), 0, &c, &error), 0);
	CHECK_EQ_INT(blob_cache_put(c, id_a, a, 40, &error), 0);
	CHECK_EQ_INT(blob_cache_has(c, id_a), 0);
	blob_cache_close(&c);
}

/* A file whose bytes are not its name's is deleted and read as a miss. */
static void test_cache_corrupt(void)
{
	const char *dir = test_tmpdir("cache-2"), *error = NULL;
	struct blob_cache *c = NULL;
	char id[65], path[1024], *data = NULL;
	size_t len = 0;
	FILE *f;

	evm_sha256_hex("hello", 5, id);
	CHECK_EQ_INT(blob_cache_open(dir, 1000, &c, &error), 0);
	CHECK_EQ_INT(blob_cache_put(c, id, "hello", 5, &error), 0);
	snprintf(path, sizeof path, "%s/%.2s/%s", dir, id, id);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("hel", f);   /* a torn write */
	fclose(f);
	CHECK_EQ_INT(blob_cache_get(c, id, &data, &len), 0);
	CHECK(data == NULL);
	CHECK(access(path, F_OK) != 0);
	CHECK_EQ_INT(blob_cache_has(c, id), 0);
	blob_cache_close(&c);
}

/* Reopened: temporary files gone, strays left alone, the list rebuilt
 * from mtimes (the oldest evicted first under a smaller bound). */
static void test_cache_reopen(void)
{
	const char *dir = test_tmpdir("cache-3"), *error = NULL;
	struct blob_cache *c = NULL;
	char ids[3][65], body[3][16], tmp[1024], stray[1024];
	uint64_t bytes, files;
	FILE *f;

	CHECK_EQ_INT(blob_cache_open(dir, 1000, &c, &error), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(body[i], sizeof body[i], "body %d .....", i);   /* 12 octets */
		evm_sha256_hex(body[i], strlen(body[i]), ids[i]);
		CHECK_EQ_INT(blob_cache_put(c, ids[i], body[i], strlen(body[i]), &error), 0);
	}
	blob_cache_close(&c);
	/* 1 is the oldest, then 2, then 0 */
	set_mtime(dir, ids[1], 1000000000);
	set_mtime(dir, ids[2], 1000000100);
	set_mtime(dir, ids[0], 1000000200);
	snprintf(tmp, sizeof tmp, "%s/%.2s/.tmp.%s.1.0", dir, ids[0], ids[0]);
	snprintf(stray, sizeof stray, "%s/%.2s/README", dir, ids[0]);
	CHECK((f = fopen(tmp, "w")) != NULL);
	fputs("half a bo", f);
	fclose(f);
	CHECK((f = fopen(stray, "w")) != NULL);
	fclose(f);
	CHECK_EQ_INT(blob_cache_open(dir, 30, &c, &error), 0);   /* room for two */
	CHECK(access(tmp, F_OK) != 0);
	CHECK(access(stray, F_OK) == 0);
	CHECK_EQ_INT(blob_cache_has(c, ids[1]), 0);
	CHECK_EQ_INT(blob_cache_has(c, ids[2]), 1);
	CHECK_EQ_INT(blob_cache_has(c, ids[0]), 1);
	blob_cache_usage(c, &bytes, &files);
	CHECK_EQ_INT(bytes, 24);
	CHECK_EQ_INT(files, 2);
	blob_cache_close(&c);
}

int main(void)
{
	test_run("blob cache: put, get, least recently used evicted", test_cache);
	test_run("blob cache: a corrupt file is a miss and goes", test_cache_corrupt);
	test_run("blob cache: reopened after a crash", test_cache_reopen);
	return test_done();
}

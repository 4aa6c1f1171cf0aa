/* test_view - the RocksDB view wrapper. */
#include "projector/view.h"
#include "projector/projector_view.h"
#include "projector/view_private.h"
#include "tests/unit/testlib.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct view *open_view(const char *name)
{
	const char *error = NULL;
	struct view *v = NULL;
	char path[1100];

	snprintf(path, sizeof path, "%s/db", test_tmpdir(name));
	if (view_open(path, &v, &error) < 0) {
		fprintf(stderr, "view_open: %s\n", error);
		return NULL;
	}
	return v;
}

static void put_commit(struct view *v, const char *key, const char *val)
{
	struct view_batch *b = view_batch_begin(v);
	const char *error = NULL;

	view_batch_put(b, key, strlen(key), val, strlen(val));
	if (view_batch_commit(&b, &error) < 0)
		fprintf(stderr, "commit: %s\n", error);
}

/* 1 and the value, 0 when missing. */
static int get_str(struct view *v, const char *key, char *out, size_t size)
{
	const char *error = NULL;
	char *val = NULL;
	size_t len = 0;
	int r = view_get(v, key, strlen(key), &val, &len, &error);

	out[0] = '\0';
	if (r == 1) {
		snprintf(out, size, "%s", val);
		if (strlen(val) != len)
			r = -2;
		free(val);
	}
	return r;
}

static int batch_get_str(struct view_batch *b, const char *key, char *out, size_t size)
{
	const char *error = NULL;
	char *val = NULL;
	int r = view_batch_get(b, key, strlen(key), &val, NULL, &error);

	out[0] = '\0';
	if (r == 1) {
		snprintf(out, size, "%s", val);
		free(val);
	}
	return r;
}

struct collect {
	char text[1024];
	int n;
	int stop_after;
};

/* Appends "key=val;" per entry. */
static int collect_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct collect *c = ctx;
	size_t used = strlen(c->text);

	snprintf(c->text + used, sizeof c->text - used, "%.*s=%.*s;", (int)klen, key, (int)vlen, val);
	c->n++;
	return c->stop_after > 0 && c->n >= c->stop_after;
}

static void test_get_put_scan(void)
{
	struct view *v = open_view("view-basic");
	struct collect c = { .n = 0 };
	const char *error = NULL;
	char val[256];

	CHECK(v != NULL);
	CHECK_EQ_INT(get_str(v, "a", val, sizeof val), 0);
	put_commit(v, "dir/x/1", "one");
	put_commit(v, "dir/x/2", "two");
	put_commit(v, "dir/y/1", "other");
	put_commit(v, "dir/x", "prefix-itself");
	CHECK_EQ_INT(get_str(v, "dir/x/1", val, sizeof val), 1);
	CHECK_EQ_STR(val, "one");
	CHECK_EQ_INT(view_scan(v, "dir/x/", 6, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "dir/x/1=one;dir/x/2=two;");
	memset(&c, 0, sizeof c);
	c.stop_after = 1;
	CHECK_EQ_INT(view_scan(v, "dir/", 4, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "dir/x=prefix-itself;");
	/* Binary values with NUL bytes keep their length. */
	{
		struct view_batch *b = view_batch_begin(v);
		char *got = NULL;
		size_t len = 0;
		view_batch_put(b, "bin", 3, "a\0b", 3);
		CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
		CHECK(b == NULL);
		CHECK_EQ_INT(view_get(v, "bin", 3, &got, &len, &error), 1);
		CHECK_EQ_INT(len, 3);
		CHECK(memcmp(got, "a\0b", 4) == 0);
		free(got);
	}
	view_close(&v);
	CHECK(v == NULL);
}

/* Scans are bounded to their prefix inside RocksDB (view.c scan_opts_init):
 * every key of the prefix and nothing else, forward, from a start, in
 * reverse and through a batch, also for a prefix ending in 0xff octets and
 * with deleted keys on both sides. */
static void test_scan_bounds(void)
{
	struct view *v = open_view("view-bounds");
	struct view_batch *b;
	struct collect c = { .n = 0 };
	const char *error = NULL;

	CHECK(v != NULL);
	put_commit(v, "p/a", "before");
	put_commit(v, "p/b/1", "one");
	put_commit(v, "p/b/2", "two");
	put_commit(v, "p/c", "after");
	put_commit(v, "q\xff/1", "ff-one");
	put_commit(v, "q\xff\xff", "ff-ff");
	put_commit(v, "r", "next");
	b = view_batch_begin(v);
	view_batch_delete(b, "p/a", 3);
	view_batch_delete(b, "p/c", 3);
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
	CHECK_EQ_INT(view_scan(v, "p/b/", 4, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "p/b/1=one;p/b/2=two;");
	memset(&c, 0, sizeof c);
	CHECK_EQ_INT(view_scan_from(v, "p/b/", 4, "p/b/2", 5, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "p/b/2=two;");
	memset(&c, 0, sizeof c);
	CHECK_EQ_INT(view_scan_reverse(v, "p/b/", 4, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "p/b/2=two;p/b/1=one;");
	memset(&c, 0, sizeof c);
	CHECK_EQ_INT(view_scan_reverse_from(v, "p/b/", 4, "p/b/1", 5, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "p/b/1=one;");
	memset(&c, 0, sizeof c);
	CHECK_EQ_INT(view_scan(v, "q\xff", 2, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "q\xff/1=ff-one;q\xff\xff=ff-ff;");
	memset(&c, 0, sizeof c);
	CHECK_EQ_INT(view_scan(v, "q\xff\xff", 3, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "q\xff\xff=ff-ff;");
	/* Through a batch: its own writes past the prefix stay out too. */
	b = view_batch_begin(v);
	view_batch_put(b, "p/b/3", 5, "three", 5);
	view_batch_put(b, "p/c", 3, "again", 5);
	memset(&c, 0, sizeof c);
	CHECK_EQ_INT(view_batch_scan(b, "p/b/", 4, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "p/b/1=one;p/b/2=two;p/b/3=three;");
	memset(&c, 0, sizeof c);
	CHECK_EQ_INT(view_batch_scan_from(b, "p/b/", 4, "p/b/2", 5, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "p/b/2=two;p/b/3=three;");
	view_batch_abort(&b);
	view_close(&v);
}

static void test_batch_overlay(void)
{
	struct view *v = open_view("view-batch");
	struct collect c = { .n = 0 };
	const char *error = NULL;
	struct view_batch *b;
	char val[256];

	CHECK(v != NULL);
	put_commit(v, "k/1", "old1");
	put_commit(v, "k/2", "old2");
	put_commit(v, "k/3", "old3");
	b = view_batch_begin(v);
	view_batch_put(b, "k/2", 3, "new2", 4);
	view_batch_put(b, "k/4", 3, "new4", 4);
	view_batch_delete(b, "k/3", 3);
	CHECK_EQ_INT(view_batch_count(b), 3);
	/* The batch reads its own writes over committed state... */
	CHECK_EQ_INT(batch_get_str(b, "k/1", val, sizeof val), 1);
	CHECK_EQ_STR(val, "old1");
	CHECK_EQ_INT(batch_get_str(b, "k/2", val, sizeof val), 1);
	CHECK_EQ_STR(val, "new2");
	CHECK_EQ_INT(batch_get_str(b, "k/3", val, sizeof val), 0);
	CHECK_EQ_INT(view_batch_scan(b, "k/", 2, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "k/1=old1;k/2=new2;k/4=new4;");
	/* ...while committed readers do not see them yet. */
	CHECK_EQ_INT(get_str(v, "k/2", val, sizeof val), 1);
	CHECK_EQ_STR(val, "old2");
	CHECK_EQ_INT(get_str(v, "k/4", val, sizeof val), 0);
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
	CHECK_EQ_INT(get_str(v, "k/2", val, sizeof val), 1);
	CHECK_EQ_STR(val, "new2");
	CHECK_EQ_INT(get_str(v, "k/3", val, sizeof val), 0);
	/* An aborted batch leaves nothing. */
	b = view_batch_begin(v);
	view_batch_put(b, "k/9", 3, "x", 1);
	view_batch_abort(&b);
	CHECK(b == NULL);
	CHECK_EQ_INT(get_str(v, "k/9", val, sizeof val), 0);
	view_close(&v);
}

/* A commit writes the latest write of each key (view_sorted.c): keys
 * written, deleted and written again in one batch, out of key order, with
 * an empty value and a rolled-back write among them. */
static void test_commit_latest_write(void)
{
	struct view *v = open_view("view-latest");
	struct collect c = { .n = 0 };
	const char *error = NULL;
	struct view_batch *b;

	CHECK(v != NULL);
	put_commit(v, "k/d", "oldd");
	put_commit(v, "k/e", "olde");
	b = view_batch_begin(v);
	view_batch_put(b, "k/c", 3, "c1", 2);
	view_batch_put(b, "k/a", 3, "a1", 2);
	view_batch_put(b, "k/b", 3, "b1", 2);
	view_batch_put(b, "k/a", 3, "a2", 2);
	view_batch_delete(b, "k/b", 3);
	view_batch_delete(b, "k/c", 3);
	view_batch_put(b, "k/c", 3, "c2", 2);
	view_batch_delete(b, "k/d", 3);
	view_batch_put(b, "k/e", 3, "", 0);
	view_batch_put(b, "k", 1, "short", 5);
	view_batch_savepoint(b);
	view_batch_put(b, "k/a", 3, "a3", 2);
	CHECK_EQ_INT(view_batch_rollback(b, &error), 0);
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
	CHECK_EQ_INT(view_scan(v, "k", 1, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "k=short;k/a=a2;k/c=c2;k/e=;");
	view_close(&v);
}

static void test_savepoint(void)
{
	struct view *v = open_view("view-savepoint");
	struct collect c = { .n = 0 };
	const char *error = NULL;
	struct view_batch *b;
	char val[256];

	CHECK(v != NULL);
	put_commit(v, "s/base", "b");
	b = view_batch_begin(v);
	view_batch_put(b, "s/kept", 6, "1", 1);
	view_batch_savepoint(b);
	view_batch_put(b, "s/kept", 6, "2", 1);
	view_batch_put(b, "s/undone", 8, "x", 1);
	view_batch_delete(b, "s/base", 6);
	CHECK_EQ_INT(batch_get_str(b, "s/undone", val, sizeof val), 1);
	CHECK_EQ_INT(view_batch_rollback(b, &error), 0);
	CHECK_EQ_INT(batch_get_str(b, "s/kept", val, sizeof val), 1);
	CHECK_EQ_STR(val, "1");
	CHECK_EQ_INT(batch_get_str(b, "s/undone", val, sizeof val), 0);
	CHECK_EQ_INT(batch_get_str(b, "s/base", val, sizeof val), 1);
	/* Marks never rolled back stay harmless; a later one still works. */
	view_batch_savepoint(b);
	view_batch_put(b, "s/after", 7, "a", 1);
	view_batch_savepoint(b);
	view_batch_put(b, "s/gone", 6, "g", 1);
	CHECK_EQ_INT(view_batch_rollback(b, &error), 0);
	CHECK_EQ_INT(view_batch_scan(b, "s/", 2, collect_cb, &c, &error), 0);
	CHECK_EQ_STR(c.text, "s/after=a;s/base=b;s/kept=1;");
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
	CHECK_EQ_INT(get_str(v, "s/undone", val, sizeof val), 0);
	CHECK_EQ_INT(get_str(v, "s/after", val, sizeof val), 1);
	/* Rolling back with no mark is an error, not a crash. */
	b = view_batch_begin(v);
	CHECK_EQ_INT(view_batch_rollback(b, &error), -1);
	view_batch_abort(&b);
	view_close(&v);
}

static void test_digest(void)
{
	struct view *a = open_view("view-digest-a");
	struct view *b = open_view("view-digest-b");
	char da[65], db[65], dc[65];
	const char *error = NULL;
	uint64_t ka = 0, kb = 0;

	CHECK(a != NULL && b != NULL);
	/* Same content, written in a different order and batching. */
	put_commit(a, "x/1", "one");
	put_commit(a, "x/2", "two");
	put_commit(b, "x/2", "two");
	put_commit(b, "x/1", "one");
	put_commit(b, "local/node", "b-only");
	CHECK_EQ_INT(view_digest(a, da, &ka, &error), 0);
	CHECK_EQ_INT(view_digest(b, db, &kb, &error), 0);
	CHECK_EQ_INT(strlen(da), 64);
	CHECK_EQ_STR(da, db);
	CHECK_EQ_INT(ka, 2);
	CHECK_EQ_INT(kb, 2);
	/* A different value, or a key/value boundary moved, differs. */
	put_commit(b, "x/2", "twO");
	CHECK_EQ_INT(view_digest(b, dc, NULL, &error), 0);
	CHECK(strcmp(da, dc) != 0);
	put_commit(b, "x/2", "two");
	put_commit(a, "x/3", "ab");
	put_commit(b, "x/3a", "b");
	CHECK_EQ_INT(view_digest(a, da, NULL, &error), 0);
	CHECK_EQ_INT(view_digest(b, db, NULL, &error), 0);
	CHECK(strcmp(da, db) != 0);
	/* The empty view's digest is SHA-256 of nothing. */
	CHECK_EQ_INT(view_wipe(a, &error), 0);
	CHECK_EQ_INT(view_digest(a, da, &ka, &error), 0);
	CHECK_EQ_STR(da, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_EQ_INT(ka, 0);
	view_close(&a);
	view_close(&b);
}

static void test_wipe(void)
{
	struct view *v = open_view("view-wipe");
	const char *error = NULL;
	char val[256];

	CHECK(v != NULL);
	put_commit(v, "w/1", "one");
	put_commit(v, "local/id", "n1");
	CHECK_EQ_INT(view_wipe(v, &error), 0);
	CHECK_EQ_INT(get_str(v, "w/1", val, sizeof val), 0);
	CHECK_EQ_INT(get_str(v, "local/id", val, sizeof val), 0);
	/* Usable again after the wipe. */
	put_commit(v, "w/2", "two");
	CHECK_EQ_INT(get_str(v, "w/2", val, sizeof val), 1);
	CHECK_EQ_STR(val, "two");
	view_close(&v);
}

/* A wipe killed part way (projector/view.c wipe_aside): killed after the
 * rename, the path is gone and the old files are under <path>.wiping; the
 * next open starts empty and removes them. Killed before it, the whole
 * old view opens. Never a database that does not open. */
static void test_wipe_killed(void)
{
	const char *dir = test_tmpdir("view-wipe-killed");
	const char *error = NULL;
	struct view *v = NULL;
	char path[1100], aside[1200], junk[1300], val[64];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof path, "%s/db", dir);
	snprintf(aside, sizeof aside, "%s.wiping", path);
	CHECK_EQ_INT(view_open(path, &v, &error), 0);
	put_commit(v, "k/1", "old");
	view_close(&v);
	/* killed right after the rename, with a half-deleted leftover */
	CHECK_EQ_INT(rename(path, aside), 0);
	snprintf(junk, sizeof junk, "%s/sub", aside);
	CHECK_EQ_INT(mkdir(junk, 0700), 0);
	snprintf(junk, sizeof junk, "%s/sub/file", aside);
	CHECK((f = fopen(junk, "w")) != NULL);
	fclose(f);
	CHECK_EQ_INT(view_open(path, &v, &error), 0);
	CHECK_EQ_INT(get_str(v, "k/1", val, sizeof val), 0);
	CHECK(stat(aside, &st) < 0 && errno == ENOENT);
	put_commit(v, "k/2", "new");
	/* a wipe leaves no leftover either */
	CHECK_EQ_INT(view_wipe(v, &error), 0);
	CHECK(stat(aside, &st) < 0 && errno == ENOENT);
	CHECK_EQ_INT(get_str(v, "k/2", val, sizeof val), 0);
	view_close(&v);
}

static void test_reopen(void)
{
	const char *dir = test_tmpdir("view-reopen");
	const char *error = NULL;
	struct view *v = NULL;
	char path[1100], val[64];

	snprintf(path, sizeof path, "%s/db", dir);
	CHECK_EQ_INT(view_open(path, &v, &error), 0);
	put_commit(v, "p/1", "kept");
	view_close(&v);
	CHECK_EQ_INT(view_open(path, &v, &error), 0);
	CHECK_EQ_INT(get_str(v, "p/1", val, sizeof val), 1);
	CHECK_EQ_STR(val, "kept");
	view_close(&v);
}

/* Bulk apply: the marker is there from view_bulk_begin (also after a
 * reopen without view_bulk_end, i.e. a crash or stop), not in the digest,
 * gone after view_bulk_end with the data kept, and gone after a wipe. */
static void test_bulk_marker(void)
{
	const char *dir = test_tmpdir("view-bulk");
	const char *error = NULL;
	struct view *v = NULL;
	char path[1100], val[64], d0[65], d1[65];

	snprintf(path, sizeof path, "%s/db", dir);
	CHECK_EQ_INT(view_open(path, &v, &error), 0);
	CHECK_EQ_INT(view_bulk_marked(v, &error), 0);
	put_commit(v, "b/0", "before");
	CHECK_EQ_INT(view_digest(v, d0, NULL, &error), 0);
	CHECK_EQ_INT(view_bulk_begin(v, &error), 0);
	CHECK_EQ_INT(view_bulk_marked(v, &error), 1);
	CHECK_EQ_INT(view_digest(v, d1, NULL, &error), 0);
	CHECK_EQ_STR(d1, d0);
	put_commit(v, "b/1", "bulk");
	CHECK_EQ_INT(get_str(v, "b/1", val, sizeof val), 1);
	view_close(&v);
	/* Reopened without view_bulk_end: still marked. */
	CHECK_EQ_INT(view_open(path, &v, &error), 0);
	CHECK_EQ_INT(view_bulk_marked(v, &error), 1);
	CHECK_EQ_INT(view_bulk_end(v, &error), 0);
	CHECK_EQ_INT(view_bulk_marked(v, &error), 0);
	CHECK_EQ_INT(view_bulk_begin(v, &error), 0);
	put_commit(v, "b/2", "flushed");
	CHECK_EQ_INT(view_bulk_end(v, &error), 0);
	put_commit(v, "b/3", "after");
	view_close(&v);
	CHECK_EQ_INT(view_open(path, &v, &error), 0);
	CHECK_EQ_INT(view_bulk_marked(v, &error), 0);
	CHECK_EQ_INT(get_str(v, "b/2", val, sizeof val), 1);
	CHECK_EQ_STR(val, "flushed");
	CHECK_EQ_INT(get_str(v, "b/3", val, sizeof val), 1);
	CHECK_EQ_INT(view_bulk_begin(v, &error), 0);
	CHECK_EQ_INT(view_wipe(v, &error), 0);
	CHECK_EQ_INT(view_bulk_marked(v, &error), 0);
	view_close(&v);
}

/* Bytes in the active memtable. */
static uint64_t active_memtable(struct view *v)
{
	uint64_t n = 0;

	if (rocksdb_property_int(v->db, "rocksdb.cur-size-active-mem-table", &n) != 0)
		test_fail(__FILE__, __LINE__, "no rocksdb.cur-size-active-mem-table");
	return n;
}

/* Writes 3 MiB in 1 KiB values under prefix, 64 per commit. */
static void put_3mib(struct view *v, const char *prefix)
{
	char key[64], val[1024];
	const char *error = NULL;

	memset(val, 'x', sizeof val);
	for (int i = 0; i < 3072; i += 64) {
		struct view_batch *b = view_batch_begin(v);
		for (int k = i; k < i + 64; k++) {
			snprintf(key, sizeof key, "%s/%05d", prefix, k);
			view_batch_put(b, key, strlen(key), val, sizeof val);
		}
		CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
	}
}

/* A small memtable (projector.view_write_buffer_mb) grows to 64 MiB for
 * bulk apply and is small again after it: 3 MiB stay in one memtable
 * during bulk apply, but not after (flushed at 1 MiB). */
static void test_bulk_memtable(void)
{
	const char *dir = test_tmpdir("view-bulk-mem");
	const char *error = NULL;
	struct view *v = NULL;
	char path[1100];

	snprintf(path, sizeof path, "%s/db", dir);
	CHECK_EQ_INT(view_open_sized(path, 1 << 20, &v, &error), 0);
	put_3mib(v, "a");
	CHECK(active_memtable(v) < (2u << 20));
	CHECK_EQ_INT(view_bulk_begin(v, &error), 0);
	/* The new size takes effect from the next memtable on. */
	put_3mib(v, "b");
	put_3mib(v, "c");
	CHECK(active_memtable(v) >= (3u << 20));
	CHECK_EQ_INT(view_bulk_end(v, &error), 0);
	put_3mib(v, "d");
	CHECK(active_memtable(v) < (2u << 20));
	view_close(&v);
}

/* 1 when some file of directory dir holds needle. */
static int dir_holds(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;

	while (d != NULL && !found && (de = readdir(d)) != NULL) {
		char path[1400], *data;
		FILE *f;
		long len;

		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (de->d_type != DT_REG || (f = fopen(path, "rb")) == NULL)
			continue;
		if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
			data = malloc((size_t)len);
			if (data != NULL && fread(data, 1, (size_t)len, f) == (size_t)len)
				found = memmem(data, (size_t)len, needle, strlen(needle)) != NULL;
			free(data);
		}
		fclose(f);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

/* view_compact: a deleted value (a large one, in a blob file, and a small
 * one, in a table) is in the view's files before (the write-ahead log or
 * a table) and in none after; a live value stays readable. */
static void test_compact(void)
{
	const char *dir = test_tmpdir("view-compact"), *error = NULL;
	struct view *v = NULL;
	struct view_batch *b;
	char path[1100], val[64], *big = malloc(20000);

	CHECK(big != NULL);
	snprintf(path, sizeof path, "%s/db", dir);
	CHECK_EQ_INT(view_open(path, &v, &error), 0);
	for (int i = 0; i < 20000; i++)
		big[i] = (char)('a' + i % 26);
	/* Markers with no 4 octets in common: a compressed table keeps each
	 * whole (no back reference into another). */
	memcpy(big + 5000, "ZXCVBNMASDFGHJKLQ", 17);
	big[19999] = '\0';
	put_commit(v, "c/big", big);
	put_commit(v, "c/small", "QWJXZKVPLMNBTRYE");
	put_commit(v, "c/live", "HGFDSAPOIUYTREW");
	CHECK_EQ_INT(view_compact(v, &error), 0);
	CHECK(dir_holds(path, "ZXCVBNMASDFGHJKLQ"));
	CHECK(dir_holds(path, "QWJXZKVPLMNBTRYE"));
	b = view_batch_begin(v);
	view_batch_delete(b, "c/big", 5);
	view_batch_delete(b, "c/small", 7);
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
	CHECK_EQ_INT(view_compact(v, &error), 0);
	CHECK(!dir_holds(path, "ZXCVBNMASDFGHJKLQ"));
	CHECK(!dir_holds(path, "QWJXZKVPLMNBTRYE"));
	CHECK(dir_holds(path, "HGFDSAPOIUYTREW"));
	CHECK_EQ_INT(get_str(v, "c/live", val, sizeof val), 1);
	CHECK_EQ_STR(val, "HGFDSAPOIUYTREW");
	view_close(&v);
	free(big);
}

int main(void)
{
	test_run("get, put and prefix scan", test_get_put_scan);
	test_run("scans stay within their prefix", test_scan_bounds);
	test_run("batch reads through its own writes", test_batch_overlay);
	test_run("a commit writes the latest write of each key", test_commit_latest_write);
	test_run("save points roll back one event's writes", test_savepoint);
	test_run("digest: same content equal, local/ excluded", test_digest);
	test_run("wipe empties the view", test_wipe);
	test_run("a wipe killed part way leaves a view that opens", test_wipe_killed);
	test_run("committed data survives reopen", test_reopen);
	test_run("bulk apply: marker until ended, data flushed", test_bulk_marker);
	test_run("bulk apply: a small memtable grows to 64 MiB and back", test_bulk_memtable);
	test_run("compact: deleted values leave the files", test_compact);
	return test_done();
}

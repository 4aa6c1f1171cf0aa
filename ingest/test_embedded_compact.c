/* Unit tests of the embedded log's compaction: latest record per key kept
 * with its offset, tombstones kept until their retention, the active
 * segment and delete topics untouched, readers across gaps, a crash before
 * and after the rename (forked child), compaction beside appends and a
 * reader on other threads. */
#include "ingest/embedded_log.h"
#include "ingest/embedded_compact.h"
#include "ingest/embedded_record.h"
#include "ingest/embedded_testutil.h"
#include "common/ids.h"
#include "tests/unit/testlib.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEG 4096
#define NREC 400
#define DAY_MS 86400000LL

/* One appended record as the test remembers it. */
struct rec {
	int64_t offset;
	char key[16];
	char value[256];
};

struct model {
	struct rec v[NREC * 2];
	size_t n;
};

/* A value of about 150 bytes naming key and sequence. */
static const char *value_of(int key, int seq)
{
	static char v[256];

	snprintf(v, sizeof v, "k%d-s%d-%0140d", key, seq, 0);
	return v;
}

/* Appends key=value to topic partition 0 and remembers it. */
static int put(struct t_log *t, struct model *m, enum evm_topic_id topic, const char *key,
	       const char *value)
{
	struct t_ack ack;

	if (t_append(t, topic, 0, key, value, &ack) < 0)
		return -1;
	t_drain(t);
	if (ack.status != 0 || m->n >= sizeof m->v / sizeof m->v[0])
		return -1;
	m->v[m->n].offset = ack.offset;
	snprintf(m->v[m->n].key, sizeof m->v[m->n].key, "%s", key);
	snprintf(m->v[m->n].value, sizeof m->v[m->n].value, "%s", value);
	m->n++;
	return 0;
}

/* Path of partition 0 of topic suffix. */
static const char *part_dir(const char *dir, const char *suffix)
{
	static char path[1200];

	snprintf(path, sizeof path, "%s/log/evmail.%s/0", dir, suffix);
	return path;
}

/* Sum of the segment sizes in pdir, the base of the last segment, and
 * whether a compaction's temporary file is there. */
static long long dir_bytes(const char *pdir, long long *last_base_r, int *temp_r)
{
	DIR *d = opendir(pdir);
	struct dirent *de;
	long long total = 0;

	*last_base_r = -1;
	*temp_r = 0;
	while (d != NULL && (de = readdir(d)) != NULL) {
		char path[1400];
		struct stat st;
		if (strstr(de->d_name, ".compact") != NULL)
			*temp_r = 1;
		if (strlen(de->d_name) != 24 || strcmp(de->d_name + 20, ".log") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", pdir, de->d_name);
		if (stat(path, &st) == 0)
			total += st.st_size;
		if (atoll(de->d_name) > *last_base_r)
			*last_base_r = atoll(de->d_name);
	}
	if (d != NULL)
		closedir(d);
	return total;
}

/* Whether record i survives a compaction: outside the closed segments (at
 * or after active_base), or the latest of its key and not a tombstone
 * older than the retention (expired). */
static int survives(const struct model *m, size_t i, int64_t active_base, int expired)
{
	if (m->v[i].offset >= active_base)
		return 1;
	for (size_t j = i + 1; j < m->n; j++) {
		if (strcmp(m->v[j].key, m->v[i].key) == 0)
			return 0;
	}
	return !(expired && m->v[i].value[0] == '\0');
}

struct got {
	struct rec v[NREC * 2];
	size_t n;
	int bad;
};

static int got_cb(void *ctx, const struct evlog_record *r, const char **error_r)
{
	struct got *g = ctx;

	if (g->n >= sizeof g->v / sizeof g->v[0] || r->key_len >= 16 || r->value_len >= 256 ||
	    (g->n > 0 && r->offset <= g->v[g->n - 1].offset)) {
		g->bad = 1;
		return 0;
	}
	g->v[g->n].offset = r->offset;
	memcpy(g->v[g->n].key, r->key, r->key_len);
	g->v[g->n].key[r->key_len] = '\0';
	memcpy(g->v[g->n].value, r->value, r->value_len);
	g->v[g->n].value[r->value_len] = '\0';
	g->n++;
	return 0;
}

/* Reads topic partition 0 from offset from to its end offset. */
static int read_from(struct t_log *t, enum evm_topic_id topic, int64_t from, struct got *g)
{
	struct evlog_reader *r;
	const char *error;
	int n;

	memset(g, 0, sizeof *g);
	if (evlog_reader_open(t->log, &r, &error) < 0 ||
	    evlog_reader_assign(r, topic, 0, from, &error) < 0)
		return -1;
	while ((n = evlog_reader_poll(r, 20, 37, got_cb, g, &error)) > 0)
		;
	if (n < 0)
		fprintf(stderr, "read: %s\n", error);
	evlog_reader_close(&r);
	return n < 0 || g->bad ? -1 : 0;
}

/* Whether g is exactly the records of m that survive, in order. */
static int matches(const struct got *g, const struct model *m, int64_t from, int64_t active_base,
		   int expired)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].offset < from || !survives(m, i, active_base, expired))
			continue;
		if (k >= g->n || g->v[k].offset != m->v[i].offset ||
		    strcmp(g->v[k].key, m->v[i].key) != 0 || strcmp(g->v[k].value, m->v[i].value) != 0) {
			fprintf(stderr, "mismatch at read %zu (offset %lld)\n", k,
				(long long)m->v[i].offset);
			return 0;
		}
		k++;
	}
	return k == g->n;
}

/* Fills the blob topic: unique keys (kept), keys rewritten over and over
 * (mostly garbage, so closed segments keep records with gaps between and
 * after them) and tombstones of some unique keys. */
static int fill(struct t_log *t, struct model *m)
{
	char key[16];

	for (int i = 0; i < 120; i++) {
		const char *value = value_of(i % 12, i);
		if (i % 3 == 0) {
			snprintf(key, sizeof key, "u%d", i);
		} else if (i > 60 && i % 6 == 5) {
			snprintf(key, sizeof key, "u%d", i - 59);
			value = "";
		} else {
			snprintf(key, sizeof key, "key%d", i % 12);
		}
		if (put(t, m, EVM_TOPIC_BLOB, key, value) < 0)
			return -1;
	}
	return 0;
}

static int64_t end_offset(struct t_log *t, enum evm_topic_id topic)
{
	struct evlog_reader *r;
	const char *error;
	int64_t end = -1;

	if (evlog_reader_open(t->log, &r, &error) == 0)
		(void)evlog_reader_end_offset(r, topic, 0, 0, &end, &error);
	evlog_reader_close(&r);
	return end;
}

static void test_compact_latest_kept(void)
{
	const char *dir = test_tmpdir("emb_compact"), *error;
	const char *pdir = part_dir(dir, "blob");
	static struct model m;
	static struct got g;
	struct t_log t;
	long long before, after, active_before, active_after, base;
	int temp;
	char active[1400];
	struct stat st;

	memset(&m, 0, sizeof m);
	CHECK(t_open(&t, dir, 1, SEG, 0, &error) == 0);
	CHECK(fill(&t, &m) == 0);
	before = dir_bytes(pdir, &base, &temp);
	CHECK(base > 0);
	snprintf(active, sizeof active, "%s/%020lld.log", pdir, base);
	CHECK(stat(active, &st) == 0);
	active_before = st.st_size;

	/* Now: the tombstones are young and stay. */
	CHECK(emb_compact_run((struct embedded_log *)t.log, evm_now_ms(), &error) == 0);
	after = dir_bytes(pdir, &base, &temp);
	CHECK(after < before);
	CHECK(stat(active, &st) == 0);
	active_after = st.st_size;
	CHECK_EQ_INT(active_after, active_before);
	CHECK_EQ_INT(end_offset(&t, EVM_TOPIC_BLOB), 120);
	CHECK(read_from(&t, EVM_TOPIC_BLOB, 0, &g) == 0);
	CHECK(matches(&g, &m, 0, base, 0));
	/* A reader at every offset starts at the next surviving record. */
	for (int64_t from = 0; from <= 120; from++) {
		CHECK(read_from(&t, EVM_TOPIC_BLOB, from, &g) == 0);
		CHECK(matches(&g, &m, from, base, 0));
	}
	/* Another pass finds nothing to do. */
	CHECK(emb_compact_run((struct embedded_log *)t.log, evm_now_ms(), &error) == 0);
	CHECK_EQ_INT(dir_bytes(pdir, &base, &temp), after);

	/* Two days later the tombstones in closed segments are gone too. */
	CHECK(emb_compact_run((struct embedded_log *)t.log, evm_now_ms() + 2 * DAY_MS, &error) == 0);
	CHECK(dir_bytes(pdir, &base, &temp) < after);
	CHECK(read_from(&t, EVM_TOPIC_BLOB, 0, &g) == 0);
	CHECK(matches(&g, &m, 0, base, 1));

	struct emb_compact_stats st2;
	emb_compact_stats_get((struct embedded_log *)t.log, &st2);
	CHECK_EQ_INT(st2.runs, 3);
	CHECK(st2.bytes_reclaimed == (uint64_t)(before - dir_bytes(pdir, &base, &temp)));
	CHECK(st2.records_removed > 0);
	CHECK(st2.segments_removed + st2.segments_rewritten > 0);
	t_close(&t);

	/* Reopen: the same records, appends go on at the end offset. */
	CHECK(t_open(&t, dir, 1, SEG, 0, &error) == 0);
	CHECK(read_from(&t, EVM_TOPIC_BLOB, 0, &g) == 0);
	CHECK(matches(&g, &m, 0, base, 1));
	CHECK(read_from(&t, EVM_TOPIC_BLOB, 100, &g) == 0);
	CHECK(matches(&g, &m, 100, base, 1));
	CHECK(put(&t, &m, EVM_TOPIC_BLOB, "key0", "again") == 0);
	CHECK_EQ_INT(m.v[m.n - 1].offset, 120);
	CHECK(read_from(&t, EVM_TOPIC_BLOB, 119, &g) == 0);
	CHECK_EQ_INT(g.n, 2);
	CHECK_EQ_STR(g.v[1].value, "again");
	CHECK(!temp);
	t_close(&t);
}

/* Every record of a key replaced later: whole segments empty and go; the
 * log then starts after offset 0 and a reader from 0 starts there. */
static void test_empty_segments_dropped(void)
{
	const char *dir = test_tmpdir("emb_compact_empty"), *error;
	const char *pdir = part_dir(dir, "blob");
	static struct model m;
	static struct got g;
	struct t_log t;
	long long base;
	int temp;
	char first[1400];
	struct stat st;

	memset(&m, 0, sizeof m);
	CHECK(t_open(&t, dir, 1, SEG, 0, &error) == 0);
	for (int i = 0; i < 60; i++)
		CHECK(put(&t, &m, EVM_TOPIC_BLOB, "same", value_of(0, i)) == 0);
	CHECK(emb_compact_run((struct embedded_log *)t.log, evm_now_ms(), &error) == 0);
	snprintf(first, sizeof first, "%s/%020d.log", pdir, 0);
	CHECK(stat(first, &st) < 0);
	(void)dir_bytes(pdir, &base, &temp);
	CHECK(read_from(&t, EVM_TOPIC_BLOB, 0, &g) == 0);
	CHECK(matches(&g, &m, 0, base, 0));
	CHECK(g.n >= 1 && g.v[g.n - 1].offset == 59);
	t_close(&t);
	CHECK(t_open(&t, dir, 1, SEG, 0, &error) == 0);
	CHECK_EQ_INT(end_offset(&t, EVM_TOPIC_BLOB), 60);
	CHECK(read_from(&t, EVM_TOPIC_BLOB, 0, &g) == 0);
	CHECK(matches(&g, &m, 0, base, 0));
	t_close(&t);
}

/* The mail topic (cleanup.policy delete) keeps every record. */
static void test_delete_topic_untouched(void)
{
	const char *dir = test_tmpdir("emb_compact_delete"), *error;
	const char *pdir = part_dir(dir, "mail");
	static struct model m;
	static struct got g;
	struct t_log t;
	long long before, base;
	int temp;

	memset(&m, 0, sizeof m);
	CHECK(t_open(&t, dir, 1, SEG, 0, &error) == 0);
	for (int i = 0; i < 60; i++)
		CHECK(put(&t, &m, EVM_TOPIC_MAIL, "same", i % 7 == 0 ? "" : value_of(0, i)) == 0);
	before = dir_bytes(pdir, &base, &temp);
	CHECK(emb_compact_run((struct embedded_log *)t.log, evm_now_ms() + 2 * DAY_MS, &error) == 0);
	CHECK_EQ_INT(dir_bytes(pdir, &base, &temp), before);
	CHECK(read_from(&t, EVM_TOPIC_MAIL, 0, &g) == 0);
	CHECK_EQ_INT(g.n, 60);
	t_close(&t);
}

/* A crash at point (1: before the rename, 2: after it) in a forked child
 * leaves a log that reopens with every latest record; the next pass then
 * compacts it exactly. */
static void crash_case(const char *name, int point)
{
	const char *dir = test_tmpdir(name), *error;
	const char *pdir = part_dir(dir, "blob");
	static struct model m;
	static struct got g;
	struct t_log t;
	long long base;
	int status, temp;
	pid_t pid;

	memset(&m, 0, sizeof m);
	CHECK(t_open(&t, dir, 1, SEG, 0, &error) == 0);
	CHECK(fill(&t, &m) == 0);
	t_close(&t);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (t_open(&t, dir, 1, SEG, 0, &error) < 0)
			_exit(2);
		emb_test_compact_crash(point);
		(void)emb_compact_run((struct embedded_log *)t.log, evm_now_ms(), &error);
		_exit(3);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ_INT(WEXITSTATUS(status), EMB_TEST_CRASH_STATUS);
	(void)dir_bytes(pdir, &base, &temp);
	CHECK(temp == (point == 1));
	CHECK(t_open(&t, dir, 1, SEG, 0, &error) == 0);
	(void)dir_bytes(pdir, &base, &temp);
	CHECK(!temp);
	/* Old or new file: every surviving record is there, in order, and
	 * nothing that was not appended. */
	CHECK(read_from(&t, EVM_TOPIC_BLOB, 0, &g) == 0);
	size_t k = 0;
	for (size_t i = 0; i < m.n && k < g.n; i++) {
		if (m.v[i].offset == g.v[k].offset) {
			CHECK_EQ_STR(g.v[k].value, m.v[i].value);
			k++;
		} else {
			CHECK(!survives(&m, i, base, 0));
		}
	}
	CHECK_EQ_INT(k, g.n);
	CHECK_EQ_INT(g.v[g.n - 1].offset, 119);
	CHECK(emb_compact_run((struct embedded_log *)t.log, evm_now_ms(), &error) == 0);
	CHECK(read_from(&t, EVM_TOPIC_BLOB, 0, &g) == 0);
	CHECK(matches(&g, &m, 0, base, 0));
	CHECK_EQ_INT(end_offset(&t, EVM_TOPIC_BLOB), 120);
	t_close(&t);
}

static void test_crash_before_rename(void)
{
	crash_case("emb_compact_crash1", 1);
}

static void test_crash_after_rename(void)
{
	crash_case("emb_compact_crash2", 2);
}

/* Rewrites segment path without its record number skip (a gap), or with
 * one byte of that record flipped (flip: damage). */
static int damage_segment(const char *path, int skip, int flip)
{
	FILE *f = fopen(path, "rb");
	static uint8_t data[1 << 16];
	size_t len, pos = 0, cut = 0, cut_len = 0;
	int k = 0;

	if (f == NULL)
		return -1;
	len = fread(data, 1, sizeof data, f);
	fclose(f);
	while (pos < len) {
		struct emb_record rec;
		const char *why;
		size_t size;
		if (emb_record_decode(data + pos, len - pos, &rec, &size, &why) != 1)
			return -1;
		if (k++ == skip) {
			cut = pos;
			cut_len = size;
		}
		pos += size;
	}
	if (cut_len == 0)
		return -1;
	if (flip) {
		data[cut + cut_len - 1] ^= 0x40;
	} else {
		memmove(data + cut, data + cut + cut_len, len - cut - cut_len);
		len -= cut_len;
	}
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	return fclose(f);
}

/* A gap in a delete topic stays damage; so does a bad record in a
 * compacted segment: the reader fails rather than skip. */
static void test_damage_still_detected(void)
{
	const char *dir = test_tmpdir("emb_compact_damage"), *error;
	static struct model m;
	static struct got g;
	struct t_log t;
	char path[1400];

	memset(&m, 0, sizeof m);
	CHECK(t_open(&t, dir, 1, SEG, 0, &error) == 0);
	for (int i = 0; i < 60; i++)
		CHECK(put(&t, &m, EVM_TOPIC_MAIL, "k", value_of(0, i)) == 0);
	CHECK(fill(&t, &m) == 0);
	CHECK(emb_compact_run((struct embedded_log *)t.log, evm_now_ms(), &error) == 0);
	t_close(&t);
	snprintf(path, sizeof path, "%s/%020d.log", part_dir(dir, "mail"), 0);
	CHECK(damage_segment(path, 3, 0) == 0);
	/* The first blob segment that still exists, compacted. */
	long long base;
	int temp;
	(void)dir_bytes(part_dir(dir, "blob"), &base, &temp);
	int found = 0;
	for (int i = 0; i < (int)m.n && !found; i++) {
		snprintf(path, sizeof path, "%s/%020lld.log", part_dir(dir, "blob"), (long long)m.v[i].offset);
		found = m.v[i].offset < base && access(path, F_OK) == 0;
	}
	CHECK(found);
	CHECK(damage_segment(path, 0, 1) == 0);
	CHECK(t_open(&t, dir, 1, SEG, 0, &error) == 0);
	CHECK(read_from(&t, EVM_TOPIC_MAIL, 0, &g) < 0);
	CHECK(read_from(&t, EVM_TOPIC_BLOB, 0, &g) < 0);
	t_close(&t);
}

#define CKEYS 20
#define CRECS 1500

struct concurrent {
	struct t_log *t;
	int stop;                    /* atomic */
	int failed;                  /* atomic */
	int passes;
	char last[CKEYS][64];        /* reader: last value seen per key */
	int64_t reader_end;
};

/* Compacts again and again until told to stop. */
static void *compact_thread(void *arg)
{
	struct concurrent *c = arg;
	const char *error;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		if (emb_compact_run((struct embedded_log *)c->t->log, evm_now_ms(), &error) < 0) {
			fprintf(stderr, "compaction: %s\n", error);
			__atomic_store_n(&c->failed, 1, __ATOMIC_RELEASE);
		}
		c->passes++;
	}
	return NULL;
}

static int last_cb(void *ctx, const struct evlog_record *r, const char **error_r)
{
	struct concurrent *c = ctx;
	int key;

	if (r->offset < c->reader_end || r->key_len < 2 || (key = atoi((const char *)r->key + 1)) < 0 ||
	    key >= CKEYS || r->value_len >= 64) {
		*error_r = "bad record";
		return -1;
	}
	memcpy(c->last[key], r->value, r->value_len);
	c->last[key][r->value_len] = '\0';
	c->reader_end = r->offset + 1;
	return 0;
}

/* Reads from 0 while appends and compactions go on, then to the end. */
static void *reader_thread(void *arg)
{
	struct concurrent *c = arg;
	struct evlog_reader *r;
	const char *error;
	int n = 0;

	if (evlog_reader_open(c->t->log, &r, &error) < 0 ||
	    evlog_reader_assign(r, EVM_TOPIC_BLOB, 0, 0, &error) < 0) {
		__atomic_store_n(&c->failed, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE) && n >= 0)
		n = evlog_reader_poll(r, 5, 7, last_cb, c, &error);
	while (n > 0 || (n == 0 && c->reader_end < CRECS))
		n = evlog_reader_poll(r, 5, 7, last_cb, c, &error);
	if (n < 0) {
		fprintf(stderr, "reader: %s\n", error);
		__atomic_store_n(&c->failed, 1, __ATOMIC_RELEASE);
	}
	evlog_reader_close(&r);
	return NULL;
}

/* Appends on this (the loop) thread while another compacts and another
 * reads: the reader sees offsets only increase and every key's last value. */
static void test_concurrent(void)
{
	const char *dir = test_tmpdir("emb_compact_threads"), *error;
	static struct concurrent c;
	static struct model m;
	struct t_log t;
	pthread_t ct, rt;
	char key[16], value[64];

	memset(&c, 0, sizeof c);
	memset(&m, 0, sizeof m);
	CHECK(t_open(&t, dir, 1, SEG, 0, &error) == 0);
	c.t = &t;
	CHECK(pthread_create(&ct, NULL, compact_thread, &c) == 0);
	CHECK(pthread_create(&rt, NULL, reader_thread, &c) == 0);
	for (int i = 0; i < CRECS; i++) {
		struct t_ack ack;
		snprintf(key, sizeof key, "k%d", i % CKEYS);
		snprintf(value, sizeof value, "v%d-%040d", i, 0);
		if (t_append(&t, EVM_TOPIC_BLOB, 0, key, value, &ack) < 0)
			break;
		if (i % 5 == 4)
			t_drain(&t);
	}
	t_drain(&t);
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(ct, NULL);
	pthread_join(rt, NULL);
	CHECK(!c.failed);
	CHECK(c.passes > 0);
	struct emb_compact_stats st;
	emb_compact_stats_get((struct embedded_log *)t.log, &st);
	CHECK(st.records_removed > 0);
	CHECK_EQ_INT(c.reader_end, CRECS);
	for (int k = 0; k < CKEYS; k++) {
		int i = CRECS - CKEYS + k;
		snprintf(value, sizeof value, "v%d-%040d", i, 0);
		CHECK_EQ_STR(c.last[k], value);
	}
	t_close(&t);
}

int main(void)
{
	evthread_use_pthreads();
	test_run("duplicates and tombstones compacted, offsets kept, readers", test_compact_latest_kept);
	test_run("segments left empty are deleted", test_empty_segments_dropped);
	test_run("delete topics are not compacted", test_delete_topic_untouched);
	test_run("damage is still detected", test_damage_still_detected);
	test_run("crash before the rename", test_crash_before_rename);
	test_run("crash after the rename", test_crash_after_rename);
	test_run("compaction beside appends and a reader", test_concurrent);
	return test_done();
}

/* Unit tests of the embedded log: appends, segments, reopen, readers,
 * topics, the lock. Recovery tests are in test_embedded_recovery.c. */
#include "ingest/embedded_log.h"
#include "ingest/embedded_record.h"
#include "ingest/embedded_testutil.h"
#include "common/ids.h"
#include "tests/unit/testlib.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NPART 3

/* Number of segment files in a partition directory. */
static int count_segments(const char *dir, const char *topic, int partition)
{
	char path[1200];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof path, "%s/log/%s/%d", dir, topic, partition);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".log") != NULL;
	closedir(d);
	return n;
}

/* Appends n records per partition (values t_value(p, offset)), checks the
 * acknowledged offsets continue from first. */
static int append_round(struct t_log *t, int n, int64_t first)
{
	struct t_ack *acks = xcalloc((size_t)n * NPART, sizeof *acks);
	int ok = 1;

	for (int i = 0; i < n; i++) {
		for (int p = 0; p < NPART; p++) {
			if (t_append(t, EVM_TOPIC_MAIL, p, "acct", t_value(p, (int)first + i),
				     &acks[i * NPART + p]) < 0)
				ok = 0;
		}
	}
	t_drain(t);
	for (int i = 0; i < n; i++) {
		for (int p = 0; p < NPART; p++) {
			struct t_ack *a = &acks[i * NPART + p];
			if (!a->done || a->status != 0 || a->partition != p || a->offset != first + i)
				ok = 0;
		}
	}
	free(acks);
	return ok && !t_cb_inside_append;
}

/* Reads every partition of the mail topic from 0 and checks each value. */
static int read_all(struct t_log *t, int64_t expect_each)
{
	struct evlog_reader *r;
	struct t_read rd = { .check_values = 1 };
	const char *error;
	int64_t end;

	if (evlog_reader_open(t->log, &r, &error) < 0)
		return 0;
	for (int p = 0; p < NPART; p++) {
		if (evlog_reader_assign(r, EVM_TOPIC_MAIL, p, 0, &error) < 0 ||
		    evlog_reader_end_offset(r, EVM_TOPIC_MAIL, p, 0, &end, &error) < 0 ||
		    end != expect_each)
			return 0;
	}
	while (rd.count < (size_t)(expect_each * NPART)) {
		int n = evlog_reader_poll(r, 100, 50, t_read_cb, &rd, &error);
		if (n <= 0) {
			fprintf(stderr, "poll: %d %s\n", n, n < 0 ? error : "timeout");
			break;
		}
	}
	evlog_reader_close(&r);
	return !rd.bad && rd.count == (size_t)(expect_each * NPART) &&
	       rd.expect[0] == expect_each && rd.expect[NPART - 1] == expect_each;
}

static void test_append_roll_reopen(void)
{
	const char *dir = test_tmpdir("emb_append"), *error;
	struct t_log t;

	CHECK(t_open(&t, dir, NPART, 4096, 1, &error) == 0);
	CHECK_EQ_INT(evlog_partitions(t.log, EVM_TOPIC_MAIL), NPART);
	CHECK_EQ_INT(evlog_partitions(t.log, EVM_TOPIC_DIRECTORY), 1);
	CHECK_EQ_INT(evlog_partitions(t.log, EVM_TOPIC_CLUSTER), 1);
	CHECK(append_round(&t, 200, 0));
	CHECK(count_segments(dir, "evmail.mail", 1) > 3);
	CHECK(read_all(&t, 200));
	t_close(&t);

	CHECK(t_open(&t, dir, NPART, 4096, 0, &error) == 0);
	CHECK(read_all(&t, 200));
	CHECK(append_round(&t, 150, 200));
	CHECK(read_all(&t, 350));
	t_close(&t);

	/* A larger segment size on reopen keeps the old segments readable. */
	CHECK(t_open(&t, dir, NPART, 1 << 20, 2, &error) == 0);
	CHECK(append_round(&t, 10, 350));
	CHECK(read_all(&t, 360));
	t_close(&t);
}

/* log.segment_ms: the first append after the active segment got this old
 * rolls it (so compaction can reach what it holds), also after a reopen. */
static void test_roll_by_age(void)
{
	const char *dir = test_tmpdir("emb_age"), *error = NULL;
	struct timespec pause = { 0, 150 * 1000000L };
	struct t_log t;

	for (int round = 0; round < 2; round++) {
		memset(&t, 0, sizeof t);
		CHECK(t_config(&t.cfg, dir, NPART, 1 << 20, 0) == 0);
		t.cfg.log_segment_ms = 100;
		t.base = event_base_new();
		CHECK(evlog_open(&t.cfg, t.base, &t.log, &error) == 0);
		if (round == 0) {
			CHECK(append_round(&t, 3, 0));
			CHECK_EQ_INT(count_segments(dir, "evmail.mail", 1), 1);
			CHECK(append_round(&t, 2, 3));   /* young: no roll */
			CHECK_EQ_INT(count_segments(dir, "evmail.mail", 1), 1);
		}
		nanosleep(&pause, NULL);
		CHECK(append_round(&t, 1, 5 + round));
		CHECK_EQ_INT(count_segments(dir, "evmail.mail", 1), 2 + round);
		CHECK(read_all(&t, 6 + round));
		t_close(&t);
	}
}

static void test_partition_choice_and_limits(void)
{
	const char *dir = test_tmpdir("emb_limits"), *error;
	struct t_log t;
	struct t_ack ack;
	char *big = xcalloc(1, EMB_VALUE_MAX + 2);

	CHECK(t_open(&t, dir, NPART, 1 << 20, 1, &error) == 0);
	/* partition -1: evm_partition_for(key). */
	CHECK(t_append(&t, EVM_TOPIC_MAIL, -1, "bob@example.test", "v", &ack) == 0);
	t_drain(&t);
	CHECK_EQ_INT(ack.status, 0);
	CHECK_EQ_INT(ack.partition, evm_partition_for("bob@example.test", 16, NPART));
	CHECK(evlog_append(t.log, EVM_TOPIC_MAIL, NPART, "k", 1, "v", 1, t_ack_cb, &ack, &error) < 0);
	CHECK(evlog_append(t.log, EVM_TOPIC_MAIL, 0, "k", 1, big, EMB_VALUE_MAX + 1, t_ack_cb,
			   &ack, &error) < 0);
	CHECK(strstr(error, "too large") != NULL);
	memset(&ack, 0, sizeof ack);
	CHECK(evlog_append(t.log, EVM_TOPIC_MAIL, 0, "k", 1, big, EMB_VALUE_MAX, t_ack_cb,
			   &ack, &error) == 0);
	CHECK(!ack.done);
	t_drain(&t);
	CHECK_EQ_INT(ack.status, 0);
	CHECK_EQ_INT(evlog_pending(t.log), 0);
	t_close(&t);
	free(big);
}

static void test_lock(void)
{
	const char *dir = test_tmpdir("emb_lock"), *error;
	struct t_log t, t2;

	CHECK(t_open(&t, dir, NPART, 1 << 20, 1, &error) == 0);
	CHECK(t_open(&t2, dir, NPART, 1 << 20, 1, &error) < 0);
	CHECK(strstr(error, "log directory is in use by another process") != NULL);
	t_close(&t);
	CHECK(t_open(&t2, dir, NPART, 1 << 20, 1, &error) == 0);
	t_close(&t2);
}

static void test_topics_report(void)
{
	const char *dir = test_tmpdir("emb_topics"), *error;
	struct t_log t;
	json_t *report, *mail = NULL;
	size_t i;
	json_t *e;

	CHECK(t_open(&t, dir, NPART, 1 << 20, 1, &error) == 0);
	t_close(&t);
	/* An existing topic keeps its partition count. */
	CHECK(t_open(&t, dir, 5, 1 << 20, 1, &error) == 0);
	CHECK_EQ_INT(evlog_partitions(t.log, EVM_TOPIC_MAIL), NPART);
	CHECK_EQ_INT(evlog_refresh_topics(t.log, 100, &error), 1);
	CHECK(evlog_topics_create(t.log, &report, &error) == 0);
	CHECK_EQ_INT(json_array_size(report), EVM_TOPIC_COUNT);
	json_array_foreach(report, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "topic")), "mail") == 0)
			mail = e;
	}
	CHECK(mail != NULL);
	CHECK_EQ_STR(json_string_value(json_object_get(mail, "name")), "evmail.mail");
	CHECK_EQ_INT(json_integer_value(json_object_get(mail, "partitions")), NPART);
	CHECK_EQ_INT(json_integer_value(json_object_get(mail, "expected_partitions")), 5);
	CHECK(json_is_true(json_object_get(mail, "exists")));
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(mail, "configs"),
						       "cleanup.policy")), "delete");
	CHECK_EQ_INT(json_array_size(json_object_get(mail, "problems")), 1);
	json_decref(report);
	CHECK(evlog_topics_describe(t.log, &report, &error) == 0);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(report, EVM_TOPIC_BLOB),
						       "name")), "evmail.blob");
	CHECK_EQ_INT(json_array_size(json_object_get(json_array_get(report, EVM_TOPIC_BLOB),
						     "problems")), 1);
	CHECK_EQ_INT(json_array_size(json_object_get(json_array_get(report, EVM_TOPIC_DIRECTORY),
						     "problems")), 0);
	json_decref(report);
	t_close(&t);
}

/* Written but not fsync'ed records are invisible to readers. */
static void test_reader_only_durable(void)
{
	const char *dir = test_tmpdir("emb_durable"), *error;
	struct t_log t;
	struct t_ack acks[5];
	struct evlog_reader *r;
	struct t_read rd = { .check_values = 1 };
	char path[1200];
	struct stat st;
	int64_t end;

	CHECK(t_open(&t, dir, NPART, 1 << 20, 0, &error) == 0);
	CHECK(evlog_reader_open(t.log, &r, &error) == 0);
	CHECK(evlog_reader_assign(r, EVM_TOPIC_MAIL, 2, 0, &error) == 0);
	emb_test_hold_writes(1);
	for (int i = 0; i < 5; i++)
		CHECK(t_append(&t, EVM_TOPIC_MAIL, 2, "k", t_value(2, i), &acks[i]) == 0);
	snprintf(path, sizeof path, "%s/log/evmail.mail/2/%020d.log", dir, 0);
	for (int i = 0; i < 500 && (stat(path, &st) < 0 || st.st_size == 0); i++)
		usleep(2000);
	CHECK(st.st_size > 0);   /* written ... */
	CHECK_EQ_INT(evlog_reader_poll(r, 50, 10, t_read_cb, &rd, &error), 0);
	CHECK(evlog_reader_end_offset(r, EVM_TOPIC_MAIL, 2, 0, &end, &error) == 0);
	CHECK_EQ_INT(end, 0);    /* ... but not durable */
	emb_test_hold_writes(0);
	t_drain(&t);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(acks[i].status, 0);
	while (rd.count < 5 && evlog_reader_poll(r, 1000, 10, t_read_cb, &rd, &error) > 0)
		;
	CHECK_EQ_INT(rd.count, 5);
	CHECK(!rd.bad);
	evlog_reader_close(&r);
	t_close(&t);
}

struct reader_thread {
	struct evlog *log;
	int64_t want;
	struct t_read rd;
	int error;
};

/* Reads the mail topic's partitions on another thread until want records. */
static void *reader_main(void *arg)
{
	struct reader_thread *rt = arg;
	struct evlog_reader *r;
	const char *error;

	if (evlog_reader_open(rt->log, &r, &error) < 0) {
		rt->error = 1;
		return NULL;
	}
	for (int p = 0; p < NPART; p++)
		evlog_reader_assign(r, EVM_TOPIC_MAIL, p, 0, &error);
	while (rt->rd.count < (size_t)rt->want) {
		int n = evlog_reader_poll(r, 5000, 37, t_read_cb, &rt->rd, &error);
		if (n <= 0) {
			fprintf(stderr, "reader thread: %s\n", n < 0 ? error : "timeout");
			rt->error = 1;
			break;
		}
	}
	evlog_reader_close(&r);
	return NULL;
}

static void test_concurrent_reader(void)
{
	const char *dir = test_tmpdir("emb_concurrent"), *error;
	struct reader_thread rt = { .want = 3 * 1000, .rd.check_values = 1 };
	struct t_log t;
	pthread_t th;

	CHECK(t_open(&t, dir, NPART, 8192, 1, &error) == 0);
	rt.log = t.log;
	CHECK(pthread_create(&th, NULL, reader_main, &rt) == 0);
	for (int round = 0; round < 10; round++) {
		if (!append_round(&t, 100, round * 100))
			test_fail(__FILE__, __LINE__, "append_round");
	}
	pthread_join(th, NULL);
	CHECK(!rt.error);
	CHECK(!rt.rd.bad);
	CHECK_EQ_INT(rt.rd.count, 3000);
	t_close(&t);
}

/* Round robin, unassign_all and re-assign from 0, a callback that stops. */
static void test_reader_fairness_and_rebuild(void)
{
	const char *dir = test_tmpdir("emb_fair"), *error;
	struct evlog_reader *r;
	struct t_log t;

	CHECK(t_open(&t, dir, NPART, 4096, 1, &error) == 0);
	CHECK(append_round(&t, 100, 0));
	CHECK(evlog_reader_open(t.log, &r, &error) == 0);
	for (int p = 0; p < NPART; p++)
		CHECK(evlog_reader_assign(r, EVM_TOPIC_MAIL, p, 0, &error) == 0);
	struct t_read rd = { .check_values = 1 };
	CHECK_EQ_INT(evlog_reader_poll(r, 0, 9, t_read_cb, &rd, &error), 9);
	for (int p = 0; p < NPART; p++)
		CHECK_EQ_INT(rd.expect[p], 3);
	/* Rebuild: everything again from 0. */
	CHECK(evlog_reader_unassign_all(r, &error) == 0);
	CHECK_EQ_INT(evlog_reader_poll(r, 0, 9, t_read_cb, &rd, &error), 0);
	struct t_read rd2 = { .check_values = 1 };
	CHECK(evlog_reader_assign(r, EVM_TOPIC_MAIL, 1, 0, &error) == 0);
	CHECK_EQ_INT(evlog_reader_poll(r, 0, 1000, t_read_cb, &rd2, &error), 100);
	CHECK_EQ_INT(rd2.expect[1], 100);
	/* Seek into the middle (index lookup), and a callback that stops. */
	struct t_read rd3 = { .check_values = 1, .stop_at = 5 };
	rd3.expect[0] = 77;
	CHECK(evlog_reader_assign(r, EVM_TOPIC_MAIL, 0, 77, &error) == 0);
	CHECK_EQ_INT(evlog_reader_poll(r, 0, 1000, t_read_cb, &rd3, &error), -1);
	CHECK_EQ_STR(error, "stop requested");
	CHECK_EQ_INT(rd3.expect[0], 82);
	rd3.stop_at = 0;
	CHECK_EQ_INT(evlog_reader_poll(r, 0, 1000, t_read_cb, &rd3, &error), 100 - 82);
	CHECK(!rd3.bad);
	evlog_reader_close(&r);
	t_close(&t);
}

/* close() waits for what is pending and runs the callbacks. */
static void test_close_with_pending(void)
{
	const char *dir = test_tmpdir("emb_close"), *error;
	struct t_ack acks[20];
	struct t_log t;

	CHECK(t_open(&t, dir, NPART, 1 << 20, 5, &error) == 0);
	for (int i = 0; i < 20; i++)
		CHECK(t_append(&t, EVM_TOPIC_MAIL, i % NPART, "k", "v", &acks[i]) == 0);
	t_close(&t);
	for (int i = 0; i < 20; i++) {
		CHECK(acks[i].done);
		CHECK_EQ_INT(acks[i].status, 0);
	}
	CHECK(!t_cb_inside_append);
}

int main(void)
{
	evthread_use_pthreads();
	test_run("append, segment roll, reopen, offsets continue", test_append_roll_reopen);
	test_run("segment roll by age (log.segment_ms), also after reopen", test_roll_by_age);
	test_run("partition choice and size limits", test_partition_choice_and_limits);
	test_run("second open fails on the lock", test_lock);
	test_run("topics report; existing topic keeps its count", test_topics_report);
	test_run("reader sees only durable records", test_reader_only_durable);
	test_run("reader on another thread while appending", test_concurrent_reader);
	test_run("reader fairness, rebuild, seek, stop", test_reader_fairness_and_rebuild);
	test_run("close waits for pending appends", test_close_with_pending);
	return test_done();
}

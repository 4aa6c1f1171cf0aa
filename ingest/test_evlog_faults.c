/* Unit tests of the log under faults (evlog.h "Bounded writes", the
 * embedded log's repair): an append the log does not answer is failed by
 * log.write_timeout_ms and its late answer dropped; a write refused by the
 * file system (EFBIG from RLIMIT_FSIZE, a real write failure, with a torn
 * partial record left on disk) fails with "log storage full", the log
 * reports itself unreachable, the partition is cut back and appends go on
 * at the durable end once space returns, and a reopen reads every record. */
#include "ingest/embedded_log.h"
#include "ingest/embedded_testutil.h"
#include "common/ids.h"
#include "tests/unit/testlib.h"

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

struct f_ack {
	int calls;
	int status;
	int64_t offset;
	char error[300];
};

static void f_cb(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct f_ack *a = ctx;

	a->calls++;
	a->status = status;
	a->offset = offset;
	snprintf(a->error, sizeof a->error, "%s", error ? error : "");
}

static int f_append(struct t_log *t, int seq, struct f_ack *a)
{
	const char *error = NULL, *v = t_value(0, seq);

	memset(a, 0, sizeof *a);
	return evlog_append(t->log, EVM_TOPIC_MAIL, 0, "acct", 4, v, strlen(v), f_cb, a, &error);
}

/* Runs the loop until every ack has been called or limit_ms passed. */
static void f_wait(struct t_log *t, struct f_ack *acks, int n, int64_t limit_ms)
{
	int64_t end = evm_mono_ms() + limit_ms;

	for (;;) {
		int done = 1;
		for (int i = 0; i < n; i++)
			done &= acks[i].calls > 0;
		if (done || evm_mono_ms() > end)
			return;
		event_base_loop(t->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(2000);
	}
}

static void test_unanswered_append_times_out(void)
{
	const char *dir = test_tmpdir("evlog_faults_timeout");
	struct t_log t;
	struct f_ack a, b;
	struct evlog_health h;
	const char *error = NULL;
	int64_t t0;

	CHECK(t_open(&t, dir, 1, 1 << 20, 0, &error) == 0);
	CHECK(config_set(&t.cfg, "log.write_timeout_ms", "2000", &error) == 0);
	evlog_health(t.log, &h);
	CHECK_EQ_INT(h.reachable, 1);

	emb_test_hold_writes(1);           /* written, never fsync'ed: no answer */
	t0 = evm_mono_ms();
	CHECK(f_append(&t, 0, &a) == 0);
	f_wait(&t, &a, 1, 20000);
	CHECK_EQ_INT(a.calls, 1);
	CHECK_EQ_INT(a.status, -1);
	CHECK(strstr(a.error, "no acknowledgement") != NULL);
	CHECK(evm_mono_ms() - t0 >= 2000);
	evlog_health(t.log, &h);
	CHECK_EQ_INT(h.reachable, 0);
	CHECK(h.appends_timed_out == 1 && h.appends_failed == 1);

	emb_test_hold_writes(0);           /* the late answer is dropped */
	t_drain(&t);
	CHECK_EQ_INT(a.calls, 1);
	CHECK(f_append(&t, 1, &b) == 0);
	f_wait(&t, &b, 1, 20000);
	CHECK_EQ_INT(b.calls, 1);
	CHECK_EQ_INT(b.status, 0);
	CHECK(b.offset == 1);              /* the timed-out one was stored after all */
	evlog_health(t.log, &h);
	CHECK_EQ_INT(h.reachable, 1);
	CHECK(h.reason[0] == '\0');
	t_close(&t);
}

/* Size of the newest segment file of evmail.mail/0. */
static long active_segment_size(const char *dir)
{
	char path[1200], best[256] = "";
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(path, sizeof path, "%s/log/evmail.mail/0", dir);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".log") != NULL && strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof best, "%s", de->d_name);
	}
	closedir(d);
	snprintf(path, sizeof path, "%s/log/evmail.mail/0/%s", dir, best);
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void set_fsize(rlim_t limit)
{
	struct rlimit rl;

	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = limit;
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
}

static void test_storage_full_then_repaired(void)
{
	const char *dir = test_tmpdir("evlog_faults_full");
	struct t_log t;
	struct f_ack acks[25];
	struct t_ack first[20];
	struct evlog_health h;
	struct evlog_reader *r;
	struct t_read rd = { .check_values = 1 };
	const char *error = NULL;
	long size;
	int64_t end;

	CHECK(t_open(&t, dir, 1, 4096, 0, &error) == 0);
	for (int i = 0; i < 20; i++)
		CHECK(t_append(&t, EVM_TOPIC_MAIL, 0, "acct", t_value(0, i), &first[i]) == 0);
	t_drain(&t);
	for (int i = 0; i < 20; i++)
		CHECK(first[i].status == 0 && first[i].offset == i);

	/* Room for part of one more record: the write is torn, then EFBIG. */
	signal(SIGXFSZ, SIG_IGN);
	size = active_segment_size(dir);
	CHECK(size > 0);
	set_fsize((rlim_t)size + 30);
	for (int i = 20; i < 25; i++)
		CHECK(f_append(&t, i, &acks[i]) == 0);
	f_wait(&t, acks + 20, 5, 20000);
	for (int i = 20; i < 25; i++) {
		CHECK_EQ_INT(acks[i].status, -1);
		CHECK(strstr(acks[i].error, EVLOG_ERR_STORAGE_FULL) != NULL);
	}
	evlog_health(t.log, &h);
	CHECK(h.reachable == 0 && h.storage_full == 1);
	/* Still full: the partition is repaired and fails again, cleanly. */
	CHECK(f_append(&t, 20, &acks[20]) == 0);
	f_wait(&t, acks + 20, 1, 20000);
	CHECK_EQ_INT(acks[20].status, -1);

	/* Space returns: appends go on at the durable end. */
	set_fsize(RLIM_INFINITY);
	for (int i = 20; i < 25; i++)
		CHECK(f_append(&t, i, &acks[i]) == 0);
	f_wait(&t, acks + 20, 5, 20000);
	for (int i = 20; i < 25; i++)
		CHECK(acks[i].status == 0 && acks[i].offset == i);
	evlog_health(t.log, &h);
	CHECK_EQ_INT(h.reachable, 1);
	t_close(&t);

	/* Reopened: recovery finds every record, in order, nothing torn. */
	CHECK(t_open(&t, dir, 1, 4096, 0, &error) == 0);
	CHECK(evlog_reader_open(t.log, &r, &error) == 0);
	CHECK(evlog_reader_assign(r, EVM_TOPIC_MAIL, 0, 0, &error) == 0);
	CHECK(evlog_reader_end_offset(r, EVM_TOPIC_MAIL, 0, 0, &end, &error) == 0);
	CHECK(end == 25);
	while (rd.count < 25 && evlog_reader_poll(r, 100, 100, t_read_cb, &rd, &error) > 0)
		;
	CHECK(rd.count == 25 && !rd.bad);
	evlog_reader_close(&r);
	t_close(&t);
}

int main(void)
{
	evthread_use_pthreads();
	test_run("an unanswered append fails at log.write_timeout_ms", test_unanswered_append_times_out);
	test_run("storage full: refused, repaired, appends go on", test_storage_full_then_repaired);
	return test_done();
}

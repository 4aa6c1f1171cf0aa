/* Unit tests of the embedded log's recovery: torn tails, garbage, a crash
 * between write and fsync (in a forked child), corrupt records. */
#include "ingest/embedded_log.h"
#include "ingest/embedded_record.h"
#include "ingest/embedded_testutil.h"
#include "tests/unit/testlib.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define P 2   /* partitions of the mail topic in these tests */

/* Path of segment base of mail partition p under dir. */
static const char *seg_path(const char *dir, int p, long long base)
{
	static char path[1200];

	snprintf(path, sizeof path, "%s/log/evmail.mail/%d/%020lld.log", dir, p, base);
	return path;
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (long long)st.st_size;
}

/* Appends values t_value(p, first..first+n-1) to mail partition p. */
static int append_n(struct t_log *t, int p, int first, int n)
{
	struct t_ack *acks = xcalloc((size_t)n, sizeof *acks);
	int ok = 1;

	for (int i = 0; i < n; i++)
		ok &= t_append(t, EVM_TOPIC_MAIL, p, "k", t_value(p, first + i), &acks[i]) == 0;
	t_drain(t);
	for (int i = 0; i < n; i++)
		ok &= acks[i].status == 0 && acks[i].offset == first + i;
	free(acks);
	return ok;
}

/* Reads mail partition p from 0; returns the count, or -1 on a poll error
 * (*error_r then says why). Values are checked. */
static long read_p(struct t_log *t, int p, const char **error_r)
{
	struct t_read rd = { .check_values = 1 };
	struct evlog_reader *r;
	int n;

	if (evlog_reader_open(t->log, &r, error_r) < 0 ||
	    evlog_reader_assign(r, EVM_TOPIC_MAIL, p, 0, error_r) < 0)
		return -1;
	while ((n = evlog_reader_poll(r, 20, 100, t_read_cb, &rd, error_r)) > 0)
		;
	evlog_reader_close(&r);
	if (n < 0)
		return -1;
	return rd.bad ? -2 : (long)rd.count;
}

/* Reopens, checks count records survive, appends continue at count. */
static int reopen_expect(const char *dir, long seg_bytes, long count)
{
	const char *error;
	struct t_log t;
	int64_t end;
	struct evlog_reader *r;
	int ok;

	if (t_open(&t, dir, P, seg_bytes, 0, &error) < 0) {
		fprintf(stderr, "reopen: %s\n", error);
		return 0;
	}
	ok = read_p(&t, 0, &error) == count;
	ok &= evlog_reader_open(t.log, &r, &error) == 0 &&
	      evlog_reader_end_offset(r, EVM_TOPIC_MAIL, 0, 0, &end, &error) == 0 && end == count;
	evlog_reader_close(&r);
	ok &= append_n(&t, 0, (int)count, 3);
	ok &= read_p(&t, 0, &error) == count + 3;
	t_close(&t);
	return ok;
}

static void test_torn_record(void)
{
	const char *dir = test_tmpdir("emb_torn"), *error;
	struct t_log t;
	long long before, full;

	CHECK(t_open(&t, dir, P, 1 << 20, 0, &error) == 0);
	CHECK(append_n(&t, 0, 0, 49));
	before = file_size(seg_path(dir, 0, 0));
	CHECK(append_n(&t, 0, 49, 1));
	t_close(&t);
	full = file_size(seg_path(dir, 0, 0));
	/* Cut the last record in the middle. */
	CHECK(truncate(seg_path(dir, 0, 0), (before + full) / 2) == 0);
	CHECK(reopen_expect(dir, 1 << 20, 49));
	/* Cut inside the last record's length field. */
	full = file_size(seg_path(dir, 0, 0));
	CHECK(truncate(seg_path(dir, 0, 0), full - 1) == 0);
	CHECK(reopen_expect(dir, 1 << 20, 51));
}

static void test_garbage_tail(void)
{
	const char *dir = test_tmpdir("emb_garbage"), *error;
	const char *path = seg_path(dir, 0, 0);
	struct t_log t;
	unsigned char junk[300];
	long long size;
	int fd;

	CHECK(t_open(&t, dir, P, 1 << 20, 0, &error) == 0);
	CHECK(append_n(&t, 0, 0, 20));
	t_close(&t);
	size = file_size(path);
	srand(7);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)rand();
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK(write(fd, junk, sizeof junk) == (ssize_t)sizeof junk);
	close(fd);
	CHECK(reopen_expect(dir, 1 << 20, 20));
	/* Zeroes (a file extended but never written) too. */
	size = file_size(path);
	CHECK(truncate(path, size + 5000) == 0);
	CHECK(reopen_expect(dir, 1 << 20, 23));
	for (int i = 23; i < 26; i++)
		size += (long long)emb_record_size(1, strlen(t_value(0, i)));
	CHECK_EQ_INT(file_size(path), size);
}

/* Child: appends records in a pipeline, reporting each acknowledged offset
 * on fd, until the writer's crash hook kills it. */
static void child_appender(const char *dir, int out_fd, int torn)
{
	struct t_log t;
	const char *error;
	struct t_ack acks[400];
	int reported[400] = { 0 };

	emb_test_crash_after_write(7, torn);
	if (t_open(&t, dir, P, 4096, 0, &error) < 0)
		_exit(2);
	for (int i = 0; i < 400; i++) {
		if (t_append(&t, EVM_TOPIC_MAIL, 0, "k", t_value(0, i), &acks[i]) < 0)
			_exit(3);
		if (i % 10 == 9)
			event_base_loop(t.base, EVLOOP_ONCE);
		for (int j = 0; j <= i; j++) {
			if (acks[j].done && !reported[j]) {
				int64_t off = acks[j].status == 0 ? acks[j].offset : -1;
				if (write(out_fd, &off, sizeof off) != sizeof off)
					_exit(4);
				reported[j] = 1;
			}
		}
	}
	t_drain(&t);
	_exit(5);  /* the hook should have ended us before this */
}

/* Crash after write(), before fsync: every acknowledged record survives. */
static void crash_case(const char *name, int torn)
{
	const char *dir = test_tmpdir(name);
	int fds[2], status;
	int64_t off, max_acked = -1;
	long acked = 0, count;
	pid_t pid;

	CHECK(pipe(fds) == 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_appender(dir, fds[1], torn);
	}
	close(fds[1]);
	while (read(fds[0], &off, sizeof off) == sizeof off) {
		CHECK(off >= 0);
		CHECK_EQ_INT(off, max_acked + 1);
		max_acked = off;
		acked++;
	}
	close(fds[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ_INT(WEXITSTATUS(status), EMB_TEST_CRASH_STATUS);
	CHECK(acked > 0);

	const char *error;
	struct t_log t;
	CHECK(t_open(&t, dir, P, 4096, 0, &error) == 0);
	count = read_p(&t, 0, &error);
	fprintf(stderr, "  %s: %ld acknowledged, %ld recovered\n", name, acked, count);
	CHECK(count >= acked);
	t_close(&t);
	CHECK(reopen_expect(dir, 4096, count));
}

static void test_crash_before_fsync(void)
{
	crash_case("emb_crash", 0);
}

static void test_crash_torn_before_fsync(void)
{
	crash_case("emb_crash_torn", 1);
}

/* Flips one byte of a file at pos. */
static int flip_byte(const char *path, long long pos)
{
	int fd = open(path, O_RDWR);
	unsigned char c;
	int ok;

	if (fd < 0)
		return 0;
	ok = pread(fd, &c, 1, pos) == 1;
	c ^= 0x20;
	ok &= pwrite(fd, &c, 1, pos) == 1;
	close(fd);
	return ok;
}

/* A corrupt record inside a closed segment is an error when read (open
 * only scans the last segment), never silently skipped. */
static void test_corrupt_closed_segment(void)
{
	const char *dir = test_tmpdir("emb_corrupt"), *error;
	struct t_log t;

	CHECK(t_open(&t, dir, P, 4096, 0, &error) == 0);
	CHECK(append_n(&t, 0, 0, 100));
	t_close(&t);
	CHECK(file_size(seg_path(dir, 0, 0)) > 2000);
	CHECK(flip_byte(seg_path(dir, 0, 0), 2000));
	CHECK(t_open(&t, dir, P, 4096, 0, &error) == 0);
	CHECK_EQ_INT(read_p(&t, 0, &error), -1);
	CHECK(strstr(error, "corrupt record") != NULL);
	fprintf(stderr, "  reported: %s\n", error);
	t_close(&t);
}

/* Damage in the middle of the last segment, with valid records after it,
 * is not a torn tail: open refuses instead of truncating them away. */
static void test_corrupt_last_segment(void)
{
	const char *dir = test_tmpdir("emb_corrupt_last"), *error;
	struct t_log t;

	CHECK(t_open(&t, dir, P, 1 << 20, 0, &error) == 0);
	CHECK(append_n(&t, 0, 0, 50));
	t_close(&t);
	CHECK(flip_byte(seg_path(dir, 0, 0), file_size(seg_path(dir, 0, 0)) / 2));
	CHECK(t_open(&t, dir, P, 1 << 20, 0, &error) < 0);
	CHECK(strstr(error, "valid records follow") != NULL);
	fprintf(stderr, "  reported: %s\n", error);
}

/* A closed segment that lost its tail leaves a gap: reading reports it. */
static void test_short_closed_segment(void)
{
	const char *dir = test_tmpdir("emb_short"), *error;
	struct t_log t;

	CHECK(t_open(&t, dir, P, 4096, 0, &error) == 0);
	CHECK(append_n(&t, 0, 0, 100));
	t_close(&t);
	CHECK(truncate(seg_path(dir, 0, 0), file_size(seg_path(dir, 0, 0)) - 10) == 0);
	CHECK(t_open(&t, dir, P, 4096, 0, &error) == 0);
	CHECK_EQ_INT(read_p(&t, 0, &error), -1);
	fprintf(stderr, "  reported: %s\n", error);
	t_close(&t);
}

int main(void)
{
	evthread_use_pthreads();
	test_run("torn final record is truncated", test_torn_record);
	test_run("garbage after the last record is truncated", test_garbage_tail);
	test_run("crash between write and fsync", test_crash_before_fsync);
	test_run("crash with a torn write before fsync", test_crash_torn_before_fsync);
	test_run("corrupt record in a closed segment", test_corrupt_closed_segment);
	test_run("corrupt record mid last segment", test_corrupt_last_segment);
	test_run("closed segment missing its tail", test_short_closed_segment);
	return test_done();
}

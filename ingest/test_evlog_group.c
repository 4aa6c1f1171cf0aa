/* test_evlog_group - partition ownership (evlog_group.h).
 *
 * Embedded: the one member owns every partition, reported on a later loop
 * turn. With EVMAIL_TEST_KAFKA_BROKERS=host:port (a real broker, started by
 * tests/kafka/broker.sh): two members of one group split the partitions;
 * one leaves -> the other owns them all; a member in another process killed
 * with SIGKILL (it never leaves) -> the other owns them all once the
 * session timed out. Without a broker the Kafka cases are SKIPPED (FAILED
 * when CI=true or EVMAIL_REQUIRE_KAFKA=1). Every wait is bounded. */
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "ingest/evlog_group.h"
#include "tests/unit/testlib.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define NPART 4
#define WAIT_MS 60000

static const char *brokers;
static char run_id[40];
static const char *self_exe;

/* What one member was told last. */
struct member {
	int calls;
	int on_loop;
	int32_t owned[64];
	size_t n;
};

static int in_join;   /* set while join runs: cb must not run inside it */

static void member_cb(void *ctx, const int32_t *partitions, size_t n)
{
	struct member *m = ctx;

	m->calls++;
	m->on_loop = !in_join;
	m->n = n < 64 ? n : 64;
	memcpy(m->owned, partitions, m->n * sizeof *partitions);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* Runs base until done(ctx) is true or WAIT_MS passes; 1 when done. */
static int run_until(struct event_base *base, int (*done)(void *), void *ctx)
{
	struct timeval tv = { 0, 50 * 1000 };
	struct event *tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	int64_t deadline = evm_mono_ms() + WAIT_MS;
	int ok;

	event_add(tick, &tv);
	while (!(ok = done(ctx)) && evm_mono_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(tick);
	return ok;
}

/* True when m owns exactly 0..NPART-1 in order. */
static int owns_all(const struct member *m)
{
	if (m->n != NPART)
		return 0;
	for (size_t i = 0; i < m->n; i++) {
		if (m->owned[i] != (int32_t)i)
			return 0;
	}
	return 1;
}

static int done_all(void *ctx)
{
	return owns_all(ctx);
}

/* Embedded config in dir with NPART partitions. */
static int embedded_cfg(struct evm_config *cfg, const char *dir)
{
	const char *error;
	char num[16];

	snprintf(num, sizeof num, "%d", NPART);
	if (config_load(NULL, cfg, &error) < 0 || config_set(cfg, "node.data_dir", dir, &error) < 0 ||
	    config_set(cfg, "log.partitions", num, &error) < 0) {
		fprintf(stderr, "config: %s\n", error);
		return -1;
	}
	return 0;
}

static void test_embedded(void)
{
	struct evm_config cfg;
	struct event_base *base = event_base_new();
	struct evlog *log = NULL;
	struct evlog_group *g = NULL;
	struct member m = { 0 };
	const char *error;

	CHECK(embedded_cfg(&cfg, test_tmpdir("group-embedded")) == 0);
	CHECK(evlog_open(&cfg, base, &log, &error) == 0);
	in_join = 1;
	CHECK(evlog_group_join(log, EVM_TOPIC_QUEUE, "delivery", member_cb, NULL, &m, &g, &error) == 0);
	in_join = 0;
	CHECK_EQ_INT(m.calls, 0);
	CHECK(run_until(base, done_all, &m));
	CHECK_EQ_INT(m.calls, 1);
	CHECK(m.on_loop);
	/* Once only; leave is final. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK_EQ_INT(m.calls, 1);
	evlog_group_leave(&g);
	CHECK(g == NULL);
	evlog_group_leave(&g);
	/* Leave before the first report: cb never runs. */
	memset(&m, 0, sizeof m);
	CHECK(evlog_group_join(log, EVM_TOPIC_QUEUE, "delivery", member_cb, NULL, &m, &g, &error) == 0);
	evlog_group_leave(&g);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK_EQ_INT(m.calls, 0);
	CHECK(evlog_group_join(log, EVM_TOPIC_QUEUE, "", member_cb, NULL, &m, &g, &error) < 0);
	evlog_close(&log);
	config_free(&cfg);
	event_base_free(base);
}

/* A kafka config under this run's prefix + name. */
static int kafka_cfg(struct evm_config *cfg, const char *name, const char *node)
{
	const char *error;
	char prefix[128], num[16];

	snprintf(prefix, sizeof prefix, "evmtest.%s.%s.", run_id, name);
	snprintf(num, sizeof num, "%d", NPART);
	if (config_load(NULL, cfg, &error) < 0 || config_set(cfg, "log.backend", "kafka", &error) < 0 ||
	    config_set(cfg, "log.brokers", brokers, &error) < 0 ||
	    config_set(cfg, "log.topic_prefix", prefix, &error) < 0 ||
	    config_set(cfg, "log.partitions", num, &error) < 0 ||
	    config_set(cfg, "node.id", node, &error) < 0) {
		fprintf(stderr, "config: %s\n", error);
		return -1;
	}
	return 0;
}

/* Opens the log and creates the topics. */
static int kafka_open_log(struct evm_config *cfg, struct event_base *base, struct evlog **log_r)
{
	const char *error;
	json_t *report = NULL;

	if (evlog_open(cfg, base, log_r, &error) < 0 || evlog_topics_create(*log_r, &report, &error) < 0 ||
	    evlog_refresh_topics(*log_r, 10000, &error) != 1) {
		fprintf(stderr, "kafka log: %s\n", error);
		return -1;
	}
	json_decref(report);
	return 0;
}

struct pair {
	struct member *a, *b;
};

/* Both reported, disjoint, together every partition, neither empty. */
static int done_split(void *ctx)
{
	struct pair *p = ctx;
	int seen[NPART] = { 0 };

	if (p->a->n == 0 || p->b->n == 0 || p->a->n + p->b->n != NPART)
		return 0;
	for (size_t i = 0; i < p->a->n; i++)
		seen[p->a->owned[i]]++;
	for (size_t i = 0; i < p->b->n; i++)
		seen[p->b->owned[i]]++;
	for (int i = 0; i < NPART; i++) {
		if (seen[i] != 1)
			return 0;
	}
	return 1;
}

static void test_kafka_split_and_leave(void)
{
	struct evm_config cfg;
	struct event_base *base = event_base_new();
	struct evlog *log = NULL;
	struct evlog_group *ga = NULL, *gb = NULL;
	struct member a = { 0 }, b = { 0 };
	struct pair p = { &a, &b };
	const char *error;

	CHECK(kafka_cfg(&cfg, "split", "t1") == 0);
	CHECK(kafka_open_log(&cfg, base, &log) == 0);
	CHECK(evlog_group_join(log, EVM_TOPIC_QUEUE, "delivery", member_cb, NULL, &a, &ga, &error) == 0);
	CHECK(run_until(base, done_all, &a));
	CHECK(evlog_group_join(log, EVM_TOPIC_QUEUE, "delivery", member_cb, NULL, &b, &gb, &error) == 0);
	CHECK(run_until(base, done_split, &p));
	CHECK(a.on_loop && b.on_loop);
	/* b leaves: a gets everything back without waiting for a timeout. */
	evlog_group_leave(&gb);
	CHECK(run_until(base, done_all, &a));
	evlog_group_leave(&ga);
	evlog_close(&log);
	config_free(&cfg);
	event_base_free(base);
}


/* a's work in flight, as its busy callback reports it (group thread). */
static int a_busy;            /* __atomic */
static int a_asked;           /* __atomic: how often the group asked */

static size_t busy_cb(void *ctx, const int32_t *partitions, size_t n)
{
	(void)ctx;
	(void)partitions;
	__atomic_add_fetch(&a_asked, 1, __ATOMIC_SEQ_CST);
	return n > 0 && __atomic_load_n(&a_busy, __ATOMIC_SEQ_CST) ? 1 : 0;
}

static int done_asked(void *ctx)
{
	(void)ctx;
	return __atomic_load_n(&a_asked, __ATOMIC_SEQ_CST) > 0;
}

struct window {
	struct member *b;
	int64_t until;
};

/* Fails early when b was given anything before the window ends. */
static int b_gets_something_or_window_ends(void *ctx)
{
	struct window *win = ctx;

	return win->b->n > 0 || evm_mono_ms() >= win->until;
}

/* While a says work is in flight on the partitions a rebalance takes from
 * it, the group holds them: b is given nothing until a is idle. */
static void test_kafka_revoke_waits_for_busy(void)
{
	struct evm_config cfg;
	struct event_base *base = event_base_new();
	struct evlog *log = NULL;
	struct evlog_group *ga = NULL, *gb = NULL;
	struct member a = { 0 }, b = { 0 };
	struct pair p = { &a, &b };
	struct window win = { &b, 0 };
	const char *error;

	CHECK(kafka_cfg(&cfg, "busy", "t1") == 0);
	CHECK(kafka_open_log(&cfg, base, &log) == 0);
	CHECK(evlog_group_join(log, EVM_TOPIC_QUEUE, "delivery", member_cb, busy_cb, &a, &ga, &error) == 0);
	CHECK(run_until(base, done_all, &a));
	__atomic_store_n(&a_busy, 1, __ATOMIC_SEQ_CST);
	CHECK(evlog_group_join(log, EVM_TOPIC_QUEUE, "delivery", member_cb, NULL, &b, &gb, &error) == 0);
	/* the rebalance starts within a few seconds; a is asked, keeps saying busy */
	CHECK(run_until(base, done_asked, NULL));
	win.until = evm_mono_ms() + 3000;
	CHECK(run_until(base, b_gets_something_or_window_ends, &win));
	CHECK_EQ_INT((int)b.n, 0);
	CHECK(owns_all(&a));
	/* a is idle: the partitions move */
	__atomic_store_n(&a_busy, 0, __ATOMIC_SEQ_CST);
	CHECK(run_until(base, done_split, &p));
	evlog_group_leave(&gb);
	evlog_group_leave(&ga);
	evlog_close(&log);
	config_free(&cfg);
	event_base_free(base);
}

/* The other process's member reports "<n>\n" on its stdout per callback. */
struct child {
	int fd;
	char buf[256];
	size_t len;
	int last_n;
};

/* Reads what the child printed so far (non-blocking). */
static void child_read(struct child *c)
{
	char tmp[128];
	ssize_t r;

	while ((r = read(c->fd, tmp, sizeof tmp)) > 0) {
		for (ssize_t i = 0; i < r; i++) {
			if (tmp[i] == '\n') {
				c->buf[c->len] = '\0';
				c->last_n = atoi(c->buf);
				c->len = 0;
			} else if (c->len + 1 < sizeof c->buf) {
				c->buf[c->len++] = tmp[i];
			}
		}
	}
}

static int done_child_all(void *ctx)
{
	struct child *c = ctx;

	child_read(c);
	return c->last_n == NPART;
}

struct pair_child {
	struct member *a;
	struct child *c;
};

static int done_split_child(void *ctx)
{
	struct pair_child *p = ctx;

	child_read(p->c);
	return p->a->n > 0 && p->c->last_n > 0 && p->a->n + (size_t)p->c->last_n == NPART;
}

static void test_kafka_killed(void)
{
	struct evm_config cfg;
	struct event_base *base = event_base_new();
	struct evlog *log = NULL;
	struct evlog_group *ga = NULL;
	struct member a = { 0 };
	struct child c = { .fd = -1, .last_n = -1 };
	struct pair_child p = { &a, &c };
	const char *error;
	int fds[2], status;
	pid_t pid;

	CHECK(kafka_cfg(&cfg, "killed", "t1") == 0);
	CHECK(kafka_open_log(&cfg, base, &log) == 0);
	CHECK(pipe(fds) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execl(self_exe, self_exe, "--member", brokers, run_id, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	c.fd = fds[0];
	fcntl(c.fd, F_SETFL, O_NONBLOCK);
	if (!run_until(base, done_child_all, &c)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(!"the other process never owned every partition");
	}
	CHECK(evlog_group_join(log, EVM_TOPIC_QUEUE, "delivery", member_cb, NULL, &a, &ga, &error) == 0);
	if (!run_until(base, done_split_child, &p)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(!"the partitions were never split with the other process");
	}
	/* Dies without leaving: only the session timeout hands its share over. */
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status));
	CHECK(a.n < NPART);
	CHECK(run_until(base, done_all, &a));
	close(c.fd);
	evlog_group_leave(&ga);
	evlog_close(&log);
	config_free(&cfg);
	event_base_free(base);
}

/* The child process of test_kafka_killed: joins and reports, forever. */
static void child_cb(void *ctx, const int32_t *partitions, size_t n)
{
	printf("%zu\n", n);
	fflush(stdout);
}

static int child_main(const char *b, const char *id)
{
	struct evm_config cfg;
	struct event_base *base = event_base_new();
	struct evlog *log = NULL;
	struct evlog_group *g = NULL;
	const char *error;

	brokers = b;
	snprintf(run_id, sizeof run_id, "%s", id);
	if (kafka_cfg(&cfg, "killed", "t2") < 0 || evlog_open(&cfg, base, &log, &error) < 0 ||
	    evlog_refresh_topics(log, 10000, &error) != 1 ||
	    evlog_group_join(log, EVM_TOPIC_QUEUE, "delivery", child_cb, NULL, NULL, &g, &error) < 0)
		return 2;
	/* The parent kills us; bounded anyway. */
	alarm(300);
	for (;;)
		event_base_loop(base, EVLOOP_ONCE);
}

int main(int argc, char **argv)
{
	const char *real = getenv("EVMAIL_TEST_KAFKA_BROKERS");
	const char *ci = getenv("CI"), *req = getenv("EVMAIL_REQUIRE_KAFKA");
	char rnd[EVM_ID_HEX_LEN + 1];

	evthread_use_pthreads();
	log_set_level(LOG_WARN);
	self_exe = "/proc/self/exe";
	if (argc == 4 && strcmp(argv[1], "--member") == 0)
		return child_main(argv[2], argv[3]);
	evm_random_id(rnd);
	snprintf(run_id, sizeof run_id, "%.12s", rnd);

	test_run("embedded: every partition, on a later loop turn", test_embedded);
	if (real != NULL && *real != '\0') {
		brokers = real;
		test_run("kafka: two members split, one leaves", test_kafka_split_and_leave);
		test_run("kafka: a member killed, the other takes over", test_kafka_killed);
		test_run("kafka: a revoke waits while the member is busy", test_kafka_revoke_waits_for_busy);
	} else if ((ci != NULL && (strcmp(ci, "true") == 0 || strcmp(ci, "1") == 0)) ||
		   (req != NULL && *req != '\0' && strcmp(req, "0") != 0)) {
		fprintf(stderr, "FAILED: a real Kafka broker is required (set EVMAIL_TEST_KAFKA_BROKERS)\n");
		return 1;
	} else {
		fprintf(stderr, "SKIPPED: real-broker cases (set EVMAIL_TEST_KAFKA_BROKERS, "
			"start one with tests/kafka/broker.sh start DIR PORT)\n");
	}
	return test_done();
}

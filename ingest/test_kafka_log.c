/* test_kafka_log - the Kafka backend of the event log.
 *
 * With EVMAIL_TEST_KAFKA_BROKERS=host:port: against that real broker (start
 * one with tests/kafka/broker.sh), under a topic prefix unique to this run.
 * Without it, the same producer/reader cases run against librdkafka's mock
 * cluster and the real-broker cases are reported as SKIPPED. */
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "ingest/evlog.h"
#include "ingest/kafka_common.h"
#include "tests/unit/testlib.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_APPENDS 40
#define N_KEYS 7

static const char *brokers;            /* real or mock bootstrap servers */
static char run_id[40];                /* unique per run: prefixes derive from it */

/* ---- helpers ---- */

/* A kafka config for prefix "<run>.<name>." with P partitions. */
static int make_cfg(struct evm_config *cfg, const char *name, const char *partitions)
{
	const char *error;
	char prefix[128];

	if (config_load(NULL, cfg, &error) < 0) {
		fprintf(stderr, "config_load: %s\n", error);
		return -1;
	}
	snprintf(prefix, sizeof prefix, "evmtest.%s.%s.", run_id, name);
	if (config_set(cfg, "log.backend", "kafka", &error) < 0 ||
	    config_set(cfg, "log.brokers", brokers, &error) < 0 ||
	    config_set(cfg, "log.topic_prefix", prefix, &error) < 0 ||
	    config_set(cfg, "log.partitions", partitions, &error) < 0 ||
	    config_set(cfg, "node.id", "t1", &error) < 0) {
		fprintf(stderr, "config_set: %s\n", error);
		config_free(cfg);
		return -1;
	}
	return 0;
}

static pthread_t main_thread;

struct appended {
	int calls;
	int on_main;
	int status;
	int32_t partition;
	int64_t offset;
	char error[256];
};

struct append_run {
	struct appended a[N_APPENDS];
	int done;
};

static void append_cb(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct appended *a = ctx;

	a->calls++;
	a->on_main = pthread_equal(pthread_self(), main_thread);
	a->status = status;
	a->partition = partition;
	a->offset = offset;
	snprintf(a->error, sizeof a->error, "%s", error ? error : "");
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* Refreshes the partition counts from another thread while the loop runs. */
static void *refresh_thread(void *arg)
{
	struct evlog *log = arg;
	const char *missing;
	intptr_t bad = 0;

	for (int i = 0; i < 5; i++) {
		if (evlog_refresh_topics(log, 5000, &missing) != 1)
			bad++;
	}
	return (void *)bad;
}

/* Runs base until log has no pending appends or timeout_ms passes. */
static void run_until_idle(struct event_base *base, struct evlog *log, int timeout_ms)
{
	struct timeval tv = { 0, 20 * 1000 };
	struct event *tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	int64_t deadline = evm_mono_ms() + timeout_ms;

	event_add(tick, &tv);
	while (evlog_pending(log) > 0 && evm_mono_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(tick);
}

static void key_for(int i, char *out, size_t size)
{
	snprintf(out, size, "account-%d", i % N_KEYS);
}

static void value_for(int i, char *out, size_t size)
{
	snprintf(out, size, "{\"n\":%d,\"pad\":\"%0*d\"}", i, 1 + i * 7, 0);
}

struct collected {
	int n;
	struct evlog_record rec[N_APPENDS * 2];
	char *key[N_APPENDS * 2];
	char *value[N_APPENDS * 2];
};

static int collect_cb(void *ctx, const struct evlog_record *rec, const char **error_r)
{
	struct collected *c = ctx;

	if (c->n >= N_APPENDS * 2) {
		*error_r = "too many records";
		return -1;
	}
	c->rec[c->n] = *rec;
	c->key[c->n] = strndup(rec->key ? rec->key : "", rec->key_len);
	c->value[c->n] = strndup(rec->value ? rec->value : "", rec->value_len);
	c->n++;
	return 0;
}

static void collected_free(struct collected *c)
{
	for (int i = 0; i < c->n; i++) {
		free(c->key[i]);
		free(c->value[i]);
	}
	c->n = 0;
}

/* Polls r until want records arrived or 20 s passed. */
static int read_n(struct evlog_reader *r, struct collected *c, int want)
{
	int64_t deadline = evm_mono_ms() + 20000;
	const char *error;

	while (c->n < want && evm_mono_ms() < deadline) {
		int got = evlog_reader_poll(r, 500, 16, collect_cb, c, &error);
		if (got < 0) {
			fprintf(stderr, "poll: %s\n", error);
			return -1;
		}
	}
	return c->n;
}

/* ---- the append / read cycle, shared by the mock and the real broker ---- */

/* Appends N_APPENDS records to mail (key-chosen partitions) and checks the
 * callbacks, then reads them back from 0 and from a middle offset. */
static void append_and_read(struct evm_config *cfg)
{
	struct event_base *base = event_base_new();
	struct append_run *run = calloc(1, sizeof *run);
	struct collected *c = calloc(1, sizeof *c);
	struct evlog *log = NULL;
	struct evlog_reader *r = NULL, *r2 = NULL;
	int64_t last[64], count[64];
	const char *error;
	int32_t parts;
	int mid = -1, mid_part = -1;
	int64_t mid_off = -1;

	CHECK(base != NULL && run != NULL && c != NULL);
	CHECK(evlog_open(cfg, base, &log, &error) == 0);
	CHECK_EQ_INT(evlog_refresh_topics(log, 10000, &error), 1);
	parts = evlog_partitions(log, EVM_TOPIC_MAIL);
	CHECK_EQ_INT(parts, cfg->log_partitions);
	CHECK(parts <= 64);

	/* Appends on a missing partition fail without a callback. */
	CHECK_EQ_INT(evlog_append(log, EVM_TOPIC_DIRECTORY, 5, "k", 1, "v", 1,
				  append_cb, &run->a[0], &error), -1);
	CHECK_EQ_INT(run->a[0].calls, 0);

	for (int i = 0; i < N_APPENDS; i++) {
		char key[32], value[512];
		key_for(i, key, sizeof key);
		value_for(i, value, sizeof value);
		CHECK_EQ_INT(evlog_append(log, EVM_TOPIC_MAIL, -1, key, strlen(key), value,
					  strlen(value), append_cb, &run->a[i], &error), 0);
	}
	CHECK_EQ_INT(evlog_pending(log), N_APPENDS);
	/* Never called from inside evlog_append(). */
	for (int i = 0; i < N_APPENDS; i++)
		CHECK_EQ_INT(run->a[i].calls, 0);
	{
		pthread_t th;
		void *bad;
		CHECK(pthread_create(&th, NULL, refresh_thread, log) == 0);
		run_until_idle(base, log, 30000);
		pthread_join(th, &bad);
		CHECK(bad == NULL);
	}
	CHECK_EQ_INT(evlog_pending(log), 0);
	CHECK_EQ_INT(evlog_partitions(log, EVM_TOPIC_MAIL), parts);

	for (int p = 0; p < 64; p++) {
		last[p] = -1;
		count[p] = 0;
	}
	for (int i = 0; i < N_APPENDS; i++) {
		struct appended *a = &run->a[i];
		char key[32];
		key_for(i, key, sizeof key);
		if (a->status != 0)
			fprintf(stderr, "append %d: %s\n", i, a->error);
		CHECK_EQ_INT(a->calls, 1);
		CHECK(a->on_main);
		CHECK_EQ_INT(a->status, 0);
		CHECK_EQ_INT(a->partition, evm_partition_for(key, strlen(key), parts));
		/* Fresh topic: offsets are 0, 1, 2... per partition. */
		CHECK_EQ_INT(a->offset, last[a->partition] + 1);
		last[a->partition] = a->offset;
		count[a->partition]++;
		if (mid < 0 && count[a->partition] == 3) {
			mid = i;
			mid_part = a->partition;
			mid_off = a->offset;
		}
	}
	CHECK(mid >= 0);

	/* Read everything back from offset 0 of every partition. */
	CHECK(evlog_reader_open(log, &r, &error) == 0);
	for (int p = 0; p < parts; p++)
		CHECK(evlog_reader_assign(r, EVM_TOPIC_MAIL, p, 0, &error) == 0);
	CHECK_EQ_INT(read_n(r, c, N_APPENDS), N_APPENDS);
	for (int p = 0; p < parts; p++) {
		int64_t end = -1, expect = 0;
		CHECK(evlog_reader_end_offset(r, EVM_TOPIC_MAIL, p, 10000, &end, &error) == 0);
		CHECK_EQ_INT(end, count[p]);
		for (int k = 0; k < c->n; k++) {
			if (c->rec[k].partition != p)
				continue;
			CHECK_EQ_INT(c->rec[k].offset, expect);
			expect++;
		}
		CHECK_EQ_INT(expect, count[p]);
	}
	for (int k = 0; k < c->n; k++) {
		const struct evlog_record *rec = &c->rec[k];
		int i = -1;
		char key[32], value[512];
		for (int j = 0; j < N_APPENDS; j++) {
			if (run->a[j].partition == rec->partition && run->a[j].offset == rec->offset)
				i = j;
		}
		CHECK(i >= 0);
		key_for(i, key, sizeof key);
		value_for(i, value, sizeof value);
		CHECK_EQ_INT(rec->topic, EVM_TOPIC_MAIL);
		CHECK_EQ_STR(c->key[k], key);
		CHECK_EQ_STR(c->value[k], value);
		CHECK_EQ_INT(rec->key_len, strlen(key));
		CHECK_EQ_INT(rec->value_len, strlen(value));
		CHECK(rec->ts > 0);
	}
	/* Nothing more arrives. */
	CHECK_EQ_INT(evlog_reader_poll(r, 300, 16, collect_cb, c, &error), 0);
	collected_free(c);

	/* Moving an assigned partition: back to the middle of mid_part. */
	CHECK(evlog_reader_unassign_all(r, &error) == 0);
	CHECK(evlog_reader_assign(r, EVM_TOPIC_MAIL, mid_part, mid_off, &error) == 0);
	CHECK_EQ_INT(read_n(r, c, (int)(count[mid_part] - mid_off)), count[mid_part] - mid_off);
	CHECK_EQ_INT(c->rec[0].offset, mid_off);
	collected_free(c);
	CHECK(evlog_reader_assign(r, EVM_TOPIC_MAIL, mid_part, 1, &error) == 0);
	CHECK_EQ_INT(read_n(r, c, (int)(count[mid_part] - 1)), count[mid_part] - 1);
	CHECK_EQ_INT(c->rec[0].offset, 1);
	collected_free(c);

	/* A second reader, from a middle offset, reads the tail in order. */
	CHECK(evlog_reader_open(log, &r2, &error) == 0);
	CHECK(evlog_reader_assign(r2, EVM_TOPIC_MAIL, mid_part, mid_off, &error) == 0);
	CHECK_EQ_INT(read_n(r2, c, (int)(count[mid_part] - mid_off)), count[mid_part] - mid_off);
	for (int k = 0; k < c->n; k++) {
		CHECK_EQ_INT(c->rec[k].partition, mid_part);
		CHECK_EQ_INT(c->rec[k].offset, mid_off + k);
	}
	collected_free(c);

	/* Close with appends in flight: each callback exactly once. */
	memset(run, 0, sizeof *run);
	for (int i = 0; i < 10; i++) {
		CHECK_EQ_INT(evlog_append(log, EVM_TOPIC_CLUSTER, 0, "node", 4, "hb", 2,
					  append_cb, &run->a[i], &error), 0);
	}
	evlog_reader_close(&r);
	evlog_reader_close(&r2);
	evlog_close(&log);
	CHECK(log == NULL);
	for (int i = 0; i < 10; i++)
		CHECK_EQ_INT(run->a[i].calls, 1);
	free(run);
	free(c);
	event_base_free(base);
}

/* ---- mock cluster cases (always run) ---- */

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mock;
static char mock_brokers[256];

/* Starts a 1-broker mock cluster, kept for the whole run. */
static int mock_start(void)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];

	rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
	mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	if (mock_rk == NULL)
		return -1;
	mock = rd_kafka_mock_cluster_new(mock_rk, 1);
	if (mock == NULL)
		return -1;
	snprintf(mock_brokers, sizeof mock_brokers, "%s", rd_kafka_mock_cluster_bootstraps(mock));
	return 0;
}

/* Creates the topics of cfg on the mock cluster, all but skip (-1: none). */
static void mock_create_topics(const struct evm_config *cfg, int skip)
{
	for (int i = 0; i < EVM_TOPIC_COUNT; i++) {
		if (i != skip)
			rd_kafka_mock_topic_create(mock, config_topic(cfg, evm_topics[i].suffix),
						   evm_topic_create_partitions(cfg, i), 1);
	}
}

static void test_mock_refresh_missing(void)
{
	struct evm_config cfg;
	struct event_base *base = event_base_new();
	struct evlog *log = NULL;
	const char *error, *missing = NULL;
	char want[512];

	brokers = mock_brokers;
	CHECK(make_cfg(&cfg, "mockmissing", "3") == 0);
	mock_create_topics(&cfg, EVM_TOPIC_QUEUE);
	CHECK(evlog_open(&cfg, base, &log, &error) == 0);
	CHECK_EQ_INT(evlog_refresh_topics(log, 5000, &missing), 0);
	snprintf(want, sizeof want, "missing topics: %s", config_topic(&cfg, "queue"));
	CHECK_EQ_STR(missing, want);
	CHECK_EQ_INT(evlog_partitions(log, EVM_TOPIC_QUEUE), -1);
	CHECK_EQ_INT(evlog_partitions(log, EVM_TOPIC_MAIL), 3);
	CHECK_EQ_INT(evlog_partitions(log, EVM_TOPIC_DIRECTORY), 1);
	CHECK_EQ_INT(evlog_append(log, EVM_TOPIC_QUEUE, -1, "k", 1, "v", 1, NULL, NULL, &error), -1);
	evlog_close(&log);
	config_free(&cfg);
	event_base_free(base);
}

static void test_mock_append_read(void)
{
	struct evm_config cfg;

	brokers = mock_brokers;
	CHECK(make_cfg(&cfg, "mockrw", "4") == 0);
	mock_create_topics(&cfg, -1);
	append_and_read(&cfg);
	config_free(&cfg);
}

/* An idempotent producer that goes fatal (as OUT_OF_ORDER_SEQUENCE_NUMBER
 * after a leader change did in the chaos test) is replaced: appends work
 * again without restarting the node. */
static void test_mock_fatal_producer_replaced(void)
{
	struct evm_config cfg;
	struct event_base *base = event_base_new();
	struct evlog *log = NULL;
	struct appended a[3];
	const char *error;
	rd_kafka_t *first;
	int64_t deadline;

	memset(a, 0, sizeof a);
	brokers = mock_brokers;
	CHECK(make_cfg(&cfg, "mockfatal", "2") == 0);
	mock_create_topics(&cfg, -1);
	CHECK(evlog_open(&cfg, base, &log, &error) == 0);
	CHECK_EQ_INT(evlog_refresh_topics(log, 5000, &error), 1);
	CHECK_EQ_INT(evlog_append(log, EVM_TOPIC_MAIL, 0, "k", 1, "v", 1, append_cb, &a[0], &error), 0);
	run_until_idle(base, log, 20000);
	CHECK_EQ_INT(a[0].status, 0);
	first = ((struct kafka_log *)log)->prod;
	CHECK(rd_kafka_test_fatal_error(first, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
					"injected by the test") == RD_KAFKA_RESP_ERR_NO_ERROR);
	deadline = evm_mono_ms() + 20000;
	while (((struct kafka_log *)log)->prod == first && evm_mono_ms() < deadline) {
		struct timeval tv = { 0, 50 * 1000 };
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	CHECK(((struct kafka_log *)log)->prod != first);
	CHECK_EQ_INT(((struct kafka_log *)log)->resets, 1);
	CHECK_EQ_INT(evlog_append(log, EVM_TOPIC_MAIL, 1, "k", 1, "w", 1, append_cb, &a[1], &error), 0);
	run_until_idle(base, log, 20000);
	CHECK_EQ_INT(a[1].calls, 1);
	CHECK_EQ_INT(a[1].status, 0);
	evlog_close(&log);
	config_free(&cfg);
	event_base_free(base);
}

/* Broker down: reads return 0 records (not an error); close fails the
 * appends it could not deliver with "log closed", each exactly once. */
static void test_mock_broker_down(void)
{
	struct evm_config cfg;
	struct event_base *base = event_base_new();
	struct evlog *log = NULL;
	struct evlog_reader *r = NULL;
	struct appended a[5];
	struct collected *c = calloc(1, sizeof *c);
	const char *error;
	int64_t t0;

	memset(a, 0, sizeof a);
	brokers = mock_brokers;
	CHECK(make_cfg(&cfg, "mockdown", "2") == 0);
	mock_create_topics(&cfg, -1);
	CHECK(evlog_open(&cfg, base, &log, &error) == 0);
	CHECK_EQ_INT(evlog_refresh_topics(log, 5000, &error), 1);
	CHECK(evlog_reader_open(log, &r, &error) == 0);
	CHECK(evlog_reader_assign(r, EVM_TOPIC_MAIL, 0, 0, &error) == 0);
	CHECK_EQ_INT(evlog_reader_poll(r, 300, 10, collect_cb, c, &error), 0);
	rd_kafka_mock_broker_set_down(mock, 1);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(evlog_append(log, EVM_TOPIC_MAIL, 1, "k", 1, "v", 1, append_cb,
					  &a[i], &error), 0);
	for (int i = 0; i < 3; i++)
		CHECK(evlog_reader_poll(r, 300, 10, collect_cb, c, &error) == 0);
	t0 = evm_mono_ms();
	evlog_close(&log);
	CHECK(evm_mono_ms() - t0 < 15000);
	rd_kafka_mock_broker_set_up(mock, 1);
	for (int i = 0; i < 5; i++) {
		CHECK_EQ_INT(a[i].calls, 1);
		CHECK_EQ_INT(a[i].status, -1);
		/* Closed while pending, or timed out first: log.write_timeout_ms
		 * (message.timeout.ms) and the close's own 10 s wait race. */
		CHECK(strcmp(a[i].error, "log closed") == 0 || strstr(a[i].error, "timed out") != NULL);
	}
	evlog_reader_close(&r);
	config_free(&cfg);
	free(c);
	event_base_free(base);
}

static void test_unreachable(void)
{
	struct evm_config cfg;
	struct event_base *base = event_base_new();
	struct evlog *log = NULL;
	const char *error;

	brokers = "127.0.0.1:1";
	CHECK(make_cfg(&cfg, "down", "2") == 0);
	CHECK(evlog_open(&cfg, base, &log, &error) == 0);
	CHECK_EQ_INT(evlog_refresh_topics(log, 1000, &error), -1);
	CHECK(strstr(error, "metadata") != NULL);
	evlog_close(&log);
	config_free(&cfg);
	event_base_free(base);
}

/* ---- real broker cases ---- */

static void check_report_ok(const struct evm_config *cfg, json_t *report)
{
	size_t i;
	json_t *e;

	CHECK_EQ_INT(json_array_size(report), EVM_TOPIC_COUNT);
	json_array_foreach(report, i, e) {
		const struct evm_topic_spec *spec = &evm_topics[i];
		json_t *configs = json_object_get(e, "configs");
		CHECK_EQ_STR(json_string_value(json_object_get(e, "name")),
			     config_topic(cfg, spec->suffix));
		CHECK_EQ_STR(json_string_value(json_object_get(e, "topic")), spec->suffix);
		CHECK(json_is_true(json_object_get(e, "exists")));
		CHECK_EQ_INT(json_integer_value(json_object_get(e, "partitions")),
			     evm_topic_create_partitions(cfg, (enum evm_topic_id)i));
		CHECK_EQ_INT(json_integer_value(json_object_get(e, "expected_partitions")),
			     evm_topic_create_partitions(cfg, (enum evm_topic_id)i));
		CHECK_EQ_STR(json_string_value(json_object_get(configs, "cleanup.policy")),
			     spec->cleanup_policy);
		if (spec->retention_ms != NULL)
			CHECK_EQ_STR(json_string_value(json_object_get(configs, "retention.ms")),
				     spec->retention_ms);
		CHECK_EQ_STR(json_string_value(json_object_get(configs, "min.insync.replicas")), "1");
		CHECK_EQ_INT(json_integer_value(json_object_get(e, "replication_factor")), 1);
		CHECK_EQ_INT(json_array_size(json_object_get(e, "problems")), 0);
	}
}

static void test_real_create_describe(void)
{
	struct evm_config cfg;
	struct event_base *base = event_base_new();
	struct evlog *log = NULL;
	const char *error, *missing = NULL;
	json_t *report = NULL;

	CHECK(make_cfg(&cfg, "rw", "4") == 0);
	CHECK(evlog_open(&cfg, base, &log, &error) == 0);
	/* Before creation: all five are missing, counts unknown. */
	CHECK_EQ_INT(evlog_refresh_topics(log, 10000, &missing), 0);
	CHECK(strncmp(missing, "missing topics: ", 16) == 0);
	for (int i = 0; i < EVM_TOPIC_COUNT; i++) {
		CHECK(strstr(missing, config_topic(&cfg, evm_topics[i].suffix)) != NULL);
		CHECK_EQ_INT(evlog_partitions(log, i), -1);
	}
	CHECK(evlog_topics_describe(log, &report, &error) == 0);
	CHECK_EQ_INT(json_array_size(report), EVM_TOPIC_COUNT);
	CHECK(json_is_false(json_object_get(json_array_get(report, 0), "exists")));
	CHECK_EQ_INT(json_array_size(json_object_get(json_array_get(report, 0), "problems")), 1);
	json_decref(report);

	/* Create: replication factor 3 (default) is lowered to the 1 broker. */
	CHECK(evlog_topics_create(log, &report, &error) == 0);
	check_report_ok(&cfg, report);
	json_decref(report);
	CHECK_EQ_INT(evlog_refresh_topics(log, 10000, &missing), 1);
	CHECK_EQ_INT(evlog_partitions(log, EVM_TOPIC_MAIL), 4);
	CHECK_EQ_INT(evlog_partitions(log, EVM_TOPIC_CLUSTER), 1);
	/* Again: existing topics are left alone, the report is unchanged. */
	CHECK(evlog_topics_create(log, &report, &error) == 0);
	check_report_ok(&cfg, report);
	json_decref(report);
	CHECK(evlog_topics_describe(log, &report, &error) == 0);
	check_report_ok(&cfg, report);
	json_decref(report);
	evlog_close(&log);
	config_free(&cfg);
	event_base_free(base);
}

static void test_real_append_read(void)
{
	struct evm_config cfg;

	/* Same prefix as test_real_create_describe: its topics exist. */
	CHECK(make_cfg(&cfg, "rw", "4") == 0);
	append_and_read(&cfg);
	config_free(&cfg);
}

/* Creates one topic directly with the admin API (not through evlog). */
static int admin_create(const char *name, int partitions, const char *cleanup)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	rd_kafka_NewTopic_t *nt;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	rd_kafka_AdminOptions_t *opts;
	const rd_kafka_topic_result_t **res;
	char errstr[256];
	size_t n;
	int ret = -1;

	rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	if (rk == NULL)
		return -1;
	nt = rd_kafka_NewTopic_new(name, partitions, 1, errstr, sizeof errstr);
	rd_kafka_NewTopic_set_config(nt, "cleanup.policy", cleanup);
	q = rd_kafka_queue_new(rk);
	opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_operation_timeout(opts, 10000, errstr, sizeof errstr);
	rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
	ev = rd_kafka_queue_poll(q, 20000);
	if (ev != NULL && rd_kafka_event_error(ev) == 0) {
		res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
		if (n == 1 && rd_kafka_topic_result_error(res[0]) == 0)
			ret = 0;
	}
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(opts);
	rd_kafka_NewTopic_destroy(nt);
	rd_kafka_queue_destroy(q);
	rd_kafka_destroy(rk);
	return ret;
}

/* Finds the report entry of a topic suffix. */
static json_t *report_entry(json_t *report, const char *suffix)
{
	size_t i;
	json_t *e;

	json_array_foreach(report, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "topic")), suffix) == 0)
			return e;
	}
	return NULL;
}

/* Checks that problems holds an entry starting with prefix. */
static int has_problem(json_t *e, const char *prefix)
{
	size_t i;
	json_t *p;

	json_array_foreach(json_object_get(e, "problems"), i, p) {
		if (strncmp(json_string_value(p), prefix, strlen(prefix)) == 0)
			return 1;
	}
	return 0;
}

static void test_real_wrong_topic(void)
{
	struct evm_config cfg;
	struct event_base *base = event_base_new();
	struct evlog *log = NULL;
	const char *error;
	json_t *report = NULL, *e;

	CHECK(make_cfg(&cfg, "wrong", "2") == 0);
	/* directory must have 1 partition and be compacted. */
	CHECK(admin_create(config_topic(&cfg, "directory"), 3, "delete") == 0);
	CHECK(evlog_open(&cfg, base, &log, &error) == 0);
	CHECK(evlog_topics_create(log, &report, &error) == 0);
	e = report_entry(report, "directory");
	CHECK(e != NULL);
	CHECK(json_is_true(json_object_get(e, "exists")));
	CHECK_EQ_INT(json_integer_value(json_object_get(e, "partitions")), 3);
	CHECK(has_problem(e, "partition count is 3, expected 1"));
	CHECK(has_problem(e, "cleanup.policy is delete, expected compact"));
	e = report_entry(report, "mail");
	CHECK_EQ_INT(json_array_size(json_object_get(e, "problems")), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(e, "partitions")), 2);
	json_decref(report);
	CHECK(evlog_topics_describe(log, &report, &error) == 0);
	e = report_entry(report, "directory");
	CHECK_EQ_INT(json_array_size(json_object_get(e, "problems")), 2);
	json_decref(report);
	evlog_close(&log);
	config_free(&cfg);
	event_base_free(base);
}

int main(void)
{
	const char *real = getenv("EVMAIL_TEST_KAFKA_BROKERS");
	char rnd[EVM_ID_HEX_LEN + 1];

	evthread_use_pthreads();
	main_thread = pthread_self();
	log_set_level(LOG_WARN);
	evm_random_id(rnd);
	snprintf(run_id, sizeof run_id, "%.12s", rnd);

	if (mock_start() < 0) {
		fprintf(stderr, "cannot start librdkafka's mock cluster\n");
		return 1;
	}
	test_run("mock: refresh_topics names missing topics", test_mock_refresh_missing);
	test_run("mock: append callbacks and reader round trip", test_mock_append_read);
	test_run("mock: broker down, reads idle, close fails appends", test_mock_broker_down);
	test_run("mock: a producer gone fatal is replaced, appends work again", test_mock_fatal_producer_replaced);
	test_run("unreachable broker: refresh_topics fails", test_unreachable);

	if (real != NULL && *real != '\0') {
		brokers = real;
		fprintf(stderr, "real broker %s, topic prefix evmtest.%s.*\n", real, run_id);
		test_run("real: refresh, create, describe", test_real_create_describe);
		test_run("real: append callbacks and reader round trip", test_real_append_read);
		test_run("real: a wrongly created topic is reported", test_real_wrong_topic);
	} else {
		fprintf(stderr, "SKIPPED: real-broker cases (set EVMAIL_TEST_KAFKA_BROKERS, "
			"start one with tests/kafka/broker.sh start DIR PORT)\n");
	}
	rd_kafka_mock_cluster_destroy(mock);
	rd_kafka_destroy(mock_rk);
	return test_done();
}

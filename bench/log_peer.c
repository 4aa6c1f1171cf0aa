/* log_peer - the peer of bench_log: plain librdkafka (and kcat) moving the
 * same payloads through the same broker, without evmail in between. */
#include "bench/log_bench.h"

#include <librdkafka/rdkafka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_rate(const struct bench_result *r)
{
	if (!r->ran || !r->ok || r->secs <= 0)
		return 0;
	return (double)r->count / r->secs;
}

/* Formats into a static buffer (single-threaded caller). */
static const char *peer_errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *peer_errf(const char *fmt, ...)
{
	static char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return buf;
}

/* A configuration with the brokers and quiet logging; NULL on a bad key. */
static rd_kafka_conf_t *peer_conf(const struct peer_opts *o, const char *const *kv,
				  const char **error_r)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];

	if (rd_kafka_conf_set(conf, "bootstrap.servers", o->brokers, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
		goto fail;
	if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
		goto fail;
	for (size_t i = 0; kv != NULL && kv[i] != NULL; i += 2) {
		if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
			goto fail;
	}
	return conf;
fail:
	*error_r = peer_errf("librdkafka config: %s", errstr);
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* 1 when metadata shows topic with a partition 0 and a leader. */
static int topic_visible(rd_kafka_t *rk, const char *topic)
{
	const struct rd_kafka_metadata *md;
	int ok = 0;

	if (rd_kafka_metadata(rk, 1, NULL, &md, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	for (int t = 0; t < md->topic_cnt; t++) {
		if (strcmp(md->topics[t].topic, topic) == 0 && md->topics[t].partition_cnt > 0 &&
		    md->topics[t].partitions[0].leader >= 0)
			ok = 1;
	}
	rd_kafka_metadata_destroy(md);
	return ok;
}

/* Waits up to 10 s for topic to show in metadata. */
static int wait_visible(rd_kafka_t *rk, const char *topic)
{
	for (int i = 0; i < 50; i++) {
		if (topic_visible(rk, topic))
			return 1;
		usleep(200 * 1000);
	}
	return 0;
}

int peer_create_topic(const struct peer_opts *o, const char *topic, const char **error_r)
{
	static const char *const kv[] = { NULL };
	rd_kafka_conf_t *conf = peer_conf(o, kv, error_r);
	rd_kafka_NewTopic_t *nt;
	rd_kafka_AdminOptions_t *opts;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	const rd_kafka_topic_result_t **res;
	rd_kafka_t *rk;
	char errstr[256];
	size_t cnt;
	int ret = -1;

	if (conf == NULL)
		return -1;
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		*error_r = peer_errf("rd_kafka_new: %s", errstr);
		return -1;
	}
	nt = rd_kafka_NewTopic_new(topic, 1, 1, errstr, sizeof errstr);
	rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
	rd_kafka_NewTopic_set_config(nt, "min.insync.replicas", "1");
	opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_operation_timeout(opts, 15000, errstr, sizeof errstr);
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
	ev = rd_kafka_queue_poll(q, 20000);
	if (ev == NULL) {
		*error_r = "CreateTopics: no answer in 20 s";
	} else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		*error_r = peer_errf("CreateTopics: %s", rd_kafka_event_error_string(ev));
	} else {
		res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
		if (cnt == 1 && rd_kafka_topic_result_error(res[0]) != RD_KAFKA_RESP_ERR_NO_ERROR)
			*error_r = peer_errf("CreateTopics %s: %s", topic,
					     rd_kafka_err2str(rd_kafka_topic_result_error(res[0])));
		else if (!wait_visible(rk, topic))
			*error_r = peer_errf("topic %s not visible in metadata after 10 s", topic);
		else
			ret = 0;
	}
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(opts);
	rd_kafka_NewTopic_destroy(nt);
	rd_kafka_destroy(rk);
	return ret;
}

/* Delivery-report bookkeeping of peer_produce(). */
struct produce_state {
	size_t delivered, failed;
	double t_first;
	char first_error[200];
};

static void peer_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct produce_state *st = opaque;

	if (st->delivered++ == 0)
		st->t_first = bench_now();
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (st->failed++ == 0)
			snprintf(st->first_error, sizeof st->first_error, "%s", rd_kafka_err2str(m->err));
	}
}

void peer_produce(const struct peer_opts *o, const char *topic, const struct bench_payloads *pl,
		  struct bench_result *res)
{
	char linger[16];
	const char *kv[] = {
		"enable.idempotence", "true", "acks", "all", "linger.ms", linger,
		"socket.nagle.disable", "true", NULL,
	};
	struct produce_state st = { 0 };
	const char *error = NULL;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char errstr[256];
	double t0, deadline;
	size_t sent = 0;

	memset(res, 0, sizeof *res);
	res->ran = 1;
	snprintf(linger, sizeof linger, "%d", o->linger_ms);
	conf = peer_conf(o, kv, &error);
	if (conf == NULL) {
		snprintf(res->note, sizeof res->note, "%s", error);
		return;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, peer_dr_cb);
	rd_kafka_conf_set_opaque(conf, &st);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(res->note, sizeof res->note, "rd_kafka_new: %s", errstr);
		return;
	}
	/* Connected, metadata known, producer id acquired: one acknowledged
	 * warm-up record before the clock, as for evmail. */
	if (!wait_visible(rk, topic) ||
	    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o->warmup_topic), RD_KAFKA_V_PARTITION(0),
			      RD_KAFKA_V_KEY("warm-up", 7), RD_KAFKA_V_VALUE("warm-up", 7),
			      RD_KAFKA_V_END) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR || st.failed > 0) {
		snprintf(res->note, sizeof res->note, "warm-up produce failed: %s",
			 st.failed ? st.first_error : "no delivery report");
		rd_kafka_destroy(rk);
		return;
	}
	st = (struct produce_state){ 0 };
	t0 = bench_now();
	deadline = t0 + o->timeout_s;
	while (sent < pl->n && bench_now() < deadline) {
		rd_kafka_resp_err_t err;

		if (sent - st.delivered >= o->inflight) {
			rd_kafka_poll(rk, 10);
			continue;
		}
		err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
					RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					RD_KAFKA_V_KEY(pl->key[sent], EVM_ID_HEX_LEN),
					RD_KAFKA_V_VALUE(pl->value[sent], pl->value_len[sent]),
					RD_KAFKA_V_END);
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			rd_kafka_poll(rk, 10);
			continue;
		}
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			snprintf(res->note, sizeof res->note, "produce: %s", rd_kafka_err2str(err));
			break;
		}
		sent++;
		rd_kafka_poll(rk, 0);
	}
	while (st.delivered < sent && bench_now() < deadline)
		rd_kafka_poll(rk, 10);
	res->secs = bench_now() - t0;
	res->count = st.delivered - st.failed;
	res->failed = st.failed + (pl->n - st.delivered);
	res->ok = st.delivered == pl->n && st.failed == 0;
	if (st.failed > 0)
		snprintf(res->note, sizeof res->note, "%zu failed, first: %s", st.failed, st.first_error);
	else if (!res->ok && res->note[0] == '\0')
		snprintf(res->note, sizeof res->note, "timed out after %d s", o->timeout_s);
	else if (res->ok)
		snprintf(res->note, sizeof res->note, "first ack after %.1f ms", (st.t_first - t0) * 1e3);
	rd_kafka_flush(rk, 10000);
	rd_kafka_destroy(rk);
}

void peer_consume(const struct peer_opts *o, const char *topic, size_t n, struct bench_result *res)
{
	char group[128];
	const char *kv[] = {
		"group.id", group, "enable.auto.commit", "false",
		"enable.partition.eof", "false", NULL,
	};
	rd_kafka_topic_partition_list_t *parts;
	const char *error = NULL;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char errstr[256];
	double t0, deadline;
	size_t got = 0;

	memset(res, 0, sizeof *res);
	res->ran = 1;
	snprintf(group, sizeof group, "bench-raw-%d", (int)getpid());
	t0 = bench_now();
	deadline = t0 + o->timeout_s;
	conf = peer_conf(o, kv, &error);
	if (conf == NULL) {
		snprintf(res->note, sizeof res->note, "%s", error);
		return;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(res->note, sizeof res->note, "rd_kafka_new: %s", errstr);
		return;
	}
	rd_kafka_poll_set_consumer(rk);
	parts = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = 0;
	if (rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
		snprintf(res->note, sizeof res->note, "assign failed");
	rd_kafka_topic_partition_list_destroy(parts);
	while (res->note[0] == '\0' && got < n && bench_now() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

		if (m == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			got++;
		else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			fprintf(stderr, "bench_log: raw consume: %s\n", rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
	}
	res->secs = bench_now() - t0;
	res->count = got;
	res->ok = got == n;
	if (!res->ok && res->note[0] == '\0')
		snprintf(res->note, sizeof res->note, "got %zu of %zu in %d s", got, n, o->timeout_s);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
}

/* Runs argv with stdin/stdout from/to files (NULL: /dev/null) and stderr
 * appended to errlog; returns the exit status (-1: could not run). Kills
 * it after timeout_s. */
static int run_cmd(char *const argv[], const char *in, const char *out, const char *errlog,
		   int timeout_s)
{
	posix_spawn_file_actions_t fa;
	double deadline = bench_now() + timeout_s;
	pid_t pid;
	int status, err;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in ? in : "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, errlog, O_WRONLY | O_CREAT | O_APPEND, 0644);
	err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err != 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (bench_now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(2000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Counts '\n' in a file; -1 when it cannot be read. */
static long count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[65536];
	size_t got;
	long n = 0;

	if (f == NULL)
		return -1;
	while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
		for (size_t i = 0; i < got; i++)
			n += buf[i] == '\n';
	}
	fclose(f);
	return n;
}

void peer_kcat_produce(const struct peer_opts *o, const char *kcat, const char *topic,
		       const char *file, const char *errlog, struct bench_result *res)
{
	char linger[32];
	char *argv[] = {
		(char *)kcat, "-P", "-b", (char *)o->brokers, "-t", (char *)topic, "-p", "0",
		"-K", "\t", "-X", "enable.idempotence=true", "-X", "acks=all",
		"-X", linger, "-X", "socket.nagle.disable=true", NULL,
	};
	double t0;
	long lines;
	int rc;

	memset(res, 0, sizeof *res);
	res->ran = 1;
	snprintf(linger, sizeof linger, "linger.ms=%d", o->linger_ms);
	t0 = bench_now();
	rc = run_cmd(argv, file, NULL, errlog, o->timeout_s);
	res->secs = bench_now() - t0;
	res->ok = rc == 0;
	lines = count_lines(file);
	res->count = res->ok && lines > 0 ? (size_t)lines : 0;
	if (!res->ok)
		snprintf(res->note, sizeof res->note, "kcat -P exit %d (see %s)", rc, errlog);
}

void peer_kcat_consume(const struct peer_opts *o, const char *kcat, const char *topic, size_t n,
		       const char *outfile, const char *errlog, struct bench_result *res)
{
	char count[32];
	char *argv[] = {
		(char *)kcat, "-C", "-b", (char *)o->brokers, "-t", (char *)topic, "-p", "0",
		"-o", "beginning", "-e", "-q", "-c", count, NULL,
	};
	double t0;
	long lines;
	int rc;

	memset(res, 0, sizeof *res);
	res->ran = 1;
	snprintf(count, sizeof count, "%zu", n);
	t0 = bench_now();
	rc = run_cmd(argv, NULL, outfile, errlog, o->timeout_s);
	res->secs = bench_now() - t0;
	lines = count_lines(outfile);
	res->count = lines > 0 ? (size_t)lines : 0;
	res->ok = rc == 0 && res->count == n;
	if (!res->ok)
		snprintf(res->note, sizeof res->note, "kcat -C exit %d, %ld of %zu messages", rc,
			 lines, n);
}

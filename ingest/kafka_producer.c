/* kafka_producer - open/close and appends of the Kafka log backend.
 *
 * Appends are produced with an explicit partition (idempotent, acks=all).
 * Delivery reports arrive on the producer's main queue, which librdkafka
 * signals through a pipe watched by the log's libevent loop; the loop then
 * calls rd_kafka_poll(), which runs kafka_dr_cb() on the loop thread. */
#include "ingest/kafka_common.h"
#include "common/buf.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One append waiting for its delivery report. */
struct kafka_pending {
	struct kafka_pending *prev, *next;
	evlog_append_cb *cb;
	void *ctx;
	int done;                          /* callback already called */
};

/* Links p at the tail of the in-flight list. */
static void pending_link(struct kafka_log *kl, struct kafka_pending *p)
{
	p->prev = kl->pending_tail;
	p->next = NULL;
	if (kl->pending_tail != NULL)
		kl->pending_tail->next = p;
	else
		kl->pending_head = p;
	kl->pending_tail = p;
	kl->pending++;
}

/* Unlinks p from the in-flight list. */
static void pending_unlink(struct kafka_log *kl, struct kafka_pending *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		kl->pending_head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		kl->pending_tail = p->prev;
	kl->pending--;
}

/* Delivery report (loop thread, inside rd_kafka_poll/flush): one call of
 * the append's callback. */
static void kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka_log *kl = opaque;
	struct kafka_pending *p = m->_private;

	if (p == NULL || p->done)
		return;
	pending_unlink(kl, p);
	p->done = 1;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		p->cb(p->ctx, 0, NULL, m->partition, m->offset);
	} else if (kl->closing && (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
				   m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)) {
		p->cb(p->ctx, -1, "log closed", -1, -1);
	} else {
		const char *error = kafka_errf("kafka append to %s [%d] failed: %s",
					       rd_kafka_topic_name(m->rkt), (int)m->partition,
					       rd_kafka_err2str(m->err));
		p->cb(p->ctx, -1, error, -1, -1);
	}
	free(p);
}

/* Errors not tied to one message (broker down, fatal idempotence state). */
static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_log *kl = opaque;
	char fatal[512];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
		log_error("kafka %s: fatal producer error %s: %s (a new producer takes over)",
			  rd_kafka_name(rk), rd_kafka_err2name(ferr), fatal);
		evlog_mark_unreachable(&kl->log, kafka_errf("fatal Kafka producer error: %s", fatal), 0);
		/* Not from inside the handle's own callback: on the next turn. */
		if (rk == kl->prod && kl->reset_ev != NULL && !kl->closing)
			event_active(kl->reset_ev, 0, 0);
		return;
	}
	log_warn("kafka %s: %s: %s", rd_kafka_name(rk), rd_kafka_err2name(err), reason);
	/* Served by rd_kafka_poll on the loop thread, like delivery reports.
	 * The next acknowledged append (the heartbeat at the latest) marks the
	 * log reachable again. */
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		evlog_mark_unreachable(&kl->log, kafka_errf("no Kafka broker reachable (%s)",
							    kl->log.cfg->log_brokers), 0);
}

/* The loop's read event: librdkafka signalled a non-empty main queue. */
static void kafka_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kafka_log *kl = arg;
	char drain[64];

	while (read(fd, drain, sizeof drain) > 0)
		;
	rd_kafka_poll(kl->rk, 0);
	if (kl->prod != kl->rk)
		rd_kafka_poll(kl->prod, 0);
}

static rd_kafka_conf_t *kafka_producer_conf(const struct evm_config *cfg, struct kafka_log *kl,
					    const char **error_r);

/* Replaces a producer that went fatal (loop thread). Its appends in
 * flight are failed now — their fate is unknown, so callers answer with a
 * temporary error and clients retry (a duplicate is possible, a loss is
 * not); a late report from the old handle is ignored (done). The old
 * handle is destroyed unless it is rk, which metadata users keep. */
static void kafka_producer_reset(evutil_socket_t fd, short what, void *arg)
{
	struct kafka_log *kl = arg;
	rd_kafka_conf_t *conf;
	rd_kafka_t *old = kl->prod, *fresh;
	rd_kafka_queue_t *oldq = kl->prodq;
	const char *error = NULL;
	char errstr[512];

	if (kl->closing || rd_kafka_fatal_error(old, errstr, sizeof errstr) == RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	conf = kafka_producer_conf(kl->log.cfg, kl, &error);
	if (conf == NULL)
		return;
	fresh = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	if (fresh == NULL) {
		rd_kafka_conf_destroy(conf);
		log_error("kafka log: cannot make a new producer: %s", errstr);
		return;
	}
	while (kl->pending_head != NULL) {
		struct kafka_pending *p = kl->pending_head;
		pending_unlink(kl, p);
		p->done = 1;        /* freed by its late report, or leaked with the handle */
		p->cb(p->ctx, -1, "kafka producer replaced after a fatal error (fate unknown)", -1, -1);
	}
	kl->prod = fresh;
	kl->prodq = rd_kafka_queue_get_main(fresh);
	rd_kafka_queue_io_event_enable(kl->prodq, kl->wake_fds[1], "1", 1);
	kl->resets++;
	log_warn("kafka log: producer replaced after a fatal error (%d so far)", kl->resets);
	if (old != kl->rk) {
		rd_kafka_queue_io_event_enable(oldq, -1, NULL, 0);
		rd_kafka_queue_destroy(oldq);
		rd_kafka_purge(old, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_destroy(old);
	}
	rd_kafka_poll(kl->prod, 0);
}

/* The producer configuration of ARCHITECTURE.md "The log". */
static rd_kafka_conf_t *kafka_producer_conf(const struct evm_config *cfg, struct kafka_log *kl,
					    const char **error_r)
{
	rd_kafka_conf_t *conf = kafka_conf_new(cfg, "producer");
	char linger[32], timeout[32];

	snprintf(linger, sizeof linger, "%lld", (long long)cfg->log_linger_ms);
	/* log.write_timeout_ms bounds every append (evlog.h): librdkafka fails
	 * a record it could not get acknowledged by then (message.timeout.ms,
	 * alias delivery.timeout.ms; the default would be 300 s). */
	snprintf(timeout, sizeof timeout, "%lld", (long long)cfg->log_write_timeout_ms);
	if (kafka_conf_set(conf, "enable.idempotence", "true", error_r) < 0 ||
	    kafka_conf_set(conf, "acks", "all", error_r) < 0 ||
	    kafka_conf_set(conf, "socket.nagle.disable", "true", error_r) < 0 ||
	    kafka_conf_set(conf, "linger.ms", linger, error_r) < 0 ||
	    kafka_conf_set(conf, "message.timeout.ms", timeout, error_r) < 0 ||
	    kafka_conf_set(conf, "allow.auto.create.topics", "false", error_r) < 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr_cb);
	rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
	rd_kafka_conf_set_opaque(conf, kl);
	return conf;
}

/* Frees what kafka_open() built, in reverse order. */
static void kafka_free(struct kafka_log *kl)
{
	if (kl->wake_ev != NULL)
		event_free(kl->wake_ev);
	if (kl->reset_ev != NULL)
		event_free(kl->reset_ev);
	if (kl->prod != NULL && kl->prod != kl->rk) {
		rd_kafka_queue_io_event_enable(kl->prodq, -1, NULL, 0);
		rd_kafka_queue_destroy(kl->prodq);
		rd_kafka_destroy(kl->prod);
	}
	if (kl->mainq != NULL) {
		rd_kafka_queue_io_event_enable(kl->mainq, -1, NULL, 0);
		rd_kafka_queue_destroy(kl->mainq);
	}
	if (kl->rk != NULL)
		rd_kafka_destroy(kl->rk);
	for (int i = 0; i < 2; i++) {
		if (kl->wake_fds[i] >= 0)
			close(kl->wake_fds[i]);
	}
	while (kl->pending_head != NULL) {
		struct kafka_pending *p = kl->pending_head;
		kl->pending_head = p->next;
		free(p);
	}
	for (int i = 0; i < EVM_TOPIC_COUNT; i++)
		free(kl->topic_names[i]);
	free(kl);
}

/* evlog_open() for "kafka": the producer, its wake pipe on base, and a
 * first best-effort refresh of the partition counts (5 s). */
int kafka_open(const struct evm_config *cfg, struct event_base *base,
	       struct evlog **log_r, const char **error_r)
{
	struct kafka_log *kl = xcalloc(1, sizeof *kl);
	rd_kafka_conf_t *conf;
	const char *missing;
	char errstr[512];

	kl->log.ops = &evlog_kafka_ops;
	kl->log.cfg = cfg;
	kl->log.base = base;
	kl->wake_fds[0] = kl->wake_fds[1] = -1;
	for (int i = 0; i < EVM_TOPIC_COUNT; i++) {
		kl->log.partitions[i] = -1;
		kl->topic_names[i] = xstrdup(config_topic(cfg, evm_topics[i].suffix));
	}
	if (cfg->log_brokers[0] == '\0') {
		*error_r = "kafka log: log.brokers is empty";
		goto fail;
	}
	if (pipe2(kl->wake_fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		*error_r = kafka_errf("kafka log: pipe: %s", strerror(errno));
		goto fail;
	}
	conf = kafka_producer_conf(cfg, kl, error_r);
	if (conf == NULL)
		goto fail;
	kl->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	if (kl->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		*error_r = kafka_errf("kafka producer: %s", errstr);
		goto fail;
	}
	kl->prod = kl->rk;
	kl->reset_ev = event_new(base, -1, 0, kafka_producer_reset, kl);
	kl->mainq = rd_kafka_queue_get_main(kl->rk);
	rd_kafka_queue_io_event_enable(kl->mainq, kl->wake_fds[1], "1", 1);
	kl->wake_ev = event_new(base, kl->wake_fds[0], EV_READ | EV_PERSIST, kafka_wake_cb, kl);
	if (kl->wake_ev == NULL || event_add(kl->wake_ev, NULL) < 0) {
		*error_r = "kafka log: cannot add the wake event to the loop";
		goto fail;
	}
	/* Serve anything queued before the io event was enabled. */
	rd_kafka_poll(kl->rk, 0);
	switch (kafka_refresh_topics(&kl->log, 5000, &missing)) {
	case -1:
		log_warn("kafka log: %s (will retry on refresh)", missing);
		break;
	case 0:
		log_info("kafka log: %s", missing);
		break;
	}
	*log_r = &kl->log;
	return 0;
fail:
	kafka_free(kl);
	return -1;
}

/* evlog_close(): flush up to 10 s, then fail what is left with "log closed"
 * (each callback still exactly once), then free. Loop thread. */
void kafka_close(struct evlog *log)
{
	struct kafka_log *kl = (struct kafka_log *)log;
	int64_t waited = 0;

	kl->closing = 1;
	event_del(kl->wake_ev);
	/* flush serves the main queue itself: delivery reports run here. */
	rd_kafka_flush(kl->prod, KAFKA_CLOSE_FLUSH_MS);
	if (kl->pending > 0) {
		log_warn("kafka log: closing with %zu appends unacknowledged", kl->pending);
		rd_kafka_purge(kl->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		while (kl->pending > 0 && waited < 2000) {
			rd_kafka_poll(kl->prod, 100);
			waited += 100;
		}
	}
	/* Whatever librdkafka still holds: fail it ourselves; kafka_dr_cb
	 * ignores entries marked done should a report still come. */
	for (struct kafka_pending *p = kl->pending_head; p != NULL; p = p->next) {
		if (p->done)
			continue;
		p->done = 1;
		p->cb(p->ctx, -1, "log closed", -1, -1);
	}
	kafka_free(kl);
}

/* evlog_append(): queue one record for an explicit, known partition. */
int kafka_append(struct evlog *log, enum evm_topic_id topic, int32_t partition,
		 const void *key, size_t key_len, const void *value, size_t value_len,
		 evlog_append_cb *cb, void *ctx, const char **error_r)
{
	struct kafka_log *kl = (struct kafka_log *)log;
	int32_t count = evlog_partitions(log, topic);
	struct kafka_pending *p;
	rd_kafka_resp_err_t err;

	if (kl->closing) {
		*error_r = "log closing";
		return -1;
	}
	if ((int)topic < 0 || topic >= EVM_TOPIC_COUNT) {
		*error_r = "unknown topic";
		return -1;
	}
	if (count <= 0) {
		*error_r = kafka_errf("topic %s does not exist (yet)", kl->topic_names[topic]);
		return -1;
	}
	if (partition < 0 || partition >= count) {
		*error_r = kafka_errf("topic %s has no partition %d", kl->topic_names[topic],
				      (int)partition);
		return -1;
	}
	p = xcalloc(1, sizeof *p);
	p->cb = cb;
	p->ctx = ctx;
	/* The topic is referenced by name only once we know it exists, so the
	 * producer's metadata request never asks a broker to auto-create it. */
	err = rd_kafka_producev(kl->prod,
				RD_KAFKA_V_TOPIC(kl->topic_names[topic]),
				RD_KAFKA_V_PARTITION(partition),
				RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				RD_KAFKA_V_KEY(key, key_len),
				RD_KAFKA_V_VALUE((void *)value, value_len),
				RD_KAFKA_V_OPAQUE(p),
				RD_KAFKA_V_END);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		free(p);
		*error_r = kafka_errf("kafka append to %s [%d]: %s", kl->topic_names[topic],
				      (int)partition, rd_kafka_err2str(err));
		return -1;
	}
	pending_link(kl, p);
	return 0;
}

/* evlog_pending(): appends waiting for their callback. */
size_t kafka_pending_count(struct evlog *log)
{
	return ((struct kafka_log *)log)->pending;
}

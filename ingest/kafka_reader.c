/* kafka_reader - the consumer side of the Kafka log backend.
 *
 * A separate consumer handle with manual assignment: nothing is committed
 * (positions live in the view). librdkafka 2.0 requires a group.id even
 * for manual assignment; it is per node and never joined. */
#include "ingest/kafka_common.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kafka_reader {
	struct evlog_reader reader;        /* first: evlog.c casts */
	struct kafka_log *kl;
	rd_kafka_t *rk;
	rd_kafka_topic_partition_list_t *assignment;  /* the full current set */
	int dirty;                         /* assignment changed since the last rd_kafka_assign */
};

/* A consumer on the log's brokers: streaming (the projector's), or for
 * reads by offset (lookup). */
static int reader_new(struct evlog *log, int lookup, struct evlog_reader **reader_r, const char **error_r)
{
	const struct evm_config *cfg = log->cfg;
	rd_kafka_conf_t *conf = kafka_conf_new(cfg, "reader");
	struct kafka_reader *kr;
	char group[300], errstr[512];
	rd_kafka_t *rk;

	snprintf(group, sizeof group, "evmail-node-%s", cfg->node_id);
	if (kafka_conf_set(conf, "group.id", group, error_r) < 0 ||
	    kafka_conf_set(conf, "enable.auto.commit", "false", error_r) < 0 ||
	    kafka_conf_set(conf, "enable.auto.offset.store", "false", error_r) < 0 ||
	    kafka_conf_set(conf, "auto.offset.reset", "earliest", error_r) < 0 ||
	    kafka_conf_set(conf, "enable.partition.eof", "false", error_r) < 0 ||
	    kafka_conf_set(conf, "allow.auto.create.topics", "false", error_r) < 0 ||
	    kafka_conf_set(conf, "fetch.wait.max.ms", lookup ? "10" : "100", error_r) < 0 ||
	    (lookup && kafka_conf_set(conf, "queued.max.messages.kbytes", "4096", error_r) < 0)) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	/* No error_cb: generic errors then come out of consumer_poll as error
	 * messages, where kafka_reader_poll() classifies them. */
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		*error_r = kafka_errf("kafka consumer: %s", errstr);
		return -1;
	}
	rd_kafka_poll_set_consumer(rk);
	kr = xcalloc(1, sizeof *kr);
	kr->kl = (struct kafka_log *)log;
	kr->rk = rk;
	kr->assignment = rd_kafka_topic_partition_list_new(8);
	*reader_r = &kr->reader;
	return 0;
}

/* Hands the full assignment list to librdkafka, once per change set.
 * Assignments are applied lazily at the next poll: calling rd_kafka_assign
 * again while the previous assignment's partitions are still stopping trips
 * an assertion in librdkafka 2.0 (rd_kafka_assignment_partition_stopped),
 * so a run of assign/unassign calls (start-up, rebuild) becomes one call. */
static int reader_apply(struct kafka_reader *kr, const char **error_r)
{
	rd_kafka_resp_err_t err;

	if (!kr->dirty)
		return 0;
	err = rd_kafka_assign(kr->rk, kr->assignment->cnt > 0 ? kr->assignment : NULL);
	kr->dirty = 0;
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		*error_r = kafka_errf("kafka assign: %s", rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}

/* evlog_reader_open(). */
int kafka_reader_open(struct evlog *log, struct evlog_reader **reader_r, const char **error_r)
{
	return reader_new(log, 0, reader_r, error_r);
}

/* evlog_reader_open_lookup(). */
int kafka_reader_open_lookup(struct evlog *log, struct evlog_reader **reader_r, const char **error_r)
{
	return reader_new(log, 1, reader_r, error_r);
}

/* evlog_reader_assign(): adds or moves one partition in the assignment. */
int kafka_reader_assign(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
			int64_t next_offset, const char **error_r)
{
	struct kafka_reader *kr = (struct kafka_reader *)r;
	const char *name;
	rd_kafka_topic_partition_t *tp;

	if ((int)topic < 0 || topic >= EVM_TOPIC_COUNT || partition < 0 || next_offset < 0) {
		*error_r = "kafka assign: bad topic, partition or offset";
		return -1;
	}
	name = kr->kl->topic_names[topic];
	tp = rd_kafka_topic_partition_list_find(kr->assignment, name, partition);
	if (tp == NULL)
		tp = rd_kafka_topic_partition_list_add(kr->assignment, name, partition);
	tp->offset = next_offset;
	kr->dirty = 1;
	return 0;
}

/* evlog_reader_unassign_all(): stops consuming everything. */
int kafka_reader_unassign_all(struct evlog_reader *r, const char **error_r)
{
	struct kafka_reader *kr = (struct kafka_reader *)r;

	rd_kafka_topic_partition_list_destroy(kr->assignment);
	kr->assignment = rd_kafka_topic_partition_list_new(8);
	kr->dirty = 1;
	return 0;
}

/* True for consumer errors that end the poll with -1; the others are
 * transient (broker restarts, leader moves) and librdkafka retries them. */
static int reader_error_is_fatal(rd_kafka_t *rk, rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR__FATAL:
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
	case RD_KAFKA_RESP_ERR__AUTHENTICATION:
	case RD_KAFKA_RESP_ERR__SSL:
		return 1;
	default:
		return 0;
	}
}

/* Turns one message into a record for cb; 1 when it was delivered, 0 when
 * skipped, -1 on a fatal error or when cb stops. */
static int reader_deliver(struct kafka_reader *kr, rd_kafka_message_t *m,
			  evlog_record_cb *cb, void *ctx, const char **error_r)
{
	struct evlog_record rec;
	rd_kafka_timestamp_type_t tstype;
	int id;

	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
		return 0;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		const char *where = m->rkt != NULL ? rd_kafka_topic_name(m->rkt) : "-";
		if (reader_error_is_fatal(kr->rk, m->err)) {
			*error_r = kafka_errf("kafka read %s [%d]: %s", where, (int)m->partition,
					      rd_kafka_message_errstr(m));
			return -1;
		}
		log_warn("kafka read %s [%d]: %s (retrying)", where, (int)m->partition,
			 rd_kafka_message_errstr(m));
		return 0;
	}
	id = evm_topic_by_name(kr->kl->log.cfg, rd_kafka_topic_name(m->rkt));
	if (id < 0)
		return 0;
	memset(&rec, 0, sizeof rec);
	rec.topic = (enum evm_topic_id)id;
	rec.partition = m->partition;
	rec.offset = m->offset;
	rec.ts = rd_kafka_message_timestamp(m, &tstype);
	rec.key = m->key;
	rec.key_len = m->key != NULL ? m->key_len : 0;
	rec.value = m->payload;
	rec.value_len = m->payload != NULL ? m->len : 0;
	if (cb(ctx, &rec, error_r) < 0)
		return -1;
	return 1;
}

/* evlog_reader_poll(): waits up to timeout_ms for the first record, then
 * takes what is already there, up to max. A record cb stopped on has been
 * consumed: the caller re-assigns from its own position. */
int kafka_reader_poll(struct evlog_reader *r, int timeout_ms, size_t max,
		      evlog_record_cb *cb, void *ctx, const char **error_r)
{
	struct kafka_reader *kr = (struct kafka_reader *)r;
	int64_t deadline = evm_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	size_t n = 0;

	if (reader_apply(kr, error_r) < 0)
		return -1;
	while (n < max) {
		int64_t left = n == 0 ? deadline - evm_mono_ms() : 0;
		rd_kafka_message_t *m = rd_kafka_consumer_poll(kr->rk, left > 0 ? (int)left : 0);
		int ret;

		if (m == NULL)
			break;
		ret = reader_deliver(kr, m, cb, ctx, error_r);
		rd_kafka_message_destroy(m);
		if (ret < 0)
			return -1;
		n += (size_t)ret;
	}
	return (int)n;
}

/* evlog_reader_end_offset(): the high watermark. For an assigned
 * partition, the one every fetch response carries (cached by librdkafka,
 * at most fetch.wait.max.ms old); asking the leader instead queues behind
 * the consumer's long-poll fetch and cost ~100 ms per partition on the
 * projector thread (bench/README.md). Unassigned or not yet fetched
 * partitions are asked for. */
int kafka_reader_end_offset(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
			    int timeout_ms, int64_t *end_r, const char **error_r)
{
	struct kafka_reader *kr = (struct kafka_reader *)r;
	int64_t low = -1, high = -1;
	rd_kafka_resp_err_t err;

	if ((int)topic < 0 || topic >= EVM_TOPIC_COUNT) {
		*error_r = "unknown topic";
		return -1;
	}
	err = rd_kafka_get_watermark_offsets(kr->rk, kr->kl->topic_names[topic], partition, &low, &high);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0) {
		*end_r = high;
		return 0;
	}
	err = rd_kafka_query_watermark_offsets(kr->rk, kr->kl->topic_names[topic], partition,
					       &low, &high, timeout_ms);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		*error_r = kafka_errf("kafka end offset of %s [%d]: %s", kr->kl->topic_names[topic],
				      (int)partition, rd_kafka_err2str(err));
		return -1;
	}
	*end_r = high;
	return 0;
}

/* evlog_reader_close(): leaves without committing and frees. */
void kafka_reader_close(struct evlog_reader *r)
{
	struct kafka_reader *kr = (struct kafka_reader *)r;
	rd_kafka_resp_err_t err = rd_kafka_consumer_close(kr->rk);

	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_warn("kafka reader close: %s", rd_kafka_err2str(err));
	rd_kafka_topic_partition_list_destroy(kr->assignment);
	rd_kafka_destroy(kr->rk);
	free(kr);
}

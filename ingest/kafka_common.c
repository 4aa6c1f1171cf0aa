/* kafka_common - configuration, logging, metadata and the ops table of the
 * Kafka log backend. See kafka_common.h. */
#include "ingest/kafka_common.h"
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct evlog_ops evlog_kafka_ops = {
	.name = "kafka",
	.open = kafka_open,
	.close = kafka_close,
	.refresh_topics = kafka_refresh_topics,
	.append = kafka_append,
	.pending = kafka_pending_count,
	.topics_create = kafka_topics_create,
	.topics_describe = kafka_topics_describe,
	.reader_open = kafka_reader_open,
	.reader_open_lookup = kafka_reader_open_lookup,
	.reader_assign = kafka_reader_assign,
	.reader_unassign_all = kafka_reader_unassign_all,
	.reader_poll = kafka_reader_poll,
	.reader_end_offset = kafka_reader_end_offset,
	.reader_close = kafka_reader_close,
	.group_join = kafka_group_join,
	.group_leave = kafka_group_leave,
};

/* Formats into one of four rotating thread-local buffers. */
const char *kafka_errf(const char *fmt, ...)
{
	static __thread char bufs[4][1024];
	static __thread unsigned next;
	char *b = bufs[next++ % 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof bufs[0], fmt, ap);
	va_end(ap);
	return b;
}

/* librdkafka's log lines (syslog levels) into common/log.h; called from
 * librdkafka's threads, log.c serialises. librdkafka logs connection
 * failures at LOG_ERR although it retries them: handled, so a warning. */
static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *msg)
{
	const char *name = rk != NULL ? rd_kafka_name(rk) : "rdkafka";

	if (level <= 2)
		log_error("kafka %s: %s: %s", name, fac, msg);
	else if (level <= 4)
		log_warn("kafka %s: %s: %s", name, fac, msg);
	else if (level <= 6)
		log_info("kafka %s: %s: %s", name, fac, msg);
	else
		log_debug("kafka %s: %s: %s", name, fac, msg);
}

/* Sets one property, naming it in the error. */
int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
		   const char **error_r)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
		*error_r = kafka_errf("kafka config %s=%s: %s", name, value, errstr);
		return -1;
	}
	return 0;
}

/* A configuration with the brokers, a client.id naming node and role, and
 * logging through common/log.h. Aborts only on a librdkafka that rejects
 * these basic keys (a broken environment). */
rd_kafka_conf_t *kafka_conf_new(const struct evm_config *cfg, const char *role)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const char *error;
	char client_id[300];

	snprintf(client_id, sizeof client_id, "evmail-%s-%s", cfg->node_id, role);
	if (kafka_conf_set(conf, "bootstrap.servers", cfg->log_brokers, &error) < 0 ||
	    kafka_conf_set(conf, "client.id", client_id, &error) < 0 ||
	    kafka_conf_set(conf, "log.connection.close", "false", &error) < 0)
		log_panic("%s", error);
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
	return conf;
}

/* Fills meta_r from one all-topics metadata request. */
int kafka_metadata(rd_kafka_t *rk, const struct kafka_log *kl, int timeout_ms,
		   struct kafka_topic_meta meta_r[EVM_TOPIC_COUNT], int *brokers_r,
		   const char **error_r)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err;

	memset(meta_r, 0, sizeof(*meta_r) * EVM_TOPIC_COUNT);
	for (int i = 0; i < EVM_TOPIC_COUNT; i++)
		meta_r[i].partitions = -1;
	/* all_topics=1: a request naming the topics could auto-create them on
	 * a broker with auto.create.topics.enable, with the wrong counts. */
	err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		*error_r = kafka_errf("kafka metadata request to %s failed: %s",
				      kl->log.cfg->log_brokers, rd_kafka_err2str(err));
		return -1;
	}
	for (int t = 0; t < md->topic_cnt; t++) {
		const rd_kafka_metadata_topic_t *mt = &md->topics[t];
		for (int i = 0; i < EVM_TOPIC_COUNT; i++) {
			if (strcmp(mt->topic, kl->topic_names[i]) != 0)
				continue;
			/* A topic still being created or deleted can come
			 * with an error and no partitions: not usable yet. */
			if (mt->partition_cnt <= 0)
				break;
			meta_r[i].exists = 1;
			meta_r[i].partitions = mt->partition_cnt;
			meta_r[i].replication_factor = mt->partitions[0].replica_cnt;
			break;
		}
	}
	if (brokers_r != NULL)
		*brokers_r = md->broker_cnt;
	rd_kafka_metadata_destroy(md);
	return 0;
}

/* Publishes partition counts (-1 for missing topics) to other threads. */
void kafka_store_partitions(struct kafka_log *kl, const struct kafka_topic_meta meta[EVM_TOPIC_COUNT])
{
	for (int i = 0; i < EVM_TOPIC_COUNT; i++)
		__atomic_store_n(&kl->log.partitions[i], meta[i].exists ? meta[i].partitions : -1,
				 __ATOMIC_RELEASE);
}

/* evlog_refresh_topics(): metadata -> cached counts; names the missing. */
int kafka_refresh_topics(struct evlog *log, int timeout_ms, const char **missing_r)
{
	static __thread char missing[2048];
	struct kafka_log *kl = (struct kafka_log *)log;
	struct kafka_topic_meta meta[EVM_TOPIC_COUNT];
	size_t len = 0;

	if (kafka_metadata(kl->rk, kl, timeout_ms, meta, NULL, missing_r) < 0)
		return -1;
	kafka_store_partitions(kl, meta);
	missing[0] = '\0';
	for (int i = 0; i < EVM_TOPIC_COUNT; i++) {
		if (meta[i].exists || len >= sizeof missing)
			continue;
		len += (size_t)snprintf(missing + len, sizeof missing - len, "%s%s",
					len == 0 ? "missing topics: " : ", ", kl->topic_names[i]);
	}
	if (len == 0)
		return 1;
	*missing_r = missing;
	return 0;
}

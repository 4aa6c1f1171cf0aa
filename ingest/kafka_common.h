/* kafka_common - the Kafka backend of the event log (internal to ingest/).
 *
 * One producer handle per struct evlog: appends, metadata (refresh_topics)
 * and the admin API (topics_create/describe) all go through it. Its main
 * queue is served on the log's libevent loop: librdkafka writes a byte to a
 * pipe when the queue becomes non-empty and a read event calls
 * rd_kafka_poll(), so delivery reports run on the loop thread. Each reader
 * is a separate consumer handle with manual assignment and no commits.
 *
 * Files: kafka_common.c (configuration, logging, metadata, the ops table),
 * kafka_producer.c (open/close/append), kafka_admin.c (topics),
 * kafka_reader.c (the consumer), kafka_group.c (group membership). */
#ifndef EVM_KAFKA_COMMON_H
#define EVM_KAFKA_COMMON_H

#include <librdkafka/rdkafka.h>

#include "ingest/evlog_backend.h"

/* Blocking admin requests (CreateTopics, DescribeConfigs) wait this long. */
#define KAFKA_ADMIN_TIMEOUT_MS 15000
/* evlog_close() waits this long for in-flight appends. */
#define KAFKA_CLOSE_FLUSH_MS 10000

struct kafka_pending;

struct kafka_log {
	struct evlog log;                  /* first: evlog.c casts */
	rd_kafka_t *rk;                    /* first producer; metadata and admin for good */
	rd_kafka_queue_t *mainq;
	/* Appends go to prod. An idempotent producer that meets a fatal error
	 * (e.g. OUT_OF_ORDER_SEQUENCE_NUMBER after a leader change) refuses
	 * every later append; librdkafka's answer is a new instance. prod is
	 * then replaced on the loop thread (kafka_producer_reset); rk stays,
	 * since other threads use it for metadata, which a fatal producer
	 * still serves. */
	rd_kafka_t *prod;
	rd_kafka_queue_t *prodq;           /* prod's main queue when prod != rk */
	struct event *reset_ev;
	int resets;
	int wake_fds[2];                   /* librdkafka writes [1], loop reads [0] */
	struct event *wake_ev;
	struct kafka_pending *pending_head;  /* in-flight appends, oldest first */
	struct kafka_pending *pending_tail;
	size_t pending;
	int closing;
	char *topic_names[EVM_TOPIC_COUNT];  /* prefix + suffix */
};

struct kafka_topic_meta {
	int exists;
	int32_t partitions;
	int replication_factor;            /* replicas of partition 0 */
};

/* Formats an error message into a thread-local buffer (a few rotate, so a
 * message may be built from the previous one). */
const char *kafka_errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A librdkafka configuration with what every evmail handle shares
 * (brokers, client.id, logging through common/log.h). */
rd_kafka_conf_t *kafka_conf_new(const struct evm_config *cfg, const char *role);
/* Sets one property; on failure *error_r names it and the conf is kept. */
int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
		   const char **error_r);

/* Metadata of every topic in the cluster, mapped onto evm_topics[] by name
 * under cfg's prefix. Blocking up to timeout_ms; thread-safe. */
int kafka_metadata(rd_kafka_t *rk, const struct kafka_log *kl, int timeout_ms,
		   struct kafka_topic_meta meta_r[EVM_TOPIC_COUNT], int *brokers_r,
		   const char **error_r);
/* Stores the partition counts of meta into the log's cache (atomic). */
void kafka_store_partitions(struct kafka_log *kl, const struct kafka_topic_meta meta[EVM_TOPIC_COUNT]);

int kafka_open(const struct evm_config *cfg, struct event_base *base,
	       struct evlog **log_r, const char **error_r);
void kafka_close(struct evlog *log);
int kafka_refresh_topics(struct evlog *log, int timeout_ms, const char **missing_r);
int kafka_append(struct evlog *log, enum evm_topic_id topic, int32_t partition,
		 const void *key, size_t key_len, const void *value, size_t value_len,
		 evlog_append_cb *cb, void *ctx, const char **error_r);
size_t kafka_pending_count(struct evlog *log);

int kafka_topics_create(struct evlog *log, json_t **report_r, const char **error_r);
int kafka_topics_describe(struct evlog *log, json_t **report_r, const char **error_r);

int kafka_reader_open(struct evlog *log, struct evlog_reader **reader_r, const char **error_r);
int kafka_reader_open_lookup(struct evlog *log, struct evlog_reader **reader_r, const char **error_r);
int kafka_reader_assign(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
			int64_t next_offset, const char **error_r);
int kafka_reader_unassign_all(struct evlog_reader *r, const char **error_r);
int kafka_reader_poll(struct evlog_reader *r, int timeout_ms, size_t max,
		      evlog_record_cb *cb, void *ctx, const char **error_r);
int kafka_reader_end_offset(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
			    int timeout_ms, int64_t *end_r, const char **error_r);
void kafka_reader_close(struct evlog_reader *r);

/* kafka_group.c: evlog_group_join/leave on a consumer group. */
int kafka_group_join(struct evlog *log, enum evm_topic_id topic, const char *name,
		     evlog_group_cb *cb, evlog_group_busy_cb *busy, void *ctx,
		     struct evlog_group **g_r, const char **error_r);
void kafka_group_leave(struct evlog_group *g);

#endif

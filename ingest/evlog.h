/* evlog - the event log: one interface, two backends.
 *
 * Backends: "embedded" (segmented files under <data_dir>/log, for one node)
 * and "kafka" (librdkafka). Offsets have Kafka's meaning in both: the first
 * record of a partition has offset 0 (or the log start), each append gets
 * the next offset, and the end offset is the offset the next record will get.
 *
 * Threads. A struct evlog belongs to the event-loop thread that opened it:
 * evlog_append() is called there and its callback runs there. The cached
 * partition counts (evlog_partitions) and evlog_refresh_topics() are safe
 * from any thread. A struct evlog_reader belongs to one thread (the
 * projector's) and may be used while the loop thread appends.
 *
 * Durability. An append callback with status 0 means the record is durable:
 * embedded, fsync'ed (group commit: one fsync per batch); Kafka, acknowledged
 * by all in-sync replicas (acks=all, idempotent producer). Nothing may be
 * acknowledged to a client before this callback. */
#ifndef EVM_EVLOG_H
#define EVM_EVLOG_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

enum evm_topic_id {
	EVM_TOPIC_MAIL,
	EVM_TOPIC_BLOB,
	EVM_TOPIC_DIRECTORY,
	EVM_TOPIC_QUEUE,
	EVM_TOPIC_CLUSTER,
	EVM_TOPIC_COUNT
};

struct evm_topic_spec {
	enum evm_topic_id id;
	const char *suffix;          /* "mail"; full name = log.topic_prefix + suffix */
	int32_t fixed_partitions;    /* 1 for directory and cluster; 0: log.partitions */
	const char *cleanup_policy;  /* "delete" or "compact" */
	const char *retention_ms;    /* "-1" = forever; NULL = broker default */
};

/* The topic table of ARCHITECTURE.md "The log", indexed by enum evm_topic_id. */
extern const struct evm_topic_spec evm_topics[EVM_TOPIC_COUNT];
/* Partition count a topic is created with under cfg. */
int32_t evm_topic_create_partitions(const struct evm_config *cfg, enum evm_topic_id topic);
/* Topic id for a full topic name under cfg's prefix; -1 if none. */
int evm_topic_by_name(const struct evm_config *cfg, const char *name);

struct evlog;
struct evlog_reader;

struct evlog_record {
	enum evm_topic_id topic;
	int32_t partition;
	int64_t offset;
	int64_t ts;                  /* append time, ms since epoch */
	const void *key;
	size_t key_len;
	const void *value;
	size_t value_len;
};

/* status 0: durable at (partition, offset); -1: failed, error says why. */
typedef void evlog_append_cb(void *ctx, int status, const char *error,
			     int32_t partition, int64_t offset);
/* Return 0 to go on, -1 to stop the poll (it then returns -1 with *error_r
 * taken from the callback's error). */
typedef int evlog_record_cb(void *ctx, const struct evlog_record *rec, const char **error_r);

/* Opens the backend cfg->log_backend names. base is the loop on which append
 * callbacks run. Embedded: creates missing topics (partition count from cfg;
 * an existing topic keeps the count it was created with) and recovers each
 * partition (a torn tail is truncated). The config must outlive the log. */
int evlog_open(const struct evm_config *cfg, struct event_base *base,
	       struct evlog **log_r, const char **error_r);
/* Waits up to 10 s for pending appends (their callbacks run), fails the rest
 * with "log closed", frees the log and sets *log to NULL. */
void evlog_close(struct evlog **log);

/* Refreshes the cached partition counts. Blocking, up to timeout_ms, from
 * any thread. Returns 1 when every topic exists, 0 when some are missing
 * (*missing_r: their names, thread-local text), -1 on error. */
int evlog_refresh_topics(struct evlog *log, int timeout_ms, const char **missing_r);
/* Cached partition count of a topic; -1 while unknown or missing, or when
 * log is NULL (closed: evlog_append then fails with "log closed" too, so
 * work that outlives the log during a shutdown fails cleanly). */
int32_t evlog_partitions(struct evlog *log, enum evm_topic_id topic);

/* Appends one record (loop thread only). partition -1 means
 * evm_partition_for(key) over the topic's partition count. The callback is
 * called exactly once, later, on the loop (never from inside this call).
 * Returns -1 (callback not called) if the record cannot be queued: topic
 * missing, value over the size limit, log closing. */
int evlog_append(struct evlog *log, enum evm_topic_id topic, int32_t partition,
		 const void *key, size_t key_len, const void *value, size_t value_len,
		 evlog_append_cb *cb, void *ctx, const char **error_r);
/* Appends still waiting for their callback. */
size_t evlog_pending(struct evlog *log);

/* Bounded writes. Every append's callback comes within
 * log.write_timeout_ms (plus a second's grace for the backend's own timeout,
 * Kafka's message.timeout.ms, to report first): an append the log has not
 * answered by then is failed with "no acknowledgement from the log ..."
 * and a later answer from the backend is dropped. Its fate is unknown: the
 * caller reports a temporary failure, the client retries, and a duplicate
 * is possible (never a loss).
 *
 * Reachability, as this node sees it (loop thread). The log turns
 * unreachable when an append fails or times out, or the backend says so
 * (Kafka: all brokers down; embedded: a write error), and reachable again
 * with the next acknowledged append. The node's heartbeat appends every
 * projector.heartbeat_ms, so it recovers by itself. */
struct evlog_health {
	int reachable;                 /* 1 until something says otherwise */
	char reason[256];              /* why not, "" when reachable */
	int storage_full;              /* the failure is the log's storage being full */
	int64_t since_ms;              /* monotonic time of the last change */
	uint64_t appends_ok;           /* acknowledged appends */
	uint64_t appends_failed;       /* appends the log failed (not counting closing) */
	uint64_t appends_timed_out;    /* appends failed for no answer in time */
};
/* Error text of an append refused because the log's storage is full (disk
 * full, file size limit); gateways answer it with "insufficient storage"
 * (SMTP 452 4.3.1, RFC 3463) rather than a generic temporary failure. */
#define EVLOG_ERR_STORAGE_FULL "log storage full"
/* Snapshot of the log's reachability (loop thread). */
void evlog_health(struct evlog *log, struct evlog_health *h_r);

/* Compaction of the compacted topics (blob, directory, cluster). Kafka's
 * brokers compact by themselves; the embedded log compacts closed segments
 * every log.embedded_compact_interval_s (ingest/embedded_compact.h). */
struct evlog_compaction {
	uint64_t runs;                 /* passes completed */
	uint64_t segments_rewritten;
	uint64_t segments_removed;     /* left empty, deleted */
	uint64_t records_removed;      /* older records of a key, expired tombstones */
	uint64_t bytes_reclaimed;
	uint64_t errors;               /* partitions a pass failed on */
	int64_t last_run_ms;           /* ms since the epoch; 0 = no pass yet */
};
/* The counters; -1 (with *error_r) when the backend does not compact
 * itself (Kafka). Any thread. */
int evlog_compaction_stats(struct evlog *log, struct evlog_compaction *st_r, const char **error_r);
/* Asks for a compaction pass now and returns at once: the pass runs on the
 * backend's own thread (runs in evlog_compaction_stats grows when it is
 * done). -1 when the backend does not compact itself. Any thread. */
int evlog_compact_now(struct evlog *log, const char **error_r);

/* Topic administration. report_r receives
 *   [{"name":..,"topic":"mail","partitions":N,"expected_partitions":N,
 *     "configs":{"cleanup.policy":..,...},"exists":true,"problems":[".."]}]
 * create makes every missing topic (existing ones are left as they are and
 * then described); describe only reads. Blocking; from any thread. */
int evlog_topics_create(struct evlog *log, json_t **report_r, const char **error_r);
int evlog_topics_describe(struct evlog *log, json_t **report_r, const char **error_r);

/* A consumer with manual assignment; nothing is committed to the backend,
 * positions live in the view. */
int evlog_reader_open(struct evlog *log, struct evlog_reader **reader_r, const char **error_r);
/* The same, for reading single records by offset (assign at an offset,
 * poll one record, assign elsewhere: projector/blob_store.h). Kafka: a
 * consumer whose fetches wait at most 10 ms at the end of a partition
 * (fetch.wait.max.ms; the streaming reader's 100 ms long poll would
 * delay the fetch that follows each new assignment by as much) and that
 * prefetches little; while assigned and idle it asks the broker about
 * every 10 ms. The embedded log: evlog_reader_open. */
int evlog_reader_open_lookup(struct evlog *log, struct evlog_reader **reader_r, const char **error_r);
/* Starts (or moves) consumption of one partition at next_offset. */
int evlog_reader_assign(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
			int64_t next_offset, const char **error_r);
/* Drops every assignment (used before a rebuild re-assigns from 0). */
int evlog_reader_unassign_all(struct evlog_reader *r, const char **error_r);
/* Delivers up to max records (per partition in offset order) to cb, waiting
 * at most timeout_ms for the first. Returns the number delivered (0: none
 * arrived in time) or -1. Embedded: only durable (fsync'ed) records are
 * delivered. */
int evlog_reader_poll(struct evlog_reader *r, int timeout_ms, size_t max,
		      evlog_record_cb *cb, void *ctx, const char **error_r);
/* End offset (next offset to be written) of a partition. May block up to
 * timeout_ms (Kafka asks the broker). Returns 0 or -1. */
int evlog_reader_end_offset(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
			    int timeout_ms, int64_t *end_r, const char **error_r);
void evlog_reader_close(struct evlog_reader **r);

#endif

/* evlog - public entry points; dispatches to the configured backend. */
#include "ingest/evlog_backend.h"
#include "common/ids.h"
#include "common/log.h"

#include <string.h>

/* ARCHITECTURE.md, "The log". The directory topic is compacted by entity in
 * the design; see projector/directory.h for why its records are keyed so
 * that compaction never drops a command a replay depends on. */
const struct evm_topic_spec evm_topics[EVM_TOPIC_COUNT] = {
	[EVM_TOPIC_MAIL] = { EVM_TOPIC_MAIL, "mail", 0, "delete", "-1" },
	[EVM_TOPIC_BLOB] = { EVM_TOPIC_BLOB, "blob", 0, "compact", NULL },
	[EVM_TOPIC_DIRECTORY] = { EVM_TOPIC_DIRECTORY, "directory", 1, "compact", NULL },
	/* The queue keeps its history: a held item may outlive any fixed horizon,
	 * and a view rebuilt from the log must hold the same queue as one that
	 * applied it live. Its records are small (bodies are in the blob topic). */
	[EVM_TOPIC_QUEUE] = { EVM_TOPIC_QUEUE, "queue", 0, "delete", "-1" },
	[EVM_TOPIC_CLUSTER] = { EVM_TOPIC_CLUSTER, "cluster", 1, "compact", NULL },
};

int32_t evm_topic_create_partitions(const struct evm_config *cfg, enum evm_topic_id topic)
{
	if (evm_topics[topic].fixed_partitions > 0)
		return evm_topics[topic].fixed_partitions;
	return (int32_t)cfg->log_partitions;
}

int evm_topic_by_name(const struct evm_config *cfg, const char *name)
{
	size_t plen = strlen(cfg->log_topic_prefix);

	if (strncmp(name, cfg->log_topic_prefix, plen) != 0)
		return -1;
	for (int i = 0; i < EVM_TOPIC_COUNT; i++) {
		if (strcmp(name + plen, evm_topics[i].suffix) == 0)
			return i;
	}
	return -1;
}

json_t *evlog_topic_problems(const struct evm_config *cfg, enum evm_topic_id topic,
			     int32_t partitions, const char *cleanup_policy)
{
	json_t *problems = json_array();
	int32_t want = evm_topic_create_partitions(cfg, topic);

	if (partitions != want)
		json_array_append_new(problems, json_sprintf("partition count is %d, expected %d",
							     (int)partitions, (int)want));
	if (cleanup_policy == NULL || strcmp(cleanup_policy, evm_topics[topic].cleanup_policy) != 0)
		json_array_append_new(problems, json_sprintf("cleanup.policy is %s, expected %s",
							     cleanup_policy ? cleanup_policy : "(unknown)",
							     evm_topics[topic].cleanup_policy));
	return problems;
}

int evlog_open(const struct evm_config *cfg, struct event_base *base,
	       struct evlog **log_r, const char **error_r)
{
	const struct evlog_ops *ops = cfg->log_backend == EVM_LOG_KAFKA ?
		&evlog_kafka_ops : &evlog_embedded_ops;
	struct evlog *log;

	if (ops->open(cfg, base, &log, error_r) < 0)
		return -1;
	/* The backend set ops, cfg and base before starting any thread that
	 * reads them (writing them here would race with those threads). */
	if (log->ops != ops || log->cfg != cfg || log->base != base)
		log_panic("log backend %s did not initialise struct evlog", ops->name);
	log->health.reachable = 1;
	log->health.since_ms = evm_mono_ms();
	*log_r = log;
	return 0;
}

void evlog_close(struct evlog **log)
{
	if (*log == NULL)
		return;
	/* No deadlines during the close: the backend answers every append
	 * itself (flushed or "log closed"). */
	evlog_track_close(*log);
	(*log)->ops->close(*log);
	*log = NULL;
}

int evlog_refresh_topics(struct evlog *log, int timeout_ms, const char **missing_r)
{
	return log->ops->refresh_topics(log, timeout_ms, missing_r);
}

int32_t evlog_partitions(struct evlog *log, enum evm_topic_id topic)
{
	/* NULL once closed: work still finishing during a shutdown (a waiter
	 * cancelled by projector_stop continuing a delivery) gets "no topic"
	 * and fails, instead of touching a freed log. */
	if (log == NULL)
		return -1;
	return __atomic_load_n(&log->partitions[topic], __ATOMIC_ACQUIRE);
}

int evlog_append(struct evlog *log, enum evm_topic_id topic, int32_t partition,
		 const void *key, size_t key_len, const void *value, size_t value_len,
		 evlog_append_cb *cb, void *ctx, const char **error_r)
{
	evlog_append_cb *tcb;
	void *tctx;

	if (log == NULL) {
		*error_r = "log closed";
		return -1;
	}
	if (partition < 0) {
		int32_t n = evlog_partitions(log, topic);
		if (n <= 0) {
			*error_r = "topic does not exist (yet)";
			return -1;
		}
		partition = evm_partition_for(key, key_len, n);
	}
	evlog_track_begin(log, cb, ctx, &tcb, &tctx);
	if (log->ops->append(log, topic, partition, key, key_len, value, value_len,
			     tcb, tctx, error_r) < 0) {
		evlog_track_abort(tctx);
		return -1;
	}
	return 0;
}

size_t evlog_pending(struct evlog *log)
{
	if (log == NULL)
		return 0;
	return log->ops->pending(log);
}

int evlog_topics_create(struct evlog *log, json_t **report_r, const char **error_r)
{
	return log->ops->topics_create(log, report_r, error_r);
}

int evlog_topics_describe(struct evlog *log, json_t **report_r, const char **error_r)
{
	return log->ops->topics_describe(log, report_r, error_r);
}

int evlog_reader_open(struct evlog *log, struct evlog_reader **reader_r, const char **error_r)
{
	struct evlog_reader *r;

	if (log->ops->reader_open(log, &r, error_r) < 0)
		return -1;
	r->ops = log->ops;
	r->log = log;
	*reader_r = r;
	return 0;
}

int evlog_reader_open_lookup(struct evlog *log, struct evlog_reader **reader_r, const char **error_r)
{
	struct evlog_reader *r;
	int (*open)(struct evlog *, struct evlog_reader **, const char **) =
		log->ops->reader_open_lookup != NULL ? log->ops->reader_open_lookup : log->ops->reader_open;

	if (open(log, &r, error_r) < 0)
		return -1;
	r->ops = log->ops;
	r->log = log;
	*reader_r = r;
	return 0;
}

int evlog_reader_assign(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
			int64_t next_offset, const char **error_r)
{
	return r->ops->reader_assign(r, topic, partition, next_offset, error_r);
}

int evlog_reader_unassign_all(struct evlog_reader *r, const char **error_r)
{
	return r->ops->reader_unassign_all(r, error_r);
}

int evlog_reader_poll(struct evlog_reader *r, int timeout_ms, size_t max,
		      evlog_record_cb *cb, void *ctx, const char **error_r)
{
	return r->ops->reader_poll(r, timeout_ms, max, cb, ctx, error_r);
}

int evlog_reader_end_offset(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
			    int timeout_ms, int64_t *end_r, const char **error_r)
{
	return r->ops->reader_end_offset(r, topic, partition, timeout_ms, end_r, error_r);
}

int evlog_compaction_stats(struct evlog *log, struct evlog_compaction *st_r, const char **error_r)
{
	if (log->ops->compaction_stats == NULL) {
		*error_r = "this log backend compacts by itself (the brokers do)";
		return -1;
	}
	log->ops->compaction_stats(log, st_r);
	return 0;
}

int evlog_compact_now(struct evlog *log, const char **error_r)
{
	if (log->ops->compact_now == NULL) {
		*error_r = "this log backend compacts by itself (the brokers do)";
		return -1;
	}
	return log->ops->compact_now(log, error_r);
}

void evlog_reader_close(struct evlog_reader **r)
{
	if (*r == NULL)
		return;
	(*r)->ops->reader_close(*r);
	*r = NULL;
}

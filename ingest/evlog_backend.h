/* evlog_backend - what a log backend implements (internal to ingest/).
 *
 * evlog.c holds the public functions and dispatches to these. Each backend
 * embeds struct evlog as the FIRST member of its own struct and
 * struct evlog_reader likewise, so evlog.c can reach ops and cfg.
 * open() fills ops, cfg, base and partitions[] (-1 where unknown) before it
 * starts any thread. Every reader is closed before its log. */
#ifndef EVM_EVLOG_BACKEND_H
#define EVM_EVLOG_BACKEND_H

#include "ingest/evlog.h"
#include "ingest/evlog_group.h"

struct evlog_ops {
	const char *name;
	int (*open)(const struct evm_config *cfg, struct event_base *base,
		    struct evlog **log_r, const char **error_r);
	void (*close)(struct evlog *log);
	int (*refresh_topics)(struct evlog *log, int timeout_ms, const char **missing_r);
	int (*append)(struct evlog *log, enum evm_topic_id topic, int32_t partition,
		      const void *key, size_t key_len, const void *value, size_t value_len,
		      evlog_append_cb *cb, void *ctx, const char **error_r);
	size_t (*pending)(struct evlog *log);
	int (*topics_create)(struct evlog *log, json_t **report_r, const char **error_r);
	int (*topics_describe)(struct evlog *log, json_t **report_r, const char **error_r);
	/* Optional (NULL: the backend does not compact by itself); compact_now
	 * only asks for a pass, it does not wait for it. */
	void (*compaction_stats)(struct evlog *log, struct evlog_compaction *st_r);
	int (*compact_now)(struct evlog *log, const char **error_r);

	int (*reader_open)(struct evlog *log, struct evlog_reader **reader_r, const char **error_r);
	/* Optional (NULL: reader_open): evlog_reader_open_lookup. */
	int (*reader_open_lookup)(struct evlog *log, struct evlog_reader **reader_r, const char **error_r);
	int (*reader_assign)(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
			     int64_t next_offset, const char **error_r);
	int (*reader_unassign_all)(struct evlog_reader *r, const char **error_r);
	int (*reader_poll)(struct evlog_reader *r, int timeout_ms, size_t max,
			   evlog_record_cb *cb, void *ctx, const char **error_r);
	int (*reader_end_offset)(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
				 int timeout_ms, int64_t *end_r, const char **error_r);
	void (*reader_close)(struct evlog_reader *r);

	/* ingest/evlog_group.h: the backend fills g->ops and g->log; leave
	 * stops every callback and frees. */
	int (*group_join)(struct evlog *log, enum evm_topic_id topic, const char *name,
			  evlog_group_cb *cb, evlog_group_busy_cb *busy, void *ctx,
			  struct evlog_group **g_r, const char **error_r);
	void (*group_leave)(struct evlog_group *g);
};

struct evlog_track;

struct evlog {
	const struct evlog_ops *ops;
	const struct evm_config *cfg;
	struct event_base *base;
	/* Cached partition counts, -1 unknown; written with __atomic stores. */
	int32_t partitions[EVM_TOPIC_COUNT];
	/* evlog_track.c, loop thread only: appends in flight in submission
	 * order (so deadlines are ordered too), the deadline timer and the
	 * reachability of evlog_health(). Set up lazily on the first append. */
	struct evlog_track *track_head, *track_tail;
	struct event *track_timer;
	struct evlog_health health;
};

struct evlog_reader {
	const struct evlog_ops *ops;
	struct evlog *log;
};

/* A group membership: each backend embeds it as the FIRST member. */
struct evlog_group {
	const struct evlog_ops *ops;
	struct evlog *log;
};

/* Sorts partitions ascending (backends hand cb a sorted set). */
void evlog_group_sort(int32_t *partitions, size_t n);

/* evlog_track.c: evlog_append() goes through these. track_begin wraps
 * (cb, ctx) and returns the callback/context to hand the backend; if the
 * backend refuses the record, track_abort(ctx) undoes it. */
void evlog_track_begin(struct evlog *log, evlog_append_cb *cb, void *ctx,
		       evlog_append_cb **cb_r, void **ctx_r);
void evlog_track_abort(void *tracked_ctx);
/* Fails every tracked append still waiting and frees the timer; the
 * backend's close (which calls every callback once) runs first. */
void evlog_track_close(struct evlog *log);
/* For backends: the log cannot be reached (reason), or its storage is
 * full (storage_full). Loop thread. */
void evlog_mark_unreachable(struct evlog *log, const char *reason, int storage_full);

extern const struct evlog_ops evlog_embedded_ops;
extern const struct evlog_ops evlog_kafka_ops;

/* Helper for backends: the describe report entry's "problems" for a topic
 * whose actual partition count / cleanup policy differ from the spec. */
json_t *evlog_topic_problems(const struct evm_config *cfg, enum evm_topic_id topic,
			     int32_t partitions, const char *cleanup_policy);

#endif

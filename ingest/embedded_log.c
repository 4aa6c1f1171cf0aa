/* embedded_log - the embedded backend's ops: open, append, close, topics. */
#include "ingest/embedded_log.h"
#include "ingest/embedded_fs.h"
#include "ingest/embedded_reader.h"
#include "ingest/embedded_record.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* Loop-thread callback of done_ev: runs completed append callbacks. */
static void done_event_cb(evutil_socket_t fd, short what, void *arg)
{
	emb_run_done(arg);
}

/* Takes <root>/LOCK with flock so a second process cannot open the log. */
static int take_lock(struct embedded_log *l, const char **error_r)
{
	char *path = emb_path(l->root, "LOCK");

	l->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (l->lock_fd < 0) {
		*error_r = emb_errorf("open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(l->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			*error_r = emb_errorf("%s: log directory is in use by another process", l->root);
		else
			*error_r = emb_errorf("lock %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/* Stops and joins the writer thread. */
static void emb_stop_writer(struct embedded_log *l)
{
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_cond_broadcast(&l->work_cond);
	pthread_mutex_unlock(&l->mu);
	if (l->writer_started)
		pthread_join(l->writer, NULL);
	l->writer_started = 0;
}

/* Frees everything open() may have set up; the writer must not be running. */
static void free_log(struct embedded_log *l)
{
	for (int i = 0; i < EVM_TOPIC_COUNT; i++)
		emb_topic_free(&l->topics[i]);
	if (l->done_ev != NULL)
		event_free(l->done_ev);
	if (l->lock_fd >= 0)
		close(l->lock_fd);
	pthread_mutex_destroy(&l->mu);
	pthread_rwlock_destroy(&l->swap_lock);
	pthread_mutex_destroy(&l->compact_mu);
	pthread_cond_destroy(&l->compact_cond);
	pthread_cond_destroy(&l->work_cond);
	pthread_cond_destroy(&l->done_cond);
	pthread_cond_destroy(&l->durable_cond);
	free(l->root);
	free(l);
}

/* Opens the log: lock, topics (created or recovered), writer thread. */
static int emb_open(const struct evm_config *cfg, struct event_base *base,
		    struct evlog **log_r, const char **error_r)
{
	struct embedded_log *l = xcalloc(1, sizeof *l);
	pthread_rwlockattr_t rwattr;
	int err;

	l->log.ops = &evlog_embedded_ops;
	l->log.cfg = cfg;
	l->log.base = base;
	l->cfg = cfg;
	l->lock_fd = -1;
	pthread_mutex_init(&l->mu, NULL);
	/* Writer-preferring: a compaction's swap is not starved by readers
	 * that keep polling (no reader takes swap_lock twice). */
	pthread_rwlockattr_init(&rwattr);
	pthread_rwlockattr_setkind_np(&rwattr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&l->swap_lock, &rwattr);
	pthread_rwlockattr_destroy(&rwattr);
	pthread_mutex_init(&l->compact_mu, NULL);
	emb_cond_init(&l->compact_cond);
	emb_cond_init(&l->work_cond);
	emb_cond_init(&l->done_cond);
	emb_cond_init(&l->durable_cond);
	for (int i = 0; i < EVM_TOPIC_COUNT; i++)
		l->log.partitions[i] = -1;
	l->root = emb_path(cfg->node_data_dir, "log");
	if (emb_mkdir_p(l->root, error_r) < 0 || emb_fsync_dir(cfg->node_data_dir, error_r) < 0 ||
	    take_lock(l, error_r) < 0)
		goto fail;
	for (int i = 0; i < EVM_TOPIC_COUNT; i++) {
		if (emb_topic_open(&l->topics[i], l->root, cfg, (enum evm_topic_id)i, error_r) < 0)
			goto fail;
	}
	/* Persistent timer: added while appends are pending, so the loop stays
	 * alive for their callbacks; the writer activates it at once. */
	l->done_ev = event_new(base, -1, EV_PERSIST, done_event_cb, l);
	if (l->done_ev == NULL) {
		*error_r = "event_new failed";
		goto fail;
	}
	err = pthread_create(&l->writer, NULL, emb_writer_main, l);
	if (err != 0) {
		*error_r = emb_errorf("cannot start the log writer thread: %s", strerror(err));
		goto fail;
	}
	l->writer_started = 1;
	if (emb_compactor_start(l, error_r) < 0) {
		emb_stop_writer(l);
		goto fail;
	}
	for (int i = 0; i < EVM_TOPIC_COUNT; i++)
		__atomic_store_n(&l->log.partitions[i], l->topics[i].npart, __ATOMIC_RELEASE);
	*log_r = &l->log;
	return 0;
fail:
	free_log(l);
	return -1;
}

/* Waits for pending appends (up to 10 s), fails the rest, frees the log. */
static void emb_close(struct evlog *log)
{
	struct embedded_log *l = (struct embedded_log *)log;
	int64_t deadline = evm_mono_ms() + EMB_CLOSE_WAIT_MS;
	struct emb_item *rest;

	l->closing = 1;
	/* Wait for what is queued, running callbacks here: the loop is not. */
	while (l->pending > 0) {
		emb_run_done(l);
		pthread_mutex_lock(&l->mu);
		if (l->pending > 0 && l->done.head == NULL && evm_mono_ms() < deadline)
			emb_cond_wait_until(&l->done_cond, &l->mu, deadline);
		int timed_out = l->done.head == NULL && evm_mono_ms() >= deadline;
		pthread_mutex_unlock(&l->mu);
		if (timed_out)
			break;
	}
	emb_compactor_stop(l);
	emb_stop_writer(l);
	emb_run_done(l);
	rest = l->queue.head;
	l->queue.head = l->queue.tail = NULL;
	while (rest != NULL) {
		struct emb_item *next = rest->next;
		l->pending--;
		rest->cb(rest->ctx, -1, "log closed", rest->partition, -1);
		free(rest);
		rest = next;
	}
	free_log(l);
}

/* Every topic exists once the log is open. */
static int emb_refresh_topics(struct evlog *log, int timeout_ms, const char **missing_r)
{
	if (missing_r != NULL)
		*missing_r = "";
	return 1;
}

/* Queues one record for the writer (loop thread); the callback comes later. */
static int emb_append(struct evlog *log, enum evm_topic_id topic, int32_t partition,
		      const void *key, size_t key_len, const void *value, size_t value_len,
		      evlog_append_cb *cb, void *ctx, const char **error_r)
{
	struct embedded_log *l = (struct embedded_log *)log;
	struct emb_item *item;

	if (l->closing) {
		*error_r = "log closing";
		return -1;
	}
	if ((int)topic < 0 || topic >= EVM_TOPIC_COUNT || partition < 0 ||
	    partition >= l->topics[topic].npart) {
		*error_r = "no such topic or partition";
		return -1;
	}
	if (key_len > EMB_KEY_MAX) {
		*error_r = "key too large";
		return -1;
	}
	if (value_len > EMB_VALUE_MAX) {
		*error_r = "value too large (over 1 MiB + 64 KiB)";
		return -1;
	}
	item = xmalloc(sizeof *item + key_len + value_len);
	memset(item, 0, sizeof *item);
	item->topic = topic;
	item->partition = partition;
	item->ts = evm_now_ms();
	item->queued_ms = evm_mono_ms();
	item->status = -1;
	item->cb = cb;
	item->ctx = ctx;
	item->key_len = key_len;
	item->value_len = value_len;
	if (key_len > 0)
		memcpy(item->data, key, key_len);
	if (value_len > 0)
		memcpy(item->data + key_len, value, value_len);
	if (l->pending++ == 0) {
		struct timeval tv = { 1, 0 };
		event_add(l->done_ev, &tv);
	}
	pthread_mutex_lock(&l->mu);
	emb_queue_push(&l->queue, item);
	pthread_cond_signal(&l->work_cond);
	pthread_mutex_unlock(&l->mu);
	return 0;
}

/* Appends whose callback has not run yet. */
static size_t emb_pending(struct evlog *log)
{
	return ((struct embedded_log *)log)->pending;
}

/* Topics always exist once the log is open, so create only describes. */
static int emb_topics_describe(struct evlog *log, json_t **report_r, const char **error_r)
{
	struct embedded_log *l = (struct embedded_log *)log;
	json_t *report = json_array();

	for (int i = 0; i < EVM_TOPIC_COUNT; i++)
		json_array_append_new(report, emb_topic_report(&l->topics[i], l->cfg));
	*report_r = report;
	return 0;
}

/* The compaction counters (embedded_compact.h). */
static void emb_compaction_stats(struct evlog *log, struct evlog_compaction *st_r)
{
	struct emb_compact_stats st;

	emb_compact_stats_get((struct embedded_log *)log, &st);
	*st_r = (struct evlog_compaction){
		.runs = st.runs, .segments_rewritten = st.segments_rewritten,
		.segments_removed = st.segments_removed, .records_removed = st.records_removed,
		.bytes_reclaimed = st.bytes_reclaimed, .errors = st.errors,
		.last_run_ms = st.last_run_ms,
	};
}

/* Asks the compactor thread for a pass now. */
static int emb_compact_now(struct evlog *log, const char **error_r)
{
	emb_compactor_request((struct embedded_log *)log);
	return 0;
}

const struct evlog_ops evlog_embedded_ops = {
	.name = "embedded",
	.open = emb_open,
	.close = emb_close,
	.refresh_topics = emb_refresh_topics,
	.append = emb_append,
	.pending = emb_pending,
	.topics_create = emb_topics_describe,
	.topics_describe = emb_topics_describe,
	.compaction_stats = emb_compaction_stats,
	.compact_now = emb_compact_now,
	.reader_open = emb_reader_open,
	.reader_assign = emb_reader_assign,
	.reader_unassign_all = emb_reader_unassign_all,
	.reader_poll = emb_reader_poll,
	.reader_end_offset = emb_reader_end_offset,
	.reader_close = emb_reader_close,
	.group_join = emb_group_join,
	.group_leave = emb_group_leave,
};

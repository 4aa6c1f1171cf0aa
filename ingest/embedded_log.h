/* embedded_log - internals of the embedded log backend (ingest/ only).
 *
 * Threads and locks. The loop thread appends: an item is queued under mu
 * and the writer thread is signalled. The writer takes the whole queue as
 * one batch, writes every record, fsyncs each touched segment once, then
 * under mu publishes the new durable ends (readers wait on durable_cond),
 * moves the batch to the done list and activates done_ev, whose callback
 * runs the append callbacks on the loop thread. Published partition state
 * (segment arrays, sizes, indexes, durable ends) is guarded by mu as well.
 * Compaction (embedded_compact.h) replaces closed segments holding
 * swap_lock exclusively; a reader holds it shared while it reads. Lock
 * order: compact_mu, then swap_lock, then mu.
 *
 * Test hook: emb_test_crash_after_write() makes the writer _exit() in the
 * given batch right after its write() calls and before its fsyncs, as a
 * crash there would; with torn set it first cuts the last record it wrote in
 * half, as a torn page write would. Only for tests (fork a child first).
 * emb_test_hold_writes(1) makes the writer wait at that same point until
 * emb_test_hold_writes(0), so a test can see written, not yet durable data. */
#ifndef EVM_EMBEDDED_LOG_H
#define EVM_EMBEDDED_LOG_H

#include <pthread.h>
#include <stdint.h>

#include "ingest/evlog_backend.h"
#include "ingest/embedded_compact.h"
#include "ingest/embedded_topic.h"

#define EMB_CLOSE_WAIT_MS 10000
#define EMB_TEST_CRASH_STATUS 86

struct emb_item {
	struct emb_item *next;
	enum evm_topic_id topic;
	int32_t partition;
	int64_t ts;
	int64_t queued_ms;       /* monotonic, for linger */
	int64_t offset;
	int status;
	evlog_append_cb *cb;
	void *ctx;
	size_t key_len, value_len;
	char error[256];
	uint8_t data[];          /* key then value */
};

struct emb_queue {
	struct emb_item *head, *tail;
};

struct embedded_log {
	struct evlog log;        /* first: evlog.c casts */
	/* Our own copy: evlog_open() rewrites log.cfg after open returns, while
	 * the writer thread already runs, so the writer never reads log.*. */
	const struct evm_config *cfg;
	char *root;              /* <data_dir>/log */
	int lock_fd;
	struct emb_topic topics[EVM_TOPIC_COUNT];

	pthread_mutex_t mu;
	pthread_cond_t work_cond;     /* writer: queue not empty or stop */
	pthread_cond_t done_cond;     /* close: a batch completed */
	pthread_cond_t durable_cond;  /* readers: durable ends moved */
	struct emb_queue queue;
	struct emb_queue done;
	int stop;

	pthread_t writer;
	int writer_started;

	pthread_rwlock_t swap_lock;   /* readers shared; a segment swap exclusive */
	pthread_mutex_t compact_mu;   /* one compaction pass at a time */
	pthread_cond_t compact_cond;  /* compactor: stop (with mu) */
	int compact_stop;             /* under mu */
	int compact_requested;        /* under mu: a pass asked for now */
	struct emb_compact_stats compact_stats;   /* under mu */
	pthread_t compactor;
	int compactor_started;
	struct event *done_ev;
	size_t pending;          /* loop thread only */
	int closing;             /* loop thread only */
};

/* Appends item to the tail of q. */
void emb_queue_push(struct emb_queue *q, struct emb_item *item);
/* The writer thread's main function (arg: struct embedded_log *). */
void *emb_writer_main(void *arg);
/* Runs the callbacks of completed appends (loop thread). */
void emb_run_done(struct embedded_log *l);
/* Initialises a condition variable on CLOCK_MONOTONIC. */
void emb_cond_init(pthread_cond_t *cond);
/* Waits on cond until deadline_ms (evm_mono_ms clock); 0 or ETIMEDOUT. */
int emb_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t deadline_ms);

/* Test hook, see above: crash in the batch-th batch from now (1 = next). */
void emb_test_crash_after_write(int batch, int torn);
void emb_test_hold_writes(int hold);

/* embedded_group.c: the one node owns every partition of the topic. */
int emb_group_join(struct evlog *log, enum evm_topic_id topic, const char *name,
		   evlog_group_cb *cb, evlog_group_busy_cb *busy, void *ctx,
		   struct evlog_group **g_r, const char **error_r);
void emb_group_leave(struct evlog_group *g);

#endif

/* embedded_compactor - compaction passes over the compacted topics and the
 * thread that runs them every log.embedded_compact_interval_s and on
 * request (embedded_compact.h), at idle I/O priority so that it yields the
 * disk to the writer and the readers. */
#include "ingest/embedded_compact.h"
#include "ingest/embedded_fs.h"
#include "ingest/embedded_log.h"
#include "common/ids.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define IOPRIO_WHO_PROCESS 1     /* with 0: the calling thread (ioprio_set(2)) */
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_CLASS_SHIFT 13

/* Whether the log is closing (stop between partitions). */
static int compact_stopping(struct embedded_log *l)
{
	int stop;

	pthread_mutex_lock(&l->mu);
	stop = l->compact_stop;
	pthread_mutex_unlock(&l->mu);
	return stop;
}

/* Runs one pass over every compacted topic. */
int emb_compact_run(struct embedded_log *l, int64_t now_ms, const char **error_r)
{
	char first[512] = "";
	uint64_t failed = 0;

	pthread_mutex_lock(&l->compact_mu);
	for (int t = 0; t < EVM_TOPIC_COUNT; t++) {
		struct emb_topic *topic = &l->topics[t];
		if (strcmp(topic->cleanup_policy, "compact") != 0)
			continue;
		for (int32_t i = 0; i < topic->npart && !compact_stopping(l); i++) {
			const char *error;
			if (emb_compact_partition(l, &topic->parts[i], now_ms, &error) == 0)
				continue;
			log_warn("embedded log: compaction of %s failed: %s", topic->parts[i].dir, error);
			if (failed++ == 0)
				snprintf(first, sizeof first, "%s", error);
		}
	}
	pthread_mutex_lock(&l->mu);
	l->compact_stats.runs++;
	l->compact_stats.errors += failed;
	l->compact_stats.last_run_ms = evm_now_ms();
	pthread_mutex_unlock(&l->mu);
	pthread_mutex_unlock(&l->compact_mu);
	if (failed > 0) {
		*error_r = emb_errorf("%s", first);
		return -1;
	}
	return 0;
}

/* A copy of the counters. */
void emb_compact_stats_get(struct embedded_log *l, struct emb_compact_stats *st_r)
{
	pthread_mutex_lock(&l->mu);
	*st_r = l->compact_stats;
	pthread_mutex_unlock(&l->mu);
}

/* Puts the calling thread in the idle I/O class (best effort: Linux only). */
static void lower_io_priority(void)
{
#ifdef SYS_ioprio_set
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT) < 0)
		log_debug("embedded log: compactor keeps its I/O priority: %s", strerror(errno));
#endif
}

/* The compactor thread: a pass every interval (if any) and on request,
 * until stopped. */
static void *compactor_main(void *arg)
{
	struct embedded_log *l = arg;
	int64_t interval_ms = l->cfg->log_embedded_compact_interval_s * 1000;

	lower_io_priority();
	pthread_mutex_lock(&l->mu);
	while (!l->compact_stop) {
		int64_t deadline = evm_mono_ms() + interval_ms;
		const char *error;
		while (!l->compact_stop && !l->compact_requested &&
		       (interval_ms == 0 || evm_mono_ms() < deadline)) {
			if (interval_ms == 0)
				pthread_cond_wait(&l->compact_cond, &l->mu);
			else
				emb_cond_wait_until(&l->compact_cond, &l->mu, deadline);
		}
		if (l->compact_stop)
			break;
		l->compact_requested = 0;
		pthread_mutex_unlock(&l->mu);
		if (emb_compact_run(l, evm_now_ms(), &error) < 0)
			log_warn("embedded log: compaction pass: %s", error);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* Starts the compactor thread (with no interval it runs only on request). */
int emb_compactor_start(struct embedded_log *l, const char **error_r)
{
	int err = pthread_create(&l->compactor, NULL, compactor_main, l);

	if (err != 0) {
		*error_r = emb_errorf("cannot start the log compactor thread: %s", strerror(err));
		return -1;
	}
	l->compactor_started = 1;
	return 0;
}

/* Asks the compactor thread for a pass now; returns at once. */
void emb_compactor_request(struct embedded_log *l)
{
	pthread_mutex_lock(&l->mu);
	l->compact_requested = 1;
	pthread_cond_broadcast(&l->compact_cond);
	pthread_mutex_unlock(&l->mu);
}

/* Stops the compactor (a pass stops between segments) and joins it. */
void emb_compactor_stop(struct embedded_log *l)
{
	pthread_mutex_lock(&l->mu);
	l->compact_stop = 1;
	pthread_cond_broadcast(&l->compact_cond);
	pthread_mutex_unlock(&l->mu);
	if (l->compactor_started)
		pthread_join(l->compactor, NULL);
	l->compactor_started = 0;
}

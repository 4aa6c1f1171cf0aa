/* embedded_compactor - the thread that compacts the embedded log every
 * log.embedded_compact_interval_s (embedded_compact.h), at idle I/O
 * priority so that it yields the disk to the writer and the readers. */
#include "ingest/embedded_compact.h"
#include "ingest/embedded_fs.h"
#include "ingest/embedded_log.h"
#include "common/ids.h"
#include "common/log.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define IOPRIO_WHO_PROCESS 1     /* with 0: the calling thread (ioprio_set(2)) */
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_CLASS_SHIFT 13

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

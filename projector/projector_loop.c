/* projector_loop - the projector thread: wait for topics, position the
 * reader at the stored offsets, then poll / apply / commit / publish. */
#include "projector/projector_internal.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_TIMEOUT_MS 100
#define RETRY_MS 1000

/* The topics the projector consumes, in parts order. */
static const enum evm_topic_id consumed[] = {
	EVM_TOPIC_MAIL, EVM_TOPIC_BLOB, EVM_TOPIC_DIRECTORY, EVM_TOPIC_QUEUE, EVM_TOPIC_CLUSTER,
};

/* Sleeps up to ms in short steps; returns early when asked to stop. */
static void proj_sleep(struct projector *p, int ms)
{
	struct timespec ts = { 0, 50 * 1000000L };

	for (int slept = 0; slept < ms && !proj_stopping(p); slept += 50)
		nanosleep(&ts, NULL);
}

/* Blocks until every topic exists; -1 when asked to stop first. */
static int wait_for_topics(struct projector *p)
{
	while (!proj_stopping(p)) {
		const char *missing = NULL;
		int ret = evlog_refresh_topics(p->log, 5000, &missing);
		char detail[512];

		if (ret == 1)
			return 0;
		if (ret == 0)
			snprintf(detail, sizeof detail, "missing topics: %s", missing ? missing : "?");
		else
			snprintf(detail, sizeof detail, "cannot list topics: %s", missing ? missing : "?");
		proj_set_state(p, PROJ_WAITING, detail);
		proj_sleep(p, 1000);
	}
	return -1;
}

/* Builds the partition table from the (now known) partition counts. */
static int setup_parts(struct projector *p, const char **error_r)
{
	size_t n = 0, i = 0;

	for (size_t t = 0; t < sizeof consumed / sizeof consumed[0]; t++) {
		int32_t np = evlog_partitions(p->log, consumed[t]);
		if (np <= 0) {
			*error_r = "a topic has no partitions";
			return -1;
		}
		n += (size_t)np;
	}
	pthread_mutex_lock(&p->mu);
	p->parts = xcalloc(n, sizeof *p->parts);
	for (size_t t = 0; t < sizeof consumed / sizeof consumed[0]; t++) {
		int32_t np = evlog_partitions(p->log, consumed[t]);
		for (int32_t part = 0; part < np; part++, i++) {
			p->parts[i].topic = consumed[t];
			p->parts[i].partition = part;
			p->parts[i].end = -1;
		}
	}
	p->nparts = n;
	pthread_mutex_unlock(&p->mu);
	p->next = xcalloc(n, sizeof *p->next);
	return 0;
}

/* Rebuild progress; ends the rebuild once every target is reached.
 * Caller holds mu. */
static void rebuild_progress(struct projector *p)
{
	uint64_t done = 0;
	bool caught_up = true;

	for (size_t i = 0; i < p->nparts; i++) {
		const struct proj_part *pt = &p->parts[i];
		if (pt->topic == EVM_TOPIC_CLUSTER)
			continue;
		if (pt->applied < pt->rebuild_target)
			caught_up = false;
		done += (uint64_t)(pt->applied < pt->rebuild_target ? pt->applied : pt->rebuild_target);
	}
	p->rebuild_done = done;
	if (caught_up) {
		p->rebuilding = false;
		p->rebuilds_completed++;
		log_info("projector: rebuild done, %llu records replayed", (unsigned long long)done);
	}
}

/* Wipes the view and re-assigns mail, blob, directory and queue from
 * offset 0. The cluster topic keeps its position: its node table is not
 * in the view. */
static int rebuild(struct projector *p, const char **error_r)
{
	uint64_t total = 0;

	/* Mark the rebuild begun before clearing the request, so no status
	 * read in between sees the view being wiped as "running" and ready. */
	pthread_mutex_lock(&p->mu);
	p->rebuilding = true;
	pthread_mutex_unlock(&p->mu);
	__atomic_store_n(&p->rebuild_req, 0, __ATOMIC_RELEASE);
	log_info("projector: rebuilding the view from the log");
	if (evlog_reader_unassign_all(p->reader, error_r) < 0 || view_wipe(p->view, error_r) < 0 ||
	    proj_format_stamp(p, error_r) < 0)
		return -1;
	p->bulk = false;
	proj_seen_end(p);
	proj_refresh_ends(p);
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->nparts; i++) {
		struct proj_part *pt = &p->parts[i];
		if (pt->topic == EVM_TOPIC_CLUSTER)
			continue;
		pt->applied = p->next[i] = 0;
		pt->rebuild_target = pt->end < 0 ? 0 : pt->end;
		total += (uint64_t)pt->rebuild_target;
	}
	memset(&p->counters, 0, sizeof p->counters);
	p->rebuilding = true;
	p->rebuild_done = 0;
	p->rebuild_total = total;
	p->rebuild_started_ms = evm_mono_ms();
	rebuild_progress(p);  /* an empty log is rebuilt at once */
	pthread_mutex_unlock(&p->mu);
	if (proj_bulk_rebuild(p, total, error_r) < 0)
		return -1;
	for (size_t i = 0; i < p->nparts; i++) {
		if (evlog_reader_assign(p->reader, p->parts[i].topic, p->parts[i].partition,
					p->next[i], error_r) < 0)
			return -1;
	}
	return 0;
}

/* Reader callback: one record into the batch. */
static int on_record(void *ctx, const struct evlog_record *rec, const char **error_r)
{
	struct proj_batch *b = ctx;

	return proj_apply_record(b->p, b, rec, error_r);
}

/* After a commit: publish offsets, counters and changed accounts, then
 * wake the loop thread. */
static void publish(struct projector *p, struct proj_batch *b)
{
	size_t i;

	memcpy(p->next, b->next, p->nparts * sizeof *p->next);
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->nparts; i++)
		p->parts[i].applied = p->next[i];
	p->counters.applied += b->delta.applied;
	p->counters.rejected += b->delta.rejected;
	p->counters.duplicates += b->delta.duplicates;
	p->counters.decode_errors += b->delta.decode_errors;
	json_object_update(p->changed, b->changed);
	if (p->rebuilding)
		rebuild_progress(p);
	pthread_mutex_unlock(&p->mu);
	event_active(p->wake, EV_READ, 0);
}

/* A batch went through: leave "failed" or "waiting-for-topics". */
static void mark_running(struct projector *p)
{
	pthread_mutex_lock(&p->mu);
	if (p->state != PROJ_RUNNING) {
		p->state = PROJ_RUNNING;
		p->detail[0] = '\0';
	}
	pthread_mutex_unlock(&p->mu);
}

/* One poll into one batch. Returns -1 when the batch was dropped and the
 * reader must be re-positioned at the stored offsets. */
static int run_batch(struct projector *p, const char **error_r)
{
	struct proj_batch batch = { .p = p };
	struct proj_batch *b = &batch;
	int ret;

	b->vb = view_batch_begin(p->view);
	b->next = xmalloc(p->nparts * sizeof *b->next);
	memcpy(b->next, p->next, p->nparts * sizeof *b->next);
	b->changed = json_object();
	ret = evlog_reader_poll(p->reader, POLL_TIMEOUT_MS, (size_t)p->cfg->projector_batch_max,
				on_record, b, error_r);
	/* A sealed event's key is not in the view yet (projector_sealed.c):
	 * catch the directory up into this batch, then poll again. */
	while (ret < 0 && b->dir_behind) {
		b->dir_behind = false;
		ret = proj_dir_catchup(p, b, error_r);
		if (ret == 0)
			ret = evlog_reader_poll(p->reader, POLL_TIMEOUT_MS,
						(size_t)p->cfg->projector_batch_max, on_record, b, error_r);
	}
	if (ret >= 0 && b->records > 0) {
		ret = proj_commit_batch(p, b, error_r);
		if (ret == 0) {
			publish(p, b);
			ret = proj_bulk_check(p, error_r);
		}
	}
	view_batch_abort(&b->vb);
	json_decref(b->changed);
	free(b->next);
	free(b->covered);
	if (ret < 0)
		return -1;
	mark_running(p);
	return 0;
}

/* The projector thread: topics, positioning, then batches until stopped. */
void *proj_thread_main(void *arg)
{
	struct projector *p = arg;
	const char *error = NULL;
	bool synced = false;
	int stale = 0;

	if (wait_for_topics(p) < 0)
		return NULL;
	if (setup_parts(p, &error) < 0) {
		proj_set_state(p, PROJ_FAILED, error);
		log_error("projector: %s", error);
		return NULL;
	}
	if (proj_format_check(p, &stale, &error) < 0) {
		proj_set_state(p, PROJ_FAILED, error);
		log_error("projector: %s", error);
		return NULL;
	}
	if (stale)
		__atomic_store_n(&p->rebuild_req, 1, __ATOMIC_RELEASE);
	while (!proj_stopping(p)) {
		if (p->reader == NULL && evlog_reader_open(p->log, &p->reader, &error) < 0)
			goto fail;
		if (!synced) {
			if (proj_resync(p, &error) < 0)
				goto fail;
			synced = true;
			proj_refresh_ends(p);
			if (proj_bulk_at_start(p, &error) < 0)
				goto fail;
		}
		if (__atomic_load_n(&p->rebuild_req, __ATOMIC_ACQUIRE) && rebuild(p, &error) < 0) {
			__atomic_store_n(&p->rebuild_req, 1, __ATOMIC_RELEASE);
			goto fail;
		}
		if (evm_mono_ms() >= p->next_end_refresh)
			proj_refresh_ends(p);
		if (run_batch(p, &error) < 0)
			goto fail;
		continue;
fail:
		log_error("projector: %s; retrying from the stored offsets", error);
		proj_set_state(p, PROJ_FAILED, error);
		synced = false;
		proj_sleep(p, RETRY_MS);
	}
	evlog_reader_close(&p->reader);
	evlog_reader_close(&p->dir_reader);
	return NULL;
}

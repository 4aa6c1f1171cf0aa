/* evlog_track - bounded appends and the log's reachability (evlog.h,
 * "Bounded writes"): every append is wrapped, so its callback comes by
 * log.write_timeout_ms whatever the backend does, and every outcome
 * updates struct evlog_health. Loop thread only. */
#include "ingest/evlog_backend.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Grace over log.write_timeout_ms, so that the backend's own timeout
 * (Kafka message.timeout.ms, checked about once a second) reports first
 * with its precise error. */
#define TRACK_GRACE_MS 1500

/* One append in flight. */
struct evlog_track {
	struct evlog_track *prev, *next;
	struct evlog *log;
	evlog_append_cb *cb;
	void *ctx;
	int64_t deadline_ms;
	int answered;          /* the caller's callback already ran (timed out) */
};

static void track_unlink(struct evlog_track *t)
{
	struct evlog *log = t->log;

	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		log->track_head = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	else
		log->track_tail = t->prev;
	t->prev = t->next = NULL;
}

/* Records the log's reachability; a change is logged once (a new reason
 * while already unreachable only replaces the text). */
static void health_set(struct evlog *log, int reachable, const char *reason, int storage_full)
{
	struct evlog_health *h = &log->health;

	if (reachable) {
		if (h->reachable)
			return;
		log_info("log reachable again (was: %s)", h->reason);
		h->reason[0] = '\0';
		h->storage_full = 0;
		h->reachable = 1;
		h->since_ms = evm_mono_ms();
		return;
	}
	if (h->reachable) {
		log_warn("log unreachable: %s", reason);
		h->reachable = 0;
		h->since_ms = evm_mono_ms();
	}
	snprintf(h->reason, sizeof h->reason, "%s", reason);
	h->storage_full = storage_full;
}

void evlog_mark_unreachable(struct evlog *log, const char *reason, int storage_full)
{
	health_set(log, 0, reason, storage_full);
}

void evlog_health(struct evlog *log, struct evlog_health *h_r)
{
	*h_r = log->health;
}

/* (Re)arms the timer for the oldest append still waiting. */
static void track_arm(struct evlog *log)
{
	struct evlog_track *t = log->track_head;
	int64_t wait;
	struct timeval tv;

	while (t != NULL && t->answered)
		t = t->next;
	if (t == NULL || log->track_timer == NULL)
		return;
	wait = t->deadline_ms - evm_mono_ms();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(log->track_timer, &tv);
}

/* Deadline timer: fails every append whose time is up (fate unknown). */
static void track_expire(evutil_socket_t fd, short what, void *arg)
{
	struct evlog *log = arg;
	int64_t now = evm_mono_ms();
	char msg[200];

	snprintf(msg, sizeof msg, "no acknowledgement from the log within %lld ms (fate unknown)",
		 (long long)log->cfg->log_write_timeout_ms);
	for (struct evlog_track *t = log->track_head; t != NULL && t->deadline_ms <= now; t = t->next) {
		if (t->answered)
			continue;
		t->answered = 1;
		log->health.appends_timed_out++;
		log->health.appends_failed++;
		health_set(log, 0, msg, 0);
		t->cb(t->ctx, -1, msg, -1, -1);
	}
	track_arm(log);
}

/* The backend's callback: update the health, answer unless already
 * answered (timed out), free. */
static void track_done(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct evlog_track *t = ctx;
	struct evlog *log = t->log;

	track_unlink(t);
	if (status == 0) {
		log->health.appends_ok++;
		health_set(log, 1, NULL, 0);
	} else if (error == NULL || strcmp(error, "log closed") != 0) {
		if (!t->answered)
			log->health.appends_failed++;
		health_set(log, 0, error ? error : "append failed",
			   error != NULL && strstr(error, EVLOG_ERR_STORAGE_FULL) != NULL);
	}
	if (!t->answered)
		t->cb(t->ctx, status, error, partition, offset);
	else if (status == 0)
		log_info("log: an append answered late was stored after all at %d/%lld",
			 (int)partition, (long long)offset);
	free(t);
}

void evlog_track_begin(struct evlog *log, evlog_append_cb *cb, void *ctx,
		       evlog_append_cb **cb_r, void **ctx_r)
{
	struct evlog_track *t = xcalloc(1, sizeof *t);

	if (log->track_timer == NULL)
		log->track_timer = evtimer_new(log->base, track_expire, log);
	t->log = log;
	t->cb = cb;
	t->ctx = ctx;
	t->deadline_ms = evm_mono_ms() + log->cfg->log_write_timeout_ms + TRACK_GRACE_MS;
	t->prev = log->track_tail;
	if (log->track_tail != NULL)
		log->track_tail->next = t;
	else
		log->track_head = t;
	log->track_tail = t;
	if (!evtimer_pending(log->track_timer, NULL))
		track_arm(log);
	*cb_r = track_done;
	*ctx_r = t;
}

void evlog_track_abort(void *tracked_ctx)
{
	struct evlog_track *t = tracked_ctx;
	struct evlog *log = t->log;
	int was_head = log->track_head == t;

	track_unlink(t);
	free(t);
	if (was_head && log->track_timer != NULL) {
		evtimer_del(log->track_timer);
		track_arm(log);
	}
}

void evlog_track_close(struct evlog *log)
{
	if (log->track_timer != NULL)
		event_free(log->track_timer);
	log->track_timer = NULL;
}

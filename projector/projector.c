/* projector - lifecycle, status and outcomes (see projector.h). The thread
 * lives in projector_loop.c, record application in projector_apply.c,
 * waiters and subscriptions in projector_wait.c. */
#include "projector/projector_internal.h"
#include "projector/keys.h"
#include "projector/keyring.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {
	[PROJ_WAITING] = "waiting-for-topics",
	[PROJ_RUNNING] = "running",
	[PROJ_FAILED] = "failed",
};

/* Allocates a projector; nothing runs until projector_start. */
int projector_create(const struct evm_config *cfg, struct evlog *log, struct view *view,
		     struct event_base *base, struct projector **p_r, const char **error_r)
{
	struct projector *p = xcalloc(1, sizeof *p);

	p->cfg = cfg;
	p->log = log;
	p->view = view;
	p->base = base;
	p->wake = event_new(base, -1, 0, proj_wake_cb, p);
	if (p->wake == NULL) {
		free(p);
		*error_r = "projector: cannot create the wake-up event";
		return -1;
	}
	pthread_mutex_init(&p->mu, NULL);
	p->state = PROJ_WAITING;
	snprintf(p->detail, sizeof p->detail, "not started");
	p->nodes = json_object();
	p->changed = json_object();
	*p_r = p;
	return 0;
}

/* Starts the projector thread. */
int projector_start(struct projector *p, const char **error_r)
{
	int err;

	if (p->started) {
		*error_r = "projector already started";
		return -1;
	}
	proj_set_state(p, PROJ_WAITING, "starting");
	err = pthread_create(&p->thread, NULL, proj_thread_main, p);
	if (err != 0) {
		*error_r = "projector: cannot create its thread";
		return -1;
	}
	p->started = true;
	return 0;
}

/* Stops and joins the thread, then fails pending waiters (loop thread). */
void projector_stop(struct projector *p)
{
	if (p->started && !p->stopped) {
		__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
		pthread_join(p->thread, NULL);
	}
	p->stopped = true;
	proj_waiters_stop(p);
}

/* Stops the projector and frees it with its subscriptions. */
void projector_destroy(struct projector **pp)
{
	struct projector *p = *pp;

	if (p == NULL)
		return;
	projector_stop(p);
	proj_subs_free(p);
	keyring_close(&p->keyring);
	event_free(p->wake);
	pthread_mutex_destroy(&p->mu);
	json_decref(p->nodes);
	json_decref(p->changed);
	free(p->parts);
	free(p->next);
	proj_seen_end(p);
	free(p);
	*pp = NULL;
}

/* Sets the state shown by projector_status. */
void proj_set_state(struct projector *p, enum proj_state state, const char *detail)
{
	pthread_mutex_lock(&p->mu);
	p->state = state;
	snprintf(p->detail, sizeof p->detail, "%s", detail ? detail : "");
	pthread_mutex_unlock(&p->mu);
}

/* True once projector_stop has asked the thread to end. */
bool proj_stopping(struct projector *p)
{
	return __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE) != 0;
}

/* Index of a partition in the table, or -1. */
int proj_part_index(struct projector *p, enum evm_topic_id topic, int32_t partition)
{
	/* A few dozen entries at most; parts are grouped by topic. */
	for (size_t i = 0; i < p->nparts; i++) {
		if (p->parts[i].topic == topic && p->parts[i].partition == partition)
			return (int)i;
	}
	return -1;
}

/* Reads the stored outcome of an event from the committed view. */
int projector_outcome(struct projector *p, const char *event_id, json_t **outcome_r,
		      const char **error_r)
{
	char key[sizeof KEY_EVENT + EVM_ID_HEX_LEN];
	json_error_t jerr;
	char *val = NULL;
	size_t vlen = 0;
	int ret;

	if (!evm_id_valid(event_id)) {
		*error_r = "invalid event id";
		return -1;
	}
	snprintf(key, sizeof key, "%s%s", KEY_EVENT, event_id);
	ret = view_get(p->view, key, strlen(key), &val, &vlen, error_r);
	if (ret <= 0)
		return ret;
	*outcome_r = evm_json_loadb(val, vlen, 0, &jerr);
	free(val);
	if (*outcome_r == NULL) {
		*error_r = "stored outcome is not valid JSON";
		return -1;
	}
	return 1;
}

/* One entry of status "partitions"; updates *ready. Caller holds mu. */
static json_t *part_status(struct projector *p, const struct proj_part *pt, bool *ready)
{
	bool known = pt->end >= 0;
	/* The end is refreshed periodically; what we applied is in the log, so
	 * the end is at least that. */
	int64_t end = known && pt->end < pt->applied ? pt->applied : pt->end;
	int64_t lag = known ? end - pt->applied : 0;

	if (!known || lag > p->cfg->projector_ready_lag)
		*ready = false;
	return json_pack("{s:s, s:i, s:I, s:I, s:I}",
			 "topic", evm_topics[pt->topic].suffix, "partition", (int)pt->partition,
			 "applied", (json_int_t)pt->applied, "end", (json_int_t)end,
			 "lag", (json_int_t)lag);
}

/* Rebuild speed so far (records/s) and the seconds left at that speed;
 * 0 and -1 when not rebuilding or too early to tell. Caller holds mu. */
static void rebuild_eta(struct projector *p, json_int_t *rate_r, json_int_t *eta_r)
{
	int64_t elapsed = evm_mono_ms() - p->rebuild_started_ms;

	*rate_r = 0;
	*eta_r = -1;
	if (!p->rebuilding || elapsed <= 0 || p->rebuild_done == 0)
		return;
	*rate_r = (json_int_t)(p->rebuild_done * 1000 / (uint64_t)elapsed);
	if (*rate_r > 0)
		*eta_r = (json_int_t)((p->rebuild_total - p->rebuild_done) / (uint64_t)*rate_r);
}

/* Builds the status object under the mutex. */
json_t *projector_status(struct projector *p)
{
	json_t *st, *parts = json_array();
	const char *state;
	json_int_t rate, eta;
	bool ready;

	bool requested = __atomic_load_n(&p->rebuild_req, __ATOMIC_ACQUIRE) != 0;

	pthread_mutex_lock(&p->mu);
	/* A requested rebuild counts as begun: a client polling right after
	 * projector_rebuild() must not see the old view as "ready". */
	state = p->state == PROJ_RUNNING && (p->rebuilding || requested) ? "rebuilding"
									   : state_names[p->state];
	ready = p->state == PROJ_RUNNING && !p->rebuilding && !requested && p->nparts > 0;
	rebuild_eta(p, &rate, &eta);
	for (size_t i = 0; i < p->nparts; i++)
		json_array_append_new(parts, part_status(p, &p->parts[i], &ready));
	st = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:o, s:o}",
		       "state", state, "detail", p->detail, "ready", ready,
		       "events_applied", (json_int_t)p->counters.applied,
		       "events_rejected", (json_int_t)p->counters.rejected,
		       "duplicates", (json_int_t)p->counters.duplicates,
		       "decode_errors", (json_int_t)(p->counters.decode_errors +
						     p->cluster_decode_errors),
		       "rebuild", "done", (json_int_t)p->rebuild_done,
		       "total", (json_int_t)p->rebuild_total,
		       "completed", (json_int_t)p->rebuilds_completed,
		       "rate", rate, "eta_s", eta,
		       "partitions", parts, "nodes", json_deep_copy(p->nodes));
	if (st != NULL)
		json_object_set_new(st, "directory_catchups", json_integer((json_int_t)p->dir_catchups));
	pthread_mutex_unlock(&p->mu);
	if (st == NULL)
		log_panic("projector: cannot build the status object");
	return st;
}

/* Asks the projector thread to wipe the view and replay the log. */
int projector_rebuild(struct projector *p, const char **error_r)
{
	if (!p->started || proj_stopping(p)) {
		*error_r = "projector is not running";
		return -1;
	}
	__atomic_store_n(&p->rebuild_req, 1, __ATOMIC_RELEASE);
	return 0;
}

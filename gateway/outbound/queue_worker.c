/* queue_worker - the delivery role: ownership of queue partitions
 * (evlog_group "delivery"), the wait until a gained partition is applied
 * to its end, and the scheduler (a 1 s timer and every projector commit).
 * Per-item work is in queue_worker_job.c. See queue_worker.h. */
#include "gateway/outbound/queue_worker_internal.h"
#include "gateway/outbound/route.h"
#include "projector/queue.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void part_wait(struct qw_part *pt);

/* outbound's resolver: route_resolve on the worker's resolver. */
static void resolve_adapter(void *ctx, const char *domain, route_cb *cb, void *cb_ctx)
{
	route_resolve(ctx, domain, cb, cb_ctx);
}

/* projector_wait answered for a gained partition. */
static void part_applied(void *ctx, int status)
{
	struct qw_part *pt = ctx;

	pt->waiter = NULL;
	if (status < 0) {
		/* Timeout or shutdown: ask again (a stopped projector means the
		 * worker is being stopped too). */
		log_warn("delivery: partition %d not applied to its end yet; still waiting",
			 (int)pt->partition);
		part_wait(pt);
		return;
	}
	pt->ready = 1;
	log_info("delivery: partition %d applied to its end; scheduling it", (int)pt->partition);
	event_active(pt->w->kick, 0, 0);
}

/* A gained partition: its end offset now (asked off the loop thread), then
 * wait until the local projector applied everything before it (outcomes
 * another owner logged). */
static void part_wait(struct qw_part *pt)
{
	struct queue_worker *w = pt->w;

	if (pt->query != 0)
		return;
	pt->query = ++w->query_seq;
	qw_offsets_ask(w, pt->partition, pt->query);
}

void qw_end_answered(struct queue_worker *w, int32_t partition, uint64_t id, int status,
		     int64_t end, const char *error)
{
	struct qw_part *pt = NULL;

	for (size_t i = 0; i < w->nparts && pt == NULL; i++) {
		if (w->parts[i]->partition == partition && w->parts[i]->query == id)
			pt = w->parts[i];
	}
	if (pt == NULL)
		return;    /* lost (or gained again) since it was asked */
	pt->query = 0;
	if (status < 0) {
		log_warn("delivery: end offset of queue partition %d: %s (retrying)", (int)partition, error);
		return;    /* the timer retries: pt stays not ready, without a waiter */
	}
	if (end <= 0) {
		pt->ready = 1;
		event_active(w->kick, 0, 0);
		return;
	}
	projector_wait(w->node->projector, EVM_TOPIC_QUEUE, pt->partition, end - 1, QW_WAIT_TIMEOUT_MS,
		       part_applied, pt, &pt->waiter);
}

/* Frees a partition we no longer own (a waiter is cancelled). */
static void part_free(struct qw_part *pt)
{
	projector_wait_cancel(&pt->waiter);
	free(pt);
}

/* The group's new assignment (loop thread): keep what stays, wait for
 * what is new, drop what is gone (its attempts in flight still finish). */
static void on_assignment(void *ctx, const int32_t *partitions, size_t n)
{
	struct queue_worker *w = ctx;
	struct qw_part **next = xcalloc(n > 0 ? n : 1, sizeof *next);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		while (o < w->nparts && w->parts[o]->partition < partitions[i]) {
			log_info("delivery: lost queue partition %d", (int)w->parts[o]->partition);
			part_free(w->parts[o++]);
		}
		if (o < w->nparts && w->parts[o]->partition == partitions[i]) {
			next[i] = w->parts[o++];
			continue;
		}
		next[i] = xcalloc(1, sizeof *next[i]);
		next[i]->w = w;
		next[i]->partition = partitions[i];
		log_info("delivery: gained queue partition %d", (int)partitions[i]);
		part_wait(next[i]);
	}
	while (o < w->nparts) {
		log_info("delivery: lost queue partition %d", (int)w->parts[o]->partition);
		part_free(w->parts[o++]);
	}
	free(w->parts);
	w->parts = next;
	w->nparts = n;
	qw_busy_assigned(&w->busy);
	event_active(w->kick, 0, 0);
}

struct scan_ctx {
	struct queue_worker *w;
	int32_t partition;
};

/* One due item of a scan: taken unless already in flight. */
static int scan_item(void *ctx, json_t *item)
{
	struct scan_ctx *sc = ctx;
	struct queue_worker *w = sc->w;
	const char *id = json_string_value(json_object_get(item, "id"));

	if (w->njobs >= w->max_jobs)
		return 1;
	if (id == NULL || qw_job_find(w, id) != NULL)
		return 0;
	qw_job_start(w, sc->partition, item);
	return 0;
}

/* Ends the rest of jobs whose rest is over. */
static void wake_rested(struct queue_worker *w)
{
	int64_t now = evm_mono_ms();
	struct qw_job *j = w->jobs;

	while (j != NULL) {
		struct qw_job *next = j->next;
		if (j->rest_until > 0 && j->rest_until <= now)
			qw_job_free(j);
		j = next;
	}
}

/* The scheduler: due items of every ready owned partition. */
static void scan(struct queue_worker *w)
{
	int64_t now = evm_now_ms();

	wake_rested(w);
	for (size_t i = 0; i < w->nparts && w->njobs < w->max_jobs; i++) {
		struct qw_part *pt = w->parts[i];
		struct scan_ctx sc = { w, pt->partition };
		const char *error = NULL;

		if (!pt->ready) {
			if (pt->waiter == NULL && pt->query == 0)
				part_wait(pt);
			continue;
		}
		/* Items in flight stay in the due index until their outcome is
		 * applied, and they come first in due order: the scan must look
		 * past them (at most njobs of them) to fill the free slots, or a
		 * large backlog drains in waves (bench: 1-2 s stalls). scan_item
		 * stops once every slot is taken. */
		if (queue_due_scan(w->node->view, pt->partition, now, w->max_jobs, scan_item, &sc,
				   &error) < 0)
			log_warn("delivery: scanning queue partition %d: %s", (int)pt->partition, error);
	}
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	scan(arg);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	scan(arg);
}

/* Every projector commit may make items due (a new item, a DSN due). */
static void on_change(void *ctx, const char *account)
{
	struct queue_worker *w = ctx;

	event_active(w->kick, 0, 0);
}

/* Settings and names the worker derives from the configuration. */
static void worker_init(struct queue_worker *w, struct node *node)
{
	const struct evm_config *cfg = node->cfg;
	uint8_t seed[8];
	char rnd[EVM_ID_HEX_LEN + 1];

	w->node = node;
	qw_busy_init(&w->busy);
	w->pcfg.retry_min_s = cfg->delivery_retry_min_s;
	w->pcfg.retry_max_s = cfg->delivery_retry_max_s;
	w->max_jobs = (size_t)(cfg->delivery_concurrency > 0 ? cfg->delivery_concurrency : 1) * 4;
	snprintf(w->actor, sizeof w->actor, "delivery:%s", cfg->node_id);
	snprintf(w->hostname, sizeof w->hostname, "%s",
		 cfg->smtp_hostname[0] != '\0' ? cfg->smtp_hostname : cfg->node_id);
	evm_random_id(rnd);
	for (int i = 0; i < 8; i++)
		seed[i] = (uint8_t)strtoul((char[3]){ rnd[2 * i], rnd[2 * i + 1], 0 }, NULL, 16);
	memcpy(&w->rng, seed, sizeof w->rng);
	w->rng |= 1;
}

int queue_worker_start(struct node *node, struct queue_worker **w_r, const char **error_r)
{
	struct queue_worker *w = xcalloc(1, sizeof *w);
	struct outbound_resolver res;
	struct timeval tv = { QW_SCAN_INTERVAL_MS / 1000, (QW_SCAN_INTERVAL_MS % 1000) * 1000 };

	worker_init(w, node);
	if (route_resolver_create(node->base, node->cfg, &w->rr, error_r) < 0)
		goto fail;
	res.resolve = resolve_adapter;
	res.ctx = w->rr;
	if (outbound_create(node->base, node->cfg, &res, &w->ob, error_r) < 0 ||
	    evlog_reader_open(node->log, &w->reader, error_r) < 0 || qw_offsets_start(w, error_r) < 0)
		goto fail;
	w->timer = event_new(node->base, -1, EV_PERSIST, timer_cb, w);
	w->kick = event_new(node->base, -1, 0, kick_cb, w);
	if (w->timer == NULL || w->kick == NULL) {
		*error_r = "event_new failed";
		goto fail;
	}
	event_add(w->timer, &tv);
	w->sub = projector_subscribe(node->projector, NULL, on_change, w);
	if (evlog_group_join(node->log, EVM_TOPIC_QUEUE, "delivery", on_assignment, qw_busy_revoking, w,
			     &w->group, error_r) < 0)
		goto fail;
	log_info("delivery role started (%s)", w->actor);
	*w_r = w;
	return 0;
fail:
	queue_worker_stop(&w);
	return -1;
}

void queue_worker_stop(struct queue_worker **wp)
{
	struct queue_worker *w = *wp;

	if (w == NULL)
		return;
	qw_busy_stopping(&w->busy);
	evlog_group_leave(&w->group);
	projector_unsubscribe(&w->sub);
	if (w->timer != NULL)
		event_free(w->timer);
	if (w->kick != NULL)
		event_free(w->kick);
	for (size_t i = 0; i < w->nparts; i++)
		part_free(w->parts[i]);
	free(w->parts);
	/* Jobs waiting for a callback finish quietly, without logging; resting
	 * ones go now. Sends cut short by outbound_free are not logged. */
	for (struct qw_job *j = w->jobs, *next; j != NULL; j = next) {
		next = j->next;
		if (j->rest_until > 0) {
			qw_job_free(j);
		} else {
			j->w = NULL;
			j->prev = j->next = NULL;
		}
	}
	outbound_free(&w->ob);
	route_resolver_free(&w->rr);
	qw_offsets_stop(w);
	evlog_reader_close(&w->reader);
	qw_busy_free(&w->busy);
	free(w);
	*wp = NULL;
}

json_t *queue_worker_status(struct queue_worker *w)
{
	json_t *owned = json_array();
	size_t in_flight = 0;

	for (size_t i = 0; i < w->nparts; i++)
		json_array_append_new(owned, json_integer(w->parts[i]->partition));
	for (struct qw_job *j = w->jobs; j != NULL; j = j->next)
		in_flight += j->rest_until == 0;
	return json_pack("{s:o,s:I,s:I,s:I}", "owned", owned, "in_flight", (json_int_t)in_flight,
			 "connections", (json_int_t)(w->ob != NULL ? outbound_connections(w->ob) : 0),
			 "waiting", (json_int_t)(w->ob != NULL ? outbound_waiting(w->ob) : 0));
}

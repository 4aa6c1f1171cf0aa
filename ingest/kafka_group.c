/* kafka_group - group membership on Kafka: a consumer in the group
 * log.topic_prefix + name, subscribed to one topic, that never consumes.
 *
 * The coordinator assigns the topic's partitions among the members
 * (cooperative-sticky: a rebalance only moves the partitions that change
 * owner; the eager protocol is handled too). The rebalance callback runs on
 * our own thread inside rd_kafka_consumer_poll(): it applies the change as
 * librdkafka requires (incremental_assign/unassign, or assign for eager),
 * pauses what it was given (we do not read through the group: the projector
 * reads the topic with its own consumer), then publishes the whole owned
 * set to the loop thread (mutex + event_active), where the user's callback
 * runs. The thread polls with a short timeout so that heartbeats and
 * rebalances are served; a member that stops polling or dies loses its
 * partitions after session.timeout.ms. */
#include "ingest/kafka_common.h"
#include "common/buf.h"
#include "common/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GROUP_POLL_MS 100
#define GROUP_SESSION_TIMEOUT "10000"
#define GROUP_HEARTBEAT "1000"

struct kafka_group {
	struct evlog_group group;      /* first: evlog_group.c casts */
	struct kafka_log *kl;
	enum evm_topic_id topic;
	evlog_group_cb *cb;
	evlog_group_busy_cb *busy;
	void *ctx;
	rd_kafka_t *rk;
	struct event *ev;              /* loop: a new assignment is published */
	pthread_t thread;
	int started;

	pthread_mutex_t mu;            /* guards the fields below */
	int stop;
	int closing;                   /* consumer_close in progress: publish nothing */
	int32_t *pending;              /* last published set, sorted */
	size_t npending;
	int has_pending;

	/* loop thread only */
	int32_t *owned;
	size_t nowned;
	int reported;                  /* cb ran at least once */
};

/* The owned partitions of our topic out of librdkafka's current assignment,
 * handed to the loop thread. Poll thread. */
static void group_publish(struct kafka_group *g)
{
	rd_kafka_topic_partition_list_t *list = NULL;
	const char *name = g->kl->topic_names[g->topic];
	rd_kafka_resp_err_t err = rd_kafka_assignment(g->rk, &list);
	int32_t *parts;
	size_t n = 0;

	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_warn("kafka group %s: reading the assignment: %s", name, rd_kafka_err2str(err));
		return;
	}
	parts = xcalloc((size_t)list->cnt + 1, sizeof *parts);
	for (int i = 0; i < list->cnt; i++) {
		if (strcmp(list->elems[i].topic, name) == 0)
			parts[n++] = list->elems[i].partition;
	}
	rd_kafka_topic_partition_list_destroy(list);
	evlog_group_sort(parts, n);
	pthread_mutex_lock(&g->mu);
	if (g->closing) {
		pthread_mutex_unlock(&g->mu);
		free(parts);
		return;
	}
	free(g->pending);
	g->pending = parts;
	g->npending = n;
	g->has_pending = 1;
	event_active(g->ev, 0, 0);
	pthread_mutex_unlock(&g->mu);
}

/* Logs and frees a librdkafka error object (NULL: success). */
static void group_check(const char *what, rd_kafka_error_t *error)
{
	if (error == NULL)
		return;
	log_warn("kafka group: %s: %s", what, rd_kafka_error_string(error));
	rd_kafka_error_destroy(error);
}

/* Before giving parts up (poll thread): waits, bounded, until the user's
 * busy callback says nothing is in flight on them. Blocking here holds the
 * rebalance: the coordinator assigns them to another member only once we
 * return (the rebalance timeout is max.poll.interval.ms, far above the
 * bound). Not while leaving: the loop that finishes the work may be the
 * one waiting for this thread. */
static void group_wait_idle(struct kafka_group *g, const rd_kafka_topic_partition_list_t *parts)
{
	const char *name = g->kl->topic_names[g->topic];
	int32_t *mine = xcalloc((size_t)parts->cnt + 1, sizeof *mine);
	size_t n = 0, busy = 0;
	int closing;

	for (int i = 0; i < parts->cnt; i++) {
		if (strcmp(parts->elems[i].topic, name) == 0)
			mine[n++] = parts->elems[i].partition;
	}
	pthread_mutex_lock(&g->mu);
	closing = g->closing || g->stop;
	pthread_mutex_unlock(&g->mu);
	if (g->busy != NULL && n > 0 && !closing) {
		for (int waited = 0; waited < EVLOG_GROUP_REVOKE_WAIT_MS; waited += EVLOG_GROUP_BUSY_POLL_MS) {
			if ((busy = g->busy(g->ctx, mine, n)) == 0)
				break;
			if (waited == 0)
				log_info("kafka group %s: %zu in flight on the %zu partitions given up; "
					 "waiting for them", name, busy, n);
			usleep(EVLOG_GROUP_BUSY_POLL_MS * 1000);
		}
		if (busy > 0)
			log_warn("kafka group %s: giving up %zu partitions with %zu still in flight after %d ms",
				 name, n, busy, EVLOG_GROUP_REVOKE_WAIT_MS);
	}
	free(mine);
}

/* Rebalance callback (poll thread, inside consumer_poll or close). With the
 * cooperative protocol parts is the increment; with eager, the whole new
 * assignment (assign) or everything (revoke). */
static void group_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			       rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct kafka_group *g = opaque;
	int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	rd_kafka_resp_err_t e;

	switch (err) {
	case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
		if (coop) {
			group_check("incremental assign", rd_kafka_incremental_assign(rk, parts));
		} else if ((e = rd_kafka_assign(rk, parts)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
			log_warn("kafka group: assign: %s", rd_kafka_err2str(e));
		}
		/* Never fetch: we follow the assignment, the projector reads. */
		if (parts->cnt > 0 && (e = rd_kafka_pause_partitions(rk, parts)) != RD_KAFKA_RESP_ERR_NO_ERROR)
			log_warn("kafka group: pause: %s", rd_kafka_err2str(e));
		break;
	case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
		if (rd_kafka_assignment_lost(rk))
			log_warn("kafka group %s: assignment lost (session timed out)",
				 g->kl->topic_names[g->topic]);
		else
			group_wait_idle(g, parts);
		if (coop)
			group_check("incremental unassign", rd_kafka_incremental_unassign(rk, parts));
		else if ((e = rd_kafka_assign(rk, NULL)) != RD_KAFKA_RESP_ERR_NO_ERROR)
			log_warn("kafka group: unassign: %s", rd_kafka_err2str(e));
		break;
	default:
		log_warn("kafka group: rebalance failed: %s", rd_kafka_err2str(err));
		if (coop)
			group_check("incremental unassign", rd_kafka_incremental_unassign(rk, parts));
		else
			rd_kafka_assign(rk, NULL);
		break;
	}
	group_publish(g);
}

/* The membership thread: polls so heartbeats and rebalances are served;
 * on stop, leaves the group (consumer_close), handing the partitions over. */
static void *group_thread(void *arg)
{
	struct kafka_group *g = arg;
	rd_kafka_resp_err_t err;

	for (;;) {
		rd_kafka_message_t *m;
		int stop;

		pthread_mutex_lock(&g->mu);
		stop = g->stop;
		pthread_mutex_unlock(&g->mu);
		if (stop)
			break;
		m = rd_kafka_consumer_poll(g->rk, GROUP_POLL_MS);
		if (m == NULL)
			continue;
		if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			log_debug("kafka group %s: %s", g->kl->topic_names[g->topic],
				  rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);   /* a record fetched before its pause took effect */
	}
	pthread_mutex_lock(&g->mu);
	g->closing = 1;
	pthread_mutex_unlock(&g->mu);
	err = rd_kafka_consumer_close(g->rk);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_warn("kafka group %s: leave: %s", g->kl->topic_names[g->topic], rd_kafka_err2str(err));
	return NULL;
}

/* Loop thread: runs cb with a published set when it differs from the last
 * one reported (always the first time). */
static void group_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kafka_group *g = arg;
	int32_t *parts;
	size_t n;

	pthread_mutex_lock(&g->mu);
	if (!g->has_pending) {
		pthread_mutex_unlock(&g->mu);
		return;
	}
	parts = g->pending;
	n = g->npending;
	g->pending = NULL;
	g->npending = 0;
	g->has_pending = 0;
	pthread_mutex_unlock(&g->mu);
	if (g->reported && n == g->nowned && (n == 0 || memcmp(parts, g->owned, n * sizeof *parts) == 0)) {
		free(parts);
		return;
	}
	free(g->owned);
	g->owned = parts;
	g->nowned = n;
	g->reported = 1;
	g->cb(g->ctx, g->owned, g->nowned);
}

/* The consumer configuration of a group member. */
static rd_kafka_t *group_consumer(struct kafka_group *g, const char *name, const char **error_r)
{
	const struct evm_config *cfg = g->kl->log.cfg;
	rd_kafka_conf_t *conf = kafka_conf_new(cfg, "group");
	char group_id[512], errstr[512];
	rd_kafka_t *rk;

	snprintf(group_id, sizeof group_id, "%s%s", cfg->log_topic_prefix, name);
	if (kafka_conf_set(conf, "group.id", group_id, error_r) < 0 ||
	    kafka_conf_set(conf, "partition.assignment.strategy", "cooperative-sticky", error_r) < 0 ||
	    kafka_conf_set(conf, "session.timeout.ms", GROUP_SESSION_TIMEOUT, error_r) < 0 ||
	    kafka_conf_set(conf, "heartbeat.interval.ms", GROUP_HEARTBEAT, error_r) < 0 ||
	    kafka_conf_set(conf, "enable.auto.commit", "false", error_r) < 0 ||
	    kafka_conf_set(conf, "enable.auto.offset.store", "false", error_r) < 0 ||
	    kafka_conf_set(conf, "auto.offset.reset", "latest", error_r) < 0 ||
	    kafka_conf_set(conf, "allow.auto.create.topics", "false", error_r) < 0 ||
	    kafka_conf_set(conf, "queued.max.messages.kbytes", "64", error_r) < 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_rebalance_cb(conf, group_rebalance_cb);
	rd_kafka_conf_set_opaque(conf, g);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		*error_r = kafka_errf("kafka group consumer: %s", errstr);
		return NULL;
	}
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

/* Frees what join set up (the thread is not running). */
static void group_free(struct kafka_group *g)
{
	if (g->rk != NULL)
		rd_kafka_destroy(g->rk);
	if (g->ev != NULL)
		event_free(g->ev);
	pthread_mutex_destroy(&g->mu);
	free(g->pending);
	free(g->owned);
	free(g);
}

/* evlog_group_join() on Kafka: subscribe, then the thread keeps us in. */
int kafka_group_join(struct evlog *log, enum evm_topic_id topic, const char *name,
		     evlog_group_cb *cb, evlog_group_busy_cb *busy, void *ctx,
		     struct evlog_group **g_r, const char **error_r)
{
	struct kafka_group *g = xcalloc(1, sizeof *g);
	rd_kafka_topic_partition_list_t *sub;
	rd_kafka_resp_err_t err;
	int ret;

	g->group.ops = log->ops;
	g->group.log = log;
	g->kl = (struct kafka_log *)log;
	g->topic = topic;
	g->cb = cb;
	g->busy = busy;
	g->ctx = ctx;
	pthread_mutex_init(&g->mu, NULL);
	g->ev = event_new(log->base, -1, 0, group_event_cb, g);
	if (g->ev == NULL) {
		*error_r = "event_new failed";
		group_free(g);
		return -1;
	}
	g->rk = group_consumer(g, name, error_r);
	if (g->rk == NULL) {
		group_free(g);
		return -1;
	}
	sub = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, g->kl->topic_names[topic], RD_KAFKA_PARTITION_UA);
	err = rd_kafka_subscribe(g->rk, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		*error_r = kafka_errf("kafka group %s: subscribe: %s", name, rd_kafka_err2str(err));
		group_free(g);
		return -1;
	}
	ret = pthread_create(&g->thread, NULL, group_thread, g);
	if (ret != 0) {
		*error_r = kafka_errf("kafka group %s: cannot start its thread: %s", name, strerror(ret));
		rd_kafka_consumer_close(g->rk);
		group_free(g);
		return -1;
	}
	g->started = 1;
	*g_r = &g->group;
	return 0;
}

/* evlog_group_leave(): the thread leaves the group, then everything goes. */
void kafka_group_leave(struct evlog_group *group)
{
	struct kafka_group *g = (struct kafka_group *)group;

	pthread_mutex_lock(&g->mu);
	g->stop = 1;
	pthread_mutex_unlock(&g->mu);
	if (g->started)
		pthread_join(g->thread, NULL);
	group_free(g);
}

/* embedded_group - group membership on the embedded log: the one node owns
 * every partition of the topic, reported once, on the next loop turn. */
#include "ingest/embedded_log.h"
#include "common/buf.h"

#include <stdlib.h>

struct emb_group {
	struct evlog_group group;      /* first: evlog_group.c casts */
	enum evm_topic_id topic;
	evlog_group_cb *cb;
	void *ctx;
	struct event *ev;              /* one-shot: the initial assignment */
};

/* Loop thread, next turn after join: the whole topic is ours. */
static void emb_group_assign_cb(evutil_socket_t fd, short what, void *arg)
{
	struct emb_group *g = arg;
	struct embedded_log *l = (struct embedded_log *)g->group.log;
	int32_t n = l->topics[g->topic].npart;
	int32_t *parts = xcalloc(n > 0 ? (size_t)n : 1, sizeof *parts);

	for (int32_t i = 0; i < n; i++)
		parts[i] = i;
	g->cb(g->ctx, parts, n > 0 ? (size_t)n : 0);
	free(parts);
}

/* evlog_group_join() on the embedded log. */
int emb_group_join(struct evlog *log, enum evm_topic_id topic, const char *name,
		   evlog_group_cb *cb, evlog_group_busy_cb *busy, void *ctx,
		   struct evlog_group **g_r, const char **error_r)
{
	struct emb_group *g = xcalloc(1, sizeof *g);

	(void)busy;                    /* the one owner never gives a partition up */
	g->group.ops = log->ops;
	g->group.log = log;
	g->topic = topic;
	g->cb = cb;
	g->ctx = ctx;
	g->ev = event_new(log->base, -1, 0, emb_group_assign_cb, g);
	if (g->ev == NULL) {
		free(g);
		*error_r = "event_new failed";
		return -1;
	}
	event_active(g->ev, 0, 0);
	*g_r = &g->group;
	return 0;
}

/* evlog_group_leave(): nothing to hand over; the callback never runs again. */
void emb_group_leave(struct evlog_group *group)
{
	struct emb_group *g = (struct emb_group *)group;

	event_free(g->ev);
	free(g);
}

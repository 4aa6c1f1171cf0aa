/* projector_wait - waiters and subscriptions, on the loop thread.
 *
 * The projector thread publishes applied offsets and changed accounts
 * under the mutex, then activates the `wake` event; proj_wake_cb runs here
 * on the loop and activates each satisfied waiter's own event, so every
 * callback runs from its own event (never inside projector_wait(), and a
 * callback may cancel or add waiters freely). */
#include "projector/projector_internal.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

struct projector_waiter {
	struct projector *p;
	struct projector_waiter *prev, *next;
	uint64_t seq;
	enum evm_topic_id topic;
	int32_t partition;
	int64_t offset;
	projector_wait_cb *cb;
	void *ctx;
	struct event *ev;          /* timeout, or activated when applied */
};

struct projector_sub {
	struct projector *p;
	struct projector_sub *prev, *next;
	char *account;             /* NULL: every account */
	projector_change_cb *cb;
	void *ctx;
	bool dead;                 /* unsubscribed during a notification */
};

/* True when the record at (topic, partition, offset) is committed. */
static bool is_applied(struct projector *p, enum evm_topic_id topic, int32_t partition,
		       int64_t offset)
{
	bool applied;
	int idx;

	pthread_mutex_lock(&p->mu);
	idx = proj_part_index(p, topic, partition);
	applied = idx >= 0 && p->parts[idx].applied > offset;
	pthread_mutex_unlock(&p->mu);
	return applied;
}

/* Removes a waiter from the list and frees it and its event. */
static void waiter_unlink_free(struct projector_waiter *w)
{
	struct projector *p = w->p;

	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		p->waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	event_free(w->ev);
	free(w);
}

/* The waiter's event: applied (status 0), else timeout or stop (-1). */
static void waiter_fire(evutil_socket_t fd, short what, void *arg)
{
	struct projector_waiter *w = arg;
	projector_wait_cb *cb = w->cb;
	void *ctx = w->ctx;
	int status = is_applied(w->p, w->topic, w->partition, w->offset) ? 0 : -1;

	waiter_unlink_free(w);
	cb(ctx, status);
}

/* Registers a waiter for an offset; its callback always runs from its own event. */
void projector_wait(struct projector *p, enum evm_topic_id topic, int32_t partition,
		    int64_t offset, int timeout_ms, projector_wait_cb *cb, void *ctx,
		    struct projector_waiter **w_r)
{
	struct projector_waiter *w = xcalloc(1, sizeof *w);

	w->p = p;
	w->seq = p->wait_seq++;
	w->topic = topic;
	w->partition = partition;
	w->offset = offset;
	w->cb = cb;
	w->ctx = ctx;
	w->ev = evtimer_new(p->base, waiter_fire, w);
	if (w->ev == NULL)
		abort();
	w->next = p->waiters;
	if (p->waiters != NULL)
		p->waiters->prev = w;
	p->waiters = w;
	if (p->stopped || is_applied(p, topic, partition, offset)) {
		event_active(w->ev, EV_TIMEOUT, 0);
	} else if (timeout_ms >= 0) {
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
		evtimer_add(w->ev, &tv);
	}
	if (w_r != NULL)
		*w_r = w;
}

/* Frees a waiter whose callback has not run. */
void projector_wait_cancel(struct projector_waiter **w)
{
	if (*w == NULL)
		return;
	waiter_unlink_free(*w);
	*w = NULL;
}

/* Fails every waiter registered before the stop, at once (the loop may not
 * turn again). Waiters their callbacks add fire on the next turn. */
void proj_waiters_stop(struct projector *p)
{
	uint64_t limit = p->wait_seq;

	for (;;) {
		struct projector_waiter *w = p->waiters;
		projector_wait_cb *cb;
		void *ctx;

		while (w != NULL && w->seq >= limit)
			w = w->next;
		if (w == NULL)
			break;
		cb = w->cb;
		ctx = w->ctx;
		waiter_unlink_free(w);
		cb(ctx, -1);
	}
}

/* Registers a change callback for one account (NULL: all). */
struct projector_sub *projector_subscribe(struct projector *p, const char *account,
					  projector_change_cb *cb, void *ctx)
{
	struct projector_sub *s = xcalloc(1, sizeof *s);

	s->p = p;
	s->account = account != NULL ? xstrdup(account) : NULL;
	s->cb = cb;
	s->ctx = ctx;
	s->next = p->subs;
	if (p->subs != NULL)
		p->subs->prev = s;
	p->subs = s;
	return s;
}

/* Unlinks and frees one subscription. */
static void sub_unlink_free(struct projector_sub *s)
{
	struct projector *p = s->p;

	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		p->subs = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	free(s->account);
	free(s);
}

/* Removes a subscription; safe from inside a notification. */
void projector_unsubscribe(struct projector_sub **s)
{
	if (*s == NULL)
		return;
	if ((*s)->p->notifying > 0)
		(*s)->dead = true;  /* freed once the notification loop is done */
	else
		sub_unlink_free(*s);
	*s = NULL;
}

/* Frees every subscription (projector_destroy). */
void proj_subs_free(struct projector *p)
{
	while (p->subs != NULL)
		sub_unlink_free(p->subs);
}

/* Tells the subscribers about each changed account. */
static void notify(struct projector *p, json_t *changed)
{
	struct projector_sub *s, *next;
	const char *account;
	json_t *v;

	p->notifying++;
	json_object_foreach(changed, account, v) {
		for (s = p->subs; s != NULL; s = s->next) {
			if (!s->dead && (s->account == NULL || strcmp(s->account, account) == 0))
				s->cb(s->ctx, account);
		}
	}
	if (--p->notifying == 0) {
		for (s = p->subs; s != NULL; s = next) {
			next = s->next;
			if (s->dead)
				sub_unlink_free(s);
		}
	}
}

/* The wake event: activate satisfied waiters, notify subscribers. */
void proj_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct projector *p = arg;
	struct projector_waiter *w;
	json_t *changed;

	pthread_mutex_lock(&p->mu);
	changed = p->changed;
	p->changed = json_object();
	pthread_mutex_unlock(&p->mu);
	for (w = p->waiters; w != NULL; w = w->next) {
		if (is_applied(p, w->topic, w->partition, w->offset))
			event_active(w->ev, EV_TIMEOUT, 0);
	}
	notify(p, changed);
	json_decref(changed);
}

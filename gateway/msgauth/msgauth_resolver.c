/* msgauth_resolver - see msgauth_resolver.h: one shared libunbound context,
 * a dispatcher thread, workers waiting on a condition variable. */
#include "gateway/msgauth/msgauth_resolver.h"
#include "gateway/outbound/dns.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unbound.h>
#include <unistd.h>

struct msgauth_resolver {
	struct ub_ctx *ub;
	pthread_t dispatcher;
	int wake[2];                 /* a byte on wake[1] ends the dispatcher */
	pthread_mutex_t lock;        /* guards everything below and every struct query */
	pthread_cond_t answered;     /* broadcast by each answer and by stop */
	unsigned refs;
	int stopping;
	uint64_t answers;
};

/* One asked query. Owned by the asking worker, except when it gave up
 * while libunbound was already delivering the answer (abandoned): then the
 * callback frees it. */
struct query {
	struct msgauth_resolver *r;
	int done, abandoned, err;
	struct ub_result *result;
};

/* libunbound's callback, on the dispatcher thread inside ub_process. */
static void query_cb(void *arg, int err, struct ub_result *result)
{
	struct query *q = arg;
	struct msgauth_resolver *r = q->r;

	pthread_mutex_lock(&r->lock);
	r->answers++;
	if (q->abandoned) {
		ub_resolve_free(result);
		free(q);
	} else {
		q->done = 1;
		q->err = err;
		q->result = result;
		pthread_cond_broadcast(&r->answered);
	}
	pthread_mutex_unlock(&r->lock);
}

/* The dispatcher: answers are processed as soon as they arrive. */
static void *dispatch(void *arg)
{
	struct msgauth_resolver *r = arg;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = ub_fd(r->ub), .events = POLLIN },
			{ .fd = r->wake[0], .events = POLLIN },
		};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("msgauth: resolver poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents != 0)
			ub_process(r->ub);
	}
	return NULL;
}

int msgauth_resolver_new(const char *resolvers, const char *ta_file, struct msgauth_resolver **r_r,
			 const char **error_r)
{
	struct msgauth_resolver *r = xcalloc(1, sizeof *r);
	pthread_condattr_t ca;

	*r_r = NULL;
	r->wake[0] = r->wake[1] = -1;
	if ((r->ub = ub_ctx_create()) == NULL) {
		*error_r = "msgauth: cannot create a libunbound context";
		goto fail;
	}
	if (dns_ub_configure(r->ub, resolvers, ta_file, error_r) < 0)
		goto fail;
	if (pipe2(r->wake, O_CLOEXEC) < 0) {
		*error_r = "msgauth: pipe failed";
		goto fail;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* the clock of evm_mono_ms */
	pthread_cond_init(&r->answered, &ca);
	pthread_condattr_destroy(&ca);
	r->refs = 1;
	if (pthread_create(&r->dispatcher, NULL, dispatch, r) != 0) {
		pthread_cond_destroy(&r->answered);
		pthread_mutex_destroy(&r->lock);
		*error_r = "msgauth: cannot start the resolver thread";
		goto fail;
	}
	*r_r = r;
	return 0;
fail:
	if (r->ub != NULL)
		ub_ctx_delete(r->ub);
	if (r->wake[0] >= 0) {
		close(r->wake[0]);
		close(r->wake[1]);
	}
	free(r);
	return -1;
}

struct msgauth_resolver *msgauth_resolver_ref(struct msgauth_resolver *r)
{
	pthread_mutex_lock(&r->lock);
	r->refs++;
	pthread_mutex_unlock(&r->lock);
	return r;
}

void msgauth_resolver_stop(struct msgauth_resolver *r)
{
	pthread_mutex_lock(&r->lock);
	r->stopping = 1;
	pthread_cond_broadcast(&r->answered);
	pthread_mutex_unlock(&r->lock);
}

void msgauth_resolver_unref(struct msgauth_resolver **rp)
{
	struct msgauth_resolver *r = *rp;
	unsigned left;

	if (r == NULL)
		return;
	*rp = NULL;
	pthread_mutex_lock(&r->lock);
	left = --r->refs;
	pthread_mutex_unlock(&r->lock);
	if (left > 0)
		return;
	while (write(r->wake[1], "x", 1) < 0 && errno == EINTR)
		;
	pthread_join(r->dispatcher, NULL);
	/* No worker holds a reference: every query was answered, cancelled,
	 * or abandoned while its callback was running, and the dispatcher
	 * that ran it is joined. */
	ub_ctx_delete(r->ub);
	close(r->wake[0]);
	close(r->wake[1]);
	pthread_cond_destroy(&r->answered);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

uint64_t msgauth_resolver_answers(struct msgauth_resolver *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->lock);
	n = r->answers;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* The records of a NOERROR answer, at most MSGAUTH_MAX_RRS. */
static enum msgauth_dns_status copy_records(const struct ub_result *res, struct msgauth_rr **rrs_r, size_t *n_r)
{
	size_t n = 0;

	while (res->data != NULL && res->data[n] != NULL && n < MSGAUTH_MAX_RRS)
		n++;
	*rrs_r = xcalloc(n + 1, sizeof **rrs_r);
	for (size_t i = 0; i < n; i++) {
		size_t len = (size_t)res->len[i];
		(*rrs_r)[i].data = xmalloc(len + 1);
		memcpy((*rrs_r)[i].data, res->data[i], len);
		(*rrs_r)[i].len = len;
	}
	*n_r = n;
	return n > 0 ? MSGAUTH_DNS_FOUND : MSGAUTH_DNS_NODATA;
}

enum msgauth_dns_status msgauth_resolver_query(struct msgauth_resolver *r, const char *name, int rrtype,
					       int64_t until_ms, struct msgauth_rr **rrs_r, size_t *n_r)
{
	struct query *q;
	struct timespec ts = { .tv_sec = (time_t)(until_ms / 1000), .tv_nsec = (long)(until_ms % 1000) * 1000000 };
	enum msgauth_dns_status st = MSGAUTH_DNS_TEMPFAIL;
	struct ub_result *res;
	int id = 0, err;

	*rrs_r = NULL;
	*n_r = 0;
	if (r == NULL || evm_mono_ms() >= until_ms)
		return MSGAUTH_DNS_TEMPFAIL;
	q = xcalloc(1, sizeof *q);
	q->r = r;
	pthread_mutex_lock(&r->lock);
	err = r->stopping;
	pthread_mutex_unlock(&r->lock);
	/* Asked without our lock: libunbound's own locks and pipes must never
	 * wait for a callback that waits for our lock. */
	if (err || ub_resolve_async(r->ub, name, rrtype, 1, q, query_cb, &id) != 0) {
		free(q);
		return MSGAUTH_DNS_TEMPFAIL;
	}
	pthread_mutex_lock(&r->lock);
	while (!q->done && !r->stopping &&
	       pthread_cond_timedwait(&r->answered, &r->lock, &ts) != ETIMEDOUT)
		;
	if (!q->done) {
		/* Cancelled: its callback is never called. Not found: libunbound
		 * is delivering it now, and the callback frees q. */
		if (ub_cancel(r->ub, id) == UB_NOERROR)
			free(q);
		else
			q->abandoned = 1;
		pthread_mutex_unlock(&r->lock);
		return MSGAUTH_DNS_TEMPFAIL;
	}
	pthread_mutex_unlock(&r->lock);
	res = q->result;
	err = q->err;
	free(q);
	if (err != 0 || res == NULL || res->bogus || (res->rcode != DNS_R_NOERROR && res->rcode != DNS_R_NXDOMAIN))
		st = MSGAUTH_DNS_TEMPFAIL;
	else if (res->rcode == DNS_R_NXDOMAIN)
		st = MSGAUTH_DNS_NXDOMAIN;
	else
		st = copy_records(res, rrs_r, n_r);
	ub_resolve_free(res);
	return st;
}

/* msgauth_node - see msgauth_node.h. */
#include "gateway/msgauth/msgauth_node.h"
#include "gateway/msgauth/msgauth_resolver.h"
#include "common/ids.h"
#include "common/log.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct msgauth_job {
	struct event *done;
	struct msgauth_job *next;
	char *arc_trusted, *authserv_id, *peer_ip, *helo, *mail_from, *policy;
	const char *msg;
	size_t len;
	struct msgauth_resolver *resolver;  /* a reference; NULL: every lookup fails at once */
	int64_t deadline_ms;        /* evm_mono_ms */
	struct msgauth_result res;
	struct buf out, summary, results;
	msgauth_node_cb *cb;
	void *ctx;
};

/* Loop thread only. */
static struct msgauth_resolver *node_resolver;   /* msgauth_node_start .. msgauth_node_stop */
static unsigned running;
static struct msgauth_job *queue_head, *queue_tail;

static void job_start(struct msgauth_job *job);

/* msgauth_dns.query on the worker: the shared resolver, each query
 * bounded by MSGAUTH_QUERY_TIMEOUT_S and by the message's deadline. */
static enum msgauth_dns_status job_query(void *ctx, const char *name, int rrtype, struct msgauth_rr **rrs_r,
					 size_t *n_r)
{
	struct msgauth_job *job = ctx;
	int64_t until = evm_mono_ms() + MSGAUTH_QUERY_TIMEOUT_S * 1000;

	if (until > job->deadline_ms)
		until = job->deadline_ms;
	return msgauth_resolver_query(job->resolver, name, rrtype, until, rrs_r, n_r);
}

static void *worker(void *arg)
{
	struct msgauth_job *job = arg;
	struct msgauth_dns dns = { .query = job_query, .ctx = job };
	const char *error = NULL;
	unsigned char roll = 0;
	struct msgauth_request req = {
		.authserv_id = job->authserv_id, .peer_ip = job->peer_ip, .helo = job->helo,
		.mail_from = job->mail_from, .msg = job->msg, .len = job->len, .now = (int64_t)time(NULL),
		.arc_trusted_sealers = job->arc_trusted,
	};

	/* RFC 7489 6.6.4: pct sampling at random */
	if (RAND_bytes(&roll, 1) == 1)
		req.pct_roll = roll % 100;
	job->deadline_ms = evm_mono_ms() + MSGAUTH_DEADLINE_S * 1000;
	if (msgauth_init(MSGAUTH_PUBLIC_SUFFIX, &error) < 0) {
		memset(&job->res, 0, sizeof job->res);
		snprintf(job->res.spf, sizeof job->res.spf, "temperror");
		snprintf(job->res.dmarc, sizeof job->res.dmarc, "temperror");
		snprintf(job->res.arc, sizeof job->res.arc, "none");
	} else {
		msgauth_check(&req, &dns, &job->res);
	}
	msgauth_resolver_unref(&job->resolver);
	event_active(job->done, EV_TIMEOUT, 0);
	return NULL;
}

static void job_free(struct msgauth_job *job)
{
	event_free(job->done);
	msgauth_resolver_unref(&job->resolver);   /* a worker that never started */
	free(job->authserv_id);
	free(job->peer_ip);
	free(job->helo);
	free(job->mail_from);
	free(job->policy);
	free(job->arc_trusted);
	buf_free(&job->out);
	buf_free(&job->summary);
	buf_free(&job->results);
	free(job);
}

/* field ("Authentication-Results: id;\r\n\tspf=...\r\n") without its
 * name, authserv-id, folding and final CRLF, into out. */
static void one_line_results(const char *field, struct buf *out)
{
	const char *p = strchr(field, ';');

	for (p = p != NULL ? p + 1 : field + strlen(field); *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			continue;
		if (*p == '\t' || *p == ' ') {
			if (out->len > 0 && out->data[out->len - 1] != ' ')
				buf_append(out, " ", 1);
			continue;
		}
		buf_append(out, p, 1);
	}
	while (out->len > 0 && out->data[out->len - 1] == ' ')
		buf_truncate(out, out->len - 1);
	buf_puts(out, "");   /* data non-NULL even when empty */
}

/* On the loop: the verdict by inbound.dmarc_reject, the stored message, the callback. */
static void job_done(evutil_socket_t fd, short what, void *arg)
{
	struct msgauth_job *job = arg;
	struct msgauth_verdict v = { 0 };
	struct buf field = BUF_INIT, ar = BUF_INIT;
	struct msgauth_job *next;

	(void)fd;
	(void)what;
	running--;
	if ((next = queue_head) != NULL) {
		queue_head = next->next;
		if (queue_head == NULL)
			queue_tail = NULL;
		job_start(next);
	}
	if (job->res.action == MSGAUTH_REJECT && strcmp(job->policy, "reject") == 0)
		v.reject = 1;
	else if (job->res.action == MSGAUTH_QUARANTINE ||
		 (job->res.action == MSGAUTH_REJECT && strcmp(job->policy, "quarantine") == 0))
		v.junk = strcmp(job->policy, "none") != 0;
	{
		/* Received-SPF (RFC 7208 9.1) beside our Authentication-Results */
		struct msgauth_request req = { .authserv_id = job->authserv_id, .peer_ip = job->peer_ip,
					       .helo = job->helo, .mail_from = job->mail_from };
		msgauth_received_spf(&req, &job->res, &field);
	}
	msgauth_ar_field(job->authserv_id, &job->res, &ar);
	buf_append(&field, ar.data, ar.len);
	msgauth_rewrite(job->msg, job->len, job->authserv_id, field.data, &job->out);
	buf_printf(&job->summary, "spf=%s dkim=%s dmarc=%s arc=%s%s%s", job->res.spf,
		   job->res.ndkim > 0 ? job->res.dkim[0].result : "none", job->res.dmarc, job->res.arc,
		   job->res.dmarc_override ? " (DMARC failure accepted: trusted ARC sealers)" : "",
		   v.reject ? " (rejected)" : v.junk ? " (quarantined)" : "");
	v.data = job->out.data;
	v.len = job->out.len;
	v.summary = job->summary.data;
	one_line_results(ar.data, &job->results);
	v.results = job->results.data;
	v.arc = job->res.arc;
	buf_free(&field);
	buf_free(&ar);
	job->cb(job->ctx, &v);
	job_free(job);
}

static void job_start(struct msgauth_job *job)
{
	pthread_attr_t attr;
	pthread_t th;

	running++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, worker, job) != 0) {
		log_error("msgauth: cannot start a worker thread");
		memset(&job->res, 0, sizeof job->res);
		snprintf(job->res.spf, sizeof job->res.spf, "temperror");
		snprintf(job->res.dmarc, sizeof job->res.dmarc, "temperror");
		snprintf(job->res.arc, sizeof job->res.arc, "none");
		event_active(job->done, EV_TIMEOUT, 0);
	}
	pthread_attr_destroy(&attr);
}

void msgauth_node_check(struct event_base *base, const struct evm_config *cfg, const char *authserv_id,
			const char *peer_ip, const char *helo, const char *mail_from, const char *msg,
			size_t len, msgauth_node_cb *cb, void *ctx)
{
	struct msgauth_job *job = xcalloc(1, sizeof *job);

	job->done = event_new(base, -1, 0, job_done, job);
	job->resolver = node_resolver != NULL ? msgauth_resolver_ref(node_resolver) : NULL;
	job->policy = xstrdup(cfg->inbound_dmarc_reject);
	job->arc_trusted = xstrdup(cfg->inbound_arc_trusted_sealers != NULL ? cfg->inbound_arc_trusted_sealers : "");
	job->authserv_id = xstrdup(authserv_id);
	job->peer_ip = xstrdup(peer_ip);
	job->helo = xstrdup(helo != NULL ? helo : "");
	job->mail_from = xstrdup(mail_from);
	job->msg = msg;
	job->len = len;
	job->cb = cb;
	job->ctx = ctx;
	if (running < MSGAUTH_CONCURRENT) {
		job_start(job);
	} else if (queue_tail != NULL) {
		queue_tail->next = job;
		queue_tail = job;
	} else {
		queue_head = queue_tail = job;
	}
}

int msgauth_node_start(const struct evm_config *cfg, const char **error_r)
{
	struct msgauth_resolver *r = NULL;

	if (msgauth_init(MSGAUTH_PUBLIC_SUFFIX, error_r) < 0 ||
	    msgauth_resolver_new(cfg->dns_resolvers, cfg->dns_trust_anchor_file, &r, error_r) < 0)
		return -1;
	msgauth_node_stop();
	node_resolver = r;
	return 0;
}

void msgauth_node_stop(void)
{
	if (node_resolver == NULL)
		return;
	msgauth_resolver_stop(node_resolver);
	msgauth_resolver_unref(&node_resolver);
}

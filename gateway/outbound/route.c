/* route - where a message to a domain goes (see route.h): the resolver,
 * relay and transport routes, the MX answer, and finishing a job. */
#include "gateway/outbound/route_private.h"
#include "gateway/outbound/route_parse.h"
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static char route_error[300];

void route_job_fail(struct route_job *job, enum route_status status, const char *fmt, ...)
{
	va_list ap;

	if (job->status != ROUTE_OK)
		return;
	job->status = status;
	va_start(ap, fmt);
	vsnprintf(job->error, sizeof job->error, fmt, ap);
	va_end(ap);
}

void route_job_done_one(struct route_job *job)
{
	if (--job->pending == 0)
		event_active(job->finish, EV_TIMEOUT, 0);
}

static void job_unlink(struct route_job *job)
{
	if (job->prev != NULL)
		job->prev->next = job->next;
	else
		job->rr->jobs = job->next;
	if (job->next != NULL)
		job->next->prev = job->prev;
	job->prev = job->next = NULL;
}

static void job_free(struct route_job *job)
{
	if (job->fetch != NULL)
		mta_sts_fetch_cancel(job->fetch);
	event_free(job->finish);
	free(job);
}

/* "dane", "mta-sts enforce", ... for reports. */
static void describe_policy(struct route *r)
{
	int dane = 0;

	for (unsigned i = 0; i < r->nhosts; i++)
		dane |= r->hosts[i].tls == ROUTE_TLS_DANE;
	snprintf(r->policy, sizeof r->policy, "%s%s%s", dane ? "dane" : "",
		 dane && (r->sts_enforce || r->sts_testing) ? ", " : "",
		 r->sts_enforce ? "mta-sts enforce" : r->sts_testing ? "mta-sts testing" : "");
	if (r->policy[0] == '\0' && (r->kind == ROUTE_RELAY || r->kind == ROUTE_TRANSPORT) && r->nhosts > 0)
		snprintf(r->policy, sizeof r->policy, "relay_tls %s", route_tls_name(r->hosts[0].tls));
	else if (r->policy[0] == '\0')
		snprintf(r->policy, sizeof r->policy, "none");
}

/* The first host error, bogus ones first (the queue shows it to admins). */
static const char *host_error(const struct route_job *job)
{
	for (unsigned i = 0; i < job->r.nhosts; i++) {
		if (strstr(job->r.hosts[i].error, "dnssec") != NULL)
			return job->r.hosts[i].error;
	}
	for (unsigned i = 0; i < job->r.nhosts; i++) {
		if (job->r.hosts[i].error[0] != '\0')
			return job->r.hosts[i].error;
	}
	return "no address";
}

/* Every answer is in: settle hosts and policy, then report (loop). */
static void finish(evutil_socket_t fd, short what, void *arg)
{
	struct route_job *job = arg;
	struct route *r = &job->r;
	unsigned usable = 0;

	if (job->status == ROUTE_OK) {
		route_hosts_settle(job);
		if (route_sts_apply(job) < 0)
			route_job_fail(job, ROUTE_TEMPFAIL, "4.7.5 mta-sts: no MX host of %s matches its enforced policy",
				       r->domain);
	}
	for (unsigned i = 0; i < r->nhosts; i++)
		usable += r->hosts[i].naddrs > 0;
	if (job->status == ROUTE_OK && usable == 0) {
		if (r->kind == ROUTE_IMPLICIT_MX && job->hs[0].nodata == 2)
			route_job_fail(job, ROUTE_PERMFAIL, "5.1.2 %s has no MX and no address record", r->domain);
		else
			route_job_fail(job, ROUTE_TEMPFAIL, "4.4.3 no usable host for %s: %s", r->domain,
				       host_error(job));
	}
	describe_policy(r);
	job_unlink(job);
	job->cb(job->ctx, job->status, r, job->status == ROUTE_OK ? NULL : job->error);
	job_free(job);
}

/* The MX answer (RFC 5321 5.1, RFC 7505). */
static void mx_answered(void *arg, const struct dns_result *res)
{
	struct route_q *q = arg;
	struct route_job *job = q->job;
	struct route *r = &job->r;
	struct route_mx mx[64];
	size_t n = 0, nnull = 0;

	if (res->bogus) {
		route_job_fail(job, ROUTE_TEMPFAIL, "4.4.3 dnssec: bogus MX for %s: %s", r->domain, res->why);
	} else if (res->rcode == DNS_R_NXDOMAIN) {
		route_job_fail(job, ROUTE_PERMFAIL, "5.1.2 %s does not exist (NXDOMAIN)", r->domain);
	} else if (res->rcode != DNS_R_NOERROR) {
		route_job_fail(job, ROUTE_TEMPFAIL, "4.4.3 MX lookup for %s failed: %s%s%s", r->domain,
			       res->timeout ? "timeout" : res->rcode == DNS_R_SERVFAIL ? "SERVFAIL" : "error",
			       res->why[0] ? ": " : "", res->why);
	} else {
		r->mx_secure = res->secure;
		for (size_t i = 0; i < res->n && n < sizeof mx / sizeof mx[0]; i++) {
			if (!route_mx_parse(res->rdata[i], (size_t)res->rdlen[i], &mx[n]))
				continue;
			if (mx[n].name[0] == '\0')
				nnull++;        /* "0 ." (RFC 7505 3) */
			else
				n++;
		}
		if (n == 0 && nnull > 0) {
			route_job_fail(job, ROUTE_PERMFAIL, "5.1.10 null MX: %s accepts no mail", r->domain);
		} else if (n == 0 && res->n > 0) {
			route_job_fail(job, ROUTE_TEMPFAIL, "4.4.3 MX records of %s are malformed", r->domain);
		} else if (n == 0) {
			r->kind = ROUTE_IMPLICIT_MX;     /* RFC 5321 5.1: the domain itself */
			snprintf(r->hosts[0].name, sizeof r->hosts[0].name, "%s", r->domain);
			r->nhosts = 1;
		} else {
			n = route_mx_order(mx, n, &job->rr->seed);
			for (size_t i = 0; i < n && i < ROUTE_MAX_HOSTS; i++) {
				snprintf(r->hosts[i].name, sizeof r->hosts[i].name, "%s", mx[i].name);
				r->hosts[i].preference = mx[i].pref;
			}
			r->nhosts = n < ROUTE_MAX_HOSTS ? (unsigned)n : ROUTE_MAX_HOSTS;
		}
		for (unsigned i = 0; i < r->nhosts && job->status == ROUTE_OK; i++) {
			r->hosts[i].port = (uint16_t)job->rr->cfg->delivery_smtp_port;
			r->hosts[i].tls = ROUTE_TLS_MAY;
			route_host_lookup(job, (int)i);
		}
	}
	route_job_done_one(job);
}

/* A relay or a transport route: one host taken literally (no MX). */
static void route_literal(struct route_job *job, const char *target, enum route_kind kind)
{
	struct route_host *h = &job->r.hosts[0];
	const char *error = NULL;

	job->r.kind = kind;
	if (route_target_parse(target, (uint16_t)job->rr->cfg->delivery_smtp_port, h->name, &h->port,
			       &error) < 0) {
		route_job_fail(job, ROUTE_TEMPFAIL, "4.3.5 %s %s: %s",
			       kind == ROUTE_RELAY ? "delivery.relay" : "delivery.routes", target, error);
		return;
	}
	job->r.nhosts = 1;
	h->tls = job->rr->relay_tls;
	if (h->tls == ROUTE_TLS_VERIFY || h->tls == ROUTE_TLS_ENCRYPT)
		snprintf(h->verify_name, sizeof h->verify_name, "%s", h->name);
	h->auth = kind == ROUTE_RELAY && job->rr->cfg->delivery_relay_user[0] != '\0';
	route_host_lookup(job, 0);
}

void route_resolve(struct route_resolver *rr, const char *domain, route_cb *cb, void *ctx)
{
	struct route_job *job = xcalloc(1, sizeof *job);
	char target[2 * ROUTE_NAME_MAX + 8];
	const char *error = NULL;
	int found;

	job->rr = rr;
	job->cb = cb;
	job->ctx = ctx;
	job->finish = event_new(rr->base, -1, 0, finish, job);
	job->next = rr->jobs;
	if (rr->jobs != NULL)
		rr->jobs->prev = job;
	rr->jobs = job;
	job->pending = 1;            /* this call; released below */
	if (!route_domain_normalize(domain, job->r.domain)) {
		snprintf(job->r.domain, sizeof job->r.domain, "%.*s", ROUTE_NAME_MAX, domain);
		route_job_fail(job, ROUTE_PERMFAIL, "5.1.2 bad destination domain: %s", job->r.domain);
	} else if ((found = route_transport_find(rr->cfg->delivery_routes, job->r.domain, target,
						 sizeof target, &error)) != 0) {
		if (found < 0)
			route_job_fail(job, ROUTE_TEMPFAIL, "4.3.5 %s", error);
		else
			route_literal(job, target, ROUTE_TRANSPORT);
	} else if (rr->cfg->delivery_relay[0] != '\0') {
		route_literal(job, rr->cfg->delivery_relay, ROUTE_RELAY);
	} else {
		job->r.kind = ROUTE_MX;
		job->qmx = (struct route_q){ job, -1, DNS_T_MX };
		job->pending++;
		dns_resolve(rr->dns, job->r.domain, DNS_T_MX, mx_answered, &job->qmx);
		if (rr->cfg->delivery_mta_sts)
			route_sts_start(job);
	}
	route_job_done_one(job);
}

int route_resolver_create(struct event_base *base, const struct evm_config *cfg,
			  struct route_resolver **rr_r, const char **error_r)
{
	struct route_resolver *rr;
	enum route_tls tls;
	char target[16];
	uint16_t port;
	char host[ROUTE_NAME_MAX + 1];

	if (route_tls_parse(cfg->delivery_relay_tls, &tls) < 0) {
		snprintf(route_error, sizeof route_error, "delivery.relay_tls: %s is not none, may, encrypt or verify",
			 cfg->delivery_relay_tls);
		*error_r = route_error;
		return -1;
	}
	if (route_transport_find(cfg->delivery_routes, "", target, sizeof target, error_r) < 0)
		return -1;
	if (cfg->delivery_relay[0] != '\0' && route_target_parse(cfg->delivery_relay, 25, host, &port, error_r) < 0) {
		snprintf(route_error, sizeof route_error, "delivery.relay: %s: %s", cfg->delivery_relay, *error_r);
		*error_r = route_error;
		return -1;
	}
	rr = xcalloc(1, sizeof *rr);
	if (dns_create(base, cfg->dns_resolvers, cfg->dns_trust_anchor_file, &rr->dns, error_r) < 0) {
		free(rr);
		return -1;
	}
	rr->base = base;
	rr->cfg = cfg;
	rr->relay_tls = tls;
	if (getrandom(&rr->seed, sizeof rr->seed, 0) != sizeof rr->seed || rr->seed == 0)
		rr->seed = 0x2545f491u;
	*rr_r = rr;
	return 0;
}

void route_resolver_free(struct route_resolver **rrp)
{
	struct route_resolver *rr = *rrp;

	if (rr == NULL)
		return;
	*rrp = NULL;
	dns_free(&rr->dns);          /* no DNS callback runs after this */
	while (rr->jobs != NULL) {
		struct route_job *job = rr->jobs;

		job_unlink(job);
		job->cb(job->ctx, ROUTE_TEMPFAIL, &job->r, "4.4.3 resolver closed");
		job_free(job);
	}
	route_sts_cache_free(rr);
	free(rr);
}

/* route_sts - MTA-STS for a route (RFC 8461): the _mta-sts TXT record, the
 * policy cache, the fetch, and applying a policy to the MX hosts. */
#include "gateway/outbound/route_private.h"
#include "gateway/outbound/route_parse.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The unexpired cached policy of domain, or NULL (expired ones dropped). */
static struct sts_cache_entry *cache_find(struct route_resolver *rr, const char *domain)
{
	time_t now = time(NULL);

	for (struct sts_cache_entry **pe = &rr->sts_cache; *pe != NULL;) {
		struct sts_cache_entry *e = *pe;

		if (e->expires < now) {
			*pe = e->next;
			free(e);
			rr->sts_cached--;
			continue;
		}
		if (strcmp(e->domain, domain) == 0)
			return e;
		pe = &e->next;
	}
	return NULL;
}

/* Caches a fetched policy for its max_age (RFC 8461 5.1), replacing the
 * domain's previous one; when full, the entry expiring first goes. */
static void cache_store(struct route_resolver *rr, const char *domain, const char *id,
			const struct mta_sts_policy *p)
{
	struct sts_cache_entry *e = cache_find(rr, domain);

	if (e == NULL) {
		if (rr->sts_cached >= ROUTE_STS_CACHE_MAX) {
			struct sts_cache_entry **oldest = &rr->sts_cache, *victim;

			for (struct sts_cache_entry **pe = &rr->sts_cache; *pe != NULL; pe = &(*pe)->next) {
				if ((*pe)->expires < (*oldest)->expires)
					oldest = pe;
			}
			victim = *oldest;
			*oldest = victim->next;
			free(victim);
			rr->sts_cached--;
		}
		e = xcalloc(1, sizeof *e);
		snprintf(e->domain, sizeof e->domain, "%s", domain);
		e->next = rr->sts_cache;
		rr->sts_cache = e;
		rr->sts_cached++;
	}
	snprintf(e->id, sizeof e->id, "%s", id);
	e->policy = *p;
	e->expires = time(NULL) + (time_t)p->max_age;
}

void route_sts_cache_free(struct route_resolver *rr)
{
	while (rr->sts_cache != NULL) {
		struct sts_cache_entry *e = rr->sts_cache;

		rr->sts_cache = e->next;
		free(e);
	}
	rr->sts_cached = 0;
}

static void use_policy(struct route_job *job, const struct mta_sts_policy *p)
{
	job->policy = *p;
	job->have_policy = 1;
}

/* No fresh policy: keep a cached unexpired one (RFC 8461 5.1). */
static void fall_back(struct route_job *job, const char *why)
{
	struct sts_cache_entry *e = cache_find(job->rr, job->r.domain);

	if (e != NULL) {
		use_policy(job, &e->policy);
		snprintf(job->sts_note, sizeof job->sts_note, "%s; cached policy id %s kept", why, e->id);
	} else {
		snprintf(job->sts_note, sizeof job->sts_note, "%s", why);
	}
}

static void fetched(void *arg, const struct mta_sts_policy *p, const char *error)
{
	struct route_job *job = arg;
	char why[300];

	job->fetch = NULL;
	if (p != NULL) {
		cache_store(job->rr, job->r.domain, job->sts_id, p);
		use_policy(job, p);
	} else {
		snprintf(why, sizeof why, "mta-sts: policy fetch failed: %s", error);
		log_warn("route %s: %s", job->r.domain, why);
		fall_back(job, why);
	}
	route_job_done_one(job);
}

/* An address of mta-sts.<domain>; the fetch starts when both are in. */
static void host_answered(void *arg, const struct dns_result *res)
{
	struct route_q *q = arg;
	struct route_job *job = q->job;
	const char *addrs[2 * ROUTE_MAX_ADDRS];
	char why[300];

	if (!res->bogus && res->rcode == DNS_R_NOERROR) {
		for (size_t i = 0; i < res->n && job->sts_naddrs < 2 * ROUTE_MAX_ADDRS; i++) {
			if (route_addr_text(q->rrtype, res->rdata[i], (size_t)res->rdlen[i],
					    job->sts_addrs[job->sts_naddrs]))
				job->sts_naddrs++;
		}
	}
	if (++job->sts_answered == 2) {
		if (job->sts_naddrs == 0) {
			snprintf(why, sizeof why, "mta-sts: mta-sts.%s has no usable address", job->r.domain);
			log_warn("route %s: %s", job->r.domain, why);
			fall_back(job, why);
		} else {
			for (unsigned i = 0; i < job->sts_naddrs; i++)
				addrs[i] = job->sts_addrs[i];
			job->pending++;
			job->fetch = mta_sts_fetch_start(job->rr->base, job->r.domain,
							 (int)job->rr->cfg->delivery_mta_sts_port, addrs,
							 job->sts_naddrs, job->rr->cfg->delivery_tls_ca_file,
							 fetched, job);
		}
	}
	route_job_done_one(job);
}

/* The STS record among the TXT records (RFC 8461 3.1): exactly one, valid. */
static int txt_id(const struct dns_result *res, char id[33])
{
	int count = 0, ok = 0;

	for (size_t i = 0; i < res->n; i++) {
		const unsigned char *d = res->rdata[i];
		size_t len = (size_t)res->rdlen[i], o = 0;
		struct buf text = BUF_INIT;
		char one[33];
		int r;

		while (o < len) {                 /* character-strings, concatenated */
			size_t l = d[o++];

			if (o + l > len)
				break;
			buf_append(&text, d + o, l);
			o += l;
		}
		r = mta_sts_txt_parse(text.data ? text.data : "", text.len, one);
		buf_free(&text);
		if (r != 0) {
			count++;
			ok = r == 1;
			if (ok)
				memcpy(id, one, sizeof one);
		}
	}
	return count == 1 && ok;
}

static void txt_answered(void *arg, const struct dns_result *res)
{
	struct route_q *q = arg;
	struct route_job *job = q->job;
	struct sts_cache_entry *e;
	char why[200];

	job->sts_id[0] = '\0';
	if (res->bogus || res->rcode != DNS_R_NOERROR || !txt_id(res, job->sts_id)) {
		snprintf(why, sizeof why, "mta-sts: %s",
			 res->bogus ? "bogus TXT record" : res->rcode == DNS_R_NOERROR || res->rcode == DNS_R_NXDOMAIN
			 ? "no valid _mta-sts TXT record" : "TXT lookup failed");
		job->sts_id[0] = '\0';
		fall_back(job, why);
	} else if ((e = cache_find(job->rr, job->r.domain)) != NULL && strcmp(e->id, job->sts_id) == 0) {
		use_policy(job, &e->policy);
	} else {
		/* New or changed id, or nothing cached: fetch (RFC 8461 5.1). */
		snprintf(why, sizeof why, "mta-sts.%s", job->r.domain);
		job->qsts_a = (struct route_q){ job, -1, DNS_T_A };
		job->qsts_aaaa = (struct route_q){ job, -1, DNS_T_AAAA };
		job->pending += 2;
		dns_resolve(job->rr->dns, why, DNS_T_AAAA, host_answered, &job->qsts_aaaa);
		dns_resolve(job->rr->dns, why, DNS_T_A, host_answered, &job->qsts_a);
	}
	route_job_done_one(job);
}

void route_sts_start(struct route_job *job)
{
	char name[ROUTE_NAME_MAX + 16];

	snprintf(name, sizeof name, "_mta-sts.%s", job->r.domain);
	job->qtxt = (struct route_q){ job, -1, DNS_T_TXT };
	job->pending++;
	dns_resolve(job->rr->dns, name, DNS_T_TXT, txt_answered, &job->qtxt);
}

static int host_matches(const struct mta_sts_policy *p, const char *host)
{
	for (unsigned i = 0; i < p->nmx; i++) {
		if (mta_sts_mx_match(p->mx[i], host))
			return 1;
	}
	return 0;
}

int route_sts_apply(struct route_job *job)
{
	struct route *r = &job->r;
	const struct mta_sts_policy *p = &job->policy;
	unsigned kept = 0;

	if (!job->have_policy || p->mode == MTA_STS_MODE_NONE ||
	    (r->kind != ROUTE_MX && r->kind != ROUTE_IMPLICIT_MX))
		return 0;
	if (p->mode == MTA_STS_MODE_TESTING) {
		r->sts_testing = 1;
		return 0;
	}
	r->sts_enforce = 1;
	/* RFC 8461 4.1/5: only matching MX hosts, with a verified certificate;
	 * DANE wins for a host that has both (RFC 8461 2). */
	for (unsigned i = 0; i < r->nhosts; i++) {
		struct route_host *h = &r->hosts[i];

		if (!host_matches(p, h->name))
			continue;
		if (h->tls != ROUTE_TLS_DANE) {
			h->tls = ROUTE_TLS_VERIFY;
			memcpy(h->verify_name, h->name, sizeof h->verify_name);
		}
		if (kept != i)
			r->hosts[kept] = *h;
		kept++;
	}
	r->nhosts = kept;
	return kept > 0 ? 0 : -1;
}

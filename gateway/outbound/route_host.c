/* route_host - the addresses of each host of a route (A and AAAA) and,
 * when DANE applies, its TLSA records (RFC 7672 2.2). */
#include "gateway/outbound/route_private.h"
#include "gateway/outbound/route_parse.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* snprintf into a field of the job from other fields of it (through a
 * local buffer: the arguments live in the same object). */
static void set_text(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_text(char *dst, size_t size, const char *fmt, ...)
{
	char tmp[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	snprintf(dst, size, "%s", tmp);
}

static const char *type_name(int rrtype)
{
	return rrtype == DNS_T_A ? "A" : rrtype == DNS_T_AAAA ? "AAAA" : "TLSA";
}

/* The TLSA answer for _<port>._tcp.<host> (RFC 7672 2.2). */
static void tlsa_answered(void *arg, const struct dns_result *res)
{
	struct route_q *q = arg;
	struct route_job *job = q->job;
	struct route_host *h = &job->r.hosts[q->host];
	struct route_host_state *hs = &job->hs[q->host];
	unsigned unusable = 0;

	if (res->bogus) {
		set_text(h->error, sizeof h->error, "dnssec: bogus TLSA for _%u._tcp.%s: %s", h->port, h->name, res->why);
		hs->bogus = 1;
	} else if (res->rcode != DNS_R_NOERROR && res->rcode != DNS_R_NXDOMAIN) {
		/* A secure zone that cannot answer: the host is skipped (RFC 7672 2.2). */
		set_text(h->error, sizeof h->error, "TLSA lookup for _%u._tcp.%s failed: %s", h->port, h->name,
			 res->timeout ? "timeout" : res->why[0] ? res->why : "SERVFAIL");
		hs->bogus = 1;
	} else if (res->secure && res->n > 0) {
		for (size_t i = 0; i < res->n; i++) {
			if (h->ntlsa < ROUTE_MAX_TLSA &&
			    route_tlsa_parse(res->rdata[i], (size_t)res->rdlen[i], &h->tlsa[h->ntlsa]) == 1)
				h->ntlsa++;
			else
				unusable++;
		}
		/* Only unusable records: TLS without authentication (RFC 7672 2.2). */
		h->tls = h->ntlsa > 0 ? ROUTE_TLS_DANE : ROUTE_TLS_ENCRYPT;
		set_text(h->verify_name, sizeof h->verify_name, "%s", h->name);
	}
	route_job_done_one(job);
}

static void start_tlsa(struct route_job *job, int i)
{
	struct route_host_state *hs = &job->hs[i];
	char name[ROUTE_NAME_MAX + 32];

	snprintf(name, sizeof name, "_%u._tcp.%s", job->r.hosts[i].port, job->r.hosts[i].name);
	hs->qtlsa = (struct route_q){ job, i, DNS_T_TLSA };
	job->pending++;
	dns_resolve(job->rr->dns, name, DNS_T_TLSA, tlsa_answered, &hs->qtlsa);
}

/* A or AAAA of one host. */
static void addr_answered(void *arg, const struct dns_result *res)
{
	struct route_q *q = arg;
	struct route_job *job = q->job;
	struct route_host *h = &job->r.hosts[q->host];
	struct route_host_state *hs = &job->hs[q->host];
	int v6 = q->rrtype == DNS_T_AAAA;
	unsigned *n = v6 ? &hs->naaaa : &hs->na;

	if (res->bogus) {
		hs->bogus = 1;
		if (hs->why[0] == '\0')
			set_text(hs->why, sizeof hs->why, "dnssec: bogus %s for %s: %s", type_name(q->rrtype),
				 h->name, res->why);
	} else if (res->rcode == DNS_R_NOERROR || res->rcode == DNS_R_NXDOMAIN) {
		if (res->n == 0)
			hs->nodata++;
		else if (!res->secure)
			hs->insecure = 1;
		for (size_t i = 0; i < res->n && *n < ROUTE_MAX_ADDRS; i++) {
			if (route_addr_text(q->rrtype, res->rdata[i], (size_t)res->rdlen[i],
					    v6 ? hs->aaaa[*n] : hs->a[*n]))
				(*n)++;
		}
		if (res->n == 0 && hs->why[0] == '\0' && res->rcode == DNS_R_NXDOMAIN)
			set_text(hs->why, sizeof hs->why, "%s does not exist (NXDOMAIN)", h->name);
	} else if (hs->why[0] == '\0') {
		set_text(hs->why, sizeof hs->why, "%s lookup for %s failed: %s", type_name(q->rrtype), h->name,
			 res->timeout ? "timeout" : res->why[0] ? res->why : "SERVFAIL");
	}
	if (++hs->answered == 2 && !hs->bogus && hs->na + hs->naaaa > 0 && !hs->insecure &&
	    job->r.mx_secure && job->rr->cfg->delivery_dane &&
	    (job->r.kind == ROUTE_MX || job->r.kind == ROUTE_IMPLICIT_MX))
		start_tlsa(job, q->host);
	route_job_done_one(job);
}

void route_host_lookup(struct route_job *job, int i)
{
	struct route_host *h = &job->r.hosts[i];
	struct route_host_state *hs = &job->hs[i];
	unsigned char bin[16];

	if (inet_pton(AF_INET, h->name, bin) == 1) {
		set_text(hs->a[0], sizeof hs->a[0], "%s", h->name);
		hs->na = 1;
		hs->answered = 2;
		return;
	}
	if (inet_pton(AF_INET6, h->name, bin) == 1) {
		set_text(hs->aaaa[0], sizeof hs->aaaa[0], "%s", h->name);
		hs->naaaa = 1;
		hs->answered = 2;
		return;
	}
	hs->qa = (struct route_q){ job, i, DNS_T_A };
	hs->qaaaa = (struct route_q){ job, i, DNS_T_AAAA };
	job->pending += 2;
	dns_resolve(job->rr->dns, h->name, DNS_T_AAAA, addr_answered, &hs->qaaaa);
	dns_resolve(job->rr->dns, h->name, DNS_T_A, addr_answered, &hs->qa);
}

void route_hosts_settle(struct route_job *job)
{
	for (unsigned i = 0; i < job->r.nhosts; i++) {
		struct route_host *h = &job->r.hosts[i];
		struct route_host_state *hs = &job->hs[i];

		h->naddrs = 0;
		if (hs->bogus) {
			/* Never a fallback to insecure data: the host is skipped. */
			if (h->error[0] == '\0')
				set_text(h->error, sizeof h->error, "%s", hs->why);
			h->ntlsa = 0;
			continue;
		}
		for (unsigned k = 0; k < hs->naaaa && h->naddrs < ROUTE_MAX_ADDRS; k++)
			memcpy(h->addrs[h->naddrs++], hs->aaaa[k], 48);
		for (unsigned k = 0; k < hs->na && h->naddrs < ROUTE_MAX_ADDRS; k++)
			memcpy(h->addrs[h->naddrs++], hs->a[k], 48);
		if (h->naddrs == 0)
			set_text(h->error, sizeof h->error, "%s",
				 hs->why[0] ? hs->why : "no A or AAAA record");
	}
}

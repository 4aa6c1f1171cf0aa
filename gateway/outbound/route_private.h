/* route_private - the state of a route resolution shared by route.c (the
 * resolver, MX, finishing), route_host.c (addresses, TLSA) and route_sts.c
 * (MTA-STS). */
#ifndef EVM_ROUTE_PRIVATE_H
#define EVM_ROUTE_PRIVATE_H

#include "gateway/outbound/route.h"
#include "gateway/outbound/dns.h"
#include "gateway/outbound/mta_sts_fetch.h"
#include "gateway/outbound/mta_sts_policy.h"

#include <time.h>

#define ROUTE_STS_CACHE_MAX 1024

struct route_job;

/* The context of one DNS query: which job, which host, which type. */
struct route_q {
	struct route_job *job;
	int host;                    /* index into r.hosts, or -1 */
	int rrtype;
};

struct route_host_state {
	struct route_q qa, qaaaa, qtlsa;
	char a[ROUTE_MAX_ADDRS][48], aaaa[ROUTE_MAX_ADDRS][48];
	unsigned na, naaaa;
	int answered;                /* address answers received (2 = both) */
	int insecure;                /* an answer with addresses was not secure */
	int bogus;                   /* an address answer was bogus */
	int nodata;                  /* answers that were NXDOMAIN or NODATA */
	char why[200];               /* the first failure */
};

struct sts_cache_entry {
	struct sts_cache_entry *next;
	char domain[ROUTE_NAME_MAX + 1];
	char id[33];
	time_t expires;
	struct mta_sts_policy policy;
};

struct route_resolver {
	struct event_base *base;
	const struct evm_config *cfg;
	struct dns *dns;
	enum route_tls relay_tls;
	uint32_t seed;
	struct route_job *jobs;
	struct sts_cache_entry *sts_cache;
	unsigned sts_cached;
};

struct route_job {
	struct route_job *prev, *next;
	struct route_resolver *rr;
	route_cb *cb;
	void *ctx;
	struct event *finish;
	int pending;                 /* DNS queries and fetches outstanding */
	enum route_status status;    /* set early for a final failure */
	char error[400];
	struct route r;
	struct route_host_state hs[ROUTE_MAX_HOSTS];
	struct route_q qmx, qtxt, qsts_a, qsts_aaaa;
	/* MTA-STS */
	char sts_id[33];             /* the TXT id, "" when none */
	char sts_addrs[2 * ROUTE_MAX_ADDRS][48];
	unsigned sts_naddrs, sts_answered;
	struct mta_sts_fetch *fetch;
	int have_policy;
	struct mta_sts_policy policy;
	char sts_note[300];          /* why no policy applies (for reports) */
};

/* One outstanding operation done: finishes the job when none is left. */
void route_job_done_one(struct route_job *job);
/* Sets a final failure (the first one wins). */
void route_job_fail(struct route_job *job, enum route_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* route_host.c: addresses of r.hosts[i] (and its TLSA when DANE applies). */
void route_host_lookup(struct route_job *job, int i);
/* route_host.c: the final TLS of each host, addresses merged (finish). */
void route_hosts_settle(struct route_job *job);

/* route_sts.c: starts the MTA-STS part (TXT lookup) for job->r.domain. */
void route_sts_start(struct route_job *job);
/* route_sts.c: applies the policy to the hosts; -1 when enforce leaves none. */
int route_sts_apply(struct route_job *job);
void route_sts_cache_free(struct route_resolver *rr);

#endif

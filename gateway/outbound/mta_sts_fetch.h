/* mta_sts_fetch - fetches and parses one MTA-STS policy (RFC 8461 3.3):
 * https://mta-sts.<domain>:<port>/.well-known/mta-sts.txt with libcurl on a
 * worker thread (the blocking call never runs on the loop), connecting to
 * addresses our own resolver found (CURLOPT_RESOLVE: the system resolver is
 * never asked). HTTPS only, the certificate checked against the CA file
 * (or the system's) and the name mta-sts.<domain>, no redirects, status 200
 * only, at most MTA_STS_MAX_BODY octets, MTA_STS_FETCH_TIMEOUT_S in all.
 * The result comes back on the loop through event_active (libevent must be
 * set up for threads: evthread_use_pthreads). */
#ifndef EVM_MTA_STS_FETCH_H
#define EVM_MTA_STS_FETCH_H

#include "gateway/outbound/mta_sts_policy.h"

#include <event2/event.h>

#define MTA_STS_FETCH_TIMEOUT_S 30

/* policy is NULL (and error set) on failure; both valid during the call. */
typedef void mta_sts_fetch_cb(void *ctx, const struct mta_sts_policy *policy, const char *error);

struct mta_sts_fetch;

/* addrs: numeric addresses of mta-sts.<domain> (at least one). cb runs
 * exactly once, later on the loop, unless the fetch is cancelled. */
struct mta_sts_fetch *mta_sts_fetch_start(struct event_base *base, const char *domain, int port,
					  const char *const *addrs, unsigned naddrs, const char *ca_file,
					  mta_sts_fetch_cb *cb, void *ctx);
/* Stops the transfer (within a second), waits for the thread; cb never runs. */
void mta_sts_fetch_cancel(struct mta_sts_fetch *f);

#endif

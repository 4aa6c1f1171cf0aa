/* dns - asynchronous DNS queries through libunbound on a libevent loop.
 *
 * One libunbound context per dns (threaded async mode: ub_ctx_async 1),
 * forwarders from dns.resolvers ("ip[@port]" entries) or /etc/resolv.conf,
 * DNSSEC validation with the trust anchors of a file. The context's file
 * descriptor is watched by an EV_READ|EV_PERSIST event that calls
 * ub_process, so answers arrive as callbacks on the loop thread. A query
 * unanswered within DNS_TIMEOUT_S is answered by a timeout (a temporary
 * failure). Thread: the loop thread of the base given at creation. */
#ifndef EVM_DNS_H
#define EVM_DNS_H

#include <event2/event.h>
#include <stddef.h>

#define DNS_TIMEOUT_S 30

/* RR types used here (RFC 1035, 3596, 6698). */
enum {
	DNS_T_A = 1, DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_TLSA = 52,
};
/* rcodes (RFC 1035 4.1.1). */
enum { DNS_R_NOERROR = 0, DNS_R_SERVFAIL = 2, DNS_R_NXDOMAIN = 3 };

struct dns_result {
	int rcode;                 /* DNS_R_*; SERVFAIL for a timeout or a resolver error */
	int timeout;               /* no answer within DNS_TIMEOUT_S */
	int secure;                /* DNSSEC-validated answer (data or denial) */
	int bogus;                 /* DNSSEC validation failed */
	char why[200];             /* why_bogus, or the resolver's error */
	size_t n;                  /* answer records of the asked type */
	const unsigned char *const *rdata;
	const int *rdlen;
};

/* res is valid during the call only. */
typedef void dns_cb(void *ctx, const struct dns_result *res);

struct dns;

/* resolvers: "" or "ip[@port][,ip[@port]...]"; ta_file: "" or a trust
 * anchor file in zone-file form (ignored when it does not exist). */
int dns_create(struct event_base *base, const char *resolvers, const char *ta_file,
	       struct dns **dns_r, const char **error_r);
/* Asks (name, type IN). cb runs exactly once, later (never inside this
 * call), unless dns is freed first; a query that cannot be sent is answered
 * by a SERVFAIL result with the reason in why. */
void dns_resolve(struct dns *dns, const char *name, int rrtype, dns_cb *cb, void *ctx);
/* Sets up a libunbound context as dns_create does (threaded async mode,
 * forwarders, trust anchor), for a caller with its own context (the
 * inbound checks' worker threads, gateway/msgauth/msgauth_node.c). */
struct ub_ctx;
int dns_ub_configure(struct ub_ctx *ub, const char *resolvers, const char *ta_file, const char **error_r);
/* Cancels every pending query (no callbacks). NULL-safe; sets *dns NULL. */
void dns_free(struct dns **dns);

#endif

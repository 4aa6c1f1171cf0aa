/* route - where a message to a domain goes, and what TLS it demands there.
 *
 * For a destination domain: delivery.routes (transport map) or
 * delivery.relay when configured (taken literally, host:port, no MX lookup,
 * TLS per delivery.relay_tls); else the MX records (RFC 5321 5.1: ascending
 * preference, random order within one preference; no MX -> the domain's
 * own A/AAAA as an implicit MX of preference 0; a null MX "0 ." (RFC 7505)
 * -> permanent failure 5.1.10; NXDOMAIN -> permanent failure 5.1.2), each
 * host's A and AAAA addresses, port delivery.smtp_port.
 *
 * DNS through libunbound (asynchronous, its file descriptor driven by the
 * libevent loop; dns.resolvers forwarders or /etc/resolv.conf; DNSSEC
 * validation with dns.trust_anchor_file). A bogus answer (DNSSEC failure)
 * is a temporary failure whose error says so ("dnssec: bogus MX for
 * example.com: <why>"), never a fallback to insecure data.
 *
 * TLS policy per host, strongest first:
 *  - DANE (RFC 7672), when delivery.dane and the MX answer and the host's
 *    address answers are DNSSEC-secure and _<port>._tcp.<host> has usable
 *    TLSA records (secure): ROUTE_TLS_DANE with those records; a secure
 *    TLSA answer whose records are all unusable -> ROUTE_TLS_ENCRYPT
 *    (RFC 7672 2.2); a bogus TLSA answer -> the host is skipped as a
 *    temporary failure (RFC 7672 2.2.2).
 *  - MTA-STS (RFC 8461), when delivery.mta_sts: TXT _mta-sts.<domain>
 *    "v=STSv1; id=..."; policy https://mta-sts.<domain>:<mta_sts_port>
 *    /.well-known/mta-sts.txt fetched with libcurl (CA delivery.tls_ca_file),
 *    cached in memory for max_age and refetched when the TXT id changes.
 *    mode enforce: MX hosts not matching an "mx:" pattern are dropped
 *    (none left -> temporary failure) and the rest get ROUTE_TLS_VERIFY
 *    with verify_name = the MX host; mode testing: ROUTE_TLS_MAY, and
 *    route.sts_testing = 1; mode none or no policy: nothing.
 *    DANE wins over MTA-STS for a host that has both (RFC 8461 2).
 *  - otherwise ROUTE_TLS_MAY (opportunistic STARTTLS, no verification).
 *
 * Thread: everything on the loop thread of the base given at creation. */
#ifndef EVM_ROUTE_H
#define EVM_ROUTE_H

#include <event2/event.h>
#include <stdint.h>

#include "common/config.h"

#define ROUTE_MAX_HOSTS 16
#define ROUTE_MAX_ADDRS 8
#define ROUTE_MAX_TLSA 16
#define ROUTE_NAME_MAX 255

enum route_tls {
	ROUTE_TLS_NONE,      /* never STARTTLS (relay_tls = none) */
	ROUTE_TLS_MAY,       /* STARTTLS when offered; any certificate; clear text if not */
	ROUTE_TLS_ENCRYPT,   /* STARTTLS required; certificate not checked */
	ROUTE_TLS_VERIFY,    /* STARTTLS required; PKIX chain + verify_name */
	ROUTE_TLS_DANE,      /* STARTTLS required; verified against tlsa[] */
};

struct route_tlsa {
	uint8_t usage, selector, mtype;
	uint8_t data[64];            /* SHA-512 at most; full-key (mtype 0) records are skipped */
	uint8_t len;
};

struct route_host {
	char name[ROUTE_NAME_MAX + 1];          /* MX or relay host name (no trailing dot) */
	char addrs[ROUTE_MAX_ADDRS][48];        /* numeric IPv4/IPv6, AAAA first as RFC 6724 would */
	unsigned naddrs;
	uint16_t port;
	uint16_t preference;
	enum route_tls tls;
	char verify_name[ROUTE_NAME_MAX + 1];   /* VERIFY: name the certificate must match */
	struct route_tlsa tlsa[ROUTE_MAX_TLSA];
	unsigned ntlsa;
	int auth;                               /* relay: AUTH with relay_user/password */
	char error[200];                        /* why this host has no address (for reports) */
};

enum route_kind { ROUTE_MX, ROUTE_IMPLICIT_MX, ROUTE_RELAY, ROUTE_TRANSPORT };

struct route {
	char domain[ROUTE_NAME_MAX + 1];
	enum route_kind kind;
	struct route_host hosts[ROUTE_MAX_HOSTS];   /* in the order to try */
	unsigned nhosts;
	int mx_secure;           /* the MX answer was DNSSEC-secure */
	int sts_enforce;         /* an MTA-STS policy in mode enforce applies */
	int sts_testing;         /* an MTA-STS policy in mode testing applies */
	char policy[64];         /* for reports: "dane", "mta-sts enforce", "none", ... */
};

enum route_status {
	ROUTE_OK = 0,
	ROUTE_TEMPFAIL = -1,     /* try again later: DNS timeout/SERVFAIL, bogus, no usable host */
	ROUTE_PERMFAIL = -2,     /* bounce: NXDOMAIN, null MX */
};

struct route_resolver;

/* r is valid during the call only. error (enhanced code first, e.g.
 * "5.1.10 null MX: example.com accepts no mail") is set unless ROUTE_OK. */
typedef void route_cb(void *ctx, enum route_status status, const struct route *r, const char *error);

int route_resolver_create(struct event_base *base, const struct evm_config *cfg,
			  struct route_resolver **rr_r, const char **error_r);
/* Resolves domain (ASCII or U-label? A-labels only: the caller converts).
 * cb runs exactly once, later, on the loop; never inside this call. */
void route_resolve(struct route_resolver *rr, const char *domain, route_cb *cb, void *ctx);
/* Pending callbacks get ROUTE_TEMPFAIL "resolver closed". Sets *rr NULL. */
void route_resolver_free(struct route_resolver **rr);

#endif

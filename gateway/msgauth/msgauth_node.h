/* msgauth_node - inbound sender authentication for the node's SMTP
 * listener: msgauth_check on a short-lived worker thread (at most
 * MSGAUTH_CONCURRENT at once, the rest wait in a FIFO on the loop thread),
 * its DNS through one libunbound context shared by the workers
 * (msgauth_resolver.h), configured like the delivery resolver
 * (dns.resolvers, dns.trust_anchor_file) by msgauth_node_start, each query
 * bounded by MSGAUTH_QUERY_TIMEOUT_S and the whole check by
 * MSGAUTH_DEADLINE_S; after that every lookup is a temporary failure, so a
 * dead resolver costs at most the deadline and never a rejection.
 * Results come back to the loop through event_active (libevent set up for
 * threads by main). */
#ifndef EVM_MSGAUTH_NODE_H
#define EVM_MSGAUTH_NODE_H

#include <event2/event.h>
#include <stddef.h>

#include "common/config.h"
#include "gateway/msgauth/msgauth.h"

#define MSGAUTH_CONCURRENT 8
#define MSGAUTH_QUERY_TIMEOUT_S 10
#define MSGAUTH_DEADLINE_S 30
#define MSGAUTH_PUBLIC_SUFFIX "/usr/share/publicsuffix/public_suffix_list.dat"

/* The outcome for one message: reject (550 5.7.1), junk (into \Junk), and
 * the message to store (our Authentication-Results first, forged copies of
 * it removed); data is valid during the callback only. */
struct msgauth_verdict {
	int reject;
	int junk;
	const char *data;
	size_t len;
	const char *summary;   /* "spf=pass dkim=pass dmarc=pass arc=none" for the log */
	const char *results;   /* the field's results on one line, without the
				* authserv-id ("spf=pass smtp.mailfrom=d; dkim=..."):
				* the ARC-Authentication-Results of a forward */
	const char *arc;       /* the incoming ARC chain: "pass", "fail" or "none" */
};

typedef void msgauth_node_cb(void *ctx, const struct msgauth_verdict *v);

/* Before the first check (the SMTP listener's start, before the privilege
 * drop): msgauth_init and the shared resolver; again replaces it. -1 with
 * *error_r. Loop thread. */
int msgauth_node_start(const struct evm_config *cfg, const char **error_r);
/* At the listener's stop: checks still running get temporary failures at
 * once; the context goes with the last of them. Loop thread; NULL-safe
 * (nothing started: nothing done). Checks asked after it get temperror. */
void msgauth_node_stop(void);

/* Checks msg (borrowed: it must stay valid until cb) received from peer_ip
 * after helo with mail_from; cfg gives the resolver, the policy
 * (inbound.dmarc_reject) and authserv_id. cb runs exactly once, later, on
 * base's loop, never inside this call. */
void msgauth_node_check(struct event_base *base, const struct evm_config *cfg, const char *authserv_id,
			const char *peer_ip, const char *helo, const char *mail_from, const char *msg,
			size_t len, msgauth_node_cb *cb, void *ctx);

#endif

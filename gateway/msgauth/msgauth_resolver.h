/* msgauth_resolver - one libunbound context shared by the inbound checks'
 * worker threads (gateway/msgauth/msgauth_node.c), so the trust anchor is
 * read and the cache filled once per node, not once per message.
 *
 * The context runs in libunbound's threaded async mode; ub_resolve_async
 * and ub_cancel are thread-safe on one context (libunbound(3), "LibUnbound
 * Tutorial part 5"). One dispatcher thread of ours waits on ub_fd and calls
 * ub_process; the answer callbacks wake the worker that asked through a
 * condition variable. A worker's wait is bounded by the deadline it gives
 * (MSGAUTH_QUERY_TIMEOUT_S and the message's MSGAUTH_DEADLINE_S); at the
 * deadline the query is cancelled and answered as a temporary failure.
 *
 * Counted: msgauth_resolver_new returns one reference; each worker takes
 * one (msgauth_resolver_ref) for its whole check and drops it after. The
 * owner calls msgauth_resolver_stop before dropping its own: every query
 * waiting or asked later is then a temporary failure at once, so the last
 * worker frees the context promptly. Thread-safe. */
#ifndef EVM_MSGAUTH_RESOLVER_H
#define EVM_MSGAUTH_RESOLVER_H

#include <stdint.h>

#include "gateway/msgauth/msgauth.h"

struct msgauth_resolver;

/* resolvers, ta_file: as dns.resolvers and dns.trust_anchor_file
 * (gateway/outbound/dns.h dns_ub_configure). -1 with *error_r. */
int msgauth_resolver_new(const char *resolvers, const char *ta_file, struct msgauth_resolver **r_r,
			 const char **error_r);
/* Another reference to r (returned). */
struct msgauth_resolver *msgauth_resolver_ref(struct msgauth_resolver *r);
/* Drops a reference; the last one joins the dispatcher and deletes the
 * context. NULL-safe; sets *r NULL. */
void msgauth_resolver_unref(struct msgauth_resolver **r);
/* From now on every query is a temporary failure, waiting ones included. */
void msgauth_resolver_stop(struct msgauth_resolver *r);
/* Asks (name, rrtype IN) and waits for the answer until until_ms
 * (evm_mono_ms clock) at the latest: struct msgauth_dns's query. */
enum msgauth_dns_status msgauth_resolver_query(struct msgauth_resolver *r, const char *name, int rrtype,
					       int64_t until_ms, struct msgauth_rr **rrs_r, size_t *n_r);
/* Queries answered by libunbound since creation (tests: the context is shared). */
uint64_t msgauth_resolver_answers(struct msgauth_resolver *r);

#endif

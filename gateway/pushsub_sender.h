/* pushsub_sender - sends the POSTs of JMAP PushSubscriptions (RFC 8620
 * 7.2): the PushVerification of a new subscription, and a StateChange
 * (7.1) to every verified, unexpired subscription of a user when a type it
 * asks for changes in the user's account.
 *
 * WHICH NODE SENDS. A verification is sent by the node that created the
 * subscription, once the log acknowledged it. StateChanges of a user are
 * sent by ONE node: the highest rendezvous score SHA-256(node id, user)
 * among the nodes with the gateway role whose heartbeat (projector_status()
 * "nodes") is at most PUSHSUB_ALIVE_BEATS heartbeat intervals old (this
 * node when the table has none), so a cluster sends one push, not one per
 * node. Each node decides from its own table: while membership changes
 * (a node starts, stops or misses heartbeats) two nodes may both consider
 * themselves the owner for a moment (a duplicate StateChange) or neither
 * (a gap until the tables agree; the next change is then pushed). A node
 * that starts sending for a subscription (start, ownership moved) first
 * sends every asked type's state, so a client may get a StateChange that
 * tells nothing new, and misses none the new owner saw.
 *
 * QUEUE. POSTs run on one worker thread through a transport (curl by
 * default: TLS verified, jmap.push_timeout_s, no redirects, no proxy,
 * loopback/private addresses refused unless jmap.push_allow_private).
 * The queue holds at most PUSHSUB_QUEUE_MAX POSTs; over it a POST is
 * dropped (counted, logged). StateChanges of one subscription waiting in
 * the queue are coalesced: one POST carries the latest state of every
 * type. A failed POST is logged and not retried (the next change sends
 * the latest states again).
 *
 * ENCRYPTION. A subscription with keys (RFC 8620 7.2: "the server MUST
 * use this to encrypt all data sent") gets every POST, the verification
 * included, as an RFC 8291 message (common/webpush.h): aes128gcm with a
 * new ephemeral key and salt per POST, made on the worker. Its JSON is
 * never sent in clear: keys that do not parse mean no POST at all.
 *
 * Threads: created, fed and stopped on the loop thread; the transport
 * runs on the worker. */
#ifndef EVM_PUSHSUB_SENDER_H
#define EVM_PUSHSUB_SENDER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/webpush.h"

struct node;
struct pushsub_sender;

#define PUSHSUB_QUEUE_MAX 1000
#define PUSHSUB_ALIVE_BEATS 3
/* RFC 8030 5.2 TTL of every push (RFC 8620 7.2: the POST has one). */
#define PUSHSUB_TTL_S 86400

/* One POST: body[len] is the JSON (application/json), or when encrypted
 * its RFC 8291 aes128gcm message (Content-Encoding: aes128gcm). */
struct pushsub_post {
	const char *url;
	const void *body;
	size_t len;
	int encrypted;
};

/* Posts p, blocking, on the worker thread (every POST has a TTL, RFC
 * 8030 5.2): 0 when the push service took it (2xx), or -1 with a message
 * in err. */
typedef int pushsub_post_fn(void *ctx, const struct pushsub_post *p, char *err, size_t errsize);

struct pushsub_transport {
	pushsub_post_fn *post;
	void *ctx;
};

/* The curl transport's settings (from the configuration). */
struct pushsub_curl {
	int allow_http;
	int allow_private;
	long timeout_s;
};
void pushsub_curl_settings(const struct evm_config *cfg, struct pushsub_curl *c);
/* The curl transport (ctx: a struct pushsub_curl that outlives it). */
int pushsub_curl_post(void *ctx, const struct pushsub_post *p, char *err, size_t errsize);

/* Whether a client may give this url (RFC 8620 7.2: "MUST begin with
 * https://"; http:// only with jmap.push_allow_http): 0, or -1 with
 * *error_r. */
int pushsub_url_check(const struct evm_config *cfg, const char *url, const char **error_r);

/* Starts the sender of node (after its projector): transport NULL is
 * curl with node->cfg's settings. 0, or -1 with *error_r. */
int pushsub_sender_start(struct node *node, const struct pushsub_transport *transport,
			 struct pushsub_sender **s_r, const char **error_r);
/* Stops the worker (a POST in flight finishes first, at most the
 * transport's timeout) and drops what is queued. Sets *s to NULL. */
void pushsub_sender_stop(struct pushsub_sender **s);

/* Queues the PushVerification {"@type":"PushVerification",
 * "pushSubscriptionId", "verificationCode"} of a new subscription
 * (RFC 8620 7.2.2), encrypted to keys unless NULL (copied). 0, or -1
 * when the queue is full. */
int pushsub_sender_verify(struct pushsub_sender *s, const char *id, const char *url,
			  const struct webpush_keys *keys, const char *code);

struct pushsub_stats {
	uint64_t sent, failed, dropped;
};
void pushsub_sender_stats(struct pushsub_sender *s, struct pushsub_stats *st);

/* The node that sends for user: the id (borrowed from nodes) of the
 * highest-scoring node with the gateway role whose "ts" is within alive_ms
 * of now_ms, or NULL when none is. nodes: projector_status()'s "nodes". */
const char *pushsub_rendezvous(const json_t *nodes, const char *user, int64_t now_ms, int64_t alive_ms);

#endif

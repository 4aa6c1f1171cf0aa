/* node - one evmaild process: the log, the view, the projector and the
 * listeners its roles ask for, all driven by one libevent loop.
 *
 * The loop thread owns the log handle (appends and their callbacks), the
 * management HTTP server and every waiter; the projector applies on its own
 * thread and wakes the loop after each commit. */
#ifndef EVM_NODE_H
#define EVM_NODE_H

#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>

#include "common/config.h"
#include "ingest/evlog.h"
#include "projector/projector.h"
#include "projector/view.h"

struct smtp_server;
struct imap_server;
struct pop3_server;
struct queue_worker;
struct blobgc;
struct retention;
struct http_server;
struct jmap_node;
struct pushsub_sender;
struct net_tls;
struct keyring;

struct node_counters {
	uint64_t commands_accepted;
	uint64_t commands_rejected;
	uint64_t commands_failed;
	uint64_t heartbeats_sent;
};

struct smtp_rate;

struct node {
	const struct evm_config *cfg;
	struct event_base *base;
	struct evlog *log;
	struct view *view;
	struct projector *projector;
	/* per-account content keys (projector/keyring.h): the writers seal
	 * personal content with them; NULL without crypto.master_key_file */
	struct keyring *keyring;
	struct blob_store *blob_store;                  /* blob.store = log (projector/blob_store.h); NULL: view */
	struct http_server *mgmt;                      /* mgmt.listen, every role (gateway/mgmt_http.h) */
	struct smtp_server *smtp, *lmtp;   /* gateway role, when configured */
	struct imap_server *imap, *imaps;
	struct pop3_server *pop3, *pop3s;             /* gateway role, RFC 1939 */
	struct smtp_server *submission, *submissions;   /* gateway role, RFC 6409 / 8314 */
	struct queue_worker *delivery;                  /* delivery role (gateway/outbound) */
	struct blobgc *blobgc;                          /* body GC scanner (gateway/blobgc/blobgc.h); NULL when off */
	struct retention *retention;                    /* retention enforcer (gateway/retention/retention.h); NULL when off */
	struct http_server *http, *https;               /* gateway role (gateway/http/http_node.h) */
	/* limits.submission_per_hour, shared by SMTP submission and JMAP
	 * EmailSubmission (gateway/smtp/smtp_rate.h); NULL when unlimited */
	struct smtp_rate *submission_rate;
	struct net_tls *http_tls;
	struct jmap_node *jmap;                         /* JMAP on http/https (gateway/jmap/jmap_http.h) */
	struct pushsub_sender *pushsub;                 /* JMAP PushSubscription POSTs (gateway/pushsub_sender.h) */
	struct event *heartbeat_timer;
	struct event *sig_term, *sig_int;
	struct event *sig_hup;         /* SIGHUP: TLS certificates re-read (net_tls_reload_all) */
	struct node_counters counters;
	int64_t started_ms;
	int heartbeat_in_flight;
	int draining;            /* node_set_draining: refuse new sessions, close idle ones */
	struct event *stop_timer;      /* a graceful stop is in progress (on_signal) */
	int64_t stop_deadline_ms;      /* monotonic: stop even if sessions remain */
};

/* Opens log and view, starts the projector, binds the management listener.
 * Returns 0 or -1 with *error_r (the caller exits with it). */
int node_start(struct node *node, const struct evm_config *cfg, struct event_base *base,
	       const char **error_r);
/* Stops listeners and the projector, flushes the log, closes everything. */
void node_stop(struct node *node);
/* Drains (on 1) or undrains (0) the node so it can be stopped without
 * cutting anyone off (`evmailctl node drain`): every listener answers new
 * connections with SMTP/LMTP/submission 421 4.3.2, IMAP BYE [UNAVAILABLE] or
 * POP3 -ERR [SYS/TEMP],
 * open sessions are closed the same way once idle (between transactions,
 * between commands, in IDLE); /readyz says "draining" (503) and heartbeats
 * carry "draining". Node-local and not persisted: a restart undrains. Loop
 * thread only. */
void node_set_draining(struct node *node, int on);
/* Open protocol sessions over every listener (drain progress). */
unsigned node_sessions(const struct node *node);

/* 1 when a failed write is the disk's fault: error names the log's full
 * storage, or this node's view stopped for lack of space (a logged write
 * then never applies here). Gateways answer 452 4.3.1 / "disk is full". */
int node_storage_full(struct node *node, const char *error);

#define EVMAIL_VERSION "0.1.0"

#endif

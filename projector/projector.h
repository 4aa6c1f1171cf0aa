/* projector - applies the log to the view, one partition strictly in
 * offset order, on its own thread.
 *
 * Loop: poll up to projector.batch_max records; for each, decode the
 * envelope strictly, skip it if its event id already has an outcome
 * (duplicate), else run its applier and store the outcome under ev/<id>;
 * then write the view changes, outcomes and new offsets in ONE view batch.
 * A record that does not decode is counted (decode_errors), logged with its
 * position, and skipped: no node can apply it, so every node skips it.
 * An event of an unknown type is rejected with code "unknown-type" (an
 * outcome like any other), counted and logged.
 *
 * The cluster topic is not projected into the view: heartbeats are kept in
 * memory (node-local by nature) and shown by projector_status().
 *
 * Topics that do not exist yet (Kafka) are waited for: the state says which
 * are missing, and the loop re-checks every second.
 *
 * Waiters and subscriptions live on the loop thread (the event_base given
 * at creation); the projector thread wakes that loop after each commit. */
#ifndef EVM_PROJECTOR_H
#define EVM_PROJECTOR_H

#include <event2/event.h>
#include <jansson.h>

#include "common/config.h"
#include "ingest/evlog.h"
#include "projector/view.h"

struct projector;
struct projector_waiter;
struct projector_sub;
struct keyring;

int projector_create(const struct evm_config *cfg, struct evlog *log, struct view *view,
		     struct event_base *base, struct projector **p_r, const char **error_r);
/* Gives the projector the keyring that opens sealed events
 * (projector/keyring.h; NULL: none, and a sealed event of the mail or blob
 * topic stops the projector with "sealed events need
 * crypto.master_key_file"). Before projector_start; the projector owns it
 * from then on and closes it in projector_destroy. */
void projector_set_keyring(struct projector *p, struct keyring *kr);
/* The projector's keyring (may be NULL), borrowed: valid until
 * projector_destroy; usable from any thread (keyring.h). */
struct keyring *projector_keyring(struct projector *p);
/* Starts the thread: reads stored offsets from the view, assigns every
 * partition of the mail, blob, directory, queue and cluster topics, and
 * applies. */
int projector_start(struct projector *p, const char **error_r);
/* Stops and joins the thread (the batch in progress is committed or
 * dropped whole). Pending waiters get status -1. */
void projector_stop(struct projector *p);
void projector_destroy(struct projector **p);

/* status 0: the record at (topic, partition, offset) is applied;
 * -1: timeout or shutdown. Called on the loop thread, once. */
typedef void projector_wait_cb(void *ctx, int status);
/* Registers a waiter; if already applied, cb runs on the next loop turn
 * (never inside this call). *w_r (may be NULL) can cancel it. */
void projector_wait(struct projector *p, enum evm_topic_id topic, int32_t partition,
		    int64_t offset, int timeout_ms, projector_wait_cb *cb, void *ctx,
		    struct projector_waiter **w_r);
/* Cancels a waiter whose callback has not run; cb is never called. */
void projector_wait_cancel(struct projector_waiter **w);

/* Called on the loop thread after a commit that changed account (NULL
 * filter = every account; account is then the changed one). */
typedef void projector_change_cb(void *ctx, const char *account);
struct projector_sub *projector_subscribe(struct projector *p, const char *account,
					  projector_change_cb *cb, void *ctx);
void projector_unsubscribe(struct projector_sub **s);

/* Outcome of a command event once applied: 1 and *outcome_r (new ref)
 *   {"status":"accepted"|"rejected","code":..,"reason":..,"partition":p,
 *    "offset":o, ...applier result fields}
 * 0 when not applied (yet), -1 on error. */
int projector_outcome(struct projector *p, const char *event_id, json_t **outcome_r,
		      const char **error_r);

/* Snapshot, safe from any thread:
 *   {"state":"running"|"waiting-for-topics"|"rebuilding"|"failed",
 *    "detail":"..", "ready":bool, "events_applied":n, "events_rejected":n,
 *    "duplicates":n, "decode_errors":n,
 *    "directory_catchups":n (the directory applied ahead for sealed events
 *    whose key was not in the view yet, since start; projector_sealed.c),
 *    "rebuild":{"done":n,"total":n,"completed":rebuilds finished since start,
 *               "rate":records/s so far,"eta_s":seconds left (-1 unknown)},
 *    "partitions":[{"topic":"directory","partition":0,"applied":n,
 *                   "end":n,"lag":n}],
 *    "nodes":{"<id>":{heartbeat data..., "ts":ms}}}
 * "applied" is the next offset to apply; lag = end - applied; ready when
 * running and every lag <= projector.ready_lag. From projector_rebuild()
 * until the replay has caught up, state is "rebuilding" and ready false. */
json_t *projector_status(struct projector *p);

/* Wipes the view and replays every topic from its start, on the projector
 * thread; returns at once. A replay of at least projector.bulk_min records
 * applies in bulk (view.h): a crash or stop before it has caught up makes
 * the next start rebuild again. Progress in projector_status().rebuild. Waiters
 * keep waiting (offsets are reached again). */
int projector_rebuild(struct projector *p, const char **error_r);

#endif

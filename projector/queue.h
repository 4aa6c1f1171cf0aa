/* queue - the outbound queue: events on the queue topic, their appliers, and
 * the read API every node uses (evmailctl queue, /metrics, the delivery
 * role's scheduler). docs/sending.md tells the whole story.
 *
 * EVENTS on the queue topic: key = the item id, partition =
 * fnv1a32(item id) mod P (evm_partition_for), so every event of one item is
 * in one partition, totally ordered. Envelope: tenant/account = the sender's
 * (account "" for a bounce or a remote sender), actor = "submission",
 * "delivery:<node>", "admin", "dsn".
 *
 *   queue.enqueue {id (32 hex, writer-chosen), from ("" = null sender),
 *                  blob_id, blob_size, rcpts: [{addr, orcpt ("" if none),
 *                  notify ("" = default: FAILURE,DELAY; else a list of
 *                  SUCCESS, FAILURE, DELAY, or NEVER)}], ret ("FULL",
 *                  "HDRS" or ""), envid ("" if none), smtputf8 (bool),
 *                  body8bit (bool), requiretls (bool), dsn (bool: this item
 *                  IS a DSN; never bounce a bounce), arrival (ms),
 *                  next_try (ms, normally = arrival), expire (ms),
 *                  delay_warn (ms, 0 = never)}
 *                  Rejected "exists" when the id is queued already;
 *                  "invalid" for no rcpts, more than QUEUE_MAX_RCPTS, or a
 *                  field out of its bounds.
 *   queue.attempt {id, node, ts (ms, the attempt's start), rcpts:
 *                  [{addr, status: "delivered"|"deferred"|"failed",
 *                  reply (the remote reply or our reason, <= 512 octets),
 *                  enhanced ("5.1.1" or ""), remote ("mx.example [ip]" or
 *                  ""), dsn_passed (bool: the next hop accepted our DSN
 *                  parameters)}], next_try (ms, when deferred recipients are due),
 *                  error ("" or why the attempt as a whole failed, e.g.
 *                  "dnssec: bogus MX for example.com")}
 *                  A recipient already final (delivered/failed) keeps its
 *                  state: a late or duplicate attempt cannot undo one.
 *                  Rejected "not-found" for an unknown item.
 *   queue.notified {id, kind: "delay"|"dsn", rcpts: [addr...]}
 *                  the worker sent a DSN: "delay" sets delay_notified;
 *                  "dsn" clears dsn_due of the listed recipients.
 *   queue.hold     {id}                     no attempt until released
 *   queue.release  {id}
 *   queue.retry    {id, next_try (ms)}      due at next_try (admin: now)
 *   queue.delete   {id, reason, bounce (bool)}  every pending recipient
 *                  becomes failed with reason (enhanced "5.0.0"); with
 *                  bounce their DSN is due, else none is sent; clears held.
 *
 * DSNs (RFC 3464) are sent by the worker that owns the item's partition,
 * never by an applier. When a recipient becomes final the applier sets its
 * dsn_due from its notify list: "failure" (failed, FAILURE asked or notify
 * empty), "success" (delivered, SUCCESS asked, the next hop took DSN),
 * "relayed" (delivered, SUCCESS asked, the next hop lacked DSN, RFC 3461
 * 5.2.2), else "". An item whose from is "" or whose dsn flag is set never
 * gets a dsn_due (never bounce a bounce). While a recipient has a dsn_due
 * the item is due at once (the event's ts) so its owner sends the DSN and
 * appends queue.notified. The DELAY notice is the worker's decision too
 * (delay_warn passed, DELAY asked or notify empty, not yet notified).
 * An item whose recipients are all final and none has a dsn_due is
 * removed from the view in the same batch, with its due-index key.
 *
 * Time: appliers never read the clock. Times come from event data written
 * by the producer (next_try, arrival) or from the envelope ts.
 *
 * VIEW KEYS (under "q/", deterministic):
 *   q/item/<id>                    the item (JSON below)
 *   q/due/<partition %05d>/<next_try %016llx>/<id>   ""  (queued items only,
 *                                  not held ones): the scheduler's index
 *   q/stat/<name>                  counters (decimal): enqueued, delivered,
 *                                  deferred, failed, removed
 * Item JSON:
 *   {"id","partition","tenant","account","from","blob_id","blob_size",
 *    "ret","envid","smtputf8","body8bit","requiretls","dsn","arrival",
 *    "expire","delay_warn","delay_notified":bool,"next_try","held":bool,
 *    "attempts":n,"last_error":"","last_attempt":ms,
 *    "rcpts":[{"addr","orcpt","notify","status":"queued"|"deferred"|
 *              "delivered"|"failed","reply","enhanced","remote",
 *              "attempts":n,"dsn_due":""|"failure"|"success"|"relayed"}],
 *    "dsn_pending":bool, "retry_at":ms}
 * next_try is when the item is due (its due-index key); retry_at is when
 * its pending recipients are due (the last attempt's or retry's next_try).
 * They differ only while a DSN is due: next_try is then the ts of the
 * event that made it due, and returns to retry_at once queue.notified
 * clears the last dsn_due. A scheduler sends due DSNs at next_try and
 * attempts pending recipients only once retry_at has passed.
 */
#ifndef EVM_QUEUE_H
#define EVM_QUEUE_H

#include <jansson.h>
#include <stdint.h>

#include "projector/view.h"

#define QUEUE_MAX_RCPTS 1000
#define QUEUE_ID_LEN 32

/* The item, or 0 when there is no such item (1 found, -1 error). *item_r
 * is a new reference. */
int queue_item_get(struct view *view, const char *id, json_t **item_r, const char **error_r);

/* Items of one partition with next_try <= now_ms, not held, in due order,
 * at most max: calls cb(ctx, item) for each (item borrowed for the call;
 * return 1 from cb to stop). Returns 0 or -1. */
typedef int queue_due_cb(void *ctx, json_t *item);
int queue_due_scan(struct view *view, int32_t partition, int64_t now_ms, size_t max,
		   queue_due_cb *cb, void *ctx, const char **error_r);

/* Every item, in id order, at most max (0 = no limit): a JSON array of
 * items (new reference). */
int queue_list(struct view *view, size_t max, json_t **items_r, const char **error_r);

struct queue_stats {
	uint64_t size;            /* items in the queue */
	uint64_t recipients;      /* pending recipients */
	uint64_t held;
	int64_t oldest_arrival;   /* ms, 0 when empty */
	uint64_t enqueued, delivered, deferred, failed, removed;  /* q/stat/ */
};
int queue_stats(struct view *view, struct queue_stats *st_r, const char **error_r);

#endif

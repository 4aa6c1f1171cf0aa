/* blobgc - the body garbage collector's scanner (projector/blob_gc.h).
 *
 * Every blob.gc_interval_s, on ONE node (the holder of queue partition 0,
 * gateway/outbound/queue_worker.h; on the embedded log the only node), and
 * only while its projector has applied the mail, queue and blob topics to
 * their ends, the scanner reads its view (blob_gc_scan, cutoff now -
 * blob.gc_grace_s) and, for each blob that may go, appends ONE blob.gc
 * event {blob_id, uploads} to the blob's partition; once that is durable,
 * a tombstone (null value) for every chunk key of those uploads, so
 * Kafka's compaction deletes them. The embedded log has no compaction: its
 * tombstones are records like any other, skipped by the projector.
 *
 * Two nodes deciding the same blob (an ownership change in the middle) is
 * harmless: blob.gc of an upload already forgotten changes nothing. The
 * scanner's place in the time indexes is kept in memory; a restart reads
 * them from the start once.
 *
 * Thread: the node's loop thread. */
#ifndef EVM_BLOBGC_H
#define EVM_BLOBGC_H

#include "common/buf.h"
#include "gateway/node.h"

struct blobgc;

/* Starts the timer; *gc_r is NULL when blob.gc_interval_s is 0. 0 or -1. */
int blobgc_start(struct node *node, struct blobgc **gc_r, const char **error_r);
/* Stops the timer; appends in flight finish into nothing. NULL-safe; sets
 * *gc NULL. Call before the log closes. */
void blobgc_stop(struct blobgc **gc);
/* Prometheus lines: decisions, blobs and bytes deleted, tombstones, scans,
 * the time of the last completed scan (gc may be NULL: nothing). */
void blobgc_metrics(struct blobgc *gc, struct buf *out);
/* Prometheus lines of the blob.store = log store (projector/blob_store.h):
 * hits, misses and their time, chunks read, failures, cache size; nothing
 * in view mode. */
void blobgc_store_metrics(struct node *node, struct buf *out);
/* GET /admin/blobs/<blob id> (gateway/admin_api.c): the view's record of
 * a body as JSON (200), 404 for a malformed id. Loop thread. */
struct http_request;
void blobgc_admin_handle(struct node *node, struct http_request *req, const char *blob_id);

#endif

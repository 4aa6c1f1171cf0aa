/* blob_gc - body garbage collection: what the view records about who
 * references a body, the blob.gc event, and the read API of the scanner
 * (gateway/blobgc/blobgc.h) that decides which bodies go.
 *
 * Uploads. Every writer of a body (gateway/deliver_blob.h) gives it a
 * random upload id of BLOB_UPLOAD_ID_LEN hex digits, carried by each
 * blob.chunk ("upload") and in the record key "<blob id>/<upload>/<index>".
 * A chunk of an old log without "upload" belongs to upload "" (record key
 * "<blob id>/<index>"). The content stays stored once per blob id.
 *
 * View records (JSON_COMPACT|JSON_SORT_KEYS; <ts> is 20 decimal digits):
 *   blobref/<blob id>/<owner>    {"n": references, "drop": max ts of a
 *                                decrement, "until": max end of a JMAP
 *                                upload's reference} (drop/until 0 = never).
 *                                <owner> is an account (escaped as <acct> of
 *                                mail_keys.h) or "q/<queue item id>"; written
 *                                only by the owner's partition, never removed
 *   blobzero/<ts>/<blob id>/<owner>
 *                                "" for each blobref entry with n = 0, at
 *                                max(drop, until): when it last let go
 *   blobup/<blob id>/<upload>    {"ts": the event ts of the upload's first
 *                                chunk}; written by the blob's partition
 *   blobupt/<ts>/<blob id>/<upload>
 *                                "" : the uploads by time
 *
 * blob.gc {blob_id, uploads: [upload...]} (blob topic, the blob's
 * partition, record key "<blob id>/gc/<event id>") forgets the listed
 * uploads; when none of the blob's uploads remains, its chunks and blobmeta
 * go. It never reads blobref/ (other partitions, applied in another order
 * on another node). A record with an empty value in the blob topic is a
 * Kafka tombstone (one per chunk key of a collected upload), not an event.
 *
 * Safety: the scanner lists only uploads older than the grace; a delivery
 * in flight has its own younger upload, and its chunks keep the content.
 * "Older" compares the event times the gateways wrote with the deciding
 * node's clock: clocks must agree to well within the grace (NTP). */
#ifndef EVM_BLOB_GC_H
#define EVM_BLOB_GC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "projector/view.h"

#define BLOB_UPLOAD_ID_LEN 16
/* Uploads one blob.gc may list. */
#define BLOB_GC_UPLOADS_MAX 1000
/* A JMAP upload references its blob this long when blob.upload has no
 * "ttl_s" (RFC 8620 6.1: at least an hour). */
#define BLOB_UPLOAD_TTL_DEFAULT_S 86400

/* Where the scanner stands in the two time indexes: the next blobzero/
 * and blobupt/ keys to read (len 0: from the start). */
#define BLOB_GC_KEY_MAX 1536
struct blob_gc_cursor {
	char zero[BLOB_GC_KEY_MAX];
	size_t zero_len;
	char upt[BLOB_GC_KEY_MAX];
	size_t upt_len;
};
/* Entries read from each index in one call: one round's decisions (each a
 * blob.gc and its tombstones) are applied by every projector in between
 * foreground events, so a round is kept small enough not to hold them up
 * for long (5,000 at once delayed IMAP EXPUNGEs past their 30 s timeout);
 * the collector starts the next round as soon as this one is applied. */
#define BLOB_GC_SCAN_MAX 500

/* One step of the scanner. Candidates are the blobs of the next (at most
 * BLOB_GC_SCAN_MAX) entries of blobzero/ and blobupt/ from *from whose time
 * is at or before cutoff (now - blob.gc_grace_s). A candidate is collected
 * when every blobref/ entry has n = 0 and let go at or before cutoff (a
 * JMAP upload's "until" included), and some upload is at or before cutoff:
 * {"blob_id", "uploads": [the uploads at or before cutoff, sorted], "count":
 * chunks, "size": octets, "whole": true when every upload is listed, so the
 * content goes} is appended to decisions. *next_r is where the next step
 * starts (the caller keeps *from until the decisions are done). Returns 1
 * when both windows were read to cutoff, 0 when entries remain (call
 * again), -1 on error. Any thread: reads committed state only. */
int blob_gc_scan(struct view *view, const struct blob_gc_cursor *from, int64_t cutoff,
		 json_t *decisions, struct blob_gc_cursor *next_r, const char **error_r);

/* What the view holds about one blob, for operators and tests:
 * {"blob_id", "chunks": stored chunk count, "meta": blobmeta or null,
 *  "uploads": {upload: ts}, "refs": {owner: {n, drop, until}},
 *  "locations": {"<upload>/<index>": "<partition> <offset>"} (blob.store =
 *  log, blob_store.h)}.
 * 1 and *info_r (new), 0 when blob_id is not 64 lower-case hex, -1 error. */
int blob_gc_describe(struct view *view, const char *blob_id, json_t **info_r, const char **error_r);

#endif

/* blob_internal - the body garbage collection's view records, shared by the
 * appliers that keep them (projector/blob_*.c, mail_msgs.c, mail_upload.c,
 * queue_util.c, queue_apply_enqueue.c) and the scanner's read API
 * (blob_gc_scan.c). The layout is in projector/blob_gc.h.
 *
 * Every record here is written by ONE partition only, so replays of the
 * same log in any interleaving of partitions agree:
 *   blobref/, blobzero/  the partition of the owner (mail: the account's,
 *                        queue: the item's);
 *   blobup/, blobupt/    the blob's partition of the blob topic. */
#ifndef EVM_BLOB_INTERNAL_H
#define EVM_BLOB_INTERNAL_H

#include <stdint.h>

#include "common/buf.h"
#include "projector/applier.h"
#include "projector/blob_gc.h"

#define KEY_BLOBREF "blobref/"
#define KEY_BLOBZERO "blobzero/"
#define KEY_BLOBUP "blobup/"
#define KEY_BLOBUPT "blobupt/"

/* Adds delta (+1: a new reference, -1: one gone) to the references the
 * account holds on blob_id: n, and for a decrement drop = max(drop, the
 * event's ts); keeps the blobzero/ index in step. 0 or -1 (view error). */
int blob_ref_account(struct apply_ctx *ctx, const char *blob_id, const char *account, int64_t delta,
		     const char **error_r);
/* The same for a queue item's one reference ("q/<item id>"). */
int blob_ref_queue(struct apply_ctx *ctx, const char *blob_id, const char *item_id, int64_t delta,
		   const char **error_r);
/* A JMAP upload by the account references blob_id until the time until
 * (ms): until = max(until, this). 0 or -1. */
int blob_ref_upload(struct apply_ctx *ctx, const char *blob_id, const char *account, int64_t until,
		    const char **error_r);
/* account.purge: the account's upload hold on blob_id ends now (until is
 * lowered to the event's ts, the one exception to "only grows": the entry
 * is written by the account's partition alone, so the order of its events
 * is the log's and replays agree). 0 or -1. */
int blob_ref_upload_release(struct apply_ctx *ctx, const char *blob_id, const char *account,
			    const char **error_r);

/* blobup/<blob id>/<upload> and its time index: written once, at the
 * upload's first chunk (ts: the event's). 0 or -1. */
int blob_upload_note(struct apply_ctx *ctx, const char *blob_id, const char *upload,
		     const char **error_r);
/* 1 when upload is "" (a chunk of an old log) or BLOB_UPLOAD_ID_LEN
 * lower-case hex digits. */
int blob_upload_id_valid(const char *upload);

/* The applier of blob.gc (blob_gc_apply.c). */
applier_fn blob_apply_gc;

/* Key builders (k is reset). */
void blob_ref_key(struct buf *k, const char *blob_id, const char *owner);
void blob_zero_key(struct buf *k, int64_t ts, const char *blob_id, const char *owner);
void blob_up_key(struct buf *k, const char *blob_id, const char *upload);
/* blobloc/<id>/<upload>/<index> (keys.h KEY_BLOBLOC); index < 0: the
 * upload's prefix; upload NULL: the blob's prefix. */
void blob_loc_key(struct buf *k, const char *blob_id, const char *upload, int64_t index);
void blob_upt_key(struct buf *k, int64_t ts, const char *blob_id, const char *upload);

#endif

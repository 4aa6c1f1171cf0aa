/* deliver_blob - stores a body in the blob topic (internal to deliver).
 *
 * The body is cut into ceil(len / MAIL_BLOB_CHUNK_MAX) blob.chunk events
 * (projector/mail.h) of one new random upload id (projector/blob_gc.h), key
 * "<blob id>/<upload>/<index>", all in the partition
 * evm_partition_for(blob id) of the blob topic, so one blob's chunks are
 * ordered and land together.
 *
 * Crypto-shredding (projector/keyring.h): an upload has an owner, the
 * account whose mail references the body. Its chunks carry the owner as
 * envelope account and are sealed with the owner's current key, so erasing
 * that account makes them unreadable in the log too. A body several
 * accounts reference is uploaded once per account that has a key
 * (deliver_message): erasing one never takes another's copy. */
#ifndef EVM_DELIVER_BLOB_H
#define EVM_DELIVER_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/node.h"

#define DELIVER_BLOB_ID_LEN 64

/* blob_id = SHA-256 hex of data (out holds DELIVER_BLOB_ID_LEN + 1). */
void deliver_blob_id(const void *data, size_t len, char out[DELIVER_BLOB_ID_LEN + 1]);

/* status 0: every chunk is durable in the log, the last one at
 * (partition, last_offset) of the blob topic; -1: some chunk is not
 * (error says why). */
typedef void deliver_blob_cb(void *ctx, int status, const char *error, int32_t partition,
			     int64_t last_offset);

/* Appends every chunk of data (len > 0) for owner (an account address;
 * NULL or "" for none: nothing sealed, e.g. a queue item of a sender that
 * is no account). The log copies the payloads, so data may be freed when
 * this returns. cb runs exactly once on the loop, after the last chunk's
 * delivery report, never inside this call. */
void deliver_blob_store(struct node *node, const char *actor, const char *owner, const char *blob_id,
			const void *data, size_t len, deliver_blob_cb *cb, void *ctx);

#endif

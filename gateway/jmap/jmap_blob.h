/* jmap_blob - blobs as JMAP sees them (RFC 8620 6, RFC 9404): their ids,
 * who may read them, reading and storing.
 *
 * Blob ids (JMAP Ids: A-Za-z0-9-_):
 *   "m<32 hex email id>"             the raw message of an email (prefix + blob)
 *   "m<32 hex email id>_<part>"      a decoded body part of it, part id with
 *                                    '-' for '.' (jmap_email_body.h)
 *   "b<64 hex blob id>"              a stored blob the account uploaded
 *                                    (upload endpoint, Blob/upload)
 * Access (RFC 8620 6.2): an id names data only for an account that holds
 * it: the email id is one of the account's (eloc/), or the upload is
 * recorded in the account's mail partition. Any other id, another
 * account's or tenant's included, is simply not found.
 *
 * Implemented in jmap_blob.c (uploads recorded by a mail-topic event, see
 * projector/mail.h). */
#ifndef EVM_JMAP_BLOB_H
#define EVM_JMAP_BLOB_H

#include <stddef.h>

#include "gateway/jmap/jmap_mail.h"

#define JMAP_BLOB_ID_MAX 128

/* The end of an upload: status 0 with the new blob id ("b..."), durable in
 * the log and recorded for the account and applied on this node; -1 with
 * error. */
typedef void jmap_blob_stored_cb(void *ctx, int status, const char *blob_id, const char *error);

/* Stores data (len >= 0; copied) as a blob of req's account with media
 * type `type` (RFC 8620 6.1: kept and returned as given). cb runs once,
 * later on the loop, never inside this call. */
void jmap_blob_upload(const struct jmap_mail_req *req, const char *type, const void *data, size_t len,
		      jmap_blob_stored_cb *cb, void *ctx);

/* The bytes behind blob_id for account `address`: 1 with *data_r
 * (malloc'ed) and *type_r (malloc'ed media type, or NULL when unknown),
 * 0 when there is no such blob for that account (or its bytes are not
 * complete on this node yet), -1 on a view error. */
int jmap_blob_read(struct node *node, const char *address, const char *blob_id, char **data_r,
		   size_t *len_r, char **type_r, const char **error_r);

#endif

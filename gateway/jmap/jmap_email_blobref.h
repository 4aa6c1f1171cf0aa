/* jmap_email_blobref - the bytes behind a blobId that an Email creation
 * names (RFC 8621 4.6 EmailBodyPart blobId): the one place Email/set
 * reads blobs: "m<email id>" (the raw message), "m<email id>_<part>" (a
 * decoded body part, jmap_email_body.h) and uploaded "b<blob id>" blobs of
 * the account, through jmap_blob_read (jmap_blob.h). Any other id, another
 * account's included, is not found. */
#ifndef EVM_JMAP_EMAIL_BLOBREF_H
#define EVM_JMAP_EMAIL_BLOBREF_H

#include <stddef.h>

/* A jmap_blob_fetch_fn (jmap_email_build.h); ctx is the call's struct
 * jmap_mail_req. 1 with *data_r (malloc'ed), 0 not found, -1 error. */
int jmap_email_blob_fetch(void *ctx, const char *blob_id, char **data_r, size_t *len_r, const char **error_r);

#endif

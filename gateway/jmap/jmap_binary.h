/* jmap_binary - JMAP upload and download over HTTP (RFC 8620 6.1, 6.2)
 * for an authenticated account. Both take mreq's reference. */
#ifndef EVM_JMAP_BINARY_H
#define EVM_JMAP_BINARY_H

#include <stdint.h>

#include "gateway/jmap/jmap_mail.h"

struct http_request;

/* POST /jmap/upload/{accountId}/: 201 {accountId, blobId, type, size};
 * 404 for another account; 413 over max_size. */
void jmap_binary_upload(struct http_request *req, struct jmap_mail_req *mreq, uint64_t max_size);
/* GET /jmap/download/{accountId}/{blobId}/{name}?accept={type}. */
void jmap_binary_download(struct http_request *req, struct jmap_mail_req *mreq);

#endif

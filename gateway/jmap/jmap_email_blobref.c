/* jmap_email_blobref - see jmap_email_blobref.h: the reading itself is
 * jmap_blob.h's, so Email/set sees exactly the blobs download and
 * Email/import see. */
#include "gateway/jmap/jmap_email_blobref.h"
#include "gateway/jmap/jmap_blob.h"

#include <stdlib.h>

int jmap_email_blob_fetch(void *ctx, const char *blob_id, char **data_r, size_t *len_r, const char **error_r)
{
	struct jmap_mail_req *req = ctx;
	char *type = NULL;
	int r;

	*data_r = NULL;
	*len_r = 0;
	r = jmap_blob_read(req->node, req->address, blob_id, data_r, len_r, &type, error_r);
	free(type);
	return r;
}

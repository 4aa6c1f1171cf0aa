/* blobgc_admin - GET /admin/blobs/<blob id>: what this node's view holds
 * about one body (projector/blob_gc.h blob_gc_describe), for operators
 * checking the collector. */
#include "gateway/blobgc/blobgc.h"
#include "gateway/mgmt_http.h"
#include "projector/blob_gc.h"

void blobgc_admin_handle(struct node *node, struct http_request *req, const char *blob_id)
{
	const char *error = NULL;
	json_t *info = NULL;
	int r = blob_gc_describe(node->view, blob_id, &info, &error);

	if (r < 0)
		mgmt_reply_error(req, 500, error);
	else if (r == 0)
		mgmt_reply_error(req, 404, "not a blob id (64 lower-case hex digits)");
	else
		mgmt_reply_json(req, 200, info);
}

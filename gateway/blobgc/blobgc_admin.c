/* blobgc_admin - GET /admin/blobs/<blob id>: what this node's view holds
 * about one body (projector/blob_gc.h blob_gc_describe), for operators
 * checking the collector, with the node's blob.store and, in log mode,
 * whether this node's cache holds the body (projector/blob_store.h). */
#include "gateway/blobgc/blobgc.h"
#include "gateway/mgmt_http.h"
#include "projector/blob_gc.h"
#include "projector/blob_store.h"

void blobgc_admin_handle(struct node *node, struct http_request *req, const char *blob_id)
{
	const char *error = NULL;
	json_t *info = NULL;
	int r = blob_gc_describe(node->view, blob_id, &info, &error);

	if (r < 0)
		mgmt_reply_error(req, 500, error);
	else if (r == 0)
		mgmt_reply_error(req, 404, "not a blob id (64 lower-case hex digits)");
	else {
		json_object_set_new(info, "store", json_string(node->blob_store != NULL ? "log" : "view"));
		if (node->blob_store != NULL)
			json_object_set_new(info, "cached",
					    json_boolean(blob_cache_has(blob_store_cache(node->blob_store), blob_id)));
		mgmt_reply_json(req, 200, info);
	}
}

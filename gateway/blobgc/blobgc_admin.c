/* blobgc_admin - GET /admin/blobs/<blob id>: what this node's view holds
 * about one body (projector/blob_gc.h blob_gc_describe), for operators
 * checking the collector, with the node's blob.store and, in log mode,
 * whether this node's cache holds the body (projector/blob_store.h); and
 * the log-mode store's metrics. */
#include "gateway/blobgc/blobgc.h"
#include "gateway/mgmt_http.h"
#include "projector/blob_gc.h"
#include "projector/blob_store.h"
#include "common/buf.h"

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

/* One metric line. */
static void metric(struct buf *out, const char *name, const char *type, const char *help, uint64_t v)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
		   (unsigned long long)v);
}

void blobgc_store_metrics(struct node *node, struct buf *out)
{
	struct blob_store_stats st;
	uint64_t bytes, files;

	if (node->blob_store == NULL)
		return;
	blob_store_stats(node->blob_store, &st);
	blob_cache_usage(blob_store_cache(node->blob_store), &bytes, &files);
	metric(out, "evmail_blob_store_hits_total", "counter", "Bodies read from the cache (blob.store = log).",
	       st.hits);
	metric(out, "evmail_blob_store_misses_total", "counter", "Bodies read from the log (not in the cache).",
	       st.misses);
	metric(out, "evmail_blob_store_miss_microseconds_total", "counter", "Time those reads took in all.",
	       st.miss_us);
	metric(out, "evmail_blob_store_chunks_read_total", "counter", "Chunk records read from the blob topic.",
	       st.chunks_read);
	metric(out, "evmail_blob_store_failures_total", "counter",
	       "Reads from the log that found no readable upload, or failed.", st.failures);
	metric(out, "evmail_blob_store_cache_bytes", "gauge", "Octets in the body cache.", bytes);
	metric(out, "evmail_blob_store_cache_files", "gauge", "Bodies in the body cache.", files);
}

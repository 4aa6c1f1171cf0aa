/* deliver_blob - see deliver_blob.h */
#include "gateway/deliver_blob.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "ingest/event.h"
#include "projector/blob_gc.h"
#include "projector/keyring.h"
#include "projector/mail.h"

#include <event2/event.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* One body being appended. */
struct blob_upload {
	deliver_blob_cb *cb;
	void *ctx;
	size_t pending;        /* chunks queued whose report has not come */
	int failed;
	char error[256];
	struct event *defer;
	int32_t partition;
	int64_t last_offset;   /* highest offset reported, -1 before any */
};

void deliver_blob_id(const void *data, size_t len, char out[DELIVER_BLOB_ID_LEN + 1])
{
	evm_sha256_hex(data, len, out);
}

static void upload_finish(struct blob_upload *up)
{
	up->cb(up->ctx, up->failed ? -1 : 0, up->failed ? up->error : NULL, up->partition,
	       up->last_offset);
	if (up->defer != NULL)
		event_free(up->defer);
	free(up);
}

/* Records the first error: prefix + detail. */
static void upload_fail(struct blob_upload *up, const char *prefix, const char *detail)
{
	if (up->failed)
		return;
	up->failed = 1;
	snprintf(up->error, sizeof up->error, "%s%s", prefix, detail ? detail : "unknown error");
}

/* Delivery report of one chunk, on the loop. */
static void chunk_logged(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct blob_upload *up = ctx;

	if (status < 0)
		upload_fail(up, "blob chunk not logged: ", error);
	else if (offset > up->last_offset)
		up->last_offset = offset;
	if (--up->pending == 0)
		upload_finish(up);
}

/* Nothing was queued: report on the next loop turn. */
static void upload_deferred(evutil_socket_t fd, short what, void *ctx)
{
	upload_finish(ctx);
}

/* The blob.chunk event of data[0..n) as index of count, sealed with
 * owner's key when it has one (projector/keyring.h), encoded. */
static int chunk_encode(struct node *node, const char *actor, const char *owner, const char *blob_id,
			const char *upload, size_t index, size_t count, size_t size,
			const unsigned char *data, size_t n, char **payload_r, size_t *len_r,
			const char **error_r)
{
	struct evm_event ev;
	char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);
	int b64len = EVP_EncodeBlock((unsigned char *)b64, data, (int)n);
	json_t *jdata;
	int ret;

	/* s%: a string with a size_t length (s# takes an int) */
	jdata = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s%}", "blob_id", blob_id, "upload", upload,
			  "index", (json_int_t)index, "count", (json_int_t)count, "size", (json_int_t)size,
			  "data", b64, (size_t)b64len);
	free(b64);
	if (jdata == NULL) {
		*error_r = "cannot build the blob.chunk event";
		return -1;
	}
	if (evm_event_init(&ev, "blob.chunk", "", owner, actor, jdata, error_r) < 0)
		return -1;
	ret = keyring_seal_event(node->keyring, node->view, &ev, error_r) < 0 ? -1
	      : evm_event_encode(&ev, payload_r, len_r, error_r);
	evm_event_clear(&ev);
	return ret;
}

void deliver_blob_store(struct node *node, const char *actor, const char *owner, const char *blob_id,
			const void *data, size_t len, deliver_blob_cb *cb, void *ctx)
{
	struct blob_upload *up = xcalloc(1, sizeof *up);
	size_t count = (len + MAIL_BLOB_CHUNK_MAX - 1) / MAIL_BLOB_CHUNK_MAX;
	int32_t parts = evlog_partitions(node->log, EVM_TOPIC_BLOB), partition;
	const char *error = NULL;
	char id[EVM_ID_HEX_LEN + 1];

	/* This upload's own id (projector/blob_gc.h): its chunks keep the
	 * content even while an older upload of the same bytes is collected. */
	evm_random_id(id);
	id[BLOB_UPLOAD_ID_LEN] = '\0';
	up->cb = cb;
	up->ctx = ctx;
	if (len == 0)
		upload_fail(up, "", "empty blob");
	else if (parts <= 0)
		upload_fail(up, "", "the blob topic does not exist (yet)");
	partition = up->failed ? 0 : evm_partition_for(blob_id, strlen(blob_id), parts);
	up->partition = partition;
	up->last_offset = -1;
	for (size_t i = 0; i < count && !up->failed; i++) {
		size_t off = i * MAIL_BLOB_CHUNK_MAX;
		size_t n = len - off < MAIL_BLOB_CHUNK_MAX ? len - off : MAIL_BLOB_CHUNK_MAX;
		char key[DELIVER_BLOB_ID_LEN + BLOB_UPLOAD_ID_LEN + 32], *payload = NULL;
		size_t plen = 0;

		snprintf(key, sizeof key, "%s/%s/%zu", blob_id, id, i);
		if (chunk_encode(node, actor, owner != NULL ? owner : "", blob_id, id, i, count, len,
				 (const unsigned char *)data + off, n, &payload, &plen, &error) < 0 ||
		    evlog_append(node->log, EVM_TOPIC_BLOB, partition, key, strlen(key), payload, plen,
				 chunk_logged, up, &error) < 0)
			upload_fail(up, "blob chunk not appended: ", error);
		else
			up->pending++;
		free(payload);
	}
	if (up->pending == 0) {
		up->defer = evtimer_new(node->base, upload_deferred, up);
		event_active(up->defer, EV_TIMEOUT, 0);
	}
}

/* jmap_binary - JMAP's binary data over HTTP (RFC 8620 6.1, 6.2): POST
 * /jmap/upload/{accountId}/ stores the body as a blob of the account and
 * answers 201 with {accountId, blobId, type, size}; GET
 * /jmap/download/{accountId}/{blobId}/{name}?accept={type} sends the
 * blob's bytes as an attachment called name. Access is jmap_blob.h's: an
 * id the account does not hold is 404, like one that does not exist. */
#include "gateway/jmap/jmap_binary.h"
#include "gateway/jmap/jmap_shared.h"
#include "gateway/jmap/jmap_blob.h"
#include "gateway/http/http_server.h"
#include "gateway/http/http_util.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

#define SEGMENTS_MAX 4
#define SEGMENT_MAX 1024

/* The path after prefix split at '/' and each part percent-decoded (a
 * decoded '/' stays inside its part). Returns the number of parts, or -1
 * when there are more than max or one is malformed or too long. */
static int segments(const char *path, const char *prefix, char out[][SEGMENT_MAX], int max)
{
	const char *p = path + strlen(prefix);
	int n = 0;

	while (*p != '\0') {
		const char *slash = strchr(p, '/'), *error;
		size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p), dlen = 0;
		char *dec = NULL;

		if (n == max || http_percent_decode(p, len, 0, &dec, &dlen, &error) < 0)
			return -1;
		if (dlen >= SEGMENT_MAX) {
			free(dec);
			return -1;
		}
		memcpy(out[n], dec, dlen + 1);
		free(dec);
		n++;
		p += len;
		if (*p == '/')
			p++;
	}
	return n;
}

/* A media type we may echo in Content-Type: printable ASCII, no CR/LF. */
static int safe_type(const char *t)
{
	if (t == NULL || t[0] == '\0' || strlen(t) > 255)
		return 0;
	for (const char *p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return 0;
	return strchr(t, '/') != NULL;
}

static void respond_json(struct http_request *req, int status, json_t *body)
{
	struct http_response resp;
	const char *error;
	char *text = json_dumps(body, JSON_COMPACT);

	http_response_init(&resp, status);
	(void)http_response_field(&resp, "Content-Type", "application/json", &error);
	http_respond(req, &resp, text, strlen(text));
	http_response_clear(&resp);
	free(text);
	json_decref(body);
}

struct upload {
	struct http_request *req;
	struct jmap_mail_req *mreq;
	char type[256];
	size_t size;
	int gone;
};

static void upload_cancel(void *ctx, struct http_request *req)
{
	struct upload *u = ctx;

	(void)req;
	u->gone = 1;
}

static void uploaded(void *ctx, int status, const char *blob_id, const char *error)
{
	struct upload *u = ctx;

	if (u->gone)
		http_respond_text(u->req, 503, NULL, NULL);   /* dropped by the server */
	else if (status < 0) {
		log_warn("jmap: upload for %s: %s", u->mreq->address, error ? error : "?");
		http_respond_text(u->req, 503, "text/plain; charset=utf-8", "the blob could not be stored, try again\n");
	} else {
		/* RFC 8620 6.1: 201 with the blob's id, type and size. */
		respond_json(u->req, 201, json_pack("{s:s, s:s, s:s, s:I}", "accountId", u->mreq->account_id,
						    "blobId", blob_id, "type", u->type, "size",
						    (json_int_t)u->size));
	}
	jmap_mail_req_unref(&u->mreq);
	free(u);
}

void jmap_binary_upload(struct http_request *req, struct jmap_mail_req *mreq, uint64_t max_size)
{
	char seg[SEGMENTS_MAX][SEGMENT_MAX];
	struct evbuffer *body = http_request_body(req);
	size_t len = evbuffer_get_length(body);
	const char *type = http_request_header(req, "Content-Type");
	struct upload *u;
	int n = segments(http_request_path(req), "/jmap/upload/", seg, SEGMENTS_MAX);

	if (n != 1 || strcmp(seg[0], mreq->account_id) != 0) {
		http_respond_text(req, 404, "text/plain; charset=utf-8", "no such account\n");
		jmap_mail_req_unref(&mreq);
		return;
	}
	if (len > max_size) {
		http_respond_text(req, 413, "text/plain; charset=utf-8", "larger than maxSizeUpload\n");
		jmap_mail_req_unref(&mreq);
		return;
	}
	u = xcalloc(1, sizeof *u);
	u->req = req;
	u->mreq = mreq;
	u->size = len;
	snprintf(u->type, sizeof u->type, "%s", safe_type(type) ? type : "application/octet-stream");
	http_request_on_cancel(req, upload_cancel, u);
	jmap_blob_upload(mreq, u->type, evbuffer_pullup(body, -1), len, uploaded, u);
}

/* RFC 6266 4.3: the name as a quoted ASCII filename (others replaced by
 * '_') and, when it is not plain ASCII, as filename*=UTF-8''. */
static void disposition(const char *name, struct buf *out)
{
	buf_puts(out, "attachment; filename=\"");
	for (const char *p = name; *p; p++)
		buf_append(out, (unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e || *p == '"' || *p == '\\' ?
					"_" : p, 1);
	buf_puts(out, "\"");
	for (const char *p = name; *p; p++) {
		if ((unsigned char)*p > 0x7e) {
			buf_puts(out, "; filename*=UTF-8''");
			for (const unsigned char *q = (const unsigned char *)name; *q; q++) {
				if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
				    strchr("!#$&+-.^_`|~", *q) != NULL)
					buf_append(out, (const char *)q, 1);
				else
					buf_printf(out, "%%%02X", *q);
			}
			break;
		}
	}
}

void jmap_binary_download(struct http_request *req, struct jmap_mail_req *mreq)
{
	char seg[SEGMENTS_MAX][SEGMENT_MAX], *data = NULL, *type = NULL, *accept = NULL;
	const char *error = NULL, *q = http_request_query(req);
	struct http_response resp;
	struct buf disp = BUF_INIT;
	size_t len = 0;
	int n = segments(http_request_path(req), "/jmap/download/", seg, SEGMENTS_MAX), r;

	if (n != 3) {
		http_respond_text(req, 404, "text/plain; charset=utf-8", "no such blob\n");
		jmap_mail_req_unref(&mreq);
		return;
	}
	/* Another account's id: one shared with the user, else not found. */
	if (strcmp(seg[0], mreq->account_id) == 0)
		r = jmap_blob_read(mreq->node, mreq->address, seg[1], &data, &len, &type, &error);
	else
		r = jmap_shared_blob_read(mreq, seg[0], seg[1], &data, &len, &type, &error);
	if (r <= 0) {
		if (r < 0)
			log_error("jmap: download for %s: %s", mreq->address, error);
		http_respond_text(req, r < 0 ? 500 : 404, "text/plain; charset=utf-8",
				  r < 0 ? "the blob cannot be read\n" : "no such blob\n");
		jmap_mail_req_unref(&mreq);
		return;
	}
	/* RFC 8620 6.2: the type the client asks for ({type}), else ours. */
	if (q != NULL && http_query_param(q, "accept", &accept, &error) < 0)
		accept = NULL;
	http_response_init(&resp, 200);
	(void)http_response_field(&resp, "Content-Type",
				  safe_type(accept) ? accept : safe_type(type) ? type : "application/octet-stream",
				  &error);
	disposition(seg[2], &disp);
	(void)http_response_field(&resp, "Content-Disposition", disp.data, &error);
	/* RFC 8620 6.2: the blob never changes; caching is the client's. */
	(void)http_response_field(&resp, "Cache-Control", "private, immutable, max-age=31536000", &error);
	http_respond(req, &resp, data, len);
	http_response_clear(&resp);
	buf_free(&disp);
	free(accept);
	free(type);
	free(data);
	jmap_mail_req_unref(&mreq);
}

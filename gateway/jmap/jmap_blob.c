/* jmap_blob - see jmap_blob.h: blob ids, per-account reads, uploads.
 *
 * An upload stores the bytes in the blob topic (gateway/deliver_blob.h,
 * the chunks delivery writes), then records the upload in the account's
 * mail partition with a blob.upload event (projector/mail.h); it is
 * answered once both the record and the last chunk are applied on this
 * node, so a read right after the answer finds the bytes. An empty upload
 * has no chunks: its record is enough. An upload keeps its blob for
 * blob.upload_ttl_s (RFC 8620 6.1); after that, unless a message references
 * the same bytes, the body collector may take it (projector/blob_gc.h). */
#include "gateway/jmap/jmap_blob_private.h"
#include "common/ids.h"
#include "gateway/jmap/jmap_email_body.h"
#include "gateway/command.h"
#include "gateway/deliver_blob.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/mime.h"
#include "projector/mail.h"
#include "projector/mail_jmap.h"

#include <ctype.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int jmap_blob_ref_parse(const char *blob_id, struct jmap_blob_ref *ref)
{
	size_t n;

	memset(ref, 0, sizeof *ref);
	if (blob_id == NULL || (blob_id[0] != 'b' && blob_id[0] != 'm'))
		return -1;
	ref->upload = blob_id[0] == 'b';
	n = ref->upload ? 64 : 32;
	if (strnlen(blob_id + 1, n + 1) < n || !hex_valid(blob_id + 1, n) ||
	    (blob_id[1 + n] != '\0' && blob_id[1 + n] != '_'))
		return -1;
	memcpy(ref->hex, blob_id + 1, n);
	ref->hex[n] = '\0';
	ref->part = blob_id[1 + n] == '_';
	return 0;
}

void jmap_blob_email_id(const char *blob_hex, const char *prefix, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c, blob_hex, strlen(blob_hex)) != 1 ||
	    EVP_DigestUpdate(c, prefix, strlen(prefix)) != 1 || EVP_DigestFinal_ex(c, md, &n) != 1)
		log_panic("jmap: SHA-256 failed");
	EVP_MD_CTX_free(c);
	evm_hex_encode(md, 16, out);
}

/* ---- reading ---- */

/* The first copy of an email of the account: 1 with its mailbox and UID. */
static int first_copy(struct view *view, const char *address, const char *email_id, char mbox[33],
		      uint32_t *uid_r, const char **error_r)
{
	json_t *locs = json_array(), *loc;
	int r = mail_jmap_email_locations(view, address, email_id, locs, error_r);

	if (r == 1) {
		loc = json_array_get(locs, 0);
		snprintf(mbox, 33, "%s", json_string_value(json_array_get(loc, 0)) ?
				    json_string_value(json_array_get(loc, 0)) : "");
		*uid_r = (uint32_t)json_integer_value(json_array_get(loc, 1));
	}
	json_decref(locs);
	return r;
}

/* "type/subtype" of a summary part, malloc'ed. */
static char *part_type(json_t *part)
{
	const char *t = json_string_value(json_object_get(part, "type"));
	const char *s = json_string_value(json_object_get(part, "subtype"));
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s/%s", t != NULL ? t : "text", s != NULL ? s : "plain");
	return buf_steal(&b);
}

/* The decoded part part_id of a message (raw[len], summary offsets from
 * base) into *data_r: 1, or 0 when there is no such leaf part. */
static int cut_part(json_t *summary, const char *raw, size_t len, size_t base, const char *part_id,
		    char **data_r, size_t *len_r, char **type_r)
{
	struct jmap_body_msg m = { raw, len, base, "" };
	json_t *part = jmap_body_find(json_object_get(summary, "part"), part_id);
	struct buf out = BUF_INIT;

	if (part == NULL)
		return 0;
	jmap_body_content(&m, part, &out);
	*len_r = out.len;
	*data_r = out.len == 0 ? xstrdup("") : buf_steal(&out);
	buf_free(&out);
	*type_r = part_type(part);
	return 1;
}

/* An email's raw message, or one of its parts from the stored summary. */
static int read_email(struct node *node, const char *address, const char *email_id, const char *part_id,
		      char **data_r, size_t *len_r, char **type_r, const char **error_r)
{
	json_t *msg = NULL, *summary = NULL;
	char mbox[33], *raw = NULL;
	size_t len = 0;
	uint32_t uid = 0;
	int r;

	if ((r = first_copy(node->view, address, email_id, mbox, &uid, error_r)) <= 0)
		return r;
	if ((r = mail_message_body(node->view, address, mbox, uid, &raw, &len, error_r)) <= 0)
		return r;
	if (part_id == NULL) {
		*data_r = raw;
		*len_r = len;
		*type_r = xstrdup("message/rfc822");
		return 1;
	}
	if ((r = mail_message_get(node->view, address, mbox, uid, &msg, error_r)) > 0 &&
	    (r = mail_summary_get(node->view, address, email_id, &summary, error_r)) > 0) {
		const char *prefix = json_string_value(json_object_get(msg, "prefix"));
		size_t base = prefix != NULL ? strlen(prefix) : 0;

		r = base <= len ? cut_part(summary, raw, len, base, part_id, data_r, len_r, type_r) : 0;
	}
	json_decref(msg);
	json_decref(summary);
	free(raw);
	return r;
}

/* An upload of the account: its bytes, once complete here. */
static int read_upload(struct node *node, const char *address, const char *hex, char **data_r,
		       size_t *len_r, char **type_r, const char **error_r)
{
	json_t *up = NULL;
	const char *type;
	int r;

	if ((r = mail_upload_get(node->view, address, hex, &up, error_r)) <= 0)
		return r;
	if (json_integer_value(json_object_get(up, "size")) == 0) {
		*data_r = xstrdup("");
		*len_r = 0;
	} else if ((r = mail_blob_read(node->view, hex, data_r, len_r, error_r)) <= 0) {
		json_decref(up);
		return r;
	}
	type = json_string_value(json_object_get(up, "type"));
	*type_r = type != NULL && type[0] != '\0' ? xstrdup(type) : NULL;
	json_decref(up);
	return 1;
}

static int read_id(struct node *node, const char *address, const char *blob_id, int depth, char **data_r,
		   size_t *len_r, char **type_r, const char **error_r)
{
	char prefix[JMAP_BLOB_ID_MAX + 1], part[JMAP_BLOB_ID_MAX + 1], *raw = NULL, *type = NULL;
	struct jmap_blob_ref ref;
	json_t *summary;
	size_t len = 0;
	int r;

	if (strlen(blob_id) > JMAP_BLOB_ID_MAX || jmap_blob_ref_parse(blob_id, &ref) < 0)
		return 0;
	if (!ref.part)
		return ref.upload ? read_upload(node, address, ref.hex, data_r, len_r, type_r, error_r) :
				    read_email(node, address, ref.hex, NULL, data_r, len_r, type_r, error_r);
	if (depth >= JMAP_BLOB_DEPTH_MAX ||
	    jmap_body_blob_part(blob_id, prefix, sizeof prefix, part, sizeof part) < 0)
		return 0;
	/* A part of a stored email: its summary is in the view. */
	if (!ref.upload && strlen(prefix) == 33)
		return read_email(node, address, ref.hex, part, data_r, len_r, type_r, error_r);
	/* A part of a blob that is itself a message (an upload, an attached
	 * message): parsed here. */
	if ((r = read_id(node, address, prefix, depth + 1, &raw, &len, &type, error_r)) <= 0)
		return r;
	summary = mime_parse(raw, len, NULL);
	r = cut_part(summary, raw, len, 0, part, data_r, len_r, type_r);
	json_decref(summary);
	free(raw);
	free(type);
	return r;
}

int jmap_blob_read(struct node *node, const char *address, const char *blob_id, char **data_r,
		   size_t *len_r, char **type_r, const char **error_r)
{
	int r;

	*data_r = NULL;
	*len_r = 0;
	*type_r = NULL;
	if (blob_id == NULL || address == NULL)
		return 0;
	r = read_id(node, address, blob_id, 0, data_r, len_r, type_r, error_r);
	if (r <= 0) {
		free(*data_r);
		free(*type_r);
		*data_r = *type_r = NULL;
		*len_r = 0;
	}
	return r;
}

/* ---- uploading ---- */

struct upload {
	struct node *node;
	jmap_blob_stored_cb *cb;
	void *ctx;
	char address[EVM_ADDRESS_MAX + 1];
	char tenant[EVM_ADDRESS_MAX + 1];
	char actor[64];
	char blob_id[DELIVER_BLOB_ID_LEN + 1];
	char *type;
	size_t size;
	int pending;           /* the record and the last chunk, still to be applied */
	int failed;
	char error[256];
};

static void upload_finish(struct upload *up)
{
	char id[DELIVER_BLOB_ID_LEN + 2];

	snprintf(id, sizeof id, "b%s", up->blob_id);
	up->cb(up->ctx, up->failed ? -1 : 0, up->failed ? NULL : id, up->failed ? up->error : NULL);
	free(up->type);
	free(up);
}

static void upload_fail(struct upload *up, const char *what, const char *detail)
{
	if (up->failed)
		return;
	up->failed = 1;
	snprintf(up->error, sizeof up->error, "%s%s", what, detail != NULL ? detail : "");
}

/* The record's outcome. */
static void recorded(void *ctx, int status, json_t *outcome, const char *error)
{
	struct upload *up = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));

	if (status < 0)
		upload_fail(up, "", error);
	else if (st == NULL || strcmp(st, "accepted") != 0)
		upload_fail(up, "the upload was refused: ",
			    json_string_value(json_object_get(outcome, "reason")));
	if (--up->pending == 0)
		upload_finish(up);
}

/* The last chunk is applied here (or the wait gave up). */
static void chunks_applied(void *ctx, int status)
{
	struct upload *up = ctx;

	if (status < 0)
		upload_fail(up, "", "timeout: the blob was logged but not applied in time");
	if (--up->pending == 0)
		upload_finish(up);
}

/* An upload that fails before anything was queued still answers later. */
static void upload_deferred(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	upload_finish(ctx);
}

/* Appends the blob.upload record (and, after chunks, waits for the last
 * one to be applied too). */
static void record(struct upload *up, int32_t partition, int64_t last_offset)
{
	struct evm_event ev;
	const char *error = NULL;
	/* ttl_s: how long the upload keeps its blob from the collector
	 * (projector/blob_gc.h), fixed when it is made. */
	json_t *data = json_pack("{s:s, s:I, s:s, s:I}", "blob_id", up->blob_id, "size", (json_int_t)up->size,
				 "type", up->type, "ttl_s", (json_int_t)up->node->cfg->blob_upload_ttl_s);

	up->pending = last_offset >= 0 ? 2 : 1;
	if (evm_event_init(&ev, "blob.upload", up->tenant, up->address, up->actor, data, &error) < 0) {
		/* Nothing is queued: finish on the next turn, never here. */
		log_error("jmap: cannot build blob.upload for %s: %s", up->address, error);
		upload_fail(up, "the upload record cannot be built", "");
		event_base_once(up->node->base, -1, EV_TIMEOUT, upload_deferred, up, NULL);
		return;
	}
	if (last_offset >= 0)
		projector_wait(up->node->projector, EVM_TOPIC_BLOB, partition, last_offset, JMAP_WRITE_TIMEOUT_MS,
			       chunks_applied, up, NULL);
	command_submit(up->node, &ev, EVM_TOPIC_MAIL, up->address, JMAP_WRITE_TIMEOUT_MS, recorded, up);
}

static void blob_stored(void *ctx, int status, const char *error, int32_t partition, int64_t last_offset)
{
	struct upload *up = ctx;

	if (status < 0) {
		upload_fail(up, "", error);
		upload_finish(up);
		return;
	}
	record(up, partition, last_offset);
}

void jmap_blob_upload(const struct jmap_mail_req *req, const char *type, const void *data, size_t len,
		      jmap_blob_stored_cb *cb, void *ctx)
{
	struct upload *up = xcalloc(1, sizeof *up);
	const char *t = type != NULL ? type : "";

	up->node = req->node;
	up->cb = cb;
	up->ctx = ctx;
	snprintf(up->address, sizeof up->address, "%s", req->address);
	snprintf(up->tenant, sizeof up->tenant, "%s", req->tenant);
	snprintf(up->actor, sizeof up->actor, "%s", req->actor);
	up->type = xstrdup(t);
	up->size = len;
	deliver_blob_id(data != NULL ? data : "", len, up->blob_id);
	for (const char *p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			upload_fail(up, "the media type is not printable ASCII", "");
	if (strlen(t) > MAIL_UPLOAD_TYPE_MAX)
		upload_fail(up, "the media type is too long", "");
	if (len > (size_t)MAIL_BLOB_CHUNK_MAX * 1000000)
		upload_fail(up, "the blob is too large", "");
	if (up->failed) {
		event_base_once(up->node->base, -1, EV_TIMEOUT, upload_deferred, up, NULL);
		return;
	}
	if (len == 0)
		record(up, 0, -1);
	else
		deliver_blob_store(up->node, up->actor, up->address, up->blob_id, data, len, blob_stored, up);
}

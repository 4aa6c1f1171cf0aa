/* jmap_blob_upload_call - Blob/upload (RFC 9404 4.1): each creation's
 * data sources are checked and joined, then stored as an upload of the
 * account (jmap_blob_upload), one creation after the other so that a
 * source may name a blob created before it in the same call ("#cid"). */
#include "gateway/jmap/jmap_blob_private.h"
#include "gateway/jmap/jmap_blob_args.h"
#include "gateway/jmap/jmap_std.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

struct upload_call {
	struct jmap_call *call;
	struct jmap_mail_req *req;
	const char *account_id;
	json_t *create;              /* borrowed from the arguments */
	void *iter;                  /* the creation being stored */
	json_t *created, *not_created;
	json_t *type;                /* of the creation being stored */
	size_t size;
};

static void next_creation(struct upload_call *u);

static void not_created(struct upload_call *u, const char *cid, const char *type, const char *desc)
{
	json_object_set_new(u->not_created, cid, jmap_set_error(type, desc, type[0] == 'i' ?
								json_pack("[s]", "data") : NULL));
}

/* The octets of one blobId source: 0 (appended), or -1 after recording
 * the creation's error (1 returned for a view error). */
static int source_blob(struct upload_call *u, const char *cid, const struct jmap_blob_source *s,
		       struct buf *out)
{
	const char *id = s->blob_id, *error = NULL;
	char *data = NULL, *type = NULL;
	size_t len = 0;
	int r;

	if (id[0] == '#' && (id = jmap_call_created_id(u->call, id + 1)) == NULL) {
		not_created(u, cid, "invalidProperties", "data: a blobId names no blob created here");
		return -1;
	}
	r = jmap_blob_read(u->req->node, u->req->address, id, &data, &len, &type, &error);
	free(type);
	if (r < 0) {
		log_error("jmap: Blob/upload for %s: %s", u->req->address, error);
		return 1;
	}
	/* RFC 9404 4.1: a range that cannot be fully satisfied is invalid. */
	if (r == 0 || s->offset > len || (s->length >= 0 && (uint64_t)s->length > len - s->offset)) {
		free(data);
		not_created(u, cid, "invalidProperties",
			    r == 0 ? "data: a blobId is not found" : "data: a range is past the blob's end");
		return -1;
	}
	buf_append(out, data + s->offset, s->length >= 0 ? (size_t)s->length : len - s->offset);
	free(data);
	return 0;
}

/* An UploadObject's octets into out: 0, -1 (the creation failed, recorded)
 * or 1 (a view error). */
static int gather(struct upload_call *u, const char *cid, json_t *obj, struct buf *out)
{
	json_t *data = json_object_get(obj, "data"), *src, *v;
	const char *key, *error = NULL;
	size_t i;
	int r;

	json_object_foreach(obj, key, v) {
		if (strcmp(key, "data") != 0 && strcmp(key, "type") != 0) {
			json_object_set_new(u->not_created, cid, jmap_set_error("invalidProperties",
				"an UploadObject has data and type", json_pack("[s]", key)));
			return -1;
		}
	}
	u->type = json_object_get(obj, "type");
	if (!json_is_array(data) || (u->type != NULL && !json_is_null(u->type) && !json_is_string(u->type))) {
		json_object_set_new(u->not_created, cid, jmap_set_error("invalidProperties",
			"data is an array of data sources, type a string or null",
			json_pack("[s,s]", "data", "type")));
		return -1;
	}
	if (json_array_size(data) > JMAP_BLOB_MAX_SOURCES) {
		not_created(u, cid, "invalidProperties", "data: more sources than maxDataSources");
		return -1;
	}
	json_array_foreach(data, i, src) {
		struct jmap_blob_source s;

		if (jmap_blob_source_parse(src, &s, &error) < 0) {
			not_created(u, cid, "invalidProperties", error);
			return -1;
		}
		if (s.kind == JMAP_SOURCE_BLOB) {
			if ((r = source_blob(u, cid, &s, out)) != 0)
				return r;
		} else {
			jmap_blob_source_bytes(&s, out);
		}
		if (out->len > jmap_call_settings(u->call)->max_size_upload) {
			not_created(u, cid, "tooLarge", "the blob is larger than maxSizeBlobSet");
			return -1;
		}
	}
	return 0;
}

static void finish(struct upload_call *u)
{
	json_t *resp = json_pack("{s:s}", "accountId", u->account_id);

	json_object_set_new(resp, "created", json_object_size(u->created) ? json_incref(u->created) : json_null());
	json_object_set_new(resp, "notCreated",
			    json_object_size(u->not_created) ? json_incref(u->not_created) : json_null());
	jmap_call_reply(u->call, resp);
	json_decref(u->created);
	json_decref(u->not_created);
	jmap_mail_req_unref(&u->req);
	free(u);
}

static void stored(void *ctx, int status, const char *blob_id, const char *error)
{
	struct upload_call *u = ctx;
	const char *cid = json_object_iter_key(u->iter);

	if (status < 0) {
		/* Not logged, or its fate is unknown: the client tries again. */
		log_warn("jmap: Blob/upload for %s: %s", u->req->address, error);
		jmap_call_error(u->call, "serverUnavailable", "the blob could not be stored, try again");
		json_decref(u->created);
		json_decref(u->not_created);
		jmap_mail_req_unref(&u->req);
	free(u);
		return;
	}
	json_object_set_new(u->created, cid, json_pack("{s:s, s:O, s:I}", "id", blob_id, "type",
						       u->type != NULL ? u->type : json_null(), "size",
						       (json_int_t)u->size));
	jmap_call_set_created(u->call, cid, blob_id);
	u->iter = json_object_iter_next(u->create, u->iter);
	next_creation(u);
}

/* Stores the creations from u->iter on, then answers. */
static void next_creation(struct upload_call *u)
{
	for (; u->iter != NULL; u->iter = json_object_iter_next(u->create, u->iter)) {
		const char *cid = json_object_iter_key(u->iter);
		json_t *obj = json_object_iter_value(u->iter);
		struct buf bytes = BUF_INIT;
		int r;

		if (!json_is_object(obj)) {
			not_created(u, cid, "invalidProperties", "not an UploadObject");
			continue;
		}
		if ((r = gather(u, cid, obj, &bytes)) > 0) {
			buf_free(&bytes);
			jmap_call_error(u->call, "serverFail", "the view cannot be read");
			json_decref(u->created);
			json_decref(u->not_created);
			jmap_mail_req_unref(&u->req);
	free(u);
			return;
		}
		if (r == 0) {
			u->size = bytes.len;
			jmap_blob_upload(u->req, json_string_value(u->type), bytes.data, bytes.len, stored, u);
			buf_free(&bytes);
			return;
		}
		buf_free(&bytes);
	}
	finish(u);
}

static void blob_upload(struct jmap_call *call, json_t *args, void *ctx)
{
	const struct jmap_account *acct;
	json_t *create = json_object_get(args, "create");
	struct upload_call *u;

	(void)ctx;
	if (jmap_arg_account(call, args, "accountId", JMAP_WRITE, &acct) < 0)
		return;
	if (!json_is_object(create)) {
		jmap_arg_invalid(call, "create", "is required: an object of UploadObjects");
		return;
	}
	if (json_object_size(create) > jmap_call_settings(call)->max_objects_in_set) {
		jmap_call_error(call, "requestTooLarge", "more creations than maxObjectsInSet");
		return;
	}
	u = xcalloc(1, sizeof *u);
	u->call = call;
	u->req = jmap_mail_req(call);
	jmap_mail_req_ref(u->req);   /* a cancelled run's callbacks still read it */
	u->account_id = acct->id;
	u->create = create;
	u->created = json_object();
	u->not_created = json_object();
	u->iter = json_object_iter(create);
	next_creation(u);
}

void jmap_blob_upload_register(struct jmap_api *api)
{
	jmap_method_register(api, "Blob/upload", JMAP_CAP_BLOB, blob_upload, NULL);
}

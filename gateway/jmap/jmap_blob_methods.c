/* jmap_blob_methods - Blob/get and Blob/lookup (RFC 9404 4.2, 4.3), the
 * Blob and Quota capabilities, and jmap_blob_register() for every method
 * of the BLOB work (Blob/upload: jmap_blob_upload_call.c). */
#include "gateway/jmap/jmap_blob_private.h"
#include "common/base64.h"
#include "gateway/jmap/jmap_blob_args.h"
#include "gateway/jmap/jmap_std.h"
#include "common/log.h"
#include "common/scram.h"
#include "projector/mail_jmap.h"

#include <stdlib.h>
#include <string.h>

/* The base64 digest of data[len] (RFC 9404 4.2 "digest:<algorithm>"). */
static json_t *digest_of(enum jmap_digest d, const char *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char *b64;
	json_t *j;

	if (EVP_Digest(data, len, md, &n, jmap_digest_md(d), NULL) != 1)
		log_panic("jmap: digest failed");
	b64 = evm_b64_encode(md, n);
	j = json_string(b64);
	free(b64);
	return j;
}

/* One Blob/get item over the whole blob data[len] (RFC 9404 4.2). */
static json_t *blob_item(const char *id, const struct jmap_blob_props *p, const char *data, size_t len,
			 json_int_t offset, json_int_t length)
{
	json_t *o = json_pack("{s:s}", "id", id), *text = NULL;
	size_t start = (size_t)offset < len ? (size_t)offset : len, end = len;
	int truncated = (size_t)offset > len;

	if (length >= 0 && (uint64_t)length < len - start)
		end = start + (size_t)length;
	else if (length >= 0 && (uint64_t)length > len - start)
		truncated = 1;
	if (p->data || p->as_text)
		text = json_stringn(data + start, end - start);   /* NULL: not UTF-8 */
	if (p->as_text)
		json_object_set_new(o, "data:asText", text != NULL ? json_incref(text) : json_null());
	if (p->as_base64 || (p->data && text == NULL)) {
		char *b64 = evm_b64_encode((const unsigned char *)data + start, end - start);

		json_object_set_new(o, "data:asBase64", json_string(b64));
		free(b64);
	}
	if (p->data && text != NULL)
		json_object_set(o, "data:asText", text);
	if ((p->data || p->as_text) && text == NULL)
		json_object_set_new(o, "isEncodingProblem", json_true());
	if (truncated)
		json_object_set_new(o, "isTruncated", json_true());
	for (int d = 0; d < JMAP_DIGESTS; d++) {
		if (p->digest[d]) {
			char name[32];

			snprintf(name, sizeof name, "digest:%s", jmap_digest_name(d));
			json_object_set_new(o, name, digest_of(d, data + start, end - start));
		}
	}
	if (p->size)
		json_object_set_new(o, "size", json_integer((json_int_t)len));
	json_decref(text);
	return o;
}

/* Blob/get (RFC 9404 4.2): a /get without state; offset and length
 * select the octets every data and digest property is about. */
static void blob_get(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const struct jmap_account *acct;
	struct jmap_blob_props p;
	json_t *ids = NULL, *list, *not_found, *v;
	json_int_t offset, length;
	const char *bad, *error = NULL;
	size_t i;

	(void)ctx;
	if (jmap_arg_account(call, args, "accountId", JMAP_READ, &acct) < 0 ||
	    jmap_arg_ids(call, args, "ids", jmap_call_settings(call)->max_objects_in_get, &ids) < 0 ||
	    jmap_arg_uint(call, args, "offset", 0, &offset) < 0 || jmap_arg_uint(call, args, "length", -1, &length) < 0)
		return;
	if (ids == NULL) {
		jmap_arg_invalid(call, "ids", "is required: blobs are not listed");
		return;
	}
	if (jmap_blob_props_parse(json_object_get(args, "properties"), &p, &bad) < 0) {
		json_decref(ids);
		jmap_arg_invalid(call, "properties", "names a property Blob/get does not know");
		return;
	}
	list = json_array();
	not_found = json_array();
	json_array_foreach(ids, i, v) {
		char *data = NULL, *type = NULL;
		size_t len = 0;
		int r = jmap_blob_read(req->node, req->address, json_string_value(v), &data, &len, &type, &error);

		if (r < 0) {
			log_error("jmap: Blob/get for %s: %s", req->address, error);
			json_decref(ids);
			json_decref(list);
			json_decref(not_found);
			jmap_call_error(call, "serverFail", "the view cannot be read");
			return;
		}
		if (r == 0)
			json_array_append(not_found, v);
		else
			json_array_append_new(list, blob_item(json_string_value(v), &p, data, len, offset, length));
		free(data);
		free(type);
	}
	json_decref(ids);
	jmap_call_reply(call, json_pack("{s:s, s:o, s:o}", "accountId", acct->id, "list", list, "notFound", not_found));
}

static const char *const lookup_types[] = { "Mailbox", "Thread", "Email", NULL };

/* The emails a readable blob belongs to: the email of an "m" id, or the
 * email an "b" upload became when it was imported as it is. */
static int blob_emails(struct jmap_mail_req *req, const char *blob_id, json_t *emails, const char **error_r)
{
	struct jmap_blob_ref ref;
	json_t *locs;
	char eid[33];
	int r;

	if (jmap_blob_ref_parse(blob_id, &ref) < 0)
		return 0;
	if (ref.upload)
		jmap_blob_email_id(ref.hex, "", eid);
	else
		snprintf(eid, sizeof eid, "%s", ref.hex);
	locs = json_array();
	r = mail_jmap_email_locations(req->node->view, req->address, eid, locs, error_r);
	json_decref(locs);
	if (r > 0)
		json_array_append_new(emails, json_string(eid));
	return r < 0 ? -1 : 0;
}

/* matchedIds of one blob (RFC 9404 4.3) for the asked types. */
static int lookup_one(struct jmap_mail_req *req, const char *blob_id, json_t *types, json_t **matched_r,
		      const char **error_r)
{
	json_t *emails = json_array(), *boxes = json_object(), *threads = json_object(), *matched, *t, *e;
	size_t i, k;
	int ret = -1;

	if (blob_emails(req, blob_id, emails, error_r) < 0)
		goto out;
	json_array_foreach(emails, i, e) {
		json_t *locs = json_array(), *loc;
		char tid[33];
		int64_t rcv;

		if (mail_jmap_email_locations(req->node->view, req->address, json_string_value(e), locs,
					      error_r) < 0 ||
		    mail_jmap_email_thread(req->node->view, req->address, json_string_value(e), tid, &rcv,
					   error_r) < 0) {
			json_decref(locs);
			goto out;
		}
		json_array_foreach(locs, k, loc)
			json_object_set_new(boxes, json_string_value(json_array_get(loc, 0)), json_true());
		json_object_set_new(threads, tid, json_true());
		json_decref(locs);
	}
	matched = json_object();
	json_array_foreach(types, i, t) {
		const char *name = json_string_value(t), *id;
		json_t *ids, *v;

		if (strcmp(name, "Email") == 0) {
			json_object_set(matched, name, emails);
			continue;
		}
		ids = json_array();
		json_object_foreach(strcmp(name, "Mailbox") == 0 ? boxes : threads, id, v)
			json_array_append_new(ids, json_string(id));
		json_object_set_new(matched, name, ids);
	}
	*matched_r = matched;
	ret = 0;
out:
	json_decref(emails);
	json_decref(boxes);
	json_decref(threads);
	return ret;
}

/* Blob/lookup (RFC 9404 4.3): which Mailbox, Thread and Email objects
 * reference each blob. */
static void blob_lookup(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const struct jmap_account *acct;
	json_t *ids = NULL, *types = json_object_get(args, "typeNames"), *list, *not_found, *v;
	const char *error = NULL;
	size_t i;

	(void)ctx;
	if (jmap_arg_account(call, args, "accountId", JMAP_READ, &acct) < 0 ||
	    jmap_arg_ids(call, args, "ids", jmap_call_settings(call)->max_objects_in_get, &ids) < 0)
		return;
	if (ids == NULL || !json_is_array(types)) {
		json_decref(ids);
		jmap_arg_invalid(call, ids == NULL ? "ids" : "typeNames", "is required");
		return;
	}
	json_array_foreach(types, i, v) {
		int known = 0;

		for (size_t k = 0; json_is_string(v) && lookup_types[k] != NULL; k++)
			known |= strcmp(json_string_value(v), lookup_types[k]) == 0;
		if (!known) {
			json_decref(ids);
			jmap_call_error(call, "unknownDataType", "typeNames: Mailbox, Thread and Email are known");
			return;
		}
	}
	list = json_array();
	not_found = json_array();
	json_array_foreach(ids, i, v) {
		char *data = NULL, *type = NULL;
		size_t len = 0;
		json_t *matched = NULL;
		int r = jmap_blob_read(req->node, req->address, json_string_value(v), &data, &len, &type, &error);

		free(data);
		free(type);
		if (r > 0 && lookup_one(req, json_string_value(v), types, &matched, &error) < 0)
			r = -1;
		if (r < 0) {
			log_error("jmap: Blob/lookup for %s: %s", req->address, error);
			json_decref(ids);
			json_decref(list);
			json_decref(not_found);
			jmap_call_error(call, "serverFail", "the view cannot be read");
			return;
		}
		if (r == 0)
			json_array_append(not_found, v);
		else
			json_array_append_new(list, json_pack("{s:O, s:o}", "id", v, "matchedIds", matched));
	}
	json_decref(ids);
	jmap_call_reply(call, json_pack("{s:s, s:o, s:o}", "accountId", acct->id, "list", list, "notFound", not_found));
}

/* RFC 9404 3: the Blob capability of an account. */
static json_t *blob_account_caps(const struct jmap_settings *s)
{
	return json_pack("{s:I, s:i, s:[s,s,s], s:[s,s]}", "maxSizeBlobSet", (json_int_t)s->max_size_upload,
			 "maxDataSources", JMAP_BLOB_MAX_SOURCES, "supportedTypeNames", "Mailbox", "Thread",
			 "Email", "supportedDigestAlgorithms", jmap_digest_name(JMAP_DIGEST_SHA),
			 jmap_digest_name(JMAP_DIGEST_SHA256));
}

void jmap_blob_register(struct jmap_api *api)
{
	jmap_api_add_capability(api, JMAP_CAP_BLOB, json_object(), blob_account_caps(jmap_api_settings(api)));
	/* RFC 9425 3: both capability objects are empty. */
	jmap_api_add_capability(api, JMAP_CAP_QUOTA, json_object(), json_object());
	jmap_method_register(api, "Blob/get", JMAP_CAP_BLOB, blob_get, NULL);
	jmap_method_register(api, "Blob/lookup", JMAP_CAP_BLOB, blob_lookup, NULL);
	jmap_blob_upload_register(api);
	jmap_email_import_register(api);
	jmap_email_parse_register(api);
	jmap_quota_register(api);
}

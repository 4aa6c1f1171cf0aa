/* jmap_email_import_args - an EmailImport object of Email/import (RFC
 * 8621 4.8) checked completely before anything is read or written: its
 * properties, blobId, mailboxIds (existing mailboxes of the account),
 * keywords (RFC 8621 4.1.1, as IMAP flags and keywords) and receivedAt
 * (a UTCDate). See jmap_blob_private.h. */
#include "gateway/jmap/jmap_blob_private.h"
#include "gateway/jmap/jmap_blob_args.h"
#include "common/ids.h"
#include "projector/mail.h"

#include <string.h>

/* mailboxIds: Id[Boolean] of true, at least one, each an existing mailbox
 * ("#cid" of one created in this request resolved): 1, 0 or -1. */
static int check_mailboxes(struct jmap_call *call, json_t *m, struct jmap_import_args *a, const char **error_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const char *k, *id;
	json_t *v, *box;
	int r;

	if (!json_is_object(m) || json_object_size(m) == 0)
		return 0;
	json_object_foreach(m, k, v) {
		if (!json_is_true(v) || jmap_call_resolve_id(call, k, &id) != 1)
			return 0;
		if ((r = mail_mailbox_get(req->node->view, jmap_mail_address(call), id, &box, error_r)) <= 0)
			return r;
		json_decref(box);
		json_array_append_new(a->mailboxes, json_string(id));
	}
	return 1;
}

/* keywords: String[Boolean] of true; $seen, $flagged, $answered and
 * $draft are the IMAP system flags (RFC 8621 4.1.1), the rest IMAP
 * keywords (lower case). 1 or 0. */
static int check_keywords(json_t *k, struct jmap_import_args *a)
{
	static const char *const sys[][2] = { { "$seen", "\\Seen" }, { "$flagged", "\\Flagged" },
					      { "$answered", "\\Answered" }, { "$draft", "\\Draft" } };
	const char *name;
	json_t *v;

	if (k == NULL || json_is_null(k))
		return 1;
	if (!json_is_object(k))
		return 0;
	json_object_foreach(k, name, v) {
		char kw[256];
		int is_sys = 0;

		if (!json_is_true(v) || jmap_keyword_parse(name, kw) < 0)
			return 0;
		for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
			if (strcmp(kw, sys[i][0]) == 0) {
				json_array_append_new(a->flags, json_string(sys[i][1]));
				is_sys = 1;
			}
		}
		if (!is_sys)
			json_array_append_new(a->keywords, json_string(kw));
	}
	return 1;
}

int jmap_import_args_parse(struct jmap_call *call, json_t *obj, struct jmap_import_args *a,
			   const char **prop_r, const char **desc_r, const char **error_r)
{
	json_t *v, *recv = json_object_get(obj, "receivedAt"), *blob = json_object_get(obj, "blobId");
	const char *k;
	int r;

	memset(a, 0, sizeof *a);
	a->mailboxes = json_array();
	a->flags = json_array();
	a->keywords = json_array();
	*prop_r = NULL;
	if (!json_is_object(obj)) {
		*desc_r = "not an EmailImport object";
		return 0;
	}
	json_object_foreach(obj, k, v) {
		if (strcmp(k, "blobId") && strcmp(k, "mailboxIds") && strcmp(k, "keywords") && strcmp(k, "receivedAt")) {
			*prop_r = k;
			*desc_r = "not a property of EmailImport";
			return 0;
		}
	}
	/* RFC 8621 4.8: blobId, mailboxIds or keywords invalid (missing,
	 * wrong type, id not found) is invalidProperties. */
	if (!json_is_string(blob) || jmap_call_resolve_id(call, json_string_value(blob), &a->blob_id) != 1) {
		*prop_r = "blobId";
		*desc_r = "blobId: an Id expected";
		return 0;
	}
	if ((r = check_mailboxes(call, json_object_get(obj, "mailboxIds"), a, error_r)) <= 0) {
		*prop_r = "mailboxIds";
		*desc_r = "mailboxIds: one or more existing mailboxes";
		return r;
	}
	if (!check_keywords(json_object_get(obj, "keywords"), a)) {
		*prop_r = "keywords";
		*desc_r = "keywords: valid keywords set to true";
		return 0;
	}
	a->received = evm_now_ms();
	if (recv != NULL && !json_is_null(recv) && jmap_utcdate_parse(json_string_value(recv), &a->received) < 0) {
		*prop_r = "receivedAt";
		*desc_r = "receivedAt: a UTCDate expected";
		return 0;
	}
	return 1;
}

void jmap_import_args_free(struct jmap_import_args *a)
{
	json_decref(a->mailboxes);
	json_decref(a->flags);
	json_decref(a->keywords);
	memset(a, 0, sizeof *a);
}

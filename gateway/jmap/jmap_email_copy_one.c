/* jmap_email_copy_one - one Email/copy creation (RFC 8621 4.7) checked
 * against both accounts: the original the user may see, the target
 * mailboxes and the rights on them, a copy already there; and the
 * message.append that makes it (jmap_email_copy.c writes it). */
#include "gateway/jmap/jmap_email_copy_private.h"
#include "gateway/jmap/jmap_email_create.h"
#include "gateway/jmap/jmap_keywords.h"
#include "gateway/jmap/jmap_shared.h"
#include "projector/mail.h"
#include "projector/mail_acl.h"

#include <stdio.h>
#include <string.h>

void jmap_copy_not_created(struct copy_call *cc, const char *type, const char *desc, const char *prop)
{
	jmap_set_not_created(&cc->r, json_object_iter_key(cc->iter),
			     jmap_set_error(type, desc, prop != NULL ? json_pack("[s]", prop) : NULL));
}

/* The from-account's copy of email id the user may see: its message
 * record. 1, 0 when there is none, -1 on a view error. */
static int source_of(struct copy_call *cc, const char *id, json_t **msg_r, const char **error_r)
{
	struct view *view = cc->req->node->view;
	json_t *locs = json_array(), *l;
	size_t i;
	int r = mail_jmap_email_locations(view, cc->from_addr, id, locs, error_r);

	*msg_r = NULL;
	if (r > 0) {
		r = 0;
		json_array_foreach(locs, i, l) {
			const char *mb = json_string_value(json_array_get(l, 0));

			if (!jmap_shared_allows(cc->from_scope, mb, MAIL_R_READ))
				continue;
			r = mail_message_get(view, cc->from_addr, mb, (uint32_t)json_integer_value(json_array_get(l, 1)),
					     msg_r, error_r);
			break;
		}
	}
	json_decref(locs);
	return r;
}

/* The IMAP flags of the copy: the create's keywords, or the original's
 * (without \Deleted and \Recent, which JMAP never copies). NULL when the
 * keywords are not a Keywords object. */
static json_t *copy_flags(const json_t *obj, const json_t *msg)
{
	const json_t *kw = json_object_get(obj, "keywords");
	json_t *flags, *all;

	if (kw != NULL)
		return jmap_keywords_flags(kw);
	all = json_object();
	jmap_keywords_add(all, msg);
	flags = jmap_keywords_flags(all);
	json_decref(all);
	return flags;
}

int jmap_copy_prepare(struct copy_call *cc, json_t *obj, json_t **data_r, const char **error_r)
{
	struct view *view = cc->req->node->view;
	const char *k, *id = json_string_value(json_object_get(obj, "id"));
	const char *prefix, *rcv = json_string_value(json_object_get(obj, "receivedAt"));
	json_t *v, *msg = NULL, *flags = NULL, *sys = NULL, *kws = NULL, *summary = NULL, *locs;
	int64_t received;
	size_t i;
	int r;

	*data_r = NULL;
	/* RFC 8621 4.7: only these may be given. */
	json_object_foreach(obj, k, v) {
		if (strcmp(k, "id") != 0 && strcmp(k, "mailboxIds") != 0 && strcmp(k, "keywords") != 0 &&
		    strcmp(k, "receivedAt") != 0) {
			jmap_copy_not_created(cc, "invalidProperties", "only mailboxIds, keywords and receivedAt can be set", k);
			return 0;
		}
	}
	if ((r = source_of(cc, id, &msg, error_r)) <= 0) {
		if (r == 0)
			jmap_copy_not_created(cc, "notFound", "no such email in fromAccountId", NULL);
		return r;
	}
	if (jmap_email_mailbox_ids(cc->call, json_object_get(obj, "mailboxIds"), &cc->boxes, error_r) < 0 ||
	    json_array_size(cc->boxes) == 0) {
		r = *error_r != NULL ? -1 : 0;
		if (r == 0)
			jmap_copy_not_created(cc, "invalidProperties", "at least one existing mailbox of accountId", "mailboxIds");
		goto out;
	}
	if ((flags = copy_flags(obj, msg)) == NULL ||
	    (rcv != NULL && jmap_utcdate_parse(rcv, &received) < 0)) {
		jmap_copy_not_created(cc, "invalidProperties", "not a valid value", flags == NULL ? "keywords" : "receivedAt");
		r = 0;
		goto out;
	}
	json_array_foreach(cc->boxes, i, v) {
		const char *mb = json_string_value(v);

		if (cc->to_scope != NULL && json_object_get(cc->to_scope, mb) == NULL) {
			jmap_copy_not_created(cc, "invalidProperties", "at least one existing mailbox of accountId", "mailboxIds");
			r = 0;
			goto out;
		}
		if (!jmap_shared_allows(cc->to_scope, mb, MAIL_R_INSERT | mail_acl_flag_rights(flags))) {
			jmap_copy_not_created(cc, "forbidden", "the mailbox's owner did not grant this right (RFC 4314)", NULL);
			r = 0;
			goto out;
		}
	}
	snprintf(cc->email_id, sizeof cc->email_id, "%s", json_string_value(json_object_get(msg, "email_id")));
	locs = json_array();
	r = mail_jmap_email_locations(view, cc->to_addr, cc->email_id, locs, error_r);
	json_decref(locs);
	if (r != 0) {
		if (r > 0)
			jmap_set_not_created(&cc->r, json_object_iter_key(cc->iter),
					     json_pack("{s:s, s:s}", "type", "alreadyExists", "existingId", cc->email_id));
		r = r > 0 ? 0 : -1;
		goto out;
	}
	if ((r = mail_summary_get(view, cc->from_addr, cc->email_id, &summary, error_r)) <= 0) {
		if (r == 0)
			jmap_copy_not_created(cc, "notFound", "no such email in fromAccountId", NULL);
		goto out;
	}
	prefix = json_string_value(json_object_get(msg, "prefix"));
	cc->size = json_integer_value(json_object_get(msg, "size"));
	jmap_flags_split(flags, &sys, &kws);
	*data_r = json_pack("{s:O, s:O, s:I, s:s, s:o, s:o, s:I, s:O}", "mailbox_id", json_array_get(cc->boxes, 0),
			    "blob_id", json_object_get(msg, "blob_id"),
			    "blob_size", cc->size - (json_int_t)strlen(prefix != NULL ? prefix : ""), "prefix",
			    prefix != NULL ? prefix : "", "flags", sys, "keywords", kws, "internal_date",
			    rcv != NULL ? (json_int_t)received : json_integer_value(json_object_get(msg, "internal_date")),
			    "summary", summary);
	if (*data_r == NULL) {
		*error_r = "a message record without its blob";
		r = -1;
		goto out;
	}
	r = 1;
out:
	json_decref(summary);
	json_decref(flags);
	json_decref(msg);
	return r;
}


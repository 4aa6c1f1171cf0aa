/* jmap_email_build - see jmap_email_build.h (RFC 8621 4.6): the Email,
 * its header properties and the body from textBody / htmlBody /
 * attachments; body parts are jmap_email_build_part.c's. */
#include "gateway/jmap/jmap_email_build_private.h"
#include "gateway/jmap/jmap_email_build.h"
#include "gateway/jmap/jmap_email_header.h"
#include "gateway/jmap/jmap_mime_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Properties of a created Email the server sets or that only describe a
 * stored message (RFC 8621 4.1, 4.6). */
static const char *const email_server_set[] = { "id", "blobId", "threadId", "size", "preview",
						"hasAttachment", "headers", NULL };
/* The Email properties the caller handles. */
static const char *const email_caller[] = { "mailboxIds", "keywords", "receivedAt", NULL };

/* Convenience properties and the header field and form they stand for. */
static const struct {
	const char *prop, *field;
	enum mime_form form;
} convenience[] = {
	{ "messageId", "Message-ID", MIME_FORM_MESSAGE_IDS },
	{ "inReplyTo", "In-Reply-To", MIME_FORM_MESSAGE_IDS },
	{ "references", "References", MIME_FORM_MESSAGE_IDS },
	{ "sender", "Sender", MIME_FORM_ADDRESSES },
	{ "from", "From", MIME_FORM_ADDRESSES },
	{ "to", "To", MIME_FORM_ADDRESSES },
	{ "cc", "Cc", MIME_FORM_ADDRESSES },
	{ "bcc", "Bcc", MIME_FORM_ADDRESSES },
	{ "replyTo", "Reply-To", MIME_FORM_ADDRESSES },
	{ "subject", "Subject", MIME_FORM_TEXT },
	{ "sentAt", "Date", MIME_FORM_DATE },
};

/* Fields a body part gets from its own properties, never as header:*. */
static const char *const part_own_fields[] = { "content-type", "content-disposition", "content-id",
					       "content-language", "content-location",
					       "content-transfer-encoding", "mime-version", NULL };

int jmap_build_listed(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcasecmp(list[i], s) == 0)
			return 1;
	return 0;
}

void jmap_build_bad(struct jmap_build *b, const char *prop)
{
	json_t *v;
	size_t i;

	json_array_foreach(b->bad, i, v)
		if (strcmp(json_string_value(v), prop) == 0)
			return;
	json_array_append_new(b->bad, json_string(prop));
}

/* One value of a header in a form, as a field appended to out. */
static int render(struct buf *out, const char *field, enum mime_form form, const json_t *v)
{
	const char *error = NULL;

	switch (form) {
	case MIME_FORM_RAW:
		return json_is_string(v) ? jmap_mime_field_raw(out, field, json_string_value(v), json_string_length(v),
							       &error) : -1;
	case MIME_FORM_TEXT:
		return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) ?
			       jmap_mime_field_text(out, field, json_string_value(v), &error) : -1;
	case MIME_FORM_ADDRESSES:
		return jmap_mime_field_addresses(out, field, v, &error);
	case MIME_FORM_GROUPED_ADDRESSES:
		return jmap_mime_field_groups(out, field, v, &error);
	case MIME_FORM_MESSAGE_IDS:
		return jmap_mime_field_msgids(out, field, v, &error);
	case MIME_FORM_DATE:
		return jmap_mime_field_date(out, field, json_string_value(v), &error);
	case MIME_FORM_URLS:
		return jmap_mime_field_urls(out, field, v, &error);
	}
	return -1;
}

/* A header property (convenience or header:*) of an Email (part NULL)
 * or of a body part (part: the Email property it is under, named in
 * errors): its fields appended to fields, its field name
 * recorded in seen (RFC 8621 4.6: no field twice). 1 when prop is one,
 * 0 when it is no header property. */
int jmap_build_header_prop(struct jmap_build *b, const char *prop, const json_t *v, const char *part, json_t *fields,
		       json_t *seen)
{
	const char *errprop = part != NULL ? part : prop;
	struct jmap_header_prop hp;
	struct buf out = BUF_INIT;
	char lower[JMAP_HEADER_NAME_MAX + 1];
	const json_t *item;
	size_t i;
	int found = 0, ok = 1;

	for (i = 0; part == NULL && i < sizeof convenience / sizeof convenience[0]; i++) {
		if (strcmp(prop, convenience[i].prop) == 0) {
			snprintf(hp.name, sizeof hp.name, "%s", convenience[i].field);
			hp.form = convenience[i].form;
			hp.all = 0;
			found = 1;
		}
	}
	if (!found && !jmap_header_prop_parse(prop, &hp))
		return 0;
	for (i = 0; hp.name[i] != '\0'; i++)
		lower[i] = (char)(hp.name[i] >= 'A' && hp.name[i] <= 'Z' ? hp.name[i] + 32 : hp.name[i]);
	lower[i] = '\0';
	if (json_object_get(seen, lower) != NULL || !jmap_mime_field_name_ok(hp.name) ||
	    (part == NULL && strncmp(lower, "content-", 8) == 0) || (part != NULL && jmap_build_listed(part_own_fields, lower)) ||
	    strcmp(lower, "mime-version") == 0) {
		jmap_build_bad(b, errprop);
		return 1;
	}
	json_object_set_new(seen, lower, json_true());
	if (json_is_null(v))
		return 1;
	if (hp.all) {
		if (!json_is_array(v))
			ok = 0;
		json_array_foreach(v, i, item)
			if (ok && render(&out, hp.name, hp.form, item) < 0)
				ok = 0;
	} else {
		ok = render(&out, hp.name, hp.form, v) == 0;
	}
	if (ok && out.len > 0)
		json_array_append_new(fields, json_stringn_nocheck(out.data, out.len));
	if (!ok)
		jmap_build_bad(b, errprop);
	buf_free(&out);
	return 1;
}

static json_t *multipart(const char *type, json_t *parts)
{
	return json_pack("{s:s, s:{}, s:[], s:o}", "type", type, "params", "fields", "parts", parts);
}

/* The one part of textBody or htmlBody, of type want (4.6), or NULL. */
static json_t *single(struct jmap_build *b, const json_t *email, const char *prop, const char *want, int *bad_r)
{
	const json_t *list = json_object_get(email, prop);
	json_t *part;

	if (list == NULL || json_is_null(list))
		return NULL;
	if (!json_is_array(list) || json_array_size(list) != 1) {
		jmap_build_bad(b, prop);
		*bad_r = 1;
		return NULL;
	}
	part = jmap_build_part(b, json_array_get(list, 0), 1, prop);
	if (part != NULL && strcmp(json_string_value(json_object_get(part, "type")), want) != 0) {
		jmap_build_bad(b, prop);
		json_decref(part);
		part = NULL;
	}
	if (part == NULL)
		*bad_r = 1;
	return part;
}

/* textBody / htmlBody / attachments as one tree (see the header). */
static json_t *from_lists(struct jmap_build *b, const json_t *email)
{
	const json_t *atts = json_object_get(email, "attachments"), *a;
	json_t *text, *html, *body = NULL, *inline_parts = json_array(), *rest = json_array(), *p;
	int bad = 0;
	size_t i;

	text = single(b, email, "textBody", "text/plain", &bad);
	html = single(b, email, "htmlBody", "text/html", &bad);
	if (atts != NULL && !json_is_null(atts) && !json_is_array(atts)) {
		jmap_build_bad(b, "attachments");
		bad = 1;
	}
	json_array_foreach(atts, i, a) {
		if ((p = jmap_build_part(b, a, 1, "attachments")) == NULL) {
			bad = 1;
			continue;
		}
		/* Inline with a Content-ID: referenced from the HTML (RFC 2387). */
		if (html != NULL && json_is_object(a) && json_is_string(json_object_get(a, "cid")) &&
		    json_string_value(json_object_get(a, "disposition")) != NULL &&
		    strcasecmp(json_string_value(json_object_get(a, "disposition")), "inline") == 0)
			json_array_append_new(inline_parts, p);
		else
			json_array_append_new(rest, p);
	}
	if (bad) {
		json_decref(text);
		json_decref(html);
		json_decref(inline_parts);
		json_decref(rest);
		return NULL;
	}
	if (html != NULL && json_array_size(inline_parts) > 0) {
		json_array_insert_new(inline_parts, 0, html);
		html = multipart("multipart/related", inline_parts);
		inline_parts = NULL;
	}
	json_decref(inline_parts);
	if (text != NULL && html != NULL)
		body = multipart("multipart/alternative", json_pack("[o,o]", text, html));
	else
		body = text != NULL ? text : html;
	if (body == NULL && json_array_size(rest) == 0)
		body = json_pack("{s:s, s:{}, s:[], s:s}", "type", "text/plain", "params", "fields", "body", "");
	if (json_array_size(rest) == 0) {
		json_decref(rest);
		return body;
	}
	if (body != NULL)
		json_array_insert_new(rest, 0, body);
	return multipart("multipart/mixed", rest);
}

/* The SetError of a failed build. */
static json_t *build_error(struct jmap_build *b)
{
	json_t *e;

	if (b->fail != NULL)
		return json_pack("{s:s, s:s}", "type", "serverFail", "description", "a blob cannot be read");
	if (b->too_large)
		return json_pack("{s:s, s:s}", "type", "tooLarge", "description", "the message would be too large");
	if (json_array_size(b->bad) > 0) {
		e = json_pack("{s:s, s:O}", "type", "invalidProperties", "properties", b->bad);
		return e;
	}
	return json_pack("{s:s, s:O}", "type", "blobNotFound", "notFound", b->not_found);
}

int jmap_email_build(const json_t *email, const struct jmap_email_build_params *p, struct buf *out,
		     json_t **err_r)
{
	struct jmap_build b = { .p = p, .bad = json_array(), .not_found = json_array() };
	json_t *fields = json_array(), *seen = json_object(), *root = NULL, *v;
	const char *k, *error = NULL;
	struct buf f = BUF_INIT;
	char date[40];
	int ret = -1;

	*err_r = NULL;
	b.body_values = json_object_get(email, "bodyValues");
	if (!json_is_object(email)) {
		jmap_build_bad(&b, "");
		goto out;
	}
	if (b.body_values != NULL && !json_is_object(b.body_values))
		jmap_build_bad(&b, "bodyValues");
	json_object_foreach((json_t *)email, k, v) {
		if (jmap_build_listed(email_caller, k) || strcmp(k, "bodyStructure") == 0 || strcmp(k, "textBody") == 0 ||
		    strcmp(k, "htmlBody") == 0 || strcmp(k, "attachments") == 0 || strcmp(k, "bodyValues") == 0)
			continue;
		if (jmap_build_listed(email_server_set, k) || !jmap_build_header_prop(&b, k, v, NULL, fields, seen))
			jmap_build_bad(&b, k);
	}
	if (json_object_get(email, "bodyStructure") != NULL) {
		if (json_object_get(email, "textBody") != NULL || json_object_get(email, "htmlBody") != NULL ||
		    json_object_get(email, "attachments") != NULL)
			jmap_build_bad(&b, "bodyStructure");
		else
			root = jmap_build_part(&b, json_object_get(email, "bodyStructure"), 0, "bodyStructure");
	} else {
		root = from_lists(&b, email);
	}
	if (root == NULL || json_array_size(b.bad) > 0 || json_array_size(b.not_found) > 0 || b.fail != NULL ||
	    b.too_large)
		goto out;
	/* RFC 8621 4.6: Date and Message-ID when the client gave none. */
	if (json_object_get(seen, "date") == NULL) {
		jmap_mime_format_date(p->now_ms, 0, date);
		buf_printf(&f, "Date: %s\r\n", date);
	}
	if (json_object_get(seen, "message-id") == NULL && p->message_id != NULL) {
		json_t *l = json_pack("[s]", p->message_id);
		int r = jmap_mime_field_msgids(&f, "Message-ID", l, &error);

		json_decref(l);
		if (r < 0) {
			jmap_build_bad(&b, "messageId");
			goto out;
		}
	}
	if (f.len > 0)
		json_array_insert_new(fields, 0, json_stringn_nocheck(f.data, f.len));
	if (jmap_mime_write(out, fields, 1, root, &error) < 0) {
		jmap_build_bad(&b, json_object_get(email, "bodyStructure") != NULL ? "bodyStructure" : "attachments");
		goto out;
	}
	if (p->max_size > 0 && out->len > p->max_size) {
		b.too_large = 1;
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		*err_r = build_error(&b);
	buf_free(&f);
	json_decref(fields);
	json_decref(seen);
	json_decref(root);
	json_decref(b.bad);
	json_decref(b.not_found);
	return ret;
}

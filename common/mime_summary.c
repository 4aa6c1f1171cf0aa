/* mime_summary - the JSON of envelopes, header digests and parts. */
#include "common/mime_internal.h"

#include <stdlib.h>
#include <string.h>

/* Raw field as a JSON string, or null when absent. */
static json_t *raw_or_null(const struct mime_fields *f, enum mime_field k)
{
	return f->value[k] == NULL ? json_null() : mime_json_text(f->value[k], f->len[k]);
}

/* Address list of field k in envelope (env) or JMAP form. */
static json_t *addresses(const struct mime_fields *f, enum mime_field k, bool env)
{
	json_t *e, *h;

	if (f->value[k] == NULL)
		return json_array();
	mime_address_parse(f->value[k], f->len[k], &e, &h);
	json_decref(env ? h : e);
	return env ? e : h;
}

/* RFC 9051 7.5.2 ENVELOPE: sender and reply-to default to from when absent
 * or empty. */
json_t *mime_envelope_json(const struct mime_fields *f)
{
	json_t *from = addresses(f, MF_FROM, true);
	json_t *sender = addresses(f, MF_SENDER, true);
	json_t *reply_to = addresses(f, MF_REPLY_TO, true);

	if (json_array_size(sender) == 0) {
		json_decref(sender);
		sender = json_deep_copy(from);
	}
	if (json_array_size(reply_to) == 0) {
		json_decref(reply_to);
		reply_to = json_deep_copy(from);
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"date", raw_or_null(f, MF_DATE), "subject", raw_or_null(f, MF_SUBJECT),
		"from", from, "sender", sender, "reply_to", reply_to,
		"to", addresses(f, MF_TO, true), "cc", addresses(f, MF_CC, true),
		"bcc", addresses(f, MF_BCC, true),
		"in_reply_to", raw_or_null(f, MF_IN_REPLY_TO),
		"message_id", raw_or_null(f, MF_MESSAGE_ID));
}

/* Message-id list of field k ([] when absent). */
static json_t *ids(const struct mime_fields *f, enum mime_field k)
{
	return f->value[k] == NULL ? json_array() : mime_msgid_list(f->value[k], f->len[k]);
}

/* The decoded header digest for JMAP and search. */
json_t *mime_headers_json(const struct mime_fields *f)
{
	json_t *subject = json_null(), *date = json_null();
	int64_t ms;

	if (f->value[MF_SUBJECT] != NULL) {
		char *d = mime_decode_header(f->value[MF_SUBJECT], f->len[MF_SUBJECT]);

		subject = json_string(d);
		free(d);
	}
	if (f->value[MF_DATE] != NULL && mime_date_parse(f->value[MF_DATE], f->len[MF_DATE], &ms) == 0)
		date = json_integer(ms);
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"subject", subject != NULL ? subject : json_string(""), "date", date,
		"from", addresses(f, MF_FROM, false), "sender", addresses(f, MF_SENDER, false),
		"reply_to", addresses(f, MF_REPLY_TO, false), "to", addresses(f, MF_TO, false),
		"cc", addresses(f, MF_CC, false), "bcc", addresses(f, MF_BCC, false),
		"message_id", ids(f, MF_MESSAGE_ID), "in_reply_to", ids(f, MF_IN_REPLY_TO),
		"references", ids(f, MF_REFERENCES));
}

/* A [start, end] pair. */
static json_t *range(uint64_t a, uint64_t b)
{
	return json_pack("[I, I]", (json_int_t)a, (json_int_t)b);
}

/* Takes a new reference of o, or JSON null. */
static json_t *ref_or_null(json_t *o)
{
	return o == NULL ? json_null() : json_incref(o);
}

/* The summary of one part and its descendants (see mime.h). */
json_t *mime_part_json(const struct mime_part *p)
{
	json_t *o = json_pack("{s:s, s:s, s:O, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I}",
		"type", p->type, "subtype", p->subtype, "params", p->params,
		"id", mime_json_str_or_null(p->id), "description", mime_json_str_or_null(p->description),
		"encoding", p->encoding, "md5", mime_json_str_or_null(p->md5),
		"language", ref_or_null(p->language), "location", mime_json_str_or_null(p->location),
		"disposition", ref_or_null(p->disposition),
		"header", range(p->hstart, p->hend), "body", range(p->bstart, p->bend),
		"size", (json_int_t)(p->bend - p->bstart), "lines", (json_int_t)p->lines);

	if (o == NULL)
		abort();   /* a broken invariant: every string here is valid */
	if (strcmp(p->type, "multipart") == 0) {
		json_t *parts = json_array();

		for (const struct mime_part *c = p->first_child; c != NULL; c = c->next)
			json_array_append_new(parts, mime_part_json(c));
		json_object_set_new(o, "parts", parts);
	}
	if (p->message != NULL)
		json_object_set_new(o, "message", json_pack("{s:O, s:o}", "envelope",
			p->message->envelope, "part", mime_part_json(p->message)));
	return o;
}

/* mime_part - the part tree the parser builds, and its header fields. */
#include "common/mime_internal.h"

#include <stdlib.h>
#include <string.h>

/* A new part, appended to parent's children (parent may be NULL). */
struct mime_part *mime_part_new(struct mime_part *parent, uint64_t hstart, unsigned depth)
{
	struct mime_part *p = xcalloc(1, sizeof *p);

	p->parent = parent;
	p->hstart = p->hend = p->bstart = p->bend = hstart;
	p->depth = depth;
	if (parent != NULL) {
		p->in_message = parent->in_message;
		p->digest_child = strcmp(parent->type, "multipart") == 0 &&
				  strcmp(parent->subtype, "digest") == 0;
		if (parent->last_child != NULL)
			parent->last_child->next = p;
		else
			parent->first_child = p;
		parent->last_child = p;
	}
	return p;
}

/* Frees one part's own fields (not its children). */
static void part_free_fields(struct mime_part *p)
{
	free(p->type);
	free(p->subtype);
	free(p->encoding);
	free(p->id);
	free(p->description);
	free(p->md5);
	free(p->location);
	free(p->boundary);
	json_decref(p->params);
	json_decref(p->disposition);
	json_decref(p->language);
	json_decref(p->envelope);
	free(p);
}

/* Frees a part tree without recursion (the tree's depth is the input's). */
void mime_part_free(struct mime_part *p)
{
	while (p != NULL) {
		struct mime_part *next;

		if (p->first_child != NULL) {   /* splice children in front */
			p->last_child->next = p->message != NULL ? p->message : p->next;
			next = p->first_child;
			if (p->message != NULL)
				p->message->next = p->next;
		} else if (p->message != NULL) {
			p->message->next = p->next;
			next = p->message;
		} else {
			next = p->next;
		}
		part_free_fields(p);
		p = next;
	}
}

/* Copies a field value, or NULL. */
static char *field_dup(const struct mime_fields *f, enum mime_field k)
{
	return f->value[k] == NULL ? NULL : xstrndup(f->value[k], f->len[k]);
}

/* Sets the default type: message/rfc822 in a digest (RFC 2046 5.1.5),
 * else text/plain; charset=us-ascii (RFC 2045 5.2). */
static void default_type(struct mime_part *p)
{
	if (p->digest_child) {
		p->type = xstrdup("message");
		p->subtype = xstrdup("rfc822");
		p->params = json_object();
	} else {
		p->type = xstrdup("text");
		p->subtype = xstrdup("plain");
		p->params = json_pack("{s:s}", "charset", "us-ascii");
	}
}

/* Fills the part from its header fields. */
void mime_part_set_fields(struct mime_part *p, const struct mime_fields *f)
{
	struct mime_ctype ct;

	if (f->value[MF_CONTENT_TYPE] != NULL &&
	    mime_content_type_parse(f->value[MF_CONTENT_TYPE], f->len[MF_CONTENT_TYPE], &ct) == 0) {
		if (strcmp(ct.type, "multipart") == 0 && ct.boundary == NULL) {
			mime_ctype_free(&ct);   /* unusable without a boundary */
			default_type(p);
		} else {
			p->type = ct.type;
			p->subtype = ct.subtype;
			p->params = ct.params;
			p->boundary = ct.boundary;
			p->boundary_len = ct.boundary != NULL ? strlen(ct.boundary) : 0;
			if (strcmp(ct.type, "multipart") != 0) {
				free(p->boundary);
				p->boundary = NULL;
				p->boundary_len = 0;
			}
		}
	} else {
		default_type(p);
	}
	p->encoding = mime_encoding_parse(f->value[MF_CTE], f->len[MF_CTE]);
	if (f->value[MF_DISPOSITION] != NULL)
		p->disposition = mime_disposition_parse(f->value[MF_DISPOSITION], f->len[MF_DISPOSITION]);
	if (f->value[MF_LANGUAGE] != NULL)
		p->language = mime_language_parse(f->value[MF_LANGUAGE], f->len[MF_LANGUAGE]);
	p->id = field_dup(f, MF_CONTENT_ID);
	p->description = field_dup(f, MF_DESCRIPTION);
	p->md5 = field_dup(f, MF_MD5);
	p->location = field_dup(f, MF_LOCATION);
	if (p->message_root)
		p->envelope = mime_envelope_json(f);
}

/* Whether the part's disposition type is dtype. */
static bool disposition_is(const struct mime_part *p, const char *dtype)
{
	const char *t = json_string_value(json_object_get(p->disposition, "type"));

	return t != NULL && strcmp(t, dtype) == 0;
}

/* has_attachment: a part with disposition attachment, or a non-text leaf
 * (message/rfc822 included) that is not inline. */
bool mime_part_has_attachment(const struct mime_part *p)
{
	for (; p != NULL; p = p->next) {
		bool multipart = strcmp(p->type, "multipart") == 0;

		if (disposition_is(p, "attachment"))
			return true;
		if (!multipart && strcmp(p->type, "text") != 0 && !disposition_is(p, "inline"))
			return true;
		if (mime_part_has_attachment(p->first_child) ||
		    (p->message != NULL && mime_part_has_attachment(p->message)))
			return true;
	}
	return false;
}

/* Whether a leaf may give the preview: text/plain or text/html, not an
 * attachment, not inside an attached message. */
int mime_part_preview_kind(const struct mime_part *p)
{
	if (p->in_message || strcmp(p->type, "text") != 0 || disposition_is(p, "attachment"))
		return 0;
	if (strcmp(p->subtype, "plain") == 0)
		return 1;
	return strcmp(p->subtype, "html") == 0 ? 2 : 0;
}

/* jmap_email_body - the body of a JMAP Email (RFC 8621 4.1.4) from the
 * MIME summary the view keeps (common/mime.h) and the stored message:
 * EmailBodyPart objects, bodyStructure, the textBody / htmlBody /
 * attachments lists, and EmailBodyValue.
 *
 * Part ids are IMAP section numbers ("1", "2.1"); a multipart has none
 * (4.1.4: partId and blobId are null iff the part is a multipart). A part's
 * blobId is the email's blob prefix + "_" + its part id with '.' as '-'
 * (JMAP Ids allow only A-Za-z0-9-_), resolved back by
 * jmap_body_blob_part. Sizes are of the decoded content (4.1.4 "size"), so
 * the message's bytes are needed: the caller passes them. */
#ifndef EVM_JMAP_EMAIL_BODY_H
#define EVM_JMAP_EMAIL_BODY_H

#include <jansson.h>
#include <stddef.h>

struct jmap_body_msg {
	const char *raw;          /* the stored message: prefix + blob */
	size_t raw_len;
	size_t base;              /* strlen(prefix): summary offsets are relative to the blob */
	const char *blob_prefix;  /* e.g. "m<email id>": part blob ids start with it */
};

/* Whether name is an EmailBodyPart property (4.1.4), including
 * "header:<name>[:as<Form>][:all]" forms that mime_forms allows. 1 or 0. */
int jmap_body_prop_valid(const char *name);
/* The default bodyProperties of Email/get (4.2). New reference. */
json_t *jmap_body_default_props(void);

/* The EmailBodyPart of summary part `part` (section number part_id, ""
 * for the root) with the properties in props (array of names, already
 * valid); recursive through subParts when asked. New reference. */
json_t *jmap_body_part(const struct jmap_body_msg *m, json_t *part, const char *part_id, json_t *props);

/* textBody, htmlBody and attachments of a message's root part, by the
 * algorithm of RFC 8621 4.1.4, each a new array of EmailBodyPart with
 * props. */
void jmap_body_lists(const struct jmap_body_msg *m, json_t *root, json_t *props, json_t **text_r,
		     json_t **html_r, json_t **attachments_r);

/* The EmailBodyValue of a text part (4.1.4 bodyValues): the decoded
 * UTF-8 text, cut at max_bytes octets (0 = no limit) on a character
 * boundary. New reference. */
json_t *jmap_body_value(const struct jmap_body_msg *m, json_t *part, size_t max_bytes);

/* Finds the summary part of part id `part_id` ("1", "2.1"); NULL when
 * there is none or it is a multipart. Borrowed reference. */
json_t *jmap_body_find(json_t *root, const char *part_id);
/* Splits a part blob id "<prefix>_<part id with '-'>" into the email
 * blob prefix (copied to prefix[psize]) and the part id (part[psize]).
 * 0, or -1 when it is not of that form. */
int jmap_body_blob_part(const char *blob_id, char *prefix, size_t psize, char *part, size_t partsize);
/* The decoded content of a leaf part (what its blobId names), appended
 * to out. */
struct buf;
void jmap_body_content(const struct jmap_body_msg *m, json_t *part, struct buf *out);

#endif

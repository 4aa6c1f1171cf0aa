/* jmap_email_body - see jmap_email_body.h (RFC 8621 4.1.4). */
#include "gateway/jmap/jmap_email_body.h"
#include "gateway/jmap/jmap_email_header.h"
#include "common/buf.h"
#include "common/mime.h"
#include "common/mime_forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PART_ID_MAX 256

static const char *const props_all[] = {
	"partId", "blobId", "size", "headers", "name", "type", "charset", "disposition",
	"cid", "language", "location", "subParts",
};

int jmap_body_prop_valid(const char *name)
{
	struct jmap_header_prop hp;

	for (size_t i = 0; i < sizeof props_all / sizeof props_all[0]; i++)
		if (strcmp(name, props_all[i]) == 0)
			return 1;
	return jmap_header_prop_parse(name, &hp);
}

/* RFC 8621 4.2: the default bodyProperties. */
json_t *jmap_body_default_props(void)
{
	return json_pack("[s,s,s,s,s,s,s,s,s,s]", "partId", "blobId", "size", "name", "type", "charset",
			 "disposition", "cid", "language", "location");
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* "type/subtype" in out. */
static void type_of(json_t *part, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", str(part, "type") ? str(part, "type") : "text",
		 str(part, "subtype") ? str(part, "subtype") : "plain");
}

static int is_multipart(json_t *part)
{
	const char *t = str(part, "type");

	return t != NULL && strcmp(t, "multipart") == 0;
}

/* A span [start, end] of the summary, checked against the message. */
static int span(const struct jmap_body_msg *m, json_t *part, const char *key, const char **p_r,
		size_t *len_r)
{
	json_t *a = json_object_get(part, key);
	json_int_t s = json_integer_value(json_array_get(a, 0)), e = json_integer_value(json_array_get(a, 1));

	*p_r = "";
	*len_r = 0;
	if (m->raw == NULL || m->base > m->raw_len || s < 0 || e < s || (size_t)e > m->raw_len - m->base)
		return -1;
	*p_r = m->raw + m->base + s;
	*len_r = (size_t)(e - s);
	return 0;
}

/* 4.1.4 "name": the disposition's filename, else Content-Type's name,
 * RFC 2231 decoded by the parser and RFC 2047 decoded here (mailers use
 * both). New reference, or JSON null. */
static json_t *part_name(json_t *part)
{
	const char *n = str(json_object_get(json_object_get(part, "disposition"), "params"), "filename");
	char *d;
	json_t *j;

	if (n == NULL)
		n = str(json_object_get(part, "params"), "name");
	if (n == NULL)
		return json_null();
	d = mime_decode_header(n, strlen(n));
	j = json_string(d);
	free(d);
	return j != NULL ? j : json_string(n);
}

/* The section number of the n-th child (from 1) of part_id. */
static void child_id(const char *part_id, size_t n, char *out, size_t size)
{
	if (part_id[0] == '\0')
		snprintf(out, size, "%zu", n);
	else
		snprintf(out, size, "%s.%zu", part_id, n);
}

static json_t *blob_id(const struct jmap_body_msg *m, const char *part_id)
{
	struct buf b = BUF_INIT;
	json_t *j;

	buf_puts(&b, m->blob_prefix);
	buf_puts(&b, "_");
	for (const char *p = part_id; *p; p++)
		buf_append(&b, *p == '.' ? "-" : p, 1);
	j = json_string(b.data);
	buf_free(&b);
	return j;
}

void jmap_body_content(const struct jmap_body_msg *m, json_t *part, struct buf *out)
{
	const char *body;
	size_t len;

	if (span(m, part, "body", &body, &len) == 0)
		mime_transfer_decode(str(part, "encoding"), body, len, out);
}

/* 4.1.4 "size": octets after content transfer decoding. */
static json_int_t decoded_size(const struct jmap_body_msg *m, json_t *part)
{
	const char *enc = str(part, "encoding");
	struct buf b = BUF_INIT;
	json_int_t n;

	if (is_multipart(part) || enc == NULL ||
	    (strcasecmp(enc, "base64") != 0 && strcasecmp(enc, "quoted-printable") != 0))
		return json_integer_value(json_object_get(part, "size"));
	jmap_body_content(m, part, &b);
	n = (json_int_t)b.len;
	buf_free(&b);
	return n;
}

static json_t *charset_of(json_t *part)
{
	const char *cs = str(json_object_get(part, "params"), "charset");

	if (cs != NULL)
		return json_string(cs);
	/* 4.1.4: a text part without a charset is implicitly us-ascii. */
	if (str(part, "type") != NULL && strcmp(str(part, "type"), "text") == 0)
		return json_string("us-ascii");
	return json_null();
}

/* Content-ID without its angle brackets (4.1.4 "cid"). */
static json_t *cid_of(json_t *part)
{
	const char *id = str(part, "id");
	size_t len;

	if (id == NULL)
		return json_null();
	while (*id == ' ' || *id == '\t' || *id == '<')
		id++;
	len = strlen(id);
	while (len > 0 && (id[len - 1] == '>' || id[len - 1] == ' ' || id[len - 1] == '\t'))
		len--;
	return json_stringn(id, len);
}

static json_t *or_null(json_t *v)
{
	return v != NULL ? json_incref(v) : json_null();
}

static json_t *prop_value(const struct jmap_body_msg *m, json_t *part, const char *part_id,
			  const char *name, json_t *props)
{
	int multi = is_multipart(part);
	char type[128];
	const char *hdr;
	size_t hlen;
	struct jmap_header_prop hp;

	if (strcmp(name, "partId") == 0)
		return multi ? json_null() : json_string(part_id);
	if (strcmp(name, "blobId") == 0)
		return multi ? json_null() : blob_id(m, part_id);
	if (strcmp(name, "size") == 0)
		return json_integer(decoded_size(m, part));
	if (strcmp(name, "name") == 0)
		return part_name(part);
	if (strcmp(name, "type") == 0) {
		type_of(part, type, sizeof type);
		return json_string(type);
	}
	if (strcmp(name, "charset") == 0)
		return charset_of(part);
	if (strcmp(name, "disposition") == 0)
		return or_null(json_object_get(json_object_get(part, "disposition"), "type"));
	if (strcmp(name, "cid") == 0)
		return cid_of(part);
	if (strcmp(name, "language") == 0)
		return or_null(json_object_get(part, "language"));
	if (strcmp(name, "location") == 0)
		return or_null(json_object_get(part, "location"));
	if (strcmp(name, "subParts") == 0) {
		json_t *subs, *child;
		size_t i;

		if (!multi)
			return json_null();
		subs = json_array();
		json_array_foreach(json_object_get(part, "parts"), i, child) {
			char cid[PART_ID_MAX];

			child_id(part_id, i + 1, cid, sizeof cid);
			json_array_append_new(subs, jmap_body_part(m, child, cid, props));
		}
		return subs;
	}
	span(m, part, "header", &hdr, &hlen);
	if (strcmp(name, "headers") == 0)
		return mime_header_fields(hdr, hlen);
	if (jmap_header_prop_parse(name, &hp))
		return jmap_header_prop_value(&hp, hdr, hlen);
	return json_null();
}

json_t *jmap_body_part(const struct jmap_body_msg *m, json_t *part, const char *part_id, json_t *props)
{
	json_t *out = json_object(), *p;
	char id[PART_ID_MAX];
	size_t i;

	/* The root of a single-part message is section 1 (RFC 9051 6.4.5). */
	snprintf(id, sizeof id, "%s", part_id[0] == '\0' && !is_multipart(part) ? "1" : part_id);
	json_array_foreach(props, i, p) {
		const char *name = json_string_value(p);

		if (name != NULL)
			json_object_set_new(out, name, prop_value(m, part, id, name, props));
	}
	return out;
}

static int inline_media(const char *type)
{
	return strncmp(type, "image/", 6) == 0 || strncmp(type, "audio/", 6) == 0 ||
	       strncmp(type, "video/", 6) == 0;
}

struct lists {
	const struct jmap_body_msg *m;
	json_t *props, *att;
};

/* RFC 8621 4.1.4 parseStructure(), over summary parts. text or html NULL
 * stands for the algorithm's null list. */
static void parse_structure(struct lists *l, json_t *parts, const char *parent_id, const char *mtype,
			    int in_alt, json_t *html, json_t *text)
{
	size_t text_len = text != NULL ? json_array_size(text) : (size_t)-1;
	size_t html_len = html != NULL ? json_array_size(html) : (size_t)-1;
	json_t *part;
	size_t i;

	json_array_foreach(parts, i, part) {
		char type[128], id[PART_ID_MAX];
		const char *disp = str(json_object_get(part, "disposition"), "type");
		json_t *name = part_name(part), *jp;
		int is_inline, multi = is_multipart(part);

		type_of(part, type, sizeof type);
		if (parent_id == NULL)
			snprintf(id, sizeof id, "%s", multi ? "" : "1");
		else
			child_id(parent_id, i + 1, id, sizeof id);
		is_inline = (disp == NULL || strcasecmp(disp, "attachment") != 0) &&
			    (strcmp(type, "text/plain") == 0 || strcmp(type, "text/html") == 0 ||
			     inline_media(type)) &&
			    (i == 0 || (strcmp(mtype, "related") != 0 &&
					(inline_media(type) || json_is_null(name))));
		json_decref(name);
		if (multi) {
			const char *sub = str(part, "subtype") ? str(part, "subtype") : "mixed";

			parse_structure(l, json_object_get(part, "parts"), id, sub,
					in_alt || strcmp(sub, "alternative") == 0, html, text);
			continue;
		}
		jp = jmap_body_part(l->m, part, id, l->props);
		if (!is_inline) {
			json_array_append_new(l->att, jp);
			continue;
		}
		if (strcmp(mtype, "alternative") == 0) {
			if (strcmp(type, "text/plain") == 0 && text != NULL)
				json_array_append(text, jp);
			else if (strcmp(type, "text/html") == 0 && html != NULL)
				json_array_append(html, jp);
			else if (strcmp(type, "text/plain") != 0 && strcmp(type, "text/html") != 0)
				json_array_append(l->att, jp);
			json_decref(jp);
			continue;
		}
		if (in_alt) {
			if (strcmp(type, "text/plain") == 0)
				html = NULL;
			if (strcmp(type, "text/html") == 0)
				text = NULL;
		}
		if (text != NULL)
			json_array_append(text, jp);
		if (html != NULL)
			json_array_append(html, jp);
		if ((text == NULL || html == NULL) && inline_media(type))
			json_array_append(l->att, jp);
		json_decref(jp);
	}
	if (strcmp(mtype, "alternative") == 0 && text != NULL && html != NULL) {
		/* Only an HTML part was found: it is the text body too; and the
		 * other way round. */
		if (text_len == json_array_size(text) && html_len != json_array_size(html))
			for (size_t k = html_len; k < json_array_size(html); k++)
				json_array_append(text, json_array_get(html, k));
		if (html_len == json_array_size(html) && text_len != json_array_size(text))
			for (size_t k = text_len; k < json_array_size(text); k++)
				json_array_append(html, json_array_get(text, k));
	}
}

void jmap_body_lists(const struct jmap_body_msg *m, json_t *root, json_t *props, json_t **text_r,
		     json_t **html_r, json_t **attachments_r)
{
	struct lists l = { m, props, json_array() };
	json_t *parts = json_pack("[O]", root);

	*text_r = json_array();
	*html_r = json_array();
	parse_structure(&l, parts, NULL, "mixed", 0, *html_r, *text_r);
	json_decref(parts);
	*attachments_r = l.att;
}

json_t *jmap_body_value(const struct jmap_body_msg *m, json_t *part, size_t max_bytes)
{
	struct buf text = BUF_INIT;
	const char *body, *cs = str(json_object_get(part, "params"), "charset");
	size_t len, n;
	int problem = 0, truncated = 0;
	json_t *out;
	char *probe = NULL;
	size_t probe_len = 0;

	if (span(m, part, "body", &body, &len) < 0)
		problem = 1;
	/* An unknown charset is an encoding problem (the text is then read as
	 * UTF-8 or Windows-1252). */
	if (cs != NULL && mime_to_utf8(cs, "", 0, &probe, &probe_len) < 0)
		problem = 1;
	free(probe);
	mime_body_text(str(part, "encoding"), cs, body, len, &text);
	n = text.len;
	if (max_bytes > 0 && n > max_bytes) {
		n = max_bytes;
		while (n > 0 && ((unsigned char)text.data[n] & 0xC0) == 0x80)
			n--;
		truncated = 1;
	}
	out = json_pack("{s:s%, s:b, s:b}", "value", text.data != NULL ? text.data : "", n,
			"isEncodingProblem", problem, "isTruncated", truncated);
	buf_free(&text);
	return out;
}

json_t *jmap_body_find(json_t *root, const char *part_id)
{
	json_t *part = root;
	const char *p = part_id;

	if (!is_multipart(root))
		return strcmp(part_id, "1") == 0 ? root : NULL;
	while (*p) {
		char *end;
		unsigned long n = strtoul(p, &end, 10);

		if (end == p || n == 0 || (*end != '.' && *end != '\0') || !is_multipart(part))
			return NULL;
		part = json_array_get(json_object_get(part, "parts"), n - 1);
		if (part == NULL)
			return NULL;
		p = *end == '.' ? end + 1 : end;
		if (*end == '.' && *p == '\0')
			return NULL;
	}
	return is_multipart(part) ? NULL : part;
}

int jmap_body_blob_part(const char *blob_id, char *prefix, size_t psize, char *part, size_t partsize)
{
	const char *us = strrchr(blob_id, '_');
	size_t plen;

	if (us == NULL || us == blob_id || us[1] == '\0')
		return -1;
	plen = (size_t)(us - blob_id);
	if (plen >= psize || strlen(us + 1) >= partsize)
		return -1;
	memcpy(prefix, blob_id, plen);
	prefix[plen] = '\0';
	for (size_t i = 0; us[1 + i]; i++) {
		char c = us[1 + i];

		if (c != '-' && (c < '0' || c > '9'))
			return -1;
		part[i] = c == '-' ? '.' : c;
		part[i + 1] = '\0';
	}
	return 0;
}

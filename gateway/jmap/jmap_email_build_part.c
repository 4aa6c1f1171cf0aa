/* jmap_email_build_part - the EmailBodyPart objects of an Email creation
 * (RFC 8621 4.6) as parts of the writer's tree: multipart or leaf, the
 * content from bodyValues or a blob, and the part's own fields. */
#include "gateway/jmap/jmap_email_build_private.h"
#include "gateway/jmap/jmap_email_build.h"
#include "gateway/jmap/jmap_email_header.h"
#include "gateway/jmap/jmap_mime_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* An RFC 2045 5.1 token of at most max octets. */
static int is_token(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("()<>@,;:\\\"/[]?=", *p) != NULL)
			return 0;
	return 1;
}

/* "type/subtype" of RFC 2045 5.1 tokens, lower-cased into out. */
static int media_type(const char *s, char *out, size_t size)
{
	size_t n = strlen(s), slash = 0;

	if (n == 0 || n >= size)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '/' && slash == 0 && i > 0) {
			slash = i;
		} else if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL) {
			return -1;
		}
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[n] = '\0';
	return slash > 0 && slash + 1 < n ? 0 : -1;
}

/* Text from bodyValues in canonical form: every line end CRLF (RFC 2045 6.7). */
static json_t *crlf_text(const char *s, size_t len)
{
	struct buf o = BUF_INIT;
	json_t *j;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') {
			buf_puts(&o, "\r\n");
			i++;
		} else if (s[i] == '\r' || s[i] == '\n') {
			buf_puts(&o, "\r\n");
		} else {
			buf_append(&o, s + i, 1);
		}
	}
	j = json_stringn_nocheck(o.data != NULL ? o.data : "", o.len);
	buf_free(&o);
	return j;
}

static const char *const part_props[] = { "partId", "blobId", "type", "charset", "disposition", "name",
					  "cid", "language", "location", "subParts", "size", NULL };

/* The content of a leaf: from bodyValues (partId) or a blob (blobId). */
static int leaf_content(struct jmap_build *b, const json_t *bp, json_t *part, const char *prop)
{
	const char *pid = json_string_value(json_object_get(bp, "partId"));
	const char *bid = json_string_value(json_object_get(bp, "blobId"));
	const char *type = json_string_value(json_object_get(part, "type"));
	json_t *charset = json_object_get(bp, "charset"), *bv;

	if ((pid == NULL) == (bid == NULL)) {
		jmap_build_bad(b, prop);
		return -1;
	}
	if (pid != NULL) {
		/* 4.6: charset and size are the server's for a bodyValues part. */
		bv = json_object_get(b->body_values, pid);
		if (charset != NULL || json_object_get(bp, "size") != NULL || !json_is_object(bv) ||
		    !json_is_string(json_object_get(bv, "value")) ||
		    json_is_true(json_object_get(bv, "isEncodingProblem")) ||
		    json_is_true(json_object_get(bv, "isTruncated"))) {
			jmap_build_bad(b, json_is_object(bv) ? prop : "bodyValues");
			return -1;
		}
		bv = json_object_get(bv, "value");
		json_object_set_new(part, "body", crlf_text(json_string_value(bv), json_string_length(bv)));
		if (strncmp(type, "text/", 5) == 0)
			json_object_set_new(json_object_get(part, "params"), "charset", json_string("utf-8"));
	} else {
		char *data = NULL;
		size_t len = 0;
		const char *error = NULL;
		int r = b->p->fetch != NULL ? b->p->fetch(b->p->fetch_ctx, bid, &data, &len, &error) : 0;

		if (r < 0) {
			b->fail = error != NULL ? error : "a blob cannot be read";
			return -1;
		}
		if (r == 0) {
			json_array_append_new(b->not_found, json_string(bid));
			return -1;
		}
		json_object_set_new(part, "body", json_stringn_nocheck(data, len));
		free(data);
		if (charset != NULL && !json_is_null(charset)) {
			if (!json_is_string(charset) || strncmp(type, "text/", 5) != 0) {
				jmap_build_bad(b, prop);
				return -1;
			}
			json_object_set(json_object_get(part, "params"), "charset", charset);
		}
	}
	b->total += json_string_length(json_object_get(part, "body"));
	if (b->p->max_size > 0 && b->total > b->p->max_size) {
		b->too_large = 1;
		return -1;
	}
	return 0;
}

/* disposition, name, cid, language, location of a part. */
static int part_meta(struct jmap_build *b, const json_t *bp, json_t *part, const char *prop)
{
	json_t *disp = json_object_get(bp, "disposition"), *name = json_object_get(bp, "name");
	json_t *cid = json_object_get(bp, "cid"), *lang = json_object_get(bp, "language");
	json_t *loc = json_object_get(bp, "location"), *fields = json_object_get(part, "fields"), *v;
	struct buf out = BUF_INIT;
	const char *error = NULL;
	size_t i;
	int ok = 1;

	if (disp != NULL && !json_is_null(disp)) {
		/* RFC 2183 2: a disposition type is a token. */
		if (!json_is_string(disp) || !is_token(json_string_value(disp), 40))
			ok = 0;
		else
			json_object_set(part, "disposition", disp);
	}
	if (name != NULL && !json_is_null(name)) {
		if (!json_is_string(name) || strlen(json_string_value(name)) != json_string_length(name)) {
			ok = 0;
		} else {
			json_object_set(json_object_get(part, "params"), "name", name);
			if (json_object_get(part, "disposition") != NULL)
				json_object_set_new(part, "dparams", json_pack("{s:O}", "filename", name));
		}
	}
	if (cid != NULL && !json_is_null(cid)) {
		json_t *l = json_pack("[O]", cid);

		ok &= jmap_mime_field_msgids(&out, "Content-ID", l, &error) == 0;
		json_decref(l);
	}
	if (lang != NULL && !json_is_null(lang)) {
		struct buf l = BUF_INIT;

		ok &= json_is_array(lang) && json_array_size(lang) > 0;
		json_array_foreach(lang, i, v) {
			const char *s = json_string_value(v);

			/* RFC 5646 tags: letters, digits and '-'. */
			if (s == NULL || s[0] == '\0' || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(s) || strlen(s) > 60)
				ok = 0;
			else
				buf_printf(&l, "%s%s", i > 0 ? ", " : "", s);
		}
		if (ok)
			ok = jmap_mime_field_text(&out, "Content-Language", l.data, &error) == 0;
		buf_free(&l);
	}
	if (loc != NULL && !json_is_null(loc)) {
		json_t *l = json_pack("[O]", loc);

		ok &= jmap_mime_field_urls(&out, "Content-Location", l, &error) == 0;
		json_decref(l);
	}
	if (ok && out.len > 0)
		json_array_append_new(fields, json_stringn_nocheck(out.data, out.len));
	buf_free(&out);
	if (!ok)
		jmap_build_bad(b, prop);
	return ok ? 0 : -1;
}

/* An EmailBodyPart for creation (4.6) as a part of the writer's tree, or
 * NULL after marking what is wrong. prop names it in errors. */
json_t *jmap_build_part(struct jmap_build *b, const json_t *bp, unsigned depth, const char *prop)
{
	json_t *part, *subs = json_object_get(bp, "subParts"), *seen, *v, *kid;
	const char *k, *type = json_string_value(json_object_get(bp, "type"));
	char mt[128];
	size_t i;

	if (!json_is_object(bp) || ++b->nparts > (b->p->max_parts ? b->p->max_parts : 100) ||
	    depth > (b->p->max_depth ? b->p->max_depth : 10) ||
	    (json_object_get(bp, "type") != NULL && (type == NULL || media_type(type, mt, sizeof mt) < 0))) {
		jmap_build_bad(b, prop);
		return NULL;
	}
	if (type == NULL)
		snprintf(mt, sizeof mt, "%s", subs != NULL ? "multipart/mixed" : "text/plain");
	part = json_pack("{s:s, s:{}, s:[]}", "type", mt, "params", "fields");
	seen = json_object();
	json_object_foreach((json_t *)bp, k, v) {
		if (jmap_build_listed(part_props, k))
			continue;
		if (!jmap_build_header_prop(b, k, v, prop, json_object_get(part, "fields"), seen))
			jmap_build_bad(b, prop);
	}
	json_decref(seen);
	if (part_meta(b, bp, part, prop) < 0)
		goto bad;
	if (subs != NULL) {
		/* A multipart has parts and no content of its own (4.1.4). */
		if (!json_is_array(subs) || strncmp(mt, "multipart/", 10) != 0 ||
		    json_object_get(bp, "partId") != NULL || json_object_get(bp, "blobId") != NULL) {
			jmap_build_bad(b, prop);
			goto bad;
		}
		json_object_set_new(part, "parts", json_array());
		json_array_foreach(subs, i, v) {
			if ((kid = jmap_build_part(b, v, depth + 1, prop)) == NULL)
				goto bad;
			json_array_append_new(json_object_get(part, "parts"), kid);
		}
		return part;
	}
	if (strncmp(mt, "multipart/", 10) == 0) {
		jmap_build_bad(b, prop);
		goto bad;
	}
	if (leaf_content(b, bp, part, prop) < 0)
		goto bad;
	return part;
bad:
	json_decref(part);
	return NULL;
}


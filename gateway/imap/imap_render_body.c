/* imap_render_body - BODYSTRUCTURE and BODY (RFC 9051 7.5.2; the same
 * shape as RFC 3501 7.4.2) from the "part" tree of a MIME summary.
 *
 * Values are rendered as the summary stores them: type, subtype, encoding
 * and parameter names in lower case (IMAP compares them case-insensitively),
 * parameter values decoded to UTF-8 (a literal when 8-bit, see
 * imap_render_string.c). Parameters are written sorted by name, so a
 * summary fresh from mime_parse and one read back from the view (encoded
 * with sorted keys) render the same bytes. */
#include "gateway/imap/imap_render_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* qsort comparator for parameter names. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* body-fld-param = "(" string SP string *(SP string SP string) ")" / nil */
static void render_params(struct buf *out, json_t *params)
{
	size_t n = json_is_object(params) ? json_object_size(params) : 0, k = 0;
	const char **names;
	const char *name;
	json_t *v;

	if (n == 0) {
		buf_puts(out, "NIL");
		return;
	}
	names = xcalloc(n, sizeof *names);
	json_object_foreach(params, name, v) {
		if (json_is_string(v) && k < n)
			names[k++] = name;
	}
	qsort(names, k, sizeof *names, cmp_str);
	buf_puts(out, k == 0 ? "NIL" : "(");
	for (size_t i = 0; i < k; i++) {
		if (i > 0)
			buf_append(out, " ", 1);
		imap_render_nstring(out, names[i]);
		buf_append(out, " ", 1);
		imap_render_json_nstring(out, json_object_get(params, names[i]));
	}
	buf_puts(out, k == 0 ? "" : ")");
	free(names);
}

/* A JSON integer >= 0, else 0. */
static json_int_t number(json_t *part, const char *key)
{
	json_t *v = json_object_get(part, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : 0;
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc: the extension data both
 * kinds of part end with. */
static void render_dsp_lang_loc(struct buf *out, json_t *part)
{
	json_t *dsp = json_object_get(part, "disposition"), *lang = json_object_get(part, "language");
	json_t *t = json_object_get(dsp, "type"), *v;
	size_t i, n = 0;

	buf_append(out, " ", 1);
	if (json_is_string(t)) {            /* "(" string SP body-fld-param ")" / nil */
		buf_append(out, "(", 1);
		imap_render_json_nstring(out, t);
		buf_append(out, " ", 1);
		render_params(out, json_object_get(dsp, "params"));
		buf_append(out, ")", 1);
	} else {
		buf_puts(out, "NIL");
	}
	buf_append(out, " ", 1);            /* nstring / "(" string *(SP string) ")" */
	json_array_foreach(lang, i, v) {
		if (!json_is_string(v))
			continue;
		buf_puts(out, n++ == 0 ? "(" : " ");
		imap_render_json_nstring(out, v);
	}
	buf_puts(out, n == 0 ? "NIL" : ")");
	buf_append(out, " ", 1);
	imap_render_json_nstring(out, json_object_get(part, "location"));
}

static void render_part(struct buf *out, json_t *part, bool ext, unsigned depth);

/* body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart] */
static void render_multipart(struct buf *out, json_t *part, bool ext, unsigned depth)
{
	size_t i;
	json_t *child;

	json_array_foreach(json_object_get(part, "parts"), i, child)
		render_part(out, child, ext, depth + 1);
	buf_append(out, " ", 1);
	imap_render_json_nstring(out, json_object_get(part, "subtype"));
	if (ext) {
		buf_append(out, " ", 1);
		render_params(out, json_object_get(part, "params"));
		render_dsp_lang_loc(out, part);
	}
}

/* body-type-basic / body-type-text / body-type-msg [SP body-ext-1part].
 * A multipart without children is a text/plain leaf with the default
 * parameters mime.c gives such a part (RFC 2045 5.2). */
static void render_leaf(struct buf *out, json_t *part, bool ext, unsigned depth)
{
	json_t *type = json_object_get(part, "type"), *msg = json_object_get(part, "message");
	bool empty_multi = json_is_string(type) &&
			   strcasecmp(json_string_value(type), "multipart") == 0;
	bool text, message;

	if (empty_multi) {
		buf_puts(out, "\"text\" \"plain\" (\"charset\" \"us-ascii\")");
		text = true, message = false;
	} else {
		imap_render_json_nstring(out, type);
		buf_append(out, " ", 1);
		imap_render_json_nstring(out, json_object_get(part, "subtype"));
		buf_append(out, " ", 1);
		render_params(out, json_object_get(part, "params"));
		text = json_is_string(type) && strcasecmp(json_string_value(type), "text") == 0;
		message = imap_part_message(part) != NULL && depth < IMAP_RENDER_DEPTH_MAX;
	}
	buf_append(out, " ", 1);
	imap_render_json_nstring(out, json_object_get(part, "id"));
	buf_append(out, " ", 1);
	imap_render_json_nstring(out, json_object_get(part, "description"));
	buf_append(out, " ", 1);
	imap_render_json_nstring(out, json_object_get(part, "encoding"));
	buf_printf(out, " %lld", (long long)number(part, "size"));
	if (message) {                      /* SP envelope SP body SP body-fld-lines */
		buf_append(out, " ", 1);
		imap_render_envelope(out, json_object_get(msg, "envelope"));
		buf_append(out, " ", 1);
		render_part(out, json_object_get(msg, "part"), ext, depth + 1);
	}
	if (text || message)
		buf_printf(out, " %lld", (long long)number(part, "lines"));
	if (ext) {                          /* body-ext-1part: md5 dsp lang loc */
		buf_append(out, " ", 1);
		imap_render_json_nstring(out, json_object_get(part, "md5"));
		render_dsp_lang_loc(out, part);
	}
}

/* body = "(" (body-type-1part / body-type-mpart) ")"; a missing part (a
 * broken summary) is an empty text/plain. */
static void render_part(struct buf *out, json_t *part, bool ext, unsigned depth)
{
	if (!json_is_object(part)) {
		buf_puts(out, ext ? "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"
				  : "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
		return;
	}
	buf_append(out, "(", 1);
	if (imap_part_has_children(part) && depth < IMAP_RENDER_DEPTH_MAX)
		render_multipart(out, part, ext, depth);
	else
		render_leaf(out, part, ext, depth);
	buf_append(out, ")", 1);
}

/* BODYSTRUCTURE (extensible) or BODY of the summary's top part. prefix_len
 * changes nothing here: the prefix is header lines and body-fld-octets
 * counts the body only. */
void imap_render_bodystructure(struct buf *out, json_t *summary, size_t prefix_len, bool extensible)
{
	render_part(out, json_object_get(summary, "part"), extensible, 0);
}

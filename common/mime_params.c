/* mime_params - Content-Type, Content-Disposition and their parameters
 * (RFC 2045 5.1, RFC 2183, RFC 2231), Content-Language, encodings. */
#include "common/mime_internal.h"

#include <stdlib.h>
#include <string.h>

struct param {
	char *name;           /* lower case, without the RFC 2231 "*n*" suffix */
	int section;          /* -1: no section number */
	bool extended;        /* ends in '*': charset'lang'%XX */
	char *value;          /* unquoted raw bytes */
	size_t value_len;
};

/* RFC 2045 token character (tspecials excluded). */
static bool token_char(int c)
{
	return c > 0x20 && c < 0x7F && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Reads a token at s[i]; returns its length (0 if none). */
static size_t token_len(const char *s, size_t len, size_t i)
{
	size_t j = i;

	while (j < len && token_char((unsigned char)s[j]))
		j++;
	return j - i;
}

/* Lower-case copy of n bytes. */
static char *lower_dup(const char *s, size_t n)
{
	char *o = xstrndup(s, n);

	for (size_t i = 0; i < n; i++)
		o[i] = (char)mime_lower((unsigned char)o[i]);
	return o;
}

/* Splits "name*3*" into name, section and the extended flag. */
static void param_name(struct param *p, const char *s, size_t n)
{
	size_t star = 0;

	p->section = -1;
	p->extended = false;
	if (n > 1 && s[n - 1] == '*') {
		p->extended = true;
		n--;
	}
	while (star < n && s[star] != '*')
		star++;
	if (star < n) {
		int sec = 0;

		for (size_t k = star + 1; k < n; k++) {
			if (s[k] < '0' || s[k] > '9' || sec > 1000) {
				sec = -2;
				break;
			}
			sec = sec * 10 + (s[k] - '0');
		}
		if (star + 1 < n && sec >= 0)
			p->section = sec;
		else
			star = n;   /* not a section: keep the name whole */
	}
	p->name = lower_dup(s, star);
}

/* Parses ";name=value" pairs from s[i..) into ps (at most MIME_PARAMS_MAX). */
static size_t params_read(const char *s, size_t len, size_t i, struct param *ps)
{
	size_t n = 0;

	while (i < len && n < MIME_PARAMS_MAX) {
		struct buf v = BUF_INIT;
		size_t nl, vs;

		i = mime_skip_cfws(s, len, i);
		if (i < len && s[i] != ';') {   /* junk: skip to the next ';' */
			while (i < len && s[i] != ';')
				i++;
		}
		if (i >= len)
			break;
		i = mime_skip_cfws(s, len, i + 1);
		nl = token_len(s, len, i);
		if (nl == 0)
			continue;
		vs = mime_skip_cfws(s, len, i + nl);
		if (vs >= len || s[vs] != '=') {
			i = vs;
			continue;
		}
		param_name(&ps[n], s + i, nl);
		i = mime_skip_cfws(s, len, vs + 1);
		if (i < len && s[i] == '"') {
			i = mime_quoted(s, len, i, &v);
		} else {   /* lenient: any run up to ';' or whitespace */
			size_t st = i;

			while (i < len && s[i] != ';' && !mime_is_wsp(s[i]) && s[i] != '"')
				i++;
			buf_append(&v, s + st, i - st);
		}
		buf_append(&v, "", 0);   /* NUL-terminated even when empty */
		ps[n].value_len = v.len;
		ps[n].value = buf_steal(&v);
		n++;
	}
	return n;
}

/* Percent-decodes an RFC 2231 extended value. */
static void pct_decode(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int h, l;

		if (s[i] == '%' && i + 2 < n &&
		    (h = mime_hex((unsigned char)s[i + 1])) >= 0 &&
		    (l = mime_hex((unsigned char)s[i + 2])) >= 0) {
			char c = (char)(h * 16 + l);

			buf_append(out, &c, 1);
			i += 2;
		} else {
			buf_append(out, s + i, 1);
		}
	}
}

/* The first parameter named name with this section (-1: none) and, for
 * section -1, this extended flag; NULL if absent. */
static struct param *param_find(struct param *ps, size_t n, const char *name, int section,
				bool extended)
{
	for (size_t i = 0; i < n; i++) {
		if (ps[i].section == section && strcmp(ps[i].name, name) == 0 &&
		    (section >= 0 || ps[i].extended == extended))
			return &ps[i];
	}
	return NULL;
}

/* Appends one section's bytes; an extended first section may start with
 * charset'language' (RFC 2231 4), returned in *charset_r. */
static void section_append(struct buf *raw, const struct param *q, bool first, char **charset_r)
{
	const char *v = q->value, *a, *b;
	size_t vl = q->value_len;

	if (!q->extended) {
		buf_append(raw, v, vl);
		return;
	}
	if (first && (a = memchr(v, '\'', vl)) != NULL &&
	    (b = memchr(a + 1, '\'', vl - (size_t)(a + 1 - v))) != NULL) {
		*charset_r = xstrndup(v, (size_t)(a - v));
		vl -= (size_t)(b + 1 - v);
		v = b + 1;
	}
	pct_decode(raw, v, vl);
}

/* Value of one parameter: "name*=" wins, else sections name*0, name*1 ...
 * joined in order up to the first gap (RFC 2231 3, 4), else plain "name".
 * The charset of the first extended section converts the whole value. */
static json_t *param_value(struct param *ps, size_t n, const char *name)
{
	struct buf raw = BUF_INIT, out = BUF_INIT;
	struct param *q;
	char *charset = NULL;
	bool ext = false;
	json_t *j;

	if ((q = param_find(ps, n, name, -1, true)) != NULL) {
		section_append(&raw, q, true, &charset);
		ext = true;
	} else if (param_find(ps, n, name, 0, false) != NULL) {
		for (int sec = 0; sec < MIME_SECTIONS_MAX; sec++) {
			if ((q = param_find(ps, n, name, sec, false)) == NULL)
				break;
			section_append(&raw, q, sec == 0, &charset);
			ext = ext || q->extended;
		}
	} else if ((q = param_find(ps, n, name, -1, false)) != NULL) {
		buf_append(&raw, q->value, q->value_len);
	}
	if (charset != NULL && charset[0] != '\0') {
		mime_charset_append(&out, charset, raw.data == NULL ? "" : raw.data, raw.len);
	} else if (!ext && (strcmp(name, "name") == 0 || strcmp(name, "filename") == 0)) {
		char *d = mime_decode_header(raw.data == NULL ? "" : raw.data, raw.len);

		buf_puts(&out, d);   /* RFC 2047 words in names: not standard, common */
		free(d);
	} else {
		mime_text_append(&out, raw.data == NULL ? "" : raw.data, raw.len);
	}
	j = json_stringn(out.data == NULL ? "" : out.data, out.len);
	free(charset);
	buf_free(&raw);
	buf_free(&out);
	return j != NULL ? j : json_string("");
}

/* Builds the params object; the first occurrence of a name wins. */
static json_t *params_json(struct param *ps, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++) {
		if (ps[i].name[0] == '\0' || json_object_get(o, ps[i].name) != NULL)
			continue;
		json_object_set_new(o, ps[i].name, param_value(ps, n, ps[i].name));
	}
	return o;
}

/* Frees parsed parameters. */
static void params_free(struct param *ps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ps[i].name);
		free(ps[i].value);
	}
	free(ps);
}

/* Parses a Content-Type value; -1 if type/subtype are unusable. */
int mime_content_type_parse(const char *s, size_t len, struct mime_ctype *ct)
{
	size_t i = mime_skip_cfws(s, len, 0), tl, sl, st, n;
	struct param *ps;

	memset(ct, 0, sizeof *ct);
	tl = token_len(s, len, i);
	st = mime_skip_cfws(s, len, i + tl);
	if (tl == 0 || st >= len || s[st] != '/')
		return -1;
	st = mime_skip_cfws(s, len, st + 1);
	sl = token_len(s, len, st);
	if (sl == 0)
		return -1;
	ct->type = lower_dup(s + i, tl);
	ct->subtype = lower_dup(s + st, sl);
	ps = xcalloc(MIME_PARAMS_MAX, sizeof *ps);
	n = params_read(s, len, st + sl, ps);
	ct->params = params_json(ps, n);
	for (size_t k = 0; k < n; k++) {
		if (strcmp(ps[k].name, "boundary") == 0 && ps[k].section < 0 && !ps[k].extended) {
			if (ps[k].value_len > 0 && ps[k].value_len <= MIME_BOUNDARY_MAX &&
			    memchr(ps[k].value, '\n', ps[k].value_len) == NULL)
				ct->boundary = xstrndup(ps[k].value, ps[k].value_len);
			break;
		}
	}
	params_free(ps, n);
	return 0;
}

/* Frees a parsed Content-Type. */
void mime_ctype_free(struct mime_ctype *ct)
{
	free(ct->type);
	free(ct->subtype);
	free(ct->boundary);
	json_decref(ct->params);
	memset(ct, 0, sizeof *ct);
}

/* Parses Content-Disposition (RFC 2183 2). */
json_t *mime_disposition_parse(const char *s, size_t len)
{
	size_t i = mime_skip_cfws(s, len, 0), tl = token_len(s, len, i), n;
	struct param *ps;
	json_t *o;
	char *t;

	if (tl == 0)
		return NULL;
	ps = xcalloc(MIME_PARAMS_MAX, sizeof *ps);
	n = params_read(s, len, i + tl, ps);
	t = lower_dup(s + i, tl);
	o = json_pack("{s:s, s:o}", "type", t, "params", params_json(ps, n));
	free(t);
	params_free(ps, n);
	return o;
}

/* Parses Content-Language: a comma-separated list of tags (RFC 3282 2). */
json_t *mime_language_parse(const char *s, size_t len)
{
	json_t *a = json_array();
	size_t i = 0;

	while (i < len) {
		size_t st;

		i = mime_skip_cfws(s, len, i);
		st = i;
		while (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
				   (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			i++;
		if (i > st)
			json_array_append_new(a, json_stringn(s + st, i - st));
		i = mime_skip_cfws(s, len, i);
		if (i < len && s[i] != ',')
			while (i < len && s[i] != ',')
				i++;
		if (i < len)
			i++;
	}
	if (json_array_size(a) == 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* Content-Transfer-Encoding mechanism (RFC 2045 6.1), lower case. */
char *mime_encoding_parse(const char *s, size_t len)
{
	size_t i, tl;

	if (s == NULL)
		return xstrdup("7bit");
	i = mime_skip_cfws(s, len, 0);
	tl = token_len(s, len, i);
	return tl == 0 ? xstrdup("7bit") : lower_dup(s + i, tl);
}

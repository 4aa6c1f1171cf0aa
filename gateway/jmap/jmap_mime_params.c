/* jmap_mime_params - Content-Type and Content-Disposition fields with
 * their parameters as tokens, quoted-strings or RFC 2231 extended values;
 * see jmap_mime_write.h. */
#include "gateway/jmap/jmap_mime_fold.h"
#include "gateway/jmap/jmap_mime_write.h"

#include <stdio.h>
#include <string.h>

/* RFC 2045 5.1 token: printable ASCII without tspecials. */
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

/* One parameter as tokens; sep (";" or "") sticks to its last one. */
static void param_tokens(struct jmap_fold *f, const char *k, const char *v, const char *sep)
{
	size_t len = strlen(v), i, seg = 0;
	int quotable = len <= 60;
	struct buf t = BUF_INIT;

	for (i = 0; i < len; i++)
		quotable &= (unsigned char)v[i] >= 0x20 && (unsigned char)v[i] <= 0x7e;
	if (is_token(v, 60)) {
		buf_printf(&t, "%s=%s%s", k, v, sep);
	} else if (quotable) {
		buf_printf(&t, "%s=\"", k);
		for (i = 0; i < len; i++) {
			if (v[i] == '"' || v[i] == '\\')
				buf_puts(&t, "\\");
			buf_append(&t, v + i, 1);
		}
		buf_printf(&t, "\"%s", sep);
	} else {
		/* RFC 2231 3, 4: k*0*=utf-8''%E2%82..; k*1*=...; ... */
		i = 0;
		do {
			size_t n = 0;

			buf_truncate(&t, 0);
			buf_printf(&t, "%s*%zu*=%s", k, seg, seg == 0 ? "utf-8''" : "");
			while (i < len && n < 60) {
				unsigned char c = (unsigned char)v[i++];

				/* RFC 2231 7 attribute-char, else %XX */
				if (c > 0x20 && c < 0x7f && strchr("*'%()<>@,;:\\\"/[]?=", c) == NULL) {
					buf_append(&t, &c, 1);
					n++;
				} else {
					buf_printf(&t, "%%%02X", c);
					n += 3;
				}
			}
			buf_puts(&t, i < len ? ";" : sep);
			jmap_fold_tok(f, t.data, t.len);
			seg++;
		} while (i < len);
		buf_free(&t);
		return;
	}
	jmap_fold_tok(f, t.data, t.len);
	buf_free(&t);
}

int jmap_mime_field_params(struct buf *out, const char *name, const char *value, const json_t *params,
			   const char **error_r)
{
	struct jmap_fold f;
	struct buf t = BUF_INIT;
	const char *k;
	json_t *v;
	size_t i = 0, n = json_object_size(params);

	jmap_fold_begin(&f, out, name);
	buf_printf(&t, "%s%s", value, n > 0 ? ";" : "");
	jmap_fold_tok(&f, t.data, t.len);
	buf_free(&t);
	json_object_foreach((json_t *)params, k, v) {
		if (!json_is_string(v) || !is_token(k, 40)) {
			f.error = "a parameter is not a name and a String";
			break;
		}
		param_tokens(&f, k, json_string_value(v), ++i < n ? ";" : "");
	}
	return jmap_fold_end(&f, error_r);
}

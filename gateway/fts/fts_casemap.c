/* fts_casemap - the RFC 5051 i;unicode-casemap collation (utf8proc):
 * each character is mapped to its titlecase (UnicodeData.txt field 14,
 * RFC 5051 2 step 1), then the string is put into NFKD (step 2).
 * Equality and ordering are then octet by octet on the results. Used by
 * SEARCH text matching (RFC 9051 6.4.4 "case-insensitive", I18NLEVEL=1 of
 * RFC 5255) and by SORT / THREAD (RFC 5256 requires I18NLEVEL=1
 * collation). Octets that are not UTF-8 are kept unchanged. */
#include "gateway/fts/fts_casemap.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Appends the NFKD form of the titlecased run t to out, then empties t. */
static void flush_run(struct buf *t, struct buf *out)
{
	utf8proc_uint8_t *n = NULL;
	utf8proc_ssize_t nl;

	if (t->len == 0)
		return;
	nl = utf8proc_map((const utf8proc_uint8_t *)t->data, (utf8proc_ssize_t)t->len, &n,
			  UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE);
	if (nl >= 0 && n != NULL)
		buf_append(out, n, (size_t)nl);
	else
		buf_append(out, t->data, t->len);
	free(n);
	buf_truncate(t, 0);
}

/* The casemapped form of s[len] into out (NUL octets and invalid UTF-8
 * are copied as they are and end a normalisation run). */
static void casemap_buf(const char *s, size_t len, struct buf *out)
{
	struct buf t = BUF_INIT;
	size_t i = 0;

	buf_append(out, "", 0);
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t used;
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80) {   /* ASCII: titlecase = upper case, NFKD = identity */
			char u = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : (char)c;

			if (t.len > 0 && c == 0)
				flush_run(&t, out);
			if (t.len > 0)
				buf_append(&t, &u, 1);
			else
				buf_append(out, &u, 1);
			i++;
			continue;
		}
		used = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
		if (used > 0) {
			utf8proc_uint8_t enc[4];
			utf8proc_ssize_t el = utf8proc_encode_char(utf8proc_totitle(cp), enc);

			buf_append(&t, enc, (size_t)el);
			i += (size_t)used;
			continue;
		}
		flush_run(&t, out);
		buf_append(out, s + i, 1);
		i++;
	}
	flush_run(&t, out);
	buf_free(&t);
}

/* RFC 5051 2: the casemapped form appended to out (NULs kept). */
void fts_casemap_append(const char *s, size_t len, struct buf *out)
{
	casemap_buf(s, len, out);
}

/* RFC 5051 2: the casemapped form, malloc'ed. */
char *fts_casemap(const char *s, size_t len)
{
	struct buf out = BUF_INIT;

	casemap_buf(s, len, &out);
	return buf_steal(&out);
}

/* A substring match under i;unicode-casemap (RFC 9051 6.4.4 SEARCH strings). */
int fts_casemap_find(const char *h, size_t hl, const char *needle_mapped)
{
	struct buf m = BUF_INIT;
	int hit;

	if (needle_mapped[0] == '\0')
		return 1;
	casemap_buf(h, hl, &m);
	hit = memmem(m.data, m.len, needle_mapped, strlen(needle_mapped)) != NULL;
	buf_free(&m);
	return hit;
}

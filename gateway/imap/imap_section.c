/* imap_section - parses a FETCH section spec (RFC 9051 6.4.5, 9 grammar:
 * section-spec, section-part, section-msgtext, header-list) and its
 * <partial> suffix into struct imap_section. Keywords are
 * case-insensitive. */
#include "gateway/imap/imap_render_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cursor {
	const char *p, *end;
};

/* Whether the cursor is at keyword kw (case-insensitive); consumes it. */
static bool take_keyword(struct cursor *c, const char *kw)
{
	size_t n = strlen(kw);

	if ((size_t)(c->end - c->p) < n || strncasecmp(c->p, kw, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* nz-number (no leading zero, <= UINT32_MAX). Returns 0, or -1. */
static int take_nz_number(struct cursor *c, unsigned *n_r)
{
	uint64_t n = 0;

	if (c->p >= c->end || *c->p < '1' || *c->p > '9')
		return -1;
	while (c->p < c->end && isdigit((unsigned char)*c->p)) {
		n = n * 10 + (uint64_t)(*c->p++ - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	*n_r = (unsigned)n;
	return 0;
}

/* header-fld-name = astring: an atom of ftext (RFC 5322 3.6.8: printable
 * US-ASCII except ':') or a quoted string of the same. Stores it upper-cased. */
static int take_field_name(struct cursor *c, struct imap_section *sec)
{
	struct buf name = BUF_INIT;
	bool quoted = c->p < c->end && *c->p == '"';

	if (quoted)
		c->p++;
	while (c->p < c->end) {
		char ch = *c->p;

		if (quoted && ch == '"')
			break;
		if (!quoted && (ch == ' ' || ch == ')'))
			break;
		if (quoted && ch == '\\' && c->p + 1 < c->end && (c->p[1] == '"' || c->p[1] == '\\'))
			ch = *++c->p;
		if ((unsigned char)ch <= 32 || (unsigned char)ch >= 127 || ch == ':' ||
		    (!quoted && (ch == '(' || ch == '"' || ch == '{' || ch == '\\'))) {
			buf_free(&name);
			return -1;
		}
		ch = (char)toupper((unsigned char)ch);
		buf_append(&name, &ch, 1);
		c->p++;
	}
	if (quoted) {
		if (c->p >= c->end) {
			buf_free(&name);
			return -1;
		}
		c->p++;
	}
	if (name.len == 0 || sec->nfields >= IMAP_SECTION_FIELDS_MAX) {
		buf_free(&name);
		return -1;
	}
	sec->fields[sec->nfields++] = buf_steal(&name);
	return 0;
}

/* SP header-list, header-list = "(" header-fld-name *(SP header-fld-name) ")".
 * Extra spaces inside the parentheses are tolerated. */
static int take_header_list(struct cursor *c, struct imap_section *sec)
{
	if (c->p >= c->end || *c->p++ != ' ' || c->p >= c->end || *c->p++ != '(')
		return -1;
	for (;;) {
		while (c->p < c->end && *c->p == ' ')
			c->p++;
		if (c->p >= c->end)
			return -1;
		if (*c->p == ')') {
			c->p++;
			return sec->nfields > 0 ? 0 : -1;
		}
		if (take_field_name(c, sec) < 0)
			return -1;
		if (c->p < c->end && *c->p != ' ' && *c->p != ')')
			return -1;
	}
}

/* section-msgtext (and "MIME" after a part number) up to the end. */
static int take_text(struct cursor *c, struct imap_section *sec)
{
	if (take_keyword(c, "HEADER.FIELDS.NOT")) {
		sec->kind = IMAP_SECTION_HEADER_FIELDS_NOT;
		return take_header_list(c, sec);
	}
	if (take_keyword(c, "HEADER.FIELDS")) {
		sec->kind = IMAP_SECTION_HEADER_FIELDS;
		return take_header_list(c, sec);
	}
	if (take_keyword(c, "HEADER"))
		sec->kind = IMAP_SECTION_HEADER;
	else if (take_keyword(c, "TEXT"))
		sec->kind = IMAP_SECTION_TEXT;
	else if (sec->depth > 0 && take_keyword(c, "MIME"))
		sec->kind = IMAP_SECTION_MIME;
	else
		return -1;
	return 0;
}

/* partial = "<" number64 "." nz-number64 ">" (RFC 9051 9; IMAP4rev1 has
 * 32-bit numbers there, which the caller checks). */
static int parse_partial(const char *s, struct imap_section *sec)
{
	uint64_t v[2] = { 0, 0 };
	size_t i = 0;

	if (*s++ != '<')
		return -1;
	for (int k = 0; k < 2; k++) {
		if (!isdigit((unsigned char)s[i]) || (k == 1 && s[i] == '0'))
			return -1;
		for (; isdigit((unsigned char)s[i]); i++) {
			if (v[k] > ((uint64_t)INT64_MAX - (uint64_t)(s[i] - '0')) / 10)
				return -1;
			v[k] = v[k] * 10 + (uint64_t)(s[i] - '0');
		}
		if (s[i++] != (k == 0 ? '.' : '>'))
			return -1;
	}
	if (s[i] != '\0')
		return -1;
	sec->partial = true;
	sec->offset = v[0];
	sec->length = v[1];
	return 0;
}

/* section-spec = section-msgtext / (section-part ["." section-text]);
 * an empty spec is the whole message. */
int imap_section_parse(const char *spec, size_t len, const char *partial, struct imap_section *sec_r)
{
	struct cursor c = { spec, spec + len };

	memset(sec_r, 0, sizeof *sec_r);
	sec_r->kind = IMAP_SECTION_ALL;
	if (len > 0 && memchr(spec, '\0', len) != NULL)
		goto bad;
	while (c.p < c.end && isdigit((unsigned char)*c.p)) {
		if (sec_r->depth >= IMAP_SECTION_DEPTH_MAX ||
		    take_nz_number(&c, &sec_r->part[sec_r->depth]) < 0)
			goto bad;
		sec_r->depth++;
		if (c.p == c.end)
			break;
		if (*c.p++ != '.')
			goto bad;
		if (c.p == c.end)
			goto bad;   /* "1." */
	}
	if (c.p < c.end && (take_text(&c, sec_r) < 0 || c.p != c.end))
		goto bad;
	if (partial != NULL && *partial != '\0' && parse_partial(partial, sec_r) < 0)
		goto bad;
	return 0;
bad:
	imap_section_free(sec_r);
	return -1;
}

/* Frees the header names; the struct may be parsed into again. */
void imap_section_free(struct imap_section *sec)
{
	for (size_t i = 0; i < sec->nfields; i++)
		free(sec->fields[i]);
	sec->nfields = 0;
}

/* mime_header - header blocks: fields, unfolding (RFC 5322 2.2), CFWS and
 * quoted strings (RFC 5322 3.2). */
#include "common/mime_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const field_names[MF_COUNT] = {
	[MF_DATE] = "date", [MF_SUBJECT] = "subject", [MF_FROM] = "from",
	[MF_SENDER] = "sender", [MF_REPLY_TO] = "reply-to", [MF_TO] = "to",
	[MF_CC] = "cc", [MF_BCC] = "bcc", [MF_IN_REPLY_TO] = "in-reply-to",
	[MF_MESSAGE_ID] = "message-id", [MF_REFERENCES] = "references",
	[MF_CONTENT_TYPE] = "content-type", [MF_CTE] = "content-transfer-encoding",
	[MF_DISPOSITION] = "content-disposition", [MF_CONTENT_ID] = "content-id",
	[MF_DESCRIPTION] = "content-description", [MF_LANGUAGE] = "content-language",
	[MF_LOCATION] = "content-location", [MF_MD5] = "content-md5",
};

/* Length of the field name at the start of line, or 0 if it is no field. */
static size_t field_name_len(const char *line, size_t len)
{
	size_t i = 0, n;

	while (i < len && (unsigned char)line[i] > 0x20 && (unsigned char)line[i] < 0x7F &&
	       line[i] != ':')
		i++;
	n = i;
	while (i < len && mime_is_wsp(line[i]))   /* obs-optional (RFC 5322 4.5.8) */
		i++;
	return n > 0 && i < len && line[i] == ':' ? n : 0;
}

/* Whether a header line starts "name:". */
bool mime_is_field_line(const char *line, size_t len)
{
	return field_name_len(line, len) > 0;
}

/* Unfolds a field value (CRLF+WSP -> WSP, RFC 5322 2.2.3) and trims it. */
static char *unfold(const char *v, size_t len, size_t *len_r)
{
	char *out = xmalloc(len + 1);
	size_t n = 0, i = 0;

	while (i < len && mime_is_wsp(v[i]))
		i++;
	for (; i < len; i++) {
		if (v[i] == '\r' && i + 1 < len && v[i + 1] == '\n')
			continue;
		if (v[i] == '\n')
			continue;
		out[n++] = v[i];
	}
	while (n > 0 && (mime_is_wsp(out[n - 1]) || out[n - 1] == '\r'))
		n--;
	out[n] = '\0';
	*len_r = n;
	return out;
}

/* Records the field starting at block[start..end) if it is the first of
 * its name (duplicates: the first wins). */
static void take_field(const char *block, size_t start, size_t end, struct mime_fields *f)
{
	size_t n = field_name_len(block + start, end - start), colon;

	if (n == 0)
		return;
	colon = start + n;
	while (block[colon] != ':')
		colon++;
	for (int k = 0; k < MF_COUNT; k++) {
		if (f->value[k] == NULL && strlen(field_names[k]) == n &&
		    strncasecmp(field_names[k], block + start, n) == 0) {
			f->value[k] = unfold(block + colon + 1, end - colon - 1, &f->len[k]);
			return;
		}
	}
}

/* Splits a header block into fields; continuation lines start with WSP. */
void mime_fields_scan(const char *block, size_t len, struct mime_fields *f)
{
	size_t i = 0, start = SIZE_MAX;

	memset(f, 0, sizeof *f);
	while (i < len) {
		const char *lf = memchr(block + i, '\n', len - i);
		size_t next = lf != NULL ? (size_t)(lf - block) + 1 : len;

		if (!mime_is_wsp(block[i])) {
			if (start != SIZE_MAX)
				take_field(block, start, i, f);
			start = i;
		}
		i = next;
	}
	if (start != SIZE_MAX)
		take_field(block, start, len, f);
}

/* Frees the values of a field set. */
void mime_fields_free(struct mime_fields *f)
{
	for (int k = 0; k < MF_COUNT; k++) {
		free(f->value[k]);
		f->value[k] = NULL;
	}
}

/* Skips whitespace and comments; comments nest and take quoted-pairs. */
size_t mime_skip_cfws(const char *s, size_t len, size_t i)
{
	while (i < len) {
		if (mime_is_wsp(s[i]) || s[i] == '\r' || s[i] == '\n') {
			i++;
		} else if (s[i] == '(') {
			size_t depth = 0;

			for (; i < len; i++) {
				if (s[i] == '\\' && i + 1 < len)
					i++;
				else if (s[i] == '(')
					depth++;
				else if (s[i] == ')' && --depth == 0)
					break;
			}
			if (i < len)
				i++;
		} else {
			break;
		}
	}
	return i;
}

/* Reads a quoted string at s[i] == '"' into out (quoted-pairs resolved,
 * RFC 5322 3.2.4); an unterminated string runs to the end. */
size_t mime_quoted(const char *s, size_t len, size_t i, struct buf *out)
{
	size_t start;

	for (i++, start = i; i < len && s[i] != '"'; i++) {
		if (s[i] == '\\' && i + 1 < len) {
			buf_append(out, s + start, i - start);
			start = ++i;
		}
	}
	buf_append(out, s + start, i - start);
	return i < len ? i + 1 : i;
}

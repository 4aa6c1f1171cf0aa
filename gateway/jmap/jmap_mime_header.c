/* jmap_mime_header - the header fields of jmap_mime_write.h in the JMAP
 * forms: text and phrases with RFC 2047 encoded-words where needed,
 * addresses and groups, message ids, URLs, raw values and dates. */
#include "gateway/jmap/jmap_mime_fold.h"
#include "gateway/jmap/jmap_mime_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A word that can be written as it is in unstructured text: printable
 * ASCII, short, and nothing a reader could take for an encoded-word. */
static int plain_word(const char *w, size_t n)
{
	if (n == 0 || n > 70)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c < 0x21 || c > 0x7e || (c == '=' && i + 1 < n && w[i + 1] == '?'))
			return 0;
	}
	return 1;
}

/* Unstructured text (RFC 5322 3.2.5) as tokens. Words separated by
 * single spaces are kept, runs of words that need it encoded together
 * (RFC 2047 6.2 drops the space between two encoded-words, so it goes
 * inside them); any other spacing or a control character encodes the
 * whole text, so reading it back gives exactly the text. */
static void text_tokens(struct jmap_fold *f, const char *s)
{
	size_t len = strlen(s), i = 0;
	int simple = len > 0 && s[0] != ' ' && s[len - 1] != ' ' && strstr(s, "  ") == NULL;

	for (size_t k = 0; simple && k < len; k++)
		if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
			simple = 0;
	if (!simple) {
		if (len > 0)
			jmap_fold_encoded(f, s, len);
		return;
	}
	while (i < len) {
		const char *w = s + i, *sp = strchr(w, ' ');
		size_t n = sp != NULL ? (size_t)(sp - w) : strlen(w), run_end;

		if (plain_word(w, n)) {
			jmap_fold_tok(f, w, n);
			i += n + (sp != NULL);
			continue;
		}
		/* The run of words that are not plain. */
		run_end = i + n;
		while (run_end < len) {
			const char *nw = s + run_end + 1, *nsp = strchr(nw, ' ');
			size_t nn = nsp != NULL ? (size_t)(nsp - nw) : strlen(nw);

			if (plain_word(nw, nn))
				break;
			run_end += 1 + nn;
		}
		jmap_fold_encoded(f, s + i, run_end - i);
		i = run_end + (run_end < len);
	}
}

int jmap_mime_field_text(struct buf *out, const char *name, const char *text, const char **error_r)
{
	struct jmap_fold f;

	jmap_fold_begin(&f, out, name);
	text_tokens(&f, text);
	return jmap_fold_end(&f, error_r);
}

static int atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* A display name (RFC 5322 3.2.5 phrase): atoms, else one quoted-string
 * of printable ASCII, else encoded-words (RFC 2047 5(3)). suffix (":"
 * for a group) goes after it. */
static void phrase_tokens(struct jmap_fold *f, const char *s, const char *suffix)
{
	size_t len = strlen(s), i;
	int atoms = len > 0 && len <= 200 && s[0] != ' ' && s[len - 1] != ' ' && strstr(s, "  ") == NULL &&
		    strstr(s, "=?") == NULL, quotable = len <= 200;
	struct buf q = BUF_INIT;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		atoms &= c == ' ' || atext(c);
		quotable &= c >= 0x20 && c <= 0x7e;
	}
	if (atoms) {
		while (*s) {
			const char *sp = strchr(s, ' ');
			size_t n = sp != NULL ? (size_t)(sp - s) : strlen(s);

			buf_truncate(&q, 0);
			buf_append(&q, s, n);
			if (sp == NULL)
				buf_puts(&q, suffix);
			jmap_fold_tok(f, q.data, q.len);
			s += n + (sp != NULL);
		}
	} else if (quotable && strstr(s, "=?") == NULL) {
		buf_puts(&q, "\"");
		for (i = 0; i < len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				buf_puts(&q, "\\");
			buf_append(&q, s + i, 1);
		}
		buf_printf(&q, "\"%s", suffix);
		jmap_fold_tok(f, q.data, q.len);
	} else {
		/* RFC 2047 5(3): white space between an encoded-word and a special. */
		jmap_fold_encoded(f, s, len);
		if (suffix[0] != '\0')
			jmap_fold_tok(f, suffix, strlen(suffix));
	}
	buf_free(&q);
}

/* An addr-spec we write bare: local@domain, no space, control or
 * character that would end it early; UTF-8 is kept (RFC 6532). */
static int email_ok(const char *e)
{
	const char *at = strrchr(e, '@');
	size_t n = strlen(e);

	if (n < 3 || n > 254 || at == NULL || at == e || at[1] == '\0')
		return 0;
	for (const unsigned char *p = (const unsigned char *)e; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || strchr("<>(),;:\"[]\\", *p) != NULL)
			return 0;
	return 1;
}

/* One EmailAddress {name, email} as tokens, then suffix. */
static int address_tokens(struct jmap_fold *f, const json_t *a, const char *suffix)
{
	const char *name = json_string_value(json_object_get(a, "name"));
	const char *email = json_string_value(json_object_get(a, "email"));
	json_t *nv = json_object_get(a, "name");
	struct buf t = BUF_INIT;

	if (!json_is_object(a) || email == NULL || !email_ok(email) || (nv != NULL && !json_is_null(nv) && name == NULL))
		return -1;
	if (name != NULL && name[0] != '\0') {
		phrase_tokens(f, name, "");
		buf_printf(&t, "<%s>%s", email, suffix);
	} else {
		buf_printf(&t, "%s%s", email, suffix);
	}
	jmap_fold_tok(f, t.data, t.len);
	buf_free(&t);
	return 0;
}

static int address_list(struct jmap_fold *f, const json_t *addrs, const char *last_suffix)
{
	const json_t *a;
	size_t i, n = json_array_size(addrs);

	if (!json_is_array(addrs))
		return -1;
	json_array_foreach(addrs, i, a)
		if (address_tokens(f, a, i + 1 < n ? "," : last_suffix) < 0)
			return -1;
	return 0;
}

int jmap_mime_field_addresses(struct buf *out, const char *name, const json_t *addrs, const char **error_r)
{
	struct jmap_fold f;

	jmap_fold_begin(&f, out, name);
	if (address_list(&f, addrs, "") < 0 && f.error == NULL)
		f.error = "not a list of valid EmailAddress objects";
	return jmap_fold_end(&f, error_r);
}

int jmap_mime_field_groups(struct buf *out, const char *name, const json_t *groups, const char **error_r)
{
	struct jmap_fold f;
	const json_t *g;
	size_t i, n = json_array_size(groups);

	jmap_fold_begin(&f, out, name);
	if (!json_is_array(groups))
		f.error = "not a list of EmailAddressGroup objects";
	json_array_foreach(groups, i, g) {
		const char *gname = json_string_value(json_object_get(g, "name"));
		const json_t *addrs = json_object_get(g, "addresses");
		const char *sep = i + 1 < n ? "," : "";
		char end[4];

		if (!json_is_object(g) || !json_is_array(addrs)) {
			f.error = f.error ? f.error : "not a list of EmailAddressGroup objects";
			break;
		}
		if (gname == NULL) {
			if (address_list(&f, addrs, sep) < 0)
				f.error = f.error ? f.error : "not a list of valid EmailAddress objects";
			continue;
		}
		/* RFC 5322 3.4: display-name ":" [group-list] ";" */
		snprintf(end, sizeof end, ";%s", sep);
		phrase_tokens(&f, gname, ":");
		if (json_array_size(addrs) == 0) {
			jmap_fold_stick(&f, end);
		} else if (address_list(&f, addrs, end) < 0) {
			f.error = f.error ? f.error : "not a list of valid EmailAddress objects";
		}
	}
	return jmap_fold_end(&f, error_r);
}

/* "<x>" tokens of ids or URLs: printable ASCII, no space or angle bracket. */
static int bracketed(struct buf *out, const char *name, const json_t *list, const char *sep, const char *what,
		     const char **error_r)
{
	struct jmap_fold f;
	const json_t *v;
	size_t i, n = json_array_size(list);
	struct buf t = BUF_INIT;

	jmap_fold_begin(&f, out, name);
	if (!json_is_array(list) || n == 0)
		f.error = what;
	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v);
		size_t k, len = s != NULL ? strlen(s) : 0;

		for (k = 0; k < len; k++)
			if ((unsigned char)s[k] < 0x21 || (unsigned char)s[k] > 0x7e || s[k] == '<' || s[k] == '>')
				break;
		if (len == 0 || k < len || len > 900) {
			f.error = f.error ? f.error : what;
			break;
		}
		buf_truncate(&t, 0);
		buf_printf(&t, "<%s>%s", s, i + 1 < n ? sep : "");
		jmap_fold_tok(&f, t.data, t.len);
	}
	buf_free(&t);
	return jmap_fold_end(&f, error_r);
}

int jmap_mime_field_msgids(struct buf *out, const char *name, const json_t *ids, const char **error_r)
{
	return bracketed(out, name, ids, "", "not a list of valid message ids", error_r);
}

int jmap_mime_field_urls(struct buf *out, const char *name, const json_t *urls, const char **error_r)
{
	return bracketed(out, name, urls, ",", "not a list of valid URLs", error_r);
}

int jmap_mime_field_raw(struct buf *out, const char *name, const char *raw, size_t len, const char **error_r)
{
	size_t line = strlen(name) + 1;

	if (!jmap_mime_field_name_ok(name)) {
		*error_r = "not a valid header field name";
		return -1;
	}
	/* RFC 5322 2.2.3: a fold is CRLF followed by white space. */
	for (size_t i = 0; i < len; i++) {
		if (raw[i] == '\0' || (raw[i] == '\n') ||
		    (raw[i] == '\r' && (i + 2 >= len || raw[i + 1] != '\n' || (raw[i + 2] != ' ' && raw[i + 2] != '\t')))) {
			*error_r = "a raw value may break lines only by folding (CRLF and a space)";
			return -1;
		}
		if (raw[i] == '\r') {
			i++;
			line = 0;
			continue;
		}
		if (++line > JMAP_MIME_LINE_MAX) {
			*error_r = "a line of the raw value is longer than 998 octets";
			return -1;
		}
	}
	buf_printf(out, "%s:", name);
	buf_append(out, raw, len);
	buf_puts(out, "\r\n");
	return 0;
}

int jmap_mime_field_date(struct buf *out, const char *name, const char *date, const char **error_r)
{
	char text[40];
	int64_t ms;
	int off;
	struct jmap_fold f;

	if (date == NULL || jmap_mime_parse_date(date, &ms, &off) < 0) {
		*error_r = "not an RFC 3339 date-time";
		return -1;
	}
	jmap_mime_format_date(ms, off, text);
	jmap_fold_begin(&f, out, name);
	jmap_fold_tok(&f, text, strlen(text));
	return jmap_fold_end(&f, error_r);
}


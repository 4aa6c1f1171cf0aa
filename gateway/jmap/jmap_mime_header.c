/* jmap_mime_header - the header fields of jmap_mime_write.h: folding at
 * 78 octets (RFC 5322 2.2.3), RFC 2047 encoded-words for text and
 * phrases, addresses, message ids, dates and URLs. */
#include "gateway/jmap/jmap_mime_write.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest token we write: with the folding space it fits a line. */
#define TOKEN_MAX (JMAP_MIME_LINE_MAX - 2)
/* RFC 2047 2: an encoded-word is at most 75 octets; 45 octets of UTF-8
 * are 60 of base64, plus "=?utf-8?B?" and "?=". */
#define EW_CHUNK 45

int jmap_mime_field_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 76)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x21 || *p > 0x7e || *p == ':')
			return 0;
	return 1;
}

/* A field being built from tokens; folding happens between tokens. */
struct fold {
	struct buf *out;
	size_t start, col;
	size_t ntok;           /* tokens written so far */
	const char *error;
};

static void fold_begin(struct fold *f, struct buf *out, const char *name)
{
	f->out = out;
	f->start = out->len;
	f->error = NULL;
	f->ntok = 0;
	buf_printf(out, "%s:", name);
	f->col = strlen(name) + 1;
	if (!jmap_mime_field_name_ok(name))
		f->error = "not a valid header field name";
}

/* Adds " token", folding before it when the line would pass 78 octets
 * (never before the first token: that would leave an empty first line). */
static void fold_tok(struct fold *f, const char *t, size_t len)
{
	if (f->error != NULL)
		return;
	if (len > TOKEN_MAX) {
		f->error = "a word of the value is too long for a header line";
		return;
	}
	if (f->ntok > 0 && f->col + 1 + len > JMAP_MIME_FOLD) {
		buf_puts(f->out, "\r\n");
		f->col = 0;
	} else if (f->col + 1 + len > JMAP_MIME_LINE_MAX) {
		f->error = "a word of the value is too long for a header line";
		return;
	}
	buf_puts(f->out, " ");
	buf_append(f->out, t, len);
	f->col += 1 + len;
	f->ntok++;
}

/* Appends s to the last token (a separator that must not be folded off). */
static void fold_stick(struct fold *f, const char *s)
{
	buf_puts(f->out, s);
	f->col += strlen(s);
}

static int fold_end(struct fold *f, const char **error_r)
{
	if (f->error != NULL) {
		buf_truncate(f->out, f->start);
		*error_r = f->error;
		return -1;
	}
	buf_puts(f->out, "\r\n");
	return 0;
}

/* RFC 2047 encoded-words ("B", utf-8) for s[len], as tokens; chunks end on
 * UTF-8 character boundaries. */
static void encode_words(struct fold *f, const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0) {
		fold_tok(f, "=?utf-8?B?" "?=", 12);
		return;
	}
	while (i < len) {
		unsigned char b64[EW_CHUNK * 2];
		char word[EW_CHUNK * 2 + 16];
		size_t n = len - i < EW_CHUNK ? len - i : EW_CHUNK;
		int m;

		while (n > 1 && i + n < len && ((unsigned char)s[i + n] & 0xC0) == 0x80)
			n--;
		m = EVP_EncodeBlock(b64, (const unsigned char *)s + i, (int)n);
		snprintf(word, sizeof word, "=?utf-8?B?%.*s?=", m, (const char *)b64);
		fold_tok(f, word, strlen(word));
		i += n;
	}
}

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
static void text_tokens(struct fold *f, const char *s)
{
	size_t len = strlen(s), i = 0;
	int simple = len > 0 && s[0] != ' ' && s[len - 1] != ' ' && strstr(s, "  ") == NULL;

	for (size_t k = 0; simple && k < len; k++)
		if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
			simple = 0;
	if (!simple) {
		if (len > 0)
			encode_words(f, s, len);
		return;
	}
	while (i < len) {
		const char *w = s + i, *sp = strchr(w, ' ');
		size_t n = sp != NULL ? (size_t)(sp - w) : strlen(w), run_end;

		if (plain_word(w, n)) {
			fold_tok(f, w, n);
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
		encode_words(f, s + i, run_end - i);
		i = run_end + (run_end < len);
	}
}

int jmap_mime_field_text(struct buf *out, const char *name, const char *text, const char **error_r)
{
	struct fold f;

	fold_begin(&f, out, name);
	text_tokens(&f, text);
	return fold_end(&f, error_r);
}

static int atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* A display name (RFC 5322 3.2.5 phrase): atoms, else one quoted-string
 * of printable ASCII, else encoded-words (RFC 2047 5(3)). suffix (":"
 * for a group) goes after it. */
static void phrase_tokens(struct fold *f, const char *s, const char *suffix)
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
			fold_tok(f, q.data, q.len);
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
		fold_tok(f, q.data, q.len);
	} else {
		/* RFC 2047 5(3): white space between an encoded-word and a special. */
		encode_words(f, s, len);
		if (suffix[0] != '\0')
			fold_tok(f, suffix, strlen(suffix));
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
static int address_tokens(struct fold *f, const json_t *a, const char *suffix)
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
	fold_tok(f, t.data, t.len);
	buf_free(&t);
	return 0;
}

static int address_list(struct fold *f, const json_t *addrs, const char *last_suffix)
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
	struct fold f;

	fold_begin(&f, out, name);
	if (address_list(&f, addrs, "") < 0 && f.error == NULL)
		f.error = "not a list of valid EmailAddress objects";
	return fold_end(&f, error_r);
}

int jmap_mime_field_groups(struct buf *out, const char *name, const json_t *groups, const char **error_r)
{
	struct fold f;
	const json_t *g;
	size_t i, n = json_array_size(groups);

	fold_begin(&f, out, name);
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
			fold_stick(&f, end);
		} else if (address_list(&f, addrs, end) < 0) {
			f.error = f.error ? f.error : "not a list of valid EmailAddress objects";
		}
	}
	return fold_end(&f, error_r);
}

/* "<x>" tokens of ids or URLs: printable ASCII, no space or angle bracket. */
static int bracketed(struct buf *out, const char *name, const json_t *list, const char *sep, const char *what,
		     const char **error_r)
{
	struct fold f;
	const json_t *v;
	size_t i, n = json_array_size(list);
	struct buf t = BUF_INIT;

	fold_begin(&f, out, name);
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
		fold_tok(&f, t.data, t.len);
	}
	buf_free(&t);
	return fold_end(&f, error_r);
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

/* ---- dates ---- */

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y_r, int *m_r, int *d_r)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m_r = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y_r = yoe + era * 400 + (*m_r <= 2);
}

/* n digits at s into *v; 0 or -1. */
static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int jmap_mime_parse_date(const char *s, int64_t *ms_r, int *offset_min_r)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 1;
	const char *p;

	if (strlen(s) < 20 || digits(s, 4, &y) < 0 || s[4] != '-' || digits(s + 5, 2, &mo) < 0 || s[7] != '-' ||
	    digits(s + 8, 2, &d) < 0 || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) < 0 ||
	    s[13] != ':' || digits(s + 14, 2, &mi) < 0 || s[16] != ':' || digits(s + 17, 2, &sec) < 0)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) < 0 || p[3] != ':' || digits(p + 4, 2, &om) < 0 || oh > 23 || om > 59)
			return -1;
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0' || y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    sec > 60 || (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
		return -1;
	if (sec == 60)
		sec = 59;   /* a leap second: RFC 5322 3.3 allows 60, we keep it in range */
	*offset_min_r = sign * (oh * 60 + om);
	*ms_r = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - *offset_min_r * 60) * 1000;
	return 0;
}

void jmap_mime_format_date(int64_t ms, int offset_min, char out[40])
{
	static const char *const wd[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
	static const char *const mn[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t t = (ms >= 0 ? ms / 1000 : (ms - 999) / 1000) + offset_min * 60, days, secs, y;
	int m, d, off = offset_min < 0 ? -offset_min : offset_min;

	days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	secs = t - days * 86400;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, 40, "%s, %02d %s %04lld %02d:%02d:%02d %c%02d%02d", wd[((days % 7) + 7) % 7], d, mn[m - 1],
		 (long long)y, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60),
		 offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

int jmap_mime_field_date(struct buf *out, const char *name, const char *date, const char **error_r)
{
	char text[40];
	int64_t ms;
	int off;
	struct fold f;

	if (date == NULL || jmap_mime_parse_date(date, &ms, &off) < 0) {
		*error_r = "not an RFC 3339 date-time";
		return -1;
	}
	jmap_mime_format_date(ms, off, text);
	fold_begin(&f, out, name);
	fold_tok(&f, text, strlen(text));
	return fold_end(&f, error_r);
}

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
static void param_tokens(struct fold *f, const char *k, const char *v, const char *sep)
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
			fold_tok(f, t.data, t.len);
			seg++;
		} while (i < len);
		buf_free(&t);
		return;
	}
	fold_tok(f, t.data, t.len);
	buf_free(&t);
}

int jmap_mime_field_params(struct buf *out, const char *name, const char *value, const json_t *params,
			   const char **error_r)
{
	struct fold f;
	struct buf t = BUF_INIT;
	const char *k;
	json_t *v;
	size_t i = 0, n = json_object_size(params);

	fold_begin(&f, out, name);
	buf_printf(&t, "%s%s", value, n > 0 ? ";" : "");
	fold_tok(&f, t.data, t.len);
	buf_free(&t);
	json_object_foreach((json_t *)params, k, v) {
		if (!json_is_string(v) || !is_token(k, 40)) {
			f.error = "a parameter is not a name and a String";
			break;
		}
		param_tokens(&f, k, json_string_value(v), ++i < n ? ";" : "");
	}
	return fold_end(&f, error_r);
}

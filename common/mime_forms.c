/* mime_forms - JMAP's header field list and parsed forms (see
 * mime_forms.h; RFC 8621 4.1.2 and 4.1.3). */
#include "common/mime_forms.h"
#include "common/mime_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const form_names[] = {
	[MIME_FORM_RAW] = "asRaw", [MIME_FORM_TEXT] = "asText",
	[MIME_FORM_ADDRESSES] = "asAddresses", [MIME_FORM_GROUPED_ADDRESSES] = "asGroupedAddresses",
	[MIME_FORM_MESSAGE_IDS] = "asMessageIds", [MIME_FORM_DATE] = "asDate",
	[MIME_FORM_URLS] = "asURLs",
};

int mime_form_parse(const char *suffix, enum mime_form *form_r)
{
	for (size_t i = 0; i < sizeof form_names / sizeof form_names[0]; i++) {
		if (strcmp(suffix, form_names[i]) == 0) {
			*form_r = (enum mime_form)i;
			return 0;
		}
	}
	return -1;
}

/* Fields RFC 5322 and RFC 2369 define, with the one structured form each
 * may take besides Raw (RFC 8621 4.1.2); "list-" fields are URLs but
 * List-Id, which is Text. An undefined field takes every form. */
static const struct {
	const char *name;
	enum mime_form form;
} defined[] = {
	{ "from", MIME_FORM_ADDRESSES }, { "sender", MIME_FORM_ADDRESSES },
	{ "reply-to", MIME_FORM_ADDRESSES }, { "to", MIME_FORM_ADDRESSES },
	{ "cc", MIME_FORM_ADDRESSES }, { "bcc", MIME_FORM_ADDRESSES },
	{ "resent-from", MIME_FORM_ADDRESSES }, { "resent-sender", MIME_FORM_ADDRESSES },
	{ "resent-reply-to", MIME_FORM_ADDRESSES }, { "resent-to", MIME_FORM_ADDRESSES },
	{ "resent-cc", MIME_FORM_ADDRESSES }, { "resent-bcc", MIME_FORM_ADDRESSES },
	{ "message-id", MIME_FORM_MESSAGE_IDS }, { "in-reply-to", MIME_FORM_MESSAGE_IDS },
	{ "references", MIME_FORM_MESSAGE_IDS }, { "resent-message-id", MIME_FORM_MESSAGE_IDS },
	{ "date", MIME_FORM_DATE }, { "resent-date", MIME_FORM_DATE },
	{ "subject", MIME_FORM_TEXT }, { "comments", MIME_FORM_TEXT },
	{ "keywords", MIME_FORM_TEXT }, { "list-id", MIME_FORM_TEXT },
	{ "list-help", MIME_FORM_URLS }, { "list-unsubscribe", MIME_FORM_URLS },
	{ "list-subscribe", MIME_FORM_URLS }, { "list-post", MIME_FORM_URLS },
	{ "list-owner", MIME_FORM_URLS }, { "list-archive", MIME_FORM_URLS },
	/* Defined with no structured JMAP form: Raw only. */
	{ "received", MIME_FORM_RAW }, { "return-path", MIME_FORM_RAW },
};

int mime_form_allowed(const char *name, enum mime_form form)
{
	if (form == MIME_FORM_RAW)
		return 1;
	for (size_t i = 0; i < sizeof defined / sizeof defined[0]; i++) {
		if (strcasecmp(name, defined[i].name) != 0)
			continue;
		if (form == MIME_FORM_GROUPED_ADDRESSES)
			return defined[i].form == MIME_FORM_ADDRESSES;
		return defined[i].form == form;
	}
	return 1;
}

/* Length of the line at s[0..len) including its LF (or to the end). */
static size_t line_len(const char *s, size_t len)
{
	const char *nl = memchr(s, '\n', len);

	return nl != NULL ? (size_t)(nl - s) + 1 : len;
}

json_t *mime_header_fields(const char *block, size_t len)
{
	json_t *list = json_array();
	size_t i = 0;

	while (i < len && json_array_size(list) < MIME_FORMS_FIELDS_MAX) {
		size_t n = line_len(block + i, len - i), name_len = 0, colon, end, vstart;

		if (n == 0 || block[i] == '\n' || (block[i] == '\r' && n <= 2))
			break;   /* the blank line ends the header */
		while (name_len < n && (unsigned char)block[i + name_len] > 0x20 &&
		       (unsigned char)block[i + name_len] < 0x7F && block[i + name_len] != ':')
			name_len++;
		colon = name_len;
		while (colon < n && mime_is_wsp(block[i + colon]))
			colon++;
		if (name_len == 0 || colon >= n || block[i + colon] != ':') {
			i += n;   /* no field here (stray continuation or junk) */
			continue;
		}
		vstart = i + colon + 1;
		end = i + n;
		/* Continuation lines (RFC 5322 2.2.3) belong to the value. */
		while (end < len && mime_is_wsp(block[end]))
			end += line_len(block + end, len - end);
		/* The value ends before the field's final CRLF (or LF). */
		n = end;
		if (n > vstart && block[n - 1] == '\n')
			n--;
		if (n > vstart && block[n - 1] == '\r')
			n--;
		json_array_append_new(list, json_pack("{s:o, s:o}", "name",
						      json_stringn(block + i, name_len), "value",
						      mime_json_text(block + vstart, n - vstart)));
		i = end;
	}
	return list;
}

/* RFC 5322 2.2.3 unfolding, then RFC 2047 decoding, trimmed (4.1.2.2). */
static json_t *as_text(const char *raw, size_t len)
{
	struct buf u = BUF_INIT;
	char *d;
	size_t a, b;
	json_t *j;

	for (size_t i = 0; i < len; i++)
		if (raw[i] != '\r' && raw[i] != '\n')
			buf_append(&u, raw + i, 1);
	d = mime_decode_header(u.data != NULL ? u.data : "", u.len);
	buf_free(&u);
	a = 0;
	b = strlen(d);
	while (a < b && mime_is_wsp(d[a]))
		a++;
	while (b > a && mime_is_wsp(d[b - 1]))
		b--;
	j = mime_json_text(d + a, b - a);
	free(d);
	return j;
}

/* 4.1.2.4: consecutive addresses outside a group form a group with a null
 * name. The envelope form marks groups (mime.h); its other entries are the
 * JMAP form's entries in order. */
static json_t *as_grouped(json_t *env, json_t *hdr)
{
	json_t *out = json_array(), *cur = NULL, *e;
	size_t i, k = 0;

	json_array_foreach(env, i, e) {
		json_t *mbox = json_object_get(e, "mailbox"), *host = json_object_get(e, "host");

		if (json_is_null(host)) {
			cur = NULL;
			if (json_is_string(mbox)) {   /* a group starts: its name */
				char *d = mime_decode_header(json_string_value(mbox),
							     json_string_length(mbox));

				cur = json_pack("{s:o, s:[]}", "name",
						d[0] != '\0' ? mime_json_text(d, strlen(d)) : json_null(),
						"addresses");
				free(d);
				json_array_append_new(out, cur);
			}
			continue;
		}
		if (cur == NULL) {
			cur = json_pack("{s:n, s:[]}", "name", "addresses");
			json_array_append_new(out, cur);
		}
		json_array_append(json_object_get(cur, "addresses"), json_array_get(hdr, k++));
	}
	return out;
}

/* 4.1.2.6: RFC 5322 date-time -> RFC 3339 in UTC; null if unparseable. */
static json_t *as_date(const char *raw, size_t len)
{
	char out[32];
	int64_t ms;
	time_t t;
	struct tm tm;

	if (mime_date_parse(raw, len, &ms) < 0)
		return json_null();
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL || strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_null();
	return json_string(out);
}

/* 4.1.2.7: RFC 2369 "<url>" list, CFWS between, whitespace inside the
 * brackets removed; null if anything else is found. */
static json_t *as_urls(const char *raw, size_t len)
{
	json_t *out = json_array();
	size_t i = mime_skip_cfws(raw, len, 0);

	while (i < len) {
		struct buf url = BUF_INIT;

		if (raw[i] != '<')
			goto bad;
		for (i++; i < len && raw[i] != '>'; i++)
			if (!mime_is_wsp(raw[i]) && raw[i] != '\r' && raw[i] != '\n')
				buf_append(&url, raw + i, 1);
		if (i >= len) {
			buf_free(&url);
			goto bad;
		}
		json_array_append_new(out, mime_json_text(url.data != NULL ? url.data : "", url.len));
		buf_free(&url);
		i = mime_skip_cfws(raw, len, i + 1);
		if (i < len && raw[i] != ',')
			goto bad;
		if (i < len)
			i = mime_skip_cfws(raw, len, i + 1);
	}
	if (json_array_size(out) > 0)
		return out;
bad:
	json_decref(out);
	return json_null();
}

json_t *mime_header_form(const char *raw, size_t len, enum mime_form form)
{
	json_t *env, *hdr, *out;

	switch (form) {
	case MIME_FORM_TEXT:
		return as_text(raw, len);
	case MIME_FORM_ADDRESSES:
	case MIME_FORM_GROUPED_ADDRESSES:
		mime_address_parse(raw, len, &env, &hdr);
		out = form == MIME_FORM_ADDRESSES ? json_incref(hdr) : as_grouped(env, hdr);
		json_decref(env);
		json_decref(hdr);
		return out;
	case MIME_FORM_MESSAGE_IDS:
		out = mime_msgid_list(raw, len);
		if (json_array_size(out) == 0) {
			json_decref(out);
			return json_null();
		}
		return out;
	case MIME_FORM_DATE:
		return as_date(raw, len);
	case MIME_FORM_URLS:
		return as_urls(raw, len);
	case MIME_FORM_RAW:
	default:
		return mime_json_text(raw, len);
	}
}

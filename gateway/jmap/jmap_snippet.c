/* jmap_snippet - SearchSnippet/get (RFC 8621 5.1): the subject and a
 * section of the body text of each email with the text the filter's text,
 * subject and body conditions look for wrapped in <mark></mark>, the rest
 * HTML-escaped. Matching is the filter's (i;unicode-casemap substrings,
 * jmap_email_query.h): the text is casemapped character by character so a
 * match in the casemapped text leads back to the characters it came from. */
#include "gateway/jmap/jmap_email_query.h"
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_std.h"
#include "gateway/fts/fts_casemap.h"
#include "gateway/fts/fts.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

/* 5.1: the preview "should be no more than 255 octets" of text. */
#define SNIPPET_TEXT_MAX 200
#define SNIPPET_LEAD 40

/* The length of the UTF-8 character at s (1 for a stray octet). */
static size_t char_len(const unsigned char *s, size_t left)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 1;

	if (n > left)
		return 1;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

/* Marks in marked[] every octet of text[len] that belongs to a character
 * of an occurrence of one of the casemapped terms. 1 when any did. */
static int mark_terms(const char *text, size_t len, const json_t *terms, char *marked)
{
	struct buf m = BUF_INIT;
	size_t *from = NULL, cap = 0, i = 0;
	const json_t *t;
	int any = 0;

	/* The casemapped text, and for each of its octets where its
	 * character starts in text. */
	while (i < len) {
		size_t n = char_len((const unsigned char *)text + i, len - i);
		char *cm = fts_casemap(text + i, n);
		size_t cl = strlen(cm);

		if (m.len + cl > cap) {
			cap = (m.len + cl) * 2 + 64;
			from = xrealloc(from, cap * sizeof *from);
		}
		for (size_t k = 0; k < cl; k++)
			from[m.len + k] = i;
		buf_append(&m, cm, cl);
		free(cm);
		i += n;
	}
	json_array_foreach(terms, i, t) {
		const char *term = json_string_value(t);
		size_t tl = strlen(term);
		const char *p = m.data;

		if (tl == 0 || m.data == NULL)
			continue;
		while ((p = strstr(p, term)) != NULL) {
			size_t s = from[p - m.data], e = from[p - m.data + tl - 1];

			e += char_len((const unsigned char *)text + e, len - e);
			memset(marked + s, 1, e - s);
			any = 1;
			p += tl;
		}
	}
	free(from);
	buf_free(&m);
	return any;
}

/* Appends text[start, end) HTML-escaped with <mark> around marked runs;
 * fold: runs of white space become one space. */
static void emit(struct buf *out, const char *text, const char *marked, size_t start, size_t end, int fold)
{
	int in = 0, space = 0;

	for (size_t i = start; i < end; i++) {
		char c = text[i];
		int ws = c == ' ' || c == '\t' || c == '\r' || c == '\n';

		if (fold && ws && space)
			continue;
		if (marked[i] != in) {
			buf_puts(out, marked[i] ? "<mark>" : "</mark>");
			in = marked[i];
		}
		space = ws;
		switch (c) {
		case '&': buf_puts(out, "&amp;"); break;
		case '<': buf_puts(out, "&lt;"); break;
		case '>': buf_puts(out, "&gt;"); break;
		case '"': buf_puts(out, "&quot;"); break;
		case '\'': buf_puts(out, "&#39;"); break;
		default: buf_append(out, fold && ws ? " " : &c, 1); break;
		}
	}
	if (in)
		buf_puts(out, "</mark>");
}

/* The subject with its matches marked, or null when none. */
static json_t *subject_snippet(json_t *summary, const json_t *terms)
{
	const char *subj = json_string_value(json_object_get(json_object_get(summary, "headers"), "subject"));
	size_t len = subj != NULL ? strlen(subj) : 0;
	char *marked;
	struct buf out = BUF_INIT;
	json_t *j = json_null();

	if (len == 0 || json_array_size(terms) == 0)
		return j;
	marked = xcalloc(len, 1);
	if (mark_terms(subj, len, terms, marked)) {
		emit(&out, subj, marked, 0, len, 0);
		j = json_stringn(out.data, out.len);
	}
	free(marked);
	buf_free(&out);
	return j != NULL ? j : json_null();
}

/* A section of the body text around its first match, or null. */
static json_t *preview_snippet(const char *text, size_t len, const json_t *terms)
{
	char *marked;
	size_t first = 0, start, end;
	struct buf out = BUF_INIT;
	json_t *j = json_null();

	if (len == 0 || json_array_size(terms) == 0)
		return j;
	marked = xcalloc(len, 1);
	if (mark_terms(text, len, terms, marked)) {
		while (!marked[first])
			first++;
		start = first > SNIPPET_LEAD ? first - SNIPPET_LEAD : 0;
		while (start > 0 && ((unsigned char)text[start] & 0xc0) == 0x80)
			start--;
		end = start + SNIPPET_TEXT_MAX < len ? start + SNIPPET_TEXT_MAX : len;
		while (end < len && ((unsigned char)text[end] & 0xc0) == 0x80)
			end--;
		while (start < end && (text[start] == ' ' || text[start] == '\n' || text[start] == '\r'))
			start++;
		emit(&out, text, marked, start, end, 1);
		j = json_stringn(out.data, out.len);
	}
	free(marked);
	buf_free(&out);
	return j != NULL ? j : json_null();
}

/* One SearchSnippet: 1, 0 when the message is not complete here, -1. */
static int snippet(struct jmap_email_content *c, const struct jmap_email *e, const json_t *sterms,
		   const json_t *bterms, json_t **out_r, const char **error_r)
{
	json_t *summary = NULL, *preview = json_null();
	int r;

	if ((r = jmap_email_summary(c, e, &summary, error_r)) < 0)
		return -1;
	if (json_array_size(bterms) > 0 && summary != NULL) {
		struct buf text = BUF_INIT;

		if ((r = jmap_email_raw(c, e, error_r)) <= 0)
			return r;
		evm_fts_body_text(c->raw, c->raw_len, e->prefix_len, summary, &text);
		json_decref(preview);
		preview = preview_snippet(text.data, text.len, bterms);
		buf_free(&text);
	}
	*out_r = json_pack("{s:s, s:o, s:o}", "emailId", e->id, "subject", subject_snippet(summary, sterms),
			   "preview", preview);
	return 1;
}

void jmap_snippet_get(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_email_content c = { .view = req->node->view, .account = req->address };
	struct jmap_query_args a;
	struct jmap_efilter *f;
	json_t *ids = NULL, *list = json_array(), *not_found = json_array(), *sterms = json_array();
	json_t *bterms = json_array(), *v;
	const char *error = NULL;
	size_t i;

	(void)ctx;
	if (jmap_query_args_parse(call, args, jmap_efilter_check, NULL, NULL, &a) < 0 ||
	    jmap_arg_ids(call, args, "emailIds", jmap_call_settings(call)->max_objects_in_get, &ids) < 0)
		goto out;
	if (ids == NULL) {
		jmap_arg_invalid(call, "emailIds", "is required");
		goto out;
	}
	f = jmap_efilter_compile(a.filter);
	jmap_efilter_terms(f, sterms, bterms);
	jmap_efilter_free(&f);
	json_array_foreach(ids, i, v) {
		struct jmap_email e;
		json_t *s = NULL;
		int r = jmap_email_load(req->node->view, req->address, json_string_value(v), &e, &error);

		if (r < 0)
			goto fail;
		if (r == 0) {
			json_array_append(not_found, v);
			continue;
		}
		r = snippet(&c, &e, sterms, bterms, &s, &error);
		jmap_email_content_drop(&c);
		jmap_email_clear(&e);
		if (r < 0)
			goto fail;
		if (r == 0) {
			/* As Email/get: the message is still arriving here. */
			jmap_call_error(call, "serverUnavailable", "a message is still arriving on this node");
			goto out;
		}
		json_array_append_new(list, s);
	}
	/* 5.1: notFound is null when every id was found. */
	jmap_call_reply(call, json_pack("{s:s, s:o, s:o}", "accountId", a.account->id, "list", list,
					"notFound", json_array_size(not_found) ? json_incref(not_found) : json_null()));
	list = NULL;
	goto out;
fail:
	log_error("jmap: SearchSnippet/get for %s: %s", req->address, error ? error : "?");
	jmap_call_error(call, "serverFail", "the view cannot be read");
out:
	jmap_email_content_drop(&c);
	json_decref(ids);
	json_decref(list);
	json_decref(not_found);
	json_decref(sterms);
	json_decref(bterms);
}

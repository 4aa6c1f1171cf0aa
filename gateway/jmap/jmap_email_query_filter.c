/* jmap_email_query_filter - the Email FilterCondition (RFC 8621 4.4.1):
 * checked for the methods' arguments, compiled once (keywords lower-cased,
 * texts casemapped), and the terms SearchSnippet marks. Evaluation is in
 * jmap_email_query_match.c. */
#include "gateway/jmap/jmap_email_query_private.h"
#include "gateway/fts/fts_casemap.h"
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const text_names[T_COUNT] = { "text", "from", "to", "cc", "bcc", "subject", "body" };
static const char *const kw_names[K_COUNT] = {
	"allInThreadHaveKeyword", "someInThreadHaveKeyword", "noneInThreadHaveKeyword", "hasKeyword",
	"notKeyword",
};


static _Thread_local char filter_msg[160];

static int bad(const char **error_r, const char *name, const char *what)
{
	snprintf(filter_msg, sizeof filter_msg, "%.60s %s", name, what);
	*error_r = filter_msg;
	return -1;
}

/* 1 when s is a header field name (RFC 5322 3.6.8: printable, no ':'). */
static int field_name(const char *s)
{
	if (s[0] == '\0' || strlen(s) > 200)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == ':')
			return 0;
	return 1;
}

static int name_in(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

int jmap_efilter_check(void *ctx, const json_t *cond, const char **error_r)
{
	const char *name;
	json_t *v, *x;
	int64_t ms;
	size_t i;

	(void)ctx;
	json_object_foreach((json_t *)cond, name, v) {
		if (json_is_null(v))
			continue;
		if (strcmp(name, "inMailbox") == 0) {
			if (!json_is_string(v))
				return bad(error_r, name, "is not an Id");
		} else if (strcmp(name, "inMailboxOtherThan") == 0) {
			if (!json_is_array(v))
				return bad(error_r, name, "is not an Id[]");
			json_array_foreach(v, i, x)
				if (!json_is_string(x))
					return bad(error_r, name, "is not an Id[]");
		} else if (strcmp(name, "before") == 0 || strcmp(name, "after") == 0) {
			if (jmap_utcdate_parse(json_string_value(v), &ms) < 0)
				return bad(error_r, name, "is not a UTCDate");
		} else if (strcmp(name, "minSize") == 0 || strcmp(name, "maxSize") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				return bad(error_r, name, "is not an UnsignedInt");
		} else if (name_in(name, kw_names, K_COUNT) >= 0) {
			if (!json_is_string(v) || !jmap_keyword_valid(json_string_value(v)))
				return bad(error_r, name, "is not a keyword");
		} else if (strcmp(name, "hasAttachment") == 0) {
			if (!json_is_boolean(v))
				return bad(error_r, name, "is not a Boolean");
		} else if (name_in(name, text_names, T_COUNT) >= 0) {
			if (!json_is_string(v))
				return bad(error_r, name, "is not a String");
		} else if (strcmp(name, "header") == 0) {
			/* [name] or [name, value] (4.4.1) */
			if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 2)
				return bad(error_r, name, "is not a String[] of 1 or 2 items");
			json_array_foreach(v, i, x)
				if (!json_is_string(x))
					return bad(error_r, name, "is not a String[] of 1 or 2 items");
			if (!field_name(json_string_value(json_array_get(v, 0))))
				return bad(error_r, name, "does not name a header field");
		} else {
			return bad(error_r, name, "is not a filter condition");
		}
	}
	return 0;
}

static char *mapped(const char *s)
{
	return fts_casemap(s, strlen(s));
}

static char *lower(const char *s)
{
	char *out = xstrdup(s);

	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return out;
}

/* One FilterCondition (already checked). */
static void compile_cond(struct jmap_efilter *f, const json_t *cond)
{
	const char *name;
	json_t *v;
	int k;

	f->has_attachment = -1;
	json_object_foreach((json_t *)cond, name, v) {
		if (json_is_null(v))
			continue;
		if (strcmp(name, "inMailbox") == 0) {
			f->in_mailbox = xstrdup(json_string_value(v));
		} else if (strcmp(name, "inMailboxOtherThan") == 0) {
			f->other_than = json_incref(v);
		} else if (strcmp(name, "before") == 0) {
			jmap_utcdate_parse(json_string_value(v), &f->before);
			f->has |= H_BEFORE;
		} else if (strcmp(name, "after") == 0) {
			jmap_utcdate_parse(json_string_value(v), &f->after);
			f->has |= H_AFTER;
		} else if (strcmp(name, "minSize") == 0) {
			f->min_size = json_integer_value(v);
			f->has |= H_MIN;
		} else if (strcmp(name, "maxSize") == 0) {
			f->max_size = json_integer_value(v);
			f->has |= H_MAX;
		} else if ((k = name_in(name, kw_names, K_COUNT)) >= 0) {
			f->kw[k] = lower(json_string_value(v));
		} else if (strcmp(name, "hasAttachment") == 0) {
			f->has_attachment = json_is_true(v);
		} else if ((k = name_in(name, text_names, T_COUNT)) >= 0) {
			f->text[k] = mapped(json_string_value(v));
		} else if (strcmp(name, "header") == 0) {
			f->header_name = xstrdup(json_string_value(json_array_get(v, 0)));
			if (json_array_size(v) == 2)
				f->header_value = mapped(json_string_value(json_array_get(v, 1)));
		}
	}
}

struct jmap_efilter *jmap_efilter_compile(const json_t *filter)
{
	const char *op = json_string_value(json_object_get(filter, "operator"));
	struct jmap_efilter *f;
	json_t *c;
	size_t i;

	if (filter == NULL)
		return NULL;
	f = xcalloc(1, sizeof *f);
	if (op == NULL) {
		f->op = F_COND;
		compile_cond(f, filter);
		return f;
	}
	f->op = strcmp(op, "AND") == 0 ? F_AND : strcmp(op, "OR") == 0 ? F_OR : F_NOT;
	f->nkids = json_array_size(json_object_get(filter, "conditions"));
	f->kids = xcalloc(f->nkids ? f->nkids : 1, sizeof *f->kids);
	json_array_foreach(json_object_get(filter, "conditions"), i, c)
		f->kids[i] = jmap_efilter_compile(c);
	return f;
}

void jmap_efilter_free(struct jmap_efilter **fp)
{
	struct jmap_efilter *f = *fp;

	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nkids; i++)
		jmap_efilter_free(&f->kids[i]);
	free(f->kids);
	free(f->in_mailbox);
	json_decref(f->other_than);
	for (int k = 0; k < K_COUNT; k++)
		free(f->kw[k]);
	for (int k = 0; k < T_COUNT; k++)
		free(f->text[k]);
	free(f->header_name);
	free(f->header_value);
	free(f);
	*fp = NULL;
}

unsigned jmap_efilter_needs(const struct jmap_efilter *f)
{
	unsigned n = 0;

	if (f == NULL)
		return 0;
	for (size_t i = 0; i < f->nkids; i++)
		n |= jmap_efilter_needs(f->kids[i]);
	if (f->kw[K_ALL] || f->kw[K_SOME] || f->kw[K_NONE])
		n |= JMAP_EQ_THREADS;
	if (f->has_attachment >= 0)
		n |= JMAP_EQ_SUMMARY;
	for (int k = 0; k < T_COUNT; k++)
		if (f->text[k] != NULL)
			n |= JMAP_EQ_SUMMARY | (k == T_TEXT || k == T_BODY ? JMAP_EQ_RAW : 0);
	if (f->header_name != NULL)
		n |= JMAP_EQ_RAW;
	return n;
}

int jmap_efilter_thread_wide(const struct jmap_efilter *f)
{
	return (jmap_efilter_needs(f) & JMAP_EQ_THREADS) != 0;
}

void jmap_efilter_terms(const struct jmap_efilter *f, json_t *subject_terms, json_t *body_terms)
{
	if (f == NULL || f->op == F_NOT)
		return;
	for (size_t i = 0; i < f->nkids; i++)
		jmap_efilter_terms(f->kids[i], subject_terms, body_terms);
	if (f->text[T_TEXT] != NULL) {
		json_array_append_new(subject_terms, json_string(f->text[T_TEXT]));
		json_array_append_new(body_terms, json_string(f->text[T_TEXT]));
	}
	if (f->text[T_SUBJECT] != NULL)
		json_array_append_new(subject_terms, json_string(f->text[T_SUBJECT]));
	if (f->text[T_BODY] != NULL)
		json_array_append_new(body_terms, json_string(f->text[T_BODY]));
}

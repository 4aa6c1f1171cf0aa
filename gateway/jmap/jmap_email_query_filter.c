/* jmap_email_query_filter - the Email FilterCondition (RFC 8621 4.4.1):
 * checked for Email/query's arguments, compiled once (keywords lower-cased,
 * texts casemapped) and evaluated email by email, reading the summary or
 * the message only when a condition needs it. */
#include "gateway/jmap/jmap_email_query.h"
#include "gateway/imap/imap_casemap.h"
#include "gateway/imap/imap_fts.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { F_COND, F_AND, F_OR, F_NOT };
enum { T_TEXT, T_FROM, T_TO, T_CC, T_BCC, T_SUBJECT, T_BODY, T_COUNT };
enum { K_ALL, K_SOME, K_NONE, K_HAS, K_NOT, K_COUNT };

static const char *const text_names[T_COUNT] = { "text", "from", "to", "cc", "bcc", "subject", "body" };
static const char *const kw_names[K_COUNT] = {
	"allInThreadHaveKeyword", "someInThreadHaveKeyword", "noneInThreadHaveKeyword", "hasKeyword",
	"notKeyword",
};

struct jmap_efilter {
	int op;
	struct jmap_efilter **kids;
	size_t nkids;
	/* F_COND: every given property must match */
	char *in_mailbox;
	json_t *other_than;            /* array of ids, or NULL */
	int64_t before, after, min_size, max_size;
	unsigned has;                  /* H_* given */
	char *kw[K_COUNT];             /* lower-case, or NULL */
	int has_attachment;            /* -1: not given */
	char *text[T_COUNT];           /* casemapped, or NULL */
	char *header_name, *header_value;   /* value casemapped; NULL: presence only */
};

enum { H_BEFORE = 1, H_AFTER = 2, H_MIN = 4, H_MAX = 8 };

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
	return imap_casemap(s, strlen(s));
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

void jmap_eq_thread_count(struct jmap_eq_threads *t, const struct jmap_email *e, const char *kw,
			  json_int_t *with_r, json_int_t *total_r)
{
	json_t *with;

	if (t->total == NULL) {
		t->total = json_object();
		t->with = json_object();
		for (size_t i = 0; i < t->set->n; i++) {
			const char *tid = t->set->v[i].thread_id;

			json_object_set_new(t->total, tid,
					    json_integer(json_integer_value(json_object_get(t->total, tid)) + 1));
		}
	}
	if ((with = json_object_get(t->with, kw)) == NULL) {
		with = json_object();
		for (size_t i = 0; i < t->set->n; i++) {
			const struct jmap_email *x = &t->set->v[i];

			if (json_object_get(x->keywords, kw) != NULL)
				json_object_set_new(with, x->thread_id,
						    json_integer(json_integer_value(json_object_get(with, x->thread_id)) + 1));
		}
		json_object_set_new(t->with, kw, with);
	}
	*with_r = json_integer_value(json_object_get(with, e->thread_id));
	*total_r = json_integer_value(json_object_get(t->total, e->thread_id));
}

void jmap_eq_threads_free(struct jmap_eq_threads *t)
{
	json_decref(t->total);
	json_decref(t->with);
	t->total = t->with = NULL;
}

/* 1 when the casemapped needle is in one of the summary's pieces of an
 * address field or the subject (imap_fts.h, THE TEXT). */
static int in_pieces(json_t *summary, int field, const char *needle)
{
	struct buf b = BUF_INIT;
	int hit = 0;

	imap_fts_summary_text(summary, field, &b);
	for (size_t i = 0; i < b.len && !hit; i += strlen(b.data + i) + 1)
		hit = imap_casemap_find(b.data + i, strlen(b.data + i), needle);
	buf_free(&b);
	return hit;
}

/* The casemapped body text of the email (its message read): 1, 0 not
 * complete here, -1 error. */
static int body_text(struct jmap_email_content *c, const struct jmap_email *e, const char **error_r)
{
	struct buf b = BUF_INIT;
	json_t *summary;
	int r;

	if ((r = jmap_email_raw(c, e, error_r)) <= 0)
		return r;
	if (c->body != NULL)
		return 1;
	if ((r = jmap_email_summary(c, e, &summary, error_r)) < 0)
		return -1;
	if (r == 1)
		imap_fts_body_text(c->raw, c->raw_len, e->prefix_len, summary, &b);
	c->body = imap_casemap(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return 1;
}

struct header_match {
	const char *name, *value;
	int hit;
};

static int header_cb(void *ctx, const char *name, size_t nlen, const char *value)
{
	struct header_match *h = ctx;

	if (strlen(h->name) == nlen && strncasecmp(name, h->name, nlen) == 0 &&
	    (h->value == NULL || imap_casemap_find(value, strlen(value), h->value)))
		h->hit = 1;
	return h->hit;
}

/* The conditions on texts: 1, 0, 2 (message not here), -1. */
static int match_texts(const struct jmap_efilter *f, struct jmap_email_content *c, const struct jmap_email *e,
		       const char **error_r)
{
	static const int field[T_COUNT] = {
		[T_FROM] = IMAP_FTS_F_FROM, [T_TO] = IMAP_FTS_F_TO, [T_CC] = IMAP_FTS_F_CC,
		[T_BCC] = IMAP_FTS_F_BCC, [T_SUBJECT] = IMAP_FTS_F_SUBJECT,
	};
	json_t *summary = NULL;
	int r;

	if ((r = jmap_email_summary(c, e, &summary, error_r)) < 0)
		return -1;
	for (int k = T_FROM; k <= T_SUBJECT; k++)
		if (f->text[k] != NULL && (summary == NULL || !in_pieces(summary, field[k], f->text[k])))
			return 0;
	if (f->text[T_TEXT] != NULL) {
		int hit = 0;

		for (int k = T_FROM; k <= T_SUBJECT && !hit && summary != NULL; k++)
			hit = in_pieces(summary, field[k], f->text[T_TEXT]);
		if (!hit) {
			if ((r = body_text(c, e, error_r)) <= 0)
				return r < 0 ? -1 : 2;
			if (strstr(c->body, f->text[T_TEXT]) == NULL)
				return 0;
		}
	}
	if (f->text[T_BODY] != NULL) {
		if ((r = body_text(c, e, error_r)) <= 0)
			return r < 0 ? -1 : 2;
		if (strstr(c->body, f->text[T_BODY]) == NULL)
			return 0;
	}
	if (f->header_name != NULL) {
		struct header_match h = { f->header_name, f->header_value, 0 };

		if ((r = jmap_email_raw(c, e, error_r)) <= 0)
			return r < 0 ? -1 : 2;
		imap_fts_header_fields(c->raw, c->raw_len, header_cb, &h);
		if (!h.hit)
			return 0;
	}
	return 1;
}

/* One FilterCondition: cheap properties first, then the summary, then
 * the message. */
static int match_cond(const struct jmap_efilter *f, struct jmap_email_content *c, struct jmap_eq_threads *t,
		      const struct jmap_email *e, const char **error_r)
{
	json_int_t with, total;
	const char *mb;
	json_t *v, *summary;
	size_t i;
	int r;

	if (f->in_mailbox != NULL && json_object_get(e->mailboxes, f->in_mailbox) == NULL)
		return 0;
	if (f->other_than != NULL) {
		int other = 0;

		json_object_foreach(e->mailboxes, mb, v) {
			int listed = 0;
			json_t *x;

			json_array_foreach(f->other_than, i, x)
				listed |= strcmp(json_string_value(x), mb) == 0;
			other |= !listed;
		}
		if (!other)
			return 0;
	}
	if (((f->has & H_BEFORE) && e->received >= f->before) || ((f->has & H_AFTER) && e->received < f->after) ||
	    ((f->has & H_MIN) && e->size < f->min_size) || ((f->has & H_MAX) && e->size >= f->max_size))
		return 0;
	if ((f->kw[K_HAS] && json_object_get(e->keywords, f->kw[K_HAS]) == NULL) ||
	    (f->kw[K_NOT] && json_object_get(e->keywords, f->kw[K_NOT]) != NULL))
		return 0;
	for (int k = K_ALL; k <= K_NONE; k++) {
		if (f->kw[k] == NULL)
			continue;
		jmap_eq_thread_count(t, e, f->kw[k], &with, &total);
		if ((k == K_ALL && with < total) || (k == K_SOME && with == 0) || (k == K_NONE && with > 0))
			return 0;
	}
	if (f->has_attachment >= 0) {
		if ((r = jmap_email_summary(c, e, &summary, error_r)) < 0)
			return -1;
		if (r == 0 || json_is_true(json_object_get(summary, "has_attachment")) != f->has_attachment)
			return 0;
	}
	for (int k = 0; k < T_COUNT; k++)
		if (f->text[k] != NULL || f->header_name != NULL)
			return match_texts(f, c, e, error_r);
	return 1;
}

int jmap_efilter_match(const struct jmap_efilter *f, struct jmap_email_content *c,
		       struct jmap_eq_threads *t, const struct jmap_email *e, const char **error_r)
{
	int unknown = 0;

	if (f == NULL)
		return 1;
	if (f->op == F_COND)
		return match_cond(f, c, t, e, error_r);
	/* A result that does not depend on an unreadable message is given
	 * (AND with a false, OR with a true); otherwise 2 goes up. */
	for (size_t i = 0; i < f->nkids; i++) {
		int r = jmap_efilter_match(f->kids[i], c, t, e, error_r);

		if (r < 0)
			return -1;
		if (r == 2)
			unknown = 1;
		else if (f->op == F_AND && r == 0)
			return 0;
		else if (f->op == F_OR && r == 1)
			return 1;
		else if (f->op == F_NOT && r == 1)
			return 0;
	}
	if (unknown)
		return 2;
	/* AND: all matched; OR: none did; NOT: none did (RFC 8620 5.5). */
	return f->op == F_OR ? 0 : 1;
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

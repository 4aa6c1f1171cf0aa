/* jmap_email_query_match - evaluates a compiled Email filter on one
 * email (RFC 8621 4.4.1): cheap properties first, then the summary, then
 * the message; thread-wide keyword counts built once per query. */
#include "gateway/jmap/jmap_email_query_private.h"
#include "gateway/fts/fts_casemap.h"
#include "gateway/fts/fts.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
 * address field or the subject (fts.h, THE TEXT). */
static int in_pieces(json_t *summary, int field, const char *needle)
{
	struct buf b = BUF_INIT;
	int hit = 0;

	evm_fts_summary_text(summary, field, &b);
	for (size_t i = 0; i < b.len && !hit; i += strlen(b.data + i) + 1)
		hit = fts_casemap_find(b.data + i, strlen(b.data + i), needle);
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
		evm_fts_body_text(c->raw, c->raw_len, e->prefix_len, summary, &b);
	c->body = fts_casemap(b.data != NULL ? b.data : "", b.len);
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
	    (h->value == NULL || fts_casemap_find(value, strlen(value), h->value)))
		h->hit = 1;
	return h->hit;
}

/* The conditions on texts: 1, 0, 2 (message not here), -1. */
static int match_texts(const struct jmap_efilter *f, struct jmap_email_content *c, const struct jmap_email *e,
		       const char **error_r)
{
	static const int field[T_COUNT] = {
		[T_FROM] = EVM_FTS_F_FROM, [T_TO] = EVM_FTS_F_TO, [T_CC] = EVM_FTS_F_CC,
		[T_BCC] = EVM_FTS_F_BCC, [T_SUBJECT] = EVM_FTS_F_SUBJECT,
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
		evm_fts_header_fields(c->raw, c->raw_len, header_cb, &h);
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

/* jmap_email_query_sort - the Email sort (RFC 8621 4.4.2) and the run of
 * one query: filter, sort keys, a total order (ties broken by email id,
 * so every node gives the same list), collapseThreads (4.4.3). */
#include "gateway/jmap/jmap_email_query.h"
#include "gateway/fts/fts_casemap.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sprop { S_RECEIVED, S_SIZE, S_FROM, S_TO, S_SUBJECT, S_SENT, S_HAS_KW, S_ALL_KW, S_SOME_KW, S_COUNT };

/* The account's emailQuerySortOptions (jmap_mail.c), in enum order. */
static const char *const sort_names[S_COUNT] = {
	"receivedAt", "size", "from", "to", "subject", "sentAt", "hasKeyword",
	"allInThreadHaveKeyword", "someInThreadHaveKeyword",
};

static _Thread_local char sort_msg[160];

static int prop_of(const char *name)
{
	for (int i = 0; i < S_COUNT; i++)
		if (name != NULL && strcmp(name, sort_names[i]) == 0)
			return i;
	return -1;
}

int jmap_esort_check(void *ctx, const json_t *comparator, const char **error_r)
{
	const char *name = json_string_value(json_object_get(comparator, "property"));
	const json_t *kw = json_object_get(comparator, "keyword");
	int p = prop_of(name);

	(void)ctx;
	if (p < 0) {
		snprintf(sort_msg, sizeof sort_msg, "cannot sort by \"%.80s\"", name ? name : "");
		*error_r = sort_msg;
		return -1;
	}
	/* 4.4.2: the keyword sorts take the keyword as "keyword". */
	if (p >= S_HAS_KW && (!json_is_string(kw) || !jmap_keyword_valid(json_string_value(kw)))) {
		snprintf(sort_msg, sizeof sort_msg, "%s needs a valid \"keyword\"", name);
		*error_r = sort_msg;
		return -1;
	}
	return 0;
}

int jmap_esort_thread_wide(const json_t *sort)
{
	const json_t *c;
	size_t i;

	json_array_foreach(sort, i, c) {
		int p = prop_of(json_string_value(json_object_get(c, "property")));

		if (p == S_ALL_KW || p == S_SOME_KW)
			return 1;
	}
	return 0;
}

struct comparator {
	int prop, ascending, ascii;
	char kw[256];
};

/* A key of one comparator for one email: a number or a string. */
union key {
	int64_t n;
	char *s;
};

struct hit {
	const struct jmap_email *e;
	union key *k;           /* one per comparator */
};

struct sorter {
	struct comparator *c;
	size_t n;
};

static void compile_sort(const json_t *sort, struct sorter *s)
{
	const json_t *c;
	size_t i;

	s->n = 0;
	s->c = xcalloc(json_array_size(sort) + 1, sizeof *s->c);
	if (sort == NULL || json_array_size(sort) == 0) {
		/* No sort given (RFC 8620 5.5: server dependent): newest first. */
		s->c[0].prop = S_RECEIVED;
		s->n = 1;
		return;
	}
	json_array_foreach(sort, i, c) {
		struct comparator *x = &s->c[s->n++];
		const char *coll = json_string_value(json_object_get(c, "collation"));

		x->prop = prop_of(json_string_value(json_object_get(c, "property")));
		x->ascending = !json_is_false(json_object_get(c, "isAscending"));
		x->ascii = coll != NULL && strcmp(coll, "i;ascii-casemap") == 0;
		if (json_is_string(json_object_get(c, "keyword"))) {
			const char *kw = json_string_value(json_object_get(c, "keyword"));
			size_t k;

			for (k = 0; kw[k] && k + 1 < sizeof x->kw; k++)
				x->kw[k] = (char)(kw[k] >= 'A' && kw[k] <= 'Z' ? kw[k] + 32 : kw[k]);
			x->kw[k] = '\0';
		}
	}
}

/* A string under the comparator's collation: i;ascii-casemap folds a-z
 * to A-Z (RFC 4790 9.2), i;unicode-casemap is RFC 5051. */
static char *collate(const struct comparator *c, const char *s)
{
	char *out;

	if (!c->ascii)
		return fts_casemap(s, strlen(s));
	out = xstrdup(s);
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	return out;
}

/* 4.4.2 from / to: the name, else the email, of the first address of the
 * field (the summary's first instance of the field); "" when none. */
static const char *first_address(json_t *summary, const char *field)
{
	json_t *a = json_array_get(json_object_get(json_object_get(summary, "headers"), field), 0);
	const char *name = json_string_value(json_object_get(a, "name"));
	const char *email = json_string_value(json_object_get(a, "email"));

	return name != NULL && name[0] ? name : email != NULL ? email : "";
}

/* The keys of one matching email. 0, or -1. */
static int make_keys(const struct sorter *s, struct jmap_email_content *c, struct jmap_eq_threads *t,
		     struct hit *h, const char **error_r)
{
	const struct jmap_email *e = h->e;
	json_t *summary = NULL;
	json_int_t with, total;

	for (size_t i = 0; i < s->n; i++) {
		const struct comparator *x = &s->c[i];
		const char *str = NULL;

		if ((x->prop == S_FROM || x->prop == S_TO || x->prop == S_SUBJECT || x->prop == S_SENT) &&
		    summary == NULL && jmap_email_summary(c, e, &summary, error_r) < 0)
			return -1;
		switch (x->prop) {
		case S_RECEIVED: h->k[i].n = e->received; break;
		case S_SIZE: h->k[i].n = e->size; break;
		case S_FROM: str = first_address(summary, "from"); break;
		case S_TO: str = first_address(summary, "to"); break;
		case S_SUBJECT:   /* the base subject (RFC 5256 2.1) */
			str = json_string_value(json_object_get(json_object_get(summary, "thread"), "base_subject"));
			break;
		case S_SENT: {   /* no Date: before every date */
			json_t *d = json_object_get(json_object_get(summary, "headers"), "date");

			h->k[i].n = json_is_integer(d) ? json_integer_value(d) : INT64_MIN;
			break;
		}
		case S_HAS_KW: h->k[i].n = json_object_get(e->keywords, x->kw) != NULL; break;
		default:
			jmap_eq_thread_count(t, e, x->kw, &with, &total);
			h->k[i].n = x->prop == S_ALL_KW ? with == total : with > 0;
			break;
		}
		if (x->prop == S_FROM || x->prop == S_TO || x->prop == S_SUBJECT)
			h->k[i].s = collate(x, str != NULL ? str : "");
	}
	return 0;
}

static _Thread_local const struct sorter *cur_sorter;

static int is_string(int prop)
{
	return prop == S_FROM || prop == S_TO || prop == S_SUBJECT;
}

static int cmp_hits(const void *va, const void *vb)
{
	const struct hit *a = va, *b = vb;

	for (size_t i = 0; i < cur_sorter->n; i++) {
		const struct comparator *x = &cur_sorter->c[i];
		int r;

		if (is_string(x->prop))
			r = strcmp(a->k[i].s, b->k[i].s);
		else
			r = a->k[i].n < b->k[i].n ? -1 : a->k[i].n > b->k[i].n;
		if (r != 0)
			return x->ascending ? r : -r;
	}
	return strcmp(a->e->id, b->e->id);
}

static void free_hits(const struct sorter *s, struct hit *hits, size_t n, union key *keys)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < s->n; k++)
			if (is_string(s->c[k].prop))
				free(hits[i].k[k].s);
	free(hits);
	free(keys);
	free(s->c);
}

int jmap_email_query_run(struct view *view, const char *account, const struct jmap_email_set *set,
			 const json_t *filter, const json_t *sort, int collapse, json_t **ids_r,
			 const char **error_r)
{
	struct jmap_efilter *f = jmap_efilter_compile(filter);
	struct jmap_email_content c = { .view = view, .account = account };
	struct jmap_eq_threads t = { .set = set };
	struct hit *hits = xcalloc(set->n ? set->n : 1, sizeof *hits);
	union key *keys;
	struct sorter s;
	json_t *seen = NULL;
	size_t n = 0;
	int ret = -1;

	*ids_r = NULL;
	compile_sort(sort, &s);
	keys = xcalloc((set->n ? set->n : 1) * s.n, sizeof *keys);
	for (size_t i = 0; i < set->n; i++) {
		int r = jmap_efilter_match(f, &c, &t, &set->v[i], error_r);

		if (r == 1) {
			hits[n].e = &set->v[i];
			hits[n].k = keys + n * s.n;
			r = make_keys(&s, &c, &t, &hits[n++], error_r) < 0 ? -1 : 1;
		}
		jmap_email_content_drop(&c);
		if (r < 0)
			goto out;
		if (r == 2) {
			ret = 1;
			goto out;
		}
	}
	cur_sorter = &s;
	qsort(hits, n, sizeof *hits, cmp_hits);
	cur_sorter = NULL;
	*ids_r = json_array();
	if (collapse)
		seen = json_object();
	for (size_t i = 0; i < n; i++) {
		/* 4.4.3 collapseThreads: only the first email of each thread. */
		if (seen != NULL) {
			if (json_object_get(seen, hits[i].e->thread_id) != NULL)
				continue;
			json_object_set_new(seen, hits[i].e->thread_id, json_true());
		}
		json_array_append_new(*ids_r, json_string(hits[i].e->id));
	}
	ret = 0;
out:
	json_decref(seen);
	free_hits(&s, hits, n, keys);
	jmap_eq_threads_free(&t);
	jmap_efilter_free(&f);
	return ret;
}

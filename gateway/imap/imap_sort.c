/* imap_sort - see imap_sort.h. Strings compare under i;unicode-casemap
 * (RFC 5256 requires I18NLEVEL=1 collation; RFC 5051): the casemapped forms
 * octet by octet. Exact ties keep mailbox order (RFC 5256 3). */
#include "gateway/imap/imap_sort.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_msgrec.h"
#include "gateway/fts/fts_casemap.h"
#include "gateway/imap/imap_snapshot.h"
#include "gateway/imap/imap_thread.h"
#include "projector/mail.h"
#include "gateway/node.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum skey { K_ARRIVAL, K_CC, K_DATE, K_FROM, K_SIZE, K_SUBJECT, K_TO, K_DISPLAYFROM, K_DISPLAYTO };

#define SORT_KEYS_MAX 16

struct crit {
	enum skey key;
	bool reverse;
};

struct item {
	size_t idx;
	int64_t arrival, date, size;
	char *str[SORT_KEYS_MAX];   /* per criterion: the casemapped string key */
};

struct sort_ctx {
	struct crit c[SORT_KEYS_MAX];
	size_t nc;
	struct imap_recs recs;   /* the messages' view records */
};

static struct sort_ctx *cur_ctx;   /* for qsort's comparator (one loop thread) */

/* The sort criteria list (RFC 5256 3 sort-criteria). 0 or -1. */
static int parse_criteria(const struct imap_arg *a, struct sort_ctx *ctx)
{
	static const struct { const char *name; enum skey key; } keys[] = {
		{ "ARRIVAL", K_ARRIVAL }, { "CC", K_CC }, { "DATE", K_DATE }, { "FROM", K_FROM },
		{ "SIZE", K_SIZE }, { "SUBJECT", K_SUBJECT }, { "TO", K_TO },
		{ "DISPLAYFROM", K_DISPLAYFROM }, { "DISPLAYTO", K_DISPLAYTO },
	};
	bool rev = false;

	if (a->type != IMAP_ARG_LIST || a->count == 0)
		return -1;
	ctx->nc = 0;
	for (size_t i = 0; i < a->count; i++) {
		const char *k = a->list[i].type == IMAP_ARG_ATOM ? a->list[i].str : NULL;
		size_t j;

		if (k == NULL)
			return -1;
		if (strcasecmp(k, "REVERSE") == 0) {
			rev = true;
			continue;
		}
		for (j = 0; j < sizeof keys / sizeof keys[0]; j++) {
			if (strcasecmp(k, keys[j].name) == 0)
				break;
		}
		if (j == sizeof keys / sizeof keys[0] || ctx->nc == SORT_KEYS_MAX)
			return -1;
		ctx->c[ctx->nc].key = keys[j].key;
		ctx->c[ctx->nc++].reverse = rev;
		rev = false;
	}
	return rev || ctx->nc == 0 ? -1 : 0;   /* REVERSE must precede a key */
}

/* RFC 5256 3: the addr-mailbox (local part) of the first address; RFC
 * 5957: the display name when non-empty, else the addr-spec. */
static char *addr_key(json_t *list, bool display)
{
	json_t *a = json_array_get(list, 0);
	const char *name = json_string_value(json_object_get(a, "name"));
	const char *email = json_string_value(json_object_get(a, "email"));
	const char *at;

	if (display && name != NULL && name[0] != '\0')
		return fts_casemap(name, strlen(name));
	if (email == NULL)
		return xstrdup("");
	if (display)
		return fts_casemap(email, strlen(email));
	at = strrchr(email, '@');
	return fts_casemap(email, at != NULL ? (size_t)(at - email) : strlen(email));
}

/* The keys of one message the criteria need. */
static void fill(struct imap_session *s, struct sort_ctx *ctx, struct item *it, size_t run)
{
	json_t *sum = NULL, *h, *rec = imap_recs_get(s, &ctx->recs, it->idx, run);
	const char *error = NULL;

	if (rec == NULL ||
	    mail_summary_get(s->node->view, s->mbox->owner, json_string_value(json_object_get(rec, "email_id")),
			     &sum, &error) <= 0)
		sum = json_object();
	h = json_object_get(sum, "headers");
	it->arrival = json_integer_value(json_object_get(rec, "internal_date"));
	it->size = json_integer_value(json_object_get(rec, "size"));
	it->date = imap_sent_date(rec, sum);
	for (size_t i = 0; i < ctx->nc; i++) {
		switch (ctx->c[i].key) {
		case K_CC:
			it->str[i] = addr_key(json_object_get(h, "cc"), false);
			break;
		case K_FROM:
			it->str[i] = addr_key(json_object_get(h, "from"), false);
			break;
		case K_TO:
			it->str[i] = addr_key(json_object_get(h, "to"), false);
			break;
		case K_DISPLAYFROM:
			it->str[i] = addr_key(json_object_get(h, "from"), true);
			break;
		case K_DISPLAYTO:
			it->str[i] = addr_key(json_object_get(h, "to"), true);
			break;
		case K_SUBJECT:
			it->str[i] = imap_base_subject_key(sum);
			break;
		default:
			break;
		}
	}
	json_decref(sum);
}

/* Three-way comparison of two integers. */
static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/* The sort criteria in order, REVERSE per key (RFC 5256 3). */
static int item_cmp(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;

	for (size_t i = 0; i < cur_ctx->nc; i++) {
		int r;

		switch (cur_ctx->c[i].key) {
		case K_ARRIVAL:
			r = cmp_i64(a->arrival, b->arrival);
			break;
		case K_DATE:
			r = cmp_i64(a->date, b->date);
			break;
		case K_SIZE:
			r = cmp_i64(a->size, b->size);
			break;
		default:
			r = strcmp(a->str[i], b->str[i]);
			break;
		}
		if (r != 0)
			return cur_ctx->c[i].reverse ? -r : r;
	}
	return a->idx < b->idx ? -1 : a->idx > b->idx;   /* ties: mailbox order */
}

int imap_sort_idx(struct imap_session *s, const struct imap_arg *crit, size_t *idx, size_t n)
{
	struct sort_ctx ctx;
	struct item *items;

	if (parse_criteria(crit, &ctx) < 0)
		return -1;
	memset(&ctx.recs, 0, sizeof ctx.recs);
	items = xcalloc(n + 1, sizeof *items);
	for (size_t i = 0; i < n; i++) {
		items[i].idx = idx[i];
		fill(s, &ctx, &items[i], imap_idx_run(idx, n, i));
	}
	imap_recs_free(&ctx.recs);
	cur_ctx = &ctx;
	qsort(items, n, sizeof *items, item_cmp);
	cur_ctx = NULL;
	for (size_t i = 0; i < n; i++) {
		idx[i] = items[i].idx;
		for (size_t j = 0; j < ctx.nc; j++)
			free(items[i].str[j]);
	}
	free(items);
	return 0;
}

int imap_sort_criteria_valid(const struct imap_arg *crit)
{
	struct sort_ctx ctx;

	return parse_criteria(crit, &ctx);
}

/* jmap_mailbox_query - Mailbox/query (RFC 8621 2.3) and
 * Mailbox/queryChanges (2.4) over the account's mailboxes as JMAP sees
 * them (jmap_mailbox_tree.h).
 *
 * Filters: parentId, name (contains, i;unicode-casemap), role,
 * hasAnyRole, isSubscribed; sorts: sortOrder (mailbox.update's, 0 unset), name
 * (collation i;unicode-casemap unless i;ascii-casemap is asked), then the
 * IMAP path so equal names keep one order; sortAsTree and filterAsTree.
 * The query state is the Mailbox state: the results can only change when
 * some mailbox does. */
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_mailbox_tree.h"
#include "gateway/jmap/jmap_set_methods.h"
#include "gateway/jmap/jmap_std.h"
#include "gateway/fts/fts_casemap.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>

/* The most changes queryChanges scans before it gives up. */
#define QUERY_CHANGES_SCAN_MAX 100000

static int filter_cond(void *ctx, const json_t *cond, const char **error_r)
{
	const char *k;
	json_t *v;

	(void)ctx;
	json_object_foreach((json_t *)cond, k, v) {
		int ok = strcmp(k, "parentId") == 0 || strcmp(k, "role") == 0 ?
				 json_is_string(v) || json_is_null(v) :
			 strcmp(k, "name") == 0 ? json_is_string(v) :
			 strcmp(k, "hasAnyRole") == 0 || strcmp(k, "isSubscribed") == 0 ? json_is_boolean(v) : -1;

		if (ok < 0) {
			*error_r = "a Mailbox filter has parentId, name, role, hasAnyRole and isSubscribed";
			return -1;
		}
		if (!ok) {
			*error_r = "a Mailbox filter condition has a value of the wrong type";
			return -1;
		}
	}
	return 0;
}

static int sort_prop(void *ctx, const json_t *c, const char **error_r)
{
	const char *p = json_string_value(json_object_get(c, "property"));

	(void)ctx;
	if (strcmp(p, "sortOrder") != 0 && strcmp(p, "name") != 0) {
		*error_r = "Mailboxes sort by sortOrder and name";
		return -1;
	}
	return 0;
}

/* A query over one tree: which mailboxes match, and their order. */
struct mquery {
	const struct jmap_mbox_tree *t;
	json_t *filter, *sort;
	int sort_as_tree, filter_as_tree;
	char **folded;          /* casemapped names, for sorting */
	char **ascii;           /* ASCII-lowercased names */
};

static int cond_match(const void *obj, const json_t *cond)
{
	const struct jmap_mbox *m = obj;
	json_t *v;

	if ((v = json_object_get(cond, "parentId")) != NULL &&
	    strcmp(m->parent_id, json_is_null(v) ? "" : json_string_value(v)) != 0)
		return 0;
	if ((v = json_object_get(cond, "role")) != NULL &&
	    strcmp(m->role, json_is_null(v) ? "" : json_string_value(v)) != 0)
		return 0;
	if ((v = json_object_get(cond, "hasAnyRole")) != NULL && json_is_true(v) != (m->role[0] != '\0'))
		return 0;
	if ((v = json_object_get(cond, "isSubscribed")) != NULL && json_is_true(v) != (m->subscribed != 0))
		return 0;
	if ((v = json_object_get(cond, "name")) != NULL) {
		char *needle = fts_casemap(json_string_value(v), json_string_length(v));
		int found = fts_casemap_find(m->name, strlen(m->name), needle);

		free(needle);
		if (!found)
			return 0;
	}
	return 1;
}

static _Thread_local const struct mquery *sort_q;

/* Siblings (or unrelated mailboxes without sortAsTree) by the comparators. */
static int cmp_plain(size_t a, size_t b)
{
	const struct mquery *q = sort_q;
	json_t *c;
	size_t i;

	json_array_foreach(q->sort, i, c) {
		const char *p = json_string_value(json_object_get(c, "property"));
		const char *coll = json_string_value(json_object_get(c, "collation"));
		json_t *asc = json_object_get(c, "isAscending");
		int r = 0;

		if (strcmp(p, "sortOrder") == 0) {
			r = (q->t->m[a].sort_order > q->t->m[b].sort_order) -
			    (q->t->m[a].sort_order < q->t->m[b].sort_order);
			if (r != 0)
				return asc == NULL || json_is_true(asc) ? r : -r;
			/* RFC 8621 2 sortOrder: equal ones sort by name. */
			if ((r = strcmp(q->folded[a], q->folded[b])) != 0)
				return r;
		} else if (strcmp(p, "name") == 0)
			r = coll != NULL && strcmp(coll, "i;ascii-casemap") == 0 ? strcmp(q->ascii[a], q->ascii[b]) :
										   strcmp(q->folded[a], q->folded[b]);
		if (r != 0)
			return asc == NULL || json_is_true(asc) ? r : -r;
	}
	return strcmp(q->t->m[a].path, q->t->m[b].path);
}

/* RFC 8621 2.3 sortAsTree: an ancestor before its descendants; otherwise
 * the two ancestors that are siblings decide. */
static int cmp_tree(size_t a, size_t b)
{
	const struct jmap_mbox_tree *t = sort_q->t;
	int ca[MAIL_MAILBOX_NAME_MAX], cb[MAIL_MAILBOX_NAME_MAX];
	int na = 0, nb = 0, i;

	for (int p = (int)a; p >= 0 && na < MAIL_MAILBOX_NAME_MAX; p = t->m[p].parent)
		ca[na++] = p;
	for (int p = (int)b; p >= 0 && nb < MAIL_MAILBOX_NAME_MAX; p = t->m[p].parent)
		cb[nb++] = p;
	for (i = 1; i <= na && i <= nb; i++) {
		if (ca[na - i] != cb[nb - i])
			return cmp_plain((size_t)ca[na - i], (size_t)cb[nb - i]);
	}
	return na - nb;
}

static int cmp_idx(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	return sort_q->sort_as_tree ? cmp_tree(a, b) : cmp_plain(a, b);
}

/* The ids of the mailboxes the query selects, in order. New reference. */
static json_t *run_query(struct mquery *q)
{
	const struct jmap_mbox_tree *t = q->t;
	size_t *idx = xcalloc(t->n + 1, sizeof *idx), n = 0;
	char *incl = xcalloc(t->n + 1, 1);
	json_t *ids = json_array(), *empty = json_array();

	if (q->sort == NULL)
		q->sort = empty;
	q->folded = xcalloc(t->n + 1, sizeof *q->folded);
	q->ascii = xcalloc(t->n + 1, sizeof *q->ascii);
	/* The tree is sorted by path: a parent comes before its children. */
	for (size_t i = 0; i < t->n; i++) {
		const struct jmap_mbox *m = &t->m[i];

		incl[i] = (char)(q->filter == NULL || jmap_filter_match(q->filter, cond_match, m));
		if (q->filter_as_tree && m->parent >= 0 && !incl[m->parent])
			incl[i] = 0;
		if (incl[i])
			idx[n++] = i;
		q->folded[i] = fts_casemap(m->name, strlen(m->name));
		q->ascii[i] = xstrdup(m->name);
		for (char *c = q->ascii[i]; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c + 32);
	}
	sort_q = q;
	qsort(idx, n, sizeof *idx, cmp_idx);
	sort_q = NULL;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(ids, json_string(t->m[idx[i]].id));
	for (size_t i = 0; i < t->n; i++) {
		free(q->folded[i]);
		free(q->ascii[i]);
	}
	free(q->folded);
	free(q->ascii);
	free(idx);
	free(incl);
	json_decref(empty);
	if (q->sort == empty)
		q->sort = NULL;
	return ids;
}

/* sortAsTree and filterAsTree (RFC 8621 2.3). */
static int tree_args(struct jmap_call *call, json_t *args, struct mquery *q)
{
	return jmap_arg_bool(call, args, "sortAsTree", 0, &q->sort_as_tree) < 0 ||
			       jmap_arg_bool(call, args, "filterAsTree", 0, &q->filter_as_tree) < 0 ?
		       -1 : 0;
}

void jmap_mailbox_query(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_query_args a;
	struct jmap_mbox_tree t;
	struct mquery q;
	char state[JMAP_STATE_MAX];
	const char *error = NULL;
	json_t *ids, *resp;

	(void)ctx;
	memset(&q, 0, sizeof q);
	if (jmap_query_args_parse(call, args, filter_cond, sort_prop, NULL, &a) < 0 ||
	    tree_args(call, args, &q) < 0 || jmap_mail_state(call, MAIL_J_MAILBOX, state) < 0)
		return;
	if (jmap_mbox_tree_load(req->node->view, req->address, &t, &error) < 0) {
		log_error("jmap: Mailbox/query for %s: %s", req->address, error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		return;
	}
	q.t = &t;
	q.filter = a.filter;
	q.sort = a.sort;
	ids = run_query(&q);
	if (jmap_query_response(call, &a, state, 1, ids, 0, &resp) == 0)
		jmap_call_reply(call, resp);
	json_decref(ids);
	jmap_mbox_tree_free(&t);
}

struct changed {
	json_t *ids;         /* id -> true when created after the state */
	size_t n;
	int64_t last_modseq;
	char last_id[33];
};

static int changed_cb(void *ctx, const struct mail_jchange *c)
{
	struct changed *ch = ctx;

	json_object_set_new(ch->ids, c->id, json_boolean(c->created && !c->destroyed));
	ch->n++;
	ch->last_modseq = c->modseq;
	snprintf(ch->last_id, sizeof ch->last_id, "%s", c->id);
	return 0;
}

/* Every mailbox changed after (modseq, id): 0, 1 when there are more than
 * QUERY_CHANGES_SCAN_MAX, -1 on a view error. */
static int scan_changes(struct jmap_mail_req *req, int64_t since, const char *since_id, struct changed *ch,
			const char **error_r)
{
	int more = 1;

	ch->last_modseq = since;
	snprintf(ch->last_id, sizeof ch->last_id, "%s", since_id);
	while (more) {
		if (ch->n >= QUERY_CHANGES_SCAN_MAX)
			return 1;
		if (mail_jmap_changes(req->node->view, req->address, MAIL_J_MAILBOX, ch->last_modseq, ch->last_id,
				      1000, changed_cb, ch, &more, error_r) < 0)
			return -1;
	}
	return 0;
}

void jmap_mailbox_query_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_query_changes_args a;
	struct jmap_query_changes qc;
	struct jmap_mbox_tree t;
	struct changed ch = { NULL, 0, 0, "" };
	struct mquery q;
	char state[JMAP_STATE_MAX], since_id[33];
	const char *error = NULL, *k;
	int64_t since;
	json_t *ids, *v;
	size_t i;
	int r = 0;

	(void)ctx;
	memset(&q, 0, sizeof q);
	if (jmap_query_changes_args_parse(call, args, filter_cond, sort_prop, NULL, &a) < 0 ||
	    tree_args(call, args, &q) < 0 || jmap_mail_state(call, MAIL_J_MAILBOX, state) < 0)
		return;
	/* RFC 8620 5.6 cannotCalculateChanges: a state that is not ours, is
	 * ahead of this view or older than the change horizon; or more
	 * changes since than we scan. Otherwise every mailbox that changed is
	 * known, which is all a Mailbox query depends on (a subscription
	 * change touches its mailbox, a rename every child). */
	if (jmap_state_parse(a.since_query_state, &since, since_id) < 0 || since > strtoll(state, NULL, 10) ||
	    (r = jmap_changes_pruned(call, MAIL_J_MAILBOX, since)) != 0) {
		if (r >= 0)
			jmap_call_error(call, "cannotCalculateChanges", NULL);
		return;
	}
	ch.ids = json_object();
	if ((r = scan_changes(req, since, since_id, &ch, &error)) != 0 ||
	    jmap_mbox_tree_load(req->node->view, req->address, &t, &error) < 0) {
		if (r > 0) {
			jmap_call_error(call, "cannotCalculateChanges", "too many changes since that state");
		} else {
			log_error("jmap: Mailbox/queryChanges for %s: %s", req->address, error);
			jmap_call_error(call, "serverFail", "the view cannot be read");
		}
		json_decref(ch.ids);
		return;
	}
	/* A new mailbox can become the nearest ancestor of existing ones,
	 * changing their parentId and name: they count as changed too. */
	for (i = 0; i < t.n; i++) {
		for (int p = t.m[i].parent; p >= 0; p = t.m[p].parent) {
			if (json_object_get(ch.ids, t.m[p].id) != NULL && json_object_get(ch.ids, t.m[i].id) == NULL)
				json_object_set_new(ch.ids, t.m[i].id, json_false());
		}
	}
	q.t = &t;
	q.filter = a.filter;
	q.sort = a.sort;
	ids = run_query(&q);
	/* RFC 8620 5.6: every changed mailbox that may have been in the old
	 * results is removed, and added again at its index when it is in
	 * the new ones. */
	jmap_query_changes_init(&qc, a.max_changes);
	r = 0;
	json_object_foreach(ch.ids, k, v) {
		if (!json_is_true(v) && (r = jmap_query_changes_removed(&qc, k)) < 0)
			break;
	}
	json_array_foreach(ids, i, v) {
		if (r == 0 && json_object_get(ch.ids, json_string_value(v)) != NULL)
			r = jmap_query_changes_added(&qc, json_string_value(v), (json_int_t)i);
	}
	if (r < 0)
		jmap_call_error(call, "tooManyChanges", NULL);
	else
		jmap_call_reply(call, jmap_query_changes_response(&qc, a.account->id, a.since_query_state, state,
								  a.calculate_total ? (json_int_t)json_array_size(ids) : -1));
	jmap_query_changes_free(&qc);
	json_decref(ids);
	json_decref(ch.ids);
	jmap_mbox_tree_free(&t);
}

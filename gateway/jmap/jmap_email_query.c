/* jmap_email_query - Email/query (RFC 8621 4.4) and Email/queryChanges
 * (4.5, RFC 8620 5.6) over the engine of jmap_email_query.h, and the
 * registration of the Email read methods. */
#include "gateway/jmap/jmap_email_query.h"
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_shared.h"
#include "gateway/jmap/jmap_std.h"
#include "gateway/fts/fts.h"
#include "common/log.h"
#include "projector/mail_jmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most ids one Email/query answers (RFC 8620 5.5: a server limit is
 * reported as "limit"). */
#define EMAIL_QUERY_LIMIT 5000
/* Changes read from the change index per page. */
#define CHANGES_PAGE 10000

/* How many ids from the start a response needs when nothing needs the
 * whole list (no total, no anchor, a position from the start, no
 * collapseThreads): position + limit (the server's at most); 0: all. */
static size_t ids_wanted(const struct jmap_query_args *qa, int collapse)
{
	if (collapse || qa->calculate_total || qa->anchor != NULL || qa->position < 0)
		return 0;
	return (size_t)qa->position +
	       (qa->limit >= 0 && qa->limit < EMAIL_QUERY_LIMIT ? (size_t)qa->limit : EMAIL_QUERY_LIMIT);
}

/* Runs the query over the emails the indexes leave, or over the whole
 * account when they narrow nothing; in a shared account (scope non-NULL,
 * jmap_shared.h) over the copies in the mailboxes scope names, without the
 * indexes (they hold every copy of the owner's). want > 0: only the first
 * want ids are needed (ids_wanted), the check may stop there. 0 with
 * *ids_r, or -1 after the call was finished with serverFail or
 * serverUnavailable. */
static int run_query(struct jmap_call *call, const json_t *scope, const json_t *filter, const json_t *sort,
		     int collapse, size_t want, json_t **ids_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_eq_narrowed nw = { 0 };
	struct jmap_email_set set;
	const char *error = NULL;
	int r = 2;

	if (scope == NULL && want > 0 && !collapse)
		r = jmap_email_query_first(req->node->view, req->address, filter, sort, want, &nw, ids_r, &error);
	if (scope == NULL && r == 2)
		r = jmap_email_query_narrow(req->node->view, req->address, filter, sort, collapse, &nw, ids_r,
					    &error);
	if (nw.text) {
		/* The account is indexed on this node from its first text
		 * query on; emails met unindexed queue it again. */
		evm_fts_activate(req->node, req->address);
		if (nw.unindexed > 0)
			evm_fts_kick(req->node, req->address);
	}
	if (r == 2) {
		if (jmap_email_set_load_in(req->node->view, jmap_mail_address(call), scope, &set, &error) < 0) {
			log_error("jmap: %s for %s: %s", jmap_call_name(call), req->address, error);
			jmap_call_error(call, "serverFail", "the view cannot be read");
			return -1;
		}
		r = jmap_email_query_run(req->node->view, jmap_mail_address(call), &set, filter, sort, collapse,
					 ids_r, &error);
		jmap_email_set_free(&set);
	}
	if (r < 0) {
		log_error("jmap: %s for %s: %s", jmap_call_name(call), req->address, error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		return -1;
	}
	if (r == 1) {
		/* A message the filter must read is not complete on this node
		 * yet: RFC 8620 3.6.2 serverUnavailable, the client retries,
		 * rather than a result another node would not give. */
		jmap_call_error(call, "serverUnavailable", "a message is still arriving on this node");
		return -1;
	}
	return 0;
}

/* The common query of a mail client's message list, answered from the
 * received-time index (projector/mail_jmap.h mail_jmap_received) without
 * loading the account: no filter or only {inMailbox}, sorted by
 * receivedAt alone (or not sorted: newest first), no collapseThreads. The
 * order is the engine's: ties by email id, ascending in both directions
 * (jmap_email_query_sort.c). 1 with *ids_r, 0 when the query is not of
 * that shape, -1 after finishing the call with serverFail. */
static int indexed_query(struct jmap_call *call, const struct jmap_query_args *qa, int collapse,
			 json_t **ids_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const json_t *filter = qa->filter, *sort = qa->sort;
	const json_t *c = json_array_get(sort, 0), *in = json_object_get(filter, "inMailbox");
	const char *prop = json_string_value(json_object_get(c, "property")), *error = NULL;
	struct mail_jrcv *v = NULL;
	size_t n = 0, max = 0, i;
	int ascending;

	if (collapse || (filter != NULL && (json_object_size(filter) != 1 || !json_is_string(in))) ||
	    json_array_size(sort) > 1 || (c != NULL && (prop == NULL || strcmp(prop, "receivedAt") != 0)))
		return 0;
	ascending = c != NULL && !json_is_false(json_object_get(c, "isAscending"));
	/* Only the first page is read when nothing needs the whole list (no
	 * total, no anchor, a position from the start): the index is read from
	 * the wanted end and stops there. */
	max = ids_wanted(qa, collapse);
	if (mail_jmap_received(req->node->view, req->address, in != NULL ? json_string_value(in) : NULL,
			       !ascending, max, &v, &n, &error) < 0) {
		log_error("jmap: Email/query for %s: %s", req->address, error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		return -1;
	}
	if (max > 0 && n > max)
		n = max;
	*ids_r = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(*ids_r, json_string(v[i].id));
	free(v);
	return 1;
}

/* 1 when /queryChanges can follow this query from the Email changes
 * alone: its filter and sort read only the email's own properties. */
static int calculable(const json_t *filter, const json_t *sort, int collapse)
{
	struct jmap_efilter *f = jmap_efilter_compile(filter);
	int thread_wide = jmap_efilter_thread_wide(f);

	jmap_efilter_free(&f);
	/* Thread-wide keywords and collapseThreads change with other emails
	 * of the thread, which the changes of this email do not show. */
	return !thread_wide && !jmap_esort_thread_wide(sort) && !collapse;
}

static void email_query(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_query_args a;
	char state[JMAP_STATE_MAX];
	json_t *ids = NULL, *resp, *scope = NULL;
	int collapse, r;

	(void)ctx;
	if (jmap_query_args_parse(call, args, jmap_efilter_check, jmap_esort_check, NULL, &a) < 0 ||
	    jmap_arg_bool(call, args, "collapseThreads", 0, &collapse) < 0)
		return;
	/* The state first: a change committed while we read is then seen
	 * again by the next /queryChanges, never missed. */
	if (jmap_mail_state(call, MAIL_J_EMAIL, state) < 0 || jmap_shared_scope(call, &scope) < 0)
		return;
	/* The received-time index holds every copy: a shared account's query
	 * runs over its shared copies alone. */
	r = scope == NULL ? indexed_query(call, &a, collapse, &ids) : 0;
	if (r < 0 ||
	    (r == 0 && run_query(call, scope, a.filter, a.sort, collapse, ids_wanted(&a, collapse), &ids) < 0)) {
		json_decref(scope);
		return;
	}
	json_decref(scope);
	if (jmap_query_response(call, &a, state, calculable(a.filter, a.sort, collapse), ids, EMAIL_QUERY_LIMIT,
				&resp) == 0)
		jmap_call_reply(call, resp);
	json_decref(ids);
}

struct changed {
	json_t *ids;          /* id -> created after the position (boolean) */
	json_t *order;        /* ids in (modseq, id) order */
	int64_t last;
	char last_id[33];
};

static int changed_cb(void *ctx, const struct mail_jchange *c)
{
	struct changed *ch = ctx;

	if (json_object_get(ch->ids, c->id) == NULL) {
		json_object_set_new(ch->ids, c->id, json_boolean(c->created));
		json_array_append_new(ch->order, json_string(c->id));
	}
	ch->last = c->modseq;
	snprintf(ch->last_id, sizeof ch->last_id, "%s", c->id);
	return 0;
}

/* Every email of account changed after the position, page by page. 0
 * or -1. */
static int read_changes(struct jmap_mail_req *req, const char *account, int64_t since, const char *since_id,
			struct changed *ch, const char **error_r)
{
	int more = 1;

	ch->last = since;
	snprintf(ch->last_id, sizeof ch->last_id, "%s", since_id);
	while (more) {
		if (mail_jmap_changes(req->node->view, account, MAIL_J_EMAIL, ch->last, ch->last_id, CHANGES_PAGE,
				      changed_cb, ch, &more, error_r) < 0)
			return -1;
	}
	return 0;
}

/* In a shared account (scope non-NULL) drops from ch the emails created
 * after the position that are outside the shared mailboxes now: they were
 * never in the client's results, and naming them would tell of the
 * owner's other mailboxes (as Email/changes, jmap_mail_changes). An email
 * moved out of the shared mailboxes stays: it may have been a result.
 * 0 or -1. */
static int drop_unseen(struct view *view, const char *owner, const json_t *scope, struct changed *ch,
		       const char **error_r)
{
	size_t i = 0;

	while (scope != NULL && i < json_array_size(ch->order)) {
		const char *id = json_string_value(json_array_get(ch->order, i));
		json_t *one;
		int keep;

		if (!json_is_true(json_object_get(ch->ids, id))) {
			i++;
			continue;
		}
		one = json_pack("[s]", id);
		if (jmap_shared_filter_emails(view, owner, scope, one, error_r) < 0) {
			json_decref(one);
			return -1;
		}
		keep = json_array_size(one) > 0;
		json_decref(one);
		if (keep) {
			i++;
			continue;
		}
		json_object_del(ch->ids, id);
		json_array_remove(ch->order, i);
	}
	return 0;
}

/* RFC 8620 5.6 from the Email changes since sinceQueryState: every email
 * changed since is removed (it may have been in the old results: the
 * server MAY name extra ids), and every changed email in the current
 * results is added at its index. Emails that did not change kept their
 * keywords, mailboxes and content, so they are where they were relative
 * to each other: the client's old list minus removed plus added is the new
 * list. */
static void email_query_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_query_changes_args a;
	struct jmap_query_changes qc;
	struct changed ch = { NULL, NULL, 0, "" };
	char state[JMAP_STATE_MAX], since_id[33];
	const char *error = NULL;
	json_t *ids = NULL, *scope = NULL, *v;
	int64_t since, now;
	int collapse, r = 0;
	size_t i;

	(void)ctx;
	if (jmap_query_changes_args_parse(call, args, jmap_efilter_check, jmap_esort_check, NULL, &a) < 0 ||
	    jmap_arg_bool(call, args, "collapseThreads", 0, &collapse) < 0)
		return;
	if (!calculable(a.filter, a.sort, collapse)) {
		jmap_call_error(call, "cannotCalculateChanges", "the query depends on whole threads");
		return;
	}
	if (jmap_mail_state(call, MAIL_J_EMAIL, state) < 0 || jmap_shared_scope(call, &scope) < 0)
		return;
	now = strtoll(state, NULL, 10);
	if (jmap_state_parse(a.since_query_state, &since, since_id) < 0 || since > now ||
	    (r = jmap_changes_pruned(call, MAIL_J_EMAIL, since)) != 0) {
		if (r >= 0)
			jmap_call_error(call, "cannotCalculateChanges", NULL);
		goto out;
	}
	ch.ids = json_object();
	ch.order = json_array();
	/* A shared account's changes are its owner's, seen through the scope. */
	if (read_changes(req, jmap_mail_address(call), since, since_id, &ch, &error) < 0 ||
	    drop_unseen(req->node->view, jmap_mail_address(call), scope, &ch, &error) < 0) {
		log_error("jmap: Email/queryChanges for %s: %s", req->address, error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		goto out;
	}
	if (run_query(call, scope, a.filter, a.sort, 0, 0, &ids) < 0)
		goto out;
	jmap_query_changes_init(&qc, a.max_changes);
	json_array_foreach(ch.order, i, v) {
		if (jmap_query_changes_removed(&qc, json_string_value(v)) < 0)
			goto too_many;
	}
	json_array_foreach(ids, i, v) {
		if (json_object_get(ch.ids, json_string_value(v)) != NULL &&
		    jmap_query_changes_added(&qc, json_string_value(v), (json_int_t)i) < 0)
			goto too_many;
	}
	jmap_call_reply(call, jmap_query_changes_response(&qc, a.account->id, a.since_query_state, state,
							  a.calculate_total ? (json_int_t)json_array_size(ids) : -1));
	jmap_query_changes_free(&qc);
	goto out;
too_many:
	jmap_query_changes_free(&qc);
	jmap_call_error(call, "tooManyChanges", NULL);
out:
	json_decref(scope);
	json_decref(ids);
	json_decref(ch.ids);
	json_decref(ch.order);
}

void jmap_email_register(struct jmap_api *api)
{
	jmap_method_register(api, "Email/get", JMAP_CAP_MAIL, jmap_email_get, NULL);
	jmap_method_register(api, "Email/query", JMAP_CAP_MAIL, email_query, NULL);
	jmap_method_register(api, "Email/queryChanges", JMAP_CAP_MAIL, email_query_changes, NULL);
	jmap_method_register(api, "SearchSnippet/get", JMAP_CAP_MAIL, jmap_snippet_get, NULL);
}
